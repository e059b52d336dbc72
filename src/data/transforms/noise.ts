/**
 * The noise models of a denoising VAE: the encoder sees a corrupted example and the decoder is
 * scored against the clean one.
 *   gaussian:S         x + S * N(0, 1), clipped to [0, 1] for images (the notebook's noise); in
 *                      standardized units, unclipped, for features
 *   salt-and-pepper:P  each value replaced with probability P, by 0 or 1 with equal odds (images)
 *   masking:P          each value set to 0 with probability P (for standardized features: the mean)
 *   none               the example as it is
 * Every example's noise comes from its own generator seeded from (seed, epochKey, example index),
 * so it does not depend on batch order; epochKey 0 means "the same noise every epoch".
 */
import { VaekitError } from '../../errors.js';
import type { Backend } from '../../engine/backend.js';
import { getBackend } from '../../engine/index.js';
import { mix32, Random } from '../../engine/random.js';

export type NoiseSpec =
  | { kind: 'none' }
  | { kind: 'gaussian'; factor: number }
  | { kind: 'salt-and-pepper'; probability: number }
  | { kind: 'masking'; probability: number };

/** Values in [0, 1] (images: gaussian noise is clipped) or real numbers (standardized features). */
export type ValueRange = 'unit' | 'real';

export const DEFAULT_NOISE: Readonly<NoiseSpec> = Object.freeze({ kind: 'gaussian', factor: 0.2 });
export const NOISE_HELP = '"gaussian:S", "salt-and-pepper:P", "masking:P" or "none"';
/** A plain decimal number such as 0.2, .5, 3 or 1e-3 (no sign, spaces, hex or words). */
const DECIMAL_NUMBER = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Parses 'none', 'gaussian' (factor 0.2), 'gaussian:S', 'salt-and-pepper:P' or 'masking:P'. */
export function parseNoise(text: string): NoiseSpec {
  if (text === 'none') return { kind: 'none' };
  if (text === 'gaussian') return { kind: 'gaussian', factor: 0.2 };
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const valueText = text.slice(colon + 1);
  const value = DECIMAL_NUMBER.test(valueText) ? Number(valueText) : NaN;
  if (kind === 'gaussian' && colon >= 0) {
    if (!Number.isFinite(value) || value < 0) {
      throw new VaekitError(`Invalid noise factor "${valueText}" in "${text}": use a finite number >= 0, e.g. "gaussian:0.2".`);
    }
    return { kind: 'gaussian', factor: value };
  }
  if ((kind === 'salt-and-pepper' || kind === 'masking') && colon >= 0) {
    if (!(value >= 0 && value <= 1)) {
      throw new VaekitError(`Invalid noise probability "${valueText}" in "${text}": use a number from 0 to 1, e.g. "${kind}:0.1".`);
    }
    return { kind, probability: value };
  }
  throw new VaekitError(`Unknown noise "${text}": use ${NOISE_HELP}, e.g. "gaussian:0.2".`);
}

/** The text that parseNoise turns back into `spec`. */
export function formatNoise(spec: NoiseSpec): string {
  switch (spec.kind) {
    case 'none': return 'none';
    case 'gaussian': return `gaussian:${spec.factor}`;
    default: return `${spec.kind}:${spec.probability}`;
  }
}

/** Throws when a noise model does not fit the data's values. */
export function checkNoiseFits(spec: NoiseSpec, range: ValueRange): void {
  if (spec.kind === 'salt-and-pepper' && range === 'real') {
    throw new VaekitError('Salt-and-pepper noise sets values to 0 or 1, which only images have: use "gaussian:S" or "masking:P" for features.');
  }
}

/**
 * The seed of one example's noise generator. For a fixed (seed, epochKey) it is a bijection of the
 * example index, so no two examples of one epoch share a noise pattern.
 */
function exampleNoiseSeed(seed: number, epochKey: number, index: number): number {
  const base = mix32((mix32((seed ^ 0x6e6f6973) >>> 0) + Math.imul(epochKey, 0x2545f491)) >>> 0);
  return mix32((base + Math.imul(index, 0x9e3779b9)) >>> 0);
}

/**
 * Writes noisy versions of `rows` clean examples (each `size` values) into out, each example's
 * noise drawn from its own generator (see above); `out` may be `clean` itself. Gaussian noise on
 * images runs on the backend (both cores on the native one).
 */
export function applyNoise(
  spec: NoiseSpec,
  clean: Float32Array,
  out: Float32Array,
  rows: number,
  size: number,
  exampleIndex: ArrayLike<number>,
  seed: number,
  epochKey: number,
  backend: Backend = getBackend(),
  range: ValueRange = 'unit',
): void {
  const n = rows * size;
  if (clean.length < n || out.length < n) {
    throw new RangeError(`applyNoise: ${rows} rows of ${size} values need ${n} values, but clean has ${clean.length} and out has ${out.length}.`);
  }
  if (spec.kind === 'none' || (spec.kind === 'gaussian' ? spec.factor : spec.probability) === 0) {
    if (out !== clean) out.set(clean.subarray(0, n));
    return;
  }
  if (exampleIndex.length < rows) {
    throw new RangeError(`applyNoise: ${rows} rows need ${rows} example indices, but ${exampleIndex.length} were given.`);
  }
  checkNoiseFits(spec, range);
  if (rowSeeds.length < rows) rowSeeds = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) rowSeeds[r] = exampleNoiseSeed(seed >>> 0, epochKey >>> 0, exampleIndex[r]! >>> 0);
  if (spec.kind === 'gaussian' && range === 'unit') {
    backend.gaussianNoise(clean, out, rows, size, rowSeeds, spec.factor);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const rng = new Random(rowSeeds[r]!);
    const end = (r + 1) * size;
    if (spec.kind === 'gaussian') {
      for (let i = r * size; i < end; i++) out[i] = clean[i]! + spec.factor * rng.normal();
    } else if (spec.kind === 'masking') {
      for (let i = r * size; i < end; i++) out[i] = rng.uniform() < spec.probability ? 0 : clean[i]!;
    } else {
      // One draw per value: u < P/2 -> 0 (pepper), u < P -> 1 (salt), else unchanged.
      const half = spec.probability / 2;
      for (let i = r * size; i < end; i++) {
        const u = rng.uniform();
        out[i] = u < half ? 0 : u < spec.probability ? 1 : clean[i]!;
      }
    }
  }
}

/** Reused between calls: the per-example seeds of the current batch. */
let rowSeeds = new Uint32Array(0);
