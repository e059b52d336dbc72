/**
 * `vaekit eval`: everything we measure about a trained VAE on a test set, the way papers measure it.
 * - test negative ELBO (ELBO_SAMPLES posterior samples per image; closed-form KL for the N(0, I) prior) and its two parts;
 * - the importance-sampled estimate of the test negative log-likelihood (Burda et al. 2015):
 *   -log (1/k) sum_i p(x, z_i) / q(z_i | x) with k samples per image (5000 by default), computed
 *   in chunks so memory stays bounded;
 * - reconstruction error of clean inputs (mean squared error per pixel, decoded posterior mean);
 * - denoising at a given noise: PSNR and SSIM of the noisy input and of the denoised output; with
 *   no noise, the PSNR and SSIM of the reconstructions of clean inputs, and no "noisy input" numbers;
 * - active units (dimensions whose posterior mean varies over the test set by more than 0.01) and
 *   the average KL of each latent dimension;
 * - k-nearest-neighbour accuracy of test images from their latent means, with the training
 *   images' latent means as the labelled set;
 * - whether samples from the prior look like digits (sample-quality.ts): the share of them whose
 *   nearest training images in pixel space agree on a label, against the share of test images.
 */
import { Random } from '../engine/random.js';
import type { Dataset } from '../data/dataset.js';
import { formatNoise, type NoiseSpec } from '../data/transforms/noise.js';
import { SILENT_TASK, type TaskProgress } from '../progress.js';
import { checkBufferSize, labelsFor, logSumExp, type Vae } from '../vae/model.js';
import { VaekitError } from '../errors.js';
import { encodeDataset } from '../latent/encode.js';
import { ELBO_SAMPLES, elboParts, squaredError } from './evaluate.js';
import { EVAL_BATCH, evalBatches } from '../data/inference.js';
import { knnAccuracy } from './knn.js';
import { sampleQuality, type SampleQuality } from './sample-quality.js';
import { sumPsnr } from './psnr.js';
import { sumSsim } from './ssim.js';

export interface EvalSuiteOptions {
  /** Noise of the denoising metrics ('none': reconstruction metrics of clean inputs, without noisy-input numbers). */
  noise: NoiseSpec;
  /** Binarize the test (and kNN training) images, one fixed draw per image: the dynamically binarized MNIST protocol. */
  binarize: boolean;
  seed: number;
  /** Importance samples per image for the log-likelihood (0 skips it). */
  samples: number;
  /** Neighbours for the kNN probe. */
  knnK: number;
  /** Labelled training images for the kNN probe and the sample check (both skipped when absent or unlabelled). */
  train?: Dataset | null;
  /** Prior samples for the digit-likeness check (0 skips it; default 1000). */
  priorSamples?: number;
  progress?: TaskProgress;
}

export interface EvalReport {
  images: number;
  binarized: boolean;
  /** Test negative ELBO in nats per example: clean examples scored given themselves, averaged over `elboSamples` posterior samples each. */
  negElboNats: number;
  elboSamples: number;
  reconNats: number;
  klNats: number;
  /** Importance-sampled negative log-likelihood in nats, or null when samples = 0. */
  nllNats: number | null;
  nllSamples: number;
  /** Mean squared error per pixel of the decoded posterior mean of clean inputs. */
  reconstructionMse: number;
  /**
   * Denoising at the given noise: PSNR (images) and SSIM (greyscale images), null where they do not
   * apply; MSE per value always. With noise 'none' the outputs are reconstructions of clean inputs,
   * and the noisy-input numbers (an input against itself: 100 dB, SSIM 1, MSE 0) are null.
   */
  denoising: {
    noise: string; psnrNoisyDb: number | null; psnrDenoisedDb: number | null; ssimNoisy: number | null; ssimDenoised: number | null;
    mseNoisy: number | null; mseDenoised: number;
  };
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

export function evaluateSuite(vae: Vae, test: Dataset, options: EvalSuiteOptions): EvalReport {
  const progress = options.progress ?? SILENT_TASK;
  checkSuiteSizes(vae, options);
  const pixels = vae.pixels;
  const L = vae.latent;
  const clean = { noise: { kind: 'none' } as NoiseSpec, binarize: options.binarize, seed: options.seed };
  const noisy = { noise: options.noise, binarize: options.binarize, seed: options.seed };
  const rng = new Random(options.seed ^ 0x5a3);
  const n = test.count;
  const images = test.shape.length === 3;

  // Pass 1: clean inputs — ELBO, reconstruction error, posterior statistics, latent means.
  progress.start('ELBO, reconstruction and latent statistics', n);
  let negElbo = 0;
  let recon = 0;
  let kl = 0;
  let squaredErrorSum = 0;
  const means = new Float32Array(n * L);
  const klPerDim = new Float64Array(L);
  const reconstruction = new Float32Array(EVAL_BATCH * pixels);
  for (const b of evalBatches(test, clean, EVAL_BATCH, vae.backend)) {
    const { target: x, rows, start } = b;
    const labels = labelsFor(vae, b.labels);
    const parts = elboParts(vae, x, x, rows, rng, labels, ELBO_SAMPLES, b.mask);
    negElbo += parts.loss * rows;
    recon += parts.recon * rows;
    kl += parts.kl * rows;
    const meanLogvar = vae.encodeBatch(x, rows, labels);
    for (let r = 0; r < rows; r++) {
      for (let d = 0; d < L; d++) {
        const mu = meanLogvar[r * 2 * L + d]!;
        const lv = meanLogvar[r * 2 * L + L + d]!;
        means[(start + r) * L + d] = mu;
        klPerDim[d] = klPerDim[d]! + 0.5 * (mu * mu + Math.exp(lv) - 1 - lv);
      }
    }
    vae.reconstructBatch(x, rows, null, reconstruction, labels);
    squaredErrorSum += squaredError(reconstruction, x, rows * pixels);
    progress.update(start + rows);
  }
  progress.stop();
  const variance = columnVariance(means, n, L);

  // Pass 2: denoising (with no noise: the reconstructions of clean inputs, pass 1's outputs again).
  const noised = options.noise.kind !== 'none';
  progress.start(noised ? `denoising at ${formatNoise(options.noise)}` : 'reconstruction PSNR and SSIM', n);
  const denoised = new Float32Array(EVAL_BATCH * pixels);
  const sums = { psnrNoisy: 0, psnrDenoised: 0, ssimNoisy: 0, ssimDenoised: 0, seNoisy: 0, seDenoised: 0 };
  // SSIM (an 11x11 window) is defined for greyscale images of at least that size.
  const greyscale = images && test.shape[2] === 1 && test.shape[0]! >= 11 && test.shape[1]! >= 11;
  for (const b of evalBatches(test, noisy, EVAL_BATCH, vae.backend)) {
    const { target: x, input: xNoisy, rows, start } = b;
    vae.reconstructBatch(xNoisy, rows, null, denoised, labelsFor(vae, b.labels));
    sums.seNoisy += squaredError(xNoisy, x, rows * pixels);
    sums.seDenoised += squaredError(denoised, x, rows * pixels);
    if (images) {
      sums.psnrNoisy += sumPsnr(xNoisy, x, rows, pixels);
      sums.psnrDenoised += sumPsnr(denoised, x, rows, pixels);
    }
    if (greyscale) {
      sums.ssimNoisy += sumSsim(xNoisy, x, rows, test.shape[0]!, test.shape[1]!);
      sums.ssimDenoised += sumSsim(denoised, x, rows, test.shape[0]!, test.shape[1]!);
    }
    progress.update(start + rows);
  }
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
  if (sampleCount > 0 && options.train && options.train.labels !== null && options.train.size === pixels && images) {
    progress.start('prior samples against their nearest training images', 1);
    priorSamples = sampleQuality(vae, options.train, test, sampleCount, options.seed);
    progress.update(1);
    progress.stop();
  }

  return {
    images: n,
    binarized: options.binarize,
    negElboNats: negElbo / n,
    elboSamples: ELBO_SAMPLES,
    reconNats: recon / n,
    klNats: kl / n,
    nllNats: nll,
    nllSamples: options.samples,
    reconstructionMse: squaredErrorSum / (n * pixels),
    denoising: {
      noise: formatNoise(options.noise),
      psnrNoisyDb: images && noised ? sums.psnrNoisy / n : null,
      psnrDenoisedDb: images ? sums.psnrDenoised / n : null,
      ssimNoisy: greyscale && noised ? sums.ssimNoisy / n : null,
      ssimDenoised: greyscale ? sums.ssimDenoised / n : null,
      mseNoisy: noised ? sums.seNoisy / (n * pixels) : null,
      mseDenoised: sums.seDenoised / (n * pixels),
    },
    activeUnits: variance.filter((v) => v > ACTIVE_UNIT_THRESHOLD).length,
    latent: L,
    posteriorMeanVariance: [...variance],
    klPerDimension: vae.prior.standard ? [...klPerDim].map((s) => s / n) : null,
    knn,
    priorSamples,
  };
}

/** The most importance samples per example, prior samples and neighbours the suite takes (more runs for hours or does not fit). */
export const SUITE_LIMITS = { samples: 1_000_000, priorSamples: 100_000, knnK: 1000 } as const;

/** Throws, before any work, when a count of the options is beyond what the suite can do. */
function checkSuiteSizes(vae: Vae, o: EvalSuiteOptions): void {
  if (o.samples > SUITE_LIMITS.samples) throw new VaekitError(`eval.samples ${o.samples} is more than the ${SUITE_LIMITS.samples.toLocaleString('en-US')} importance samples per example vaekit takes.`);
  const prior = o.priorSamples ?? 1000;
  if (prior > SUITE_LIMITS.priorSamples) throw new VaekitError(`eval.priorSamples ${prior} is more than the ${SUITE_LIMITS.priorSamples.toLocaleString('en-US')} prior samples vaekit judges.`);
  checkBufferSize(prior, vae.pixels, `${prior} prior samples`, 'lower eval.priorSamples');
  if (o.train && o.knnK > Math.min(SUITE_LIMITS.knnK, o.train.count)) {
    throw new VaekitError(`eval.knnK ${o.knnK} is more than ${o.train.count < SUITE_LIMITS.knnK ? `the ${o.train.count} reference examples` : `${SUITE_LIMITS.knnK}, the most neighbours vaekit counts`}.`);
  }
}

/** Mean over the set of -log p(x), estimated with `samples` importance samples per image. */
export function importanceSampledNll(vae: Vae, set: Dataset, samples: number, binarize: boolean, seed: number,
  progress: TaskProgress = SILENT_TASK): number {
  const imagesPerChunk = 10;
  const samplesPerChunk = Math.min(samples, 500);
  const logWeights = new Float64Array(imagesPerChunk * samplesPerChunk);
  const runningMax = new Float64Array(imagesPerChunk);
  const runningSum = new Float64Array(imagesPerChunk);
  const rng = new Random((seed ^ 0x15a) >>> 0);
  let total = 0;
  progress.start(`log-likelihood, ${samples} importance samples per image`, set.count);
  for (const b of evalBatches(set, { noise: { kind: 'none' }, binarize, seed }, imagesPerChunk, vae.backend)) {
    const { target: x, rows, start } = b;
    runningMax.fill(-Infinity);
    runningSum.fill(0);
    for (let done = 0; done < samples; done += samplesPerChunk) {
      const k = Math.min(samplesPerChunk, samples - done);
      vae.logImportanceWeights(x, x, rows, k, rng, logWeights, labelsFor(vae, b.labels), b.mask);
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
  }
  progress.stop();
  return total / set.count;
}

/** Posterior means of every example of a set (clean inputs), rows x latent. */
export function latentMeans(vae: Vae, set: Dataset, binarize: boolean, seed: number, progress: TaskProgress = SILENT_TASK): Float32Array {
  return encodeDataset(vae, set, { binarize, seed, progress }).mean;
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

/** "a noisy -> b denoised", or b alone without noise ("not defined" for nulls: the PSNR of features, the SSIM of colour images). */
function fromTo(noised: boolean, noisy: number | null, denoised: number | null, format: (x: number) => string): string {
  if (denoised === null || (noised && noisy === null)) return 'not defined for this data';
  return noised && noisy !== null ? `${format(noisy)} noisy -> ${format(denoised)} denoised` : format(denoised);
}

/** The report as a Markdown table. */
export function reportMarkdown(r: EvalReport): string {
  const f = (x: number, d = 2): string => x.toFixed(d);
  const d = r.denoising;
  const noised = d.noise !== 'none';
  // Without noise the outputs are reconstructions of clean inputs: named so, their MSE is the reconstruction error above.
  const quality: Array<[string, string]> = noised
    ? [
      [`denoising PSNR at ${d.noise} (dB)`, fromTo(true, d.psnrNoisyDb, d.psnrDenoisedDb, (x) => f(x))],
      [`denoising SSIM at ${d.noise}`, fromTo(true, d.ssimNoisy, d.ssimDenoised, (x) => f(x, 4))],
      [`denoising MSE per value at ${d.noise}`, fromTo(true, d.mseNoisy, d.mseDenoised, (x) => x.toPrecision(4))],
    ]
    : [
      ['reconstruction PSNR of clean inputs, no noise (dB)', fromTo(false, null, d.psnrDenoisedDb, (x) => f(x))],
      ['reconstruction SSIM of clean inputs, no noise', fromTo(false, null, d.ssimDenoised, (x) => f(x, 4))],
    ];
  const rows: Array<[string, string]> = [
    ['test images', `${r.images}${r.binarized ? ' (binarized)' : ''}`],
    [`negative ELBO of clean test examples given themselves (nats per example, mean of ${r.elboSamples} posterior samples each; training's test line scores clean examples given noisy ones)`,
      `${f(r.negElboNats)} (reconstruction ${f(r.reconNats)} + KL ${f(r.klNats)})`],
    [`negative log-likelihood, importance-sampled, k = ${r.nllSamples} (nats)`, r.nllNats === null ? 'skipped' : f(r.nllNats)],
    ['reconstruction error (MSE per value)', r.reconstructionMse.toPrecision(4)],
    ...quality,
    ['active units (variance of posterior mean > 0.01)', `${r.activeUnits} of ${r.latent}`],
    ['KL per latent dimension (nats)', r.klPerDimension === null ? 'not defined for a mixture prior (its KL does not split by dimension)' : r.klPerDimension.map((k) => f(k)).join(' ')],
    ['kNN accuracy from latent means', r.knn === null ? 'skipped' : `${f(100 * r.knn.accuracy)}% (k = ${r.knn.k})`],
    [
      'prior samples that look like digits (pixel-space nearest training images agreeing on a label)',
      r.priorSamples === null ? 'skipped' : `${f(100 * r.priorSamples.digitLike, 1)}% of ${r.priorSamples.count} (test images: ${f(100 * r.priorSamples.referenceDigitLike, 1)}%; `
        + `at least ${r.priorSamples.agree} of ${r.priorSamples.k} agree; per class: ${r.priorSamples.classCounts.join(' ')})`,
    ],
  ];
  return ['| metric | value |', '| --- | --- |', ...rows.map(([a, b]) => `| ${a} | ${b} |`)].join('\n');
}
