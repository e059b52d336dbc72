import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyNoise, formatNoise, parseNoise, type NoiseSpec } from '../src/data/transforms/noise.js';
import { VaekitError } from '../src/errors.js';

test('parseNoise reads none, gaussian and gaussian:FACTOR', () => {
  assert.deepEqual(parseNoise('none'), { kind: 'none' });
  assert.deepEqual(parseNoise('gaussian'), { kind: 'gaussian', factor: 0.2 });
  assert.deepEqual(parseNoise('gaussian:0.35'), { kind: 'gaussian', factor: 0.35 });
  assert.deepEqual(parseNoise('gaussian:0'), { kind: 'gaussian', factor: 0 });
  assert.deepEqual(parseNoise('gaussian:1e-3'), { kind: 'gaussian', factor: 0.001 });
  assert.deepEqual(parseNoise('gaussian:.5'), { kind: 'gaussian', factor: 0.5 });
  assert.deepEqual(parseNoise('gaussian:2'), { kind: 'gaussian', factor: 2 });
});

test('formatNoise is the inverse of parseNoise', () => {
  assert.equal(formatNoise({ kind: 'none' }), 'none');
  assert.equal(formatNoise({ kind: 'gaussian', factor: 0.2 }), 'gaussian:0.2');
  for (const text of ['none', 'gaussian:0.2', 'gaussian:0', 'gaussian:1.5', 'gaussian:0.123456789']) {
    assert.equal(formatNoise(parseNoise(text)), text);
  }
  const spec: NoiseSpec = { kind: 'gaussian', factor: 1e-7 };
  assert.deepEqual(parseNoise(formatNoise(spec)), spec);
});

test('parseNoise rejects unknown kinds with one sentence that says what to use', () => {
  assert.throws(
    () => parseNoise('foo'),
    (err: unknown) =>
      err instanceof VaekitError && err.message === 'Unknown noise "foo": use "gaussian:S", "salt-and-pepper:P", "masking:P" or "none", e.g. "gaussian:0.2".',
  );
  for (const text of ['', 'Gaussian', 'gauss:0.2', 'none:1', ' gaussian']) {
    assert.throws(() => parseNoise(text), (err: unknown) => err instanceof VaekitError && err.message.startsWith('Unknown noise'), text);
  }
});

test('parseNoise rejects factors that are not finite numbers >= 0', () => {
  for (const factor of ['', ' ', 'abc', '-0.1', 'Infinity', 'NaN', '0.2x', '1e999', '0x10', ' 0.2', '0.2 ', '+0.2']) {
    assert.throws(
      () => parseNoise(`gaussian:${factor}`),
      (err: unknown) =>
        err instanceof VaekitError &&
        err.message === `Invalid noise factor "${factor}" in "gaussian:${factor}": use a finite number >= 0, e.g. "gaussian:0.2".`,
      factor,
    );
  }
});

function indices(rows: number, first = 0): Uint32Array {
  return Uint32Array.from({ length: rows }, (_, r) => first + r);
}

test('gaussian noise stays in [0, 1] and is clipped at both ends', () => {
  const rows = 4;
  const pixels = 500;
  const clean = new Float32Array(rows * pixels);
  for (let i = 0; i < clean.length; i++) clean[i] = (i % 3) / 2; // 0, 0.5, 1
  const out = new Float32Array(clean.length);
  applyNoise({ kind: 'gaussian', factor: 0.5 }, clean, out, rows, pixels, indices(rows), 1, 0);
  let atZero = 0;
  let atOne = 0;
  for (const v of out) {
    assert.ok(v >= 0 && v <= 1, `value ${v} is outside [0, 1]`);
    if (v === 0) atZero++;
    if (v === 1) atOne++;
  }
  // About half of the pixels that start at 0 (or 1) are pushed below 0 (or above 1) and clipped.
  assert.ok(atZero > 200 && atOne > 200, `clipped: ${atZero} at 0, ${atOne} at 1`);
});

test('on mid-grey images the std of (noisy - clean) is close to the factor and its mean near 0', () => {
  const rows = 64;
  const pixels = 784;
  const clean = new Float32Array(rows * pixels).fill(0.5);
  const out = new Float32Array(clean.length);
  const factor = 0.1; // small enough that clipping at 0.5 +- 5 sigma never happens
  applyNoise({ kind: 'gaussian', factor }, clean, out, rows, pixels, indices(rows), 42, 1);
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < out.length; i++) {
    const d = out[i]! - clean[i]!;
    sum += d;
    sumSquares += d * d;
  }
  const n = out.length;
  const mean = sum / n;
  const std = Math.sqrt(sumSquares / n - mean * mean);
  assert.ok(Math.abs(mean) < 0.003, `mean ${mean}`);
  assert.ok(Math.abs(std - factor) < 0.003, `std ${std}`);
});

/** The standard normal CDF, by Abramowitz and Stegun 7.1.26 (error below 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

test('the noise follows the normal distribution: histogram, tails and kurtosis', () => {
  const rows = 1000;
  const pixels = 1000;
  const factor = 0.01; // 0.5 +- 50 sigma: no clipping, so z = (noisy - 0.5) / factor
  const clean = new Float32Array(rows * pixels).fill(0.5);
  const out = new Float32Array(clean.length);
  applyNoise({ kind: 'gaussian', factor }, clean, out, rows, pixels, indices(rows), 2024, 1);
  const n = out.length;
  const binWidth = 0.25;
  const bins = new Float64Array(32); // [-4, 4) in steps of 0.25
  let beyond35 = 0;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const z = (out[i]! - 0.5) / factor;
    const bin = Math.floor((z + 4) / binWidth);
    if (bin >= 0 && bin < bins.length) bins[bin]! += 1;
    if (Math.abs(z) > 3.5) beyond35++;
    m2 += z * z;
    m4 += z ** 4;
  }
  for (let b = 0; b < bins.length; b++) {
    const p = normalCdf(-4 + (b + 1) * binWidth) - normalCdf(-4 + b * binWidth);
    const sigma = Math.sqrt(n * p * (1 - p));
    assert.ok(Math.abs(bins[b]! - n * p) < 5 * sigma + 1, `bin ${b}: ${bins[b]} draws, expected ${(n * p).toFixed(1)}`);
  }
  // Beyond 3.5 lies the ziggurat's tail path: 2 * (1 - Phi(3.5)) = 4.65e-4.
  const expectedTail = 2 * (1 - normalCdf(3.5)) * n;
  assert.ok(Math.abs(beyond35 - expectedTail) < 5 * Math.sqrt(expectedTail), `${beyond35} beyond 3.5, expected ${expectedTail.toFixed(1)}`);
  const variance = m2 / n;
  assert.ok(Math.abs(variance - 1) < 0.01, `variance ${variance}`);
  const kurtosis = m4 / n / (variance * variance);
  assert.ok(Math.abs(kurtosis - 3) < 0.05, `kurtosis ${kurtosis}`);
});

test('the default factor 0.2 gives a std near 0.2 on mid-grey images', () => {
  const rows = 32;
  const pixels = 784;
  const clean = new Float32Array(rows * pixels).fill(0.5);
  const out = new Float32Array(clean.length);
  applyNoise(parseNoise('gaussian'), clean, out, rows, pixels, indices(rows), 7, 0);
  let sumSquares = 0;
  for (let i = 0; i < out.length; i++) sumSquares += (out[i]! - 0.5) ** 2;
  const std = Math.sqrt(sumSquares / out.length);
  // Clipping at 0.5 +- 2.5 sigma trims the std by about 1%.
  assert.ok(std > 0.19 && std < 0.205, `std ${std}`);
});

test('an image gets the same noise for the same seed, epochKey and index, whatever the batch order', () => {
  const pixels = 50;
  const imageCount = 6;
  const images = new Float32Array(imageCount * pixels);
  for (let i = 0; i < images.length; i++) images[i] = ((i * 7) % 11) / 10;
  const spec: NoiseSpec = { kind: 'gaussian', factor: 0.3 };

  const inOrder = new Float32Array(images.length);
  applyNoise(spec, images, inOrder, imageCount, pixels, indices(imageCount), 5, 3);

  // The same images in another order, split into two batches of 3.
  const order = [4, 1, 5, 0, 3, 2];
  for (const batch of [order.slice(0, 3), order.slice(3)]) {
    const clean = new Float32Array(batch.length * pixels);
    batch.forEach((image, r) => clean.set(images.subarray(image * pixels, (image + 1) * pixels), r * pixels));
    const out = new Float32Array(clean.length);
    applyNoise(spec, clean, out, batch.length, pixels, batch, 5, 3);
    batch.forEach((image, r) => {
      assert.deepEqual(out.subarray(r * pixels, (r + 1) * pixels), inOrder.subarray(image * pixels, (image + 1) * pixels), `image ${image}`);
    });
  }
});

function noiseOf(seed: number, epochKey: number, index: number): Float32Array {
  const pixels = 100;
  const clean = new Float32Array(pixels).fill(0.5);
  const out = new Float32Array(pixels);
  applyNoise({ kind: 'gaussian', factor: 0.1 }, clean, out, 1, pixels, [index], seed, epochKey);
  return out;
}

test('a different epochKey, seed or image index gives different noise', () => {
  const base = noiseOf(9, 1, 17);
  assert.deepEqual(noiseOf(9, 1, 17), base);
  assert.notDeepEqual(noiseOf(9, 2, 17), base);
  assert.notDeepEqual(noiseOf(9, 0, 17), base);
  assert.notDeepEqual(noiseOf(10, 1, 17), base);
  assert.notDeepEqual(noiseOf(9, 1, 18), base);
});

test('images of one batch get different noise', () => {
  const pixels = 100;
  const clean = new Float32Array(2 * pixels).fill(0.5);
  const out = new Float32Array(clean.length);
  applyNoise({ kind: 'gaussian', factor: 0.1 }, clean, out, 2, pixels, [0, 1], 3, 0);
  assert.notDeepEqual(out.subarray(0, pixels), out.subarray(pixels));
});

test("'none' copies the clean images and a factor of 0 changes nothing", () => {
  const clean = Float32Array.from({ length: 12 }, (_, i) => i / 11);
  for (const spec of [parseNoise('none'), parseNoise('gaussian:0')]) {
    const out = new Float32Array(12).fill(-1);
    applyNoise(spec, clean, out, 3, 4, indices(3), 1, 1);
    assert.deepEqual(out, clean);
    assert.notEqual(out, clean);
  }
  // Only the first rows * pixels values are written.
  const out = new Float32Array(16).fill(-1);
  applyNoise({ kind: 'none' }, clean, out, 2, 4, indices(2), 1, 1);
  assert.deepEqual(Array.from(out.subarray(8)), new Array(8).fill(-1));
});

test('noise can be applied in place', () => {
  const clean = new Float32Array(40).fill(0.5);
  const expected = new Float32Array(40);
  applyNoise({ kind: 'gaussian', factor: 0.2 }, clean, expected, 2, 20, [8, 9], 4, 1);
  applyNoise({ kind: 'gaussian', factor: 0.2 }, clean, clean, 2, 20, [8, 9], 4, 1);
  assert.deepEqual(clean, expected);
});

test('applyNoise rejects buffers too small for rows * pixels', () => {
  assert.throws(() => applyNoise({ kind: 'none' }, new Float32Array(3), new Float32Array(4), 1, 4, [0], 1, 0), RangeError);
  assert.throws(() => applyNoise({ kind: 'gaussian', factor: 0.2 }, new Float32Array(8), new Float32Array(8), 2, 4, [0], 1, 0), RangeError);
});

test('parseNoise reads salt-and-pepper:P and masking:P with P in [0, 1], and formatNoise inverts it', () => {
  assert.deepEqual(parseNoise('salt-and-pepper:0.1'), { kind: 'salt-and-pepper', probability: 0.1 });
  assert.deepEqual(parseNoise('masking:0.5'), { kind: 'masking', probability: 0.5 });
  for (const text of ['salt-and-pepper:0.1', 'masking:1', 'masking:0']) assert.equal(formatNoise(parseNoise(text)), text);
  for (const bad of ['masking:1.5', 'masking:-0.1', 'masking:', 'salt-and-pepper:x', 'masking']) {
    assert.throws(() => parseNoise(bad), (err: unknown) => err instanceof VaekitError && /^(Invalid noise probability|Unknown noise)/.test(err.message), bad);
  }
});

test('salt-and-pepper sets about P of the values to 0 or 1 in equal shares and leaves the rest', () => {
  const rows = 50;
  const pixels = 1000;
  const clean = new Float32Array(rows * pixels).fill(0.5);
  const out = new Float32Array(clean.length);
  applyNoise({ kind: 'salt-and-pepper', probability: 0.2 }, clean, out, rows, pixels, indices(rows), 3, 1);
  let zeros = 0;
  let ones = 0;
  for (const v of out) {
    if (v === 0) zeros++;
    else if (v === 1) ones++;
    else assert.equal(v, 0.5);
  }
  const n = rows * pixels;
  // Binomial(n, 0.1) each: the standard deviation is sqrt(n * 0.09) ~ 67.
  assert.ok(Math.abs(zeros - 0.1 * n) < 350 && Math.abs(ones - 0.1 * n) < 350, `${zeros} zeros, ${ones} ones of ${n}`);
});

test('masking zeroes about P of the values; gaussian noise on features is not clipped', () => {
  const rows = 20;
  const size = 1000;
  const clean = new Float32Array(rows * size).fill(3);
  const out = new Float32Array(clean.length);
  applyNoise({ kind: 'masking', probability: 0.3 }, clean, out, rows, size, indices(rows), 9, 0, undefined, 'real');
  const zeros = out.filter((v) => v === 0).length;
  assert.ok(Math.abs(zeros - 0.3 * rows * size) < 400, `${zeros} masked`);
  assert.ok(out.every((v) => v === 0 || v === 3));
  applyNoise({ kind: 'gaussian', factor: 2 }, clean, out, rows, size, indices(rows), 9, 0, undefined, 'real');
  assert.ok(out.some((v) => v > 6) && out.some((v) => v < 0), 'values go beyond [0, 1] and beyond 3 +- 3');
  let sum = 0;
  for (const v of out) sum += v;
  assert.ok(Math.abs(sum / out.length - 3) < 0.05);
  assert.throws(() => applyNoise({ kind: 'salt-and-pepper', probability: 0.1 }, clean, out, rows, size, indices(rows), 9, 0, undefined, 'real'), /Salt-and-pepper noise/);
});

test('salt-and-pepper and masking draws are per example: the same for the same (seed, key, index), whatever the batch', () => {
  const size = 300;
  const clean = Float32Array.from({ length: 3 * size }, (_, i) => (i % 7) / 7);
  for (const spec of [{ kind: 'salt-and-pepper', probability: 0.3 }, { kind: 'masking', probability: 0.3 }] as NoiseSpec[]) {
    const all = new Float32Array(clean.length);
    applyNoise(spec, clean, all, 3, size, [4, 5, 6], 1, 2);
    const one = new Float32Array(size);
    applyNoise(spec, clean.subarray(2 * size), one, 1, size, [6], 1, 2);
    assert.deepEqual(one, all.subarray(2 * size));
    const other = new Float32Array(size);
    applyNoise(spec, clean.subarray(2 * size), other, 1, size, [6], 1, 3);
    assert.notDeepEqual(other, one);
  }
});
