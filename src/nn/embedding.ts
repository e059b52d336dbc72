/**
 * A token embedding: ids [batch, time] (Int32Array) -> vectors [batch, time, dim], row id of the
 * table `weight` [vocab, dim] (PyTorch's nn.Embedding(vocab, dim, padding_idx=0) weight).
 * Id 0 is `<pad>`: it, and every position at or past its row's length, gives a zero vector and
 * sends no gradient to the table. Forward and backward side by side; buffers grow to the largest
 * batch x time seen and are reused.
 */
import type { Backend } from '../engine/backend.js';
import { getBackend } from '../engine/index.js';
import type { Random } from '../engine/random.js';
import type { Parameter, ParameterSet, ParameterSpec } from './parameters.js';

export interface EmbeddingSpec {
  name: string;
  vocab: number;
  dim: number;
}

/** The id of `<pad>`. */
export const PAD_ID = 0;

export class Embedding {
  readonly kind = 'Embedding';
  readonly name: string;
  readonly vocab: number;
  readonly dim: number;
  private weight!: Parameter;
  private out: Float32Array = new Float32Array(0);
  /** The last forward's ids (copied; 0 where masked by length), for backward. */
  private ids = new Int32Array(0);
  private positions = 0;

  constructor(spec: EmbeddingSpec) {
    if (!(Number.isInteger(spec.vocab) && spec.vocab >= 2 && Number.isInteger(spec.dim) && spec.dim >= 1)) {
      throw new Error(`${spec.name}: vocab must be an integer of at least 2 and dim of at least 1, not ${spec.vocab} and ${spec.dim}.`);
    }
    this.name = spec.name;
    this.vocab = spec.vocab;
    this.dim = spec.dim;
  }

  parameterSpecs(): ParameterSpec[] {
    return [{ name: `${this.name}.weight`, shape: [this.vocab, this.dim] }];
  }

  get parameterCount(): number {
    return this.vocab * this.dim;
  }

  bind(params: ParameterSet): void {
    this.weight = params.get(`${this.name}.weight`);
  }

  /** PyTorch's default: N(0, 1), with the `<pad>` row zero (as padding_idx=0 makes it). */
  initialize(rng: Random): void {
    rng.fillNormal(this.weight.value);
    this.weight.value.fill(0, PAD_ID * this.dim, (PAD_ID + 1) * this.dim);
  }

  /**
   * out[b, t] = weight[ids[b, t]] for t < lengths[b] (every t when lengths is null) and ids != 0;
   * zeros elsewhere. Throws on an id outside [0, vocab). Returns a view of the layer's own buffer.
   * The lookup is the backend's embeddingGather (the process-wide backend unless one is given).
   */
  forward(ids: Int32Array, lengths: Int32Array | null, batch: number, time: number, backend: Backend = getBackend()): Float32Array {
    const n = batch * time;
    if (ids.length < n) throw new Error(`${this.name}: ${batch} x ${time} ids needed, got ${ids.length}.`);
    if (this.out.length < n * this.dim) this.out = new Float32Array(n * this.dim);
    if (this.ids.length < n) this.ids = new Int32Array(n);
    const kept = this.ids;
    for (let b = 0; b < batch; b++) {
      const length = lengths === null ? time : lengths[b]!;
      if (!(length >= 0 && length <= time)) throw new Error(`${this.name}: row ${b} has length ${length}, outside [0, ${time}].`);
      for (let t = 0; t < time; t++) {
        const p = b * time + t;
        const id = t < length ? ids[p]! : PAD_ID;
        if (!(id >= 0 && id < this.vocab)) throw new Error(`${this.name}: id ${id} at row ${b}, step ${t} is outside the vocabulary [0, ${this.vocab}).`);
        kept[p] = id;
      }
    }
    backend.embeddingGather(this.weight.value, this.vocab, this.dim, kept, n, this.out);
    this.positions = n;
    return this.out.subarray(0, n * this.dim);
  }

  /**
   * Scatter-adds dOut [batch, time, dim] of the last forward into the table's gradient, row by row
   * in position order: overwriting it first (the Layer contract), or adding to it when `accumulate`
   * (a table shared by an encoder and a decoder). `<pad>` and masked positions add nothing. The
   * scatter-add is the backend's embeddingScatterAdd.
   */
  backward(backend: Backend, dOut: Float32Array, accumulate = false): void {
    const grad = this.weight.grad;
    if (!accumulate) grad.fill(0);
    backend.embeddingScatterAdd(dOut, this.ids, this.positions, this.dim, grad, this.vocab);
  }
}
