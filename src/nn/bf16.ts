/**
 * A layer's bfloat16 copy of one operand (its input, its weights, its output gradient) for mixed
 * precision: made once per forward or backward pass with backend.toBf16 and read by both products
 * that need it, so no operand is rounded twice. Weights come from their ParameterSet's bf16 copy
 * when it keeps one (Adam writes it), so they are not rounded at all here. The buffer grows to the
 * largest size seen.
 */
import type { Backend } from '../engine/backend.js';
import type { Parameter } from './parameters.js';

export class Bf16Copy {
  private data = new Uint16Array(0);
  private last: Uint16Array = this.data;

  /** Rounds the first n values of x into this copy and returns it. */
  of(backend: Backend, x: Float32Array, n: number): Uint16Array {
    backend.toBf16(x, this.reserve(n), n);
    return this.last;
  }

  /** A parameter's bf16 values: the parameter set's copy when it keeps one, else rounded here. */
  ofParameter(backend: Backend, p: Parameter): Uint16Array {
    if (p.half === null) return this.of(backend, p.value, p.size);
    this.last = p.half;
    return this.last;
  }

  /** The buffer, grown to at least n values, for a kernel that writes bf16 itself (im2colBf16). */
  reserve(n: number): Uint16Array {
    if (this.data.length < n) this.data = new Uint16Array(n);
    this.last = this.data;
    return this.data;
  }

  /** The copy made (or taken) last. */
  get value(): Uint16Array {
    return this.last;
  }
}
