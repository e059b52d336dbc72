import { test } from 'node:test';
import assert from 'node:assert/strict';
import pngjs from 'pngjs';
import { imageGridPng } from '../src/viz/image-grid.js';
import { VaekitError } from '../src/errors.js';

const { PNG } = pngjs;

function decode(bytes: Uint8Array): { width: number; height: number; grey: (x: number, y: number) => number; colorType: number } {
  const png = PNG.sync.read(Buffer.from(bytes));
  return {
    width: png.width,
    height: png.height,
    colorType: png.colorType,
    // pngjs decodes to RGBA; a greyscale source has R = G = B.
    grey: (x, y) => {
      const i = 4 * (y * png.width + x);
      assert.equal(png.data[i], png.data[i + 1]);
      assert.equal(png.data[i], png.data[i + 2]);
      assert.equal(png.data[i + 3], 255);
      return png.data[i]!;
    },
  };
}

test('a 1x2 grid with scale 1 and pad 1: dimensions, cells, padding', () => {
  // 2x3 images: a black one and a horizontal gradient.
  const black = new Float32Array(6);
  const gradient = new Float32Array([0, 0.5, 1, 0, 0.5, 1]);
  const png = imageGridPng([[black, gradient]], 2, 3, { scale: 1, pad: 1, background: 1 });
  assert.deepEqual(Array.from(png.subarray(0, 8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const image = decode(png);
  assert.equal(image.colorType, 0, 'greyscale');
  assert.equal(image.width, 2 * 3 + 3 * 1);
  assert.equal(image.height, 2 + 2 * 1);
  // Padding all around and between the cells.
  for (let x = 0; x < image.width; x++) {
    assert.equal(image.grey(x, 0), 255);
    assert.equal(image.grey(x, 3), 255);
  }
  assert.equal(image.grey(0, 1), 255);
  assert.equal(image.grey(4, 1), 255);
  assert.equal(image.grey(8, 2), 255);
  // The black cell, then the gradient.
  assert.equal(image.grey(1, 1), 0);
  assert.equal(image.grey(3, 2), 0);
  assert.deepEqual([5, 6, 7].map((x) => image.grey(x, 1)), [0, 128, 255]);
  assert.deepEqual([5, 6, 7].map((x) => image.grey(x, 2)), [0, 128, 255]);
});

test('defaults: scale 2 (nearest), pad 2, mid-grey background', () => {
  const cell = new Float32Array([1, 0, 0, 1]); // 2x2 checkerboard
  const image = decode(imageGridPng([[cell]], 2, 2));
  assert.equal(image.width, 2 * 2 + 2 * 2);
  assert.equal(image.height, 2 * 2 + 2 * 2);
  assert.equal(image.grey(0, 0), 128);
  assert.equal(image.grey(1, 1), 128);
  assert.equal(image.grey(7, 7), 128);
  // Each source pixel becomes a 2x2 block starting at (2, 2).
  assert.deepEqual([2, 3, 4, 5].map((x) => image.grey(x, 2)), [255, 255, 0, 0]);
  assert.deepEqual([2, 3, 4, 5].map((x) => image.grey(x, 3)), [255, 255, 0, 0]);
  assert.deepEqual([2, 3, 4, 5].map((x) => image.grey(x, 4)), [0, 0, 255, 255]);
  assert.deepEqual([2, 3, 4, 5].map((x) => image.grey(x, 5)), [0, 0, 255, 255]);
});

test('rows of different lengths leave missing cells as background; values are clipped', () => {
  const white = new Float32Array([1.5]); // clipped to 1
  const black = new Float32Array([-0.2]); // clipped to 0
  const image = decode(imageGridPng([[white, black, white], [black]], 1, 1, { scale: 3, pad: 0, background: 0.25 }));
  assert.equal(image.width, 9);
  assert.equal(image.height, 6);
  assert.equal(image.grey(0, 0), 255);
  assert.equal(image.grey(4, 2), 0);
  assert.equal(image.grey(8, 0), 255);
  assert.equal(image.grey(0, 5), 0);
  assert.equal(image.grey(3, 3), 64, 'missing cell shows the background');
  assert.equal(image.grey(8, 5), 64);
  // A null cell is an empty one: background, and the cells after it keep their places.
  const gap = decode(imageGridPng([[white, null, black]], 1, 1, { scale: 2, pad: 0, background: 0.25 }));
  assert.equal(gap.width, 6);
  assert.deepEqual([0, 2, 4].map((x) => gap.grey(x, 1)), [255, 64, 0]);
});

test('a full MNIST-sized grid has the expected size', () => {
  const cells = Array.from({ length: 3 }, () => Array.from({ length: 10 }, () => new Float32Array(784).fill(0.5)));
  const image = decode(imageGridPng(cells, 28, 28));
  assert.equal(image.width, 10 * 56 + 11 * 2);
  assert.equal(image.height, 3 * 56 + 4 * 2);
});

test('bad options, sizes and empty grids are VaekitErrors', () => {
  const cell = new Float32Array(4);
  assert.throws(() => imageGridPng([[cell]], 2, 2, { scale: 0 }), VaekitError);
  assert.throws(() => imageGridPng([[cell]], 2, 2, { scale: 1.5 }), VaekitError);
  assert.throws(() => imageGridPng([[cell]], 2, 2, { pad: -1 }), VaekitError);
  assert.throws(() => imageGridPng([[cell]], 2, 2, { background: 2 }), VaekitError);
  assert.throws(() => imageGridPng([[cell]], 3, 2), (err: unknown) => err instanceof VaekitError && /cell \[0\]\[0\] has 4 values.*needs 6/.test(err.message));
  assert.throws(() => imageGridPng([], 2, 2), VaekitError);
  assert.throws(() => imageGridPng([[]], 2, 2), VaekitError);
});
