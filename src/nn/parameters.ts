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
  readonly value: Float32Array;
  /** View into ParameterSet.grads. */
  readonly grad: Float32Array;
  /** View into ParameterSet.half while the set keeps a bf16 copy (mixed precision), else null. */
  half: Uint16Array | null;
}

export class ParameterSet {
  readonly values: Float32Array;
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

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
