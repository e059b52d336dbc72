// Convolution on both backends: im2col and col2im against direct nested-loop convolutions written
// here (the oracle), im2col element by element and col2im as its adjoint (also for windows that are
// not square, the 1 x k windows of the 1-D layers among them), the Conv2d and ConvTranspose2d
// forward passes against the same oracles, finite-difference gradient checks of both layers, and
// the shapes of a conv VAE's encoder and decoder on MNIST-sized images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Activation, Backend } from '../src/engine/backend.js';
import { JsBackend } from '../src/engine/js-backend.js';
import { loadNativeBackend } from '../src/engine/native-backend.js';
import { Random } from '../src/engine/random.js';
import { Conv2d } from '../src/nn/conv2d.js';
import { ConvTranspose2d } from '../src/nn/conv-transpose2d.js';
import type { Layer } from '../src/nn/layer.js';
import { ParameterSet } from '../src/nn/parameters.js';
import { Sequential } from '../src/nn/sequential.js';
import { assertGradient, numericGradient } from './helpers/gradient-check.js';

const js = new JsBackend();
const backends: Backend[] = [js, loadNativeBackend()];

interface Geometry {
  rows: number;
  height: number;
  width: number;
  channels: number;
  kernel: number;
  stride: number;
  pad: number;
}

const GEOMETRIES: readonly Geometry[] = [
  { rows: 2, height: 7, width: 5, channels: 1, kernel: 3, stride: 1, pad: 1 },
  { rows: 2, height: 8, width: 6, channels: 3, kernel: 4, stride: 2, pad: 1 },
  { rows: 1, height: 9, width: 7, channels: 3, kernel: 5, stride: 2, pad: 2 },
  { rows: 3, height: 6, width: 9, channels: 1, kernel: 3, stride: 2, pad: 0 }, // the last image row is in no window
  { rows: 2, height: 5, width: 4, channels: 3, kernel: 5, stride: 1, pad: 2 },
  { rows: 1, height: 4, width: 4, channels: 2, kernel: 4, stride: 2, pad: 2 }, // windows that are mostly padding
];

/** An im2col window with its own geometry per axis: kernelH x kernelW, moved strideH down and strideW across. */
interface Window {
  rows: number; height: number; width: number; channels: number;
  kernelH: number; kernelW: number; strideH: number; strideW: number; padH: number; padW: number;
}

/** The square geometries, and windows that are not square: a 1-D layer's (height 1, a 1 x k window) among them. */
const WINDOWS: readonly Window[] = [
  ...GEOMETRIES.map(({ rows, height, width, channels, kernel, stride, pad }) => ({
    rows, height, width, channels, kernelH: kernel, kernelW: kernel, strideH: stride, strideW: stride, padH: pad, padW: pad,
  })),
  { rows: 2, height: 1, width: 9, channels: 2, kernelH: 1, kernelW: 3, strideH: 1, strideW: 2, padH: 0, padW: 1 }, // a Conv1d's
  { rows: 2, height: 1, width: 5, channels: 3, kernelH: 1, kernelW: 4, strideH: 1, strideW: 1, padH: 0, padW: 2 },
  { rows: 1, height: 5, width: 6, channels: 2, kernelH: 2, kernelW: 3, strideH: 1, strideW: 2, padH: 0, padW: 1 },
  { rows: 2, height: 4, width: 3, channels: 1, kernelH: 3, kernelW: 1, strideH: 2, strideW: 1, padH: 1, padW: 0 },
];

function outLength(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

function describe(g: Geometry): string {
  return `${g.rows}x${g.height}x${g.width}x${g.channels} k${g.kernel} s${g.stride} p${g.pad}`;
}

function normals(seed: number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  new Random(seed).fillNormal(out);
  for (let i = 0; i < n; i++) out[i] = out[i]! * scale;
  return out;
}

/**
 * The direct convolution: y[r, oy, ox, o] = sum over ky, kx, c of x[r, oy*s - p + ky, ox*s - p + kx, c]
 * w[ky, kx, c, o], positions outside the image skipped. In double.
 */
function directConv(
  x: ArrayLike<number>, g: Geometry, w: ArrayLike<number>, outChannels: number,
): { y: Float64Array; outH: number; outW: number } {
  const { rows, height, width, channels, kernel, stride, pad } = g;
  const outH = outLength(height, kernel, stride, pad);
  const outW = outLength(width, kernel, stride, pad);
  const y = new Float64Array(rows * outH * outW * outChannels);
  for (let r = 0; r < rows; r++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let o = 0; o < outChannels; o++) {
          let s = 0;
          for (let ky = 0; ky < kernel; ky++) {
            for (let kx = 0; kx < kernel; kx++) {
              const iy = oy * stride - pad + ky;
              const ix = ox * stride - pad + kx;
              if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
              for (let c = 0; c < channels; c++) {
                s += x[((r * height + iy) * width + ix) * channels + c]! * w[((ky * kernel + kx) * channels + c) * outChannels + o]!;
              }
            }
          }
          y[((r * outH + oy) * outW + ox) * outChannels + o] = s;
        }
      }
    }
  }
  return { y, outH, outW };
}

/**
 * The direct transposed convolution, as a scatter: every input pixel (iy, ix) adds
 * x[r, iy, ix, i] w[ky, kx, o, i] to the output at (iy*s - p + ky, ix*s - p + kx, o), when that lies
 * inside the outH x outW output. In double.
 */
function directConvTranspose(
  x: ArrayLike<number>, rows: number, inH: number, inW: number, inChannels: number,
  w: ArrayLike<number>, outChannels: number, kernel: number, stride: number, pad: number, outH: number, outW: number,
): Float64Array {
  const y = new Float64Array(rows * outH * outW * outChannels);
  for (let r = 0; r < rows; r++) {
    for (let iy = 0; iy < inH; iy++) {
      for (let ix = 0; ix < inW; ix++) {
        for (let i = 0; i < inChannels; i++) {
          const v = x[((r * inH + iy) * inW + ix) * inChannels + i]!;
          for (let ky = 0; ky < kernel; ky++) {
            for (let kx = 0; kx < kernel; kx++) {
              const oy = iy * stride - pad + ky;
              const ox = ix * stride - pad + kx;
              if (oy < 0 || oy >= outH || ox < 0 || ox >= outW) continue;
              for (let o = 0; o < outChannels; o++) {
                y[((r * outH + oy) * outW + ox) * outChannels + o] += v * w[((ky * kernel + kx) * outChannels + o) * inChannels + i]!;
              }
            }
          }
        }
      }
    }
  }
  return y;
}

/** c[m, n] = a[m, k] b[k, n] (transB: b stored [n, k]), in double: the test's own product. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, n: number, k: number, transB: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * b[transB ? j * k + p : p * n + j]!;
      c[i * n + j] = s;
    }
  }
  return c;
}

function applyActivation(v: number, act: Activation): number {
  switch (act) {
    case 'linear': return v;
    case 'relu': return Math.max(v, 0);
    case 'leaky_relu': return v > 0 ? v : 0.01 * v;
    case 'tanh': return Math.tanh(v);
    case 'sigmoid': return 1 / (1 + Math.exp(-v));
  }
}

function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: lengths differ`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) assert.fail(`${label}: element ${i} is ${a}, expected ${e}`);
  }
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

for (const backend of backends) {
  // ---- the kernels against the oracle ----

  for (const g of GEOMETRIES) {
    test(`${backend.name}: im2col times a kernel is the direct convolution (${describe(g)})`, () => {
      const { rows, height, width, channels, kernel, stride, pad } = g;
      const outH = outLength(height, kernel, stride, pad);
      const outW = outLength(width, kernel, stride, pad);
      const patch = kernel * kernel * channels;
      const outChannels = 2;
      const x = normals(1, rows * height * width * channels);
      const w = normals(2, patch * outChannels);
      const cols = new Float32Array(rows * outH * outW * patch).fill(Number.NaN);
      backend.im2col(x, rows, height, width, channels, kernel, kernel, stride, stride, pad, pad, outH, outW, cols);
      const expected = directConv(x, g, w, outChannels);
      assert.equal(expected.outH, outH);
      assertNear(matmul(cols, w, rows * outH * outW, outChannels, patch, false), expected.y, 1e-9, 1e-9, 'cols . w');
    });

    test(`${backend.name}: col2im of x W^T is the direct transposed convolution (${describe(g)})`, () => {
      const { rows, height, width, channels, kernel, stride, pad } = g;
      const outH = outLength(height, kernel, stride, pad);
      const outW = outLength(width, kernel, stride, pad);
      const patch = kernel * kernel * channels;
      const gridChannels = 3;
      // The transposed convolution from the outH x outW grid (gridChannels) back to the image.
      const grid = normals(3, rows * outH * outW * gridChannels);
      const w = normals(4, patch * gridChannels); // [k, k, channels, gridChannels]
      const cols = Float32Array.from(matmul(grid, w, rows * outH * outW, patch, gridChannels, true));
      const image = new Float32Array(rows * height * width * channels).fill(Number.NaN); // overwritten, not added to
      backend.col2im(cols, rows, height, width, channels, kernel, kernel, stride, stride, pad, pad, outH, outW, image);
      const expected = directConvTranspose(grid, rows, outH, outW, gridChannels, w, channels, kernel, stride, pad, height, width);
      assertNear(image, expected, 1e-5, 1e-5, 'col2im');
    });
  }

  for (const w of WINDOWS) {
    const label = `${w.rows}x${w.height}x${w.width}x${w.channels}, ${w.kernelH}x${w.kernelW} window, stride ${w.strideH}x${w.strideW}, pad ${w.padH}x${w.padW}`;
    test(`${backend.name}: im2col copies each window and col2im is its adjoint (${label})`, () => {
      const outH = outLength(w.height, w.kernelH, w.strideH, w.padH);
      const outW = outLength(w.width, w.kernelW, w.strideW, w.padW);
      const patch = w.kernelH * w.kernelW * w.channels;
      const imageSize = w.rows * w.height * w.width * w.channels;
      const colsSize = w.rows * outH * outW * patch;
      const x = normals(1, imageSize);
      const cols = new Float32Array(colsSize).fill(Number.NaN);
      backend.im2col(x, w.rows, w.height, w.width, w.channels, w.kernelH, w.kernelW, w.strideH, w.strideW, w.padH, w.padW, outH, outW, cols);
      // Element by element, every one written (no NaN left): x at the window position, or 0.
      for (let row = 0; row < w.rows * outH * outW; row++) {
        const r = Math.floor(row / (outH * outW));
        const oy = Math.floor(row / outW) % outH;
        const ox = row % outW;
        for (let q = 0; q < patch; q++) {
          const c = q % w.channels;
          const kx = Math.floor(q / w.channels) % w.kernelW;
          const ky = Math.floor(q / (w.channels * w.kernelW));
          const iy = oy * w.strideH - w.padH + ky;
          const ix = ox * w.strideW - w.padW + kx;
          const inside = iy >= 0 && iy < w.height && ix >= 0 && ix < w.width;
          assert.equal(cols[row * patch + q], inside ? x[((r * w.height + iy) * w.width + ix) * w.channels + c]! : 0, `cols[${row}, ${q}]`);
        }
      }
      const bf16 = new Uint16Array(colsSize);
      backend.im2colBf16(x, w.rows, w.height, w.width, w.channels, w.kernelH, w.kernelW, w.strideH, w.strideW, w.padH, w.padW, outH, outW, bf16);
      const rounded = new Uint16Array(colsSize);
      js.toBf16(cols, rounded, colsSize);
      assert.deepEqual(bf16, rounded, 'im2colBf16 is im2col rounded');
      // <im2col(x), c> = <x, col2im(c)>
      const c = normals(2, colsSize);
      const back = new Float32Array(imageSize).fill(Number.NaN);
      backend.col2im(c, w.rows, w.height, w.width, w.channels, w.kernelH, w.kernelW, w.strideH, w.strideW, w.padH, w.padW, outH, outW, back);
      let left = 0;
      let right = 0;
      let magnitude = 0;
      for (let i = 0; i < colsSize; i++) {
        left += cols[i]! * c[i]!;
        magnitude += Math.abs(cols[i]! * c[i]!);
      }
      for (let i = 0; i < imageSize; i++) right += x[i]! * back[i]!;
      assert.ok(Math.abs(left - right) <= 1e-6 * magnitude, `<im2col(x), c> = ${left} but <x, col2im(c)> = ${right}`);
    });
  }

  // ---- the layers' forward passes against the oracle ----

  for (const act of ['linear', 'relu', 'tanh', 'sigmoid'] as Activation[]) {
    test(`${backend.name}: Conv2d(${act}) forward is the direct convolution plus bias, activated`, () => {
      const g: Geometry = { rows: 3, height: 9, width: 8, channels: 3, kernel: 4, stride: 2, pad: 1 };
      const outChannels = 5;
      const { layer, params } = ready(new Conv2d({
        name: 'c', inHeight: g.height, inWidth: g.width, inChannels: g.channels, outChannels,
        kernel: g.kernel, stride: g.stride, padding: g.pad, activation: act,
      }), 10);
      const x = normals(11, g.rows * layer.inputSize);
      const y = layer.forward(backend, x, g.rows);
      const { y: conv, outH, outW } = directConv(x, g, params.get('c.kernel').value, outChannels);
      assert.deepEqual(layer.outputShape, [outH, outW, outChannels]);
      const bias = params.get('c.bias').value;
      const expected = conv.map((v, i) => applyActivation(v + bias[i % outChannels]!, act));
      assertNear(y, expected, 1e-5, 1e-5, `Conv2d ${act}`);
    });

    test(`${backend.name}: ConvTranspose2d(${act}) forward is the direct scatter-add plus bias, activated`, () => {
      for (const outputPadding of [0, 1]) {
        const [rows, inH, inW, inChannels, outChannels, kernel, stride, pad] = [2, 4, 3, 3, 2, 3, 2, 1];
        const { layer, params } = ready(new ConvTranspose2d({
          name: 't', inHeight: inH, inWidth: inW, inChannels, outChannels, kernel, stride, padding: pad,
          outputPadding, activation: act,
        }), 12);
        const outH = (inH - 1) * stride - 2 * pad + kernel + outputPadding;
        const outW = (inW - 1) * stride - 2 * pad + kernel + outputPadding;
        assert.deepEqual(layer.outputShape, [outH, outW, outChannels]);
        const x = normals(13, rows * layer.inputSize);
        const y = layer.forward(backend, x, rows);
        const scatter = directConvTranspose(x, rows, inH, inW, inChannels, params.get('t.kernel').value, outChannels,
          kernel, stride, pad, outH, outW);
        const bias = params.get('t.bias').value;
        const expected = scatter.map((v, i) => applyActivation(v + bias[i % outChannels]!, act));
        assertNear(y, expected, 1e-5, 1e-5, `ConvTranspose2d ${act} output padding ${outputPadding}`);
      }
    });
  }

  // ---- gradients ----

  type Build = (act: Activation) => Layer;
  const gradientCases: Array<[string, Build]> = [
    ['Conv2d 6x5x2 -> 3x3x3, k3 s2 p1', (act) => new Conv2d({
      name: 'g', inHeight: 6, inWidth: 5, inChannels: 2, outChannels: 3, kernel: 3, stride: 2, padding: 1, activation: act,
    })],
    ['Conv2d 5x6x3 -> 5x6x2, k3 s1 p1', (act) => new Conv2d({
      name: 'g', inHeight: 5, inWidth: 6, inChannels: 3, outChannels: 2, kernel: 3, stride: 1, padding: 1, activation: act,
    })],
    ['ConvTranspose2d 3x2x2 -> 5x3x3, k3 s2 p1', (act) => new ConvTranspose2d({
      name: 'g', inHeight: 3, inWidth: 2, inChannels: 2, outChannels: 3, kernel: 3, stride: 2, padding: 1, activation: act,
    })],
    ['ConvTranspose2d 3x2x2 -> 6x4x3, k3 s2 p1, output padding 1', (act) => new ConvTranspose2d({
      name: 'g', inHeight: 3, inWidth: 2, inChannels: 2, outChannels: 3, kernel: 3, stride: 2, padding: 1,
      outputPadding: 1, activation: act,
    })],
    ['ConvTranspose2d 3x3x3 -> 6x6x2, k4 s2 p1', (act) => new ConvTranspose2d({
      name: 'g', inHeight: 3, inWidth: 3, inChannels: 3, outChannels: 2, kernel: 4, stride: 2, padding: 1, activation: act,
    })],
    ['Conv2d 5x7x2 -> 4x4x3, k2x3 s1x2 p0x1', (act) => new Conv2d({
      name: 'g', inHeight: 5, inWidth: 7, inChannels: 2, outChannels: 3, kernel: [2, 3], stride: [1, 2], padding: [0, 1], activation: act,
    })],
    ['ConvTranspose2d 3x4x2 -> 5x9x3, k3x2 s2 p1x0, output padding 0x1', (act) => new ConvTranspose2d({
      name: 'g', inHeight: 3, inWidth: 4, inChannels: 2, outChannels: 3, kernel: [3, 2], stride: 2, padding: [1, 0],
      outputPadding: [0, 1], activation: act,
    })],
  ];
  for (const [label, build] of gradientCases) {
    for (const act of ['linear', 'relu', 'leaky_relu', 'tanh', 'sigmoid'] as Activation[]) {
      test(`${backend.name}: ${label} (${act}): kernel, bias and input gradients match finite differences`, () => {
        const rows = 2;
        const { layer, params } = ready(build(act), 7);
        const rng = new Random(21);
        const x = new Float32Array(rows * layer.inputSize);
        rng.fillNormal(x);
        const w = new Float32Array(rows * layer.outputSize);
        rng.fillNormal(w);
        // Scalar loss L = sum(y * w); dL/dy = w.
        const loss = (): number => {
          const y = layer.forward(backend, x, rows);
          let s = 0;
          for (let i = 0; i < y.length; i++) s += y[i]! * w[i]!;
          return s;
        };
        loss();
        const dx = Float64Array.from(layer.backward(backend, w.slice(), rows, true)!);
        const dKernel = Float64Array.from(params.get('g.kernel').grad);
        const dBias = Float64Array.from(params.get('g.bias').grad);
        assert.ok(dKernel.some((v) => Math.abs(v) > 1e-2), 'the kernel gradient is not trivially zero');
        assertGradient(dKernel, numericGradient(params.get('g.kernel').value, loss, 1e-3), 'kernel');
        assertGradient(dBias, numericGradient(params.get('g.bias').value, loss, 1e-3), 'bias');
        assertGradient(dx, numericGradient(x, loss, 1e-3), 'input');
        // Without the input gradient, the parameter gradients are the same and nothing is returned.
        loss();
        assert.equal(layer.backward(backend, w.slice(), rows, false), null);
        assertNear(params.get('g.kernel').grad, dKernel, 1e-6, 1e-7, 'kernel gradient without the input gradient');
      });
    }
  }

  // ---- shapes of a conv VAE on MNIST ----

  test(`${backend.name}: 28x28x1 -> Conv2d 14x14x32 -> Conv2d 7x7x64 -> ConvTranspose2d 14x14x32 -> ConvTranspose2d 28x28x1`, () => {
    const common = { kernel: 4, stride: 2, padding: 1 } as const;
    const layers: Layer[] = [
      new Conv2d({ name: 'e1', inHeight: 28, inWidth: 28, inChannels: 1, outChannels: 32, activation: 'relu', ...common }),
      new Conv2d({ name: 'e2', inHeight: 14, inWidth: 14, inChannels: 32, outChannels: 64, activation: 'relu', ...common }),
      new ConvTranspose2d({ name: 'd1', inHeight: 7, inWidth: 7, inChannels: 64, outChannels: 32, activation: 'relu', ...common }),
      new ConvTranspose2d({ name: 'd2', inHeight: 14, inWidth: 14, inChannels: 32, outChannels: 1, activation: 'sigmoid', ...common }),
    ];
    assert.deepEqual(layers.map((l) => l.outputShape), [[14, 14, 32], [7, 7, 64], [14, 14, 32], [28, 28, 1]]);
    assert.deepEqual(layers.map((l) => l.kind), ['Conv2d', 'Conv2d', 'ConvTranspose2d', 'ConvTranspose2d']);
    // Keras' counts: k*k*in*out + out.
    assert.deepEqual(layers.map((l) => l.parameterCount), [544, 32_832, 32_800, 513]);
    assert.deepEqual(layers[1]!.parameterSpecs().map((s) => s.shape), [[4, 4, 32, 64], [64]]);
    assert.deepEqual(layers[2]!.parameterSpecs().map((s) => s.shape), [[4, 4, 32, 64], [32]]);
    const net = new Sequential(layers);
    const params = new ParameterSet(net.parameterSpecs());
    net.bind(params);
    net.initialize(new Random(0));
    const rows = 3;
    const x = new Float32Array(rows * 784);
    new Random(1).fillUniform(x);
    const y = net.forward(backend, x, rows);
    assert.equal(y.length, rows * 784);
    assert.ok(y.every((v) => v > 0 && v < 1));
    const dx = net.backward(backend, new Float32Array(y), rows, true)!;
    assert.equal(dx.length, rows * 784);
    assert.ok(dx.every(Number.isFinite));
    assert.ok(params.grads.every(Number.isFinite));
  });

  test(`${backend.name}: conv layers reuse their buffers, and a smaller batch after a larger one is right`, () => {
    const { layer } = ready(new Conv2d({
      name: 'c', inHeight: 6, inWidth: 6, inChannels: 2, outChannels: 3, kernel: 3, stride: 1, padding: 1, activation: 'tanh',
    }), 30);
    const x = normals(31, 4 * layer.inputSize);
    const big = layer.forward(backend, x, 4);
    const firstRowBig = big.slice(0, layer.outputSize);
    const small = layer.forward(backend, x, 1);
    assert.equal(small.buffer, big.buffer);
    assert.equal(small.length, layer.outputSize);
    assertNear(small, firstRowBig, 0, 0, 'one row after four');
    const dx = layer.backward(backend, new Float32Array(layer.outputSize).fill(1), 1, true)!;
    assert.equal(dx.length, layer.inputSize);
    assert.throws(() => layer.backward(backend, new Float32Array(layer.outputSize), 1, true), /forward/);
  });
}

test('the layers reject geometry that does not fit', () => {
  const base = { name: 'x', inHeight: 7, inWidth: 7, inChannels: 1, outChannels: 2, kernel: 3, stride: 2, padding: 1, activation: 'relu' } as const;
  assert.throws(() => new Conv2d({ ...base, kernel: 10 }), /does not fit/);
  assert.throws(() => new Conv2d({ ...base, stride: 0 }), /stride/);
  assert.throws(() => new Conv2d({ ...base, padding: -1 }), /padding/);
  assert.throws(() => new Conv2d({ ...base, inChannels: 1.5 }), /inChannels/);
  assert.throws(() => new ConvTranspose2d({ ...base, outputPadding: 2 }), /output padding/);
  assert.throws(() => new ConvTranspose2d({ ...base, stride: 1, outputPadding: 1 }), /output padding/);
  const t = new ConvTranspose2d({ ...base, outputPadding: 1 });
  assert.deepEqual(t.outputShape, [14, 14, 2]);
  // Per-axis geometry: each axis checked, and shapes per axis.
  assert.throws(() => new Conv2d({ ...base, kernel: [1, 0] }), /kernel width/);
  assert.throws(() => new Conv2d({ ...base, kernel: [10, 3] }), /10x3 kernel with padding 1 does not fit a 7x7 image/);
  assert.throws(() => new ConvTranspose2d({ ...base, stride: [2, 1], outputPadding: [0, 1] }), /output padding 0x1/);
  const c = new Conv2d({ ...base, kernel: [1, 3], stride: [1, 2], padding: [0, 1] });
  assert.deepEqual(c.outputShape, [7, 4, 2]);
  assert.deepEqual(c.parameterSpecs()[0]!.shape, [1, 3, 1, 2]);
});
