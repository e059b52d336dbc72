/** A stack of Dense layers: forward runs them in order, backward in reverse. */
import type { Activation, Backend } from '../engine/backend.js';
import type { Random } from '../engine/random.js';
import { Dense } from './dense.js';
import type { ParameterSet, ParameterSpec } from './parameters.js';

export class Mlp {
  readonly layers: readonly Dense[];

  /** sizes = [inputs, hidden..., outputs]; hidden layers use `hidden`, the last layer `output`. */
  constructor(name: string, sizes: readonly number[], hidden: Activation, output: Activation) {
    const layers: Dense[] = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      layers.push(new Dense({
        name: `${name}.dense_${i}`,
        inputs: sizes[i]!,
        outputs: sizes[i + 1]!,
        activation: i + 2 === sizes.length ? output : hidden,
      }));
    }
    this.layers = layers;
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
