/**
 * What the rows of a streamed source are (plain data, so that a reading thread can take it) and the
 * reader each kind makes of it in that thread. A row is one example's values as the in-memory
 * loader stores them (bytes or float32), so a streamed set gives the bits a loaded one does.
 *
 *   npy     an NPY file's rows, read at their offsets (runs of consecutive rows in one read),
 *           converted and checked as loading the file does; a streamed CSV's float32 rows too
 *   images  an image folder's files, decoded as loading the folder does (pngjs; sharp for JPEG,
 *           WebP and resizing), a few in flight at once
 *   tokens  a streamed text corpus's token ids (int32, each example's after the one before, in a
 *           removed temporary file: data/stream/text.ts), each row cut or padded with <pad> to the
 *           set's width as float32, as textDataset stores them
 */
import { readExactly } from '../../io/fs-errors.js';
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
    kind: 'tokens';
    /** The corpus, for messages. */
    path: string;
    /** The file of ids, open for reading (removed already; the pool that reads it closes it). */
    fd: number;
    /** Where each example's ids start in the file, in ids, and (last) where the last one ends: shared with the threads. */
    starts: Float64Array;
    /** Ids per row. */
    width: number;
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
  if (source.kind === 'tokens') return source.width;
  const { height, width, channels } = source.images;
  return height * width * (source.keepRed ? 1 : channels);
}

/** What a row holds: bytes or float32. */
export function storedType(source: RowSource): 'uint8' | 'float32' {
  if (source.kind === 'tokens') return 'float32';
  return source.kind === 'images' ? 'uint8' : npyStoredType(source.dtype, source.shape.length === 3);
}

/** The open file a source is read from (the pool closes it), or null (an image folder's files are opened one by one). */
export function sourceFile(source: RowSource): number | null {
  return source.kind === 'images' ? null : source.fd;
}

/** What a source is called in a message: its file, or "an image". */
export function sourceName(source: RowSource): string {
  return source.kind === 'images' ? 'an image' : source.path;
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
  return source.kind === 'npy' ? npyRows(source) : source.kind === 'tokens' ? tokenRows(source) : imageRows(source);
}

function tokenRows(source: Extract<RowSource, { kind: 'tokens' }>): RowReader {
  const { starts, width, fd } = source;
  let buffer = new Int32Array(1 << 20);
  return {
    async read(indices, out) {
      const rows = new Float32Array(out.buffer, out.byteOffset, indices.length * width);
      for (let r = 0; r < indices.length;) {
        // A run of consecutive rows: one read, of at most RUN_BYTES unless one row is longer.
        const first = indices[r]!;
        let n = 1;
        while (r + n < indices.length && indices[r + n] === first + n && (starts[first + n + 1]! - starts[first]!) * 4 <= RUN_BYTES) n++;
        const from = starts[first]!;
        const ids = starts[first + n]! - from;
        if (ids > buffer.length) buffer = new Int32Array(ids);
        readExactly(fd, new Uint8Array(buffer.buffer, 0, ids * 4), from * 4, source.path);
        for (let k = 0; k < n; k++) {
          const row = rows.subarray((r + k) * width, (r + k + 1) * width);
          const start = starts[first + k]! - from;
          const kept = Math.min(width, starts[first + k + 1]! - from - start);
          for (let i = 0; i < kept; i++) row[i] = buffer[start + i]!;
          row.fill(0, kept); // <pad>
        }
        r += n;
      }
    },
  };
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
        readExactly(fd, buffer.subarray(0, want), source.dataStart + first * fileRow, source.path);
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
