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
 * Both biases are added once to the input products; each step adds h W_hh^T to them. The input and
 * hidden pre-activations are the same sums, so one set of gate gradients (dGates) serves dW_ih,
 * dW_hh, both bias gradients and dx. The gate math of a step, forward and backward, is the backend's
 * lstmForward and lstmBackward (backend.ts). Everything else (parameters, buffers, masking, the loops
 * through time and the products after them): RecurrentBase in recurrent.ts.
 */
import type { Backend } from '../engine/backend.js';
import { atLeast, RecurrentBase } from './recurrent.js';

export interface LstmSpec {
  name: string;
  inputs: number;
  hidden: number;
}

export class Lstm extends RecurrentBase {
  readonly kind = 'LSTM';
  /** bias_ih + bias_hh, added once to the input products. */
  private readonly biasSum: Float32Array;
  /** [time, batch, H]: tanh(c) after step t. (gates holds the activations i f g o.) */
  private tanhC: Float32Array = new Float32Array(0);

  constructor(spec: LstmSpec) {
    super(spec, 4, true);
    this.biasSum = new Float32Array(4 * spec.hidden);
  }

  protected override reserveCell(batch: number, time: number): void {
    this.tanhC = atLeast(this.tanhC, batch * time * this.hiddenSize);
  }

  protected override inputBias(backend: Backend): Float32Array {
    backend.add(this.biasIh.value, this.biasHh.value, this.biasSum, this.biasSum.length);
    return this.biasSum;
  }

  protected override stepForward(backend: Backend, t: number): void {
    const { batch, lengths, hs, cs, tanhC } = this;
    const H = this.hiddenSize;
    const G = 4 * H;
    const BH = batch * H;
    const g = this.gates.subarray(t * batch * G, (t + 1) * batch * G);
    const hPrev = hs.subarray(t * BH, (t + 1) * BH);
    backend.gemm(false, true, batch, G, H, 1, hPrev, this.weightHh.value, 1, g);
    backend.lstmForward(
      g, hPrev, cs.subarray(t * BH, (t + 1) * BH), hs.subarray((t + 1) * BH, (t + 2) * BH),
      cs.subarray((t + 1) * BH, (t + 2) * BH), tanhC.subarray(t * BH, (t + 1) * BH), lengths, t, batch, H,
    );
  }

  protected override stepBackward(
    backend: Backend, t: number, dOut: Float32Array | null, dOutStride: number, dh: Float32Array, dhPrev: Float32Array,
  ): void {
    const { batch, lengths, gates, cs, tanhC, dc } = this;
    const H = this.hiddenSize;
    const G = 4 * H;
    const BH = batch * H;
    const dg = this.dGates.subarray(t * batch * G, (t + 1) * batch * G);
    backend.lstmBackward(
      gates.subarray(t * batch * G, (t + 1) * batch * G), cs.subarray(t * BH, (t + 1) * BH),
      tanhC.subarray(t * BH, (t + 1) * BH), dh, dOut, dOutStride, dc, dg, dhPrev, lengths, t, batch, H,
    );
    // dh_{t-1} += dgates_t W_hh (the kernel left 0 in the real rows, dh in the padded ones).
    backend.gemm(false, false, batch, H, G, 1, dg, this.weightHh.value, 1, dhPrev);
  }
}
