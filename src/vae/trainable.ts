/** What fit (train/fit.ts) and the evaluators need of a model, below both: the image/table Vae and the TextVae are each one. */
import type { Backend } from '../engine/backend.js';
import type { Precision } from '../engine/precision.js';
import type { Random } from '../engine/random.js';
import type { ParameterSet } from '../nn/parameters.js';
import type { Labels } from './conditioning.js';
import type { LossParts, Objective } from './objective.js';

/**
 * What fit needs of a model: the image/table Vae (vae/model.ts) and the TextVae
 * (vae/text/model.ts) both are one. run() is the forward pass, the objective and (train) the
 * backward pass that writes params.grads.
 */
export interface Trainable {
  readonly params: ParameterSet;
  readonly backend: Backend;
  /** Classes of a conditional model (0: unconditional). */
  readonly classes: number;
  /** Values per example. */
  readonly pixels: number;
  /** Latent dimensions (0: a model without a latent code, a language model). */
  readonly latent: number;
  /** The shape of one example the model takes. */
  readonly inputShape: readonly number[];
  reserve(rows: number): void;
  setPrecision(precision: Precision): void;
  /** Throws when the model cannot train with this objective and batch size. */
  checkObjective(objective: Objective, batchSize: number): void;
  /** `mask` [rows, D]: which values were observed (1) or are missing (0), for data that has one (series); models without a use for it leave it out. */
  run(input: Float32Array, target: Float32Array, rows: number, objective: Objective, rng: Random | null, train: boolean, labels: Labels,
    mask?: Uint8Array | null): LossParts;
}

/** What a validation gives: the objective's parts, and for models that have them the text measures (eval/text.ts). */
export interface ValidationParts extends LossParts {
  /** exp(negative ELBO (beta 1) / tokens): a bound on the perplexity per token. */
  perplexity?: number;
  /** Mutual information I(x; z) in nats (eval/latent-usage.ts). */
  mi?: number;
  /** Latent dimensions in use (eval/latent-usage.ts). */
  activeUnits?: number;
}
