/**
 * What the recurrent layers (LSTM, GRU) provide, and the bookkeeping they share. A recurrent layer
 * maps a padded batch of sequences x [batch, time, inputSize] (batch-major, row-major) with one
 * length per row to the hidden state after every step, outputs [batch, time, hiddenSize], and the
 * final state. It does not fit `Layer` (rows of a fixed size): its rows are sequences of varying
 * length, and it has a state in (h0, c0) and a state out besides its outputs.
 *
 * Masking: row b runs lengths[b] steps (0 <= lengths[b] <= time). From then on its state stops
 * changing (the final state is the state after its last real step), its outputs are 0, and backward
 * sends no gradient through those steps (dL/dx there is 0; dOutputs there is ignored).
 *
 * Internally the layers keep everything time-major ([time, batch, features]) so that each step's
 * batch of states is one contiguous matrix for the per-step product h W_hh^T.
 */
import type { Backend } from '../engine/backend.js';
import type { Random } from '../engine/random.js';
import type { ParameterSet, ParameterSpec } from './parameters.js';

/** What forward returns: views of the layer's own buffers, valid until its next forward. */
export interface RecurrentOutput {
  /** [batch, time, hidden]: h after step t at [b, t]; 0 at t >= lengths[b]. */
  outputs: Float32Array;
  /** [batch, hidden]: h after step lengths[b] (h0, or 0, when the length is 0). */
  hFinal: Float32Array;
  /** [batch, hidden]: the LSTM's cell state after step lengths[b]; null for a GRU. */
  cFinal: Float32Array | null;
}

/** What backward returns: views of the layer's own buffers, each null when not asked for. */
export interface RecurrentGradients {
  /** [batch, time, input]: dL/dx; 0 at padded steps. */
  dx: Float32Array | null;
  /** [batch, hidden]: dL/dh0 (only when forward was given h0). */
  dh0: Float32Array | null;
  /** [batch, hidden]: dL/dc0 (LSTM only, when forward was given c0). */
  dc0: Float32Array | null;
}

export interface RecurrentLayer {
  readonly name: string;
  /** 'LSTM', 'GRU', 'BiLSTM' or 'BiGRU'. */
  readonly kind: string;
  readonly inputSize: number;
  /** The width of each output and state vector (both directions' for a bidirectional layer). */
  readonly hiddenSize: number;
  readonly parameterCount: number;
  parameterSpecs(): ParameterSpec[];
  bind(params: ParameterSet): void;
  initialize(rng: Random): void;
  /**
   * Runs the recurrence over x [batch, time, input] (read, not kept beyond a time-major copy) with
   * lengths[b] steps per row, from h0 (and c0) [batch, hidden], or zeros when null.
   */
  forward(
    backend: Backend, x: Float32Array, lengths: Int32Array, batch: number, time: number,
    h0: Float32Array | null, c0?: Float32Array | null,
  ): RecurrentOutput;
  /**
   * Backward through time for the last forward call. dOutputs [batch, time, hidden], dhFinal and
   * dcFinal [batch, hidden] are the loss's gradients (null: zero); they are read, not changed.
   * Writes the parameter gradients (overwriting them) and returns dL/dx when needInputGrad, and
   * dL/dh0 (dL/dc0) when forward was given h0 (c0).
   */
  backward(
    backend: Backend, dOutputs: Float32Array | null, dhFinal: Float32Array | null,
    dcFinal: Float32Array | null, needInputGrad: boolean,
  ): RecurrentGradients;
}

/** PyTorch's recurrent initialization: every weight and bias U(-1/sqrt(hidden), 1/sqrt(hidden)). */
export function uniformRecurrent(values: Float32Array, hidden: number, rng: Random): void {
  const limit = 1 / Math.sqrt(hidden);
  for (let i = 0; i < values.length; i++) values[i] = (2 * rng.uniform() - 1) * limit;
}

/** `buffer` when it holds n values, else a new one that does (buffers only ever grow). */
export function atLeast(buffer: Float32Array, n: number): Float32Array {
  return buffer.length >= n ? buffer : new Float32Array(n);
}

/** Throws unless batch and time are at least 1, there is one length per row and each lies in [0, time]. */
export function checkLengths(layer: string, lengths: Int32Array, batch: number, time: number): void {
  if (!(Number.isInteger(batch) && batch >= 1 && Number.isInteger(time) && time >= 1)) {
    throw new Error(`${layer}: batch and time must be integers of at least 1, not ${batch} and ${time}.`);
  }
  if (lengths.length < batch) throw new Error(`${layer}: ${batch} rows need ${batch} lengths, got ${lengths.length}.`);
  for (let b = 0; b < batch; b++) {
    const n = lengths[b]!;
    if (!(n >= 0 && n <= time)) throw new Error(`${layer}: row ${b} has length ${n}, outside [0, ${time}].`);
  }
}

/** [batch, time, cols] (batch-major) -> [time, batch, cols] (time-major). */
export function toTimeMajor(src: Float32Array, batch: number, time: number, cols: number, dst: Float32Array): void {
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < time; t++) {
      const from = (b * time + t) * cols;
      dst.set(src.subarray(from, from + cols), (t * batch + b) * cols);
    }
  }
}

/** [time, batch, cols] (time-major) -> [batch, time, cols] (batch-major). */
export function toBatchMajor(src: Float32Array, batch: number, time: number, cols: number, dst: Float32Array): void {
  for (let t = 0; t < time; t++) {
    for (let b = 0; b < batch; b++) {
      const from = (t * batch + b) * cols;
      dst.set(src.subarray(from, from + cols), (b * time + t) * cols);
    }
  }
}

/**
 * The outputs [batch, time, hidden] from the time-major states hs [time + 1, batch, hidden]
 * (hs[t + 1] is the state after step t): hs[t + 1][b] where t < lengths[b], else 0.
 */
export function maskedOutputs(
  hs: Float32Array, lengths: Int32Array, batch: number, time: number, hidden: number, out: Float32Array,
): void {
  for (let b = 0; b < batch; b++) {
    const n = lengths[b]!;
    for (let t = 0; t < time; t++) {
      const to = (b * time + t) * hidden;
      if (t < n) {
        const from = ((t + 1) * batch + b) * hidden;
        out.set(hs.subarray(from, from + hidden), to);
      } else {
        out.fill(0, to, to + hidden);
      }
    }
  }
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
