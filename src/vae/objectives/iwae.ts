/**
 * The importance-weighted bound (Burda et al. 2015) with k samples per image:
 * -log (1/k) sum_i w_i, log w_i = log p(x | z_i) + log p(z_i) - log q(z_i | x), nats per image
 * averaged over the batch (at k = 1, the ELBO with a sampled KL). Its gradient is
 * -sum_i w~_i grad log w_i with the normalized weights w~_i = w_i / sum_j w_j.
 */
import { Random } from '../../engine/random.js';
import { VaekitError } from '../../errors.js';
import { repeatLabels, type Labels } from '../conditioning.js';
import type { LossParts } from '../objective.js';
import { klToStandardNormal, logDensity, negativeEntropy, reparameterize, reparameterizeBackward } from '../posterior.js';
import { checkBufferSize } from '../model.js';
import type { Mask, ObjectiveContext } from './index.js';

/** Throws, before anything is allocated, when k samples of each of `rows` examples of `values` values would not fit in one buffer. */
export function checkSamplesFit(rows: number, k: number, values: number): void {
  checkBufferSize(rows * k, values, `${k} importance samples of each of ${rows} examples of ${values} values`, 'lower objective.samples or training.batchSize');
}

/** log sum_i exp(x[start + i]) for i < n, stable. */
export function logSumExp(x: Float64Array, start: number, n: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, x[start + i]!);
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(x[start + i]! - max);
  return max + Math.log(s);
}

/** out [rows*k, cols] = each row of x [rows, cols] k times in a row. */
function repeatRows<T extends Float32Array | Uint8Array>(x: T, rows: number, cols: number, k: number, out: T): void {
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * cols, (r + 1) * cols);
    for (let i = 0; i < k; i++) out.set(row, (r * k + i) * cols);
  }
}

/**
 * Draws k samples per image and writes log w for each (image r, sample i) to
 * buffers.logWeights[r * k + i] [rows*k]; the samples' z, eps, -log p(x | z) and log p(z) stay in
 * buffers.z, eps, rowRecon and logPrior. With dLogits, the likelihood's gradient times 1/rows
 * (and times rowScale per sample when given).
 */
export function sampleLogWeights(ctx: ObjectiveContext, meanLogvar: Float32Array, target: Float32Array, rows: number, k: number,
  rng: Random, labels: Labels, dLogits: Float32Array | null, rowScale: Float32Array | null, mask: Mask = null): void {
  const b = ctx.backend;
  const L = ctx.latent;
  const n = rows * k;
  ctx.buffers.reserveSamples(n);
  const { repeatedPosterior, repeatedTarget, eps, z, rowRecon, logPrior, logWeights } = ctx.buffers;
  repeatRows(meanLogvar, rows, 2 * L, k, repeatedPosterior);
  repeatRows(target, rows, ctx.pixels, k, repeatedTarget);
  const repeatedMask = mask === null ? null : ctx.buffers.repeatedMask(n);
  if (mask !== null) repeatRows(mask, rows, ctx.pixels, k, repeatedMask!);
  rng.fillNormal(eps, n * L);
  reparameterize(b, repeatedPosterior, eps, z, n, L);
  const logits = ctx.decodeLogits(z, n, repeatLabels(labels, rows, k));
  ctx.likelihood.nll(b, logits, repeatedTarget, n, rowRecon, dLogits, 1 / rows, rowScale, repeatedMask);
  ctx.prior.logDensity(z, n, logPrior);
  logDensity(repeatedPosterior, eps, n, L, logWeights); // log q(z | x), then log w in place
  for (let s = 0; s < n; s++) logWeights[s] = -rowRecon[s]! + logPrior[s]! - logWeights[s]!;
}

/**
 * The bound's forward pass: its batch means, the normalized weights into buffers.sampleWeights
 * [rows*k] and, with dLogits, the likelihood's unweighted gradient.
 */
function iwaeForward(ctx: ObjectiveContext, meanLogvar: Float32Array, target: Float32Array, rows: number, k: number, rng: Random,
  labels: Labels, dLogits: Float32Array | null, mask: Mask): LossParts {
  const L = ctx.latent;
  const n = rows * k;
  sampleLogWeights(ctx, meanLogvar, target, rows, k, rng, labels, dLogits, null, mask);
  const { logWeights, sampleWeights, rowRecon, logPrior } = ctx.buffers;
  let bound = 0;
  let recon = 0;
  let kl = 0;
  for (let r = 0; r < rows; r++) {
    const lse = logSumExp(logWeights, r * k, k);
    bound += lse - Math.log(k);
    for (let i = 0; i < k; i++) {
      sampleWeights[r * k + i] = Math.exp(logWeights[r * k + i]! - lse);
      recon += rowRecon[r * k + i]!;
    }
    if (!ctx.prior.standard) {
      // The learned prior's KL: -H[q] - log p(z), averaged over the k samples.
      const negEntropy = negativeEntropy(meanLogvar, r, L);
      for (let i = 0; i < k; i++) kl += (negEntropy - logPrior[r * k + i]!) / n;
    }
  }
  if (ctx.prior.standard) kl = klToStandardNormal(ctx.backend, meanLogvar, rows, L, ctx.buffers.rowKl);
  return { loss: -bound / rows, recon: recon / n, kl };
}

/**
 * The bound's backward pass to buffers.dMeanLogvar. Each sample's gradient counts times its
 * normalized weight: the logits' gradient is scaled by it here, or (rerun given) the samples of
 * the forward pass are drawn again from rerun and scored with the weights, for a learned variance
 * whose gradient nll() sums over the samples. -log p(z_i) adds w~_i times its gradient to dz_i (and
 * to the prior's parameters); log q's gradient at fixed eps, -0.5 per log-variance summed with
 * weights that sum to 1, is the entropy's.
 */
function iwaeBackward(ctx: ObjectiveContext, meanLogvar: Float32Array, target: Float32Array, rows: number, k: number,
  rerun: Random | null, labels: Labels, mask: Mask): void {
  const b = ctx.backend;
  const D = ctx.pixels;
  const n = rows * k;
  const { dLogits, sampleWeights } = ctx.buffers;
  if (rerun !== null) {
    sampleLogWeights(ctx, meanLogvar, target, rows, k, rerun, labels, dLogits, sampleWeights, mask);
  } else {
    for (let s = 0; s < n; s++) {
      const row = dLogits.subarray(s * D, (s + 1) * D);
      b.scale(row, sampleWeights[s]!, row, D);
    }
  }
  const dz = ctx.decoderBackward(dLogits, n);
  const { z, eps, dMeanLogvar } = ctx.buffers;
  ctx.prior.backward(z, n, 1 / rows, sampleWeights, dz);
  reparameterizeBackward(b, meanLogvar, eps, dz, dMeanLogvar, rows, k, ctx.latent, 0, 1 / rows);
}

/**
 * The bound on a batch and, with train, its gradient. The forward pass draws its samples from a
 * generator seeded from rng, so that a backward pass that needs them again can redraw them.
 */
export function iwae(ctx: ObjectiveContext, meanLogvar: Float32Array, target: Float32Array, rows: number, k: number, rng: Random | null,
  train: boolean, labels: Labels, mask: Mask = null): LossParts {
  if (rng === null) throw new VaekitError('The importance-weighted objective needs random samples (a generator).');
  const seed = rng.nextUint32();
  const twoPasses = train && ctx.likelihood.learnedVariance;
  checkSamplesFit(rows, k, ctx.pixels);
  ctx.buffers.reserveSamples(rows * k); // before reading buffers.dLogits: growing replaces it
  const parts = iwaeForward(ctx, meanLogvar, target, rows, k, new Random(seed), labels, train && !twoPasses ? ctx.buffers.dLogits : null, mask);
  if (train) iwaeBackward(ctx, meanLogvar, target, rows, k, twoPasses ? new Random(seed) : null, labels, mask);
  return parts;
}
