/**
 * Missing-point injection (Donut, Xu et al. 2018): in training, each observed value of a window is
 * made missing with chance `rate` (its input value 0 and its mask 0, so the encoder does not see it
 * and the reconstruction term does not score it), which teaches the model to reconstruct points it
 * cannot see. Like the noise, each example's draws come from its own generator seeded from (seed,
 * key, example index), so they do not depend on batch order and a resumed run draws the same ones;
 * the trainer passes the epoch as the key.
 */
import { mix32, Random } from '../../engine/random.js';
import { VaekitError } from '../../errors.js';

/** Missing-point injection's default rate for series data (Donut's 0.01). */
export const DEFAULT_MISSING_RATE = 0.01;

export interface MissingInjection {
  /** The chance that each observed value becomes missing, 0 <= rate < 1. */
  rate: number;
  /** Seed of the per-example generators. */
  seed: number;
  /** The draw key (the trainer passes the epoch). */
  key: number;
}

/** Throws unless 0 <= rate < 1. */
export function checkMissingRate(rate: number): void {
  if (!(rate >= 0 && rate < 1)) throw new VaekitError(`The missing-point injection rate must be a number from 0 up to (not including) 1, not ${rate}.`);
}

function missingSeed(seed: number, key: number, index: number): number {
  const base = mix32((mix32((seed ^ 0x6d697373) >>> 0) + Math.imul(key, 0x2545f491)) >>> 0);
  return mix32((base + Math.imul(index, 0x9e3779b9)) >>> 0);
}

/**
 * Makes each observed value (mask 1) of `rows` examples of `size` values missing with chance
 * m.rate: input 0 and mask 0. One uniform draw per value, observed or not, from example
 * exampleIndex[r]'s generator.
 */
export function injectMissing(m: MissingInjection, input: Float32Array, mask: Uint8Array, rows: number, size: number,
  exampleIndex: ArrayLike<number>): void {
  if (m.rate === 0) return;
  for (let r = 0; r < rows; r++) {
    const rng = new Random(missingSeed(m.seed >>> 0, m.key >>> 0, exampleIndex[r]! >>> 0));
    for (let i = r * size; i < (r + 1) * size; i++) {
      if (rng.uniform() < m.rate && mask[i] === 1) {
        mask[i] = 0;
        input[i] = 0;
      }
    }
  }
}
