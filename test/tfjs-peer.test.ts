import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTfjsPeer, type PeerBackend } from '../bench/tfjs-peer.js';
import { Random } from '../src/engine/random.js';

const BATCH = 16;

/** One batch of sparse MNIST-like images: about a fifth of the pixels lit, the rest 0. */
function sparseImages(count: number, seed: number): Float32Array {
  const rng = new Random(seed);
  const images = new Float32Array(count * 784);
  for (let i = 0; i < images.length; i++) images[i] = rng.uniform() < 0.2 ? rng.uniform() : 0;
  return images;
}

const images = sparseImages(BATCH, 7);
const initialLoss = new Map<PeerBackend, number>();

for (const backend of ['wasm', 'cpu'] as const) {
  test(`tfjs peer on ${backend}: times the seed step and training on one repeated batch lowers the loss`, async () => {
    // count = batch size: every step sees the same images (with fresh noise and eps).
    const first = await runTfjsPeer({ backend, steps: 1, warmup: 0, batchSize: BATCH, images, count: BATCH, seed: 0 });
    assert.ok(Number.isFinite(first.finalLoss) && first.finalLoss > 0, `initial loss ${first.finalLoss}`);
    initialLoss.set(backend, first.finalLoss);

    const trained = await runTfjsPeer({ backend, steps: 5, warmup: 1, batchSize: BATCH, images, count: BATCH, seed: 0 });
    assert.equal(trained.backend, backend);
    assert.equal(trained.steps, 5);
    assert.equal(trained.batchSize, BATCH);
    assert.ok(trained.seconds > 0 && Number.isFinite(trained.samplesPerSecond) && trained.samplesPerSecond > 0);
    assert.ok(Number.isFinite(trained.finalLoss) && trained.finalLoss > 0, `trained loss ${trained.finalLoss}`);
    // Six Adam steps take the negative ELBO from about 554 to about 412 nats; no training would leave it near 554.
    assert.ok(trained.finalLoss < 0.9 * first.finalLoss, `loss went from ${first.finalLoss} to ${trained.finalLoss}`);
    if (backend === 'wasm') {
      assert.ok(trained.threads !== null && trained.threads >= 1, `wasm threads ${trained.threads}`);
      assert.ok(trained.wasmVariant !== undefined);
    } else {
      assert.equal(trained.threads, 1);
    }
  });
}

test('tfjs peer: wasm and cpu compute the same first loss from the same seed', () => {
  const wasm = initialLoss.get('wasm');
  const cpu = initialLoss.get('cpu');
  assert.ok(wasm !== undefined && cpu !== undefined, 'the per-backend tests ran first');
  assert.ok(Math.abs(wasm - cpu) <= 1e-4 * Math.abs(cpu), `wasm ${wasm} vs cpu ${cpu}`);
});

test('tfjs peer: rejects images shorter than count * 784', async () => {
  await assert.rejects(runTfjsPeer({ backend: 'cpu', steps: 1, images: new Float32Array(784), count: 2 }), /fewer than count/);
});
