/**
 * What the rows of a streamed source are (plain data, so that a reading thread can take it) and the
 * reader each kind makes of it in that thread. A row is one example's values as the in-memory
 * loader stores them (bytes or float32), so a streamed set gives the bits a loaded one does.
 *
 *   npy     an NPY file's rows, read at their offsets (runs of consecutive rows in one read),
 *           converted and checked as loading the file does; a streamed CSV's float32 rows too
 *   images  an image folder's files, decoded as loading the folder does (pngjs; sharp for JPEG,
 *           WebP and resizing), a few in flight at once
 */
import { readSync } from 'node:fs';
import { npyValueBytes, npyValues, type NpyDtype } from '../../io/npy.js';
import { decodeFolderImage, keepRed, type FolderImages } from '../sources/image-folder.js';
import { featureValues, imageValues, npyStoredType } from '../sources/npy.js';

export type RowSource =
  | {
    kind: 'npy';
    path: string;
    /** The byte at which the values start, their dtype and byte order. */
    dataStart: number;
    dtype: NpyDtype;
    swap: boolean;
    /** One example's shape: [H, W, C] (images) or [D]. */
    shape: number[];
    /** The file, open for reading (the pool that reads it closes it; a streamed CSV's rows: already removed). */
    fd: number;
  }
  | {
    kind: 'images';
    images: FolderImages;
    /** Decoded as RGB and kept as 1 channel (the red one): a folder whose images all turned out grey (see loadImageFolder). */
    keepRed: boolean;
  };

/** Values per row. */
export function rowValues(source: RowSource): number {
  if (source.kind === 'npy') return source.shape.reduce((a, b) => a * b, 1);
  const { height, width, channels } = source.images;
  return height * width * (source.keepRed ? 1 : channels);
}

/** What a row holds: bytes or float32. */
export function storedType(source: RowSource): 'uint8' | 'float32' {
  return source.kind === 'images' ? 'uint8' : npyStoredType(source.dtype, source.shape.length === 3);
}

/** Bytes per stored row. */
export function rowBytes(source: RowSource): number {
  return rowValues(source) * (storedType(source) === 'uint8' ? 1 : 4);
}

export interface RowReader {
  /** Rows `indices` of the source, stored one after another into `out` (rowBytes each). */
  read(indices: Uint32Array, out: Uint8Array): Promise<void>;
}

/** The reader of a source (in the thread that reads it). */
export function openRows(source: RowSource): RowReader {
  return source.kind === 'npy' ? npyRows(source) : imageRows(source);
}

/** Largest run of consecutive rows read at once. */
const RUN_BYTES = 4 << 20;

function npyRows(source: Extract<RowSource, { kind: 'npy' }>): RowReader {
  const size = rowValues(source);
  const fileRow = size * npyValueBytes(source.dtype);
  const image = source.shape.length === 3;
  const stored = rowBytes(source);
  const { fd } = source;
  const buffer = Buffer.allocUnsafeSlow(Math.max(fileRow, Math.floor(RUN_BYTES / fileRow) * fileRow));
  const most = buffer.length / fileRow;
  return {
    async read(indices, out) {
      for (let r = 0; r < indices.length;) {
        // A run of consecutive rows: one read.
        let n = 1;
        while (r + n < indices.length && n < most && indices[r + n] === indices[r]! + n) n++;
        const first = indices[r]!;
        const want = n * fileRow;
        let got = 0;
        while (got < want) {
          const k = readSync(fd, buffer, got, want - got, source.dataStart + first * fileRow + got);
          if (k === 0) throw new Error(`${source.path} ended before row ${first + n - 1}: it was changed while vaekit read it.`);
          got += k;
        }
        const data = npyValues(buffer.subarray(0, want), source.dtype, source.swap);
        const values = image ? imageValues({ data, dtype: source.dtype }, source.shape, source.path, first * size) : featureValues({ data }, size, source.path, first * size);
        out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), r * stored);
        r += n;
      }
    },
  };
}

/** Images decoded at once by one reading thread (sharp's decodes run on libuv's pool). */
const IMAGES_IN_FLIGHT = 8;

function imageRows(source: Extract<RowSource, { kind: 'images' }>): RowReader {
  const { images } = source;
  const stored = rowBytes(source);
  const pixels = images.height * images.width;
  return {
    async read(indices, out) {
      let next = 0;
      const one = async (): Promise<void> => {
        const rgb = source.keepRed ? new Uint8Array(pixels * 3) : null;
        while (next < indices.length) {
          const r = next++;
          const row = out.subarray(r * stored, (r + 1) * stored);
          if (rgb === null) {
            await decodeFolderImage(images, indices[r]!, row);
          } else {
            await decodeFolderImage(images, indices[r]!, rgb);
            keepRed(rgb, row);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(IMAGES_IN_FLIGHT, indices.length) }, one));
    },
  };
}
