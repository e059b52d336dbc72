// Finite-difference gradient checking shared by the layer and model tests.
import assert from 'node:assert/strict';

/** Central differences of f at every index of `values` (restored afterwards): float32 parameters, or a float64 oracle's. */
export function numericGradient(values: Float32Array | Float64Array, f: () => number, h: number): Float64Array {
  const grad = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const old = values[i]!;
    values[i] = old + h;
    const up = f();
    values[i] = old - h;
    const down = f();
    values[i] = old;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

/** Every analytic gradient element within atol + rtol * max(|analytic|, |numeric|) of the finite difference. */
export function assertGradient(analytic: ArrayLike<number>, numeric: ArrayLike<number>, what: string, rtol = 2e-2, atol = 2e-3): void {
  assert.equal(analytic.length, numeric.length);
  for (let i = 0; i < analytic.length; i++) {
    const a = analytic[i]!;
    const n = numeric[i]!;
    const err = Math.abs(a - n) / (atol + rtol * Math.max(Math.abs(a), Math.abs(n)));
    assert.ok(err <= 1, `${what}[${i}]: analytic ${a} vs finite difference ${n}`);
  }
}
