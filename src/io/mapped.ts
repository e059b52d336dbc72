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

/** What each mapped buffer (or, for a slab, its first array) holds and for which data, for the arrays that grow from it. */
const mapped = new WeakMap<ArrayBuffer, { what: string; source: string }>();
/** What each array carved from a slab holds, where it is not its slab's first. */
const carved = new WeakMap<MappableArray, { what: string; source: string }>();

/**
 * Small arrays are carved from shared scratch files (slabs) of SLAB_BYTES instead of a file and a
 * mapping each: a folder of many thousands of short series would otherwise pass the system's limit
 * on mappings (vm.max_map_count, 65,530 by default; a series takes three or four arrays, and a
 * growing one holds its outgrown arrays until they are collected). Arrays of more than SLAB_LARGEST
 * get a file of their own, which is freed as soon as they are collected; a slab is freed when all its
 * arrays are, and the room outgrown arrays left in it stays on disk until then.
 */
const SLAB_BYTES = 16 << 20;
const SLAB_LARGEST = 1 << 20;
/** Where arrays are carved in each slab: at the start of a cache line. */
const SLAB_ALIGN = 64;
/**
 * The slab being carved (weakly held: once its arrays are all collected a new one is begun), its
 * next free byte, and the temporary folder it is in (a new TMPDIR begins a new slab).
 */
let slab: { buffer: WeakRef<ArrayBuffer>; used: number; dir: string } | null = null;

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
 * A new array of `length` zeros in a scratch file mapped into memory (a file of its own, or a
 * slab's for a small one: see SLAB_BYTES); `what` and `source` name it in messages ("values", "s.csv"). Refuses, in one sentence, when the disk has no
 * room for it.
 */
export function mappedArray<A extends MappableArray>(Type: Kind<A>, length: number, what: string, source: string): A {
  const found = mapper();
  if (typeof found === 'string') throw new Error(`mappedArray: ${mappingUnavailable() ?? found}`);
  if (length === 0) return new Type(0);
  const bytes = length * Type.BYTES_PER_ELEMENT;
  if (bytes > SLAB_LARGEST) return new Type(mapScratchFile(found, bytes, what, source), 0, length);
  let buffer = slab?.buffer.deref();
  if (slab === null || buffer === undefined || slab.used + bytes > buffer.byteLength || slab.dir !== tmpdir()) {
    buffer = mapScratchFile(found, SLAB_BYTES, what, source);
    slab = { buffer: new WeakRef(buffer), used: 0, dir: tmpdir() };
  }
  const array = new Type(buffer, slab.used, length);
  slab.used += Math.ceil(bytes / SLAB_ALIGN) * SLAB_ALIGN;
  if (array.byteOffset > 0) carved.set(array, { what, source });
  return array;
}

/** A new scratch file of `bytes` zeros, reserved on disk and mapped into memory (its descriptor closed). */
function mapScratchFile(found: NativeAddon, bytes: number, what: string, source: string): ArrayBuffer {
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
  return buffer;
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
  const where = carved.get(like) ?? mapped.get(like.buffer as ArrayBuffer);
  return where === undefined ? new Type(length) : mappedArray(Type, length, what ?? where.what, where.source);
}
