/**
 * Test-set evaluation of a denoising VAE: noisy test images in, clean images as the targets.
 * The noise of each test image is fixed by (seed, image index), so every evaluation of every model
 * with the same seed sees the same noisy images.
 */
import { Random } from '../engine/random.js';
import { gatherBatch } from '../data/batches.js';
import type { ImageSet } from '../data/dataset.js';
import { applyNoise, formatNoise, type NoiseSpec } from '../data/noise.js';
import type { Vae } from '../vae/model.js';
import type { Labels } from '../vae/model.js';
import { resolveObjective, type LossParts, type Objective } from '../vae/objective.js';
import { binarize } from '../data/binarize.js';
import { sumPsnr } from './psnr.js';

export interface EvalOptions {
  noise: NoiseSpec;
  /** Binarize the test images (one fixed draw per image, from the seed) before the noise. */
  binarize?: boolean;
  /** Seed of the test noise and of the posterior samples. */
  seed: number;
  batchSize?: number;
}

export interface TestMetrics {
  images: number;
  noise: string;
  /** Mean per-image PSNR (peak 1.0) of the noisy inputs against the clean images. */
  psnrNoisyDb: number;
  /** Mean per-image PSNR of the denoised outputs (decoded posterior means) against the clean images. */
  psnrDenoisedDb: number;
  /** Mean negative ELBO in nats (beta 1, one posterior sample per image): clean images scored given their noisy versions. */
  negElboNats: number;
  /** Its reconstruction part: -log p(clean | z) in nats. */
  reconNats: number;
  /** Its KL part in nats. */
  klNats: number;
}

/** Stream offsets so test noise and posterior samples never share numbers with training. */
const TEST_NOISE_STREAM = 0x7e57;
const TEST_SAMPLE_STREAM = 0x5a3;

type BatchBody = (clean: Float32Array, noisy: Float32Array, rows: number, start: number, labels: Labels) => void;

/**
 * Calls body for consecutive batches of a set with their clean (binarized, when asked) and noisy
 * versions, and their labels when the set has them.
 */
export function forEachNoisyBatch(set: ImageSet, options: EvalOptions, batchSize: number, body: BatchBody): void {
  const pixels = set.height * set.width;
  const clean = new Float32Array(batchSize * pixels);
  const noisy = new Float32Array(batchSize * pixels);
  const index = new Uint32Array(batchSize);
  const seed = (options.seed ^ TEST_NOISE_STREAM) >>> 0;
  for (let start = 0; start < set.count; start += batchSize) {
    const rows = Math.min(batchSize, set.count - start);
    gatherBatch(set.images, pixels, null, start, rows, clean);
    for (let r = 0; r < rows; r++) index[r] = start + r;
    if (options.binarize === true) binarize(clean, clean, rows, pixels, index, seed, 0);
    applyNoise(options.noise, clean, noisy, rows, pixels, index, seed, 0);
    body(clean, noisy, rows, start, set.labels === null ? null : set.labels.subarray(start, start + rows));
  }
}

/** The labels a model needs: the set's for a conditional model, none otherwise. */
function labelsFor(vae: Vae, labels: Labels): Labels {
  return vae.classes > 0 ? labels : null;
}

/** Mean objective parts over a set (the validation loss during training). */
export function evaluateObjective(vae: Vae, set: ImageSet, objective: Objective, options: EvalOptions): LossParts {
  const rng = new Random((options.seed ^ TEST_SAMPLE_STREAM) >>> 0);
  const total = { loss: 0, recon: 0, kl: 0 };
  forEachNoisyBatch(set, options, options.batchSize ?? 500, (clean, noisy, rows, _start, labels) => {
    const parts = vae.run(noisy, clean, rows, objective, rng, false, labelsFor(vae, labels));
    total.loss += parts.loss * rows;
    total.recon += parts.recon * rows;
    total.kl += parts.kl * rows;
  });
  return { loss: total.loss / set.count, recon: total.recon / set.count, kl: total.kl / set.count };
}

/** PSNR of noisy and denoised test images, and the test negative ELBO. */
export function evaluateDenoising(vae: Vae, set: ImageSet, options: EvalOptions): TestMetrics {
  const pixels = set.height * set.width;
  const batchSize = options.batchSize ?? 500;
  const denoised = new Float32Array(batchSize * pixels);
  const rng = new Random((options.seed ^ TEST_SAMPLE_STREAM) >>> 0);
  const elbo = resolveObjective({ loss: 'elbo', beta: 1 });
  let psnrNoisy = 0;
  let psnrDenoised = 0;
  let negElbo = 0;
  let recon = 0;
  let kl = 0;
  forEachNoisyBatch(set, options, batchSize, (clean, noisy, rows, _start, labels) => {
    psnrNoisy += sumPsnr(noisy, clean, rows, pixels);
    vae.reconstructBatch(noisy, rows, null, denoised, labelsFor(vae, labels));
    psnrDenoised += sumPsnr(denoised, clean, rows, pixels);
    const parts = vae.run(noisy, clean, rows, elbo, rng, false, labelsFor(vae, labels));
    negElbo += parts.loss * rows;
    recon += parts.recon * rows;
    kl += parts.kl * rows;
  });
  const n = set.count;
  return {
    images: n,
    noise: formatNoise(options.noise),
    psnrNoisyDb: psnrNoisy / n,
    psnrDenoisedDb: psnrDenoised / n,
    negElboNats: negElbo / n,
    reconNats: recon / n,
    klNats: kl / n,
  };
}

