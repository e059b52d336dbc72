/**
 * Dynamic binarization (Salakhutdinov & Murray 2008; the setting of the published MNIST likelihood
 * numbers): each pixel becomes 1 with probability equal to its intensity, redrawn every epoch. Like
 * the noise, each image's draws come from its own generator seeded from (seed, epochKey, image), so
 * they do not depend on batch order; epochKey 0 gives one fixed binarization (the test set's). The
 * draws run on the backend (both give the same bits).
 */
import type { Backend } from '../../engine/backend.js';
import { getBackend } from '../../engine/index.js';
import { mix32 } from '../../engine/random.js';

export function binarizeSeed(seed: number, epochKey: number, imageIndex: number): number {
  const base = mix32((mix32((seed ^ 0x62696e61) >>> 0) + Math.imul(epochKey, 0x2545f491)) >>> 0);
  return mix32((base + Math.imul(imageIndex, 0x9e3779b9)) >>> 0);
}

/** out[r, j] = 1 if u < clean[r, j] else 0, u uniform in [0, 1) from image imageIndex[r]'s generator. out may alias clean. */
export function binarize(clean: Float32Array, out: Float32Array, rows: number, pixels: number,
  imageIndex: ArrayLike<number>, seed: number, epochKey: number, backend: Backend = getBackend()): void {
  if (rowSeeds.length < rows) rowSeeds = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) rowSeeds[r] = binarizeSeed(seed >>> 0, epochKey >>> 0, imageIndex[r]! >>> 0);
  backend.binarize(clean, out, rows, pixels, rowSeeds);
}

/** Reused between calls: the per-image seeds of the current batch. */
let rowSeeds = new Uint32Array(0);
