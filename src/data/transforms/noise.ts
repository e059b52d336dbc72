/**
 * The noise model of the denoising VAE: the network sees a corrupted image and learns to output the
 * clean one. Gaussian noise follows the notebook: noisy = clip(clean + factor * N(0, 1), 0, 1).
 */
import { VaekitError } from '../errors.js';
import type { Backend } from '../engine/backend.js';
import { getBackend } from '../engine/index.js';
import { mix32 } from '../engine/random.js';

export type NoiseSpec = { kind: 'none' } | { kind: 'gaussian'; factor: number };

const DEFAULT_GAUSSIAN_FACTOR = 0.2;
/** A plain decimal number such as 0.2, .5, 3 or 1e-3 (no sign, spaces, hex or words). */
const DECIMAL_NUMBER = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Parses 'none', 'gaussian' (factor 0.2) or 'gaussian:FACTOR'. */
export function parseNoise(text: string): NoiseSpec {
  if (text === 'none') return { kind: 'none' };
  if (text === 'gaussian') return { kind: 'gaussian', factor: DEFAULT_GAUSSIAN_FACTOR };
  if (text.startsWith('gaussian:')) {
    const factorText = text.slice('gaussian:'.length);
    const factor = DECIMAL_NUMBER.test(factorText) ? Number(factorText) : NaN;
    if (!Number.isFinite(factor) || factor < 0) {
      throw new VaekitError(`Invalid noise factor "${factorText}" in "${text}": use a finite number >= 0, e.g. "gaussian:0.2".`);
    }
    return { kind: 'gaussian', factor };
  }
  throw new VaekitError(`Unknown noise "${text}": use "none" or "gaussian:FACTOR", e.g. "gaussian:0.2".`);
}

/** The text that parseNoise turns back into `spec`. */
export function formatNoise(spec: NoiseSpec): string {
  return spec.kind === 'none' ? 'none' : `gaussian:${spec.factor}`;
}

/**
 * The seed of one image's noise generator. For a fixed (seed, epochKey) it is a bijection of the
 * image index, so no two images of one epoch share a noise pattern.
 */
function imageNoiseSeed(seed: number, epochKey: number, imageIndex: number): number {
  const base = mix32((mix32((seed ^ 0x6e6f6973) >>> 0) + Math.imul(epochKey, 0x2545f491)) >>> 0);
  return mix32((base + Math.imul(imageIndex, 0x9e3779b9)) >>> 0);
}

/**
 * Writes noisy versions of `rows` clean images (each `pixels` floats in [0,1]) into out:
 * out = clip(clean + factor * N(0,1), 0, 1), or a copy for 'none'. The noise of each image is
 * drawn from its own generator seeded from (seed, epochKey, imageIndex[r]), so it does not depend
 * on batch order; epochKey 0 means "the same noise every epoch" (the notebook's draw-once), and
 * the trainer passes epoch+1 to redraw every epoch. `out` may be `clean` itself.
 */
export function applyNoise(
  spec: NoiseSpec,
  clean: Float32Array,
  out: Float32Array,
  rows: number,
  pixels: number,
  imageIndex: ArrayLike<number>,
  seed: number,
  epochKey: number,
  backend: Backend = getBackend(),
): void {
  const n = rows * pixels;
  if (clean.length < n || out.length < n) {
    throw new RangeError(`applyNoise: ${rows} rows of ${pixels} pixels need ${n} values, but clean has ${clean.length} and out has ${out.length}.`);
  }
  if (spec.kind === 'none' || spec.factor === 0) {
    if (out !== clean) out.set(clean.subarray(0, n));
    return;
  }
  if (imageIndex.length < rows) {
    throw new RangeError(`applyNoise: ${rows} rows need ${rows} image indices, but ${imageIndex.length} were given.`);
  }
  if (rowSeeds.length < rows) rowSeeds = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) rowSeeds[r] = imageNoiseSeed(seed >>> 0, epochKey >>> 0, imageIndex[r]! >>> 0);
  backend.gaussianNoise(clean, out, rows, pixels, rowSeeds, spec.factor);
}

/** Reused between calls: the per-image seeds of the current batch. */
let rowSeeds = new Uint32Array(0);
