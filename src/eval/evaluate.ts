/**
 * Test-set evaluation of a denoising VAE: noisy examples in, clean examples as the targets.
 * The noise of each test example is fixed by (seed, example index), so every evaluation of every
 * model with the same seed sees the same noisy examples.
 */
import { Random } from '../engine/random.js';
import { valueRange } from '../data/batches.js';
import { EVAL_BATCH, evalBatches, type PassOptions } from '../data/inference.js';
import type { Dataset } from '../data/dataset.js';
import { formatNoise } from '../data/transforms/noise.js';
import { labelsFor, type Vae, type Labels, type Mask } from '../vae/model.js';
import type { Trainable } from '../vae/trainable.js';
import { resolveObjective, type LossParts, type Objective } from '../vae/objective.js';
import { sumPsnr } from './psnr.js';

/** An evaluation pass (noise, binarization, seed of the noise and of the posterior samples) and its batch size. */
export interface EvalOptions extends PassOptions {
  batchSize?: number;
}

export interface TestMetrics {
  /** Examples evaluated (images or table rows). */
  images: number;
  noise: string;
  /** Mean per-image PSNR (peak 1.0) of the noisy inputs against the clean images; null for features and without noise (an input against itself). */
  psnrNoisyDb: number | null;
  /** Mean per-image PSNR of the denoised outputs (decoded posterior means) against the clean images; null for features. */
  psnrDenoisedDb: number | null;
  /** Mean squared error per value of the noisy inputs (0 without noise) and of the denoised outputs against the clean examples. */
  mseNoisy: number;
  mseDenoised: number;
  /** Mean negative ELBO in nats per example (beta 1, averaged over `elboSamples` posterior samples each): clean examples scored given their noisy versions. */
  negElboNats: number;
  /** Posterior samples averaged per example in negElboNats (testElboSamples: ELBO_SAMPLES, or 1 on the js backend). */
  elboSamples: number;
  /** Its reconstruction part: -log p(clean | z) in nats. */
  reconNats: number;
  /** Its KL part in nats. */
  klNats: number;
}

/** Stream offset so posterior samples never share numbers with training (the noise's is data/inference.ts'). */
const TEST_SAMPLE_STREAM = 0x5a3;
/** The generator of an evaluation's posterior samples. */
export function evalSampleRng(seed: number): Random {
  return new Random((seed ^ TEST_SAMPLE_STREAM) >>> 0);
}

/**
 * Posterior samples per example in a reported negative ELBO. One sample's estimate is unbiased but
 * moves by a few tenths of a nat with the seed on MNIST; ten make the second decimal mean something.
 */
export const ELBO_SAMPLES = 10;

/**
 * Posterior samples per example in training's test ELBO on a backend: ELBO_SAMPLES, but one on the
 * js backend, where ten made the test evaluation most of a short run: `VAEKIT_BACKEND=js vaekit train
 * --limit 2000 --epochs 1` took 124 s, of which the epoch was under 3 s and the ten-sample ELBO of the
 * 10,000 test images about 64 s (bench/js-eval.ts); with one sample the run takes about 24 s.
 */
export function testElboSamples(backend: Vae['backend']): number {
  return backend.name === 'js' ? 1 : ELBO_SAMPLES;
}

/** The negative ELBO's parts (beta 1) on a batch, each the mean over rows of `samples` posterior draws per row (the observed values only, given a mask). */
export function elboParts(vae: Vae, input: Float32Array, target: Float32Array, rows: number, rng: Random, labels: Labels,
  samples = ELBO_SAMPLES, mask: Mask = null): LossParts {
  const elbo = resolveObjective({ loss: 'elbo', beta: 1 });
  const sum = { loss: 0, recon: 0, kl: 0 };
  for (let s = 0; s < samples; s++) {
    const parts = vae.run(input, target, rows, elbo, rng, false, labels, mask);
    sum.loss += parts.loss;
    sum.recon += parts.recon;
    sum.kl += parts.kl;
  }
  return { loss: sum.loss / samples, recon: sum.recon / samples, kl: sum.kl / samples };
}

/** Mean objective parts over a set (the validation loss during training). */
export function evaluateObjective(vae: Trainable, set: Dataset, objective: Objective, options: EvalOptions): LossParts {
  const rng = evalSampleRng(options.seed);
  const total = { loss: 0, recon: 0, kl: 0 };
  for (const b of evalBatches(set, options, options.batchSize ?? EVAL_BATCH, vae.backend)) {
    const parts = vae.run(b.input, b.target, b.rows, objective, rng, false, vae.classes > 0 ? b.labels : null, b.mask);
    total.loss += parts.loss * b.rows;
    total.recon += parts.recon * b.rows;
    total.kl += parts.kl * b.rows;
  }
  return { loss: total.loss / set.count, recon: total.recon / set.count, kl: total.kl / set.count };
}

/** Has a streamed set's threads start on the pass the validator (or evaluateDenoising) makes over it, before it asks. */
export function prefetchEvaluation(set: Dataset, options: EvalOptions): void {
  set.streamed?.prefetch(null, options.batchSize ?? EVAL_BATCH);
}

/** fit's `validate`: the objective on a validation set after each epoch. */
export function validator(set: Dataset, objective: Objective, options: EvalOptions): (vae: Trainable) => LossParts {
  return (vae) => evaluateObjective(vae, set, objective, options);
}

/** PSNR (images) and mean squared error of noisy and denoised test examples, and the test negative ELBO. */
export function evaluateDenoising(vae: Vae, set: Dataset, options: EvalOptions): TestMetrics {
  const size = set.size;
  const batchSize = options.batchSize ?? EVAL_BATCH;
  const images = valueRange(set) === 'unit';
  const noised = options.noise.kind !== 'none';
  const denoised = new Float32Array(batchSize * size);
  const rng = evalSampleRng(options.seed);
  const samples = testElboSamples(vae.backend);
  const sums = { psnrNoisy: 0, psnrDenoised: 0, seNoisy: 0, seDenoised: 0, negElbo: 0, recon: 0, kl: 0 };
  for (const b of evalBatches(set, options, batchSize, vae.backend)) {
    const labels = labelsFor(vae, b.labels);
    vae.reconstructBatch(b.input, b.rows, null, denoised, labels);
    if (images) {
      if (noised) sums.psnrNoisy += sumPsnr(b.input, b.target, b.rows, size);
      sums.psnrDenoised += sumPsnr(denoised, b.target, b.rows, size);
    }
    sums.seNoisy += squaredError(b.input, b.target, b.rows * size);
    sums.seDenoised += squaredError(denoised, b.target, b.rows * size);
    const parts = elboParts(vae, b.input, b.target, b.rows, rng, labels, samples, b.mask);
    sums.negElbo += parts.loss * b.rows;
    sums.recon += parts.recon * b.rows;
    sums.kl += parts.kl * b.rows;
  }
  const n = set.count;
  return {
    images: n,
    noise: formatNoise(options.noise),
    psnrNoisyDb: images && noised ? sums.psnrNoisy / n : null,
    psnrDenoisedDb: images ? sums.psnrDenoised / n : null,
    mseNoisy: sums.seNoisy / (n * size),
    mseDenoised: sums.seDenoised / (n * size),
    negElboNats: sums.negElbo / n,
    elboSamples: samples,
    reconNats: sums.recon / n,
    klNats: sums.kl / n,
  };
}

/** sum_i (a_i - b_i)^2 over the first n values. */
export function squaredError(a: Float32Array, b: Float32Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += (a[i]! - b[i]!) ** 2;
  return s;
}
