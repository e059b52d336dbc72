/**
 * Inference batching: the batches of one pass over a set in order, for everything that runs a
 * trained model over data (evaluation, encoding, anomaly scores, denoising, figures). The noise and
 * binarization of each example are fixed by (seed, example index), so every pass with the same seed
 * sees the same inputs, and they never share numbers with training's draws.
 */
import type { Backend } from '../engine/backend.js';
import { Batcher, type Batch, type BatchTransforms } from './batches.js';
import type { Dataset } from './dataset.js';
import type { NoiseSpec } from './transforms/noise.js';

/** Examples per batch of an inference pass. */
export const EVAL_BATCH = 500;

/** Stream offset so a pass's noise never shares numbers with training's. */
const TEST_NOISE_STREAM = 0x7e57;

/** What an inference pass does to its inputs. */
export interface PassOptions {
  noise: NoiseSpec;
  /** Binarize the examples (one fixed draw per example, from the seed) before the noise. */
  binarize?: boolean;
  /** Seed of the noise (and of whatever the pass samples). */
  seed: number;
}

/** The transforms of an inference pass: fixed draws (key 0) from the test noise stream. */
export function evalTransforms(options: PassOptions): BatchTransforms {
  return { binarize: options.binarize === true, noise: options.noise, seed: (options.seed ^ TEST_NOISE_STREAM) >>> 0, binarizeKey: 0, noiseKey: 0 };
}

/** The batches of one inference pass over a set, in order (see evalTransforms). */
export function evalBatches(set: Dataset, options: PassOptions, batchSize = EVAL_BATCH, backend?: Backend): Generator<Batch> {
  return new Batcher(set, batchSize, backend).pass(null, evalTransforms(options));
}
