/**
 * Denoising a dataset with a trained model: each example corrupted by the noise model (the same
 * draws as the evaluation's for the seed; "none" for inputs that are already noisy) and decoded
 * from its posterior mean.
 */
import type { Dataset } from '../data/dataset.js';
import type { NoiseSpec } from '../data/transforms/noise.js';
import { evalBatches } from '../data/inference.js';
import { labelsFor, type Vae } from '../vae/model.js';

export interface Denoised {
  /** [count, size] what the model saw. */
  noisy: Float32Array;
  /** [count, size] the decoded posterior means. */
  denoised: Float32Array;
  count: number;
}

export function denoiseDataset(vae: Vae, set: Dataset, options: { noise: NoiseSpec; seed: number }): Denoised {
  const size = set.size;
  const noisy = new Float32Array(set.count * size);
  const denoised = new Float32Array(set.count * size);
  for (const b of evalBatches(set, options, undefined, vae.backend)) {
    const span = [b.start * size, (b.start + b.rows) * size] as const;
    noisy.set(b.input.subarray(0, b.rows * size), span[0]);
    vae.reconstructBatch(b.input, b.rows, null, denoised.subarray(...span), labelsFor(vae, b.labels));
  }
  return { noisy, denoised, count: set.count };
}
