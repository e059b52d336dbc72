/**
 * A fully connected layer y = act(x W + b), W stored [inputs, outputs] row-major as in Keras.
 * Forward and backward side by side; buffers are allocated once per batch capacity and reused.
 */
import type { Activation, Backend } from '../engine/backend.js';
import type { Precision } from '../engine/precision.js';
import type { Random } from '../engine/random.js';
import { Bf16Copy } from './bf16.js';
import { glorotUniform } from './init.js';
import type { Layer } from './layer.js';
import type { Parameter, ParameterSet, ParameterSpec } from './parameters.js';

export interface DenseSpec {
  name: string;
  inputs: number;
  outputs: number;
  activation: Activation;
}

/** Leaky relu's negative slope (Keras' LeakyReLU default is 0.3; PyTorch's 0.01). We use 0.01. */
export const LEAKY_SLOPE = 0.01;

export class Dense implements Layer {
  readonly kind = 'Dense';
  readonly name: string;
  readonly inputs: number;
  readonly outputs: number;
  readonly activation: Activation;
  private kernel!: Parameter;
  private bias!: Parameter;
  private capacity = 0;
  private out = new Float32Array(0);
  private dInput = new Float32Array(0);
  private input: Float32Array | null = null;
  precision: Precision = 'fp32';
  /** bf16 copies of x, W and dy (mixed precision only). */
  private readonly half = { x: new Bf16Copy(), w: new Bf16Copy(), dy: new Bf16Copy() };

  constructor(spec: DenseSpec) {
    this.name = spec.name;
    this.inputs = spec.inputs;
    this.outputs = spec.outputs;
    this.activation = spec.activation;
  }

  parameterSpecs(): ParameterSpec[] {
    return [
      { name: `${this.name}.kernel`, shape: [this.inputs, this.outputs] },
      { name: `${this.name}.bias`, shape: [this.outputs] },
    ];
  }

  get inputSize(): number {
    return this.inputs;
  }

  get outputSize(): number {
    return this.outputs;
  }

  get outputShape(): readonly number[] {
    return [this.outputs];
  }

  get parameterCount(): number {
    return this.inputs * this.outputs + this.outputs;
  }

  bind(params: ParameterSet): void {
    this.kernel = params.get(`${this.name}.kernel`);
    this.bias = params.get(`${this.name}.bias`);
  }

  /** Glorot-uniform kernel and zero bias: Keras' Dense defaults. */
  initialize(rng: Random): void {
    glorotUniform(this.kernel.value, this.inputs, this.outputs, rng);
    this.bias.value.fill(0);
  }

  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = rows;
    this.out = new Float32Array(rows * this.outputs);
    this.dInput = new Float32Array(rows * this.inputs);
  }

  /** y = act(x W + b) for `rows` rows of x; returns a view of the layer's own output buffer. */
  forward(backend: Backend, x: Float32Array, rows: number): Float32Array {
    this.reserve(rows);
    const y = this.out;
    if (this.precision === 'bf16') {
      const xh = this.half.x.of(backend, x, rows * this.inputs);
      const wh = this.half.w.ofParameter(backend, this.kernel);
      backend.gemmBf16BiasActivation(rows, this.outputs, this.inputs, xh, wh, this.bias.value, this.activation, LEAKY_SLOPE, y);
    } else {
      backend.gemmBiasActivation(rows, this.outputs, this.inputs, x, this.kernel.value, this.bias.value, this.activation, LEAKY_SLOPE, y);
    }
    this.input = x;
    return y.subarray(0, rows * this.outputs);
  }

  /**
   * Given dL/dy (overwritten with dL/d(pre-activation)), writes dL/dW and dL/db into the
   * parameter gradients (overwriting them) and returns dL/dx, or null when not needed.
   */
  backward(backend: Backend, dy: Float32Array, rows: number, needInputGrad: boolean): Float32Array | null {
    const x = this.input;
    if (x === null) throw new Error(`${this.name}.backward called before forward.`);
    const n = rows * this.outputs;
    const bf16 = this.precision === 'bf16';
    // In bf16, dy rounded once for both products, in the same pass.
    const dyh = bf16 ? this.half.dy.reserve(n) : null;
    backend.activationBiasBackward(dy, this.out, dy, rows, this.outputs, this.activation, LEAKY_SLOPE, this.bias.grad, dyh);
    if (dyh !== null) {
      // x and W as the forward pass rounded them.
      backend.gemmBf16(true, false, this.inputs, this.outputs, rows, 1, this.half.x.value, dyh, 0, this.kernel.grad);
      if (!needInputGrad) return null;
      backend.gemmBf16(false, true, rows, this.inputs, this.outputs, 1, dyh, this.half.w.value, 0, this.dInput);
      return this.dInput.subarray(0, rows * this.inputs);
    }
    backend.gemm(true, false, this.inputs, this.outputs, rows, 1, x, dy, 0, this.kernel.grad);
    if (!needInputGrad) return null;
    backend.gemm(false, true, rows, this.inputs, this.outputs, 1, dy, this.kernel.value, 0, this.dInput);
    return this.dInput.subarray(0, rows * this.inputs);
  }
}
