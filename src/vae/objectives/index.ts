/**
 * The objectives, one file each with its forward and backward passes side by side: elbo.ts (beta,
 * free bits), iwae.ts (importance-weighted bound) and notebook-mse.ts. objective.ts holds what they
 * are (the Objective type, parsing, defaults); they see the model through ObjectiveContext.
 */
import type { Backend } from '../../engine/backend.js';
import type { Random } from '../../engine/random.js';
import type { Labels } from '../conditioning.js';
import type { PixelLikelihood } from '../likelihood.js';
import type { VaeBuffers } from '../model.js';
import type { LossParts, Objective } from '../objective.js';
import type { Prior } from '../prior.js';
import { VaekitError } from '../../errors.js';
import { elbo } from './elbo.js';
import { iwae } from './iwae.js';
import { notebookMse } from './notebook-mse.js';

/** Which values of a batch were observed, [rows, D] (1 observed, 0 missing), or null when all were. */
export type Mask = Uint8Array | null;

/** What an objective uses of the model: its parts, its reused buffers and the decoder's two passes. */
export interface ObjectiveContext {
  readonly backend: Backend;
  readonly latent: number;
  /** Values per image, D. */
  readonly pixels: number;
  readonly likelihood: PixelLikelihood;
  readonly prior: Prior;
  readonly buffers: VaeBuffers;
  /** Decoder logits [rows, D] for z [rows, L] (a conditional model's labels appended; a view, reused). */
  decodeLogits(z: Float32Array, rows: number, labels: Labels): Float32Array;
  /** dL/dz [rows, L] from dL/dlogits [rows, D]: the decoder's backward pass (its parameter gradients overwritten). */
  decoderBackward(dLogits: Float32Array, rows: number): Float32Array;
}

/**
 * The objective on a batch whose posterior is meanLogvar [rows, 2L]: its batch means and, with
 * train, its gradient in buffers.dMeanLogvar [rows, 2L] (the decoder's, likelihood's and prior's
 * parameter gradients overwritten). The encoder's backward pass is the caller's. A mask [rows, D]
 * (1 observed, 0 missing) keeps the reconstruction term to the observed values (likelihood.ts).
 */
export function runObjective(ctx: ObjectiveContext, meanLogvar: Float32Array, target: Float32Array, rows: number,
  objective: Objective, rng: Random | null, train: boolean, labels: Labels, mask: Mask = null): LossParts {
  switch (objective.loss) {
    case 'elbo': return elbo(ctx, meanLogvar, target, rows, objective, rng, train, labels, mask);
    case 'iwae': return iwae(ctx, meanLogvar, target, rows, objective.samples, rng, train, labels, mask);
    case 'notebook-mse':
      if (mask !== null) throw new VaekitError('The notebook\'s squared error has no place for missing values: train data with a mask with the elbo or iwae loss.');
      return notebookMse(ctx, meanLogvar, target, rows, rng, train, labels);
  }
}
