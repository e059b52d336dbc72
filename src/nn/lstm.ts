/**
 * A one-layer, one-direction LSTM over a padded batch, with PyTorch's equations, gate order and
 * parameter layout (nn.LSTM with batch_first=True; a parameter named `enc.weight_ih` is PyTorch's
 * `weight_ih_l0`, so an export maps one to one):
 *
 *   weight_ih [4H, input]   rows i, f, g, o (W_ii; W_if; W_ig; W_io)
 *   weight_hh [4H, H]       rows i, f, g, o
 *   bias_ih   [4H], bias_hh [4H]
 *
 *   i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)      f = sigmoid(W_if x + b_if + W_hf h + b_hf)
 *   g = tanh(W_ig x + b_ig + W_hg h + b_hg)         o = sigmoid(W_io x + b_io + W_ho h + b_ho)
 *   c' = f c + i g                                  h' = o tanh(c')
 *
 * Forward: one product x W_ih^T for every step at once, then one product h W_hh^T per step.
 * Backward through time: the gate gradients of every step are gathered, so dW_ih, dW_hh and dx
 * are one product each after the loop; only dh_{t-1} = dgates_t W_hh is a product per step.
 * Masking and the shared contract: recurrent.ts. Buffers grow to the largest batch x time seen
 * and are reused.
 */
import type { Backend } from '../engine/backend.js';
import type { Random } from '../engine/random.js';
import type { Parameter, ParameterSet, ParameterSpec } from './parameters.js';
import {
  atLeast, checkLengths, maskedOutputs, sigmoid, toBatchMajor, toTimeMajor, uniformRecurrent,
  type RecurrentGradients, type RecurrentLayer, type RecurrentOutput,
} from './recurrent.js';

export interface LstmSpec {
  name: string;
  inputs: number;
  hidden: number;
}

export class Lstm implements RecurrentLayer {
  readonly kind = 'LSTM';
  readonly name: string;
  readonly inputSize: number;
  readonly hiddenSize: number;
  private weightIh!: Parameter;
  private weightHh!: Parameter;
  private biasIh!: Parameter;
  private biasHh!: Parameter;
  /** bias_ih + bias_hh, added once to the input products. */
  private readonly biasSum: Float32Array;

  // What forward keeps for backward (time-major).
  private batch = 0;
  private time = 0;
  private lengths = new Int32Array(0);
  private hasH0 = false;
  private hasC0 = false;
  /** [time, batch, input] */
  private xT: Float32Array = new Float32Array(0);
  /** [time, batch, 4H]: the gates after their activations, i f g o. */
  private gates: Float32Array = new Float32Array(0);
  /** [time + 1, batch, H]: hs[0] = h0, hs[t + 1] the state after step t (carried past a row's length). */
  private hs: Float32Array = new Float32Array(0);
  /** [time + 1, batch, H]: the cell states, as hs. */
  private cs: Float32Array = new Float32Array(0);
  /** [time, batch, H]: tanh(c) after step t. */
  private tanhC: Float32Array = new Float32Array(0);
  /** [batch, time, H] */
  private out: Float32Array = new Float32Array(0);

  // Backward's buffers.
  /** [time, batch, 4H]: dL/d(gate pre-activations); 0 at padded steps. */
  private dGates: Float32Array = new Float32Array(0);
  private dh: Float32Array = new Float32Array(0);
  private dhPrev: Float32Array = new Float32Array(0);
  private dc: Float32Array = new Float32Array(0);
  private dxT: Float32Array = new Float32Array(0);
  private dx: Float32Array = new Float32Array(0);

  constructor(spec: LstmSpec) {
    if (!(Number.isInteger(spec.inputs) && spec.inputs >= 1 && Number.isInteger(spec.hidden) && spec.hidden >= 1)) {
      throw new Error(`${spec.name}: inputs and hidden must be integers of at least 1, not ${spec.inputs} and ${spec.hidden}.`);
    }
    this.name = spec.name;
    this.inputSize = spec.inputs;
    this.hiddenSize = spec.hidden;
    this.biasSum = new Float32Array(4 * spec.hidden);
  }

  parameterSpecs(): ParameterSpec[] {
    const g = 4 * this.hiddenSize;
    return [
      { name: `${this.name}.weight_ih`, shape: [g, this.inputSize] },
      { name: `${this.name}.weight_hh`, shape: [g, this.hiddenSize] },
      { name: `${this.name}.bias_ih`, shape: [g] },
      { name: `${this.name}.bias_hh`, shape: [g] },
    ];
  }

  get parameterCount(): number {
    const g = 4 * this.hiddenSize;
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
    this.gates = atLeast(this.gates, steps * 4 * H);
    this.hs = atLeast(this.hs, (steps + batch) * H);
    this.cs = atLeast(this.cs, (steps + batch) * H);
    this.tanhC = atLeast(this.tanhC, steps * H);
    this.out = atLeast(this.out, steps * H);
    if (this.lengths.length < batch) this.lengths = new Int32Array(batch);
  }

  forward(
    backend: Backend, x: Float32Array, lengths: Int32Array, batch: number, time: number,
    h0: Float32Array | null, c0: Float32Array | null = null,
  ): RecurrentOutput {
    checkLengths(this.name, lengths, batch, time);
    this.reserve(batch, time);
    const H = this.hiddenSize;
    const G = 4 * H;
    const BH = batch * H;
    this.batch = batch;
    this.time = time;
    this.lengths.set(lengths.subarray(0, batch));
    this.hasH0 = h0 !== null;
    this.hasC0 = c0 !== null;
    const { xT, gates, hs, cs, tanhC } = this;
    if (h0 !== null) hs.set(h0.subarray(0, BH)); else hs.fill(0, 0, BH);
    if (c0 !== null) cs.set(c0.subarray(0, BH)); else cs.fill(0, 0, BH);

    // Every step's input product at once: gates[t, b] = x[b, t] W_ih^T + b_ih + b_hh.
    toTimeMajor(x, batch, time, this.inputSize, xT);
    backend.gemm(false, true, batch * time, G, this.inputSize, 1, xT, this.weightIh.value, 0, gates);
    backend.add(this.biasIh.value, this.biasHh.value, this.biasSum, G);
    backend.biasActivation(gates, this.biasSum, gates, batch * time, G, 'linear', 0);

    for (let t = 0; t < time; t++) {
      const g = gates.subarray(t * batch * G, (t + 1) * batch * G);
      backend.gemm(false, true, batch, G, H, 1, hs.subarray(t * BH, (t + 1) * BH), this.weightHh.value, 1, g);
      const prev = t * BH;
      const next = (t + 1) * BH;
      for (let b = 0; b < batch; b++) {
        const hp = prev + b * H;
        const hn = next + b * H;
        if (t >= this.lengths[b]!) {
          // Past this row's length: the state is carried unchanged.
          for (let j = 0; j < H; j++) {
            hs[hn + j] = hs[hp + j]!;
            cs[hn + j] = cs[hp + j]!;
          }
          continue;
        }
        const gb = b * G;
        const tc = t * BH + b * H;
        for (let j = 0; j < H; j++) {
          const i = sigmoid(g[gb + j]!);
          const f = sigmoid(g[gb + H + j]!);
          const gg = Math.tanh(g[gb + 2 * H + j]!);
          const o = sigmoid(g[gb + 3 * H + j]!);
          g[gb + j] = i;
          g[gb + H + j] = f;
          g[gb + 2 * H + j] = gg;
          g[gb + 3 * H + j] = o;
          const c = f * cs[hp + j]! + i * gg;
          cs[hn + j] = c;
          const th = Math.tanh(c);
          tanhC[tc + j] = th;
          hs[hn + j] = o * th;
        }
      }
    }
    maskedOutputs(hs, this.lengths, batch, time, H, this.out);
    return {
      outputs: this.out.subarray(0, batch * time * H),
      hFinal: hs.subarray(time * BH, (time + 1) * BH),
      cFinal: cs.subarray(time * BH, (time + 1) * BH),
    };
  }

  backward(
    backend: Backend, dOutputs: Float32Array | null, dhFinal: Float32Array | null,
    dcFinal: Float32Array | null, needInputGrad: boolean,
  ): RecurrentGradients {
    const { batch, time } = this;
    if (batch === 0) throw new Error(`${this.name}.backward needs a forward call before it.`);
    const H = this.hiddenSize;
    const G = 4 * H;
    const BH = batch * H;
    const steps = batch * time;
    this.dGates = atLeast(this.dGates, steps * G);
    this.dh = atLeast(this.dh, BH);
    this.dhPrev = atLeast(this.dhPrev, BH);
    this.dc = atLeast(this.dc, BH);
    const { gates, cs, tanhC, dGates, lengths } = this;
    let dh = this.dh;
    let dhPrev = this.dhPrev;
    const dc = this.dc;
    if (dhFinal !== null) dh.set(dhFinal.subarray(0, BH)); else dh.fill(0, 0, BH);
    if (dcFinal !== null) dc.set(dcFinal.subarray(0, BH)); else dc.fill(0, 0, BH);

    for (let t = time - 1; t >= 0; t--) {
      const dg = dGates.subarray(t * batch * G, (t + 1) * batch * G);
      for (let b = 0; b < batch; b++) {
        const gb = b * G;
        const hb = b * H;
        if (t >= lengths[b]!) {
          // A padded step: nothing flows through it; dh and dc pass to the step before unchanged.
          dg.fill(0, gb, gb + G);
          continue;
        }
        const gt = t * batch * G + gb;
        const cPrev = t * BH + hb;
        const tc = t * BH + hb;
        const dOut = dOutputs === null ? -1 : (b * time + t) * H;
        for (let j = 0; j < H; j++) {
          const i = gates[gt + j]!;
          const f = gates[gt + H + j]!;
          const gg = gates[gt + 2 * H + j]!;
          const o = gates[gt + 3 * H + j]!;
          const th = tanhC[tc + j]!;
          const dhj = dh[hb + j]! + (dOut < 0 ? 0 : dOutputs![dOut + j]!);
          const dcj = dc[hb + j]! + dhj * o * (1 - th * th);
          dg[gb + j] = dcj * gg * i * (1 - i);
          dg[gb + H + j] = dcj * cs[cPrev + j]! * f * (1 - f);
          dg[gb + 2 * H + j] = dcj * i * (1 - gg * gg);
          dg[gb + 3 * H + j] = dhj * th * o * (1 - o);
          dc[hb + j] = dcj * f;
        }
      }
      // dh_{t-1} = dgates_t W_hh, plus the carried dh of rows past their length (their dgates are 0).
      backend.gemm(false, false, batch, H, G, 1, dg, this.weightHh.value, 0, dhPrev);
      for (let b = 0; b < batch; b++) {
        if (t < lengths[b]!) continue;
        const hb = b * H;
        for (let j = 0; j < H; j++) dhPrev[hb + j] = dh[hb + j]!;
      }
      [dh, dhPrev] = [dhPrev, dh];
    }
    this.dh = dh;
    this.dhPrev = dhPrev;

    // The parameter gradients, one product each over every step.
    const dG = dGates.subarray(0, steps * G);
    backend.gemm(true, false, G, this.inputSize, steps, 1, dG, this.xT, 0, this.weightIh.grad);
    backend.gemm(true, false, G, H, steps, 1, dG, this.hs, 0, this.weightHh.grad);
    backend.sumRows(dG, steps, G, this.biasIh.grad);
    this.biasHh.grad.set(this.biasIh.grad);

    let dx: Float32Array | null = null;
    if (needInputGrad) {
      const n = steps * this.inputSize;
      this.dxT = atLeast(this.dxT, n);
      this.dx = atLeast(this.dx, n);
      backend.gemm(false, false, steps, this.inputSize, G, 1, dG, this.weightIh.value, 0, this.dxT);
      toBatchMajor(this.dxT, batch, time, this.inputSize, this.dx);
      dx = this.dx.subarray(0, n);
    }
    return {
      dx,
      dh0: this.hasH0 ? dh.subarray(0, BH) : null,
      dc0: this.hasC0 ? dc.subarray(0, BH) : null,
    };
  }
}
