/**
 * A bidirectional recurrent layer: one LSTM or GRU reads each row forwards, a second reads it
 * backwards from its own last real step (as PyTorch's packed sequences do: row b's step t of the
 * backward direction is its input at lengths[b] - 1 - t, so padding never comes first), and their
 * states are concatenated per position:
 *
 *   outputs [batch, time, 2H]: [h_forward(t), h_backward(t)], 0 past a row's length
 *   hFinal  [batch, 2H]:       [forward state after the last step, backward state after reading step 0]
 *   h0, c0  [batch, 2H]:       the two directions' initial states, side by side
 *
 * PyTorch's nn.LSTM/GRU(bidirectional=True): `${name}.weight_ih` is weight_ih_l0 and
 * `${name}_reverse.weight_ih` is weight_ih_l0_reverse (likewise the others); PyTorch's
 * h_n[0] and h_n[1] are hFinal's two halves. hiddenSize here is 2H, the width of the outputs and
 * states; each direction has H.
 */
import type { Backend } from '../engine/backend.js';
import type { Random } from '../engine/random.js';
import { Gru } from './gru.js';
import { Lstm } from './lstm.js';
import type { ParameterSet, ParameterSpec } from './parameters.js';
import { atLeast, checkLengths, type RecurrentGradients, type RecurrentLayer, type RecurrentOutput } from './recurrent.js';

export interface BidirectionalSpec {
  name: string;
  cell: 'lstm' | 'gru';
  inputs: number;
  /** Per direction. */
  hidden: number;
}

/** Row by row, the first lengths[b] steps of src [batch, time, cols] in reverse order into dst; 0 after. */
function reverseRows(src: Float32Array, lengths: Int32Array, batch: number, time: number, cols: number, dst: Float32Array): void {
  for (let b = 0; b < batch; b++) {
    const n = lengths[b]!;
    for (let t = 0; t < time; t++) {
      const to = (b * time + t) * cols;
      if (t < n) {
        const from = (b * time + n - 1 - t) * cols;
        dst.set(src.subarray(from, from + cols), to);
      } else {
        dst.fill(0, to, to + cols);
      }
    }
  }
}

/** dst[r, offset : offset + width] = src[r, 0 : width] for r < rows, dst rows `stride` wide. */
function intoColumns(src: Float32Array, rows: number, width: number, dst: Float32Array, stride: number, offset: number): void {
  for (let r = 0; r < rows; r++) dst.set(src.subarray(r * width, (r + 1) * width), r * stride + offset);
}

/** dst[r, 0 : width] = src[r, offset : offset + width] for r < rows, src rows `stride` wide. */
function fromColumns(src: Float32Array, rows: number, stride: number, offset: number, width: number, dst: Float32Array): void {
  for (let r = 0; r < rows; r++) dst.set(src.subarray(r * stride + offset, r * stride + offset + width), r * width);
}

export class Bidirectional implements RecurrentLayer {
  readonly kind: string;
  readonly name: string;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly forwardLayer: RecurrentLayer;
  readonly reverseLayer: RecurrentLayer;
  private readonly H: number;
  private readonly hasCell: boolean;
  private batch = 0;
  private time = 0;
  private lengths = new Int32Array(0);
  private hasH0 = false;
  private hasC0 = false;
  private xr: Float32Array = new Float32Array(0);
  private out: Float32Array = new Float32Array(0);
  private hFinal: Float32Array = new Float32Array(0);
  private cFinal: Float32Array = new Float32Array(0);
  /** Scratch for one direction's [batch, H] state, or [batch, time, H] gradient. */
  private s1: Float32Array = new Float32Array(0);
  private s2: Float32Array = new Float32Array(0);
  private s3: Float32Array = new Float32Array(0);
  private s4: Float32Array = new Float32Array(0);
  private dR: Float32Array = new Float32Array(0);
  private dx: Float32Array = new Float32Array(0);
  private dh0: Float32Array = new Float32Array(0);
  private dc0: Float32Array = new Float32Array(0);

  constructor(spec: BidirectionalSpec) {
    const make = (name: string): RecurrentLayer => (spec.cell === 'lstm'
      ? new Lstm({ name, inputs: spec.inputs, hidden: spec.hidden })
      : new Gru({ name, inputs: spec.inputs, hidden: spec.hidden }));
    this.forwardLayer = make(spec.name);
    this.reverseLayer = make(`${spec.name}_reverse`);
    this.kind = spec.cell === 'lstm' ? 'BiLSTM' : 'BiGRU';
    this.name = spec.name;
    this.inputSize = spec.inputs;
    this.H = spec.hidden;
    this.hiddenSize = 2 * spec.hidden;
    this.hasCell = spec.cell === 'lstm';
  }

  parameterSpecs(): ParameterSpec[] {
    return [...this.forwardLayer.parameterSpecs(), ...this.reverseLayer.parameterSpecs()];
  }

  get parameterCount(): number {
    return this.forwardLayer.parameterCount + this.reverseLayer.parameterCount;
  }

  bind(params: ParameterSet): void {
    this.forwardLayer.bind(params);
    this.reverseLayer.bind(params);
  }

  initialize(rng: Random): void {
    this.forwardLayer.initialize(rng);
    this.reverseLayer.initialize(rng);
  }

  /** The two directions' halves of a [batch, 2H] state, in s1/s2 (or s3/s4), or null when absent. */
  private split(state: Float32Array | null, batch: number, first: 's1' | 's3'): [Float32Array | null, Float32Array | null] {
    if (state === null) return [null, null];
    const H = this.H;
    const a = first === 's1' ? (this.s1 = atLeast(this.s1, batch * H)) : (this.s3 = atLeast(this.s3, batch * H));
    const b = first === 's1' ? (this.s2 = atLeast(this.s2, batch * H)) : (this.s4 = atLeast(this.s4, batch * H));
    fromColumns(state, batch, 2 * H, 0, H, a);
    fromColumns(state, batch, 2 * H, H, H, b);
    return [a.subarray(0, batch * H), b.subarray(0, batch * H)];
  }

  forward(
    backend: Backend, x: Float32Array, lengths: Int32Array, batch: number, time: number,
    h0: Float32Array | null, c0: Float32Array | null = null,
  ): RecurrentOutput {
    checkLengths(this.name, lengths, batch, time);
    const H = this.H;
    this.batch = batch;
    this.time = time;
    if (this.lengths.length < batch) this.lengths = new Int32Array(batch);
    this.lengths.set(lengths.subarray(0, batch));
    this.hasH0 = h0 !== null;
    this.hasC0 = c0 !== null;
    this.xr = atLeast(this.xr, batch * time * this.inputSize);
    this.out = atLeast(this.out, batch * time * 2 * H);
    this.hFinal = atLeast(this.hFinal, batch * 2 * H);
    this.cFinal = atLeast(this.cFinal, batch * 2 * H);
    const [h0f, h0r] = this.split(h0, batch, 's1');
    const [c0f, c0r] = this.split(c0, batch, 's3');

    const f = this.forwardLayer.forward(backend, x, lengths, batch, time, h0f, c0f);
    intoColumns(f.outputs, batch * time, H, this.out, 2 * H, 0);
    intoColumns(f.hFinal, batch, H, this.hFinal, 2 * H, 0);
    if (f.cFinal !== null) intoColumns(f.cFinal, batch, H, this.cFinal, 2 * H, 0);

    reverseRows(x, lengths, batch, time, this.inputSize, this.xr);
    const r = this.reverseLayer.forward(backend, this.xr, lengths, batch, time, h0r, c0r);
    // The reverse direction's outputs back in reading order (its padded outputs are 0, as they stay).
    this.dR = atLeast(this.dR, batch * time * H);
    reverseRows(r.outputs, lengths, batch, time, H, this.dR);
    intoColumns(this.dR, batch * time, H, this.out, 2 * H, H);
    intoColumns(r.hFinal, batch, H, this.hFinal, 2 * H, H);
    if (r.cFinal !== null) intoColumns(r.cFinal, batch, H, this.cFinal, 2 * H, H);
    return {
      outputs: this.out.subarray(0, batch * time * 2 * H),
      hFinal: this.hFinal.subarray(0, batch * 2 * H),
      cFinal: this.hasCell ? this.cFinal.subarray(0, batch * 2 * H) : null,
    };
  }

  backward(
    backend: Backend, dOutputs: Float32Array | null, dhFinal: Float32Array | null,
    dcFinal: Float32Array | null, needInputGrad: boolean,
  ): RecurrentGradients {
    const { batch, time, lengths } = this;
    if (batch === 0) throw new Error(`${this.name}.backward needs a forward call before it.`);
    const H = this.H;
    const n = batch * time * H;
    // s1/s2: the two halves of dhFinal; s3/s4: of dcFinal; dR and xr's room: dOutputs' halves.
    const [dhf, dhr] = this.split(dhFinal, batch, 's1');
    const [dcf, dcr] = this.split(dcFinal, batch, 's3');
    let dOutF: Float32Array | null = null;
    let dOutR: Float32Array | null = null;
    if (dOutputs !== null) {
      this.dR = atLeast(this.dR, 2 * n);
      const half = this.dR.subarray(n, 2 * n);
      fromColumns(dOutputs, batch * time, 2 * H, 0, H, this.dR);
      dOutF = this.dR.subarray(0, n);
      fromColumns(dOutputs, batch * time, 2 * H, H, H, half);
      // In the reverse direction's reading order. xr is free: the reverse layer keeps its own copy.
      this.xr = atLeast(this.xr, n);
      reverseRows(half, lengths, batch, time, H, this.xr);
      dOutR = this.xr.subarray(0, n);
    }
    const gf = this.forwardLayer.backward(backend, dOutF, dhf, dcf, needInputGrad);
    let dx: Float32Array | null = null;
    if (gf.dx !== null) {
      this.dx = atLeast(this.dx, gf.dx.length);
      this.dx.set(gf.dx);
    }
    this.dh0 = atLeast(this.dh0, batch * 2 * H);
    this.dc0 = atLeast(this.dc0, batch * 2 * H);
    if (gf.dh0 !== null) intoColumns(gf.dh0, batch, H, this.dh0, 2 * H, 0);
    if (gf.dc0 !== null) intoColumns(gf.dc0, batch, H, this.dc0, 2 * H, 0);

    const gr = this.reverseLayer.backward(backend, dOutR, dhr, dcr, needInputGrad);
    if (gr.dx !== null) {
      // Back to reading order and added to the forward direction's dx.
      const m = batch * time * this.inputSize;
      this.xr = atLeast(this.xr, m);
      reverseRows(gr.dx, lengths, batch, time, this.inputSize, this.xr);
      backend.add(this.dx, this.xr, this.dx, m);
      dx = this.dx.subarray(0, m);
    }
    if (gr.dh0 !== null) intoColumns(gr.dh0, batch, H, this.dh0, 2 * H, H);
    if (gr.dc0 !== null) intoColumns(gr.dc0, batch, H, this.dc0, 2 * H, H);
    return {
      dx,
      dh0: this.hasH0 ? this.dh0.subarray(0, batch * 2 * H) : null,
      dc0: this.hasC0 ? this.dc0.subarray(0, batch * 2 * H) : null,
    };
  }
}
