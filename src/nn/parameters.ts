/**
 * All of a model's parameters live in one flat Float32Array (and their gradients in another), so
 * the optimizer updates everything in one kernel call and a checkpoint is one buffer. Each
 * parameter is a named view into those buffers.
 */
import type { Backend } from '../engine/backend.js';
export interface ParameterSpec {
  name: string;
  shape: number[];
}

export interface Parameter {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
  /** View into ParameterSet.values. */
  value: Float32Array;
  /** View into ParameterSet.grads. */
  grad: Float32Array;
  /** View into ParameterSet.half while the set keeps a bf16 copy (mixed precision), else null. */
  half: Uint16Array | null;
}

export class ParameterSet {
  /** The values; moved (not changed) by share and unshare. */
  values: Float32Array;
  readonly grads: Float32Array;
  readonly list: readonly Parameter[];
  private readonly byName = new Map<string, Parameter>();

  constructor(specs: readonly ParameterSpec[]) {
    const total = specs.reduce((n, s) => n + sizeOf(s.shape), 0);
    this.values = new Float32Array(total);
    this.grads = new Float32Array(total);
    const list: Parameter[] = [];
    let offset = 0;
    for (const spec of specs) {
      if (this.byName.has(spec.name)) throw new Error(`Duplicate parameter name ${spec.name}.`);
      const size = sizeOf(spec.shape);
      const p: Parameter = {
        name: spec.name,
        shape: [...spec.shape],
        offset,
        size,
        value: this.values.subarray(offset, offset + size),
        grad: this.grads.subarray(offset, offset + size),
        half: null,
      };
      list.push(p);
      this.byName.set(spec.name, p);
      offset += size;
    }
    this.list = list;
  }

  /**
   * The values rounded to bf16, kept while mixed precision trains (keepHalf): Adam writes it in the
   * same pass as the values, so each step's products read weights rounded once. Anything else that
   * changes the values must call keepHalf again.
   */
  half: Uint16Array | null = null;

  /** Makes (or refreshes) the bf16 copy of the values and each parameter's view of it. */
  keepHalf(backend: Backend): void {
    if (this.half === null) {
      this.half = new Uint16Array(this.values.length);
      for (const p of this.list) p.half = this.half.subarray(p.offset, p.offset + p.size);
    }
    backend.toBf16(this.values, this.half, this.values.length);
  }

  /**
   * Moves the values (and the bf16 copy, if kept) into shared memory, so that the data-parallel
   * step's threads read the same weights (train/shards.ts); returns the shared arrays.
   */
  share(): { values: Float32Array; half: Uint16Array | null } {
    if (!(this.values.buffer instanceof SharedArrayBuffer)) {
      this.adopt(sharedCopy(this.values), this.half === null ? null : sharedCopy(this.half));
    }
    return { values: this.values, half: this.half };
  }

  /** Moves the values (and bf16 copy) back into memory of this thread's own. */
  unshare(): void {
    if (this.values.buffer instanceof SharedArrayBuffer) this.adopt(this.values.slice(), this.half === null ? null : this.half.slice());
  }

  /** Makes these arrays (another set's shared ones: a replica's) this set's values and bf16 copy. */
  adopt(values: Float32Array, half: Uint16Array | null): void {
    if (values.length !== this.count || (half !== null && half.length !== this.count)) {
      throw new Error(`adopt: ${values.length} values for a set of ${this.count}`);
    }
    this.values = values;
    this.half = half;
    for (const p of this.list) {
      p.value = values.subarray(p.offset, p.offset + p.size);
      p.half = half === null ? null : half.subarray(p.offset, p.offset + p.size);
    }
  }

  /**
   * Where the backward pass writes the gradients: `buffer` (a shard's part of the data-parallel
   * step's gradients), or this set's own grads again (null).
   */
  writeGradsTo(buffer: Float32Array | null): void {
    const to = buffer ?? this.grads;
    if (to.length < this.count) throw new Error(`writeGradsTo: ${to.length} values for a set of ${this.count}`);
    for (const p of this.list) p.grad = to.subarray(p.offset, p.offset + p.size);
  }

  /** Drops the bf16 copy. */
  dropHalf(): void {
    this.half = null;
    for (const p of this.list) p.half = null;
  }

  get count(): number {
    return this.values.length;
  }

  get(name: string): Parameter {
    const p = this.byName.get(name);
    if (p === undefined) throw new Error(`No parameter named ${name}.`);
    return p;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }
}

function sharedCopy<T extends Float32Array | Uint16Array>(from: T): T {
  const to = (from instanceof Float32Array
    ? new Float32Array(new SharedArrayBuffer(from.byteLength))
    : new Uint16Array(new SharedArrayBuffer(from.byteLength))) as T;
  to.set(from);
  return to;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
