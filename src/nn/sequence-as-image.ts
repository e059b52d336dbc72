/**
 * A 1-D layer over channels-last sequences [length, channels] that is a 2-D layer over images
 * [1, length, channels] (a 1 x k window): forward, backward, initialization and buffers are the
 * 2-D layer's, on the same memory. Only the shapes drop the height of 1: the output [length,
 * channels], and the kernel [1, k, ...] stored as [k, ...] (the same values in the same order).
 */
import type { Activation, Backend } from '../engine/backend.js';
import type { Precision } from '../engine/precision.js';
import type { Random } from '../engine/random.js';
import type { Layer } from './layer.js';
import type { ParameterSet, ParameterSpec } from './parameters.js';

export abstract class SequenceAsImage implements Layer {
  abstract readonly kind: string;
  readonly name: string;
  /** The 2-D layer, over a height of 1. */
  protected readonly image: Layer;

  constructor(image: Layer) {
    this.image = image;
    this.name = image.name;
  }

  get inputSize(): number {
    return this.image.inputSize;
  }

  get outputSize(): number {
    return this.image.outputSize;
  }

  /** [length, channels]: the image's [1, length, channels]. */
  get outputShape(): readonly number[] {
    return this.image.outputShape.slice(1);
  }

  get activation(): Activation {
    return this.image.activation;
  }

  get parameterCount(): number {
    return this.image.parameterCount;
  }

  get precision(): Precision {
    return this.image.precision;
  }

  set precision(p: Precision) {
    this.image.precision = p;
  }

  /** The image's parameters, the kernel's leading height of 1 dropped. */
  parameterSpecs(): ParameterSpec[] {
    return this.image.parameterSpecs().map((s) => (s.name === `${this.name}.kernel` ? { ...s, shape: s.shape.slice(1) } : s));
  }

  bind(params: ParameterSet): void {
    this.image.bind(params);
  }

  initialize(rng: Random): void {
    this.image.initialize(rng);
  }

  forward(backend: Backend, x: Float32Array, rows: number): Float32Array {
    return this.image.forward(backend, x, rows);
  }

  backward(backend: Backend, dy: Float32Array, rows: number, needInputGrad: boolean): Float32Array | null {
    return this.image.backward(backend, dy, rows, needInputGrad);
  }
}
