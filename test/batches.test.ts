import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher, shuffledOrder } from '../src/data/batches.js';
import { toBytes } from '../src/io/rows.js';
import { arrayDataset } from '../src/data/dataset.js';
import { applyNoise } from '../src/data/transforms/noise.js';
import { binarize } from '../src/data/transforms/binarize.js';

/** The old byte-batching call, through a dataset's gather. */
function gatherBatch(bytes: Uint8Array, pixels: number, order: Uint32Array | null, start: number, count: number, out: Float32Array): void {
  arrayDataset({ values: bytes, shape: [pixels], source: 'bytes' }).gather(order, start, count, out);
}
import { Random } from '../src/engine/random.js';

// Three images of two pixels each.
const images = new Uint8Array([0, 255, 51, 102, 153, 204]);

test('gatherBatch in identity order scales bytes to [0, 1] by dividing by 255', () => {
  const out = new Float32Array(6);
  gatherBatch(images, 2, null, 0, 3, out);
  assert.deepEqual(Array.from(out), [0, 1, 0.2, 0.4, 0.6, 0.8].map((v) => Math.fround(v)));
  for (let b = 0; b < 256; b++) {
    const one = new Float32Array(1);
    gatherBatch(new Uint8Array([b]), 1, null, 0, 1, one);
    assert.equal(one[0], Math.fround(b / 255));
  }
});

test('gatherBatch follows the order from start, writing only count rows', () => {
  const out = new Float32Array(8).fill(-1);
  const order = new Uint32Array([2, 0, 1]);
  gatherBatch(images, 2, order, 1, 2, out);
  assert.deepEqual(Array.from(out), [0, 1, 0.2, 0.4, -1, -1, -1, -1].map((v) => Math.fround(v)));
  gatherBatch(images, 2, null, 2, 1, out);
  assert.deepEqual(Array.from(out.subarray(0, 2)), [0.6, 0.8].map((v) => Math.fround(v)));
});

test('gatherBatch rejects out-of-range requests instead of writing NaN', () => {
  assert.throws(() => gatherBatch(images, 2, null, 2, 2, new Float32Array(4)), RangeError);
  assert.throws(() => gatherBatch(images, 2, new Uint32Array([0, 3]), 0, 2, new Float32Array(4)), RangeError);
  assert.throws(() => gatherBatch(images, 2, null, 0, 3, new Float32Array(5)), RangeError);
});

test('shuffledOrder is a permutation, reproducible from the seed, and actually shuffled', () => {
  const order = shuffledOrder(1000, new Random(7));
  assert.equal(order.length, 1000);
  assert.deepEqual(Array.from(order).sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(shuffledOrder(1000, new Random(7)), order);
  assert.notDeepEqual(shuffledOrder(1000, new Random(8)), order);
  let fixedPoints = 0;
  order.forEach((v, i) => {
    if (v === i) fixedPoints++;
  });
  assert.ok(fixedPoints < 10, `${fixedPoints} of 1000 indices stayed in place`);
  assert.equal(shuffledOrder(0, new Random(1)).length, 0);
});

test('shuffledOrder draws from the given generator, so successive epochs differ', () => {
  const rng = new Random(3);
  assert.notDeepEqual(shuffledOrder(100, rng), shuffledOrder(100, rng));
});

test('toBytes rounds, clips and maps NaN to 0', () => {
  const values = new Float32Array([0, 1, 0.5, 0.2, 1 / 255, 0.499 / 255, -0.3, 1.7, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
  assert.deepEqual(Array.from(toBytes(values)), [0, 255, 128, 51, 1, 0, 0, 255, 0, 255, 0]);
});

test('toBytes inverts the scaling of gatherBatch for every byte', () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const floats = new Float32Array(256);
  gatherBatch(all, 256, null, 0, 1, floats);
  assert.deepEqual(toBytes(floats), all);
});

test('a Batcher pass gathers, binarizes and corrupts each batch as the transforms say, with labels, in the given order', () => {
  const n = 10;
  const size = 6;
  const values = Uint8Array.from({ length: n * size }, (_, i) => (i * 37) % 256);
  const set = arrayDataset({ values, shape: [1, size, 1], labels: Int32Array.from({ length: n }, (_, i) => i % 4), labelNames: ['a', 'b', 'c', 'd'], source: 't' });
  const order = shuffledOrder(n, new Random(5));
  const t = { binarize: true, noise: { kind: 'gaussian', factor: 0.3 } as const, seed: 11, binarizeKey: 2, noiseKey: 3 };
  const batches = [...new Batcher(set, 4).pass(order, t)].length;
  assert.equal(batches, 3);
  let start = 0;
  for (const b of new Batcher(set, 4).pass(order, t)) {
    assert.equal(b.start, start);
    const idx = order.subarray(start, start + b.rows);
    assert.deepEqual(Array.from(b.indices), Array.from(idx));
    const clean = new Float32Array(b.rows * size);
    for (let r = 0; r < b.rows; r++) for (let j = 0; j < size; j++) clean[r * size + j] = values[idx[r]! * size + j]! / 255;
    binarize(clean, clean, b.rows, size, idx, 11, 2);
    const noisy = new Float32Array(clean.length);
    applyNoise(t.noise, clean, noisy, b.rows, size, idx, 11, 3);
    assert.deepEqual(Array.from(b.target.subarray(0, b.rows * size)), Array.from(clean));
    assert.deepEqual(Array.from(b.input.subarray(0, b.rows * size)), Array.from(noisy));
    assert.deepEqual(Array.from(b.labels!.subarray(0, b.rows)), Array.from(idx, (i) => i % 4));
    start += b.rows;
  }
  assert.equal(start, n);
});

test('a Batcher refuses binarization and salt-and-pepper noise on features', () => {
  const set = arrayDataset({ values: new Float32Array(8), shape: [4], source: 'table' });
  const t = { binarize: true, noise: { kind: 'none' } as const, seed: 0, binarizeKey: 0, noiseKey: 0 };
  assert.throws(() => [...new Batcher(set, 2).pass(null, t)], /Binarization needs values in \[0, 1\]/);
  assert.throws(() => [...new Batcher(set, 2).pass(null, { ...t, binarize: false, noise: { kind: 'salt-and-pepper', probability: 0.1 } })], /Salt-and-pepper noise/);
});
