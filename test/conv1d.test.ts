// Conv1d and ConvTranspose1d, the 1-D convolutions over channels-last sequences [length, channels]
// (the 2-D layers with a 1 x k window; conv.test.ts checks the patch kernels on such windows):
// output lengths, the shapes and parameter counts a summary prints, the forward passes against
// direct 1-D convolutions written here (the oracle, in float64), the input, kernel and bias
// gradients against central differences of that oracle in float64, ConvTranspose1d as the adjoint
// of Conv1d, mixed precision, and the native backend against the js one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Activation, Backend } from '../src/engine/backend.js';
import { JsBackend } from '../src/engine/js-backend.js';
import { Random } from '../src/engine/random.js';
import { Conv1d } from '../src/nn/conv1d.js';
import { ConvTranspose1d } from '../src/nn/conv-transpose1d.js';
import { LEAKY_SLOPE } from '../src/nn/dense.js';
import type { Layer } from '../src/nn/layer.js';
import { ParameterSet } from '../src/nn/parameters.js';
import { Sequential } from '../src/nn/sequential.js';
import { assertClose } from './helpers/assert-close.js';
import { assertGradient, numericGradient } from './helpers/gradient-check.js';
import { nativeOrReason } from './helpers/native.js';

const js = new JsBackend();
const native = nativeOrReason();
const backends: Backend[] = typeof native === 'string' ? [js] : [js, native];
const ACTIVATIONS: readonly Activation[] = ['linear', 'relu', 'leaky_relu', 'tanh', 'sigmoid'];

function normals(seed: number, n: number): Float32Array {
  const out = new Float32Array(n);
  new Random(seed).fillNormal(out);
  return out;
}

function activate(v: number, act: Activation): number {
  switch (act) {
    case 'linear': return v;
    case 'relu': return Math.max(v, 0);
    case 'leaky_relu': return v > 0 ? v : LEAKY_SLOPE * v;
    case 'tanh': return Math.tanh(v);
    case 'sigmoid': return 1 / (1 + Math.exp(-v));
  }
}

/** The geometry of one 1-D layer: input [rows, length, inChannels], a kernel of `kernel` taps. */
interface Geometry {
  rows: number;
  length: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
}

/**
 * The direct 1-D convolution, in float64: y[r, o, oc] = act(b[oc] + sum over j, c of
 * x[r, o*stride - padding + j, c] w[j, c, oc]), positions outside the sequence skipped.
 */
function directConv1d(
  x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, g: Geometry, outLength: number, act: Activation,
): Float64Array {
  const { rows, length, inChannels: cin, outChannels: cout, kernel, stride, padding } = g;
  const y = new Float64Array(rows * outLength * cout);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outLength; o++) {
      for (let oc = 0; oc < cout; oc++) {
        let s = b[oc]!;
        for (let j = 0; j < kernel; j++) {
          const i = o * stride - padding + j;
          if (i < 0 || i >= length) continue;
          for (let c = 0; c < cin; c++) s += x[(r * length + i) * cin + c]! * w[(j * cin + c) * cout + oc]!;
        }
        y[(r * outLength + o) * cout + oc] = activate(s, act);
      }
    }
  }
  return y;
}

/**
 * The direct 1-D transposed convolution, in float64, as a scatter: every input position i adds
 * x[r, i, ic] w[j, oc, ic] to the output at i*stride - padding + j when that lies in [0, outLength);
 * then act(. + b[oc]).
 */
function directConvTranspose1d(
  x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, g: Geometry, outLength: number, act: Activation,
): Float64Array {
  const { rows, length, inChannels: cin, outChannels: cout, kernel, stride, padding } = g;
  const y = new Float64Array(rows * outLength * cout);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < length; i++) {
      for (let j = 0; j < kernel; j++) {
        const o = i * stride - padding + j;
        if (o < 0 || o >= outLength) continue;
        for (let oc = 0; oc < cout; oc++) {
          let s = 0;
          for (let ic = 0; ic < cin; ic++) s += x[(r * length + i) * cin + ic]! * w[(j * cout + oc) * cin + ic]!;
          y[(r * outLength + o) * cout + oc] += s;
        }
      }
    }
  }
  for (let p = 0; p < y.length; p++) y[p] = activate(y[p]! + b[p % cout]!, act);
  return y;
}

type Kind = 'Conv1d' | 'ConvTranspose1d';

interface Case {
  kind: Kind;
  g: Geometry;
  /** ConvTranspose1d only. */
  outputPadding?: number;
}

function describe(c: Case): string {
  const { rows, length, inChannels, outChannels, kernel, stride, padding } = c.g;
  const op = c.outputPadding !== undefined ? ` op${c.outputPadding}` : '';
  return `${c.kind} ${rows}x${length}x${inChannels} -> ${outChannels}, k${kernel} s${stride} p${padding}${op}`;
}

function build(c: Case, act: Activation, name = 'g'): Conv1d | ConvTranspose1d {
  const { length, inChannels, outChannels, kernel, stride, padding } = c.g;
  const common = { name, inLength: length, inChannels, outChannels, kernel, stride, padding, activation: act };
  return c.kind === 'Conv1d' ? new Conv1d(common) : new ConvTranspose1d({ ...common, outputPadding: c.outputPadding ?? 0 });
}

function oracle(c: Case, layer: Conv1d | ConvTranspose1d, x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const direct = c.kind === 'Conv1d' ? directConv1d : directConvTranspose1d;
  return direct(x, w, b, c.g, layer.outLength, layer.activation);
}

/** A layer bound to its own parameters: Glorot kernel, and a random bias so the bias path counts. */
function ready<L extends Layer>(layer: L, seed: number): { layer: L; params: ParameterSet } {
  const params = new ParameterSet(layer.parameterSpecs());
  layer.bind(params);
  const rng = new Random(seed);
  layer.initialize(rng);
  rng.fillNormal(params.get(`${layer.name}.bias`).value);
  return { layer, params };
}

const CASES: readonly Case[] = [
  { kind: 'Conv1d', g: { rows: 2, length: 9, inChannels: 2, outChannels: 3, kernel: 3, stride: 1, padding: 1 } },
  { kind: 'Conv1d', g: { rows: 3, length: 10, inChannels: 3, outChannels: 2, kernel: 4, stride: 2, padding: 1 } },
  { kind: 'Conv1d', g: { rows: 2, length: 11, inChannels: 1, outChannels: 4, kernel: 5, stride: 3, padding: 2 } },
  { kind: 'Conv1d', g: { rows: 2, length: 8, inChannels: 2, outChannels: 2, kernel: 3, stride: 2, padding: 0 } }, // the last position is in no window
  { kind: 'Conv1d', g: { rows: 1, length: 4, inChannels: 2, outChannels: 3, kernel: 4, stride: 2, padding: 2 } }, // windows mostly padding
  { kind: 'Conv1d', g: { rows: 2, length: 6, inChannels: 3, outChannels: 2, kernel: 1, stride: 1, padding: 0 } }, // a square 1 x 1 window
  { kind: 'ConvTranspose1d', g: { rows: 2, length: 5, inChannels: 3, outChannels: 2, kernel: 4, stride: 2, padding: 1 } },
  { kind: 'ConvTranspose1d', g: { rows: 2, length: 4, inChannels: 2, outChannels: 3, kernel: 3, stride: 2, padding: 1 }, outputPadding: 1 },
  { kind: 'ConvTranspose1d', g: { rows: 3, length: 6, inChannels: 2, outChannels: 2, kernel: 3, stride: 1, padding: 1 } },
  { kind: 'ConvTranspose1d', g: { rows: 1, length: 3, inChannels: 1, outChannels: 2, kernel: 5, stride: 3, padding: 0 }, outputPadding: 2 },
];

// ---- output lengths, shapes and parameter counts ----

test('Conv1d output lengths are floor((length + 2 padding - kernel) / stride) + 1', () => {
  // [length, kernel, stride, padding, output length]
  const cases: Array<[number, number, number, number, number]> = [
    [16, 3, 1, 1, 16], [16, 4, 2, 1, 8], [17, 4, 2, 1, 8], [10, 5, 1, 0, 6],
    [10, 3, 3, 0, 3], [7, 7, 1, 3, 7], [5, 5, 2, 0, 1], [3, 5, 1, 1, 1],
  ];
  for (const [length, kernel, stride, padding, expected] of cases) {
    const { layer } = ready(new Conv1d({ name: 'c', inLength: length, inChannels: 2, outChannels: 3, kernel, stride, padding, activation: 'linear' }), 1);
    const label = `length ${length}, k${kernel} s${stride} p${padding}`;
    assert.equal(layer.outLength, expected, label);
    assert.deepEqual(layer.outputShape, [expected, 3], label);
    assert.equal(layer.forward(js, normals(2, 2 * length * 2), 2).length, 2 * expected * 3, label);
  }
});

test('ConvTranspose1d output lengths are (length - 1) stride - 2 padding + kernel + output padding', () => {
  // [length, kernel, stride, padding, output padding, output length]
  const cases: Array<[number, number, number, number, number, number]> = [
    [8, 4, 2, 1, 0, 16], [8, 3, 2, 1, 1, 16], [16, 3, 1, 1, 0, 16], [3, 5, 3, 0, 2, 13], [4, 2, 2, 0, 0, 8], [1, 3, 1, 0, 0, 3],
  ];
  for (const [length, kernel, stride, padding, outputPadding, expected] of cases) {
    const { layer } = ready(new ConvTranspose1d({
      name: 't', inLength: length, inChannels: 2, outChannels: 3, kernel, stride, padding, outputPadding, activation: 'linear',
    }), 1);
    const label = `length ${length}, k${kernel} s${stride} p${padding} op${outputPadding}`;
    assert.equal(layer.outLength, expected, label);
    assert.deepEqual(layer.outputShape, [expected, 3], label);
    assert.equal(layer.forward(js, normals(2, 2 * length * 2), 2).length, 2 * expected * 3, label);
  }
});

test('the 1-D layers reject geometry that does not fit', () => {
  const base = { name: 'x', inLength: 7, inChannels: 1, outChannels: 2, kernel: 3, stride: 2, padding: 1, activation: 'relu' } as const;
  assert.throws(() => new Conv1d({ ...base, kernel: 10 }), /does not fit a sequence of length 7/);
  assert.throws(() => new Conv1d({ ...base, stride: 0 }), /stride/);
  assert.throws(() => new Conv1d({ ...base, padding: -1 }), /padding/);
  assert.throws(() => new Conv1d({ ...base, inLength: 2.5 }), /inLength/);
  assert.throws(() => new ConvTranspose1d({ ...base, outputPadding: 2 }), /output padding/);
  assert.throws(() => new ConvTranspose1d({ ...base, stride: 1, outputPadding: 1 }), /output padding/);
  assert.throws(() => new ConvTranspose1d({ ...base, kernel: 0 }), /kernel/);
});

for (const backend of backends) {
  test(`${backend.name}: 64x1 -> Conv1d 32x16 -> Conv1d 16x32 -> ConvTranspose1d 32x16 -> ConvTranspose1d 64x1: shapes, counts, a step`, () => {
    const common = { kernel: 4, stride: 2, padding: 1 } as const;
    const layers: Layer[] = [
      new Conv1d({ name: 'e1', inLength: 64, inChannels: 1, outChannels: 16, activation: 'relu', ...common }),
      new Conv1d({ name: 'e2', inLength: 32, inChannels: 16, outChannels: 32, activation: 'relu', ...common }),
      new ConvTranspose1d({ name: 'd1', inLength: 16, inChannels: 32, outChannels: 16, activation: 'relu', ...common }),
      new ConvTranspose1d({ name: 'd2', inLength: 32, inChannels: 16, outChannels: 1, activation: 'sigmoid', ...common }),
    ];
    assert.deepEqual(layers.map((l) => l.kind), ['Conv1d', 'Conv1d', 'ConvTranspose1d', 'ConvTranspose1d']);
    assert.deepEqual(layers.map((l) => l.outputShape), [[32, 16], [16, 32], [32, 16], [64, 1]]);
    // Keras' counts: k*in*out + out.
    assert.deepEqual(layers.map((l) => l.parameterCount), [80, 2080, 2064, 65]);
    // Keras' layouts: Conv1D [k, in, out], Conv1DTranspose [k, out, in].
    assert.deepEqual(layers[1]!.parameterSpecs().map((s) => s.shape), [[4, 16, 32], [32]]);
    assert.deepEqual(layers[2]!.parameterSpecs().map((s) => s.shape), [[4, 16, 32], [16]]);
    const net = new Sequential(layers);
    const params = new ParameterSet(net.parameterSpecs());
    assert.equal(params.count, 80 + 2080 + 2064 + 65);
    net.bind(params);
    net.initialize(new Random(0));
    const rows = 3;
    const x = normals(1, rows * 64);
    const y = net.forward(backend, x, rows);
    assert.equal(y.length, rows * 64);
    assert.ok(y.every((v) => v > 0 && v < 1));
    const dx = net.backward(backend, new Float32Array(y), rows, true)!;
    assert.equal(dx.length, rows * 64);
    assert.ok(dx.every(Number.isFinite) && params.grads.every(Number.isFinite));
  });
}

// ---- forward against the oracle, gradients against its central differences ----

for (const backend of backends) {
  for (const c of CASES) {
    test(`${backend.name}: ${describe(c)}: forward is the direct convolution; gradients match float64 central differences`, () => {
      for (const act of ACTIVATIONS) {
        const { layer, params } = ready(build(c, act), 7);
        const rows = c.g.rows;
        const x = normals(21, rows * layer.inputSize);
        const kernel = params.get('g.kernel');
        const bias = params.get('g.bias');
        const y = layer.forward(backend, x, rows);
        assertClose(y, oracle(c, layer, x, kernel.value, bias.value), 1e-5, 1e-6, `${act} forward`);

        // L = sum(y * dy): the layer's gradients for dL/dy = dy against the oracle's differences.
        const dy = normals(22, rows * layer.outputSize);
        const dx = Float64Array.from(layer.backward(backend, dy.slice(), rows, true)!);
        const x64 = Float64Array.from(x);
        const w64 = Float64Array.from(kernel.value);
        const b64 = Float64Array.from(bias.value);
        const loss = (): number => {
          const out = oracle(c, layer, x64, w64, b64);
          let s = 0;
          for (let i = 0; i < out.length; i++) s += out[i]! * dy[i]!;
          return s;
        };
        assert.ok(kernel.grad.some((v) => Math.abs(v) > 1e-2), `${act}: the kernel gradient is not trivially zero`);
        assertGradient(kernel.grad, numericGradient(w64, loss, 1e-5), `${act} kernel`, 1e-4, 1e-5);
        assertGradient(bias.grad, numericGradient(b64, loss, 1e-5), `${act} bias`, 1e-4, 1e-5);
        assertGradient(dx, numericGradient(x64, loss, 1e-5), `${act} input`, 1e-4, 1e-5);

        // Without the input gradient: the same parameter gradients, and nothing returned.
        const dKernel = kernel.grad.slice();
        layer.forward(backend, x, rows);
        assert.equal(layer.backward(backend, dy.slice(), rows, false), null);
        assertClose(kernel.grad, dKernel, 0, 0, `${act} kernel gradient without the input gradient`);
      }
    });
  }

  // ---- ConvTranspose1d is the adjoint of Conv1d ----

  for (const [length, inChannels, outChannels, kernel, stride, padding] of [
    [9, 2, 3, 3, 1, 1], [10, 3, 2, 4, 2, 1], [11, 1, 4, 5, 3, 2], [8, 2, 2, 3, 2, 0], [5, 2, 3, 4, 2, 2],
  ] as const) {
    test(`${backend.name}: ConvTranspose1d is the adjoint of Conv1d with the same kernel (length ${length}, ${inChannels} -> ${outChannels}, k${kernel} s${stride} p${padding})`, () => {
      const rows = 2;
      const conv = ready(new Conv1d({ name: 'c', inLength: length, inChannels, outChannels, kernel, stride, padding, activation: 'linear' }), 3);
      // Output padding gives back the positions the convolution's windows skip at the end.
      const outputPadding = (length + 2 * padding - kernel) % stride;
      const convT = ready(new ConvTranspose1d({
        name: 't', inLength: conv.layer.outLength, inChannels: outChannels, outChannels: inChannels, kernel, stride, padding,
        outputPadding, activation: 'linear',
      }), 4);
      assert.equal(convT.layer.outLength, length);
      // Conv1d's [k, in, out] is ConvTranspose1d's [k, out', in'] for out' = in, in' = out: the same weights.
      assert.deepEqual(convT.layer.parameterSpecs()[0]!.shape, conv.layer.parameterSpecs()[0]!.shape);
      convT.params.get('t.kernel').value.set(conv.params.get('c.kernel').value);
      conv.params.get('c.bias').value.fill(0);
      convT.params.get('t.bias').value.fill(0);

      const x = normals(5, rows * conv.layer.inputSize);
      const y = normals(6, rows * conv.layer.outputSize);
      const cx = conv.layer.forward(backend, x, rows);
      const ty = convT.layer.forward(backend, y, rows);
      let left = 0;
      let right = 0;
      let magnitude = 0;
      for (let i = 0; i < y.length; i++) {
        left += y[i]! * cx[i]!;
        magnitude += Math.abs(y[i]! * cx[i]!);
      }
      for (let i = 0; i < x.length; i++) right += ty[i]! * x[i]!;
      assert.ok(Math.abs(left - right) <= 1e-5 * magnitude, `<y, conv(x)> = ${left} but <convT(y), x> = ${right}`);
      // And convT(y) is Conv1d's input gradient for dL/d(output) = y: the same product and col2im.
      const dx = conv.layer.backward(backend, y.slice(), rows, true)!;
      assertClose(ty, dx, 0, 0, 'convT(y) against Conv1d.backward(y)');
    });
  }

  // ---- mixed precision ----

  const bf16Runs = backend.name === 'js' || backend.info().bf16.available;
  test(`${backend.name}: in bf16 the 1-D layers stay within bf16 rounding of fp32`, { skip: bf16Runs ? false : 'bf16 products are not available here' }, () => {
    for (const c of CASES) {
      const { layer, params } = ready(build(c, 'tanh'), 8);
      const rows = c.g.rows;
      const x = normals(23, rows * layer.inputSize);
      const dy = normals(24, rows * layer.outputSize);
      const y32 = layer.forward(backend, x, rows).slice();
      const dx32 = layer.backward(backend, dy.slice(), rows, true)!.slice();
      const dw32 = params.get('g.kernel').grad.slice();
      layer.precision = 'bf16';
      const y16 = layer.forward(backend, x, rows);
      assertClose(y16, y32, 2e-2, 2e-2, `${describe(c)} bf16 forward`);
      const dx16 = layer.backward(backend, dy.slice(), rows, true)!;
      assertClose(dx16, dx32, 3e-2, 3e-2, `${describe(c)} bf16 input gradient`);
      assertClose(params.get('g.kernel').grad, dw32, 3e-2, 5e-2, `${describe(c)} bf16 kernel gradient`);
    }
  });

  test(`${backend.name}: Conv1d reuses its buffers, and a smaller batch after a larger one is right`, () => {
    const { layer } = ready(new Conv1d({ name: 'c', inLength: 12, inChannels: 2, outChannels: 3, kernel: 3, stride: 2, padding: 1, activation: 'tanh' }), 30);
    const x = normals(31, 4 * layer.inputSize);
    const big = layer.forward(backend, x, 4);
    const firstRowBig = big.slice(0, layer.outputSize);
    const small = layer.forward(backend, x, 1);
    assert.equal(small.buffer, big.buffer);
    assertClose(small, firstRowBig, 0, 0, 'one row after four');
    assert.equal(layer.backward(backend, new Float32Array(layer.outputSize).fill(1), 1, true)!.length, layer.inputSize);
    assert.throws(() => layer.backward(backend, new Float32Array(layer.outputSize), 1, true), /forward/);
    const t = new ConvTranspose1d({ name: 't', inLength: 4, inChannels: 2, outChannels: 1, kernel: 2, stride: 2, padding: 0, activation: 'linear' });
    t.bind(new ParameterSet(t.parameterSpecs()));
    assert.throws(() => t.backward(backend, new Float32Array(t.outputSize), 1, true), /forward/);
  });
}

// ---- the native backend against the js one ----

test('native and js agree on the 1-D layers: outputs, input, kernel and bias gradients', { skip: typeof native === 'string' ? native : false }, () => {
  const nativeBackend = native as Backend;
  // The test cases, and a batch large enough for the native products' threaded paths.
  const cases: Case[] = [...CASES,
    { kind: 'Conv1d', g: { rows: 64, length: 128, inChannels: 8, outChannels: 32, kernel: 5, stride: 2, padding: 2 } },
    { kind: 'ConvTranspose1d', g: { rows: 64, length: 64, inChannels: 32, outChannels: 8, kernel: 4, stride: 2, padding: 1 } },
  ];
  for (const c of cases) {
    for (const act of ['relu', 'sigmoid'] as const) {
      const results = [js, nativeBackend].map((backend) => {
        const { layer, params } = ready(build(c, act), 9);
        const x = normals(25, c.g.rows * layer.inputSize);
        const y = layer.forward(backend, x, c.g.rows).slice();
        const dx = layer.backward(backend, normals(26, c.g.rows * layer.outputSize), c.g.rows, true)!.slice();
        return { y, dx, dw: params.get('g.kernel').grad.slice(), db: params.get('g.bias').grad.slice() };
      });
      const [a, b] = results as [typeof results[0], typeof results[0]];
      const label = `${describe(c)} ${act}`;
      assertClose(b.y, a.y, 1e-5, 1e-5, `${label} output`);
      assertClose(b.dx, a.dx, 1e-4, 1e-4, `${label} input gradient`);
      assertClose(b.dw, a.dw, 1e-4, 1e-3, `${label} kernel gradient`);
      assertClose(b.db, a.db, 1e-4, 1e-3, `${label} bias gradient`);
    }
  }
});
