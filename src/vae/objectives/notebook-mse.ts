/**
 * The notebook's loss, which is not a VAE objective: the mean squared error per pixel between the
 * decoder's sigmoid output and the clean image, with no KL term. The sample is still drawn and the
 * KL reported, as for the ELBO.
 */
import type { Random } from '../../engine/random.js';
import type { Labels } from '../conditioning.js';
import type { LossParts } from '../objective.js';
import { klToPrior, klToPriorBackward, sampleLatent } from './elbo.js';
import type { ObjectiveContext } from './index.js';

/** mean_{r,j} (sigmoid(logits) - target)^2 over [rows, D], and with dLogits its gradient in the logits. */
function meanSquaredError(ctx: ObjectiveContext, logits: Float32Array, target: Float32Array, rows: number, dLogits: Float32Array | null): number {
  const b = ctx.backend;
  const D = ctx.pixels;
  const { mean, rowRecon } = ctx.buffers;
  ctx.likelihood.images(b, logits, rows, mean);
  b.squaredError(mean, target, rows, D, rowRecon, dLogits, 1 / (rows * D));
  if (dLogits !== null) b.activationBackward(dLogits, mean, dLogits, rows * D, 'sigmoid', 0);
  return b.sum(rowRecon, rows) / (rows * D);
}

/** The forward pass; with train, the error's gradient goes to buffers.dLogits. */
function notebookMseForward(ctx: ObjectiveContext, meanLogvar: Float32Array, target: Float32Array, rows: number, rng: Random | null,
  labels: Labels, train: boolean): LossParts {
  const z = sampleLatent(ctx, meanLogvar, rows, rng);
  const kl = klToPrior(ctx, meanLogvar, rows);
  const logits = ctx.decodeLogits(z, rows, labels);
  const recon = meanSquaredError(ctx, logits, target, rows, train ? ctx.buffers.dLogits : null);
  return { loss: recon, recon, kl };
}

/** The backward pass, from buffers.dLogits to buffers.dMeanLogvar: through z only (a learned prior's gradients are cleared). */
function notebookMseBackward(ctx: ObjectiveContext, meanLogvar: Float32Array, rows: number): void {
  const dz = ctx.decoderBackward(ctx.buffers.dLogits, rows);
  klToPriorBackward(ctx, meanLogvar, dz, rows, 0);
}

/** The notebook's loss on a batch and, with train, its gradient. */
export function notebookMse(ctx: ObjectiveContext, meanLogvar: Float32Array, target: Float32Array, rows: number, rng: Random | null,
  train: boolean, labels: Labels): LossParts {
  const parts = notebookMseForward(ctx, meanLogvar, target, rows, rng, labels, train);
  if (train) notebookMseBackward(ctx, meanLogvar, rows);
  return parts;
}
