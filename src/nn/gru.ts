/**
 * A one-layer, one-direction GRU over a padded batch, with PyTorch's equations, gate order and
 * parameter layout (nn.GRU with batch_first=True; `dec.weight_ih` is PyTorch's `weight_ih_l0`):
 *
 *   weight_ih [3H, input]   rows r, z, n (W_ir; W_iz; W_in)
 *   weight_hh [3H, H]       rows r, z, n
 *   bias_ih   [3H], bias_hh [3H]
 *
 *   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   h' = (1 - z) n + z h
 *
 * Forward: one product x W_ih^T for every step at once, then one product h W_hh^T per step.
 * Backward through time gathers the gradients of the input-side pre-activations (dGx) and the
 * hidden-side ones (dGh, which differ from dGx only in the n rows: r times) of every step, so
 * dW_ih, dW_hh and dx are one product each after the loop. Masking and the shared contract:
 * recurrent.ts. Buffers grow to the largest batch x time seen and are reused.
 */
import type { Backend } from '../engine/backend.js';
import type { Random } from '../engine/random.js';
import type { Parameter, ParameterSet, ParameterSpec } from './parameters.js';
import {
  atLeast, checkLengths, maskedOutputs, sigmoid, toBatchMajor, toTimeMajor, uniformRecurrent,
  type RecurrentGradients, type RecurrentLayer, type RecurrentOutput,
} from './recurrent.js';

export interface GruSpec {
  name: string;
  inputs: number;
  hidden: number;
}

export class Gru implements RecurrentLayer {
  readonly kind = 'GRU';
  readonly name: string;
  readonly inputSize: number;
  readonly hiddenSize: number;
  private weightIh!: Parameter;
  private weightHh!: Parameter;
  private biasIh!: Parameter;
  private biasHh!: Parameter;

  // What forward keeps for backward (time-major).
  private batch = 0;
  private time = 0;
  private lengths = new Int32Array(0);
  private hasH0 = false;
  /** [time, batch, input] */
  private xT: Float32Array = new Float32Array(0);
  /** [time, batch, 3H]: x W_ih^T + b_ih, overwritten step by step with the gates r, z, n. */
  private gates: Float32Array = new Float32Array(0);
  /** [time, batch, H]: W_hn h + b_hn, the hidden part of n before r multiplies it. */
  private hiddenN: Float32Array = new Float32Array(0);
  /** [batch, 3H]: one step's h W_hh^T + b_hh. */
  private gh: Float32Array = new Float32Array(0);
  /** [time + 1, batch, H]: hs[0] = h0, hs[t + 1] the state after step t (carried past a row's length). */
  private hs: Float32Array = new Float32Array(0);
  /** [batch, time, H] */
  private out: Float32Array = new Float32Array(0);

  // Backward's buffers.
  /** [time, batch, 3H]: dL/d(input-side pre-activations); 0 at padded steps. */
  private dGx: Float32Array = new Float32Array(0);
  /** [time, batch, 3H]: dL/d(hidden-side pre-activations, W_hh h + b_hh); 0 at padded steps. */
  private dGh: Float32Array = new Float32Array(0);
  private dh: Float32Array = new Float32Array(0);
  private dhPrev: Float32Array = new Float32Array(0);
  private dxT: Float32Array = new Float32Array(0);
  private dx: Float32Array = new Float32Array(0);

  constructor(spec: GruSpec) {
    if (!(Number.isInteger(spec.inputs) && spec.inputs >= 1 && Number.isInteger(spec.hidden) && spec.hidden >= 1)) {
      throw new Error(`${spec.name}: inputs and hidden must be integers of at least 1, not ${spec.inputs} and ${spec.hidden}.`);
    }
    this.name = spec.name;
    this.inputSize = spec.inputs;
    this.hiddenSize = spec.hidden;
  }

  parameterSpecs(): ParameterSpec[] {
    const g = 3 * this.hiddenSize;
    return [
      { name: `${this.name}.weight_ih`, shape: [g, this.inputSize] },
      { name: `${this.name}.weight_hh`, shape: [g, this.hiddenSize] },
      { name: `${this.name}.bias_ih`, shape: [g] },
      { name: `${this.name}.bias_hh`, shape: [g] },
    ];
  }

  get parameterCount(): number {
    const g = 3 * this.hiddenSize;
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

  private reserve(batch: number, time: number): void {
    const H = this.hiddenSize;
    const steps = batch * time;
    this.xT = atLeast(this.xT, steps * this.inputSize);
    this.gates = atLeast(this.gates, steps * 3 * H);
    this.hiddenN = atLeast(this.hiddenN, steps * H);
    this.gh = atLeast(this.gh, batch * 3 * H);
    this.hs = atLeast(this.hs, (steps + batch) * H);
    this.out = atLeast(this.out, steps * H);
    if (this.lengths.length < batch) this.lengths = new Int32Array(batch);
  }

  /** c0 must be null: a GRU has no cell state. */
  forward(
    backend: Backend, x: Float32Array, lengths: Int32Array, batch: number, time: number,
    h0: Float32Array | null, c0: Float32Array | null = null,
  ): RecurrentOutput {
    if (c0 !== null) throw new Error(`${this.name}: a GRU has no cell state; c0 must be null.`);
    checkLengths(this.name, lengths, batch, time);
    this.reserve(batch, time);
    const H = this.hiddenSize;
    const G = 3 * H;
    const BH = batch * H;
    this.batch = batch;
    this.time = time;
    this.lengths.set(lengths.subarray(0, batch));
    this.hasH0 = h0 !== null;
    const { xT, gates, hiddenN, gh, hs } = this;
    if (h0 !== null) hs.set(h0.subarray(0, BH)); else hs.fill(0, 0, BH);

    // Every step's input product at once: gates[t, b] = x[b, t] W_ih^T + b_ih.
    toTimeMajor(x, batch, time, this.inputSize, xT);
    backend.gemm(false, true, batch * time, G, this.inputSize, 1, xT, this.weightIh.value, 0, gates);
    backend.biasActivation(gates, this.biasIh.value, gates, batch * time, G, 'linear', 0);

    for (let t = 0; t < time; t++) {
      const prev = t * BH;
      const next = (t + 1) * BH;
      backend.gemm(false, true, batch, G, H, 1, hs.subarray(prev, next), this.weightHh.value, 0, gh);
      backend.biasActivation(gh, this.biasHh.value, gh, batch, G, 'linear', 0);
      const gt = t * batch * G;
      for (let b = 0; b < batch; b++) {
        const hp = prev + b * H;
        const hn = next + b * H;
        if (t >= this.lengths[b]!) {
          for (let j = 0; j < H; j++) hs[hn + j] = hs[hp + j]!;
          continue;
        }
        const g = gt + b * G;
        const s = b * G;
        const nt = t * BH + b * H;
        for (let j = 0; j < H; j++) {
          const r = sigmoid(gates[g + j]! + gh[s + j]!);
          const z = sigmoid(gates[g + H + j]! + gh[s + H + j]!);
          const hnj = gh[s + 2 * H + j]!;
          const n = Math.tanh(gates[g + 2 * H + j]! + r * hnj);
          gates[g + j] = r;
          gates[g + H + j] = z;
          gates[g + 2 * H + j] = n;
          hiddenN[nt + j] = hnj;
          hs[hn + j] = (1 - z) * n + z * hs[hp + j]!;
        }
      }
    }
    maskedOutputs(hs, this.lengths, batch, time, H, this.out);
    return {
      outputs: this.out.subarray(0, batch * time * H),
      hFinal: hs.subarray(time * BH, (time + 1) * BH),
      cFinal: null,
    };
  }

  /** dcFinal must be null: a GRU has no cell state. */
  backward(
    backend: Backend, dOutputs: Float32Array | null, dhFinal: Float32Array | null,
    dcFinal: Float32Array | null, needInputGrad: boolean,
  ): RecurrentGradients {
    if (dcFinal !== null) throw new Error(`${this.name}: a GRU has no cell state; dcFinal must be null.`);
    const { batch, time } = this;
    if (batch === 0) throw new Error(`${this.name}.backward needs a forward call before it.`);
    const H = this.hiddenSize;
    const G = 3 * H;
    const BH = batch * H;
    const steps = batch * time;
    this.dGx = atLeast(this.dGx, steps * G);
    this.dGh = atLeast(this.dGh, steps * G);
    this.dh = atLeast(this.dh, BH);
    this.dhPrev = atLeast(this.dhPrev, BH);
    const { gates, hiddenN, hs, dGx, dGh, lengths } = this;
    let dh = this.dh;
    let dhPrev = this.dhPrev;
    if (dhFinal !== null) dh.set(dhFinal.subarray(0, BH)); else dh.fill(0, 0, BH);

    for (let t = time - 1; t >= 0; t--) {
      const gt = t * batch * G;
      const dgh = dGh.subarray(gt, gt + batch * G);
      for (let b = 0; b < batch; b++) {
        const g = gt + b * G;
        const hb = b * H;
        if (t >= lengths[b]!) {
          // A padded step: nothing flows through it; dh passes to the step before unchanged.
          dGx.fill(0, g, g + G);
          dGh.fill(0, g, g + G);
          continue;
        }
        const hp = t * BH + hb;
        const nt = t * BH + hb;
        const dOut = dOutputs === null ? -1 : (b * time + t) * H;
        for (let j = 0; j < H; j++) {
          const r = gates[g + j]!;
          const z = gates[g + H + j]!;
          const n = gates[g + 2 * H + j]!;
          const dhj = dh[hb + j]! + (dOut < 0 ? 0 : dOutputs![dOut + j]!);
          const dn = dhj * (1 - z) * (1 - n * n);
          const dr = dn * hiddenN[nt + j]! * r * (1 - r);
          const dz = dhj * (hs[hp + j]! - n) * z * (1 - z);
          dGx[g + j] = dr;
          dGx[g + H + j] = dz;
          dGx[g + 2 * H + j] = dn;
          dGh[g + j] = dr;
          dGh[g + H + j] = dz;
          dGh[g + 2 * H + j] = dn * r;
        }
      }
      // dh_{t-1} = dGh_t W_hh + z dh_t; rows past their length carry dh unchanged (their dGh is 0).
      backend.gemm(false, false, batch, H, G, 1, dgh, this.weightHh.value, 0, dhPrev);
      for (let b = 0; b < batch; b++) {
        const hb = b * H;
        if (t >= lengths[b]!) {
          for (let j = 0; j < H; j++) dhPrev[hb + j] = dh[hb + j]!;
          continue;
        }
        const z = gt + b * G + H;
        const dOut = dOutputs === null ? -1 : (b * time + t) * H;
        for (let j = 0; j < H; j++) {
          const dhj = dh[hb + j]! + (dOut < 0 ? 0 : dOutputs![dOut + j]!);
          dhPrev[hb + j] = dhPrev[hb + j]! + dhj * gates[z + j]!;
        }
      }
      [dh, dhPrev] = [dhPrev, dh];
    }
    this.dh = dh;
    this.dhPrev = dhPrev;

    // The parameter gradients, one product each over every step.
    const dx32 = dGx.subarray(0, steps * G);
    const dh32 = dGh.subarray(0, steps * G);
    backend.gemm(true, false, G, this.inputSize, steps, 1, dx32, this.xT, 0, this.weightIh.grad);
    backend.gemm(true, false, G, H, steps, 1, dh32, this.hs, 0, this.weightHh.grad);
    backend.sumRows(dx32, steps, G, this.biasIh.grad);
    backend.sumRows(dh32, steps, G, this.biasHh.grad);

    let dx: Float32Array | null = null;
    if (needInputGrad) {
      const n = steps * this.inputSize;
      this.dxT = atLeast(this.dxT, n);
      this.dx = atLeast(this.dx, n);
      backend.gemm(false, false, steps, this.inputSize, G, 1, dx32, this.weightIh.value, 0, this.dxT);
      toBatchMajor(this.dxT, batch, time, this.inputSize, this.dx);
      dx = this.dx.subarray(0, n);
    }
    return { dx, dh0: this.hasH0 ? dh.subarray(0, BH) : null, dc0: null };
  }
}
