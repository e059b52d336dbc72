// What the export tests share: models with every bias random, and the largest difference of two outputs.
import assert from 'node:assert/strict';
import { Random } from '../../src/engine/random.js';
import { presetConfig, type VaeOverrides } from '../../src/vae/config.js';
import { Vae } from '../../src/vae/model.js';

/** A model with random weights and random (non-zero) biases, so every term of every layer (and an encoder head's split) counts. */
export function randomModel(preset: string, overrides: VaeOverrides, seed: number): Vae {
  const vae = new Vae(presetConfig(preset, overrides), { seed });
  const rng = new Random(seed + 1000);
  for (const p of vae.params.list) {
    if (p.name.endsWith('.bias')) for (let i = 0; i < p.size; i++) p.value[i] = rng.uniform() - 0.5;
  }
  return vae;
}

/** max_i |a_i - b_i|; the lengths must agree. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
