import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatherBatch, shuffledOrder, toBytes } from '../src/data/batches.js';
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
