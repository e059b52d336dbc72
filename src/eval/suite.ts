/**
 * `vaekit eval`: everything we measure about a trained VAE on a test set, the way papers measure it.
 * - test negative ELBO (one posterior sample per image; closed-form KL for the N(0, I) prior) and its two parts;
 * - the importance-sampled estimate of the test negative log-likelihood (Burda et al. 2015):
 *   -log (1/k) sum_i p(x, z_i) / q(z_i | x) with k samples per image (5000 by default), computed
 *   in chunks so memory stays bounded;
 * - reconstruction error of clean inputs (mean squared error per pixel, decoded posterior mean);
 * - denoising at a given noise: PSNR and SSIM of the noisy input and of the denoised output;
 * - active units (dimensions whose posterior mean varies over the test set by more than 0.01) and
 *   the average KL of each latent dimension;
 * - k-nearest-neighbour accuracy of test images from their latent means, with the training
 *   images' latent means as the labelled set;
 * - whether samples from the prior look like digits (sample-quality.ts): the share of them whose
 *   nearest training images in pixel space agree on a label, against the share of test images.
 */
import { Random } from '../engine/random.js';
import type { ImageSet } from '../data/dataset.js';
import { formatNoise, type NoiseSpec } from '../data/noise.js';
import { SILENT_TASK, type TaskProgress } from '../train/progress.js';
import { logSumExp, type Labels, type Vae } from '../vae/model.js';
import { resolveObjective } from '../vae/objective.js';
import { forEachNoisyBatch } from './evaluate.js';
import { knnAccuracy } from './knn.js';
import { sampleQuality, type SampleQuality } from './sample-quality.js';
import { sumPsnr } from './psnr.js';
import { sumSsim } from './ssim.js';

export interface EvalSuiteOptions {
  /** Noise of the denoising metrics. */
  noise: NoiseSpec;
  /** Binarize the test (and kNN training) images, one fixed draw per image: the dynamically binarized MNIST protocol. */
  binarize: boolean;
  seed: number;
  /** Importance samples per image for the log-likelihood (0 skips it). */
  samples: number;
  /** Neighbours for the kNN probe. */
  knnK: number;
  /** Labelled training images for the kNN probe and the sample check (both skipped when absent or unlabelled). */
  train?: ImageSet | null;
  /** Prior samples for the digit-likeness check (0 skips it; default 1000). */
  priorSamples?: number;
  progress?: TaskProgress;
}

export interface EvalReport {
  images: number;
  binarized: boolean;
  /** Test negative ELBO in nats (clean images in, one posterior sample each). */
  negElboNats: number;
  reconNats: number;
  klNats: number;
  /** Importance-sampled negative log-likelihood in nats, or null when samples = 0. */
  nllNats: number | null;
  nllSamples: number;
  /** Mean squared error per pixel of the decoded posterior mean of clean inputs. */
  reconstructionMse: number;
  denoising: { noise: string; psnrNoisyDb: number; psnrDenoisedDb: number; ssimNoisy: number; ssimDenoised: number };
  activeUnits: number;
  latent: number;
  /** Variance over the test set of each dimension's posterior mean. */
  posteriorMeanVariance: number[];
  /** Average KL(q(z_d|x) || N(0,1)) of each latent dimension, nats; null for a learned mixture prior, whose KL does not split by dimension. */
  klPerDimension: number[] | null;
  knn: { k: number; accuracy: number } | null;
  /** Digit-likeness of prior samples against test images, or null when skipped. */
  priorSamples: SampleQuality | null;
}

export const ACTIVE_UNIT_THRESHOLD = 0.01;
const BATCH = 500;

export function evaluateSuite(vae: Vae, test: ImageSet, options: EvalSuiteOptions): EvalReport {
  const progress = options.progress ?? SILENT_TASK;
  const { imageHeight: h, imageWidth: w } = vae.config;
  const pixels = vae.pixels;
  const L = vae.latent;
  const clean = { noise: { kind: 'none' } as NoiseSpec, binarize: options.binarize, seed: options.seed };
  const noisy = { noise: options.noise, binarize: options.binarize, seed: options.seed };
  const conditional = (labels: Labels): Labels => (vae.classes > 0 ? labels : null);
  const rng = new Random(options.seed ^ 0x5a3);
  const elbo = resolveObjective({ loss: 'elbo' });
  const n = test.count;

  // Pass 1: clean inputs — ELBO, reconstruction error, posterior statistics, latent means.
  progress.start('ELBO, reconstruction and latent statistics', n);
  let negElbo = 0;
  let recon = 0;
  let kl = 0;
  let squaredError = 0;
  const means = new Float32Array(n * L);
  const klPerDim = new Float64Array(L);
  const reconstruction = new Float32Array(BATCH * pixels);
  forEachNoisyBatch(test, clean, BATCH, (x, _same, rows, start, labels) => {
    const parts = vae.run(x, x, rows, elbo, rng, false, conditional(labels));
    negElbo += parts.loss * rows;
    recon += parts.recon * rows;
    kl += parts.kl * rows;
    const meanLogvar = vae.encodeBatch(x, rows, conditional(labels));
    for (let r = 0; r < rows; r++) {
      for (let d = 0; d < L; d++) {
        const mu = meanLogvar[r * 2 * L + d]!;
        const lv = meanLogvar[r * 2 * L + L + d]!;
        means[(start + r) * L + d] = mu;
        klPerDim[d] = klPerDim[d]! + 0.5 * (mu * mu + Math.exp(lv) - 1 - lv);
      }
    }
    vae.reconstructBatch(x, rows, null, reconstruction, conditional(labels));
    for (let i = 0; i < rows * pixels; i++) squaredError += (reconstruction[i]! - x[i]!) ** 2;
    progress.update(start + rows);
  });
  progress.stop();
  const variance = columnVariance(means, n, L);

  // Pass 2: denoising.
  progress.start(`denoising at ${formatNoise(options.noise)}`, n);
  const denoised = new Float32Array(BATCH * pixels);
  const sums = { psnrNoisy: 0, psnrDenoised: 0, ssimNoisy: 0, ssimDenoised: 0 };
  forEachNoisyBatch(test, noisy, BATCH, (x, xNoisy, rows, start, labels) => {
    vae.reconstructBatch(xNoisy, rows, null, denoised, conditional(labels));
    sums.psnrNoisy += sumPsnr(xNoisy, x, rows, pixels);
    sums.psnrDenoised += sumPsnr(denoised, x, rows, pixels);
    if (vae.config.imageChannels === 1) {
      sums.ssimNoisy += sumSsim(xNoisy, x, rows, h, w);
      sums.ssimDenoised += sumSsim(denoised, x, rows, h, w);
    }
    progress.update(start + rows);
  });
  progress.stop();

  // Pass 3: the importance-sampled log-likelihood.
  const nll = options.samples > 0 ? importanceSampledNll(vae, test, options.samples, options.binarize, options.seed, progress) : null;

  // The kNN probe.
  let knn: EvalReport['knn'] = null;
  if (options.train && options.train.labels !== null && test.labels !== null) {
    progress.start('kNN probe: training latent means', options.train.count);
    const trainMeans = latentMeans(vae, options.train, options.binarize, options.seed, progress);
    progress.stop();
    knn = { k: options.knnK, accuracy: knnAccuracy(vae.backend, trainMeans, options.train.labels, means, test.labels, L, options.knnK) };
  }

  // Samples from the prior, judged by their nearest training images.
  let priorSamples: SampleQuality | null = null;
  const sampleCount = options.priorSamples ?? 1000;
  if (sampleCount > 0 && options.train && options.train.labels !== null && options.train.height * options.train.width === pixels) {
    progress.start('prior samples against their nearest training images', 1);
    priorSamples = sampleQuality(vae, options.train, test, sampleCount, options.seed);
    progress.update(1);
    progress.stop();
  }

  return {
    images: n,
    binarized: options.binarize,
    negElboNats: negElbo / n,
    reconNats: recon / n,
    klNats: kl / n,
    nllNats: nll,
    nllSamples: options.samples,
    reconstructionMse: squaredError / (n * pixels),
    denoising: {
      noise: formatNoise(options.noise),
      psnrNoisyDb: sums.psnrNoisy / n,
      psnrDenoisedDb: sums.psnrDenoised / n,
      ssimNoisy: sums.ssimNoisy / n,
      ssimDenoised: sums.ssimDenoised / n,
    },
    activeUnits: variance.filter((v) => v > ACTIVE_UNIT_THRESHOLD).length,
    latent: L,
    posteriorMeanVariance: [...variance],
    klPerDimension: vae.prior.standard ? [...klPerDim].map((s) => s / n) : null,
    knn,
    priorSamples,
  };
}

/** Mean over the set of -log p(x), estimated with `samples` importance samples per image. */
export function importanceSampledNll(vae: Vae, set: ImageSet, samples: number, binarize: boolean, seed: number,
  progress: TaskProgress = SILENT_TASK): number {
  const imagesPerChunk = 10;
  const samplesPerChunk = Math.min(samples, 500);
  const logWeights = new Float64Array(imagesPerChunk * samplesPerChunk);
  const runningMax = new Float64Array(imagesPerChunk);
  const runningSum = new Float64Array(imagesPerChunk);
  const rng = new Random((seed ^ 0x15a) >>> 0);
  let total = 0;
  progress.start(`log-likelihood, ${samples} importance samples per image`, set.count);
  forEachNoisyBatch(set, { noise: { kind: 'none' }, binarize, seed }, imagesPerChunk, (x, _same, rows, start, labels) => {
    runningMax.fill(-Infinity);
    runningSum.fill(0);
    for (let done = 0; done < samples; done += samplesPerChunk) {
      const k = Math.min(samplesPerChunk, samples - done);
      vae.logImportanceWeights(x, x, rows, k, rng, logWeights, vae.classes > 0 ? labels : null);
      for (let r = 0; r < rows; r++) {
        // Streaming log-sum-exp: keep sum exp(w - max) with the running max.
        const chunkLse = logSumExp(logWeights, r * k, k);
        const m = Math.max(runningMax[r]!, chunkLse);
        runningSum[r] = runningSum[r]! * Math.exp(runningMax[r]! - m) + Math.exp(chunkLse - m);
        runningMax[r] = m;
      }
    }
    for (let r = 0; r < rows; r++) total += -(runningMax[r]! + Math.log(runningSum[r]!) - Math.log(samples));
    progress.update(start + rows);
  });
  progress.stop();
  return total / set.count;
}

/** Posterior means of every image of a set (clean inputs), rows x latent. */
export function latentMeans(vae: Vae, set: ImageSet, binarize: boolean, seed: number, progress: TaskProgress = SILENT_TASK): Float32Array {
  const L = vae.latent;
  const out = new Float32Array(set.count * L);
  forEachNoisyBatch(set, { noise: { kind: 'none' }, binarize, seed }, BATCH, (x, _same, rows, start, labels) => {
    const meanLogvar = vae.encodeBatch(x, rows, vae.classes > 0 ? labels : null);
    for (let r = 0; r < rows; r++) out.set(meanLogvar.subarray(r * 2 * L, r * 2 * L + L), (start + r) * L);
    progress.update(start + rows);
  });
  return out;
}

function columnVariance(x: Float32Array, rows: number, cols: number): Float64Array {
  const mean = new Float64Array(cols);
  const out = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] = mean[c]! + x[r * cols + c]!;
  for (let c = 0; c < cols; c++) mean[c] = mean[c]! / rows;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c] = out[c]! + (x[r * cols + c]! - mean[c]!) ** 2;
  for (let c = 0; c < cols; c++) out[c] = out[c]! / rows;
  return out;
}

/** The report as a Markdown table. */
export function reportMarkdown(r: EvalReport): string {
  const f = (x: number, d = 2): string => x.toFixed(d);
  const rows: Array<[string, string]> = [
    ['test images', `${r.images}${r.binarized ? ' (binarized)' : ''}`],
    ['negative ELBO (nats)', `${f(r.negElboNats)} (reconstruction ${f(r.reconNats)} + KL ${f(r.klNats)})`],
    [`negative log-likelihood, importance-sampled, k = ${r.nllSamples} (nats)`, r.nllNats === null ? 'skipped' : f(r.nllNats)],
    ['reconstruction error (MSE per pixel)', r.reconstructionMse.toPrecision(4)],
    [`denoising PSNR at ${r.denoising.noise} (dB)`, `${f(r.denoising.psnrNoisyDb)} noisy -> ${f(r.denoising.psnrDenoisedDb)} denoised`],
    [`denoising SSIM at ${r.denoising.noise}`, `${f(r.denoising.ssimNoisy, 4)} noisy -> ${f(r.denoising.ssimDenoised, 4)} denoised`],
    ['active units (variance of posterior mean > 0.01)', `${r.activeUnits} of ${r.latent}`],
    ['KL per latent dimension (nats)', r.klPerDimension === null ? 'not defined for a mixture prior (its KL does not split by dimension)' : r.klPerDimension.map((k) => f(k)).join(' ')],
    ['kNN accuracy from latent means', r.knn === null ? 'skipped' : `${f(100 * r.knn.accuracy)}% (k = ${r.knn.k})`],
    [
      'prior samples that look like digits (pixel-space nearest training images agreeing on a label)',
      r.priorSamples === null ? 'skipped' : `${f(100 * r.priorSamples.digitLike, 1)}% of ${r.priorSamples.count} (test images: ${f(100 * r.priorSamples.referenceDigitLike, 1)}%; `
        + `at least ${r.priorSamples.agree} of ${r.priorSamples.k} agree; per digit 0-9: ${r.priorSamples.classCounts.join(' ')})`,
    ],
  ];
  return ['| metric | value |', '| --- | --- |', ...rows.map(([a, b]) => `| ${a} | ${b} |`)].join('\n');
}
