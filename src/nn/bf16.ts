/**
 * A layer's bfloat16 copy of one operand (its input, its weights, its output gradient) for mixed
 * precision: made once per forward or backward pass with backend.toBf16 and read by both products
 * that need it, so no operand is rounded twice. The buffer grows to the largest size seen.
 */
import type { Backend } from '../engine/backend.js';

export class Bf16Copy {
  private data = new Uint16Array(0);

  /** Rounds the first n values of x into this copy and returns it. */
  of(backend: Backend, x: Float32Array, n: number): Uint16Array {
    backend.toBf16(x, this.reserve(n), n);
    return this.data;
  }

  /** The buffer, grown to at least n values, for a kernel that writes bf16 itself (im2colBf16). */
  reserve(n: number): Uint16Array {
    if (this.data.length < n) this.data = new Uint16Array(n);
    return this.data;
  }

  /** The copy made last. */
  get value(): Uint16Array {
    return this.data;
  }
}
