/**
 * Anomaly scores and one-class anomaly detection (the protocol of Ruff et al. 2018, "Deep SVDD"):
 * a model trained on the examples of one class scores every test example; the test examples of
 * the other classes are the anomalies, and the negative ELBO is the anomaly score.
 */
import { Random } from '../engine/random.js';
import { subset, type Dataset } from '../data/dataset.js';
import { VaekitError } from '../errors.js';
import { labelsFor, type Vae } from '../vae/model.js';
import { auroc } from './auroc.js';
import { EVAL_BATCH, evalBatches } from '../data/inference.js';

/** The examples of one class (copied out of the set). */
export function classSubset(set: Dataset, label: number): Dataset {
  if (set.labels === null) throw new VaekitError(`One-class training needs labels, and ${set.source} has none.`);
  const indices: number[] = [];
  for (let i = 0; i < set.count; i++) if (set.labels[i] === label) indices.push(i);
  const name = set.labelNames?.[label] ?? String(label);
  if (indices.length === 0) throw new VaekitError(`${set.source} has no examples of class ${name}.`);
  return subset(set, indices, `${set.source}, class ${name}`);
}

/** The most posterior samples averaged per score (each is a pass over the data). */
export const MAX_SCORE_SAMPLES = 10_000;

/** The random numbers anomalyScores draws its posterior samples from with `seed`. */
export function anomalyScoreRng(seed: number): Random {
  return new Random((seed ^ 0xa1) >>> 0);
}

/**
 * Each example's negative ELBO in nats, averaged over `samples` posterior samples (lower variance
 * than one). `rng` (default anomalyScoreRng(seed)) carries on from where a previous call left it: a stream
 * scored one example at a time draws what one pass over the whole set would with one sample.
 */
export function anomalyScores(vae: Vae, set: Dataset, samples: number, seed: number, rng = anomalyScoreRng(seed)): Float64Array {
  if (!Number.isInteger(samples) || samples < 1 || samples > MAX_SCORE_SAMPLES) {
    throw new VaekitError(`The posterior samples per anomaly score must be a whole number from 1 to ${MAX_SCORE_SAMPLES}, not ${samples}.`);
  }
  const scores = new Float64Array(set.count);
  const batch = new Float64Array(EVAL_BATCH);
  for (const b of evalBatches(set, { noise: { kind: 'none' }, seed }, EVAL_BATCH, vae.backend)) {
    for (let s = 0; s < samples; s++) {
      vae.negElboPerImage(b.target, b.target, b.rows, rng, batch, labelsFor(vae, b.labels), b.mask);
      for (let r = 0; r < b.rows; r++) scores[b.start + r] = scores[b.start + r]! + batch[r]! / samples;
    }
  }
  return scores;
}

/** AUROC of the scores for telling the other classes (anomalies) from `normalClass`. */
export function oneClassAuroc(scores: Float64Array, labels: ArrayLike<number>, normalClass: number): number {
  return auroc(scores, Array.from(labels, (y) => y !== normalClass));
}
