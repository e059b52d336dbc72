/**
 * TimeDistributed (as Keras'): one layer applied to each of a row's `times` steps. A row
 * [times, inner.inputSize] (channels-last) is `times` rows of the inner layer, so forward and
 * backward are the inner layer's over rows * times rows; its parameters are the inner layer's
 * (shared by every step, their gradient summed over the steps by the inner layer's own products).
 */
import type { Activation, Backend } from '../engine/backend.js';
import type { Precision } from '../engine/precision.js';
import type { Random } from '../engine/random.js';
import type { Layer } from './layer.js';
import type { ParameterSet, ParameterSpec } from './parameters.js';

export class TimeDistributed implements Layer {
  readonly name: string;
  readonly times: number;
  readonly inner: Layer;

  constructor(inner: Layer, times: number) {
    this.inner = inner;
    this.name = inner.name;
    this.times = times;
  }

  get kind(): string {
    return `TimeDistributed(${this.inner.kind})`;
  }

  get inputSize(): number {
    return this.times * this.inner.inputSize;
  }

  get outputSize(): number {
    return this.times * this.inner.outputSize;
  }

  get outputShape(): readonly number[] {
    return [this.times, ...this.inner.outputShape];
  }

  get activation(): Activation {
    return this.inner.activation;
  }

  get parameterCount(): number {
    return this.inner.parameterCount;
  }

  get precision(): Precision {
    return this.inner.precision;
  }

  set precision(p: Precision) {
    this.inner.precision = p;
  }

  parameterSpecs(): ParameterSpec[] {
    return this.inner.parameterSpecs();
  }

  bind(params: ParameterSet): void {
    this.inner.bind(params);
  }

  initialize(rng: Random): void {
    this.inner.initialize(rng);
  }

  forward(backend: Backend, x: Float32Array, rows: number): Float32Array {
    return this.inner.forward(backend, x, rows * this.times);
  }

  backward(backend: Backend, dy: Float32Array, rows: number, needInputGrad: boolean): Float32Array | null {
    return this.inner.backward(backend, dy, rows * this.times, needInputGrad);
  }
}
