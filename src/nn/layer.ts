/**
 * What every layer provides. A layer maps `rows` rows of `inputSize` values (one row per image or
 * sequence; both are stored channels-last, [height, width, channels] and [length, channels]) to
 * rows of `outputSize` values, owns its output and input-gradient buffers (reused across steps),
 * and keeps its forward and backward passes side by side.
 */
import type { Activation, Backend } from '../engine/backend.js';
import type { Precision } from '../engine/precision.js';
import type { Random } from '../engine/random.js';
import type { ParameterSet, ParameterSpec } from './parameters.js';

export interface Layer {
  readonly name: string;
  /** The layer type shown by summary(): 'Dense', 'Conv1d', 'Conv2d', 'ConvTranspose1d', 'ConvTranspose2d', ... */
  readonly kind: string;
  readonly inputSize: number;
  readonly outputSize: number;
  /** Per-row output shape: [units], [length, channels] or [height, width, channels]. */
  readonly outputShape: readonly number[];
  readonly activation: Activation;
  readonly parameterCount: number;
  /** 'bf16': the matrix products take bf16 operands with fp32 accumulation (precision.ts); 'fp32' by default. */
  precision: Precision;
  parameterSpecs(): ParameterSpec[];
  bind(params: ParameterSet): void;
  initialize(rng: Random): void;
  /** act(layer(x)) for `rows` rows; returns a view of the layer's own output buffer. */
  forward(backend: Backend, x: Float32Array, rows: number): Float32Array;
  /**
   * Given dL/dy (overwritten), writes the parameter gradients (overwriting them) and returns
   * dL/dx, or null when not needed. Uses the input and output of the last forward call.
   */
  backward(backend: Backend, dy: Float32Array, rows: number, needInputGrad: boolean): Float32Array | null;
}
