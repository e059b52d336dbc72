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
 * batch of states is one contiguous matrix for the per-step product h W_hh^T; the copies between the
 * two layouts are the backend's swapAxes.
 *
 * RecurrentBase (below) is everything an LSTM and a GRU do alike: the PyTorch parameter layout,
 * the buffers, forward's input product for all steps and masked outputs, backward's loop through
 * time and its products after the loop. A cell adds only its gate equations, one step forward and
 * one step backward.
 */
import type { Backend } from '../engine/backend.js';
import type { Random } from '../engine/random.js';
import type { Parameter, ParameterSet, ParameterSpec } from './parameters.js';

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

/** What a one-direction recurrent layer is built from. */
export interface RecurrentSpec {
  name: string;
  inputs: number;
  hidden: number;
}

/**
 * One layer, one direction, with PyTorch's parameters (nn.LSTM/nn.GRU, batch_first=True; a
 * parameter named `enc.weight_ih` is PyTorch's `weight_ih_l0`):
 *
 *   weight_ih [gates x H, input], weight_hh [gates x H, H], bias_ih [gates x H], bias_hh [gates x H]
 *
 * Forward: one product x W_ih^T (+ inputBias) for every step at once into `gates`, then stepForward
 * per step: its product h W_hh^T and the backend's cell kernel (lstmForward / gruForward), which
 * writes the state after the step for the rows still running and carries the others' unchanged.
 * Backward through time, per step (last first): stepBackward's cell kernel (lstmBackward /
 * gruBackward) writes the real rows' gate gradients, zeroes the padded rows' and carries their dh,
 * then its one product per step adds dgates_t W_hh into dh_{t-1}. After the loop dW_ih, dW_hh and
 * dx are one product each over every step.
 * Buffers grow to the largest batch x time seen and are reused.
 */
export abstract class RecurrentBase implements RecurrentLayer {
  abstract readonly kind: string;
  readonly name: string;
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** How many gate rows of H each weight and bias has: 4 (LSTM), 3 (GRU). */
  protected readonly gateCount: number;
  /** Whether the layer has a cell state besides h (c0, cFinal, dcFinal, dc0): the LSTM's. */
  protected readonly hasCell: boolean;
  private weightIh!: Parameter;
  protected weightHh!: Parameter;
  protected biasIh!: Parameter;
  protected biasHh!: Parameter;

  // What forward keeps for backward (time-major).
  protected batch = 0;
  protected time = 0;
  protected lengths = new Int32Array(0);
  private hasH0 = false;
  private hasC0 = false;
  /** [time, batch, input] */
  private xT: Float32Array = new Float32Array(0);
  /** [time, batch, gates x H]: x W_ih^T + inputBias, which stepForward turns into the cell's gates. */
  protected gates: Float32Array = new Float32Array(0);
  /** [time + 1, batch, H]: hs[0] = h0, hs[t + 1] the state after step t (carried past a row's length). */
  protected hs: Float32Array = new Float32Array(0);
  /** [time + 1, batch, H]: the cell states, as hs (only with a cell state). */
  protected cs: Float32Array = new Float32Array(0);
  /** [batch, time, H] */
  private out: Float32Array = new Float32Array(0);

  // Backward's buffers.
  /** [time, batch, gates x H]: dL/d(input-side pre-activations, W_ih x + b_ih); 0 at padded steps. */
  protected dGates: Float32Array = new Float32Array(0);
  /** [batch, H]: dL/dh after the step being run back through, and before it. */
  private dh: Float32Array = new Float32Array(0);
  private dhPrev: Float32Array = new Float32Array(0);
  /** [batch, H]: dL/dc (only with a cell state). */
  protected dc: Float32Array = new Float32Array(0);
  private dxT: Float32Array = new Float32Array(0);
  private dx: Float32Array = new Float32Array(0);

  constructor(spec: RecurrentSpec, gateCount: number, hasCell: boolean) {
    if (!(Number.isInteger(spec.inputs) && spec.inputs >= 1 && Number.isInteger(spec.hidden) && spec.hidden >= 1)) {
      throw new Error(`${spec.name}: inputs and hidden must be integers of at least 1, not ${spec.inputs} and ${spec.hidden}.`);
    }
    this.name = spec.name;
    this.inputSize = spec.inputs;
    this.hiddenSize = spec.hidden;
    this.gateCount = gateCount;
    this.hasCell = hasCell;
  }

  parameterSpecs(): ParameterSpec[] {
    const g = this.gateCount * this.hiddenSize;
    return [
      { name: `${this.name}.weight_ih`, shape: [g, this.inputSize] },
      { name: `${this.name}.weight_hh`, shape: [g, this.hiddenSize] },
      { name: `${this.name}.bias_ih`, shape: [g] },
      { name: `${this.name}.bias_hh`, shape: [g] },
    ];
  }

  get parameterCount(): number {
    const g = this.gateCount * this.hiddenSize;
    return g * (this.inputSize + this.hiddenSize + 2);
  }

  bind(params: ParameterSet): void {
    this.weightIh = params.get(`${this.name}.weight_ih`);
    this.weightHh = params.get(`${this.name}.weight_hh`);
    this.biasIh = params.get(`${this.name}.bias_ih`);
    this.biasHh = params.get(`${this.name}.bias_hh`);
  }

  /** PyTorch's default: every weight and bias U(-1/sqrt(H), 1/sqrt(H)). */
  initialize(rng: Random): void {
    for (const p of [this.weightIh, this.weightHh, this.biasIh, this.biasHh]) uniformRecurrent(p.value, this.hiddenSize, rng);
  }

  /** Grows the cell's own forward buffers to batch x time steps. */
  protected abstract reserveCell(batch: number, time: number): void;
  /** The bias added to every step's input product (the LSTM's b_ih + b_hh; the GRU's b_ih). */
  protected abstract inputBias(backend: Backend): Float32Array;
  /**
   * Step t: gates[t] holds x_t W_ih^T + inputBias (every row). Writes hs[t + 1] (and cs[t + 1]):
   * the state after the step for the rows with t < lengths[b], the state carried unchanged for the
   * others; and whatever backward needs (one product and the backend's cell kernel).
   */
  protected abstract stepForward(backend: Backend, t: number): void;
  /**
   * Back through step t, from dh (dL/dh after step t, not yet counting the step's output gradient
   * dOut[b * dOutStride + j], null: none) and dc: writes dGates[t] (and hiddenGateGrads' [t]; 0 for
   * the rows with t >= lengths[b]), dc (now before step t) and dhPrev (dL/dh before step t; dh
   * carried unchanged for the rows past their length).
   */
  protected abstract stepBackward(
    backend: Backend, t: number, dOut: Float32Array | null, dOutStride: number, dh: Float32Array, dhPrev: Float32Array,
  ): void;
  /**
   * [time, batch, gates x H] with room for n: where backward gathers dL/d(W_hh h + b_hh), the
   * gradients for dW_hh and db_hh. The LSTM's are its dGates (b_hh enters as b_ih does).
   */
  protected hiddenGateGrads(_n: number): Float32Array {
    return this.dGates;
  }

  forward(
    backend: Backend, x: Float32Array, lengths: Int32Array, batch: number, time: number,
    h0: Float32Array | null, c0: Float32Array | null = null,
  ): RecurrentOutput {
    if (!this.hasCell && c0 !== null) throw new Error(`${this.name}: a ${this.kind} has no cell state; c0 must be null.`);
    checkLengths(this.name, lengths, batch, time);
    const H = this.hiddenSize;
    const G = this.gateCount * H;
    const BH = batch * H;
    const steps = batch * time;
    this.xT = atLeast(this.xT, steps * this.inputSize);
    this.gates = atLeast(this.gates, steps * G);
    this.hs = atLeast(this.hs, (steps + batch) * H);
    if (this.hasCell) this.cs = atLeast(this.cs, (steps + batch) * H);
    this.out = atLeast(this.out, steps * H);
    if (this.lengths.length < batch) this.lengths = new Int32Array(batch);
    this.reserveCell(batch, time);
    this.batch = batch;
    this.time = time;
    this.lengths.set(lengths.subarray(0, batch));
    this.hasH0 = h0 !== null;
    this.hasC0 = c0 !== null;
    const { xT, gates, hs, cs } = this;
    if (h0 !== null) hs.set(h0.subarray(0, BH)); else hs.fill(0, 0, BH);
    if (this.hasCell) {
      if (c0 !== null) cs.set(c0.subarray(0, BH)); else cs.fill(0, 0, BH);
    }

    // Every step's input product at once: gates[t, b] = x[b, t] W_ih^T + inputBias.
    backend.swapAxes(x, batch, time, this.inputSize, xT, null);
    backend.gemm(false, true, steps, G, this.inputSize, 1, xT, this.weightIh.value, 0, gates);
    backend.biasActivation(gates, this.inputBias(backend), gates, steps, G, 'linear', 0);

    for (let t = 0; t < time; t++) this.stepForward(backend, t);
    // outputs[b, t] = hs[t + 1][b] for t < lengths[b], else 0.
    backend.swapAxes(hs.subarray(BH, (time + 1) * BH), time, batch, H, this.out, this.lengths);
    return {
      outputs: this.out.subarray(0, steps * H),
      hFinal: hs.subarray(time * BH, (time + 1) * BH),
      cFinal: this.hasCell ? cs.subarray(time * BH, (time + 1) * BH) : null,
    };
  }

  backward(
    backend: Backend, dOutputs: Float32Array | null, dhFinal: Float32Array | null,
    dcFinal: Float32Array | null, needInputGrad: boolean,
  ): RecurrentGradients {
    if (!this.hasCell && dcFinal !== null) throw new Error(`${this.name}: a ${this.kind} has no cell state; dcFinal must be null.`);
    const { batch, time } = this;
    if (batch === 0) throw new Error(`${this.name}.backward needs a forward call before it.`);
    const H = this.hiddenSize;
    const G = this.gateCount * H;
    const BH = batch * H;
    const steps = batch * time;
    this.dGates = atLeast(this.dGates, steps * G);
    const dGates = this.dGates;
    const dGh = this.hiddenGateGrads(steps * G);
    this.dh = atLeast(this.dh, BH);
    this.dhPrev = atLeast(this.dhPrev, BH);
    let dh = this.dh;
    let dhPrev = this.dhPrev;
    if (dhFinal !== null) dh.set(dhFinal.subarray(0, BH)); else dh.fill(0, 0, BH);
    if (this.hasCell) {
      this.dc = atLeast(this.dc, BH);
      if (dcFinal !== null) this.dc.set(dcFinal.subarray(0, BH)); else this.dc.fill(0, 0, BH);
    }

    // dOutputs is batch-major: step t of row b at (b * time + t) * H, so rows `time * H` apart.
    for (let t = time - 1; t >= 0; t--) {
      this.stepBackward(backend, t, dOutputs === null ? null : dOutputs.subarray(t * H), time * H, dh, dhPrev);
      [dh, dhPrev] = [dhPrev, dh];
    }
    this.dh = dh;
    this.dhPrev = dhPrev;

    // The parameter gradients, one product each over every step.
    const dGx = dGates.subarray(0, steps * G);
    const dGhSteps = dGh.subarray(0, steps * G);
    backend.gemm(true, false, G, this.inputSize, steps, 1, dGx, this.xT, 0, this.weightIh.grad);
    backend.gemm(true, false, G, H, steps, 1, dGhSteps, this.hs, 0, this.weightHh.grad);
    backend.sumRows(dGx, steps, G, this.biasIh.grad);
    if (dGh === dGates) this.biasHh.grad.set(this.biasIh.grad);
    else backend.sumRows(dGhSteps, steps, G, this.biasHh.grad);

    let dx: Float32Array | null = null;
    if (needInputGrad) {
      const n = steps * this.inputSize;
      this.dxT = atLeast(this.dxT, n);
      this.dx = atLeast(this.dx, n);
      backend.gemm(false, false, steps, this.inputSize, G, 1, dGx, this.weightIh.value, 0, this.dxT);
      backend.swapAxes(this.dxT, time, batch, this.inputSize, this.dx, null);
      dx = this.dx.subarray(0, n);
    }
    return {
      dx,
      dh0: this.hasH0 ? dh.subarray(0, BH) : null,
      dc0: this.hasC0 ? this.dc.subarray(0, BH) : null,
    };
  }
}
