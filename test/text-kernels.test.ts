/**
 * The text model's kernels (backend.ts): the LSTM and GRU steps forward and backward, the fused
 * softmax cross-entropy over a vocabulary, the embedding's gather and scatter-add, and swapAxes.
 * The js kernels are checked against float64 references written here (and the backward kernels
 * against central differences of those references); the native kernels against the js ones on
 * random shapes, rows that do not split evenly across the threads, vocabularies of 1 to 20000 and
 * lengths of 0, partial and full; and the native results must not depend on the thread count.
 *
 * Tolerances, native against js: the js kernels compute in float64 and round once; the native
 * forward kernels compute in float32 with exp, sigmoid and tanh within 2.5 float ulps
 * (native/fastmath.h), so an activation may differ by about 3 ulps (3.6e-7 relative) and a sum of
 * two products (the LSTM's c) by a few ulps of its larger term: rtol 2e-6 with atol 1e-6 (values
 * here are O(1)). The native backward kernels compute in float64 on the same float inputs, so
 * they differ from js by the compiler's fused multiply-adds at most (rtol 1e-6, atol 1e-7). The
 * softmax's exps are float32 (within 2.5 ulps) summed in float64: the row NLL agrees to 1e-6
 * absolute (log of a sum 3e-7 off, plus the NLL's own float rounding), a gradient element to 2e-6
 * relative, and the target's element, scale (p - 1), to 1e-6 scale absolute (p near 1 cancels).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { Backend } from '../src/engine/backend.js';
import { JsBackend } from '../src/engine/js-backend.js';
import { Random } from '../src/engine/random.js';
import { assertClose } from './helpers/assert-close.js';
import { nativeOrReason } from './helpers/native.js';

const js = new JsBackend();
const nativeBackend = nativeOrReason();
const skipNative = typeof nativeBackend === 'string' ? nativeBackend : false;
const native = (): Backend => nativeBackend as Backend;

function normals(seed: number, n: number, scale = 1): Float32Array {
  const rng = new Random(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * rng.normal();
  return out;
}

function ints(seed: number, n: number, below: number): Int32Array {
  const rng = new Random(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(below - 1, Math.floor(rng.uniform() * below));
  return out;
}

/** Lengths for `rows` rows around `step`: 0, step (just finished), step + 1 (running), full, and random. */
function lengthsAround(seed: number, rows: number, step: number, time: number): Int32Array {
  const rng = new Random(seed);
  const out = new Int32Array(rows);
  const fixed = [0, step, step + 1, time];
  for (let b = 0; b < rows; b++) out[b] = b < fixed.length ? fixed[b]! : Math.floor(rng.uniform() * (time + 1));
  return out;
}

const copy = (x: Float32Array): Float32Array => new Float32Array(x);
const sigmoid64 = (x: number): number => 1 / (1 + Math.exp(-x));

// ---- float64 references ----------------------------------------------------------------------

/** One LSTM step of one row in float64: h, c from pre-activations pre [4H] and cPrev [H]. */
function lstmRow64(pre: ArrayLike<number>, cPrev: ArrayLike<number>, H: number): { h: Float64Array; c: Float64Array; act: Float64Array } {
  const h = new Float64Array(H);
  const c = new Float64Array(H);
  const act = new Float64Array(4 * H);
  for (let j = 0; j < H; j++) {
    const i = sigmoid64(pre[j]!);
    const f = sigmoid64(pre[H + j]!);
    const g = Math.tanh(pre[2 * H + j]!);
    const o = sigmoid64(pre[3 * H + j]!);
    act[j] = i; act[H + j] = f; act[2 * H + j] = g; act[3 * H + j] = o;
    c[j] = f * cPrev[j]! + i * g;
    h[j] = o * Math.tanh(c[j]!);
  }
  return { h, c, act };
}

/** One GRU step of one row in float64 from gx, hh [3H] (hh without its bias), bias [3H] and hPrev [H]. */
function gruRow64(gx: ArrayLike<number>, hh: ArrayLike<number>, bias: ArrayLike<number>, hPrev: ArrayLike<number>, H: number): { h: Float64Array; act: Float64Array; hn: Float64Array } {
  const h = new Float64Array(H);
  const act = new Float64Array(3 * H);
  const hn = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const r = sigmoid64(gx[j]! + hh[j]! + bias[j]!);
    const z = sigmoid64(gx[H + j]! + hh[H + j]! + bias[H + j]!);
    hn[j] = hh[2 * H + j]! + bias[2 * H + j]!;
    const n = Math.tanh(gx[2 * H + j]! + r * hn[j]!);
    act[j] = r; act[H + j] = z; act[2 * H + j] = n;
    h[j] = (1 - z) * n + z * hPrev[j]!;
  }
  return { h, act, hn };
}

/** Central differences of f at every element of x (a float64 copy is perturbed). */
function centralDifferences(x: ArrayLike<number>, f: (v: Float64Array) => number, step = 1e-6): Float64Array {
  const v = Float64Array.from(x);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const old = v[i]!;
    v[i] = old + step;
    const up = f(v);
    v[i] = old - step;
    const down = f(v);
    v[i] = old;
    out[i] = (up - down) / (2 * step);
  }
  return out;
}

// ---- the LSTM step -----------------------------------------------------------------------------

interface LstmStep {
  gates: Float32Array; hPrev: Float32Array; cPrev: Float32Array; h: Float32Array; c: Float32Array; tanhC: Float32Array;
}

function lstmInputs(seed: number, rows: number, H: number): LstmStep {
  const n = rows * H;
  return {
    gates: normals(seed, 4 * n, 2), hPrev: normals(seed + 1, n), cPrev: normals(seed + 2, n, 1.5),
    h: new Float32Array(n).fill(9), c: new Float32Array(n).fill(9), tanhC: new Float32Array(n).fill(9),
  };
}

function runLstmForward(backend: Backend, s: LstmStep, lengths: Int32Array, step: number, rows: number, H: number): LstmStep {
  const o: LstmStep = { gates: copy(s.gates), hPrev: copy(s.hPrev), cPrev: copy(s.cPrev), h: copy(s.h), c: copy(s.c), tanhC: copy(s.tanhC) };
  backend.lstmForward(o.gates, o.hPrev, o.cPrev, o.h, o.c, o.tanhC, lengths, step, rows, H);
  return o;
}

test('js lstmForward matches a float64 reference, and carries the state of rows past their length', () => {
  const [rows, H, step, time] = [6, 5, 2, 4];
  const s = lstmInputs(10, rows, H);
  const lengths = lengthsAround(11, rows, step, time);
  const out = runLstmForward(js, s, lengths, step, rows, H);
  for (let b = 0; b < rows; b++) {
    const o = b * H;
    if (step >= lengths[b]!) {
      assert.deepEqual(out.h.subarray(o, o + H), s.hPrev.subarray(o, o + H), `row ${b}: h carried`);
      assert.deepEqual(out.c.subarray(o, o + H), s.cPrev.subarray(o, o + H), `row ${b}: c carried`);
      assert.deepEqual(out.gates.subarray(4 * o, 4 * o + 4 * H), s.gates.subarray(4 * o, 4 * o + 4 * H), `row ${b}: gates untouched`);
      assert.ok(out.tanhC.subarray(o, o + H).every((v) => v === 9), `row ${b}: tanhC untouched`);
      continue;
    }
    const ref = lstmRow64(s.gates.subarray(4 * o, 4 * o + 4 * H), s.cPrev.subarray(o, o + H), H);
    assertClose(out.gates.subarray(4 * o, 4 * o + 4 * H), ref.act, 1e-6, 1e-7, `row ${b} activations`);
    assertClose(out.c.subarray(o, o + H), ref.c, 1e-6, 1e-7, `row ${b} c`);
    assertClose(out.h.subarray(o, o + H), ref.h, 1e-6, 1e-7, `row ${b} h`);
    assertClose(out.tanhC.subarray(o, o + H), ref.c.map(Math.tanh), 1e-6, 1e-7, `row ${b} tanh(c)`);
  }
});

test('js lstmBackward matches central differences of the float64 step (dGates, dc; dh through dOut)', () => {
  const [rows, H, step, time] = [5, 4, 1, 3];
  const s = lstmInputs(20, rows, H);
  const lengths = lengthsAround(21, rows, step, time);
  const fwd = runLstmForward(js, s, lengths, step, rows, H);
  // The loss sum(wh h) + sum(wc c) of the step's outputs; wh is split into dh and dOut.
  const wh = normals(22, rows * H);
  const wc = normals(23, rows * H);
  const dOutStride = 3 * H; // dOut rows 3H apart, as a batch-major [rows, time, H] gradient's step is
  const dOut = new Float32Array(rows * dOutStride).fill(Number.NaN);
  const dh = new Float32Array(rows * H);
  for (let b = 0; b < rows; b++) {
    for (let j = 0; j < H; j++) {
      const part = Math.fround(0.25 * wh[b * H + j]!);
      dOut[b * dOutStride + j] = part;
      dh[b * H + j] = wh[b * H + j]! - part;
    }
  }
  const dc = copy(wc);
  const dGates = new Float32Array(rows * 4 * H).fill(7);
  const dhPrev = new Float32Array(rows * H).fill(7);
  js.lstmBackward(fwd.gates, s.cPrev, fwd.tanhC, dh, dOut, dOutStride, dc, dGates, dhPrev, lengths, step, rows, H);
  for (let b = 0; b < rows; b++) {
    const o = b * H;
    if (step >= lengths[b]!) {
      assert.ok(dGates.subarray(4 * o, 4 * o + 4 * H).every((v) => v === 0), `row ${b}: dGates 0`);
      assert.deepEqual(dhPrev.subarray(o, o + H), dh.subarray(o, o + H), `row ${b}: dh carried`);
      assert.deepEqual(dc.subarray(o, o + H), wc.subarray(o, o + H), `row ${b}: dc unchanged`);
      continue;
    }
    const pre = s.gates.subarray(4 * o, 4 * o + 4 * H);
    const cPrev = s.cPrev.subarray(o, o + H);
    const loss = (p: ArrayLike<number>, cp: ArrayLike<number>): number => {
      const r = lstmRow64(p, cp, H);
      let sum = 0;
      for (let j = 0; j < H; j++) sum += wh[o + j]! * r.h[j]! + wc[o + j]! * r.c[j]!;
      return sum;
    };
    const dPre = centralDifferences(pre, (v) => loss(v, cPrev));
    const dcPrev = centralDifferences(cPrev, (v) => loss(pre, v));
    assertClose(dGates.subarray(4 * o, 4 * o + 4 * H), dPre, 1e-5, 1e-7, `row ${b} dGates`);
    assertClose(dc.subarray(o, o + H), dcPrev, 1e-5, 1e-7, `row ${b} dc before the step`);
    assert.ok(dhPrev.subarray(o, o + H).every((v) => v === 0), `row ${b}: dhPrev left 0 for the product`);
  }
});

test('native lstmForward and lstmBackward agree with js (odd rows, threaded blocks, lengths 0 to full)', { skip: skipNative }, () => {
  const shapes: [number, number][] = [[1, 1], [3, 7], [5, 33], [32, 256], [67, 256], [130, 129]];
  for (const [k, [rows, H]] of shapes.entries()) {
    const time = 5;
    for (const step of [0, 2, 4]) {
      const seed = 100 * k + 10 * step;
      const s = lstmInputs(seed, rows, H);
      const lengths = lengthsAround(seed + 3, rows, step, time);
      const a = runLstmForward(native(), s, lengths, step, rows, H);
      const e = runLstmForward(js, s, lengths, step, rows, H);
      const label = `lstm ${rows}x${H} step ${step}`;
      assertClose(a.gates, e.gates, 2e-6, 1e-6, `${label} gates`);
      assertClose(a.c, e.c, 2e-6, 1e-6, `${label} c`);
      assertClose(a.h, e.h, 2e-6, 1e-6, `${label} h`);
      assertClose(a.tanhC, e.tanhC, 2e-6, 1e-6, `${label} tanhC`);
      // Backward from the same (js) forward state, with and without dOut.
      for (const withOut of [true, false]) {
        const dh = normals(seed + 4, rows * H);
        const dOut = withOut ? normals(seed + 5, rows * time * H) : null;
        const dc0 = normals(seed + 6, rows * H);
        const run = (backend: Backend): Float32Array[] => {
          const dc = copy(dc0);
          const dGates = new Float32Array(rows * 4 * H).fill(7);
          const dhPrev = new Float32Array(rows * H).fill(7);
          backend.lstmBackward(e.gates, s.cPrev, e.tanhC, dh, dOut === null ? null : dOut.subarray(step * H), time * H, dc, dGates, dhPrev, lengths, step, rows, H);
          return [dc, dGates, dhPrev];
        };
        const [dcA, dgA, dhA] = run(native());
        const [dcE, dgE, dhE] = run(js);
        const l2 = `${label} backward${withOut ? ' with dOut' : ''}`;
        assertClose(dgA!, dgE!, 1e-6, 1e-7, `${l2} dGates`);
        assertClose(dcA!, dcE!, 1e-6, 1e-7, `${l2} dc`);
        assert.deepEqual(dhA, dhE, `${l2} dhPrev`);
      }
    }
  }
});

// ---- the GRU step ------------------------------------------------------------------------------

interface GruStep { gates: Float32Array; hh: Float32Array; bias: Float32Array; hPrev: Float32Array; h: Float32Array; hiddenN: Float32Array }

function gruInputs(seed: number, rows: number, H: number): GruStep {
  const n = rows * H;
  return {
    gates: normals(seed, 3 * n, 1.5), hh: normals(seed + 1, 3 * n, 1.5), bias: normals(seed + 2, 3 * H, 0.5),
    hPrev: normals(seed + 3, n), h: new Float32Array(n).fill(9), hiddenN: new Float32Array(n).fill(9),
  };
}

function runGruForward(backend: Backend, s: GruStep, lengths: Int32Array, step: number, rows: number, H: number): GruStep {
  const o: GruStep = { gates: copy(s.gates), hh: copy(s.hh), bias: copy(s.bias), hPrev: copy(s.hPrev), h: copy(s.h), hiddenN: copy(s.hiddenN) };
  backend.gruForward(o.gates, o.hh, o.bias, o.hPrev, o.h, o.hiddenN, lengths, step, rows, H);
  return o;
}

test('js gruForward matches a float64 reference, and carries the state of rows past their length', () => {
  const [rows, H, step, time] = [6, 5, 2, 4];
  const s = gruInputs(30, rows, H);
  const lengths = lengthsAround(31, rows, step, time);
  const out = runGruForward(js, s, lengths, step, rows, H);
  for (let b = 0; b < rows; b++) {
    const o = b * H;
    if (step >= lengths[b]!) {
      assert.deepEqual(out.h.subarray(o, o + H), s.hPrev.subarray(o, o + H), `row ${b}: h carried`);
      assert.deepEqual(out.gates.subarray(3 * o, 3 * o + 3 * H), s.gates.subarray(3 * o, 3 * o + 3 * H), `row ${b}: gates untouched`);
      continue;
    }
    const ref = gruRow64(s.gates.subarray(3 * o, 3 * o + 3 * H), s.hh.subarray(3 * o, 3 * o + 3 * H), s.bias, s.hPrev.subarray(o, o + H), H);
    assertClose(out.gates.subarray(3 * o, 3 * o + 3 * H), ref.act, 1e-6, 1e-7, `row ${b} activations`);
    assertClose(out.hiddenN.subarray(o, o + H), ref.hn, 1e-6, 1e-7, `row ${b} hidden n`);
    assertClose(out.h.subarray(o, o + H), ref.h, 1e-6, 1e-7, `row ${b} h`);
  }
});

test('js gruBackward matches central differences of the float64 step (input side, hidden side, hPrev)', () => {
  const [rows, H, step, time] = [5, 4, 1, 3];
  const s = gruInputs(40, rows, H);
  const lengths = lengthsAround(41, rows, step, time);
  const fwd = runGruForward(js, s, lengths, step, rows, H);
  const wh = normals(42, rows * H);
  const dOut = new Float32Array(rows * H);
  const dh = new Float32Array(rows * H);
  for (let i = 0; i < rows * H; i++) {
    dOut[i] = Math.fround(0.5 * wh[i]!);
    dh[i] = wh[i]! - dOut[i]!;
  }
  const dGates = new Float32Array(rows * 3 * H).fill(7);
  const dGh = new Float32Array(rows * 3 * H).fill(7);
  const dhPrev = new Float32Array(rows * H).fill(7);
  js.gruBackward(fwd.gates, fwd.hiddenN, s.hPrev, dh, dOut, H, dGates, dGh, dhPrev, lengths, step, rows, H);
  for (let b = 0; b < rows; b++) {
    const o = b * H;
    const g = 3 * o;
    if (step >= lengths[b]!) {
      assert.ok(dGates.subarray(g, g + 3 * H).every((v) => v === 0) && dGh.subarray(g, g + 3 * H).every((v) => v === 0), `row ${b}: gate gradients 0`);
      assert.deepEqual(dhPrev.subarray(o, o + H), dh.subarray(o, o + H), `row ${b}: dh carried`);
      continue;
    }
    const gx = s.gates.subarray(g, g + 3 * H);
    const hh = s.hh.subarray(g, g + 3 * H);
    const hPrev = s.hPrev.subarray(o, o + H);
    const loss = (x: ArrayLike<number>, y: ArrayLike<number>, p: ArrayLike<number>): number => {
      const r = gruRow64(x, y, s.bias, p, H);
      let sum = 0;
      for (let j = 0; j < H; j++) sum += wh[o + j]! * r.h[j]!;
      return sum;
    };
    assertClose(dGates.subarray(g, g + 3 * H), centralDifferences(gx, (v) => loss(v, hh, hPrev)), 1e-5, 1e-7, `row ${b} dGates`);
    assertClose(dGh.subarray(g, g + 3 * H), centralDifferences(hh, (v) => loss(gx, v, hPrev)), 1e-5, 1e-7, `row ${b} dGh`);
    // hh is held fixed here, so this is dL/dhPrev through z's mixing only: what the kernel writes.
    assertClose(dhPrev.subarray(o, o + H), centralDifferences(hPrev, (v) => loss(gx, hh, v)), 1e-5, 1e-7, `row ${b} dhPrev`);
  }
});

test('native gruForward and gruBackward agree with js (odd rows, threaded blocks, lengths 0 to full)', { skip: skipNative }, () => {
  const shapes: [number, number][] = [[1, 1], [3, 7], [5, 33], [32, 256], [67, 256], [130, 129]];
  for (const [k, [rows, H]] of shapes.entries()) {
    const time = 5;
    for (const step of [0, 2, 4]) {
      const seed = 1000 + 100 * k + 10 * step;
      const s = gruInputs(seed, rows, H);
      const lengths = lengthsAround(seed + 4, rows, step, time);
      const a = runGruForward(native(), s, lengths, step, rows, H);
      const e = runGruForward(js, s, lengths, step, rows, H);
      const label = `gru ${rows}x${H} step ${step}`;
      assertClose(a.gates, e.gates, 2e-6, 1e-6, `${label} gates`);
      assertClose(a.hiddenN, e.hiddenN, 2e-6, 1e-6, `${label} hiddenN`);
      assertClose(a.h, e.h, 2e-6, 1e-6, `${label} h`);
      for (const withOut of [true, false]) {
        const dh = normals(seed + 5, rows * H);
        const dOut = withOut ? normals(seed + 6, rows * time * H) : null;
        const run = (backend: Backend): Float32Array[] => {
          const dGates = new Float32Array(rows * 3 * H).fill(7);
          const dGh = new Float32Array(rows * 3 * H).fill(7);
          const dhPrev = new Float32Array(rows * H).fill(7);
          backend.gruBackward(e.gates, e.hiddenN, s.hPrev, dh, dOut === null ? null : dOut.subarray(step * H), time * H, dGates, dGh, dhPrev, lengths, step, rows, H);
          return [dGates, dGh, dhPrev];
        };
        const [dgA, dghA, dhA] = run(native());
        const [dgE, dghE, dhE] = run(js);
        const l2 = `${label} backward${withOut ? ' with dOut' : ''}`;
        assertClose(dgA!, dgE!, 1e-6, 1e-7, `${l2} dGates`);
        assertClose(dghA!, dghE!, 1e-6, 1e-7, `${l2} dGh`);
        assertClose(dhA!, dhE!, 1e-6, 1e-7, `${l2} dhPrev`);
      }
    }
  }
});

// ---- softmax cross-entropy ---------------------------------------------------------------------

interface SoftmaxCase { logits: Float32Array; targets: Int32Array; mask: Uint8Array | null; rowScale: Float32Array | null }

function softmaxCase(seed: number, rows: number, V: number, masked: boolean, scaled: boolean): SoftmaxCase {
  const mask = masked ? Uint8Array.from(ints(seed + 2, rows, 4), (v) => (v === 0 ? 0 : 1)) : null;
  const targets = ints(seed + 1, rows, V);
  // A masked row's target is not read: make it invalid to prove it.
  if (mask !== null) for (let r = 0; r < rows; r++) if (mask[r] === 0) targets[r] = -5;
  return { logits: normals(seed, rows * V, 3), targets, mask, rowScale: scaled ? normals(seed + 3, rows) : null };
}

test('js softmaxCrossEntropy matches a float64 reference and central differences', () => {
  const [rows, V] = [6, 9];
  const c = softmaxCase(50, rows, V, true, true);
  const gradScale = 0.3;
  const rowNll = new Float32Array(rows);
  const grad = new Float32Array(rows * V);
  const total = js.softmaxCrossEntropy(c.logits, c.targets, c.mask, rows, V, rowNll, grad, gradScale, c.rowScale);
  const nll64 = (l: ArrayLike<number>, y: number): number => {
    let max = -Infinity;
    for (let j = 0; j < V; j++) max = Math.max(max, l[j]!);
    let s = 0;
    for (let j = 0; j < V; j++) s += Math.exp(l[j]! - max);
    return max + Math.log(s) - l[y]!;
  };
  let expectedTotal = 0;
  for (let r = 0; r < rows; r++) {
    const row = c.logits.subarray(r * V, (r + 1) * V);
    if (c.mask![r] === 0) {
      assert.equal(rowNll[r], 0);
      assert.ok(grad.subarray(r * V, (r + 1) * V).every((v) => v === 0), `row ${r}: masked gradient 0`);
      continue;
    }
    const y = c.targets[r]!;
    assertClose([rowNll[r]!], [nll64(row, y)], 1e-6, 1e-7, `row ${r} nll`);
    expectedTotal += rowNll[r]!;
    const scale = gradScale * c.rowScale![r]!;
    const fd = centralDifferences(row, (v) => scale * nll64(v, y));
    assertClose(grad.subarray(r * V, (r + 1) * V), fd, 1e-5, 1e-8, `row ${r} gradient`);
  }
  assert.equal(total, expectedTotal);
  // Loss only, and in place: the same numbers.
  const nll2 = new Float32Array(rows);
  js.softmaxCrossEntropy(c.logits, c.targets, c.mask, rows, V, nll2, null, gradScale, c.rowScale);
  assert.deepEqual(nll2, rowNll);
  const inPlace = copy(c.logits);
  js.softmaxCrossEntropy(inPlace, c.targets, c.mask, rows, V, nll2, inPlace, gradScale, c.rowScale);
  assert.deepEqual(inPlace, grad);
});

test('native softmaxCrossEntropy agrees with js for vocabularies of 1 to 20000, masks, row scales, in place and loss only', { skip: skipNative }, () => {
  const shapes: [number, number][] = [[1, 1], [4, 1], [3, 2], [5, 17], [33, 1000], [67, 1000], [7, 20000], [700, 10004]];
  for (const [k, [rows, V]] of shapes.entries()) {
    for (const variant of ['plain', 'masked+scaled'] as const) {
      const c = softmaxCase(500 + 10 * k, rows, V, variant !== 'plain', variant !== 'plain');
      const gradScale = 1 / 32;
      const label = `softmax ${rows}x${V} ${variant}`;
      const nllA = new Float32Array(rows);
      const nllE = new Float32Array(rows);
      const gradA = new Float32Array(rows * V).fill(5);
      const gradE = new Float32Array(rows * V).fill(5);
      const totalA = native().softmaxCrossEntropy(c.logits, c.targets, c.mask, rows, V, nllA, gradA, gradScale, c.rowScale);
      const totalE = js.softmaxCrossEntropy(c.logits, c.targets, c.mask, rows, V, nllE, gradE, gradScale, c.rowScale);
      assertClose(nllA, nllE, 1e-6, 1e-6, `${label} nll`);
      assertClose([totalA], [totalE], 1e-6, 1e-6 * rows, `${label} total`);
      let total = 0;
      for (let r = 0; r < rows; r++) total += nllA[r]!;
      assert.equal(totalA, total, `${label}: the total is the sum of rowNll as written`);
      for (let r = 0; r < rows; r++) {
        const scale = Math.abs(gradScale * (c.rowScale === null ? 1 : c.rowScale[r]!));
        const y = c.targets[r]!;
        const a = gradA.subarray(r * V, (r + 1) * V);
        const e = gradE.subarray(r * V, (r + 1) * V);
        if (c.mask !== null && c.mask[r] === 0) {
          assert.ok(a.every((v) => v === 0), `${label} row ${r}: masked gradient 0`);
          continue;
        }
        assertClose([a[y]!], [e[y]!], 0, 1e-6 * scale + 1e-30, `${label} row ${r} target element`);
        a[y] = 0;
        e[y] = 0;
        assertClose(a, e, 2e-6, 1e-30, `${label} row ${r} gradient`);
      }
      // In place and loss only give the same numbers as a separate gradient.
      const inPlace = copy(c.logits);
      const nll2 = new Float32Array(rows);
      native().softmaxCrossEntropy(inPlace, c.targets, c.mask, rows, V, nll2, inPlace, gradScale, c.rowScale);
      const gradAgain = new Float32Array(rows * V);
      native().softmaxCrossEntropy(c.logits, c.targets, c.mask, rows, V, nll2, gradAgain, gradScale, c.rowScale);
      assert.deepEqual(inPlace, gradAgain, `${label}: in place`);
      const nll3 = new Float32Array(rows);
      native().softmaxCrossEntropy(c.logits, c.targets, c.mask, rows, V, nll3, null, gradScale, c.rowScale);
      assert.deepEqual(nll3, nll2, `${label}: loss only`);
    }
  }
});

test('softmaxCrossEntropy: a target outside the vocabulary throws a RangeError in both backends, before writing', () => {
  const backends: Backend[] = typeof nativeBackend === 'string' ? [js] : [js, native()];
  for (const backend of backends) {
    for (const bad of [-1, 4]) {
      const rowNll = new Float32Array(3).fill(8);
      const grad = new Float32Array(12).fill(8);
      assert.throws(
        () => backend.softmaxCrossEntropy(normals(1, 12), Int32Array.from([1, bad, 2]), null, 3, 4, rowNll, grad, 1, null),
        (err: unknown) => err instanceof RangeError && /outside the vocabulary/.test(err.message),
        `${backend.name}: target ${bad}`,
      );
      assert.ok(rowNll.every((v) => v === 8) && grad.every((v) => v === 8), `${backend.name} wrote before throwing`);
    }
  }
});

// ---- embedding and swapAxes --------------------------------------------------------------------

test('embeddingGather and embeddingScatterAdd: js matches the definition, native matches js bit for bit', () => {
  const backends: Backend[] = typeof nativeBackend === 'string' ? [js] : [js, native()];
  const shapes: [number, number, number][] = [[2, 1, 1], [11, 3, 17], [10004, 256, 1280], [50, 300, 999], [5000, 520, 4100]]; // the last split across threads
  for (const [k, [V, D, P]] of shapes.entries()) {
    const table = normals(600 + k, V * D);
    const ids = ints(601 + k, P, V); // some are 0 (<pad>)
    ids[0] = 0;
    const dOut = normals(602 + k, P * D);
    const initial = normals(603 + k, V * D);
    // The float64 definition (sums in position order, rounded at the end: close, not equal, to float sums).
    const expected = Float64Array.from(initial);
    for (let p = 0; p < P; p++) if (ids[p] !== 0) for (let j = 0; j < D; j++) expected[ids[p]! * D + j] += dOut[p * D + j]!;
    const results: Float32Array[] = [];
    for (const backend of backends) {
      const out = new Float32Array(P * D).fill(4);
      backend.embeddingGather(table, V, D, ids, P, out);
      for (let p = 0; p < P; p++) {
        const row = out.subarray(p * D, (p + 1) * D);
        if (ids[p] === 0) assert.ok(row.every((v) => v === 0), `${backend.name}: <pad> gives zeros`);
        else assert.deepEqual(row, table.subarray(ids[p]! * D, (ids[p]! + 1) * D), `${backend.name}: row ${p}`);
      }
      const grad = copy(initial);
      backend.embeddingScatterAdd(dOut, ids, P, D, grad, V);
      assertClose(grad, expected, 1e-5, 1e-5, `${backend.name} scatter-add ${V}x${D}, ${P} positions`);
      results.push(grad);
    }
    if (results.length === 2) assert.deepEqual(results[1], results[0], `native scatter-add ${V}x${D} equals js's`);
  }
  for (const backend of backends) {
    const out = new Float32Array(6).fill(4);
    const grad = new Float32Array(6).fill(4);
    for (const bad of [-1, 3]) {
      assert.throws(() => backend.embeddingGather(new Float32Array(6), 3, 2, Int32Array.from([1, bad]), 2, out), RangeError);
      assert.throws(() => backend.embeddingScatterAdd(new Float32Array(4), Int32Array.from([bad, 1]), 2, 2, grad, 3), RangeError);
    }
    assert.ok(out.every((v) => v === 4) && grad.every((v) => v === 4), `${backend.name} wrote before throwing`);
  }
});

test('swapAxes swaps the first two axes, masks by length, and native matches js bit for bit', () => {
  const backends: Backend[] = typeof nativeBackend === 'string' ? [js] : [js, native()];
  for (const [a, b, cols] of [[1, 1, 1], [3, 5, 7], [40, 32, 288], [41, 33, 256], [41, 67, 800]] as const) { // the last split across threads
    const src = normals(a * 100 + b, a * b * cols);
    const lengths = lengthsAround(a + b, b, 1, a);
    for (const masked of [false, true]) {
      const results: Float32Array[] = [];
      for (const backend of backends) {
        const dst = new Float32Array(a * b * cols).fill(3);
        backend.swapAxes(src, a, b, cols, dst, masked ? lengths : null);
        for (let j = 0; j < b; j++) {
          for (let i = 0; i < a; i++) {
            const row = dst.subarray((j * a + i) * cols, (j * a + i + 1) * cols);
            if (masked && i >= lengths[j]!) assert.ok(row.every((v) => v === 0), `${backend.name}: [${j}, ${i}] masked`);
            else assert.deepEqual(row, src.subarray((i * b + j) * cols, (i * b + j + 1) * cols), `${backend.name}: [${j}, ${i}]`);
          }
        }
        results.push(dst);
      }
      if (results.length === 2) assert.deepEqual(results[1], results[0]);
    }
  }
});

// ---- sizes and threads -------------------------------------------------------------------------

test('native text kernels throw a RangeError instead of writing when sizes exceed the arrays', { skip: skipNative }, () => {
  const f = (n: number): Float32Array => new Float32Array(n).fill(2);
  const len = (n: number): Int32Array => new Int32Array(n).fill(3);
  const cases: [string, (out: Float32Array) => void][] = [
    ['lstmForward h', (out) => native().lstmForward(f(40), f(10), f(10), out, f(10), f(10), len(5), 0, 5, 2)],
    ['lstmForward gates', (out) => native().lstmForward(out, f(8), f(8), f(8), f(8), f(8), len(4), 0, 4, 2)],
    ['lstmForward lengths', (out) => native().lstmForward(f(32), f(8), f(8), f(8), f(8), out, len(3), 0, 4, 2)],
    ['lstmBackward dOut', (out) => native().lstmBackward(f(32), f(8), f(8), f(8), f(10), 4, f(8), f(32), out, len(4), 0, 4, 2)],
    ['lstmBackward dGates', (out) => native().lstmBackward(f(32), f(8), f(8), f(8), null, 0, f(8), out, f(8), len(4), 0, 4, 2)],
    ['gruForward biasHh', (out) => native().gruForward(f(24), f(24), f(5), f(8), out, f(8), len(4), 0, 4, 2)],
    ['gruBackward dGh', (out) => native().gruBackward(f(24), f(8), f(8), f(8), null, 0, f(24), out, f(8), len(4), 0, 4, 2)],
    ['softmaxCrossEntropy grad', (out) => { native().softmaxCrossEntropy(f(12), new Int32Array(3), null, 3, 4, f(3), out, 1, null); }],
    ['softmaxCrossEntropy mask', (out) => { native().softmaxCrossEntropy(f(12), new Int32Array(3), new Uint8Array(2), 3, 4, out, null, 1, null); }],
    ['embeddingGather out', (out) => native().embeddingGather(f(30), 10, 3, new Int32Array(4), 4, out)],
    ['embeddingScatterAdd grad', (out) => native().embeddingScatterAdd(f(12), new Int32Array(4), 4, 3, out, 10)],
    ['swapAxes dst', (out) => native().swapAxes(f(12), 3, 2, 2, out, null)],
  ];
  for (const [label, call] of cases) {
    const out = new Float32Array(8).fill(-1);
    assert.throws(() => call(out), (err: unknown) => err instanceof RangeError && /need/.test(err.message), label);
    assert.ok(out.every((v) => v === -1), `${label} wrote before throwing`);
  }
});

/** A digest of every native text kernel's outputs on shapes that take the threaded paths, run in a child with `threads` threads. */
function digestWithThreads(threads: number): string {
  const url = (path: string): string => new URL(path, import.meta.url).href;
  const code = `
    import { loadNativeBackend } from ${JSON.stringify(url('../src/engine/native-backend.ts'))};
    import { Random } from ${JSON.stringify(url('../src/engine/random.ts'))};
    const be = loadNativeBackend();
    const normals = (seed, n) => { const r = new Random(seed); const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = 2 * r.normal(); return a; };
    const outs = [];
    const [rows, H, V] = [67, 256, 3001];
    const lengths = Int32Array.from({ length: rows }, (_, b) => b % 3);
    const gates = normals(1, rows * 4 * H), h = new Float32Array(rows * H), c = new Float32Array(rows * H), t = new Float32Array(rows * H);
    be.lstmForward(gates, normals(2, rows * H), normals(3, rows * H), h, c, t, lengths, 1, rows, H);
    const dc = normals(4, rows * H), dg = new Float32Array(rows * 4 * H), dhp = new Float32Array(rows * H);
    be.lstmBackward(gates, normals(3, rows * H), t, normals(5, rows * H), normals(6, rows * H), H, dc, dg, dhp, lengths, 1, rows, H);
    outs.push(gates, h, c, t, dc, dg, dhp);
    const gg = normals(7, rows * 3 * H), gh = new Float32Array(rows * H), hn = new Float32Array(rows * H);
    be.gruForward(gg, normals(8, rows * 3 * H), normals(9, 3 * H), normals(10, rows * H), gh, hn, lengths, 1, rows, H);
    const d1 = new Float32Array(rows * 3 * H), d2 = new Float32Array(rows * 3 * H), d3 = new Float32Array(rows * H);
    be.gruBackward(gg, hn, normals(10, rows * H), normals(11, rows * H), null, 0, d1, d2, d3, lengths, 1, rows, H);
    outs.push(gg, gh, hn, d1, d2, d3);
    const logits = normals(12, rows * V), nll = new Float32Array(rows);
    const targets = Int32Array.from({ length: rows }, (_, r) => (r * 37) % V);
    const total = be.softmaxCrossEntropy(logits, targets, null, rows, V, nll, logits, 0.5, null);
    outs.push(logits, nll, Float32Array.of(total));
    const [P, D] = [4100, 520]; // past the copies' threshold for threads (2 x 2^20 values)
    const grad = normals(13, 500 * D), ids = Int32Array.from({ length: P }, (_, p) => (p * 7) % 500);
    be.embeddingScatterAdd(normals(14, P * D), ids, P, D, grad, 500);
    const gathered = new Float32Array(P * D);
    be.embeddingGather(grad, 500, D, ids, P, gathered);
    const swapped = new Float32Array(P * D);
    be.swapAxes(gathered, 41, 100, D, swapped, Int32Array.from({ length: 100 }, (_, j) => j % 42));
    outs.push(grad, gathered, swapped);
    let hash = 2166136261;
    for (const a of outs) { const u = new Uint32Array(a.buffer, a.byteOffset, a.length); for (let i = 0; i < u.length; i++) hash = Math.imul(hash ^ u[i], 16777619) >>> 0; }
    console.log(hash.toString(16));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', code], {
    encoding: 'utf8', env: { ...process.env, VAEKIT_THREADS: String(threads) },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('native text kernels give the same bits with 1, 2 and 3 threads', { skip: skipNative }, () => {
  const one = digestWithThreads(1);
  assert.match(one, /^[0-9a-f]+$/);
  assert.equal(digestWithThreads(2), one, '2 threads');
  assert.equal(digestWithThreads(3), one, '3 threads');
});
