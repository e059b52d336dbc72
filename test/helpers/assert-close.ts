// Element-by-element closeness for comparing the backends' outputs.
import assert from 'node:assert/strict';

/** Asserts |actual - expected| <= atol + rtol |expected| element by element, naming the first offender. */
export function assertClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, label: string,
): void {
  assert.equal(actual.length, expected.length, `${label}: lengths differ`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Object.is(a, e)) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${label}: element ${i} is ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/** Whether two arrays hold the same bytes: the same bits, NaN payloads and signed zeros included. */
export function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
