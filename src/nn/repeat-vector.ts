/**
 * RepeatVector (as Keras'): a row of `width` values -> the same row at each of `times` steps,
 * [times, width]. A recurrent decoder reads its code this way at every step. No parameters.
 *
 *   forward   y[r, t, j] = x[r, j]
 *   backward  dx[r, j] = sum over t of dy[r, t, j]
 */
import type { Activation, Backend } from '../engine/backend.js';
import type { Precision } from '../engine/precision.js';
import type { Layer } from './layer.js';
import type { ParameterSpec } from './parameters.js';

export class RepeatVector implements Layer {
  readonly kind = 'RepeatVector';
  readonly name: string;
  readonly width: number;
  readonly times: number;
  readonly activation: Activation = 'linear';
  readonly parameterCount = 0;
  precision: Precision = 'fp32';
  private out = new Float32Array(0);
  private dInput = new Float32Array(0);

  constructor(spec: { name: string; width: number; times: number }) {
    this.name = spec.name;
    this.width = spec.width;
    this.times = spec.times;
  }

  get inputSize(): number {
    return this.width;
  }

  get outputSize(): number {
    return this.times * this.width;
  }

  get outputShape(): readonly number[] {
    return [this.times, this.width];
  }

  parameterSpecs(): ParameterSpec[] {
    return [];
  }

  bind(): void {}

  initialize(): void {}

  forward(_backend: Backend, x: Float32Array, rows: number): Float32Array {
    const { width: W, times: T } = this;
    if (this.out.length < rows * T * W) this.out = new Float32Array(rows * T * W);
    const y = this.out;
    for (let r = 0; r < rows; r++) {
      const row = x.subarray(r * W, (r + 1) * W);
      for (let t = 0; t < T; t++) y.set(row, (r * T + t) * W);
    }
    return y.subarray(0, rows * T * W);
  }

  backward(_backend: Backend, dy: Float32Array, rows: number, needInputGrad: boolean): Float32Array | null {
    if (!needInputGrad) return null;
    const { width: W, times: T } = this;
    if (this.dInput.length < rows * W) this.dInput = new Float32Array(rows * W);
    const dx = this.dInput;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < W; j++) {
        let sum = 0;
        for (let t = 0; t < T; t++) sum += dy[(r * T + t) * W + j]!;
        dx[r * W + j] = sum;
      }
    }
    return dx.subarray(0, rows * W);
  }
}
