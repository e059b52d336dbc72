import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arrayDataset, subset, takeFirst, type Dataset } from '../src/data/dataset.js';
import { loadIdx as loadImageIdx } from '../src/data/sources/idx.js';
import { loadMnist } from '../src/data/sources/mnist.js';
import { splitValidation } from '../src/data/split.js';
import { encodeIdx } from '../src/io/idx.js';
import { VaekitError } from '../src/errors.js';

function labelCounts(set: Dataset): number[] {
  const counts = new Array<number>(10).fill(0);
  assert.ok(set.labels !== null);
  for (const label of set.labels) {
    assert.ok(label <= 9, `label ${label} is out of 0..9`);
    counts[label]! += 1;
  }
  return counts;
}

test('loadMnist train: 60000 images of 28x28 with labels 0..9, every class present', () => {
  const set = loadMnist('train');
  assert.equal(set.count, 60000);
  assert.deepEqual(set.shape, [28, 28, 1]);
  assert.equal(set.values!.length, 60000 * 28 * 28);
  assert.deepEqual(set.labelNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.equal(set.labels?.length, 60000);
  assert.equal(set.labels?.[0], 5);
  const counts = labelCounts(set);
  for (let digit = 0; digit < 10; digit++) assert.ok(counts[digit]! > 5000, `digit ${digit} appears ${counts[digit]} times`);
  assert.equal(counts.reduce((a, b) => a + b, 0), 60000);
});

test('loadMnist test: 10000 images of 28x28 with labels 0..9, every class present', () => {
  const set = loadMnist('test');
  assert.equal(set.count, 10000);
  assert.deepEqual(set.shape, [28, 28, 1]);
  assert.equal(set.values!.length, 10000 * 28 * 28);
  assert.equal(set.labels?.[0], 7);
  const counts = labelCounts(set);
  for (let digit = 0; digit < 10; digit++) assert.ok(counts[digit]! > 800, `digit ${digit} appears ${counts[digit]} times`);
});

function withDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'vaekit-dataset-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('loadImageIdx reads uint8 images with labels', () => {
  withDir((dir) => {
    const images = join(dir, 'images.idx');
    const labels = join(dir, 'labels.idx');
    writeFileSync(images, encodeIdx({ dtype: 'uint8', shape: [2, 2, 3], data: new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) }));
    writeFileSync(labels, encodeIdx({ dtype: 'uint8', shape: [2], data: new Uint8Array([4, 2]) }));
    const set = loadImageIdx(images, labels);
    assert.equal(set.count, 2);
    assert.deepEqual(set.shape, [2, 3, 1]);
    assert.deepEqual(Array.from(set.values!), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.deepEqual(set.labelNames, ['0', '1', '2', '3', '4']);
    assert.deepEqual(Array.from(set.labels ?? []), [4, 2]);
    assert.equal(loadImageIdx(images).labels, null);
  });
});

test('loadImageIdx converts float32 images in [0, 1] to rounded bytes', () => {
  withDir((dir) => {
    const images = join(dir, 'float.idx');
    writeFileSync(images, encodeIdx({ dtype: 'float32', shape: [1, 1, 4], data: new Float32Array([0, 0.5, 0.999, 1]) }));
    assert.deepEqual(Array.from(loadImageIdx(images).values!), [0, 128, 255, 255]);
    const outOfRange = join(dir, 'range.idx');
    writeFileSync(outOfRange, encodeIdx({ dtype: 'float32', shape: [1, 1, 2], data: new Float32Array([0, 255]) }));
    assert.throws(() => loadImageIdx(outOfRange), (err: unknown) => err instanceof VaekitError && /range\.idx holds the float32 value 255/.test(err.message));
  });
});

test('loadImageIdx rejects a label count that does not match the image count', () => {
  withDir((dir) => {
    const images = join(dir, 'images.idx');
    const labels = join(dir, 'labels.idx');
    writeFileSync(images, encodeIdx({ dtype: 'uint8', shape: [3, 1, 1], data: new Uint8Array(3) }));
    writeFileSync(labels, encodeIdx({ dtype: 'uint8', shape: [2], data: new Uint8Array(2) }));
    assert.throws(
      () => loadImageIdx(images, labels),
      (err: unknown) => err instanceof VaekitError && err.message === `${labels} has 2 labels but ${images} has 3 images.`,
    );
  });
});

test('loadImageIdx rejects images that are not [n, h, w] and labels that are not uint8 [n]', () => {
  withDir((dir) => {
    const flat = join(dir, 'flat.idx');
    writeFileSync(flat, encodeIdx({ dtype: 'uint8', shape: [3, 4], data: new Uint8Array(12) }));
    assert.throws(() => loadImageIdx(flat), (err: unknown) => err instanceof VaekitError && /flat\.idx.*\[3, 4\].*\[count, height, width\]/.test(err.message));
    const images = join(dir, 'images.idx');
    const labels = join(dir, 'labels.idx');
    writeFileSync(images, encodeIdx({ dtype: 'uint8', shape: [2, 1, 1], data: new Uint8Array(2) }));
    writeFileSync(labels, encodeIdx({ dtype: 'int32', shape: [2], data: new Int32Array(2) }));
    assert.throws(() => loadImageIdx(images, labels), (err: unknown) => err instanceof VaekitError && /labels\.idx holds int32/.test(err.message));
    assert.throws(() => loadImageIdx(join(dir, 'none.idx')), VaekitError);
  });
});

function tiny(labels: Int32Array | null): Dataset {
  return arrayDataset({ values: new Uint8Array([1, 1, 2, 2, 3, 3]), shape: [2], labels, labelNames: labels === null ? null : ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'], source: 'tiny' });
}

test('takeFirst returns views of the first n examples and labels', () => {
  const set = tiny(new Int32Array([7, 8, 9]));
  const first = takeFirst(set, 2);
  assert.equal(first.count, 2);
  assert.deepEqual(Array.from(first.values!), [1, 1, 2, 2]);
  assert.deepEqual(Array.from(first.labels ?? []), [7, 8]);
  assert.equal(first.values!.buffer, set.values!.buffer, 'values are a view, not a copy');
  assert.equal(first.labels?.buffer, set.labels?.buffer, 'labels are a view, not a copy');
  assert.equal(takeFirst(set, 10).count, 3);
  assert.equal(takeFirst(tiny(null), 1).labels, null);
  assert.throws(() => takeFirst(set, -1), VaekitError);
  assert.throws(() => takeFirst(set, 1.5), VaekitError);
});

test('a dataset refuses values that do not split into examples, labels of the wrong count or out of its classes', () => {
  assert.throws(() => arrayDataset({ values: new Float32Array(5), shape: [2], source: 'odd' }), (e: unknown) => e instanceof VaekitError && e.message === 'odd: 5 values do not split into examples of 2.');
  assert.throws(() => arrayDataset({ values: new Float32Array(4), shape: [2], labels: new Int32Array(3), labelNames: ['x'], source: 'l' }), (e: unknown) => e instanceof VaekitError && e.message === 'l has 3 labels for 2 examples.');
  assert.throws(() => arrayDataset({ values: new Float32Array(4), shape: [2], labels: new Int32Array([0, 2]), labelNames: ['x', 'y'], source: 'c' }), (e: unknown) => e instanceof VaekitError && /label 2 of example 1/.test(e.message));
  assert.throws(() => arrayDataset({ values: new Float32Array(4), shape: [2, 2], source: 's' }), VaekitError);
});

test('gather reads bytes as v / 255 and floats as they are, in the given order', () => {
  const bytes = arrayDataset({ values: new Uint8Array([0, 255, 51, 102, 153, 204]), shape: [1, 2, 1], source: 'b' });
  const out = new Float32Array(4);
  bytes.gather(new Uint32Array([2, 0]), 0, 2, out);
  assert.deepEqual(Array.from(out), [0.6, 0.8, 0, 1].map(Math.fround));
  const floats = arrayDataset({ values: new Float32Array([-1.5, 2, 3, 4e6]), shape: [2], source: 'f' });
  floats.gather(null, 1, 1, out);
  assert.deepEqual(Array.from(out.subarray(0, 2)), [3, 4e6]);
  assert.throws(() => floats.gather(null, 1, 2, out), RangeError);
});

test('subset copies the chosen examples with their labels; splitValidation is a seeded partition', () => {
  const n = 100;
  const set = arrayDataset({ values: Float32Array.from({ length: 2 * n }, (_, i) => i), shape: [2], labels: Int32Array.from({ length: n }, (_, i) => i % 3), labelNames: ['a', 'b', 'c'], source: 's' });
  const picked = subset(set, [5, 1]);
  assert.deepEqual(Array.from(picked.values!), [10, 11, 2, 3]);
  assert.deepEqual(Array.from(picked.labels!), [2, 1]);
  const { train, validation } = splitValidation(set, 0.2, 7);
  assert.equal(validation.count, 20);
  assert.equal(train.count, 80);
  const firsts = (d: Dataset): number[] => Array.from({ length: d.count }, (_, i) => d.values![2 * i]! / 2);
  const all = [...firsts(train), ...firsts(validation)].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: n }, (_, i) => i), 'every example lands in exactly one part');
  assert.deepEqual(firsts(splitValidation(set, 0.2, 7).validation), firsts(validation), 'the same seed gives the same split');
  assert.notDeepEqual(firsts(splitValidation(set, 0.2, 8).validation), firsts(validation));
  assert.deepEqual(Array.from(validation.labels!), firsts(validation).map((i) => i % 3));
  assert.throws(() => splitValidation(set, 1, 0), VaekitError);
});
