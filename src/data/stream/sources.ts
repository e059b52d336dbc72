/**
 * Sources read as streamed sets (streamed.ts) when they are larger than the memory budget: an
 * image folder and an NPY file. Each is read through once as it opens, as loading it would read
 * it, so that a damaged file or value stops the command before training starts rather than in its
 * tenth epoch, and a folder's images decide its channels on every image, as loading decides them.
 * That pass keeps each row's digest (io/digest.ts), of which a run's data fingerprint is made.
 * (A CSV table streams through csv.ts.)
 */
import { statSync } from 'node:fs';
import { openOrExplain } from '../../io/fs-errors.js';
import { readNpyHeader } from '../../io/npy.js';
import { channelsNote, imageIds, isGrey, keepRed, type ImageFolderOptions, type Listing } from '../sources/image-folder.js';
import { exampleShape, npyLabels, npyStoredType } from '../sources/npy.js';
import type { Dataset } from '../dataset.js';
import { RowPool } from './pool.js';
import type { RowSource } from './rows.js';
import { openedDataset, streamedDataset } from './streamed.js';
import { digestRows, ROW_DIGEST_BYTES } from '../../io/digest.js';

/** The bytes an NPY file's examples take in memory (bytes for integer images, else float32), and the file's own. */
export function npyMemoryBytes(path: string): { memory: number; file: number } {
  const header = readNpyHeader(path);
  const image = header.shape.length >= 3;
  const values = header.shape.reduce((a, b) => a * b, 1);
  return { memory: values * (npyStoredType(header.dtype, image) === 'uint8' ? 1 : 4), file: statSync(path).size };
}

/** An NPY file of images or feature rows (see sources/npy.ts), streamed; its labels (a small file) in memory. */
export async function streamNpy(path: string, labelsPath: string | undefined): Promise<Dataset> {
  const header = readNpyHeader(path);
  const shape = exampleShape(header, path);
  const count = header.shape[0]!;
  const labels = npyLabels(labelsPath, count, path);
  const source: RowSource = { kind: 'npy', path, fd: openOrExplain(path, 'NPY file'), dataStart: header.dataStart, dtype: header.dtype, swap: header.swap, shape };
  // Every value checked, as loading checks them, and every row's digest kept.
  return openedDataset(await RowPool.start(source, path), { count, shape, ...labels, featureNames: null, source: path });
}

/**
 * A folder of images (see sources/image-folder.ts) whose images are stored at [height, width]
 * (folderImageSize), streamed: every image decoded once as it opens (its size, its channels).
 */
export async function streamImageFolder(dir: string, listing: Listing, options: ImageFolderOptions, [height, width]: readonly [number, number]): Promise<Dataset> {
  const channels = options.channels ?? 3;
  const images = { files: listing.files, channels, height, width, resize: options.imageSize ?? null };
  const names = imageIds(dir, listing.files);
  const parts = { count: listing.files.length, labels: listing.classes, labelNames: listing.classNames, featureNames: null, source: dir, ids: (i: number) => names[i]! };
  let pool = await RowPool.start({ kind: 'images', images, keepRed: false }, dir);
  let colour = 0;
  let firstColour = listing.files.length;
  // Every row's digest kept, and, while every image so far is grey, the digest of its red channel
  // alone: the row it is kept as when all are.
  const count = listing.files.length;
  const digests = new Uint8Array(count * ROW_DIGEST_BYTES);
  const redDigests = options.channels === undefined ? new Uint8Array(count * ROW_DIGEST_BYTES) : null;
  const pixels = height * width;
  const red = new Uint8Array(pixels);
  try {
    for (const { values, rows, first } of streamedDataset(pool, { ...parts, shape: [height, width, channels] }).streamed!.chunks()) {
      const bytes = values as Uint8Array;
      digestRows(bytes, pixels * channels, rows, digests, first);
      if (redDigests === null) continue;
      for (let r = 0; r < rows; r++) {
        const row = bytes.subarray(r * pixels * 3, (r + 1) * pixels * 3);
        if (!isGrey(row)) {
          colour++;
          firstColour = Math.min(firstColour, first + r);
        }
        if (colour > 0) continue;
        keepRed(row, red);
        digestRows(red, pixels, 1, redDigests, first + r);
      }
    }
  } catch (err) {
    await pool.close();
    throw err;
  }
  if (options.channels !== undefined || colour > 0) {
    if (options.channels === undefined) options.report?.(channelsNote(dir, listing.files, colour, firstColour));
    pool.digests = digests;
    return streamedDataset(pool, { ...parts, shape: [height, width, channels] });
  }
  options.report?.(channelsNote(dir, listing.files, colour, firstColour));
  await pool.close();
  pool = await RowPool.start({ kind: 'images', images, keepRed: true }, dir);
  pool.digests = redDigests;
  return streamedDataset(pool, { ...parts, shape: [height, width, 1] });
}
