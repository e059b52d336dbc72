/**
 * TimeDistributed (as Keras'): one layer applied to each of a row's `times` steps. A row
 * [times, inner.inputSize] (channels-last) is `times` rows of the inner layer, so forward and
 * backward are the inner layer's over rows * times rows; its parameters are the inner layer's
 * (shared by every step, their gradient summed over the steps by the inner layer's own products).
 */
import type { Backend } from '../engine/backend.js';
import type { Layer } from './layer.js';
import { WrappedLayer } from './wrapped-layer.js';

export class TimeDistributed extends WrappedLayer {
  readonly times: number;

  constructor(inner: Layer, times: number) {
    super(inner);
    this.times = times;
  }

  get kind(): string {
    return `TimeDistributed(${this.inner.kind})`;
  }

  override get inputSize(): number {
    return this.times * this.inner.inputSize;
  }

  override get outputSize(): number {
    return this.times * this.inner.outputSize;
  }

  override get outputShape(): readonly number[] {
    return [this.times, ...this.inner.outputShape];
  }

  override forward(backend: Backend, x: Float32Array, rows: number): Float32Array {
    return this.inner.forward(backend, x, rows * this.times);
  }

  override backward(backend: Backend, dy: Float32Array, rows: number, needInputGrad: boolean): Float32Array | null {
    return this.inner.backward(backend, dy, rows * this.times, needInputGrad);
  }
}
