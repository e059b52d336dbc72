/**
 * Batching: gathering a batch of byte images into a reused float buffer, shuffled epoch orders, and
 * the way back from floats to bytes.
 */
import type { Backend } from '../engine/backend.js';
import { getBackend } from '../engine/index.js';
import type { Random } from '../engine/random.js';

/**
 * out[r*pixels + j] = images[order[start+r]*pixels + j] / 255 for r < count (order null means
 * identity). The conversion runs on the backend (both cores on the native one).
 */
export function gatherBatch(
  images: Uint8Array,
  pixels: number,
  order: Uint32Array | null,
  start: number,
  count: number,
  out: Float32Array,
  backend: Backend = getBackend(),
): void {
  if (out.length < count * pixels) {
    throw new RangeError(`gatherBatch: ${count} images of ${pixels} pixels need ${count * pixels} values, but out has ${out.length}.`);
  }
  const available = order === null ? Math.floor(images.length / pixels) : order.length;
  if (start < 0 || start + count > available) {
    throw new RangeError(`gatherBatch: images ${start}..${start + count - 1} are out of range (0..${available - 1}).`);
  }
  backend.gatherBytes(images, order, start, count, pixels, 255, out);
}

/** A shuffled permutation of 0..count-1 drawn from rng. */
export function shuffledOrder(count: number, rng: Random): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  rng.shuffle(order);
  return order;
}

/** Bytes from floats in [0,1] (rounded, clipped; NaN becomes 0). */
export function toBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
  }
  return out;
}
