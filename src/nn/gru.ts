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
 * b_ih is added once to the input products; each step computes h W_hh^T + b_hh on its own (r
 * multiplies its n rows). Backward gathers the gradients of the input-side pre-activations
 * (dGates) and the hidden-side ones (dGh, which differ from dGates only in the n rows: r times) of
 * every step. Everything else (parameters, buffers, masking, the loops through time and the
 * products after them): RecurrentBase in recurrent.ts.
 */
import type { Backend } from '../engine/backend.js';
import { atLeast, RecurrentBase, sigmoid } from './recurrent.js';

export interface GruSpec {
  name: string;
  inputs: number;
  hidden: number;
}

/** c0 and dcFinal must be null: a GRU has no cell state. */
export class Gru extends RecurrentBase {
  readonly kind = 'GRU';
  /** [time, batch, H]: W_hn h + b_hn, the hidden part of n before r multiplies it. (gates holds r, z, n.) */
  private hiddenN: Float32Array = new Float32Array(0);
  /** [batch, 3H]: one step's h W_hh^T + b_hh. */
  private gh: Float32Array = new Float32Array(0);
  /** [time, batch, 3H]: dL/d(hidden-side pre-activations, W_hh h + b_hh); 0 at padded steps. */
  private dGh: Float32Array = new Float32Array(0);

  constructor(spec: GruSpec) {
    super(spec, 3, false);
  }

  protected override reserveCell(batch: number, time: number): void {
    this.hiddenN = atLeast(this.hiddenN, batch * time * this.hiddenSize);
    this.gh = atLeast(this.gh, batch * 3 * this.hiddenSize);
  }

  protected override inputBias(): Float32Array {
    return this.biasIh.value;
  }

  protected override hiddenGateGrads(n: number): Float32Array {
    this.dGh = atLeast(this.dGh, n);
    return this.dGh;
  }

  protected override stepForward(backend: Backend, t: number): void {
    const { batch, lengths, gates, hiddenN, gh, hs } = this;
    const H = this.hiddenSize;
    const G = 3 * H;
    const BH = batch * H;
    backend.gemm(false, true, batch, G, H, 1, hs.subarray(t * BH, (t + 1) * BH), this.weightHh.value, 0, gh);
    backend.biasActivation(gh, this.biasHh.value, gh, batch, G, 'linear', 0);
    for (let b = 0; b < batch; b++) {
      if (t >= lengths[b]!) continue;
      const hp = t * BH + b * H;
      const hn = hp + BH;
      const g = (t * batch + b) * G;
      const s = b * G;
      for (let j = 0; j < H; j++) {
        const r = sigmoid(gates[g + j]! + gh[s + j]!);
        const z = sigmoid(gates[g + H + j]! + gh[s + H + j]!);
        const hnj = gh[s + 2 * H + j]!;
        const n = Math.tanh(gates[g + 2 * H + j]! + r * hnj);
        gates[g + j] = r;
        gates[g + H + j] = z;
        gates[g + 2 * H + j] = n;
        hiddenN[hp + j] = hnj;
        hs[hn + j] = (1 - z) * n + z * hs[hp + j]!;
      }
    }
  }

  protected override stepBackward(
    backend: Backend, t: number, dOutputs: Float32Array | null, dh: Float32Array, dhPrev: Float32Array,
  ): void {
    const { batch, time, lengths, gates, hiddenN, hs, dGates, dGh } = this;
    const H = this.hiddenSize;
    const G = 3 * H;
    const BH = batch * H;
    const gt = t * batch * G;
    for (let b = 0; b < batch; b++) {
      if (t >= lengths[b]!) continue;
      const g = gt + b * G;
      const hb = b * H;
      const hp = t * BH + hb;
      const dOut = dOutputs === null ? -1 : (b * time + t) * H;
      for (let j = 0; j < H; j++) {
        const r = gates[g + j]!;
        const z = gates[g + H + j]!;
        const n = gates[g + 2 * H + j]!;
        const dhj = dh[hb + j]! + (dOut < 0 ? 0 : dOutputs![dOut + j]!);
        const dn = dhj * (1 - z) * (1 - n * n);
        const dr = dn * hiddenN[hp + j]! * r * (1 - r);
        const dz = dhj * (hs[hp + j]! - n) * z * (1 - z);
        dGates[g + j] = dr;
        dGates[g + H + j] = dz;
        dGates[g + 2 * H + j] = dn;
        dGh[g + j] = dr;
        dGh[g + H + j] = dz;
        dGh[g + 2 * H + j] = dn * r;
      }
    }
    // dh_{t-1} = dGh_t W_hh + z dh_t.
    backend.gemm(false, false, batch, H, G, 1, dGh.subarray(gt, gt + batch * G), this.weightHh.value, 0, dhPrev);
    for (let b = 0; b < batch; b++) {
      if (t >= lengths[b]!) continue;
      const hb = b * H;
      const z = gt + b * G + H;
      const dOut = dOutputs === null ? -1 : (b * time + t) * H;
      for (let j = 0; j < H; j++) {
        const dhj = dh[hb + j]! + (dOut < 0 ? 0 : dOutputs![dOut + j]!);
        dhPrev[hb + j] = dhPrev[hb + j]! + dhj * gates[z + j]!;
      }
    }
  }
}
