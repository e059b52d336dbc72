/**
 * A recurrent layer (LSTM or GRU) as a `Layer` over fixed-length windows: each row is a window of
 * `time` steps of `inputs` values, channels-last ([time, inputs], the layout of a series window), so
 * a batch of rows is already the recurrent layer's batch-major [batch, time, inputs]. Every row runs
 * all `time` steps (windows are not padded).
 *
 *   returnSequences false: row -> h after the last step, [hidden]          (Keras LSTM(H))
 *   returnSequences true:  row -> h after every step, [time, hidden]       (Keras LSTM(H, return_sequences=True))
 *
 * Forward and backward are the recurrent layer's own (lstm.ts, gru.ts over recurrent.ts): forward
 * from a zero state; backward takes dL/d(output) as dL/dhFinal or as dL/d(outputs) and runs back
 * through time. Its products stay fp32 whatever `precision` says (the recurrent layers have no bf16
 * path; the text models do the same).
 */
import type { Activation, Backend } from '../engine/backend.js';
import type { Precision } from '../engine/precision.js';
import type { Random } from '../engine/random.js';
import { Gru } from './gru.js';
import type { Layer } from './layer.js';
import { Lstm } from './lstm.js';
import type { ParameterSet, ParameterSpec } from './parameters.js';
import type { RecurrentLayer } from './recurrent.js';

export interface RecurrentWindowSpec {
  name: string;
  cell: 'lstm' | 'gru';
  /** Values per step. */
  inputs: number;
  hidden: number;
  /** Steps per window. */
  time: number;
  returnSequences: boolean;
}

export class RecurrentWindow implements Layer {
  readonly name: string;
  readonly kind: string;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly outputShape: readonly number[];
  /** What bounds its outputs: h = o tanh(c) (LSTM), a mix of tanh candidates (GRU); shown by summary(). */
  readonly activation: Activation = 'tanh';
  /** Recorded for Sequential.setPrecision; the recurrent products run in fp32 (see above). */
  precision: Precision = 'fp32';
  readonly time: number;
  readonly returnSequences: boolean;
  private readonly cell: RecurrentLayer;
  private lengths = new Int32Array(0);

  constructor(spec: RecurrentWindowSpec) {
    if (!(Number.isInteger(spec.time) && spec.time >= 1)) throw new Error(`${spec.name}: a window needs at least 1 step, not ${spec.time}.`);
    this.name = spec.name;
    this.cell = spec.cell === 'lstm'
      ? new Lstm({ name: spec.name, inputs: spec.inputs, hidden: spec.hidden })
      : new Gru({ name: spec.name, inputs: spec.inputs, hidden: spec.hidden });
    this.kind = this.cell.kind;
    this.time = spec.time;
    this.returnSequences = spec.returnSequences;
    this.inputSize = spec.time * spec.inputs;
    this.outputShape = spec.returnSequences ? [spec.time, spec.hidden] : [spec.hidden];
    this.outputSize = this.outputShape.reduce((a, b) => a * b, 1);
  }

  get parameterCount(): number {
    return this.cell.parameterCount;
  }

  parameterSpecs(): ParameterSpec[] {
    return this.cell.parameterSpecs();
  }

  bind(params: ParameterSet): void {
    this.cell.bind(params);
  }

  initialize(rng: Random): void {
    this.cell.initialize(rng);
  }

  /** Every row runs the whole window: lengths all `time`. */
  private fullLengths(rows: number): Int32Array {
    if (this.lengths.length < rows) this.lengths = new Int32Array(rows).fill(this.time);
    return this.lengths;
  }

  forward(backend: Backend, x: Float32Array, rows: number): Float32Array {
    const out = this.cell.forward(backend, x, this.fullLengths(rows), rows, this.time, null);
    return this.returnSequences ? out.outputs : out.hFinal;
  }

  backward(backend: Backend, dy: Float32Array, rows: number, needInputGrad: boolean): Float32Array | null {
    const n = rows * this.outputSize;
    const d = dy.subarray(0, n);
    return this.cell.backward(backend, this.returnSequences ? d : null, this.returnSequences ? null : d, null, needInputGrad).dx;
  }
}
