/**
 * A layer that is another layer seen differently: every member passes through to `inner`, and a
 * subclass overrides only what it sees differently (SequenceAsImage: the shapes without the
 * height of 1; TimeDistributed: rows of `times` steps).
 */
import type { Activation, Backend } from '../engine/backend.js';
import type { Precision } from '../engine/precision.js';
import type { Random } from '../engine/random.js';
import type { Layer } from './layer.js';
import type { ParameterSet, ParameterSpec } from './parameters.js';

export abstract class WrappedLayer implements Layer {
  abstract readonly kind: string;
  readonly name: string;
  readonly inner: Layer;

  constructor(inner: Layer) {
    this.inner = inner;
    this.name = inner.name;
  }

  get inputSize(): number {
    return this.inner.inputSize;
  }

  get outputSize(): number {
    return this.inner.outputSize;
  }

  get outputShape(): readonly number[] {
    return this.inner.outputShape;
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
    return this.inner.forward(backend, x, rows);
  }

  backward(backend: Backend, dy: Float32Array, rows: number, needInputGrad: boolean): Float32Array | null {
    return this.inner.backward(backend, dy, rows, needInputGrad);
  }
}
