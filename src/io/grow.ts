/** Typed arrays that grow as values are appended to them (readers that do not know how many rows are coming). */

type Growable = Float64Array | Float32Array | Int32Array | Uint8Array;

/**
 * `array` itself when it holds at least `length` elements, else a larger array of its kind (twice
 * its size, or `length` if that is more) whose first elements are `array`'s.
 */
export function withRoom<A extends Growable>(array: A, length: number): A {
  if (array.length >= length) return array;
  const Kind = array.constructor as new (length: number) => A;
  const larger = new Kind(Math.max(length, array.length * 2));
  larger.set(array);
  return larger;
}
