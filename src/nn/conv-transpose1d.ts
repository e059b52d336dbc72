/**
 * A 1-D transposed convolution y = act(convT(x, W) + b) over channels-last sequences [length,
 * channels]: the gradient of a Conv1d with respect to its input, used to upsample in decoders, and
 * the 2-D one over [1, length, channels] with a 1 x k window. Each input position's channels, times
 * the kernel, give a k x outC patch ([rows*inLength, inC] x [inC, k*outC] in one product), and
 * col2im adds the patches into the output sequence at stride `stride`, less `padding` at each end.
 * The kernel is stored [k, outC, inC] (Keras' Conv1DTranspose layout), which is the [k*outC, inC]
 * matrix. Output length (PyTorch's formula):
 * outLength = (inLength - 1) * stride - 2 * padding + kernel + outputPadding.
 * Forward and backward side by side; buffers grow to the largest batch seen and are reused.
 */
import type { Activation, Backend } from '../engine/backend.js';
import type { Precision } from '../engine/precision.js';
import type { Random } from '../engine/random.js';
import { Bf16Copy } from './bf16.js';
import { checkIntegers, convOutputLength } from './conv2d.js';
import { convTransposeOutputLength } from './conv-transpose2d.js';
import { LEAKY_SLOPE } from './dense.js';
import { glorotUniform } from './init.js';
import type { Layer } from './layer.js';
import type { Parameter, ParameterSet, ParameterSpec } from './parameters.js';

export interface ConvTranspose1dSpec {
  name: string;
  inLength: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
  /** Extra positions at the end of the output (less than stride); default 0. */
  outputPadding?: number;
  activation: Activation;
}

export class ConvTranspose1d implements Layer {
  readonly kind = 'ConvTranspose1d';
  readonly name: string;
  readonly inLength: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number;
  readonly outputPadding: number;
  readonly outLength: number;
  readonly activation: Activation;
  private kernel!: Parameter;
  private bias!: Parameter;
  private capacity = 0;
  private out = new Float32Array(0);
  /** Patches: x W^T in forward, im2col(dL/dy) in backward. */
  private cols = new Float32Array(0);
  private dInput = new Float32Array(0);
  private input: Float32Array | null = null;
  precision: Precision = 'fp32';
  /** bf16 copies of x, W and the output gradient's patches (mixed precision only). */
  private readonly half = { x: new Bf16Copy(), w: new Bf16Copy(), dCols: new Bf16Copy() };

  constructor(spec: ConvTranspose1dSpec) {
    const outputPadding = spec.outputPadding ?? 0;
    checkIntegers(spec.name, {
      inLength: spec.inLength, inChannels: spec.inChannels, outChannels: spec.outChannels,
      kernel: spec.kernel, stride: spec.stride,
    }, 1);
    checkIntegers(spec.name, { padding: spec.padding, outputPadding }, 0);
    this.name = spec.name;
    this.inLength = spec.inLength;
    this.inChannels = spec.inChannels;
    this.outChannels = spec.outChannels;
    this.kernelSize = spec.kernel;
    this.stride = spec.stride;
    this.padding = spec.padding;
    this.outputPadding = outputPadding;
    this.activation = spec.activation;
    this.outLength = convTransposeOutputLength(spec.inLength, spec.kernel, spec.stride, spec.padding, outputPadding);
    // The input positions must be the windows that a Conv1d of the same kernel, stride and padding
    // lays over the output (so im2col/col2im over the output see every input position once): true
    // when outputPadding < stride and the output is not empty.
    const fits = this.outLength >= 1 && convOutputLength(this.outLength, spec.kernel, spec.stride, spec.padding) === spec.inLength;
    if (!fits) {
      throw new Error(`${spec.name}: kernel ${spec.kernel}, stride ${spec.stride}, padding ${spec.padding} and output padding ${outputPadding} ` +
        `do not map an input of length ${spec.inLength} onto a whole output sequence (output padding must be less than the stride).`);
    }
  }

  parameterSpecs(): ParameterSpec[] {
    return [
      { name: `${this.name}.kernel`, shape: [this.kernelSize, this.outChannels, this.inChannels] },
      { name: `${this.name}.bias`, shape: [this.outChannels] },
    ];
  }

  get inputSize(): number {
    return this.inLength * this.inChannels;
  }

  get outputSize(): number {
    return this.outLength * this.outChannels;
  }

  get outputShape(): readonly number[] {
    return [this.outLength, this.outChannels];
  }

  /** k*outC: the patch one input position spreads over the output. */
  private get patchSize(): number {
    return this.kernelSize * this.outChannels;
  }

  get parameterCount(): number {
    return this.patchSize * this.inChannels + this.outChannels;
  }

  bind(params: ParameterSet): void {
    this.kernel = params.get(`${this.name}.kernel`);
    this.bias = params.get(`${this.name}.bias`);
  }

  /**
   * Glorot-uniform kernel and zero bias. Keras computes Conv1DTranspose's fans from the stored
   * shape [k, outC, inC]: fan_in = k*outC, fan_out = k*inC; their sum is what counts.
   */
  initialize(rng: Random): void {
    glorotUniform(this.kernel.value, this.kernelSize * this.outChannels, this.kernelSize * this.inChannels, rng);
    this.bias.value.fill(0);
  }

  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = rows;
    this.out = new Float32Array(rows * this.outputSize);
    this.cols = new Float32Array(rows * this.inLength * this.patchSize);
    this.dInput = new Float32Array(rows * this.inputSize);
  }

  /** y = act(col2im(x W^T) + b) for `rows` sequences; returns a view of the layer's own output buffer. */
  forward(backend: Backend, x: Float32Array, rows: number): Float32Array {
    this.reserve(rows);
    const pixels = rows * this.inLength;
    if (this.precision === 'bf16') {
      const xh = this.half.x.of(backend, x, pixels * this.inChannels);
      const wh = this.half.w.ofParameter(backend, this.kernel);
      backend.gemmBf16(false, true, pixels, this.patchSize, this.inChannels, 1, xh, wh, 0, this.cols);
    } else {
      backend.gemm(false, true, pixels, this.patchSize, this.inChannels, 1, x, this.kernel.value, 0, this.cols);
    }
    const y = this.out;
    backend.col2im(this.cols, rows, 1, this.outLength, this.outChannels,
      1, this.kernelSize, 1, this.stride, 0, this.padding, 1, this.inLength, y);
    backend.biasActivation(y, this.bias.value, y, rows * this.outLength, this.outChannels, this.activation, LEAKY_SLOPE);
    this.input = x;
    return y.subarray(0, rows * this.outputSize);
  }

  /**
   * Given dL/dy (overwritten with dL/d(pre-activation)), with dP = im2col(dY) the gradient of the
   * patches: writes dL/dW = dP^T x and dL/db = column sums of dY (overwriting them), and returns
   * dL/dx = dP W, or null when not needed.
   */
  backward(backend: Backend, dy: Float32Array, rows: number, needInputGrad: boolean): Float32Array | null {
    const x = this.input;
    if (x === null) throw new Error(`${this.name}.backward needs a forward call before it.`);
    const positions = rows * this.outLength;
    const pixels = rows * this.inLength;
    backend.activationBackward(dy, this.out, dy, positions * this.outChannels, this.activation, LEAKY_SLOPE);
    backend.sumRows(dy, positions, this.outChannels, this.bias.grad);
    if (this.precision === 'bf16') {
      // x and W as the forward pass rounded them; the patches of dy straight to bf16, for both products.
      const dColsh = this.half.dCols.reserve(pixels * this.patchSize);
      backend.im2colBf16(dy, rows, 1, this.outLength, this.outChannels,
        1, this.kernelSize, 1, this.stride, 0, this.padding, 1, this.inLength, dColsh);
      backend.gemmBf16(true, false, this.patchSize, this.inChannels, pixels, 1, dColsh, this.half.x.value, 0, this.kernel.grad);
      if (!needInputGrad) return null;
      backend.gemmBf16(false, false, pixels, this.inChannels, this.patchSize, 1, dColsh, this.half.w.value, 0, this.dInput);
      return this.dInput.subarray(0, rows * this.inputSize);
    }
    const dCols = this.cols;
    backend.im2col(dy, rows, 1, this.outLength, this.outChannels,
      1, this.kernelSize, 1, this.stride, 0, this.padding, 1, this.inLength, dCols);
    backend.gemm(true, false, this.patchSize, this.inChannels, pixels, 1, dCols, x, 0, this.kernel.grad);
    if (!needInputGrad) return null;
    backend.gemm(false, false, pixels, this.inChannels, this.patchSize, 1, dCols, this.kernel.value, 0, this.dInput);
    return this.dInput.subarray(0, rows * this.inputSize);
  }
}
