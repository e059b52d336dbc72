/**
 * Do samples from the prior look like digits? A pixel-space nearest-neighbour check against the
 * labelled training images: an image counts as digit-like when at least `agree` of its k nearest
 * training images (Euclidean distance between pixel vectors) carry one label. Real test digits set
 * the reference for the same count; blobs and strokes that sit between classes fail. The majority
 * labels of the digit-like samples show how the samples spread over the classes.
 */
import type { Backend } from '../engine/backend.js';
import { Random } from '../engine/random.js';
import { classCount, type Dataset } from '../data/dataset.js';
import type { Vae } from '../vae/model.js';
import { insertNeighbour, rowNorms, vote } from './knn.js';

export interface SampleQuality {
  /** Samples drawn from the prior (and test images used as the reference). */
  count: number;
  k: number;
  agree: number;
  /** Share of prior samples whose k nearest training images agree on a label at least `agree` times. */
  digitLike: number;
  /** The same share for the first `count` clean test images. */
  referenceDigitLike: number;
  /** Digit-like samples per majority label (class index). */
  classCounts: number[];
}

/** Training images converted to floats at a time: bounds the memory of the distance products. */
const REFERENCE_BLOCK = 5000;

/** The labels of each query's k nearest training images (pixel space), nearest first: n x k. */
export function nearestTrainingLabels(backend: Backend, train: Dataset, queries: Float32Array, n: number, k: number,
  blockRows = REFERENCE_BLOCK): Int32Array {
  if (train.labels === null) throw new Error('nearestTrainingLabels needs labelled training images.');
  const dims = train.size;
  const dist = new Float64Array(n * k).fill(Infinity);
  const labels = new Int32Array(n * k).fill(-1);
  const queryNorms = rowNorms(queries, n, dims);
  const block = new Float32Array(blockRows * dims);
  const dots = new Float32Array(n * blockRows);
  for (let start = 0; start < train.count; start += blockRows) {
    const rows = Math.min(blockRows, train.count - start);
    train.gather(null, start, rows, block, backend);
    const refNorms = rowNorms(block, rows, dims);
    backend.gemm(false, true, n, rows, dims, 1, queries, block, 0, dots);
    for (let q = 0; q < n; q++) {
      for (let r = 0; r < rows; r++) {
        insertNeighbour(dist, labels, q * k, k, queryNorms[q]! + refNorms[r]! - 2 * dots[q * rows + r]!, train.labels[start + r]!);
      }
    }
  }
  return labels;
}

/** How many of the n queries have a label shared by at least `agree` of their k neighbours; per-label counts of those. */
function agreement(labels: Int32Array, n: number, k: number, agree: number, classes: number): { passed: number; classCounts: number[] } {
  const classCounts = new Array<number>(classes).fill(0);
  let passed = 0;
  for (let q = 0; q < n; q++) {
    const row = labels.subarray(q * k, (q + 1) * k);
    const label = vote(row);
    let count = 0;
    for (const l of row) if (l === label) count++;
    if (count >= agree) {
      passed++;
      if (label >= 0 && label < classes) classCounts[label] = classCounts[label]! + 1;
    }
  }
  return { passed, classCounts };
}

/**
 * The digit-likeness of `count` prior samples (a conditional model draws count / classes of each
 * class) against that of `count` test images.
 */
export function sampleQuality(vae: Vae, train: Dataset, test: Dataset, count: number, seed: number, k = 10, agree = 8): SampleQuality {
  const pixels = vae.pixels;
  const samples = new Float32Array(count * pixels);
  if (vae.classes === 0) {
    samples.set(vae.sample(count, seed).data);
  } else {
    const rng = new Random(seed);
    let done = 0;
    for (let c = 0; c < vae.classes; c++) {
      const m = Math.floor((count * (c + 1)) / vae.classes) - done;
      if (m > 0) samples.set(vae.sample(m, rng.nextUint32(), c).data, done * pixels);
      done += m;
    }
  }
  const n = Math.min(count, test.count);
  const real = new Float32Array(n * pixels);
  test.gather(null, 0, n, real, vae.backend);
  const fromSamples = agreement(nearestTrainingLabels(vae.backend, train, samples, count, k), count, k, agree, classCount(train));
  const fromTest = agreement(nearestTrainingLabels(vae.backend, train, real, n, k), n, k, agree, classCount(train));
  return {
    count,
    k,
    agree,
    digitLike: fromSamples.passed / count,
    referenceDigitLike: fromTest.passed / n,
    classCounts: fromSamples.classCounts,
  };
}
