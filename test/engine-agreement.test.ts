/**
 * The native addon against the js backend (the oracle), kernel by kernel, on seeded random inputs.
 * The addon must be built first (`node scripts/build-native.mjs`); if it is not, every test here
 * fails and says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACTIVATIONS, ACTIVATION_CODE } from '../src/engine/backend.js';
import type { Backend } from '../src/engine/backend.js';
import { JsBackend } from '../src/engine/js-backend.js';
import { loadNativeAddon, loadNativeBackend } from '../src/engine/native-backend.js';
import type { NativeAddon } from '../src/engine/native-backend.js';
import { Random } from '../src/engine/random.js';
import { assertClose, sameBits } from './helpers/assert-close.js';

const js = new JsBackend();

function addon(): NativeAddon {
  try {
    return loadNativeAddon();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`the native addon is not available (${reason}); build it with "node scripts/build-native.mjs"`);
  }
}

function native(): Backend {
  addon();
  return loadNativeBackend();
}

function normals(seed: number, n: number, scale = 1, offset = 0): Float32Array {
  const rng = new Random(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = offset + scale * rng.normal();
  return out;
}

function uniforms(seed: number, n: number): Float32Array {
  const out = new Float32Array(n);
  new Random(seed).fillUniform(out);
  return out;
}

function assertCloseNumber(actual: number, expected: number, rtol: number, label: string): void {
  assertClose([actual], [expected], rtol, 0, label);
}

function copy(x: Float32Array): Float32Array {
  return new Float32Array(x);
}

// ---- the addon itself ----

test('the native addon loads and reports native info', () => {
  const backend = native();
  assert.equal(backend.name, 'native');
  const info = backend.info();
  assert.equal(info.backend, 'native');
  assert.ok(info.blas === 'onednn' || info.blas === 'openblas' || info.blas === 'portable', `blas is ${info.blas}`);
  assert.ok(Number.isInteger(info.threads) && info.threads >= 1, `threads is ${info.threads}`);
  const raw = addon().info();
  assert.deepEqual({ backend: raw.backend, blas: raw.blas, threads: raw.threads }, { backend: 'native', blas: info.blas, threads: info.threads });
  // oneDNN: usable exactly when the build has it and it is not turned off; bf16 needs the CPU's support too.
  assert.equal(typeof raw.dnnl.compiled, 'boolean');
  if (!raw.dnnl.compiled) assert.equal(raw.dnnl.available, false);
  assert.equal(raw.blas, raw.dnnl.available ? 'onednn' : raw.fallbackBlas);
  assert.equal(info.bf16.available, raw.dnnl.available && raw.dnnl.nativeBf16 === true);
  if (!info.bf16.available) assert.ok((info.bf16.reason ?? '').length > 0);
});

// ---- gemm ----

const GEMM_SHAPES: readonly [number, number, number][] = [
  [37, 53, 29], // no dimension a multiple of any block or register tile
  [1, 1, 1],
  [3, 2101, 5], // n crosses the portable kernel's NC block
  [130, 17, 261], // m crosses MC, k crosses KC
  [97, 9, 300],
  [200, 96, 120], // big enough to split into row bands across the cores (oneDNN)
  [24, 40, 1200], // a weight gradient's shape: oneDNN splits a transposed A along k
  [128, 131, 530], // a batch through a layer's weights: oneDNN's fp32 cuts the weights by their rows (k in halves of 4 ragged column bands; n in 3 bands)
];

type GemmFn = (
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array,
) => void;

function checkGemm(label: string, gemm: GemmFn): void {
  let seed = 100;
  for (const [m, n, k] of GEMM_SHAPES) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const [alpha, beta] of [[-0.75, 0], [1.5, 1], [0.3, 0.5]] as const) {
          seed += 3;
          const a = normals(seed, m * k);
          const b = normals(seed + 1, k * n);
          const c0 = normals(seed + 2, m * n);
          // beta == 0 must overwrite C, even NaN.
          const start = beta === 0 ? new Float32Array(m * n).fill(Number.NaN) : c0;
          const expected = copy(start);
          js.gemm(transA, transB, m, n, k, alpha, a, b, beta, expected);
          const actual = copy(start);
          gemm(transA, transB, m, n, k, alpha, a, b, beta, actual);
          // Error bound of a k-term float dot product: ~k eps (|alpha| |A||B| + |beta C|).
          const magnitude = new Float32Array(m * n);
          js.gemm(transA, transB, m, n, k, Math.abs(alpha), a.map(Math.abs), b.map(Math.abs), 0, magnitude);
          for (let i = 0; i < m * n; i++) {
            const bound = (k + 2) * 1.2e-7 * (magnitude[i]! + Math.abs(beta * (beta === 0 ? 0 : start[i]!))) + 1e-6;
            const diff = Math.abs(actual[i]! - expected[i]!);
            if (!(diff <= bound)) {
              assert.fail(`${label} ${m}x${n}x${k} transA=${transA} transB=${transB} alpha=${alpha} beta=${beta}: ` +
                `C[${i}] is ${actual[i]}, expected ${expected[i]} (bound ${bound})`);
            }
          }
        }
      }
    }
  }
}

test('gemm agrees with js for all transposes, odd sizes, alpha != 1 and beta in {0, 1, 0.5}', () => {
  const backend = native();
  checkGemm('gemm', (...args) => backend.gemm(...args));
});

test('the OpenBLAS (or portable) gemm beside oneDNN agrees with js for all transposes, odd sizes, alpha != 1 and beta in {0, 1, 0.5}', () => {
  const raw = addon();
  checkGemm('gemmBlas', (...args) => raw.gemmBlas(...args));
});

test('the portable gemm agrees with js for all transposes, odd sizes, alpha != 1 and beta in {0, 1, 0.5}', () => {
  const raw = addon();
  checkGemm('gemmPortable', (...args) => raw.gemmPortable(...args));
});

test('gemm with k = 0 scales C by beta, and with m = 0 touches nothing', () => {
  for (const gemm of [native().gemm.bind(native()), addon().gemmBlas, addon().gemmPortable]) {
    const c = new Float32Array([1, Number.NaN, 3, 4]);
    gemm(false, false, 2, 2, 0, 1, new Float32Array(0), new Float32Array(0), 0, c);
    assert.deepEqual([...c], [0, 0, 0, 0]);
    const d = new Float32Array([1, 2, 3, 4]);
    gemm(true, true, 2, 2, 0, 1, new Float32Array(0), new Float32Array(0), 0.5, d);
    assert.deepEqual([...d], [0.5, 1, 1.5, 2]);
    const e = new Float32Array([7]);
    gemm(false, false, 0, 1, 3, 1, new Float32Array(0), new Float32Array(3), 0, e);
    assert.deepEqual([...e], [7]);
  }
});

test('gemm reads and writes subarray views at their own offsets, and nothing outside them', () => {
  const backend = native();
  for (const gemm of [backend.gemm.bind(backend), addon().gemmBlas, addon().gemmPortable]) {
    const [m, n, k] = [7, 5, 6];
    const aBuffer = normals(1, m * k + 10);
    const bBuffer = normals(2, k * n + 10);
    const cBuffer = new Float32Array(m * n + 20).fill(-99);
    const a = aBuffer.subarray(3, 3 + m * k);
    const b = bBuffer.subarray(7, 7 + k * n);
    const c = cBuffer.subarray(10, 10 + m * n);
    gemm(false, true, m, n, k, 1, a, b, 0, c);
    const expected = new Float32Array(m * n);
    js.gemm(false, true, m, n, k, 1, copy(a), copy(b), 0, expected);
    assertClose(c, expected, 1e-5, 1e-5, 'gemm on views');
    for (let i = 0; i < 10; i++) assert.equal(cBuffer[i], -99, 'wrote before the view');
    for (let i = 10 + m * n; i < cBuffer.length; i++) assert.equal(cBuffer[i], -99, 'wrote after the view');
  }
});

// oneDNN's fp32 products of a batch of up to 256 rows with a layer's weights cut the weights by their
// rows, from the weights' shape alone (native/dnnl.cc runProduct), so a row comes out the same, bit
// for bit, alone (which oneDNN takes by another kernel), in a batch too small for the pool, and in one
// of 256: decoding a code alone or with others gives one image.
test('a row through a layer\'s weights has the same bits alone and in batches of up to 256 rows', () => {
  const backend = native();
  for (const [n, k] of [[131, 530], [16, 4096], [512, 784]] as const) {
    for (const transB of [false, true]) {
      const w = normals(n + k, k * n);
      const x = normals(n + k + 1, 256 * k);
      const rows = (m: number): Float32Array => {
        const c = new Float32Array(m * n);
        backend.gemm(false, transB, m, n, k, 1, x.subarray(0, m * k), w, 0, c);
        return c.subarray(0, n);
      };
      const alone = rows(1);
      for (const m of [2, 24, 200, 256]) assert.deepEqual(rows(m), alone, `${n}x${k} transB=${transB}: the first of ${m} rows`);
    }
  }
});

// ---- activations ----

test('biasActivation agrees with js for every activation, with y separate and y === x', () => {
  const backend = native();
  const [rows, cols] = [9, 301];
  const bias = normals(11, cols, 0.5);
  for (const act of ACTIVATIONS) {
    const x = normals(10, rows * cols, 3);
    const expected = new Float32Array(rows * cols);
    js.biasActivation(x, bias, expected, rows, cols, act, 0.2);
    const y = new Float32Array(rows * cols);
    backend.biasActivation(x, bias, y, rows, cols, act, 0.2);
    assertClose(y, expected, 1e-6, 1e-7, `biasActivation ${act}`);
    const inPlace = copy(x);
    backend.biasActivation(inPlace, bias, inPlace, rows, cols, act, 0.2);
    assertClose(inPlace, expected, 1e-6, 1e-7, `biasActivation ${act} in place`);
  }
});

test('activationBackward agrees with js for every activation, with dx separate and dx === dy', () => {
  const backend = native();
  const n = 1001;
  for (const act of ACTIVATIONS) {
    const y = new Float32Array(n);
    js.biasActivation(normals(20, n, 2), new Float32Array(n), y, 1, n, act, 0.1);
    y[0] = 0; // the relu kink
    const dy = normals(21, n);
    const expected = new Float32Array(n);
    js.activationBackward(dy, y, expected, n, act, 0.1);
    const dx = new Float32Array(n);
    backend.activationBackward(dy, y, dx, n, act, 0.1);
    assertClose(dx, expected, 1e-6, 1e-7, `activationBackward ${act}`);
    const inPlace = copy(dy);
    backend.activationBackward(inPlace, y, inPlace, n, act, 0.1);
    assertClose(inPlace, expected, 1e-6, 1e-7, `activationBackward ${act} in place`);
  }
});

// The fused kernels give the bits of the calls they fuse (the native ones), and agree with js.
test('gemmBiasActivation gives the bits of gemm then biasActivation, on every path of the product, and agrees with js', () => {
  const backend = native();
  // A seed layer's forward on the pool (cut by W's rows, halves summed), its single row, more than 256 rows
  // (row bands), a small product on this thread, k = 0 (bias only), and m = 0 (nothing).
  const shapes: [number, number, number][] = [[128, 512, 784], [1, 512, 784], [300, 96, 200], [3, 5, 7], [4, 6, 0], [0, 4, 3]];
  for (const [m, n, k] of shapes) {
    for (const act of ACTIVATIONS) {
      const x = normals(400 + m, m * k);
      const w = normals(401 + n, k * n, 0.05);
      const bias = normals(402, n, 0.5);
      const separate = new Float32Array(m * n).fill(7);
      backend.gemm(false, false, m, n, k, 1, x, w, 0, separate);
      backend.biasActivation(separate, bias, separate, m, n, act, 0.2);
      const fused = new Float32Array(m * n).fill(-3);
      backend.gemmBiasActivation(m, n, k, x, w, bias, act, 0.2, fused);
      assert.ok(sameBits(fused, separate), `${m}x${n}x${k} ${act}: not the bits of gemm then biasActivation`);
      const expected = new Float32Array(m * n);
      js.gemmBiasActivation(m, n, k, x, w, bias, act, 0.2, expected);
      assertClose(fused, expected, 1e-4, 1e-5, `${m}x${n}x${k} ${act} against js`);
    }
  }
  assert.throws(() => backend.gemmBiasActivation(2, 3, 4, new Float32Array(8), new Float32Array(12), new Float32Array(2), 'relu', 0, new Float32Array(6)), RangeError);
});

test('activationBiasBackward gives the bits of activationBackward then sumRows, with dx separate and dx === dy, and agrees with js', () => {
  const backend = native();
  // A dense layer's batch (its columns cut over the pool), rows not a multiple of 4, one column, no rows,
  // and a conv layer's many positions of few channels (summed in parts).
  const shapes: [number, number][] = [[128, 784], [128, 512], [9, 301], [7, 1], [0, 5], [4096, 16]];
  for (const [rows, cols] of shapes) {
    const n = rows * cols;
    for (const act of ACTIVATIONS) {
      const y = new Float32Array(n);
      js.biasActivation(normals(410, n, 2), new Float32Array(cols), y, rows, cols, act, 0.1);
      const dy = normals(411, n);
      const dx = new Float32Array(n);
      const grad = new Float32Array(cols).fill(9);
      backend.activationBackward(dy, y, dx, n, act, 0.1);
      backend.sumRows(dx, rows, cols, grad);
      const fusedDx = new Float32Array(n);
      const fusedGrad = new Float32Array(cols).fill(-9);
      backend.activationBiasBackward(dy, y, fusedDx, rows, cols, act, 0.1, fusedGrad);
      assert.ok(sameBits(fusedDx, dx), `${rows}x${cols} ${act}: dx`);
      assert.ok(sameBits(fusedGrad, grad), `${rows}x${cols} ${act}: the bias gradient`);
      const inPlace = copy(dy);
      backend.activationBiasBackward(inPlace, y, inPlace, rows, cols, act, 0.1, fusedGrad);
      assert.ok(sameBits(inPlace, dx) && sameBits(fusedGrad, grad), `${rows}x${cols} ${act}: in place`);
      const expectedDx = new Float32Array(n);
      const expectedGrad = new Float32Array(cols);
      js.activationBiasBackward(dy, y, expectedDx, rows, cols, act, 0.1, expectedGrad);
      assertClose(fusedDx, expectedDx, 1e-6, 1e-7, `${rows}x${cols} ${act}: dx against js`);
      assertClose(fusedGrad, expectedGrad, 1e-5, 1e-6, `${rows}x${cols} ${act}: the bias gradient against js`);
    }
  }
  assert.throws(() => backend.activationBiasBackward(new Float32Array(6), new Float32Array(6), new Float32Array(6), 2, 3, 'relu', 0, new Float32Array(2)), RangeError);
});

// ---- reductions ----

test('sumRows, sumCols and sum agree with js', () => {
  const backend = native();
  const [rows, cols] = [37, 530]; // cols crosses the 256-column accumulator block
  const x = normals(30, rows * cols, 2, 0.5);
  const expectedRows = new Float32Array(cols);
  const actualRows = new Float32Array(cols);
  js.sumRows(x, rows, cols, expectedRows);
  backend.sumRows(x, rows, cols, actualRows);
  assertClose(actualRows, expectedRows, 1e-6, 1e-6, 'sumRows');
  const expectedCols = new Float32Array(rows);
  const actualCols = new Float32Array(rows);
  js.sumCols(x, rows, cols, expectedCols);
  backend.sumCols(x, rows, cols, actualCols);
  assertClose(actualCols, expectedCols, 1e-6, 1e-6, 'sumCols');
  assertCloseNumber(backend.sum(x, x.length), js.sum(x, x.length), 1e-10, 'sum');
  assertCloseNumber(backend.sum(x, 1000), js.sum(x, 1000), 1e-10, 'sum of a prefix');
  assert.equal(backend.sum(x, 0), 0);
  // Double accumulation: a float accumulator would lose the small terms.
  const skewed = new Float32Array(10001).fill(1e-4);
  skewed[0] = 1e4;
  assertCloseNumber(backend.sum(skewed, skewed.length), js.sum(skewed, skewed.length), 1e-12, 'sum in double');
});

// ---- elementwise ----

test('add, sub, mul, scale and axpy agree with js, including out aliasing an input', () => {
  const backend = native();
  const n = 777;
  const a = normals(40, n);
  const b = normals(41, n, 3);
  for (const op of ['add', 'sub', 'mul'] as const) {
    const expected = new Float32Array(n);
    js[op](a, b, expected, n);
    const out = new Float32Array(n);
    backend[op](a, b, out, n);
    assertClose(out, expected, 1e-7, 0, op);
    const intoA = copy(a);
    backend[op](intoA, b, intoA, n);
    assertClose(intoA, expected, 1e-7, 0, `${op} into a`);
    const intoB = copy(b);
    backend[op](a, intoB, intoB, n);
    assertClose(intoB, expected, 1e-7, 0, `${op} into b`);
  }
  const scaled = new Float32Array(n);
  const expectedScaled = new Float32Array(n);
  js.scale(a, -0.37, expectedScaled, n);
  backend.scale(a, -0.37, scaled, n);
  assertClose(scaled, expectedScaled, 1e-7, 0, 'scale');
  const scaledInPlace = copy(a);
  backend.scale(scaledInPlace, -0.37, scaledInPlace, n);
  assertClose(scaledInPlace, expectedScaled, 1e-7, 0, 'scale in place');
  const y = copy(b);
  const expectedY = copy(b);
  js.axpy(0.1, a, expectedY, n);
  backend.axpy(0.1, a, y, n);
  assertClose(y, expectedY, 1e-7, 0, 'axpy');
  // Only the first n elements are touched.
  const partial = new Float32Array(10).fill(5);
  backend.add(new Float32Array(10).fill(1), new Float32Array(10).fill(1), partial, 4);
  assert.deepEqual([...partial], [2, 2, 2, 2, 5, 5, 5, 5, 5, 5]);
});

// ---- losses ----

test('bceWithLogits agrees with js, stays finite at logits of +-50 and more, and works without a gradient', () => {
  const backend = native();
  const [rows, cols] = [11, 203];
  const logits = normals(50, rows * cols, 4);
  const extremes = [50, -50, 100, -100, 88.7, -88.7, 0];
  for (let i = 0; i < extremes.length; i++) logits[i * 17] = extremes[i]!;
  const target = uniforms(51, rows * cols);
  for (let i = 0; i < rows * cols; i += 5) target[i] = i % 2; // exact 0/1 targets too
  const expectedLoss = new Float32Array(rows);
  const expectedGrad = new Float32Array(rows * cols);
  js.bceWithLogits(logits, target, rows, cols, expectedLoss, expectedGrad, 0.25);
  const loss = new Float32Array(rows);
  const grad = new Float32Array(rows * cols);
  backend.bceWithLogits(logits, target, rows, cols, loss, grad, 0.25);
  assert.ok(loss.every(Number.isFinite), 'bce loss is not finite');
  assert.ok(grad.every(Number.isFinite), 'bce gradient is not finite');
  assertClose(loss, expectedLoss, 1e-5, 0, 'bce rowLoss');
  assertClose(grad, expectedGrad, 1e-6, 1e-7, 'bce grad');
  const lossOnly = new Float32Array(rows);
  backend.bceWithLogits(logits, target, rows, cols, lossOnly, null, 0.25);
  assertClose(lossOnly, expectedLoss, 1e-5, 0, 'bce rowLoss without grad');
});

test('squaredError agrees with js, with and without a gradient', () => {
  const backend = native();
  const [rows, cols] = [13, 97];
  const pred = normals(60, rows * cols);
  const target = uniforms(61, rows * cols);
  const expectedLoss = new Float32Array(rows);
  const expectedGrad = new Float32Array(rows * cols);
  js.squaredError(pred, target, rows, cols, expectedLoss, expectedGrad, 1 / 13);
  const loss = new Float32Array(rows);
  const grad = new Float32Array(rows * cols);
  backend.squaredError(pred, target, rows, cols, loss, grad, 1 / 13);
  assertClose(loss, expectedLoss, 1e-5, 0, 'squaredError rowLoss');
  assertClose(grad, expectedGrad, 1e-6, 1e-7, 'squaredError grad');
  const lossOnly = new Float32Array(rows);
  backend.squaredError(pred, target, rows, cols, lossOnly, null, 1);
  assertClose(lossOnly, expectedLoss, 1e-5, 0, 'squaredError rowLoss without grad');
});

test('gaussianNll agrees with js with a per-element logvar, all gradient combinations', () => {
  const backend = native();
  const [rows, cols] = [7, 61];
  const mean = normals(70, rows * cols);
  const logvar = normals(71, rows * cols, 1.5, -0.5);
  const target = uniforms(72, rows * cols);
  const expectedLoss = new Float32Array(rows);
  const expectedMean = new Float32Array(rows * cols);
  const expectedLogvar = new Float32Array(rows * cols);
  js.gaussianNll(mean, logvar, target, rows, cols, expectedLoss, expectedMean, expectedLogvar, 0.5);
  for (const withMean of [true, false]) {
    for (const withLogvar of [true, false]) {
      const loss = new Float32Array(rows);
      const gradMean = withMean ? new Float32Array(rows * cols) : null;
      const gradLogvar = withLogvar ? new Float32Array(rows * cols) : null;
      backend.gaussianNll(mean, logvar, target, rows, cols, loss, gradMean, gradLogvar, 0.5);
      const label = `gaussianNll per element (gradMean ${withMean}, gradLogvar ${withLogvar})`;
      assertClose(loss, expectedLoss, 1e-5, 0, `${label} rowLoss`);
      if (gradMean !== null) assertClose(gradMean, expectedMean, 1e-6, 1e-7, `${label} gradMean`);
      if (gradLogvar !== null) assertClose(gradLogvar, expectedLogvar, 1e-6, 1e-7, `${label} gradLogvar`);
    }
  }
});

test('gaussianNll agrees with js with a shared (length 1) logvar and leaves gradLogvar alone', () => {
  const backend = native();
  const [rows, cols] = [5, 83];
  const mean = normals(80, rows * cols);
  const target = uniforms(81, rows * cols);
  for (const lv of [-2.3, 0, 1.7]) {
    const logvar = new Float32Array([lv]);
    const expectedLoss = new Float32Array(rows);
    const expectedMean = new Float32Array(rows * cols);
    js.gaussianNll(mean, logvar, target, rows, cols, expectedLoss, expectedMean, null, 1);
    const loss = new Float32Array(rows);
    const gradMean = new Float32Array(rows * cols);
    const untouched = new Float32Array(rows * cols).fill(42);
    backend.gaussianNll(mean, logvar, target, rows, cols, loss, gradMean, untouched, 1);
    assertClose(loss, expectedLoss, 1e-5, 0, `gaussianNll shared ${lv} rowLoss`);
    assertClose(gradMean, expectedMean, 1e-6, 1e-7, `gaussianNll shared ${lv} gradMean`);
    assert.ok(untouched.every((v) => v === 42), 'gradLogvar was written for a shared logvar');
  }
});

// ---- the latent Gaussian ----

test('reparameterize and klDiagonalGaussian agree with js', () => {
  const backend = native();
  const [rows, latent] = [17, 40];
  const meanLogvar = normals(90, rows * 2 * latent, 1.2);
  const eps = normals(91, rows * latent);
  const expectedZ = new Float32Array(rows * latent);
  js.reparameterize(meanLogvar, eps, expectedZ, rows, latent);
  const z = new Float32Array(rows * latent);
  backend.reparameterize(meanLogvar, eps, z, rows, latent);
  assertClose(z, expectedZ, 1e-6, 1e-7, 'reparameterize');
  const expectedKl = new Float32Array(rows);
  js.klDiagonalGaussian(meanLogvar, rows, latent, expectedKl);
  const kl = new Float32Array(rows);
  backend.klDiagonalGaussian(meanLogvar, rows, latent, kl);
  assertClose(kl, expectedKl, 1e-5, 0, 'klDiagonalGaussian');
});

test('reparameterizeBackward agrees with js with dz and with dz null (KL only)', () => {
  const backend = native();
  const [rows, latent] = [19, 23];
  const meanLogvar = normals(100, rows * 2 * latent, 1.2);
  const eps = normals(101, rows * latent);
  const dz = normals(102, rows * latent);
  for (const [withDz, klScale] of [[true, 0.7], [false, 1.3], [true, 0]] as const) {
    const expected = new Float32Array(rows * 2 * latent);
    js.reparameterizeBackward(meanLogvar, eps, withDz ? dz : null, expected, rows, latent, klScale);
    const actual = new Float32Array(rows * 2 * latent);
    backend.reparameterizeBackward(meanLogvar, eps, withDz ? dz : null, actual, rows, latent, klScale);
    assertClose(actual, expected, 1e-6, 1e-7, `reparameterizeBackward dz ${withDz ? 'given' : 'null'} klScale ${klScale}`);
  }
  // With dz null, eps is not read, so an empty one is fine.
  const expected = new Float32Array(rows * 2 * latent);
  js.reparameterizeBackward(meanLogvar, eps, null, expected, rows, latent, 1);
  const actual = new Float32Array(rows * 2 * latent);
  backend.reparameterizeBackward(meanLogvar, new Float32Array(0), null, actual, rows, latent, 1);
  assertClose(actual, expected, 1e-6, 1e-7, 'reparameterizeBackward without eps');
});

// ---- the optimizer ----

// The native Adam works in float (so it vectorizes): agreement within float rounding over the steps
// (m cancels when large and small gradients alternate, hence an absolute floor).
// 70,001 parameters take the two-thread path with a ragged last chunk.
test('adam agrees with js over several steps', () => {
  const backend = native();
  const n = 70_001;
  const state = (): { params: Float32Array; m: Float32Array; v: Float32Array } => ({
    params: normals(110, n, 0.1),
    m: new Float32Array(n),
    v: new Float32Array(n),
  });
  const ours = state();
  const theirs = state();
  for (let step = 1; step <= 6; step++) {
    const grads = normals(200 + step, n, step % 2 === 0 ? 1e-3 : 2);
    js.adam(theirs.params, grads, theirs.m, theirs.v, n, 1e-3, 0.9, 0.999, 1e-7, step);
    backend.adam(ours.params, grads, ours.m, ours.v, n, 1e-3, 0.9, 0.999, 1e-7, step);
    assertClose(ours.m, theirs.m, 1e-5, 1e-7, `adam m after step ${step}`);
    assertClose(ours.v, theirs.v, 1e-5, 1e-10, `adam v after step ${step}`);
    assertClose(ours.params, theirs.params, 1e-5, 1e-7, `adam params after step ${step}`);
  }
});

// With a layout the threads cut the update by each tensor's rows (native/adam.cc): every parameter
// is updated once, with the bits of the update without a layout (and the bf16 copy with them).
test('adam with a layout of tensors gives the bits it gives without one, and refuses a layout that does not add up', () => {
  const backend = native();
  // A layer's weights and bias, an odd tensor of 3 rows, and 1,000 rows of 37 (8 units, ragged).
  // (An empty tensor, of 0 elements, takes no rows of anyone's.)
  const layout = Int32Array.from([784 * 512, 784, 512, 512, 0, 1, 3 * 7, 3, 1000 * 37, 1000]);
  const n = 784 * 512 + 512 + 21 + 37_000;
  const run = (withLayout: boolean, withHalf: boolean): ArrayBufferView[] => {
    const params = normals(120, n, 0.1);
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    const half = withHalf ? new Uint16Array(n) : null;
    for (let step = 1; step <= 3; step++) {
      backend.adam(params, normals(130 + step, n, 0.5), m, v, n, 1e-3, 0.9, 0.999, 1e-7, step, half, withLayout ? layout : null);
    }
    return half === null ? [params, m, v] : [params, m, v, half];
  };
  for (const withHalf of [false, true]) {
    const whole = run(false, withHalf);
    run(true, withHalf).forEach((a, i) => assert.ok(sameBits(a, whole[i]!), `array ${i} differs (bf16 copy: ${withHalf})`));
  }
  const p = normals(140, 10, 1);
  for (const bad of [[6, 2, 5, 5], [6, 4, 4, 4], [10, 3], [10], [10, 0], [-1, 1, 11, 1]]) {
    assert.throws(() => backend.adam(p, p, new Float32Array(10), new Float32Array(10), 10, 1e-3, 0.9, 0.999, 1e-7, 1, null, Int32Array.from(bad)), /layout must hold each tensor's size and rows/);
  }
});

// Adam's own health check: a NaN or an infinity anywhere in the gradients (first, last, in a bias, in
// the last unit of a layer's rows) leaves every array as it was and is counted; finite ones update
// with the bits of an update without the check. The js backend does the same.
test('adam with onlyIfFinite changes nothing when a gradient is not finite, and otherwise gives the bits it gives without the check', () => {
  const backend = native();
  const layout = Int32Array.from([784 * 512, 784, 512, 512, 3 * 7, 3]);
  const n = 784 * 512 + 512 + 21;
  for (const engine of [backend, js]) {
    for (const withLayout of [false, true]) {
      for (const withHalf of [false, true]) {
        const arrays = (): { params: Float32Array; m: Float32Array; v: Float32Array; half: Uint16Array | null } => ({
          params: normals(150, n, 0.1), m: normals(151, n, 0.01), v: uniforms(152, n), half: withHalf ? new Uint16Array(n).fill(5) : null,
        });
        const lay = withLayout ? layout : null;
        for (const [position, bad] of [[0, NaN], [n - 1, Infinity], [784 * 512 + 3, -Infinity], [783 * 512 + 100, NaN]] as const) {
          const grads = normals(153, n, 0.5);
          grads[position] = bad;
          grads[17] = NaN;
          const a = arrays();
          const before = [a.params.slice(), a.m.slice(), a.v.slice(), ...(a.half === null ? [] : [a.half.slice()])];
          const count = engine.adam(a.params, grads, a.m, a.v, n, 1e-3, 0.9, 0.999, 1e-7, 2, a.half, lay, true);
          assert.equal(count, 2, `${engine.name}: the count`);
          [a.params, a.m, a.v, ...(a.half === null ? [] : [a.half])].forEach((x, i) =>
            assert.ok(sameBits(x, before[i]!), `${engine.name} (layout ${withLayout}, bf16 ${withHalf}): array ${i} changed though gradient ${position} is ${bad}`));
        }
        const grads = normals(154, n, 0.5);
        const checked = arrays();
        const plain = arrays();
        assert.equal(engine.adam(checked.params, grads, checked.m, checked.v, n, 1e-3, 0.9, 0.999, 1e-7, 2, checked.half, lay, true), 0);
        assert.equal(engine.adam(plain.params, grads, plain.m, plain.v, n, 1e-3, 0.9, 0.999, 1e-7, 2, plain.half, lay), 0);
        assert.ok(sameBits(checked.params, plain.params) && sameBits(checked.v, plain.v), `${engine.name}: finite gradients update as without the check`);
      }
    }
  }
});

// ---- views and bounds ----

test('kernels honour subarray views: they read and write at the view offset and nowhere else', () => {
  const backend = native();
  const [rows, cols] = [4, 9];
  const size = rows * cols;
  const pool = normals(120, 4 * size + 40);
  const x = pool.subarray(5, 5 + size);
  const target = uniforms(121, 2 * size + 8).subarray(3, 3 + size);
  const out = new Float32Array(size + 20).fill(-7);
  const view = out.subarray(10, 10 + size);
  const untouched = (label: string): void => {
    for (let i = 0; i < 10; i++) assert.equal(out[i], -7, `${label} wrote before its view`);
    for (let i = 10 + size; i < out.length; i++) assert.equal(out[i], -7, `${label} wrote after its view`);
  };
  const expected = new Float32Array(size);
  const bias = pool.subarray(100, 100 + cols);
  js.biasActivation(copy(x), copy(bias), expected, rows, cols, 'tanh', 0);
  backend.biasActivation(x, bias, view, rows, cols, 'tanh', 0);
  assertClose(view, expected, 1e-6, 1e-7, 'biasActivation on views');
  untouched('biasActivation');
  const rowLoss = new Float32Array(rows + 4).subarray(2, 2 + rows);
  const expectedLoss = new Float32Array(rows);
  js.bceWithLogits(copy(x), copy(target), rows, cols, expectedLoss, expected, 1);
  backend.bceWithLogits(x, target, rows, cols, rowLoss, view, 1);
  assertClose(rowLoss, expectedLoss, 1e-5, 0, 'bce rowLoss on views');
  assertClose(view, expected, 1e-6, 1e-7, 'bce grad on views');
  untouched('bceWithLogits');
  assertCloseNumber(backend.sum(x, size), js.sum(copy(x), size), 1e-10, 'sum on a view');
});

test('sizes larger than the arrays throw instead of writing', () => {
  const backend = native();
  const raw = addon();
  const f = (n: number, fill = 3): Float32Array => new Float32Array(n).fill(fill);
  const cases: [string, (out: Float32Array) => void][] = [
    ['gemm c', (out) => backend.gemm(false, false, 3, 3, 2, 1, f(6), f(6), 0, out)],
    ['gemm a', (out) => backend.gemm(true, false, 2, 2, 2, 1, f(3), f(4), 0, out)],
    ['gemmPortable b', (out) => raw.gemmPortable(false, true, 2, 2, 3, 1, f(6), f(5), 0, out)],
    ['biasActivation', (out) => backend.biasActivation(f(12), f(4), out, 3, 4, 'relu', 0)],
    ['biasActivation bias', (out) => backend.biasActivation(f(8), f(3), out, 2, 4, 'relu', 0)],
    ['activationBackward', (out) => backend.activationBackward(f(9), f(9), out, 9, 'sigmoid', 0)],
    ['sumRows', (out) => backend.sumRows(f(40), 4, 10, out)],
    ['sumCols', (out) => backend.sumCols(f(100), 10, 10, out)],
    ['add', (out) => backend.add(f(9), f(9), out, 9)],
    ['sub a', (out) => backend.sub(f(5), f(9), out, 8)],
    ['mul', (out) => backend.mul(f(9), f(9), out, 9)],
    ['scale', (out) => backend.scale(f(9), 2, out, 9)],
    ['axpy', (out) => backend.axpy(2, f(9), out, 9)],
    ['bceWithLogits grad', (out) => backend.bceWithLogits(f(9), f(9), 3, 3, f(3), out, 1)],
    ['bceWithLogits rowLoss', (out) => backend.bceWithLogits(f(16), f(16), 16, 1, out, null, 1)],
    ['squaredError', (out) => backend.squaredError(f(9), f(9), 3, 3, f(3), out, 1)],
    ['gaussianNll gradMean', (out) => backend.gaussianNll(f(9), f(9), f(9), 3, 3, f(3), out, null, 1)],
    ['gaussianNll gradLogvar', (out) => backend.gaussianNll(f(9), f(9), f(9), 3, 3, f(3), null, out, 1)],
    ['gaussianNll logvar', (out) => backend.gaussianNll(f(9), f(2), f(9), 3, 3, out, null, null, 1)],
    ['reparameterize', (out) => backend.reparameterize(f(18), f(9), out, 3, 3)],
    ['klDiagonalGaussian', (out) => backend.klDiagonalGaussian(f(18), 9, 1, out)],
    ['reparameterizeBackward', (out) => backend.reparameterizeBackward(f(18), f(9), f(9), out, 3, 3, 1)],
    ['reparameterizeBackward dz', (out) => backend.reparameterizeBackward(f(8), f(4), f(3), out, 2, 2, 1)],
    ['adam', (out) => backend.adam(out, f(9), f(9), f(9), 9, 1e-3, 0.9, 0.999, 1e-8, 1)],
  ];
  for (const [label, call] of cases) {
    const out = new Float32Array(8).fill(-1);
    assert.throws(() => call(out), (err: unknown) => {
      assert.ok(err instanceof RangeError, `${label}: threw ${String(err)}, not a RangeError`);
      assert.match(err.message, /need/, `${label}: ${err.message}`);
      return true;
    }, `${label} did not throw`);
    assert.ok(out.every((v) => v === -1), `${label} wrote before throwing`);
  }
});

test('bad arguments throw: a non-Float32Array, a negative or fractional size, an unknown activation', () => {
  const raw = addon();
  const f = (n: number): Float32Array => new Float32Array(n);
  assert.throws(() => raw.add(new Float64Array(4) as unknown as Float32Array, f(4), f(4), 4), TypeError);
  assert.throws(() => raw.add(f(4), f(4), f(4), -1), RangeError);
  assert.throws(() => raw.add(f(4), f(4), f(4), 1.5), RangeError);
  assert.throws(() => raw.add(f(4), f(4), f(4), Number.NaN), RangeError);
  assert.throws(() => raw.biasActivation(f(4), f(4), f(4), 1, 4, 5, 0), /activation/);
  assert.throws(() => raw.add(f(4), null as unknown as Float32Array, f(4), 4), TypeError);
  assert.throws(() => (raw.sum as unknown as (x: Float32Array) => number)(f(4)), /missing/);
  assert.throws(() => raw.activationBackward(f(4), f(4), f(4), 4, ACTIVATION_CODE.sigmoid + 1, 0), /activation/);
});

// ---- the two-thread paths ----

test('row kernels split across threads agree with js on a full training batch (128 x 784)', () => {
  const backend = native();
  const [rows, cols] = [128, 784];
  const n = rows * cols;
  const x = normals(300, n, 3);
  const target = uniforms(301, n);
  const bias = normals(302, cols);
  for (const act of ['linear', 'relu', 'sigmoid'] as const) {
    const expected = new Float32Array(n);
    const actual = new Float32Array(n);
    js.biasActivation(x, bias, expected, rows, cols, act, 0);
    backend.biasActivation(x, bias, actual, rows, cols, act, 0);
    assertClose(actual, expected, 1e-6, 1e-7, `biasActivation ${act} (threaded)`);
  }
  const expectedLoss = new Float32Array(rows);
  const expectedGrad = new Float32Array(n);
  const loss = new Float32Array(rows);
  const grad = new Float32Array(n);
  js.bceWithLogits(x, target, rows, cols, expectedLoss, expectedGrad, 1 / rows);
  backend.bceWithLogits(x, target, rows, cols, loss, grad, 1 / rows);
  assertClose(loss, expectedLoss, 1e-5, 0, 'bce rowLoss (threaded)');
  assertClose(grad, expectedGrad, 1e-5, 1e-9, 'bce grad (threaded)');
});

test('gatherBytes matches js exactly (bytes / 255), with and without an index, rejects rows outside the bytes, and takes rows of no columns', () => {
  const backend = native();
  const [count, cols, rows] = [300, 784, 128];
  const bytes = Uint8Array.from({ length: count * cols }, (_, i) => (i * 37 + (i >> 5)) & 255);
  const index = Uint32Array.from({ length: count }, (_, i) => (i * 113) % count);
  for (const rowIndex of [index, null]) {
    const expected = new Float32Array(rows * cols);
    const actual = new Float32Array(rows * cols);
    js.gatherBytes(bytes, rowIndex, 7, rows, cols, 255, expected);
    backend.gatherBytes(bytes, rowIndex, 7, rows, cols, 255, actual);
    assert.deepEqual(actual, expected);
    assert.equal(actual[0], Math.fround(bytes[(rowIndex === null ? 7 : index[7]!) * cols]! / 255));
  }
  const out = new Float32Array(2 * cols);
  assert.throws(() => backend.gatherBytes(bytes, Uint32Array.from([0, count]), 0, 2, cols, 255, out), RangeError);
  assert.throws(() => js.gatherBytes(bytes, Uint32Array.from([0, count]), 0, 2, cols, 255, out), RangeError);
  assert.throws(() => backend.gatherBytes(bytes, null, count - 1, 2, cols, 255, out), RangeError);
  // Rows of no columns, and no rows: nothing to write (the prefetch's row arithmetic divides by cols).
  const untouched = new Float32Array(4).fill(5);
  backend.gatherBytes(bytes, index, 0, 3, 0, 255, untouched);
  backend.gatherBytes(bytes, index, 0, 0, cols, 255, untouched);
  assert.deepEqual(Array.from(untouched), [5, 5, 5, 5]);
});

// ---- convolution patches ----

interface PatchGeometry {
  rows: number;
  height: number;
  width: number;
  channels: number;
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
}

function patchShape(g: PatchGeometry): { outH: number; outW: number; imageSize: number; colsSize: number } {
  const outH = Math.floor((g.height + 2 * g.pad[0] - g.kernel[0]) / g.stride[0]) + 1;
  const outW = Math.floor((g.width + 2 * g.pad[1] - g.kernel[1]) / g.stride[1]) + 1;
  return {
    outH, outW,
    imageSize: g.rows * g.height * g.width * g.channels,
    colsSize: g.rows * outH * outW * g.kernel[0] * g.kernel[1] * g.channels,
  };
}

// Both kernels copy, or add in the same order (image, oy, ox, ky, kx), so the results are bit-equal.
// 128 images of 14x14x32 (the second layer of a conv encoder at batch 128) and 37 of them (a ragged
// split) take the multi-thread path; so do 128 MNIST images through a 4x4 window.
test('im2col and col2im agree with js exactly on batches that take the threaded path, on views', () => {
  const backend = native();
  const geometries: PatchGeometry[] = [
    { rows: 128, height: 14, width: 14, channels: 32, kernel: [4, 4], stride: [2, 2], pad: [1, 1] },
    { rows: 37, height: 14, width: 14, channels: 32, kernel: [4, 4], stride: [2, 2], pad: [1, 1] },
    { rows: 128, height: 28, width: 28, channels: 1, kernel: [4, 4], stride: [2, 2], pad: [1, 1] },
    { rows: 64, height: 11, width: 9, channels: 3, kernel: [5, 5], stride: [1, 1], pad: [2, 2] },
    // A Conv1d's 1 x k window over 120-point windows of 8 channels, and a window that is not square.
    { rows: 128, height: 1, width: 120, channels: 8, kernel: [1, 5], stride: [1, 2], pad: [0, 2] },
    { rows: 50, height: 9, width: 13, channels: 4, kernel: [3, 2], stride: [2, 1], pad: [1, 0] },
  ];
  let seed = 500;
  for (const g of geometries) {
    const { outH, outW, imageSize, colsSize } = patchShape(g);
    const label = `${g.rows}x${g.height}x${g.width}x${g.channels} k${g.kernel.join('x')} s${g.stride.join('x')} p${g.pad.join('x')}`;
    const x = normals(seed++, imageSize + 7).subarray(7);
    const expectedCols = new Float32Array(colsSize);
    js.im2col(x, g.rows, g.height, g.width, g.channels, ...g.kernel, ...g.stride, ...g.pad, outH, outW, expectedCols);
    const colsPool = new Float32Array(colsSize + 10).fill(Number.NaN);
    const cols = colsPool.subarray(5, 5 + colsSize);
    backend.im2col(x, g.rows, g.height, g.width, g.channels, ...g.kernel, ...g.stride, ...g.pad, outH, outW, cols);
    assert.deepEqual(cols, expectedCols, `im2col ${label}`);
    assert.ok(colsPool.subarray(0, 5).every(Number.isNaN) && colsPool.subarray(5 + colsSize).every(Number.isNaN), `im2col ${label} wrote outside its view`);

    const c = normals(seed++, colsSize + 3).subarray(3);
    const expectedImage = new Float32Array(imageSize);
    js.col2im(c, g.rows, g.height, g.width, g.channels, ...g.kernel, ...g.stride, ...g.pad, outH, outW, expectedImage);
    const imagePool = new Float32Array(imageSize + 10).fill(Number.NaN);
    const image = imagePool.subarray(5, 5 + imageSize);
    backend.col2im(c, g.rows, g.height, g.width, g.channels, ...g.kernel, ...g.stride, ...g.pad, outH, outW, image);
    assert.deepEqual(image, expectedImage, `col2im ${label}`);
    assert.ok(imagePool.subarray(0, 5).every(Number.isNaN) && imagePool.subarray(5 + imageSize).every(Number.isNaN), `col2im ${label} wrote outside its view`);
  }
});

test('im2col and col2im throw a RangeError without writing when the sizes do not fit the arrays', () => {
  const backend = native();
  const raw = addon();
  const f = (n: number, fill = 3): Float32Array => new Float32Array(n).fill(fill);
  const max = 2147483647;
  const cases: [string, (out: Float32Array) => void][] = [
    // 1 image of 3x3x1, 3x3 window, pad 1: 9 positions of 9 values, cols needs 81.
    ['im2col cols', (out) => backend.im2col(f(9), 1, 3, 3, 1, 3, 3, 1, 1, 1, 1, 3, 3, out)],
    // cols needs 4 (fits), x needs 9 but has 8.
    ['im2col x', (out) => backend.im2col(f(8), 1, 3, 3, 1, 1, 1, 1, 1, 0, 0, 2, 2, out)],
    // 2 images need x of 18 (x has 12) and cols of 8 (fits).
    ['im2col rows', (out) => backend.im2col(f(12), 2, 3, 3, 1, 1, 1, 1, 1, 0, 0, 2, 2, out)],
    // x needs 2*2*3 = 12 but has 8.
    ['col2im x', (out) => backend.col2im(f(12), 1, 2, 2, 3, 1, 1, 1, 1, 0, 0, 2, 2, out)],
    // x needs 8 (fits, and would be zeroed), cols needs 2*2*2 = 8 but has 7.
    ['col2im cols', (out) => backend.col2im(f(7), 1, 2, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1, out)],
    // Products past 2^64 elements are caught, not wrapped around.
    ['im2col overflow', (out) => backend.im2col(f(8), max, max, max, max, max, max, 1, 1, 0, 0, max, max, out)],
    ['col2im overflow', (out) => backend.col2im(f(8), max, max, max, max, 1, 1, 1, 1, 0, 0, 1, 1, out)],
  ];
  for (const [label, call] of cases) {
    const out = new Float32Array(8).fill(-1);
    assert.throws(() => call(out), (err: unknown) => {
      assert.ok(err instanceof RangeError, `${label}: threw ${String(err)}, not a RangeError`);
      assert.match(err.message, /need/, `${label}: ${err.message}`);
      return true;
    }, `${label} did not throw`);
    assert.ok(out.every((v) => v === -1), `${label} wrote before throwing`);
  }
  const out = new Float32Array(8);
  assert.throws(() => raw.im2col(f(9), 1, 3, 3, 1, -1, 1, 1, 1, 0, 0, 1, 1, out), RangeError);
  assert.throws(() => raw.im2col(f(9), 1, 3, 3, 1, 1, 1, 1, 1.5, 0, 0, 1, 1, out), RangeError);
  assert.throws(() => raw.col2im(f(9), 1, 2, 2, 2, 1, 1, 1, 1, 0, 0, 1, Number.NaN, out), RangeError);
  assert.throws(() => raw.col2im(new Float64Array(9) as unknown as Float32Array, 1, 2, 2, 2, 1, 1, 1, 1, 0, 0, 1, 1, out), TypeError);
  assert.throws(() => (raw.im2col as unknown as (x: Float32Array) => void)(f(9)), /missing/);
});

test('countNonFinite counts NaN and both infinities like js, at any length and position, over the thread pool', () => {
  for (const n of [0, 1, 17, 70_000, 866_144]) {
    const x = normals(n + 3, n, 1e30);
    const rng = new Random(n);
    for (let k = 0; k < Math.min(n, 40); k++) x[rng.int(n)] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][k % 3]!;
    if (n > 0) x[n - 1] = Number.NaN;
    assert.equal(native().countNonFinite(x, n), js.countNonFinite(x, n), `n = ${n}`);
  }
  const finite = new Float32Array([3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -0, 0]);
  assert.equal(native().countNonFinite(finite, finite.length), 0, 'the largest float, the smallest subnormal and zeros are finite');
  assert.equal(js.countNonFinite(new Float32Array([Number.NaN, 1, Number.NEGATIVE_INFINITY]), 3), 2);
});
