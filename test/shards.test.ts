/**
 * The data-parallel step (src/train/shards.ts) against a plain oracle: each shard's rows run
 * through a second copy of the model with the shard's own generator, their gradients and losses
 * weighted by the shards' rows and summed in double. The step must give exactly that, on one
 * thread and on worker threads, with labels and a mask sliced with the rows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend } from '../src/engine/backend.js';
import { JsBackend } from '../src/engine/js-backend.js';
import { Random } from '../src/engine/random.js';
import { VaekitError } from '../src/errors.js';
import { ShardedStep, checkShards, shardRows, type ShardBatch } from '../src/train/shards.js';
import { resolveFitOptions } from '../src/train/fit.js';
import { presetConfig, type VaeConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';
import { resolveObjective, type Objective } from '../src/vae/objective.js';
import { nativeOrReason } from './helpers/native.js';
import { sameBits } from './helpers/assert-close.js';

const nativeOrSkip = nativeOrReason();
const native = typeof nativeOrSkip === 'string' ? null : nativeOrSkip;
const skipNative = typeof nativeOrSkip === 'string' ? nativeOrSkip : false;

/** A conditional series model with a mask: labels and the mask must follow their rows into each shard. */
const CONFIG: VaeConfig = presetConfig('series', {
  inputShape: [12], sequence: { length: 6, channels: 2 }, encoderHidden: [7], decoderHidden: [5], latent: 3, classes: 3,
});

function batchOf(rows: number, D: number, seed: number): ShardBatch {
  const rng = new Random(seed);
  const input = new Float32Array(rows * D);
  rng.fillNormal(input, input.length);
  const mask = Uint8Array.from({ length: rows * D }, () => (rng.uniform() < 0.8 ? 1 : 0));
  for (let i = 0; i < input.length; i++) if (mask[i] === 0) input[i] = 0;
  const labels = Int32Array.from({ length: rows }, (_, r) => (r * 7) % 3);
  return { input, target: input.slice(), rows, labels, mask };
}

/** The oracle: every shard through `copy` (the same weights), weighted and summed in double. */
function oracle(copy: Vae, batch: ShardBatch, shards: number, objective: Objective, seed: number): { grads: Float32Array; loss: number; kl: number } {
  const D = copy.pixels;
  const q = shardRows(batch.rows, shards);
  const sum = new Float64Array(copy.params.count);
  let loss = 0;
  let kl = 0;
  for (let s = 0; s * q < batch.rows; s++) {
    const [r0, r1] = [s * q, Math.min(batch.rows, (s + 1) * q)];
    const w = (r1 - r0) / batch.rows;
    const p = copy.run(batch.input.slice(r0 * D, r1 * D), batch.target.slice(r0 * D, r1 * D), r1 - r0, objective, new Random(seed).fork(s), true,
      batch.labels!.slice(r0, r1), batch.mask!.slice(r0 * D, r1 * D));
    for (let i = 0; i < sum.length; i++) sum[i] += w * copy.params.grads[i]!;
    loss += w * p.loss;
    kl += w * p.kl;
  }
  return { grads: Float32Array.from(sum), loss, kl };
}

const backends: [string, Backend | null][] = [['js', new JsBackend()], ['native', native]];
for (const [name, backend] of backends) {
  for (const threads of [1, 2]) {
    test(`the ${name} backend's sharded step on ${threads} thread(s) equals the shards summed by hand`, { skip: backend === null ? skipNative : false }, async () => {
      const vae = new Vae(CONFIG, { backend: backend!, seed: 5 });
      const copy = new Vae(CONFIG, { backend: backend!, seed: 5 });
      const objective = resolveObjective({ loss: 'elbo', beta: 0.7 });
      const batch = batchOf(10, vae.pixels, 9);
      // 10 rows in 3 shards: 4, 4 and 2 rows.
      const step = await ShardedStep.start(vae, { shards: 3, threads, batchSize: 10, precision: 'fp32', hasLabels: true, hasMask: true });
      try {
        assert.equal(step.threads, threads);
        const parts = step.run(batch, objective, 1234);
        const want = oracle(copy, batch, 3, objective, 1234);
        assert.deepEqual(vae.params.grads, want.grads);
        assert.ok(Math.abs(parts.loss - want.loss) <= 1e-12 * Math.abs(want.loss), `${parts.loss} vs ${want.loss}`);
        assert.ok(Math.abs(parts.kl - want.kl) <= 1e-12 * Math.abs(want.kl) + 1e-15);
        assert.ok(vae.params.grads.some((g) => g !== 0), 'some gradient is not zero');
        // A smaller last batch: 5 rows in 3 shards of 2, 2 and 1.
        const small = batchOf(5, vae.pixels, 10);
        step.run(small, objective, 99);
        assert.deepEqual(vae.params.grads, oracle(copy, small, 3, objective, 99).grads);
      } finally {
        await step.close();
      }
      assert.ok(!(vae.params.values.buffer instanceof SharedArrayBuffer), 'the weights are the model\'s own again');
    });
  }
}

test('a worker thread reads the weights the main thread writes', { skip: skipNative }, async () => {
  const vae = new Vae(CONFIG, { backend: native!, seed: 5 });
  const copy = new Vae(CONFIG, { backend: native!, seed: 5 });
  const objective = resolveObjective({});
  const batch = batchOf(8, vae.pixels, 3);
  const step = await ShardedStep.start(vae, { shards: 2, threads: 2, batchSize: 8, precision: 'fp32', hasLabels: true, hasMask: true });
  try {
    // Change the weights (as Adam does, in place) after the workers started: shard 1 runs on the worker.
    for (const v of [vae.params.values, copy.params.values]) for (let i = 0; i < v.length; i++) v[i] = v[i]! * 0.5 + 0.01;
    step.run(batch, objective, 7);
    assert.deepEqual(vae.params.grads, oracle(copy, batch, 2, objective, 7).grads);
  } finally {
    await step.close();
  }
});

test('sumShards adds each element\'s shards in double, in shard order, on both backends', () => {
  // Sizes around the native kernel's blocks of 64 elements, and one large enough for the pool.
  for (const backend of backends.map(([, b]) => b).filter((b): b is Backend => b !== null)) {
    for (const shards of [1, 2, 3, 8]) {
      for (const n of [1, 63, 64, 65, 130, 100_003]) {
        const rng = new Random(n * 31 + shards);
        const stacked = new Float32Array(shards * n);
        rng.fillNormal(stacked, stacked.length);
        // Every 7th element cancels: +1e20 and -1e20 in shards 0 and 1 (equal shares), then small
        // values, whose sum survives only when shards 0 and 1 are added first.
        for (let i = 0; i < n && shards >= 3; i += 7) [stacked[i], stacked[n + i]] = [1e20, -1e20];
        // Shares of a batch of 128 as the step makes them (43, 43 and 42 rows of 3 shards, ...).
        const q = Math.ceil(128 / shards);
        const weights = Float64Array.from({ length: shards }, (_, s) => (Math.min(128, (s + 1) * q) - s * q) / 128);
        const out = new Float32Array(n).fill(Number.NaN);
        backend.sumShards(stacked, weights, shards, n, out);
        const want = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          let acc = 0;
          for (let s = 0; s < shards; s++) acc += weights[s]! * stacked[s * n + i]!;
          want[i] = acc;
        }
        assert.ok(sameBits(out, want), `${backend.name}, ${shards} shards of ${n}: not the sums in shard order`);
      }
    }
  }
});

test('the number of shards is checked in one sentence', () => {
  assert.throws(() => checkShards(0, 128), (e: unknown) => e instanceof VaekitError && /whole number from 1 to 64, not 0\./.test(e.message));
  assert.throws(() => checkShards(65, 128), /from 1 to 64, not 65/);
  assert.throws(() => checkShards(2.5, 128), /not 2\.5/);
  assert.throws(() => checkShards(8, 4), /A batch of 4 cannot be cut into 8 shards: use at most 4\./);
  assert.throws(() => resolveFitOptions({ shards: 3, batchSize: 2 }), /cannot be cut into 3 shards/);
  assert.throws(() => resolveFitOptions({ threads: 0 }), /The number of threads must be a positive integer, not 0\./);
  assert.doesNotThrow(() => checkShards(64, 64));
});
