/** Adam over a ParameterSet's flat buffers: one kernel call per step. */
import type { Backend } from '../engine/backend.js';
import type { ParameterSet } from './parameters.js';

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  /** Keras' default 1e-7 (the notebook's optimizer). */
  epsilon?: number;
}

export class Adam {
  /** May be changed between steps (learning-rate schedules). */
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly m: Float32Array;
  readonly v: Float32Array;
  step = 0;
  /** Each parameter's size and rows (its shape's first number), for the threads' cut of the update (Backend.adam). */
  private readonly layout: Int32Array;

  constructor(private readonly params: ParameterSet, options: AdamOptions) {
    this.learningRate = options.learningRate;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-7;
    this.m = new Float32Array(params.count);
    this.v = new Float32Array(params.count);
    this.layout = Int32Array.from(params.list.flatMap((p) => [p.size, p.shape.length > 1 && p.shape[0]! > 0 ? p.shape[0]! : Math.max(1, p.size)]));
  }

  /**
   * Applies the gradients of the parameters [offset, offset + count) only, at Adam step `step` (the
   * caller counts the steps of each part: He et al.'s separate encoder and decoder optimizers, whose
   * moments are these buffers' parts).
   */
  updateRange(backend: Backend, offset: number, count: number, step: number): void {
    const p = this.params;
    const end = offset + count;
    backend.adam(
      p.values.subarray(offset, end), p.grads.subarray(offset, end), this.m.subarray(offset, end), this.v.subarray(offset, end), count,
      this.learningRate, this.beta1, this.beta2, this.epsilon, step, p.half === null ? null : p.half.subarray(offset, end),
    );
  }

  /**
   * Applies the gradients currently in params.grads (and refreshes their bf16 copy, when they have
   * one) and returns true, when every gradient is finite; otherwise changes nothing (the step count
   * included) and returns false. The check is the update's own first pass (Backend.adam).
   */
  update(backend: Backend): boolean {
    const bad = backend.adam(
      this.params.values, this.params.grads, this.m, this.v, this.params.count,
      this.learningRate, this.beta1, this.beta2, this.epsilon, this.step + 1, this.params.half, this.layout, true,
    );
    if (bad > 0) return false;
    this.step += 1;
    return true;
  }
}
