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
 * every step. The gate math of a step, forward and backward, is the backend's gruForward and
 * gruBackward (backend.ts). Everything else (parameters, buffers, masking, the loops through time
 * and the products after them): RecurrentBase in recurrent.ts.
 */
import type { Backend } from '../engine/backend.js';
import { atLeast, RecurrentBase } from './recurrent.js';

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
  /** [batch, 3H]: one step's h W_hh^T (gruForward adds b_hh). */
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
    const hPrev = hs.subarray(t * BH, (t + 1) * BH);
    backend.gemm(false, true, batch, G, H, 1, hPrev, this.weightHh.value, 0, gh);
    backend.gruForward(
      gates.subarray(t * batch * G, (t + 1) * batch * G), gh, this.biasHh.value, hPrev,
      hs.subarray((t + 1) * BH, (t + 2) * BH), hiddenN.subarray(t * BH, (t + 1) * BH), lengths, t, batch, H,
    );
  }

  protected override stepBackward(
    backend: Backend, t: number, dOut: Float32Array | null, dOutStride: number, dh: Float32Array, dhPrev: Float32Array,
  ): void {
    const { batch, lengths, gates, hiddenN, hs, dGates, dGh } = this;
    const H = this.hiddenSize;
    const G = 3 * H;
    const BH = batch * H;
    const gt = t * batch * G;
    const dgh = dGh.subarray(gt, gt + batch * G);
    backend.gruBackward(
      gates.subarray(gt, gt + batch * G), hiddenN.subarray(t * BH, (t + 1) * BH), hs.subarray(t * BH, (t + 1) * BH),
      dh, dOut, dOutStride, dGates.subarray(gt, gt + batch * G), dgh, dhPrev, lengths, t, batch, H,
    );
    // dh_{t-1} = dGh_t W_hh + z dh_t (the kernel wrote z dh_t in the real rows, dh_t in the padded ones).
    backend.gemm(false, false, batch, H, G, 1, dgh, this.weightHh.value, 1, dhPrev);
  }
}
