/** Layers in order: forward runs them first to last, backward last to first. */
import type { Activation, Backend } from '../engine/backend.js';
import type { Precision } from '../engine/precision.js';
import type { Random } from '../engine/random.js';
import { Dense } from './dense.js';
import type { Layer } from './layer.js';
import type { ParameterSet, ParameterSpec } from './parameters.js';

export class Sequential {
  readonly layers: readonly Layer[];

  constructor(layers: readonly Layer[]) {
    for (let i = 1; i < layers.length; i++) {
      if (layers[i]!.inputSize !== layers[i - 1]!.outputSize) {
        throw new Error(`${layers[i]!.name} takes ${layers[i]!.inputSize} values but ${layers[i - 1]!.name} gives ${layers[i - 1]!.outputSize}.`);
      }
    }
    this.layers = layers;
  }

  get inputSize(): number {
    return this.layers[0]!.inputSize;
  }

  get outputSize(): number {
    return this.layers[this.layers.length - 1]!.outputSize;
  }

  parameterSpecs(): ParameterSpec[] {
    return this.layers.flatMap((l) => l.parameterSpecs());
  }

  bind(params: ParameterSet): void {
    for (const l of this.layers) l.bind(params);
  }

  initialize(rng: Random): void {
    for (const l of this.layers) l.initialize(rng);
  }

  /** Every layer's product precision (precision.ts). */
  setPrecision(precision: Precision): void {
    for (const l of this.layers) l.precision = precision;
  }

  forward(backend: Backend, x: Float32Array, rows: number): Float32Array {
    let h = x;
    for (const l of this.layers) h = l.forward(backend, h, rows);
    return h;
  }

  /** dy is overwritten. Returns dL/dx when needInputGrad, else null. */
  backward(backend: Backend, dy: Float32Array, rows: number, needInputGrad: boolean): Float32Array | null {
    let g: Float32Array | null = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      g = this.layers[i]!.backward(backend, g!, rows, i > 0 || needInputGrad);
    }
    return g;
  }
}

/** Dense layers of sizes = [inputs, hidden..., outputs]: `hidden` activation, then `output` on the last. */
export function denseLayers(name: string, sizes: readonly number[], hidden: Activation, output: Activation, first = 0): Dense[] {
  const layers: Dense[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push(new Dense({
      name: `${name}.dense_${first + i}`,
      inputs: sizes[i]!,
      outputs: sizes[i + 1]!,
      activation: i + 2 === sizes.length ? output : hidden,
    }));
  }
  return layers;
}
