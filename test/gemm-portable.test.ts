/**
 * The bundled matrix kernel (the addon's gemmPortable, used where neither OpenBLAS nor oneDNN is
 * there) against the js backend (the oracle): every transpose, alpha and beta, odd sizes, the small
 * row counts and depths of a 16-row shard, and sizes past its cache blocks (KC = 256, MC = 192,
 * NC = 512 in native/gemm.cc). Its bits must depend on the inputs alone: the same on every call, on
 * another thread, and for a block of rows computed alone. The file runs again with
 * VAEKIT_SIMD_WIDTH=4 and 2 (the last test), so that the AVX2 and plain microkernels are checked
 * on an AVX-512 machine too. Skipped, with the reason, when the addon is not built.
 */
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { JsBackend } from '../src/engine/js-backend.js';
import { loadNativeAddon, nativeAddonPath } from '../src/engine/native-backend.js';
import type { NativeAddon } from '../src/engine/native-backend.js';
import { Random } from '../src/engine/random.js';

const js = new JsBackend();

function addonOrReason(): NativeAddon | string {
  try {
    return loadNativeAddon();
  } catch (err) {
    return `the native addon is not available (${err instanceof Error ? err.message : String(err)}); build it with "node scripts/build-native.mjs"`;
  }
}
const loaded = addonOrReason();
const skip = typeof loaded === 'string' ? loaded : false;
const addon = (): NativeAddon => loaded as NativeAddon;

function normals(seed: number, n: number): Float32Array {
  const rng = new Random(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

type Shape = readonly [m: number, n: number, k: number];

/** op(A) op(B) into C with alpha and beta, checked element by element against js within a k-term dot product's rounding. */
function check(shape: Shape, transA: boolean, transB: boolean, alpha: number, beta: number, seed: number): void {
  const [m, n, k] = shape;
  const a = normals(seed, m * k);
  const b = normals(seed + 1, k * n);
  // beta == 0 must overwrite C, NaN included.
  const start = beta === 0 ? new Float32Array(m * n).fill(Number.NaN) : normals(seed + 2, m * n);
  const expected = new Float32Array(start);
  js.gemm(transA, transB, m, n, k, alpha, a, b, beta, expected);
  const actual = new Float32Array(start);
  addon().gemmPortable(transA, transB, m, n, k, alpha, a, b, beta, actual);
  const magnitude = new Float32Array(m * n);
  js.gemm(transA, transB, m, n, k, Math.abs(alpha), a.map(Math.abs), b.map(Math.abs), 0, magnitude);
  for (let i = 0; i < m * n; i++) {
    const bound = (k + 2) * 1.2e-7 * (magnitude[i]! + (beta === 0 ? 0 : Math.abs(beta * start[i]!))) + 1e-6;
    const diff = Math.abs(actual[i]! - expected[i]!);
    if (!(diff <= bound)) {
      assert.fail(`${m}x${n}x${k} transA=${transA} transB=${transB} alpha=${alpha} beta=${beta}: ` +
        `C[${Math.floor(i / n)}, ${i % n}] is ${actual[i]}, expected ${expected[i]} (bound ${bound})`);
    }
  }
}

const TRANSPOSES = [[false, false], [false, true], [true, false], [true, true]] as const;

test('every transpose with odd sizes (1, 3, 17, 33, 100+) and alpha, beta in {1, 0}, {-0.75, 0}, {1.5, 1}, {0.3, 0.5}, {1, -2}', { skip }, () => {
  const sizes = [1, 3, 17, 33, 101];
  let seed = 1;
  for (const m of sizes) {
    for (const n of sizes) {
      for (const k of sizes) {
        for (const [transA, transB] of TRANSPOSES) {
          for (const [alpha, beta] of [[1, 0], [-0.75, 0], [1.5, 1], [0.3, 0.5], [1, -2]] as const) {
            // Every alpha/beta pair on a fifth of the shapes, all on the rest would take long.
            if ((m + n + k + seed) % 5 !== 0 && !(alpha === 1 && beta === 0)) continue;
            check([m, n, k], transA, transB, alpha, beta, seed += 3);
          }
        }
      }
    }
  }
});

test('the seed step\'s products at 128 and 16 rows: forward, input gradients and weight gradients (k = 16 and 128)', { skip }, () => {
  let seed = 1000;
  for (const rows of [128, 16]) {
    for (const [inputs, outputs] of [[784, 512], [512, 80], [40, 512], [512, 784]] as const) {
      check([rows, outputs, inputs], false, false, 1, 0, seed += 3); // forward: x W
      check([rows, inputs, outputs], false, true, 1, 0, seed += 3); // input gradient: dY W^T
      check([inputs, outputs, rows], true, false, 1, 1, seed += 3); // weight gradient: X^T dY, accumulated
    }
  }
});

test('sizes past the cache blocks (m > MC, n > NC, k > KC, and several of each)', { skip }, () => {
  let seed = 2000;
  for (const shape of [[200, 530, 300], [193, 1025, 513], [400, 33, 1000], [7, 1100, 17], [1, 600, 700]] as const) {
    for (const [transA, transB] of TRANSPOSES) {
      check(shape, transA, transB, 0.7, 0.25, seed += 3);
      check(shape, transA, transB, 1, 0, seed += 3);
    }
  }
});

test('k = 0 scales C by beta, alpha = 0 too, and m = 0 or n = 0 touches nothing', { skip }, () => {
  const g = addon().gemmPortable;
  const c = new Float32Array([1, Number.NaN, 3, 4]);
  g(false, false, 2, 2, 0, 1, new Float32Array(0), new Float32Array(0), 0, c);
  assert.deepEqual([...c], [0, 0, 0, 0]);
  const d = new Float32Array([1, 2, 3, 4]);
  g(true, true, 2, 2, 3, 0, new Float32Array(6).fill(Number.NaN), new Float32Array(6), 0.5, d);
  assert.deepEqual([...d], [0.5, 1, 1.5, 2]);
  const e = new Float32Array([7]);
  g(false, false, 0, 1, 3, 1, new Float32Array(0), new Float32Array(3), 0, e);
  g(false, false, 1, 0, 3, 1, new Float32Array(3), new Float32Array(0), 0, e);
  assert.deepEqual([...e], [7]);
});

/** The product's C, from this thread. */
function product(transA: boolean, transB: boolean, [m, n, k]: Shape, a: Float32Array, b: Float32Array): Float32Array {
  const c = new Float32Array(m * n);
  addon().gemmPortable(transA, transB, m, n, k, 1, a, b, 0, c);
  return c;
}

test('the same bits on every call, and for a block of rows computed alone (a shard of the batch)', { skip }, () => {
  const shape: Shape = [128, 784, 512];
  const [m, n, k] = shape;
  for (const [transA, transB] of TRANSPOSES) {
    const a = normals(7, m * k);
    const b = normals(8, k * n);
    const whole = product(transA, transB, shape, a, b);
    assert.deepEqual(product(transA, transB, shape, a, b), whole);
    // Rows 16..31 of op(A) alone: a copy of those rows (or columns of the stored A when transposed).
    const rows = new Float32Array(16 * k);
    for (let i = 0; i < 16; i++) for (let p = 0; p < k; p++) rows[transA ? p * 16 + i : i * k + p] = a[transA ? p * m + 16 + i : (16 + i) * k + p]!;
    assert.deepEqual(product(transA, transB, [16, n, k], rows, b), whole.subarray(16 * n, 32 * n), `transA=${transA} transB=${transB}`);
  }
});

test('the same bits on a worker thread', { skip }, async () => {
  const shape: Shape = [16, 512, 784];
  const a = normals(9, 16 * 784);
  const b = normals(10, 784 * 512);
  const here = product(false, true, shape, a, b);
  const source = `
    const { parentPort, workerData: { path, a, b } } = require('node:worker_threads');
    const c = new Float32Array(16 * 512);
    require(path).gemmPortable(false, true, 16, 512, 784, 1, a, b, 0, c);
    parentPort.postMessage(c);`;
  const worker = new Worker(source, { eval: true, workerData: { path: nativeAddonPath(), a, b } });
  const there = await new Promise<Float32Array>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.deepEqual(there, here);
});

test('the narrower microkernels agree with js too: this file again with VAEKIT_SIMD_WIDTH=4 (AVX2), then 2 (plain)', {
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
