import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadImageIdx, loadMnist, takeFirst, type ImageSet } from '../src/data/dataset.js';
import { encodeIdx } from '../src/data/idx.js';
import { VaekitError } from '../src/errors.js';

function labelCounts(set: ImageSet): number[] {
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
  assert.equal(set.height, 28);
  assert.equal(set.width, 28);
  assert.equal(set.images.length, 60000 * 28 * 28);
  assert.equal(set.labels?.length, 60000);
  assert.equal(set.labels?.[0], 5);
  const counts = labelCounts(set);
  for (let digit = 0; digit < 10; digit++) assert.ok(counts[digit]! > 5000, `digit ${digit} appears ${counts[digit]} times`);
  assert.equal(counts.reduce((a, b) => a + b, 0), 60000);
});

test('loadMnist test: 10000 images of 28x28 with labels 0..9, every class present', () => {
  const set = loadMnist('test');
  assert.equal(set.count, 10000);
  assert.equal(set.height, 28);
  assert.equal(set.width, 28);
  assert.equal(set.images.length, 10000 * 28 * 28);
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
    assert.equal(set.height, 2);
    assert.equal(set.width, 3);
    assert.deepEqual(Array.from(set.images), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.deepEqual(Array.from(set.labels ?? []), [4, 2]);
    assert.equal(loadImageIdx(images).labels, null);
  });
});

test('loadImageIdx converts float32 images in [0, 1] to rounded bytes', () => {
  withDir((dir) => {
    const images = join(dir, 'float.idx');
    writeFileSync(images, encodeIdx({ dtype: 'float32', shape: [1, 1, 4], data: new Float32Array([0, 0.5, 0.999, 1]) }));
    assert.deepEqual(Array.from(loadImageIdx(images).images), [0, 128, 255, 255]);
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

test('takeFirst returns views of the first n images and labels', () => {
  const set: ImageSet = { images: new Uint8Array([1, 1, 2, 2, 3, 3]), labels: new Uint8Array([7, 8, 9]), count: 3, height: 1, width: 2 };
  const first = takeFirst(set, 2);
  assert.equal(first.count, 2);
  assert.deepEqual(Array.from(first.images), [1, 1, 2, 2]);
  assert.deepEqual(Array.from(first.labels ?? []), [7, 8]);
  assert.equal(first.images.buffer, set.images.buffer, 'images are a view, not a copy');
  assert.equal(first.labels?.buffer, set.labels?.buffer, 'labels are a view, not a copy');
  assert.equal(takeFirst(set, 10).count, 3);
  assert.equal(takeFirst({ ...set, labels: null }, 1).labels, null);
  assert.throws(() => takeFirst(set, -1), VaekitError);
  assert.throws(() => takeFirst(set, 1.5), VaekitError);
});
