/**
 * A 2-D transposed convolution y = act(convT(x, W) + b) over channels-last images: the gradient of
 * a Conv2d with respect to its input, used to upsample in decoders. Each input pixel's channels,
 * times the kernel, give a kH x kW x outC patch ([rows*inH*inW, inC] x [inC, kH*kW*outC] in one
 * product), and col2im adds the patches into the output image at stride (sH, sW), less padding
 * (pH, pW) on each side. The kernel is stored [kH, kW, outC, inC] (TF/Keras' Conv2DTranspose
 * layout), which is the [kH*kW*outC, inC] matrix. Output size along each axis (PyTorch's formula):
 * outH = (inH - 1) * sH - 2 * pH + kH + outputPaddingH, and the same across.
 * ConvTranspose1d (conv-transpose1d.ts) is this layer over [1, length, channels] with a 1 x k window.
 * Forward and backward side by side; buffers grow to the largest batch seen and are reused.
 */
import type { Activation, Backend } from '../engine/backend.js';
import type { Precision } from '../engine/precision.js';
import type { Random } from '../engine/random.js';
import { Bf16Copy } from './bf16.js';
import { glorotUniform } from './init.js';
import {
  axisPair, axisText, checkIntegers, convOutputLength, windowArguments,
  type AxisPair, type PerAxis, type WindowArguments,
} from './conv2d.js';
import { LEAKY_SLOPE } from './dense.js';
import type { Layer } from './layer.js';
import type { Parameter, ParameterSet, ParameterSpec } from './parameters.js';

export interface ConvTranspose2dSpec {
  name: string;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outChannels: number;
  /** The window's sides: k for a k x k window, or [kH, kW]. */
  kernel: PerAxis;
  /** How far apart two input pixels' patches land: s down and across, or [sH, sW]. */
  stride: PerAxis;
  /** Rows (pH) and columns (pW) cut from each side of the output: p for both, or [pH, pW]. */
  padding: PerAxis;
  /** Extra rows at the bottom and columns at the right of the output (each less than its stride); default 0. */
  outputPadding?: PerAxis;
  activation: Activation;
}

/** A transposed convolution's output length along one axis (PyTorch's formula). */
export function convTransposeOutputLength(size: number, kernel: number, stride: number, padding: number, outputPadding: number): number {
  return (size - 1) * stride - 2 * padding + kernel + outputPadding;
}

/**
 * Whether `size` input positions are the windows that a convolution of the same kernel, stride and
 * padding lays over `outSize` output positions (so im2col/col2im over the output see every input
 * position once): true when the output padding is less than the stride and the output is not empty.
 */
export function transposeFits(size: number, outSize: number, kernel: number, stride: number, padding: number): boolean {
  return outSize >= 1 && convOutputLength(outSize, kernel, stride, padding) === size;
}

export class ConvTranspose2d implements Layer {
  readonly kind = 'ConvTranspose2d';
  readonly name: string;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly outChannels: number;
  /** [kH, kW]. */
  readonly kernelSize: AxisPair;
  /** [sH, sW]. */
  readonly stride: AxisPair;
  /** [pH, pW]. */
  readonly padding: AxisPair;
  /** [bottom rows, right columns]. */
  readonly outputPadding: AxisPair;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly activation: Activation;
  private readonly window: WindowArguments;
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

  constructor(spec: ConvTranspose2dSpec) {
    checkIntegers(spec.name, {
      inHeight: spec.inHeight, inWidth: spec.inWidth, inChannels: spec.inChannels, outChannels: spec.outChannels,
    }, 1);
    const kernel = axisPair(spec.name, 'kernel', spec.kernel, 1);
    const stride = axisPair(spec.name, 'stride', spec.stride, 1);
    const padding = axisPair(spec.name, 'padding', spec.padding, 0);
    const outputPadding = axisPair(spec.name, 'outputPadding', spec.outputPadding ?? 0, 0);
    this.name = spec.name;
    this.inHeight = spec.inHeight;
    this.inWidth = spec.inWidth;
    this.inChannels = spec.inChannels;
    this.outChannels = spec.outChannels;
    this.kernelSize = kernel;
    this.stride = stride;
    this.padding = padding;
    this.outputPadding = outputPadding;
    this.window = windowArguments(kernel, stride, padding);
    this.activation = spec.activation;
    this.outHeight = convTransposeOutputLength(spec.inHeight, kernel[0], stride[0], padding[0], outputPadding[0]);
    this.outWidth = convTransposeOutputLength(spec.inWidth, kernel[1], stride[1], padding[1], outputPadding[1]);
    if (!transposeFits(spec.inHeight, this.outHeight, kernel[0], stride[0], padding[0]) ||
      !transposeFits(spec.inWidth, this.outWidth, kernel[1], stride[1], padding[1])) {
      throw new Error(`${spec.name}: kernel ${axisText(kernel)}, stride ${axisText(stride)}, padding ${axisText(padding)} and output padding ${axisText(outputPadding)} ` +
        `do not map a ${spec.inHeight}x${spec.inWidth} input onto a whole output image (output padding must be less than the stride).`);
    }
  }

  parameterSpecs(): ParameterSpec[] {
    return [
      { name: `${this.name}.kernel`, shape: [...this.kernelSize, this.outChannels, this.inChannels] },
      { name: `${this.name}.bias`, shape: [this.outChannels] },
    ];
  }

  get inputSize(): number {
    return this.inHeight * this.inWidth * this.inChannels;
  }

  get outputSize(): number {
    return this.outHeight * this.outWidth * this.outChannels;
  }

  get outputShape(): readonly number[] {
    return [this.outHeight, this.outWidth, this.outChannels];
  }

  /** kH*kW: the positions of one window. */
  private get area(): number {
    return this.kernelSize[0] * this.kernelSize[1];
  }

  /** kH*kW*outC: the patch one input pixel spreads over the output. */
  private get patchSize(): number {
    return this.area * this.outChannels;
  }

  get parameterCount(): number {
    return this.patchSize * this.inChannels + this.outChannels;
  }

  bind(params: ParameterSet): void {
    this.kernel = params.get(`${this.name}.kernel`);
    this.bias = params.get(`${this.name}.bias`);
  }

  /**
   * Glorot-uniform kernel and zero bias. Keras computes Conv2DTranspose's fans from the stored
   * shape [kH, kW, outC, inC]: fan_in = kH*kW*outC, fan_out = kH*kW*inC; their sum is what counts.
   */
  initialize(rng: Random): void {
    glorotUniform(this.kernel.value, this.area * this.outChannels, this.area * this.inChannels, rng);
    this.bias.value.fill(0);
  }

  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = rows;
    this.out = new Float32Array(rows * this.outputSize);
    this.cols = new Float32Array(rows * this.inHeight * this.inWidth * this.patchSize);
    this.dInput = new Float32Array(rows * this.inputSize);
  }

  /** y = act(col2im(x W^T) + b) for `rows` images; returns a view of the layer's own output buffer. */
  forward(backend: Backend, x: Float32Array, rows: number): Float32Array {
    this.reserve(rows);
    const pixels = rows * this.inHeight * this.inWidth;
    if (this.precision === 'bf16') {
      const xh = this.half.x.of(backend, x, pixels * this.inChannels);
      const wh = this.half.w.ofParameter(backend, this.kernel);
      backend.gemmBf16(false, true, pixels, this.patchSize, this.inChannels, 1, xh, wh, 0, this.cols);
    } else {
      backend.gemm(false, true, pixels, this.patchSize, this.inChannels, 1, x, this.kernel.value, 0, this.cols);
    }
    const y = this.out;
    backend.col2im(this.cols, rows, this.outHeight, this.outWidth, this.outChannels, ...this.window, this.inHeight, this.inWidth, y);
    backend.biasActivation(y, this.bias.value, y, rows * this.outHeight * this.outWidth, this.outChannels,
      this.activation, LEAKY_SLOPE);
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
    const positions = rows * this.outHeight * this.outWidth;
    const pixels = rows * this.inHeight * this.inWidth;
    backend.activationBiasBackward(dy, this.out, dy, positions, this.outChannels, this.activation, LEAKY_SLOPE, this.bias.grad);
    if (this.precision === 'bf16') {
      // x and W as the forward pass rounded them; the patches of dy straight to bf16, for both products.
      const dColsh = this.half.dCols.reserve(pixels * this.patchSize);
      backend.im2colBf16(dy, rows, this.outHeight, this.outWidth, this.outChannels, ...this.window, this.inHeight, this.inWidth, dColsh);
      backend.gemmBf16(true, false, this.patchSize, this.inChannels, pixels, 1, dColsh, this.half.x.value, 0, this.kernel.grad);
      if (!needInputGrad) return null;
      backend.gemmBf16(false, false, pixels, this.inChannels, this.patchSize, 1, dColsh, this.half.w.value, 0, this.dInput);
      return this.dInput.subarray(0, rows * this.inputSize);
    }
    const dCols = this.cols;
    backend.im2col(dy, rows, this.outHeight, this.outWidth, this.outChannels, ...this.window, this.inHeight, this.inWidth, dCols);
    backend.gemm(true, false, this.patchSize, this.inChannels, pixels, 1, dCols, x, 0, this.kernel.grad);
    if (!needInputGrad) return null;
    backend.gemm(false, false, pixels, this.inChannels, this.patchSize, 1, dCols, this.kernel.value, 0, this.dInput);
    return this.dInput.subarray(0, rows * this.inputSize);
  }
}
