/**
 * A 2-D convolution y = act(conv(x, W) + b) over channels-last images, done as im2col and one
 * matrix product: the patches of the batch form a [rows*outH*outW, kH*kW*inC] matrix, and times the
 * kernel W stored [kH, kW, inC, outC] (TF/Keras' HWIO layout, which is exactly the [kH*kW*inC, outC]
 * matrix) it gives [rows*outH*outW, outC], which is the channels-last output as it stands.
 * Kernel, stride and padding are per axis, [height, width]: Conv1d (conv1d.ts) is this layer over
 * [1, length, channels] with a 1 x k window.
 * Forward and backward side by side; buffers grow to the largest batch seen and are reused.
 */
import type { Activation, Backend } from '../engine/backend.js';
import type { Precision } from '../engine/precision.js';
import type { Random } from '../engine/random.js';
import { Bf16Copy } from './bf16.js';
import { glorotUniform } from './init.js';
import { LEAKY_SLOPE } from './dense.js';
import type { Layer } from './layer.js';
import type { Parameter, ParameterSet, ParameterSpec } from './parameters.js';

/** A value for each image axis: [height, width]. */
export type AxisPair = readonly [number, number];

/** A spec's per-axis value: one number for both axes, or [height, width]. */
export type PerAxis = number | AxisPair;

export interface Conv2dSpec {
  name: string;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outChannels: number;
  /** The window's sides: k for a k x k window, or [kH, kW]. */
  kernel: PerAxis;
  /** How far the window moves: s down and across, or [sH, sW]. */
  stride: PerAxis;
  /** Zeros above and below (pH) and left and right (pW) of each image: p for both, or [pH, pW]. */
  padding: PerAxis;
  activation: Activation;
}

/** A convolution's output length along one axis: floor((size + 2 padding - kernel) / stride) + 1. */
export function convOutputLength(size: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((size + 2 * padding - kernel) / stride) + 1;
}

/** Throws unless every named value is an integer of at least `min`. */
export function checkIntegers(layer: string, values: Readonly<Record<string, number>>, min: number): void {
  for (const [key, value] of Object.entries(values)) {
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`${layer}: ${key} must be an integer of at least ${min}, not ${value}.`);
    }
  }
}

/** A spec's per-axis value as [height, width], each checked to be an integer of at least `min`. */
export function axisPair(layer: string, key: string, value: PerAxis, min: number): AxisPair {
  if (typeof value === 'number') {
    checkIntegers(layer, { [key]: value }, min);
    return [value, value];
  }
  checkIntegers(layer, { [`${key} height`]: value[0], [`${key} width`]: value[1] }, min);
  return [value[0], value[1]];
}

/** A per-axis value as error messages give it: "3" for both axes, "1x3" for [height, width]. */
export function axisText([height, width]: AxisPair): string {
  return height === width ? `${height}` : `${height}x${width}`;
}

/** The window arguments of im2col and col2im: kernelH, kernelW, strideH, strideW, padH, padW. */
export type WindowArguments = readonly [number, number, number, number, number, number];

export function windowArguments(kernel: AxisPair, stride: AxisPair, padding: AxisPair): WindowArguments {
  return [kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1]];
}

export class Conv2d implements Layer {
  readonly kind = 'Conv2d';
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
  readonly outHeight: number;
  readonly outWidth: number;
  readonly activation: Activation;
  private readonly window: WindowArguments;
  private kernel!: Parameter;
  private bias!: Parameter;
  private capacity = 0;
  private out = new Float32Array(0);
  /** The last forward's patches; backward reuses the buffer for dL/d(patches) once dW is done. */
  private cols = new Float32Array(0);
  private colsHoldPatches = false;
  private dInput = new Float32Array(0);
  precision: Precision = 'fp32';
  /** bf16 copies of the patches, W and dy (mixed precision only). */
  private readonly half = { cols: new Bf16Copy(), w: new Bf16Copy(), dy: new Bf16Copy() };

  constructor(spec: Conv2dSpec) {
    checkIntegers(spec.name, {
      inHeight: spec.inHeight, inWidth: spec.inWidth, inChannels: spec.inChannels, outChannels: spec.outChannels,
    }, 1);
    const kernel = axisPair(spec.name, 'kernel', spec.kernel, 1);
    const stride = axisPair(spec.name, 'stride', spec.stride, 1);
    const padding = axisPair(spec.name, 'padding', spec.padding, 0);
    this.name = spec.name;
    this.inHeight = spec.inHeight;
    this.inWidth = spec.inWidth;
    this.inChannels = spec.inChannels;
    this.outChannels = spec.outChannels;
    this.kernelSize = kernel;
    this.stride = stride;
    this.padding = padding;
    this.window = windowArguments(kernel, stride, padding);
    this.activation = spec.activation;
    this.outHeight = convOutputLength(spec.inHeight, kernel[0], stride[0], padding[0]);
    this.outWidth = convOutputLength(spec.inWidth, kernel[1], stride[1], padding[1]);
    if (this.outHeight < 1 || this.outWidth < 1) {
      throw new Error(`${spec.name}: a ${kernel[0]}x${kernel[1]} kernel with padding ${axisText(padding)} does not fit a ${spec.inHeight}x${spec.inWidth} image.`);
    }
  }

  parameterSpecs(): ParameterSpec[] {
    return [
      { name: `${this.name}.kernel`, shape: [...this.kernelSize, this.inChannels, this.outChannels] },
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

  /** kH*kW*inC: one patch, one row of the im2col matrix. */
  private get patchSize(): number {
    return this.area * this.inChannels;
  }

  get parameterCount(): number {
    return this.patchSize * this.outChannels + this.outChannels;
  }

  bind(params: ParameterSet): void {
    this.kernel = params.get(`${this.name}.kernel`);
    this.bias = params.get(`${this.name}.bias`);
  }

  /** Glorot-uniform kernel (Keras' fans: fan_in = kH*kW*inC, fan_out = kH*kW*outC) and zero bias. */
  initialize(rng: Random): void {
    glorotUniform(this.kernel.value, this.area * this.inChannels, this.area * this.outChannels, rng);
    this.bias.value.fill(0);
  }

  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = rows;
    this.out = new Float32Array(rows * this.outputSize);
    this.cols = new Float32Array(rows * this.outHeight * this.outWidth * this.patchSize);
    this.dInput = new Float32Array(rows * this.inputSize);
  }

  /** y = act(im2col(x) W + b) for `rows` images; returns a view of the layer's own output buffer. */
  forward(backend: Backend, x: Float32Array, rows: number): Float32Array {
    this.reserve(rows);
    const positions = rows * this.outHeight * this.outWidth;
    const y = this.out;
    if (this.precision === 'bf16') {
      // The patches go straight to bf16: the fp32 ones are never needed.
      const colsh = this.half.cols.reserve(positions * this.patchSize);
      backend.im2colBf16(x, rows, this.inHeight, this.inWidth, this.inChannels, ...this.window, this.outHeight, this.outWidth, colsh);
      const wh = this.half.w.ofParameter(backend, this.kernel);
      backend.gemmBf16BiasActivation(positions, this.outChannels, this.patchSize, colsh, wh, this.bias.value, this.activation, LEAKY_SLOPE, y);
    } else {
      backend.im2col(x, rows, this.inHeight, this.inWidth, this.inChannels, ...this.window, this.outHeight, this.outWidth, this.cols);
      backend.gemmBiasActivation(positions, this.outChannels, this.patchSize, this.cols, this.kernel.value, this.bias.value, this.activation, LEAKY_SLOPE, y);
    }
    this.colsHoldPatches = true;
    return y.subarray(0, rows * this.outputSize);
  }

  /**
   * Given dL/dy (overwritten with dL/d(pre-activation)), writes dL/dW = patches^T dY and
   * dL/db = column sums of dY (overwriting them), and returns dL/dx = col2im(dY W^T), or null.
   */
  backward(backend: Backend, dy: Float32Array, rows: number, needInputGrad: boolean): Float32Array | null {
    if (!this.colsHoldPatches) throw new Error(`${this.name}.backward needs a forward call before it.`);
    const positions = rows * this.outHeight * this.outWidth;
    // The patches and W as the forward pass rounded them; in bf16, dy rounded once for both products, in the same pass.
    const dyh = this.precision === 'bf16' ? this.half.dy.reserve(positions * this.outChannels) : null;
    backend.activationBiasBackward(dy, this.out, dy, positions, this.outChannels, this.activation, LEAKY_SLOPE, this.bias.grad, dyh);
    if (dyh !== null) backend.gemmBf16(true, false, this.patchSize, this.outChannels, positions, 1, this.half.cols.value, dyh, 0, this.kernel.grad);
    else backend.gemm(true, false, this.patchSize, this.outChannels, positions, 1, this.cols, dy, 0, this.kernel.grad);
    if (!needInputGrad) return null;
    // The patches are no longer needed: their buffer takes dL/d(patches).
    this.colsHoldPatches = false;
    const dCols = this.cols;
    if (dyh !== null) backend.gemmBf16(false, true, positions, this.patchSize, this.outChannels, 1, dyh, this.half.w.value, 0, dCols);
    else backend.gemm(false, true, positions, this.patchSize, this.outChannels, 1, dy, this.kernel.value, 0, dCols);
    backend.col2im(dCols, rows, this.inHeight, this.inWidth, this.inChannels, ...this.window, this.outHeight, this.outWidth, this.dInput);
    return this.dInput.subarray(0, rows * this.inputSize);
  }
}
