/**
 * Typed arrays over scratch files mapped into memory (native/mapped.cc): what data larger than
 * memory is held in instead of the heap (a long time series' values, masks and times). The system
 * keeps their pages in its page cache while there is room and writes them back to the file when there
 * is not, so a process holding them needs memory of its own only for the pages it is reading. They
 * are read and written like any typed array; arrayLike makes another in the same place, and withRoom
 * and trimmed (grow.ts) grow and cut them. Mapping needs the native addon; mappingUnavailable says why it is not there.
 */
import { closeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadNativeAddon, type NativeAddon } from '../engine/native-backend.js';
import { formatBytes, VaekitError } from '../errors.js';
import { describeFsError } from './fs-errors.js';
import { openScratchFile } from './scratch.js';

export type MappableArray = Float64Array | Float32Array | Int32Array | Uint8Array;
export type Kind<A extends MappableArray> = { new (length: number): A; new (buffer: ArrayBuffer, offset: number, length: number): A; readonly BYTES_PER_ELEMENT: number };

/** What each mapped buffer holds and for which data, for the arrays that grow from it. */
const mapped = new WeakMap<ArrayBuffer, { what: string; source: string }>();

let addon: NativeAddon | string | undefined;

/** The addon, or why it is not loaded. */
function mapper(): NativeAddon | string {
  if (addon === undefined) {
    try {
      addon = loadNativeAddon();
    } catch (err) {
      addon = err instanceof Error ? err.message : String(err);
    }
  }
  return addon;
}

/** Why arrays cannot be mapped here (no native addon, or Windows), or null when they can. */
export function mappingUnavailable(): string | null {
  const found = mapper();
  if (typeof found === 'string') return `the native addon is not loaded (${found})`;
  return process.platform === 'win32' ? 'mapping files into memory is not supported on Windows' : null;
}

/**
 * A new array of `length` zeros over a scratch file of its own, mapped into memory; `what` and
 * `source` name it in messages ("values", "s.csv"). Refuses, in one sentence, when the disk has no
 * room for it.
 */
export function mappedArray<A extends MappableArray>(Type: Kind<A>, length: number, what: string, source: string): A {
  const found = mapper();
  if (typeof found === 'string') throw new Error(`mappedArray: ${mappingUnavailable() ?? found}`);
  if (length === 0) return new Type(0);
  const bytes = length * Type.BYTES_PER_ELEMENT;
  const fd = openScratchFile(what, source);
  let buffer: ArrayBuffer;
  try {
    ftruncateSync(fd, bytes);
    buffer = found.mapFile(fd, bytes);
  } catch (err) {
    // ftruncate's errors are Node's (EFBIG), mapFile's the system's sentence ("No space left on device").
    const reason = err instanceof Error && 'code' in err ? describeFsError(err) : (err instanceof Error ? err.message : String(err)).toLowerCase();
    throw new VaekitError(`Cannot hold ${source} on disk: its ${what} need ${formatBytes(bytes)} in a temporary file in ${tmpdir()}, and ${reason}.`);
  } finally {
    // The mapping keeps the file's pages; the descriptor is no longer needed.
    closeSync(fd);
  }
  mapped.set(buffer, { what, source });
  return new Type(buffer, 0, length);
}

/** Whether `array` lies in a mapped scratch file. */
export function isMapped(array: MappableArray): boolean {
  return mapped.has(array.buffer as ArrayBuffer);
}

/**
 * Asks the system to read elements [from, from + length) of a mapped array from its file now, in the
 * background, so that reading them later does not wait on the disk; nothing for an array in memory.
 */
export function willNeed(array: MappableArray, from: number, length: number): void {
  if (!isMapped(array)) return;
  (mapper() as NativeAddon).adviseMapped(array.buffer as ArrayBuffer, array.byteOffset + from * array.BYTES_PER_ELEMENT, length * array.BYTES_PER_ELEMENT, 2);
}

/** Each mapped buffer's access pattern as last told to the system (absent: 'in order', as mapped). */
const patterns = new WeakMap<ArrayBuffer, 'in order' | 'shuffled'>();

/**
 * Tells the system how a mapped array is about to be read: 'in order' (a page read from the file
 * brings the pages around it too) or 'shuffled' (it brings that page alone, the rest being what a
 * shuffled pass would throw away: under memory pressure an epoch of windows took 368 s one way and
 * 18 s the other, BENCHMARKS.md). Nothing for an array in memory, or one already so told.
 */
export function accessPattern(array: MappableArray, pattern: 'in order' | 'shuffled'): void {
  const buffer = array.buffer as ArrayBuffer;
  if (!isMapped(array) || (patterns.get(buffer) ?? 'in order') === pattern) return;
  patterns.set(buffer, pattern);
  (mapper() as NativeAddon).adviseMapped(buffer, 0, buffer.byteLength, pattern === 'in order' ? 0 : 1);
}

/** A new array of `length` zeros of kind `Type` where `like` is: in memory, or mapped for the same data. */
export function arrayLike<A extends MappableArray>(like: MappableArray, Type: Kind<A>, length: number, what?: string): A {
  const where = mapped.get(like.buffer as ArrayBuffer);
  return where === undefined ? new Type(length) : mappedArray(Type, length, what ?? where.what, where.source);
}
