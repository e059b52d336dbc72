/** Weight initialization shared by the layers. */
import type { Random } from '../engine/random.js';

/** Glorot (Xavier) uniform: U(-l, l) with l = sqrt(6 / (fanIn + fanOut)), Keras' default for kernels. */
export function glorotUniform(values: Float32Array, fanIn: number, fanOut: number, rng: Random): void {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < values.length; i++) values[i] = (2 * rng.uniform() - 1) * limit;
}
