/**
 * Sources read as streamed sets (streamed.ts) when they are larger than the memory budget: an
 * image folder and an NPY file. Each is read through once as it opens, as loading it would read
 * it, so that a damaged file or value stops the command before training starts rather than in its
 * tenth epoch, and a folder's images decide its channels on every image, as loading decides them.
 */
import { statSync } from 'node:fs';
import { readNpyHeader } from '../../io/npy.js';
import { channelsNote, folderImageSize, imageIds, isGrey, type ImageFolderOptions, type Listing } from '../sources/image-folder.js';
import { exampleShape, npyLabels, npyStoredType } from '../sources/npy.js';
import type { Dataset } from '../dataset.js';
import { RowPool } from './pool.js';
import type { RowSource } from './rows.js';
import { streamedDataset } from './streamed.js';

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
  const source: RowSource = { kind: 'npy', path, dataStart: header.dataStart, dtype: header.dtype, swap: header.swap, shape };
  const pool = await RowPool.start(source, path);
  const set = streamedDataset(pool, { count, shape, ...labels, featureNames: null, source: path });
  try {
    for (const _ of set.streamed!.chunks()); // every value checked, as loading checks them
  } catch (err) {
    await pool.close();
    throw err;
  }
  return set;
}

/** The bytes a folder's images take in memory as they are decoded: every image at the stored size, in 3 channels unless 1 is asked for. */
export async function folderMemoryBytes(listing: Listing, options: ImageFolderOptions): Promise<number> {
  const [height, width] = await folderImageSize(listing, options.imageSize);
  return listing.files.length * height * width * (options.channels ?? 3);
}

/** A folder of images (see sources/image-folder.ts), streamed: every image decoded once as it opens (its size, its channels). */
export async function streamImageFolder(dir: string, listing: Listing, options: ImageFolderOptions): Promise<Dataset> {
  const [height, width] = await folderImageSize(listing, options.imageSize);
  const channels = options.channels ?? 3;
  const images = { files: listing.files, channels, height, width, resize: options.imageSize ?? null };
  const parts = { count: listing.files.length, labels: listing.classes, labelNames: listing.classNames, featureNames: null, source: dir, ids: ((names: string[]) => (i: number) => names[i]!)(imageIds(dir, listing.files)) };
  let pool = await RowPool.start({ kind: 'images', images, keepRed: false }, dir);
  let colour = 0;
  let firstColour = listing.files.length;
  try {
    const pixels = height * width * channels;
    for (const { values, rows, first } of streamedDataset(pool, { ...parts, shape: [height, width, channels] }).streamed!.chunks()) {
      if (options.channels !== undefined) continue;
      for (let r = 0; r < rows; r++) {
        if (!isGrey(values.subarray(r * pixels, (r + 1) * pixels) as Uint8Array)) {
          colour++;
          firstColour = Math.min(firstColour, first + r);
        }
      }
    }
  } catch (err) {
    await pool.close();
    throw err;
  }
  if (options.channels !== undefined) return streamedDataset(pool, { ...parts, shape: [height, width, channels] });
  options.report?.(channelsNote(dir, listing.files, colour, firstColour));
  if (colour > 0) return streamedDataset(pool, { ...parts, shape: [height, width, 3] });
  await pool.close();
  pool = await RowPool.start({ kind: 'images', images, keepRed: true }, dir);
  return streamedDataset(pool, { ...parts, shape: [height, width, 1] });
}
