/**
 * One-class anomaly detection (the protocol of Ruff et al. 2018, "Deep SVDD"): a model trained on
 * the training images of one class scores every test image; the test images of the other classes
 * are the anomalies, and the negative ELBO is the anomaly score. AUROC over the whole test set.
 */
import { Random } from '../engine/random.js';
import type { ImageSet } from '../data/dataset.js';
import { VaekitError } from '../errors.js';
import type { Vae } from '../vae/model.js';
import { auroc } from './auroc.js';
import { forEachNoisyBatch } from './evaluate.js';

/** Images of one class (copied out of the set). */
export function classSubset(set: ImageSet, label: number): ImageSet {
  if (set.labels === null) throw new VaekitError('One-class training needs labelled images.');
  const pixels = set.height * set.width;
  const indices: number[] = [];
  for (let i = 0; i < set.count; i++) if (set.labels[i] === label) indices.push(i);
  if (indices.length === 0) throw new VaekitError(`There are no images of class ${label}.`);
  const images = new Uint8Array(indices.length * pixels);
  indices.forEach((src, dst) => images.set(set.images.subarray(src * pixels, (src + 1) * pixels), dst * pixels));
  return { images, labels: new Uint8Array(indices.length).fill(label), count: indices.length, height: set.height, width: set.width };
}

/** Each image's negative ELBO, averaged over `samples` posterior samples (lower variance than one). */
export function anomalyScores(vae: Vae, set: ImageSet, samples: number, seed: number): Float64Array {
  const scores = new Float64Array(set.count);
  const batch = new Float64Array(500);
  const rng = new Random((seed ^ 0xa1) >>> 0);
  forEachNoisyBatch(set, { noise: { kind: 'none' }, seed }, 500, (x, _same, rows, start) => {
    for (let s = 0; s < samples; s++) {
      vae.negElboPerImage(x, x, rows, rng, batch);
      for (let r = 0; r < rows; r++) scores[start + r] = scores[start + r]! + batch[r]! / samples;
    }
  });
  return scores;
}

/** AUROC of the scores for telling the other classes (anomalies) from `normalClass`. */
export function oneClassAuroc(scores: Float64Array, labels: Uint8Array, normalClass: number): number {
  return auroc(scores, Array.from(labels, (y) => y !== normalClass));
}
