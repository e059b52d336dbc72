/**
 * Training objectives.
 * - 'elbo': the negative evidence lower bound per image, -E_q[log p(x|z)] + beta * KL(q(z|x) || N(0, I)),
 *   in nats, with the model's likelihood (one reparameterized sample per image).
 * - 'notebook-mse': reproduces the notebook; not a VAE objective. Mean squared error per pixel between
 *   the decoder's sigmoid output and the clean image, with no KL term (the sample is still drawn).
 */
import { VaekitError } from '../errors.js';

export type LossName = 'elbo' | 'notebook-mse';
export const LOSSES: readonly LossName[] = ['elbo', 'notebook-mse'];

export interface Objective {
  loss: LossName;
  /** Weight of the KL term in the ELBO (ignored by notebook-mse). */
  beta: number;
}

export const DEFAULT_OBJECTIVE: Readonly<Objective> = { loss: 'elbo', beta: 1 };

export const LOSS_DESCRIPTIONS: Readonly<Record<LossName, string>> = {
  elbo: 'negative ELBO: reconstruction negative log-likelihood + beta * KL, nats per image',
  'notebook-mse': 'reproduces the notebook; not a VAE objective (mean squared error per pixel, no KL)',
};

export function parseLoss(text: string): LossName {
  if ((LOSSES as readonly string[]).includes(text)) return text as LossName;
  throw new VaekitError(`Unknown loss "${text}": use "elbo" (the VAE objective) or "notebook-mse" (reproduces the notebook; not a VAE objective).`);
}

/** Per-batch means of the objective and its parts. */
export interface LossParts {
  /** The objective being minimised. */
  loss: number;
  /** Reconstruction term: negative log-likelihood in nats (elbo) or mean squared error per pixel (notebook-mse). */
  recon: number;
  /** KL(q(z|x) || N(0, I)) in nats, reported for both objectives. */
  kl: number;
}
