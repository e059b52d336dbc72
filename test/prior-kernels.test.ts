/**
 * The mixture prior's kernels (mixtureLogDensity, mixtureBackward), dynamic binarization and the
 * gaussian input noise on the native addon against the js backend (the reference), on seeded random
 * inputs; the noise kernels bit for bit. The comparisons are skipped, with the reason, when the
 * addon is not built (`node scripts/build-native.mjs`). The file runs again with narrower vector
 * widths (the last test), so that the AVX2 and SSE2 paths are checked on an AVX-512 machine too.
 *
 * Tolerances. Both backends compute in float64 from the same float32 inputs; they differ in the
 * order of a few sums, in fused multiply-adds, in exp (native: within 1 ulp of Math.exp, and 0
 * below double's normal range, ~2.2e-308, where js has subnormals) and in the form of the backward
 * pass's sums (native: (z - m) summed, then divided by v once). So:
 * - log p = max_k l_k + log sum_k exp(l_k - max): off by a few ulps of the sizes of its terms
 *   (the constants and quadratic forms, up to ~1e3 in these tests), even where log p is near 0,
 *   so 1e-12 absolute (the worst seen is 1e-13) plus 1e-13 relative for the rows far from every
 *   component (log p ~ -1e4);
 * - a responsibility gamma = exp(l - log p) is off by the absolute error of its exponent, a few
 *   ulps of |l| + |log p| (up to ~1e4 for sharp components far from z), so relative
 *   1e-14 (1 + |l| + |log p|), plus 1e-300 for the flushed subnormals;
 * - the float32 outputs are float64 sums rounded once: one float32 rounding apart (2^-23 relative)
 *   when the sums agree, plus the float64 sums' own disagreement, a few ulps of the largest term of
 *   the sum: 1e-12 of the largest |value| of that output (the sums cancel: a mean's gradient is a
 *   signed sum over the rows).
 */
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../src/engine/backend.js';
import { JsBackend } from '../src/engine/js-backend.js';
import { Random } from '../src/engine/random.js';
import { assertClose } from './helpers/assert-close.js';
import { nativeOrReason } from './helpers/native.js';

const js = new JsBackend();

const native = nativeOrReason();
const skip = typeof native === 'string' ? native : false;

function nativeBackend(): Backend {
  if (typeof native === 'string') throw new Error(native);
  return native;
}

function normals(rng: Random, n: number, scale = 1, offset = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = offset + scale * rng.normal();
  return out;
}

interface Mixture {
  K: number;
  L: number;
  rows: number;
  z: Float32Array;
  means: Float32Array;
  logvars: Float32Array;
  logits: Float32Array;
}

/**
 * A random mixture and batch. Broad: unit-ish variances, every component matters for every z.
 * Sharp: variances around 0.05 and means spread out, so most responsibilities vanish (and some z
 * sit on top of a component).
 */
function mixture(seed: number, K: number, L: number, rows: number, sharp: boolean): Mixture {
  const rng = new Random(seed);
  const means = normals(rng, K * L, sharp ? 2 : 1);
  const logvars = normals(rng, K * L, 0.3, sharp ? Math.log(0.05) : 0);
  const logits = normals(rng, K, 1.5);
  const z = normals(rng, rows * L, sharp ? 2 : 1);
  // A few rows drawn near a component, so that some responsibilities are near 1 and near 0.5.
  for (let r = 0; r < rows; r += 3) {
    const k = rng.int(K);
    for (let d = 0; d < L; d++) z[r * L + d] = means[k * L + d]! + 0.1 * rng.normal();
  }
  return { K, L, rows, z, means, logvars, logits };
}

function forward(b: Backend, m: Mixture): { out: Float64Array; gamma: Float64Array } {
  const out = new Float64Array(m.rows);
  const gamma = new Float64Array(m.rows * m.K);
  b.mixtureLogDensity(m.z, m.rows, m.L, m.K, m.means, m.logvars, m.logits, out, gamma);
  return { out, gamma };
}

interface Gradients { dz: Float32Array; dMeans: Float32Array; dLogvars: Float32Array; dLogits: Float32Array }

function backward(b: Backend, m: Mixture, gamma: Float64Array, scale: number, rowScale: Float32Array | null, dz0: Float32Array): Gradients {
  const g: Gradients = {
    dz: new Float32Array(dz0),
    // Filled with garbage: the kernel must overwrite them.
    dMeans: new Float32Array(m.K * m.L).fill(7),
    dLogvars: new Float32Array(m.K * m.L).fill(-7),
    dLogits: new Float32Array(m.K).fill(3),
  };
  b.mixtureBackward(m.z, m.rows, m.L, m.K, m.means, m.logvars, m.logits, gamma, scale, rowScale, g.dz, g.dMeans, g.dLogvars, g.dLogits);
  return g;
}

function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}

/** A float32 output: one float32 rounding apart, plus 1e-12 of the output's largest value (see the top). */
function assertFloat32Close(actual: Float32Array, expected: Float32Array, label: string): void {
  assertClose(actual, expected, 2 ** -23, 1e-12 * maxAbs(expected), label);
}

function assertForwardClose(actual: { out: Float64Array; gamma: Float64Array }, expected: { out: Float64Array; gamma: Float64Array }, m: Mixture, label: string): void {
  assertClose(actual.out, expected.out, 1e-13, 1e-12, `${label}: log p`);
  for (let r = 0; r < m.rows; r++) {
    for (let k = 0; k < m.K; k++) {
      const i = r * m.K + k;
      const e = expected.gamma[i]!;
      const a = actual.gamma[i]!;
      const exponent = Math.abs(Math.log(e)) + Math.abs(expected.out[r]!);
      const tol = 1e-14 * (1 + (Number.isFinite(exponent) ? exponent : 0)) * e + 1e-300;
      if (!(Math.abs(a - e) <= tol)) assert.fail(`${label}: gamma[${r}, ${k}] is ${a}, expected ${e} (tolerance ${tol})`);
    }
  }
}

// (K, L, rows): sizes off every block boundary (the native kernels take 4 rows, 16 components and
// 16 dimensions at a time), and a training batch of the conv recipe's mixture, which takes the
// threaded paths.
const SIZES: Array<[number, number, number]> = [[1, 1, 1], [3, 2, 5], [7, 5, 13], [16, 16, 8], [17, 33, 9], [40, 10, 64], [200, 64, 128]];

for (const [K, L, rows] of SIZES) {
  for (const sharp of [false, true]) {
    const label = `K ${K}, L ${L}, ${rows} rows, ${sharp ? 'sharp' : 'broad'} components`;
    test(`mixtureLogDensity and mixtureBackward agree with js (${label}), with and without rowScale`, { skip }, () => {
      const b = nativeBackend();
      const m = mixture(K * 1000 + L * 10 + rows + (sharp ? 1 : 0), K, L, rows, sharp);
      const expected = forward(js, m);
      const actual = forward(b, m);
      assertForwardClose(actual, expected, m, label);
      const rng = new Random(5);
      const dz0 = normals(rng, rows * L, 0.1);
      // Weights like the IWAE's, with some rows left out (c = 0: dz untouched, no gradient).
      const rowScale = new Float32Array(rows);
      for (let r = 0; r < rows; r++) rowScale[r] = r % 4 === 1 ? 0 : rng.uniform();
      for (const [scale, weights] of [[0.7, null], [1 / rows, rowScale]] as const) {
        // Both from the js backend's responsibilities, so that the comparison is of the backward pass alone.
        const want = backward(js, m, expected.gamma, scale, weights, dz0);
        const got = backward(b, m, expected.gamma, scale, weights, dz0);
        const what = `${label}, ${weights === null ? 'no rowScale' : 'rowScale'}`;
        assertFloat32Close(got.dz, want.dz, `${what}: dz`);
        assertFloat32Close(got.dMeans, want.dMeans, `${what}: dMeans`);
        assertFloat32Close(got.dLogvars, want.dLogvars, `${what}: dLogvars`);
        assertFloat32Close(got.dLogits, want.dLogits, `${what}: dLogits`);
        if (weights !== null) {
          for (let r = 1; r < rows; r += 4) {
            for (let d = 0; d < L; d++) assert.ok(Object.is(got.dz[r * L + d], dz0[r * L + d]), `${what}: row ${r} has c = 0 and keeps its dz`);
          }
        }
        // The same bits on a second call (fixed thread count: the partial sums are added in order).
        const again = backward(b, m, expected.gamma, scale, weights, dz0);
        assert.deepEqual([again.dz, again.dMeans, again.dLogvars, again.dLogits], [got.dz, got.dMeans, got.dLogvars, got.dLogits], `${what}: deterministic`);
      }
    });
  }
}

test('the mixture kernels keep log-sum-exp finite far from every component, and their NaNs where z is NaN', { skip }, () => {
  const b = nativeBackend();
  const m = mixture(3, 5, 4, 3, false);
  m.z.set([300, -300, 250, 1], 0);
  m.z[8] = NaN;
  const expected = forward(js, m);
  const actual = forward(b, m);
  assert.ok(Number.isFinite(actual.out[0]!) && actual.out[0]! < -1e4, `log p far away is ${actual.out[0]}`);
  assertClose(actual.out.subarray(0, 2), expected.out.subarray(0, 2), 1e-13, 1e-12, 'log p');
  assert.ok(Number.isNaN(actual.out[2]!) && Number.isNaN(expected.out[2]!));
  assert.ok(actual.gamma.subarray(10, 15).every(Number.isNaN));
  // Gamma of the far rows sums to 1 (one component takes it all).
  for (let r = 0; r < 2; r++) assert.ok(Math.abs(actual.gamma.subarray(r * 5, r * 5 + 5).reduce((s, g) => s + g, 0) - 1) < 1e-12);
});

test('mixtureBackward with scale 0 or no rows writes zero gradients and leaves dz alone', { skip }, () => {
  const b = nativeBackend();
  const m = mixture(4, 6, 5, 7, false);
  const { gamma } = forward(b, m);
  const dz0 = normals(new Random(1), m.rows * m.L);
  for (const rows of [m.rows, 0]) {
    const g = backward(b, { ...m, rows }, gamma, rows === 0 ? 1 : 0, null, dz0);
    assert.deepEqual(g.dz, dz0);
    for (const grad of [g.dMeans, g.dLogvars, g.dLogits]) assert.ok(grad.every((v) => v === 0), 'zero gradients');
  }
});

test('the mixture kernels throw a RangeError without writing when a size does not fit an array', { skip }, () => {
  const b = nativeBackend();
  const m = mixture(6, 4, 3, 5, false);
  const out = new Float64Array(m.rows);
  const gamma = new Float64Array(m.rows * m.K);
  assert.throws(() => b.mixtureLogDensity(m.z, m.rows + 1, m.L, m.K, m.means, m.logvars, m.logits, out, gamma), RangeError);
  assert.throws(() => b.mixtureLogDensity(m.z, m.rows, m.L, m.K, m.means, m.logvars, m.logits, out, gamma.subarray(1)), RangeError);
  assert.throws(() => b.mixtureLogDensity(m.z, m.rows, m.L, m.K + 1, m.means, m.logvars, m.logits, out, gamma), RangeError);
  assert.ok(out.every((v) => v === 0) && gamma.every((v) => v === 0));
  const dz = new Float32Array(m.rows * m.L);
  const grads = [new Float32Array(m.K * m.L), new Float32Array(m.K * m.L), new Float32Array(m.K)] as const;
  assert.throws(() => b.mixtureBackward(m.z, m.rows, m.L, m.K, m.means, m.logvars, m.logits, gamma, 1, new Float32Array(m.rows - 1), dz, ...grads), RangeError);
  assert.throws(() => b.mixtureBackward(m.z, m.rows, m.L, m.K, m.means, m.logvars, m.logits, gamma, 1, null, dz, grads[0], grads[1], new Float32Array(m.K - 1)), RangeError);
  assert.throws(() => b.mixtureBackward(m.z, m.rows, m.L, m.K, m.means, m.logvars, m.logits, new Float32Array(m.rows * m.K) as unknown as Float64Array, 1, null, dz, ...grads), TypeError);
  assert.ok(dz.every((v) => v === 0) && grads.every((g) => g.every((v) => v === 0)));
});

test('binarize draws the same bits as js, row by row, with out separate and out === clean', { skip }, () => {
  const b = nativeBackend();
  // 128 x 784 takes the threaded path, in groups of 16 rows drawn side by side; 5 x 7 the inline
  // one; 37 x 100 has rows left over after the groups and a short last block of columns.
  for (const [rows, cols] of [[5, 7], [128, 784], [37, 100]] as const) {
    const rng = new Random(rows);
    const clean = new Float32Array(rows * cols);
    rng.fillUniform(clean);
    for (let i = 0; i < clean.length; i += 11) clean[i] = i % 2; // exact 0 and 1 pixels
    const seeds = new Uint32Array(rows);
    for (let r = 0; r < rows; r++) seeds[r] = rng.nextUint32();
    const expected = new Float32Array(rows * cols);
    js.binarize(clean, expected, rows, cols, seeds);
    const actual = new Float32Array(rows * cols).fill(0.5);
    b.binarize(clean, actual, rows, cols, seeds);
    assert.deepEqual(actual, expected);
    assert.ok(expected.every((v) => v === 0 || v === 1));
    const inPlace = new Float32Array(clean);
    b.binarize(inPlace, inPlace, rows, cols, seeds);
    assert.deepEqual(inPlace, expected);
  }
  assert.throws(() => b.binarize(new Float32Array(6), new Float32Array(6), 2, 3, new Uint32Array(1)), RangeError);
});

test('gaussianNoise draws the same normals as the js Random, row by row, and clips to [0, 1]', { skip }, () => {
  const b = nativeBackend();
  // 64 x 784 takes the two-thread path with whole groups of 16 rows drawn side by side; 37 x 100
  // adds rows left over after the groups and a last block of columns shorter than the others.
  for (const [rows, cols] of [[64, 784], [37, 100], [3, 5]] as const) {
    const rng = new Random(400 + rows);
    const clean = new Float32Array(rows * cols);
    rng.fillUniform(clean);
    for (let i = 0; i < clean.length; i += 13) clean[i] = i % 2; // exact 0 and 1 pixels
    const seeds = Uint32Array.from({ length: rows }, (_, r) => (r * 2654435761) >>> 0);
    const expected = new Float32Array(rows * cols);
    const actual = new Float32Array(rows * cols);
    js.gaussianNoise(clean, expected, rows, cols, seeds, 0.3);
    b.gaussianNoise(clean, actual, rows, cols, seeds, 0.3);
    assert.deepEqual(actual, expected, `gaussianNoise ${rows}x${cols}`);
    assert.ok(actual.every((v) => v >= 0 && v <= 1));
    // Row 2 is exactly clip(clean + 0.3 * normals of Random(seeds[2])).
    const row = new Random(seeds[2]!);
    for (let j = 0; j < cols; j++) {
      const v = Math.min(1, Math.max(0, clean[2 * cols + j]! + 0.3 * row.normal()));
      assert.equal(actual[2 * cols + j], Math.fround(v));
    }
    // In place (out aliasing clean) gives the same result.
    const inPlace = clean.slice();
    b.gaussianNoise(inPlace, inPlace, rows, cols, seeds, 0.3);
    assert.deepEqual(inPlace, actual);
  }
});

test('the narrower vector widths agree with js too: this file again with VAEKIT_SIMD_WIDTH=4, then 2', {
  skip: skip !== false ? skip : process.env['VAEKIT_SIMD_WIDTH'] !== undefined ? 'this is the run with a narrower width' : false,
}, () => {
  for (const width of ['4', '2']) {
    // Without the runner's NODE_TEST_CONTEXT the child reports as a run of its own, with its exit status.
    const env: NodeJS.ProcessEnv = { ...process.env, VAEKIT_SIMD_WIDTH: width };
    delete env['NODE_TEST_CONTEXT'];
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', fileURLToPath(import.meta.url)], { env, encoding: 'utf8' });
    assert.equal(run.status, 0, `VAEKIT_SIMD_WIDTH=${width}:\n${run.stdout.slice(-4000)}${run.stderr.slice(-2000)}`);
    assert.match(run.stdout, /# fail 0/);
  }
});
