/**
 * The negative ELBO, -E_q[log p(x|z)] + beta * KL(q(z|x) || p(z)), nats per image averaged over the
 * batch, with one reparameterized sample z per image. The KL is the closed form for the N(0, I)
 * prior and -H[q] - log p(z) at the same z for a learned mixture. With free bits lambda > 0 the KL
 * term is sum_d max(lambda, KL_d), KL_d being dimension d's batch-mean KL (standard prior only).
 * The KL helpers here serve notebook-mse.ts and the per-image score too.
 *
 * With a mask (series with missing values) the reconstruction term is Donut's (Xu et al. 2018):
 * -log p(x|z) summed over the observed values only. Donut's modified ELBO also scales log p(z) by
 * the share of observed values in the window; vaekit keeps the KL as it is.
 */
import type { Random } from '../../engine/random.js';
import type { Labels } from '../conditioning.js';
import type { LossParts, Objective } from '../objective.js';
import {
  klPerDimension, klPerDimensionBackward, klToStandardNormal, negativeEntropy, reparameterize, reparameterizeBackward,
} from '../posterior.js';
import type { Mask, ObjectiveContext } from './index.js';

/** One posterior sample per row into buffers.z [rows, L] (eps ~ N(0, I) from rng; eps = 0, the mean, without). */
export function sampleLatent(ctx: ObjectiveContext, meanLogvar: Float32Array, rows: number, rng: Random | null): Float32Array {
  const { eps, z } = ctx.buffers;
  const L = ctx.latent;
  if (rng === null) eps.fill(0, 0, rows * L);
  else rng.fillNormal(eps, rows * L);
  reparameterize(ctx.backend, meanLogvar, eps, z, rows, L);
  return z;
}

/**
 * Each row's KL(q(z|x) || p(z)) into buffers.rowKl [rows], and their mean: the closed form for
 * N(0, I); for a learned prior -H[q] - log p(z) at the samples buffers.z (the prior keeps what its
 * backward pass needs).
 */
export function klToPrior(ctx: ObjectiveContext, meanLogvar: Float32Array, rows: number): number {
  const { rowKl, z, logPrior } = ctx.buffers;
  const L = ctx.latent;
  if (ctx.prior.standard) return klToStandardNormal(ctx.backend, meanLogvar, rows, L, rowKl);
  ctx.prior.logDensity(z, rows, logPrior);
  for (let r = 0; r < rows; r++) rowKl[r] = negativeEntropy(meanLogvar, r, L) - logPrior[r]!;
  return ctx.backend.sum(rowKl, rows) / rows;
}

/**
 * The backward pass of the sample and of klScale * sum_r KL_r (klToPrior): buffers.dMeanLogvar
 * [rows, 2L] from dz [rows, L]. A learned prior adds -log p(z)'s gradient to dz (and writes its
 * parameters' gradients; scale 0 clears them), its entropy term goes to the log-variances.
 */
export function klToPriorBackward(ctx: ObjectiveContext, meanLogvar: Float32Array, dz: Float32Array, rows: number, klScale: number): void {
  const { eps, z, dMeanLogvar } = ctx.buffers;
  const L = ctx.latent;
  if (ctx.prior.standard) {
    reparameterizeBackward(ctx.backend, meanLogvar, eps, dz, dMeanLogvar, rows, 1, L, klScale, 0);
    return;
  }
  ctx.prior.backward(z, rows, klScale, null, dz);
  reparameterizeBackward(ctx.backend, meanLogvar, eps, dz, dMeanLogvar, rows, 1, L, 0, klScale);
}

/** The free-bits KL, sum_d max(lambda, KL_d) (KL_d into buffers.klPerDim [L]). */
function freeBitsKl(ctx: ObjectiveContext, meanLogvar: Float32Array, rows: number, lambda: number): number {
  const klDim = ctx.buffers.klPerDim;
  klPerDimension(meanLogvar, rows, ctx.latent, klDim);
  let s = 0;
  for (let d = 0; d < ctx.latent; d++) s += Math.max(lambda, klDim[d]!);
  return s;
}

/** Adds beta * d(free-bits KL)/d(mean, logvar) to buffers.dMeanLogvar: the dimensions above the floor only. */
function freeBitsKlBackward(ctx: ObjectiveContext, meanLogvar: Float32Array, rows: number, lambda: number, beta: number): void {
  const { klPerDim, dKlPerDim, dMeanLogvar } = ctx.buffers;
  for (let d = 0; d < ctx.latent; d++) dKlPerDim[d] = klPerDim[d]! > lambda ? beta : 0;
  klPerDimensionBackward(meanLogvar, dKlPerDim, dMeanLogvar, rows, ctx.latent);
}

/** The ELBO's forward pass; with train, the likelihood's gradient goes to buffers.dLogits with the loss. */
function elboForward(ctx: ObjectiveContext, meanLogvar: Float32Array, target: Float32Array, rows: number, objective: Objective,
  rng: Random | null, labels: Labels, train: boolean, mask: Mask): LossParts {
  const { rowRecon, dLogits } = ctx.buffers;
  const z = sampleLatent(ctx, meanLogvar, rows, rng);
  const kl = klToPrior(ctx, meanLogvar, rows);
  const logits = ctx.decodeLogits(z, rows, labels);
  ctx.likelihood.nll(ctx.backend, logits, target, rows, rowRecon, train ? dLogits : null, 1 / rows, null, mask);
  const recon = ctx.backend.sum(rowRecon, rows) / rows;
  const klTerm = objective.freeBits > 0 ? freeBitsKl(ctx, meanLogvar, rows, objective.freeBits) : kl;
  return { loss: recon + objective.beta * klTerm, recon, kl };
}

/** The ELBO's backward pass, from buffers.dLogits to buffers.dMeanLogvar. */
function elboBackward(ctx: ObjectiveContext, meanLogvar: Float32Array, rows: number, objective: Objective): void {
  const dz = ctx.decoderBackward(ctx.buffers.dLogits, rows);
  if (objective.freeBits > 0) {
    reparameterizeBackward(ctx.backend, meanLogvar, ctx.buffers.eps, dz, ctx.buffers.dMeanLogvar, rows, 1, ctx.latent, 0, 0);
    freeBitsKlBackward(ctx, meanLogvar, rows, objective.freeBits, objective.beta);
  } else {
    klToPriorBackward(ctx, meanLogvar, dz, rows, objective.beta / rows);
  }
}

/** The negative ELBO of a batch and, with train, its gradient. */
export function elbo(ctx: ObjectiveContext, meanLogvar: Float32Array, target: Float32Array, rows: number, objective: Objective,
  rng: Random | null, train: boolean, labels: Labels, mask: Mask = null): LossParts {
  const parts = elboForward(ctx, meanLogvar, target, rows, objective, rng, labels, train, mask);
  if (train) elboBackward(ctx, meanLogvar, rows, objective);
  return parts;
}

/** out[r] = -log p(target_r | z_r) + KL_r [rows]: each image's negative ELBO (beta 1) with one posterior sample z_r, nats. */
export function negElboPerRow(ctx: ObjectiveContext, meanLogvar: Float32Array, target: Float32Array, rows: number, rng: Random,
  labels: Labels, out: Float64Array, mask: Mask = null): void {
  const { rowRecon, rowKl } = ctx.buffers;
  const z = sampleLatent(ctx, meanLogvar, rows, rng);
  klToPrior(ctx, meanLogvar, rows);
  ctx.likelihood.nll(ctx.backend, ctx.decodeLogits(z, rows, labels), target, rows, rowRecon, null, 0, null, mask);
  for (let r = 0; r < rows; r++) out[r] = rowRecon[r]! + rowKl[r]!;
}
