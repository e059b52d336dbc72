/**
 * Typed arrays that grow as values are appended to them (readers that do not know how many rows are
 * coming), in memory or mapped from a scratch file (mapped.ts): each grows where it is.
 */
import { arrayLike, isMapped, type Kind, type MappableArray } from './mapped.js';

/**
 * `array` itself when it holds at least `length` elements, else a larger array of its kind (twice
 * its size, or `length` if that is more) whose first elements are `array`'s: made by `make`, by
 * default in the same place as `array`.
 */
export function withRoom<A extends MappableArray>(array: A, length: number, make?: (Type: Kind<A>, length: number) => A): A {
  if (array.length >= length) return array;
  // Readers call this once a row: nothing is made (not even a default `make`) until it grows.
  const Type = array.constructor as Kind<A>;
  const n = Math.max(length, array.length * 2);
  const larger = make === undefined ? arrayLike(array, Type, n) : make(Type, n);
  larger.set(array);
  return larger;
}

/**
 * The first `length` elements of an array that withRoom grew: a copy in memory (so that the room
 * left over is freed), a view of a mapped one (its room takes no memory).
 */
export function trimmed<A extends MappableArray>(array: A, length: number): A {
  return (isMapped(array) ? array.subarray(0, length) : array.slice(0, length)) as A;
}
