/**
 * Encoding a dataset: the posterior mean (and log-variance) of every example, the VAE's use as
 * dimensionality reduction. Inputs are clean (no noise); binarized with one fixed draw when asked.
 */
import type { Dataset } from '../data/dataset.js';
import { EVAL_BATCH, evalBatches } from '../data/inference.js';
import { SILENT_TASK, type TaskProgress } from '../progress.js';
import { labelsFor, type Vae } from '../vae/model.js';

export interface EncodeOptions {
  /** Binarize the inputs (one fixed draw per example from the seed), as the model was trained. */
  binarize?: boolean;
  seed?: number;
  /** Also return the log-variances. */
  withLogvar?: boolean;
  progress?: TaskProgress;
}

export interface Codes {
  /** [count, latent] posterior means. */
  mean: Float32Array;
  /** [count, latent] posterior log-variances, or null when not asked for. */
  logvar: Float32Array | null;
  count: number;
  latent: number;
}

export function encodeDataset(vae: Vae, set: Dataset, options: EncodeOptions = {}): Codes {
  const L = vae.latent;
  const mean = new Float32Array(set.count * L);
  const logvar = options.withLogvar === true ? new Float32Array(set.count * L) : null;
  const progress = options.progress ?? SILENT_TASK;
  const transforms = { noise: { kind: 'none' } as const, binarize: options.binarize === true, seed: options.seed ?? 0 };
  for (const b of evalBatches(set, transforms, EVAL_BATCH, vae.backend)) {
    const meanLogvar = vae.encodeBatch(b.target, b.rows, labelsFor(vae, b.labels));
    for (let r = 0; r < b.rows; r++) {
      const o = r * 2 * L;
      mean.set(meanLogvar.subarray(o, o + L), (b.start + r) * L);
      logvar?.set(meanLogvar.subarray(o + L, o + 2 * L), (b.start + r) * L);
    }
    progress.update(b.start + b.rows);
  }
  return { mean, logvar, count: set.count, latent: L };
}
