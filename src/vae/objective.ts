/**
 * Training objectives (what they are, parsed and checked; objectives/ holds each one's forward and
 * backward passes), all per image and in nats, averaged over the batch:
 * - 'elbo': the negative evidence lower bound, -E_q[log p(x|z)] + beta * KL(q(z|x) || p(z)),
 *   with one reparameterized sample per image and the KL in closed form for the N(0, I) prior
 *   (-H[q] - log p(z) at the same sample for a learned mixture prior, prior.ts). With free bits lambda > 0
 *   the KL term is sum_d max(lambda, KL_d), KL_d being dimension d's KL averaged over the batch
 *   (Kingma et al. 2016), so no dimension is pushed below lambda nats.
 * - 'iwae': the importance-weighted bound with k samples (Burda et al. 2015),
 *   -log (1/k) sum_i p(x, z_i) / q(z_i | x); at k = 1 it is the ELBO with a sampled KL.
 * - 'notebook-mse': reproduces the notebook; not a VAE objective. Mean squared error per pixel between
 *   the decoder's sigmoid output and the clean image, with no KL term (the sample is still drawn).
 */
import { VaekitError } from '../errors.js';
import { inputSize, type VaeConfig } from './config.js';
import { checkSamplesFit } from './objectives/iwae.js';

export type LossName = 'elbo' | 'iwae' | 'notebook-mse';
export const LOSSES: readonly LossName[] = ['elbo', 'iwae', 'notebook-mse'];

export interface Objective {
  loss: LossName;
  /** Weight of the KL term in the ELBO (1 for the true bound; ignored by iwae and notebook-mse). */
  beta: number;
  /** Free bits: the floor, in nats, on each latent dimension's batch-mean KL (0: off; elbo only). */
  freeBits: number;
  /** Importance samples per image for 'iwae'. */
  samples: number;
  /** Text models: the chance that each decoder input token becomes <unk> in training (0: off). */
  wordDropout: number;
}

export const DEFAULT_OBJECTIVE: Readonly<Objective> = { loss: 'elbo', beta: 1, freeBits: 0, samples: 1, wordDropout: 0 };

export const LOSS_DESCRIPTIONS: Readonly<Record<LossName, string>> = {
  elbo: 'negative ELBO: reconstruction negative log-likelihood + beta * KL, nats per image',
  iwae: 'negative importance-weighted bound with k = objective.samples, nats per image',
  'notebook-mse': 'reproduces the notebook; not a VAE objective (mean squared error per pixel, no KL)',
};

export function parseLoss(text: string): LossName {
  if ((LOSSES as readonly string[]).includes(text)) return text as LossName;
  throw new VaekitError(`Unknown loss "${text}": use "elbo" (the VAE objective), "iwae" (importance-weighted) or "notebook-mse" (reproduces the notebook; not a VAE objective).`);
}

/** An objective with defaults filled in, checked. */
export function resolveObjective(input: Partial<Objective> = {}): Objective {
  const o: Objective = { ...DEFAULT_OBJECTIVE, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) };
  parseLoss(o.loss);
  if (!(o.beta >= 0) || !Number.isFinite(o.beta)) throw new VaekitError(`Beta must be a number >= 0, not ${o.beta}.`);
  if (!(o.freeBits >= 0) || !Number.isFinite(o.freeBits)) throw new VaekitError(`Free bits must be a number of nats >= 0, not ${o.freeBits}.`);
  if (!Number.isInteger(o.samples) || o.samples < 1) throw new VaekitError(`The number of importance samples must be a positive integer, not ${o.samples}.`);
  if (!(o.wordDropout >= 0 && o.wordDropout <= 1)) throw new VaekitError(`Word dropout must be a probability from 0 to 1, not ${o.wordDropout}.`);
  // Settings of one objective given to another would be silently ignored: refuse them.
  if (o.loss !== 'elbo' && o.freeBits > 0) throw new VaekitError(`Free bits apply to the elbo objective, not to ${o.loss}.`);
  if (o.loss !== 'elbo' && o.beta !== 1) throw new VaekitError(`Beta weighs the elbo objective's KL term; ${o.loss} has ${o.loss === 'iwae' ? 'no beta' : 'no KL term'}.`);
  if (o.loss !== 'iwae' && o.samples !== 1) throw new VaekitError(`Importance samples apply to the iwae objective, not to ${o.loss}.`);
  return o;
}

/** Throws when the objective needs something the model's config lacks, or (given a batch size) more memory than one buffer holds. */
export function checkObjectiveFits(objective: Objective, config: Pick<VaeConfig, 'prior' | 'inputShape'>, batchSize = 1): void {
  if (objective.wordDropout > 0) throw new VaekitError('Word dropout applies to text models, not to images or tables.');
  if (objective.loss === 'iwae') checkSamplesFit(batchSize, objective.samples, inputSize(config));
  if (objective.loss === 'elbo' && objective.freeBits > 0 && config.prior !== 'standard') {
    throw new VaekitError('Free bits need the standard normal prior: the KL to a mixture prior does not split into one term per latent dimension.');
  }
}

/** Per-batch means of the objective and its parts. */
export interface LossParts {
  /** The objective being minimised. */
  loss: number;
  /** Reconstruction term: negative log-likelihood in nats (mean over samples), or mean squared error per pixel (notebook-mse). */
  recon: number;
  /** KL(q(z|x) || p(z)) in nats, reported for every objective: closed form for N(0, I), a one-sample estimate for a learned prior. */
  kl: number;
}
