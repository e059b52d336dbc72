// The seeded mutation fuzzer of every reader of outside bytes, shared by test/fuzz.test.ts (a few
// thousand cases per reader) and scripts/fuzz.ts (as many as asked). Each case starts from a valid
// seed input made by vaekit's own encoders and mutates it: truncation (at header fields, at the
// header's end, anywhere), bit flips, byte overwrites, lying lengths, offsets and dimensions (up to
// 2^64 - 1), inserted, deleted and repeated ranges, garbage, the empty input, and for the formats
// with a text header (safetensors and bundle JSON, NPY's Python dict, CSV) mutations of the text put
// back with honest framing, so they reach the checks behind it. A reader passes a case when it
// returns a valid result or throws a VaekitError whose message is one line, within a second and
// without allocating more than the input justifies. Every case has its own seed, printed with a hex
// prefix of its input when it fails, so `npm run fuzz -- --reader R --case-seed S` replays it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import sharp, { type Sharp } from 'sharp';
import pngjs from 'pngjs';
import { loadCsv, type CsvOptions } from '../../src/data/sources/csv.js';
import { loadIdx } from '../../src/data/sources/idx.js';
import { loadImageFolder, type ImageFolderOptions } from '../../src/data/sources/image-folder.js';
import { loadNpy } from '../../src/data/sources/npy.js';
import type { Dataset } from '../../src/data/dataset.js';
import { mix32, Random } from '../../src/engine/random.js';
import { VaekitError } from '../../src/errors.js';
import { decodeBundle, encodeBundle, type Bundle, type DataInfo } from '../../src/run/bundle-format.js';
import { readCheckpoint, saveCheckpoint } from '../../src/run/checkpoints.js';
import { encodeIdx, parseIdx, type IdxArray } from '../../src/io/idx.js';
import { encodeNpy, parseNpy, type NpyArray } from '../../src/io/npy.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../src/io/safetensors.js';
import type { Checkpoint } from '../../src/train/checkpoint.js';
import { presetConfig, type VaeConfig } from '../../src/vae/config.js';
import { Vae } from '../../src/vae/model.js';

// ---- seeds and mutations -----------------------------------------------------------------------

/** An integer field of a header (a dimension, a length, an offset): where the lies go. */
export interface Field {
  at: number;
  bytes: 1 | 2 | 4 | 8;
  little: boolean;
}

/** A valid input and what the mutations need to know of its layout. */
export interface Seed {
  label: string;
  bytes: Uint8Array;
  fields: Field[];
  /** Interesting places to cut it (the header's end, the data's start). */
  cuts: number[];
  /** A text inside it (a JSON or Python header, a whole CSV file) and how to put back a changed one with honest framing. */
  text?: { value: string; json: boolean; rebuild(text: string): Uint8Array };
  /** A wrapped format (gzip, a PNG's checksums): the inner seed, mutated and wrapped again. */
  plain?: { seed: Seed; wrap(bytes: Uint8Array): Uint8Array };
}

/** One case's input bytes and the mutations that made them (for the report). */
export interface Mutant {
  bytes: Uint8Array;
  steps: string[];
}

const INTERESTING_INTEGERS: readonly bigint[] = [
  0n, 1n, 2n, 3n, 7n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n,
  0xfffffffen, 0xffffffffn, 2n ** 32n, 2n ** 53n, 2n ** 60n, 2n ** 63n, 2n ** 64n - 1n,
];
const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x20, 0x22, 0x27, 0x2c, 0x0a, 0x5b, 0x7b];
const INTERESTING_NUMBERS = [
  '0', '-0', '1', '-1', '2', '1.5', '0.5', '-7', '255', '256', '65535', '65536', '1000000000', '2147483647', '2147483648',
  '4294967295', '4294967296', '9007199254740991', '9007199254740993', '1152921504606846976', '18446744073709551615',
  '99999999999999999999999999', '1e9', '1e308', '1e309', '-1e309', '1e-320', 'NaN', 'Infinity', '-Infinity', '0x10', '',
];
const INTERESTING_STRINGS = ['', 'x', 'F32', 'F64', 'I8', '__proto__', 'constructor', '<f4', '>f8', '|u1', 'O', '\u0000', 'é', 'x'.repeat(2000)];
const TEXT_CHARS = '{}[](),:\'"\\ \n\r\t-+.eE0123456789aTFN#\u0000\u00e9';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const INTERESTING_JSON: readonly Json[] = [
  0, -1, 1, 2, 0.5, -0.5, 3.7, 1e9, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 60, 1e308, -1e308, 5e-324, '', 'x', '1', 'NaN',
  'Infinity', '__proto__', 'F32', 'relu', 'mog', 'conv', 'gaussian', null, true, false, [], {}, [0], [-1], [1], [1e9],
  [1e9, 1e9, 1], [2 ** 60], [1, 2, 3], [0, 2 ** 53], [3, 3, 3], ['a'], [null], { a: 1 }, { mean: [0], std: [0] }, 'x'.repeat(3000),
];

/** Sets an own property, so that a key such as "__proto__" is a key (as JSON.parse makes it). */
function define(record: object, key: string, value: unknown): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Draws one of `items`. */
function pick<T>(rng: Random, items: readonly T[]): T {
  return items[rng.int(items.length)]!;
}

function randomBytes(rng: Random, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.nextUint32() & 0xff;
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** A field's current value. */
function readField(bytes: Uint8Array, f: Field): bigint {
  let v = 0n;
  for (let i = 0; i < f.bytes; i++) v |= BigInt(bytes[f.at + i] ?? 0) << BigInt(8 * (f.little ? i : f.bytes - 1 - i));
  return v;
}

/** Writes `value` (modulo 2^bits) into a field, as far as the bytes reach. */
function writeField(bytes: Uint8Array, f: Field, value: bigint): void {
  const v = BigInt.asUintN(8 * f.bytes, value);
  for (let i = 0; i < f.bytes && f.at + i < bytes.length; i++) {
    bytes[f.at + i] = Number((v >> BigInt(8 * (f.little ? i : f.bytes - 1 - i))) & 0xffn);
  }
}

/** A place to cut or write at: anywhere, or one that matters to the format. */
function position(rng: Random, seed: Seed, length: number): number {
  const special = [0, 1, length - 1, ...seed.cuts, ...seed.fields.flatMap((f) => [f.at, f.at + 1, f.at + f.bytes])];
  const at = rng.int(2) === 0 ? pick(rng, special) : rng.int(length + 1);
  return Math.max(0, Math.min(length, at));
}

type ByteMutation = (rng: Random, bytes: Uint8Array, seed: Seed) => { bytes: Uint8Array; step: string };

/** Truncation, bit flips, a byte overwritten, a field's lie, and bytes inserted, deleted, repeated or appended. */
const BYTE_MUTATIONS: readonly ByteMutation[] = [
  (rng, bytes, seed) => {
    const at = position(rng, seed, bytes.length);
    return { bytes: bytes.slice(0, at), step: `truncate@${at}` };
  },
  (rng, bytes) => {
    const out = bytes.slice();
    const flips = 1 + (rng.int(3) === 0 ? rng.int(8) : 0);
    for (let k = 0; k < flips && out.length > 0; k++) {
      const bit = rng.int(out.length * 8);
      out[bit >> 3] = out[bit >> 3]! ^ (1 << (bit & 7));
    }
    return { bytes: out, step: `flip${flips}` };
  },
  (rng, bytes, seed) => {
    const out = bytes.slice();
    const at = Math.min(position(rng, seed, out.length), out.length - 1);
    const value = rng.int(2) === 0 ? pick(rng, INTERESTING_BYTES) : rng.int(256);
    if (at >= 0) out[at] = value;
    return { bytes: out, step: `set@${at}=${value}` };
  },
  (rng, bytes, seed) => {
    const out = bytes.slice();
    const field: Field = seed.fields.length > 0 && rng.int(4) !== 0
      ? pick(rng, seed.fields)
      : { at: rng.int(Math.max(1, out.length)), bytes: pick(rng, [2, 4, 8] as const), little: rng.int(2) === 0 };
    const current = readField(out, field);
    const value = pick(rng, [
      () => pick(rng, INTERESTING_INTEGERS), () => current + 1n, () => current - 1n, () => current * 2n, () => current << 16n,
      () => BigInt(out.length), () => BigInt(out.length) + 1n, () => BigInt(rng.nextUint32()), () => -current,
    ])();
    writeField(out, field, value);
    return { bytes: out, step: `lie@${field.at}/${field.bytes}${field.little ? 'le' : 'be'}=${BigInt.asUintN(8 * field.bytes, value)}` };
  },
  (rng, bytes, seed) => {
    const at = position(rng, seed, bytes.length);
    const extra = rng.int(2) === 0 ? randomBytes(rng, 1 + rng.int(16)) : new Uint8Array([pick(rng, INTERESTING_BYTES)]);
    return { bytes: concat(bytes.subarray(0, at), extra, bytes.subarray(at)), step: `insert${extra.length}@${at}` };
  },
  (rng, bytes, seed) => {
    const at = position(rng, seed, bytes.length);
    const n = 1 + rng.int(rng.int(2) === 0 ? 4 : 64);
    return { bytes: concat(bytes.subarray(0, at), bytes.subarray(at + n)), step: `delete${n}@${at}` };
  },
  (rng, bytes, seed) => {
    const at = position(rng, seed, bytes.length);
    const n = 1 + rng.int(64);
    return { bytes: concat(bytes.subarray(0, at + n), bytes.subarray(at)), step: `repeat${n}@${at}` };
  },
  (rng, bytes) => {
    const extra = randomBytes(rng, 1 + rng.int(64));
    return { bytes: concat(bytes, extra), step: `append${extra.length}` };
  },
];

/** A number of the text replaced, a quoted string replaced, or characters deleted, inserted or repeated. */
function mutateText(rng: Random, text: string, json: boolean): { text: string; step: string } {
  if (json && rng.int(3) !== 0) {
    try {
      const mutated = mutateJson(rng, JSON.parse(text) as Json);
      return { text: JSON.stringify(mutated.value), step: mutated.step };
    } catch {
      // Not JSON any more (an earlier textual mutation): mutate it as text.
    }
  }
  const tokens = (pattern: RegExp): RegExpMatchArray[] => [...text.matchAll(pattern)];
  const replace = (m: RegExpMatchArray, by: string): string => text.slice(0, m.index) + by + text.slice(m.index! + m[0].length);
  const kind = rng.int(6);
  if (kind <= 1) {
    const numbers = tokens(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g);
    if (numbers.length > 0) {
      const m = pick(rng, numbers);
      const by = pick(rng, INTERESTING_NUMBERS);
      return { text: replace(m, by), step: `number@${m.index}=${by}` };
    }
  }
  if (kind === 2) {
    const strings = tokens(/"(?:[^"\\]|\\.)*"|'[^']*'/g);
    if (strings.length > 0) {
      const m = pick(rng, strings);
      const quote = m[0][0]!;
      const by = `${quote}${pick(rng, INTERESTING_STRINGS)}${quote}`;
      return { text: replace(m, by), step: `string@${m.index}` };
    }
  }
  const at = rng.int(text.length + 1);
  const n = 1 + rng.int(8);
  if (kind === 3) return { text: text.slice(0, at) + text.slice(at + n), step: `cut${n}@${at}` };
  if (kind === 4) return { text: text.slice(0, at) + text.slice(at, at + n) + text.slice(at), step: `double${n}@${at}` };
  const c = pick(rng, [...TEXT_CHARS]);
  return { text: text.slice(0, at) + c + text.slice(at), step: `char@${at}=${JSON.stringify(c)}` };
}

/** One node of a JSON value replaced, deleted or added (a string holding JSON, as a checkpoint's state, is mutated inside). */
function mutateJson(rng: Random, root: Json): { value: Json; step: string } {
  const nodes: { parent: Json[] | { [key: string]: Json } | null; key: string | number; value: Json; path: string }[] = [];
  const walk = (value: Json, parent: Json[] | { [key: string]: Json } | null, key: string | number, path: string): void => {
    nodes.push({ parent, key, value, path });
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, value, i, `${path}[${i}]`));
    else if (value !== null && typeof value === 'object') for (const k of Object.keys(value)) walk(value[k]!, value, k, `${path}.${k}`);
  };
  const copy = structuredClone(root);
  walk(copy, null, '', '$');
  const node = pick(rng, nodes);
  const set = (v: Json): Json => {
    if (node.parent === null) return v;
    if (Array.isArray(node.parent)) node.parent[node.key as number] = v;
    else define(node.parent, String(node.key), v);
    return copy;
  };
  const op = rng.int(10);
  if (typeof node.value === 'string' && /^[[{]/.test(node.value) && op < 6) {
    try {
      const inner = mutateJson(rng, JSON.parse(node.value) as Json);
      return { value: set(JSON.stringify(inner.value)), step: `${node.path}:${inner.step}` };
    } catch {
      // Not JSON inside: replace it below.
    }
  }
  if (op === 0 && node.parent !== null) {
    if (Array.isArray(node.parent)) node.parent.splice(node.key as number, 1);
    else delete node.parent[node.key];
    return { value: copy, step: `delete ${node.path}` };
  }
  if (op === 1 && node.value !== null && typeof node.value === 'object' && !Array.isArray(node.value)) {
    const key = pick(rng, ['__proto__', 'constructor', 'extra', ...Object.keys(node.value)]);
    define(node.value, key, pick(rng, INTERESTING_JSON));
    return { value: copy, step: `add ${node.path}.${key}` };
  }
  if (op === 2 && typeof node.value === 'number') {
    const v = pick(rng, [node.value + 1, node.value - 1, -node.value, node.value * 1000, node.value * 1e9, node.value / 3]);
    return { value: set(v), step: `${node.path}=${v}` };
  }
  if (op === 3 && Array.isArray(node.value)) {
    const grown = [...node.value, ...node.value];
    return { value: set(grown), step: `double ${node.path}` };
  }
  const v = pick(rng, INTERESTING_JSON);
  return { value: set(structuredClone(v)), step: `${node.path}=${JSON.stringify(v).slice(0, 20)}` };
}

/** A mutant of `seed`: the empty input, garbage, a prefix and garbage, or one to three mutations of its bytes, its text or its plain form. */
export function mutate(rng: Random, seed: Seed): Mutant {
  const r = rng.int(100);
  if (r < 2) return { bytes: new Uint8Array(0), steps: ['empty'] };
  if (r < 5) {
    const n = rng.int(300);
    return { bytes: randomBytes(rng, n), steps: [`garbage${n}`] };
  }
  if (r < 7) {
    const n = rng.int(seed.bytes.length);
    return { bytes: concat(seed.bytes.subarray(0, n), randomBytes(rng, rng.int(64))), steps: [`prefix${n}+garbage`] };
  }
  let bytes = seed.bytes;
  const steps: string[] = [];
  let rounds = 1 + (rng.int(4) === 0 ? rng.int(3) : 0);
  if (seed.plain !== undefined && rng.int(2) === 0) {
    const inner = mutate(rng, seed.plain.seed);
    bytes = seed.plain.wrap(inner.bytes);
    steps.push(`plain(${inner.steps.join(' ')})`);
    rounds = rng.int(5) === 0 ? 1 : 0;
  } else if (seed.text !== undefined && rng.int(5) < 2) {
    let text = seed.text.value;
    for (let k = 0; k < rounds; k++) {
      const m = mutateText(rng, text, seed.text.json);
      text = m.text;
      steps.push(m.step);
    }
    bytes = seed.text.rebuild(text);
    rounds = rng.int(5) === 0 ? 1 : 0;
  }
  for (let k = 0; k < rounds; k++) {
    const m = pick(rng, BYTE_MUTATIONS)(rng, bytes, seed);
    bytes = m.bytes;
    steps.push(m.step);
  }
  return { bytes, steps };
}

// ---- the judge and the runners ------------------------------------------------------------------

/** A reader under test: how to draw a case, how to call it, and what a valid result is. */
export interface Reader<I, R> {
  name: string;
  /** Cases CI runs (test/fuzz.test.ts). */
  ciCases: number;
  /** One case's input from its own generator. */
  generate(rng: Random): { input: I; steps: string[]; bytes: Uint8Array };
  call(input: I): R | Promise<R>;
  /** Why an accepted result is not valid, or null. */
  check(result: R): string | null;
  /** The most array-buffer memory one call may add, in bytes (default 16 MiB + 64 times the input). */
  memoryBudget?(bytes: Uint8Array): number;
}

export interface Failure {
  reader: string;
  /** The arguments of npm run fuzz that replay it. */
  replay: string;
  problem: string;
  steps: string[];
  length: number;
  hex: string;
}

export interface Report {
  reader: string;
  cases: number;
  accepted: number;
  rejected: number;
  failures: Failure[];
  seconds: number;
  /** A replayed case (--case-seed): its mutations, input and outcome. */
  replay?: string;
}

/** The longest one call may take. */
export const MAX_MILLIS = 1000;
/** The longest message a VaekitError may have: one sentence, not a dump of the file. */
export const MAX_MESSAGE = 600;

/** One call judged: what is wrong with it (null when nothing), whether it returned, and what it did. */
export async function judge<I, R>(reader: Reader<I, R>, input: I, bytes: Uint8Array): Promise<{ problem: string | null; accepted: boolean; outcome: string }> {
  const budget = reader.memoryBudget?.(bytes) ?? 16 * 2 ** 20 + 64 * bytes.length;
  const before = process.memoryUsage().arrayBuffers;
  const start = performance.now();
  let problem: string | null = null;
  let accepted = false;
  let outcome = 'returned a valid result';
  try {
    const result = await reader.call(input);
    accepted = true;
    problem = reader.check(result);
    if (problem !== null) problem = `returned an invalid result: ${problem}`;
  } catch (err) {
    outcome = `threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
    if (!(err instanceof VaekitError)) {
      problem = outcome.slice(0, 400);
    } else if (/[\r\n]/.test(err.message) || err.message.length > MAX_MESSAGE || !/[.)]$/.test(err.message)) {
      problem = `threw a VaekitError that is not one short sentence (${err.message.length} characters): ${JSON.stringify(err.message.slice(0, 300))}`;
    }
  }
  const millis = performance.now() - start;
  const grown = process.memoryUsage().arrayBuffers - before;
  if (problem === null && millis > MAX_MILLIS) problem = `took ${millis.toFixed(0)} ms`;
  if (problem === null && grown > budget) problem = `grew array-buffer memory by ${(grown / 2 ** 20).toFixed(1)} MiB for a ${bytes.length}-byte input`;
  return { problem, accepted, outcome };
}

/** Counts a judged call in the report; returns it. */
function tally<J extends { accepted: boolean }>(report: Report, judged: J): J {
  report.cases++;
  if (judged.accepted) report.accepted++;
  else report.rejected++;
  return judged;
}

/** The generator of case `index` of a run seeded `seed`. */
export function caseSeed(seed: number, index: number): number {
  return mix32((seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0);
}

function hexPrefix(bytes: Uint8Array, n = 48): string {
  return Buffer.from(bytes.subarray(0, n)).toString('hex') + (bytes.length > n ? '...' : '');
}

/** A failure in one line: what went wrong and how to replay it. */
export function describeFailure(f: Failure): string {
  return `${f.reader}: ${f.problem} [replay: npm run fuzz -- ${f.replay}; ` +
    `mutations: ${f.steps.join(' ') || 'none'}; input ${f.length} bytes: ${f.hex}]`;
}

/** Runs `cases` cases (or as many as fit in `seconds`), or the one case `only` (a case seed). */
export async function runFuzz<I, R>(reader: Reader<I, R>, options: { seed: number; cases?: number; seconds?: number; only?: number }): Promise<Report> {
  const report: Report = { reader: reader.name, cases: 0, accepted: 0, rejected: 0, failures: [], seconds: 0 };
  const start = performance.now();
  const limit = options.only !== undefined ? 1 : options.cases ?? Infinity;
  const deadline = options.seconds !== undefined ? start + options.seconds * 1000 : Infinity;
  for (let i = 0; i < limit && performance.now() < deadline; i++) {
    const s = options.only ?? caseSeed(options.seed, i);
    const { input, steps, bytes } = reader.generate(new Random(s));
    const { problem, outcome } = tally(report, await judge(reader, input, bytes));
    if (problem !== null) report.failures.push({ reader: reader.name, replay: `--reader ${reader.name} --case-seed ${s}`, problem, steps, length: bytes.length, hex: hexPrefix(bytes) });
    if (options.only !== undefined) report.replay = `mutations: ${steps.join(' ') || 'none'}; input ${bytes.length} bytes: ${hexPrefix(bytes)}; ${outcome}`;
  }
  report.seconds = (performance.now() - start) / 1000;
  return report;
}

/**
 * A fast-check property run as a reader: inputs drawn by `arbitrary` (structured: headers with
 * arbitrary field values, honestly framed), judged as the mutation cases are; a failure reports
 * fast-check's seed and path and the shrunk counterexample.
 */
export async function runProperty<I, R>(reader: Reader<I, R>, arbitrary: fc.Arbitrary<{ input: I; bytes: Uint8Array }>,
  options: { seed: number; cases?: number; seconds?: number }): Promise<Report> {
  const report: Report = { reader: reader.name, cases: 0, accepted: 0, rejected: 0, failures: [], seconds: 0 };
  const start = performance.now();
  const property = fc.asyncProperty(arbitrary, async ({ input, bytes }) => {
    const { problem } = tally(report, await judge(reader, input, bytes));
    if (problem !== null) throw new Error(problem);
  });
  const details = await fc.check(property, {
    seed: options.seed, numRuns: options.cases ?? 1e9, ...(options.seconds !== undefined ? { interruptAfterTimeLimit: options.seconds * 1000 } : {}),
  });
  if (details.failed && details.counterexample !== null) {
    const [{ bytes }] = details.counterexample;
    const reason = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    report.failures.push({
      reader: reader.name, replay: `--reader ${reader.name} --seed ${details.seed} --cases ${details.numRuns}`, problem: `${reason} (fast-check path "${details.counterexamplePath}")`,
      steps: ['fast-check'], length: bytes.length, hex: hexPrefix(bytes),
    });
  }
  report.seconds = (performance.now() - start) / 1000;
  return report;
}

// ---- valid seeds, built by vaekit's encoders -------------------------------------------------

function values(n: number, scale = 1): number[] {
  return Array.from({ length: n }, (_, i) => ((i * 37) % 11) / 10 * scale);
}

function idxSeed(array: IdxArray, label: string): Seed {
  const bytes = encodeIdx(array);
  const header = 4 + 4 * array.shape.length;
  return {
    label, bytes, cuts: [3, 4, header - 1, header, header + 1],
    fields: [{ at: 2, bytes: 1, little: false }, { at: 3, bytes: 1, little: false }, ...array.shape.map((_, d): Field => ({ at: 4 + 4 * d, bytes: 4, little: false }))],
  };
}

/** A gzip wrapping of a seed: its stream mutated, or its plain bytes mutated and compressed again (a lying header inside). */
function gzipSeed(plain: Seed): Seed {
  const bytes = new Uint8Array(gzipSync(plain.bytes));
  return {
    label: `${plain.label}.gz`, bytes, cuts: [2, 10, bytes.length - 8, bytes.length - 4],
    fields: [{ at: 3, bytes: 1, little: true }, { at: bytes.length - 8, bytes: 4, little: true }, { at: bytes.length - 4, bytes: 4, little: true }],
    plain: { seed: plain, wrap: (b) => new Uint8Array(gzipSync(b)) },
  };
}

export function idxSeeds(): Seed[] {
  const raw = [
    idxSeed({ dtype: 'uint8', shape: [3, 4, 5], data: Uint8Array.from(values(60, 2550)) }, 'uint8[3,4,5]'),
    idxSeed({ dtype: 'uint8', shape: [6], data: Uint8Array.from([0, 1, 2, 9, 4, 7]) }, 'labels uint8[6]'),
    idxSeed({ dtype: 'float32', shape: [2, 3, 2], data: Float32Array.from(values(12)) }, 'float32[2,3,2]'),
    idxSeed({ dtype: 'int8', shape: [4, 1], data: Int8Array.from([-1, 2, -3, 4]) }, 'int8[4,1]'),
    idxSeed({ dtype: 'int16', shape: [5], data: Int16Array.from([1, -2, 300, -400, 5]) }, 'int16[5]'),
    idxSeed({ dtype: 'int32', shape: [2, 2], data: Int32Array.from([1, -2, 70000, -5]) }, 'int32[2,2]'),
    idxSeed({ dtype: 'float64', shape: [1, 2, 1, 2], data: Float64Array.from(values(4)) }, 'float64[1,2,1,2]'),
  ];
  return [...raw, ...raw.slice(0, 3).map(gzipSeed)];
}

/** Safetensors bytes with this header text (not padded) and data: the honest frame around a mutated header. */
export function safetensorsFrame(header: string, data: Uint8Array): Uint8Array {
  const json = Buffer.from(header, 'utf8');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** A safetensors seed: its 8-byte header size a field, its JSON header a text framed again when mutated. */
function safetensorsSeed(bytes: Uint8Array, label: string): Seed {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = Number(view.getBigUint64(0, true));
  const header = Buffer.from(bytes.subarray(8, 8 + headerBytes)).toString('utf8').trimEnd();
  const data = bytes.slice(8 + headerBytes);
  return {
    label, bytes, cuts: [8, 9, 8 + headerBytes - 1, 8 + headerBytes, 8 + headerBytes + 4],
    fields: [{ at: 0, bytes: 8, little: true }, { at: 0, bytes: 4, little: true }, { at: 4, bytes: 4, little: true }],
    text: { value: header, json: true, rebuild: (text) => safetensorsFrame(text, data) },
  };
}

function tensor(shape: number[]): NamedTensor {
  return { shape, data: Float32Array.from(values(shape.reduce((a, b) => a * b, 1))) };
}

export function safetensorsSeeds(): Seed[] {
  return [
    safetensorsSeed(encodeSafetensors({ 'enc.0.weight': tensor([2, 3]), 'enc.0.bias': tensor([3]), empty: tensor([0, 4]), scalar: tensor([]) }, { format: 'vaekit', preset: 'seed' }), 'four tensors'),
    safetensorsSeed(encodeSafetensors({ w: tensor([4, 2]) }), 'one tensor'),
    safetensorsSeed(encodeSafetensors({}, { only: 'metadata' }), 'metadata only'),
  ];
}

/** NPY bytes with this header text and data, framed honestly for the version (the frame around a mutated header). */
export function npyFrame(header: string, data: Uint8Array, major: number): Uint8Array {
  const text = Buffer.from(header, major === 3 ? 'utf8' : 'latin1');
  const version = major === 1 && text.length > 0xffff ? 2 : major;
  const prefix = version === 1 ? 10 : 12;
  const out = new Uint8Array(prefix + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(text, prefix);
  out.set(data, prefix + text.length);
  return out;
}

function npySeed(array: NpyArray, label: string, major = 1): Seed {
  const saved = encodeNpy(array);
  const headerLength = new DataView(saved.buffer).getUint16(8, true);
  const header = Buffer.from(saved.subarray(10, 10 + headerLength)).toString('latin1');
  const data = saved.slice(10 + headerLength);
  const bytes = major === 1 ? saved : npyFrame(header, data, major);
  const prefix = major === 1 ? 10 : 12;
  const dataStart = bytes.length - data.length;
  return {
    label: `${label} v${major}`, bytes, cuts: [6, 8, prefix, dataStart - 1, dataStart, dataStart + 1],
    fields: [{ at: 6, bytes: 1, little: true }, { at: 7, bytes: 1, little: true }, { at: 8, bytes: major === 1 ? 2 : 4, little: true }],
    text: { value: header, json: false, rebuild: (text) => npyFrame(text, data, major) },
  };
}

export function npySeeds(): Seed[] {
  return [
    npySeed({ dtype: 'float32', shape: [2, 3], data: Float32Array.from(values(6)) }, 'float32[2,3]'),
    npySeed({ dtype: 'uint8', shape: [2, 2, 2], data: Uint8Array.from(values(8, 2550)) }, 'uint8[2,2,2]'),
    npySeed({ dtype: 'int64', shape: [3], data: BigInt64Array.from([1n, -2n, 3n]) }, 'int64[3]'),
    npySeed({ dtype: 'uint16', shape: [2, 1, 2, 1], data: Uint16Array.from([1, 2, 3, 4]) }, 'uint16[2,1,2,1]', 2),
    npySeed({ dtype: 'float64', shape: [], data: Float64Array.from([0.25]) }, 'float64 scalar', 3),
    npySeed({ dtype: 'int32', shape: [0, 3], data: new Int32Array(0) }, 'int32[0,3]'),
  ];
}

/** A text file's seed: its text mutated as text, its bytes as bytes. */
function textSeed(text: string, label: string): Seed {
  const bytes = new Uint8Array(Buffer.from(text, 'utf8'));
  const newline = text.indexOf('\n');
  return { label, bytes, fields: [], cuts: [newline, newline + 1, text.length - 1], text: { value: text, json: false, rebuild: (t) => new Uint8Array(Buffer.from(t, 'utf8')) } };
}

export interface CsvSeed {
  seed: Seed;
  extension: '.csv' | '.tsv';
  options: CsvOptions;
}

export function csvSeeds(): CsvSeed[] {
  return [
    { seed: textSeed('a,b,c\n1,2,3\n4.5,-6e-3,7\n0,0,.5\n', 'numbers'), extension: '.csv', options: {} },
    { seed: textSeed('x,y,label\n1,2,cat\n3,4,dog\n5,6,cat\n', 'text labels'), extension: '.csv', options: { labelColumn: 'label' } },
    { seed: textSeed('x\ty\tclass\r\n1\t2\t0\r\n3\t4\t1\r\n', 'tsv numeric labels'), extension: '.tsv', options: { labelColumn: 'class' } },
    { seed: textSeed('\ufeff"a","b, c"\n"1",2\n" 3 ","4"\n', 'quoted with a BOM'), extension: '.csv', options: {} },
  ];
}

export interface BundleSeed {
  label: string;
  config: string;
  weights: Seed;
}

function bundleSeed(config: VaeConfig, label: string, data?: DataInfo): BundleSeed {
  const vae = new Vae(config, { seed: 3 });
  const { config: text, weights } = encodeBundle(vae, { epochs: 1, loss: 'elbo' }, data);
  return { label, config: text, weights: safetensorsSeed(weights, `${label} weights`) };
}

export function bundleSeeds(): BundleSeed[] {
  const small = { inputShape: [4, 4, 1], latent: 2, encoderHidden: [3], decoderHidden: [3] };
  return [
    bundleSeed(presetConfig('seed', small), 'dense image, no data section'),
    bundleSeed(presetConfig('seed', { ...small, prior: 'mog', priorComponents: 2, classes: 3 }), 'conditional mog',
      { shape: [4, 4, 1], classNames: ['a', 'b', 'c'], standardization: null, source: 'images/' }),
    bundleSeed(presetConfig('conv', { ...small, convChannels: [2] }), 'conv', { shape: [4, 4, 1], classNames: null, standardization: null, source: 'x.idx' }),
    bundleSeed(presetConfig('seed', { ...small, inputShape: [3], likelihood: 'gaussian', gaussianLearnedVariance: true }), 'features',
      { shape: [3], classNames: null, standardization: { mean: [0, 1, 2], std: [1, 0.5, 2] }, featureNames: ['a', 'b', 'c'], source: 'table.csv' }),
  ];
}

/** Checkpoint files written by saveCheckpoint (with and without early stopping), as seeds. */
export function checkpointSeeds(work: string): Seed[] {
  const n = 6;
  const floats = (scale: number): Float32Array => Float32Array.from(values(n, scale));
  const state = (best: boolean): Checkpoint['state'] => ({
    epoch: 1, stepInEpoch: 2, steps: 7, shuffleAtEpochStart: [1, 2, 3, 4], sample: [9, 10, 11, 4294967295],
    totals: { loss: 3.5, recon: 3, kl: 0.5, seen: 64 },
    history: [{ epoch: 1, loss: 4.5, recon: 4, kl: 0.5, beta: 1, seconds: 0.25, imagesPerSecond: 1000 }],
    lrScale: 1, warnedCollapse: false, best: best ? { epoch: 1, loss: 4.25 } : null,
  });
  return [false, true].map((best, k) => {
    const dir = join(work, `checkpoint-seed-${k}`);
    const path = saveCheckpoint(dir, {
      state: state(best), params: floats(1), adamM: floats(0.1), adamV: floats(0.01), bestParams: best ? floats(2) : null, run: { preset: 'seed', epochs: 3 },
    });
    return safetensorsSeed(new Uint8Array(readFileSync(path)), best ? 'with early stopping' : 'plain');
  });
}

const PNG_SIGNATURE = 8;

/** The PNG with every chunk's CRC made right again, so that a mutation inside a chunk reaches the decoder. */
export function fixPngCrcs(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  for (let at = PNG_SIGNATURE; at + 12 <= out.length;) {
    const length = view.getUint32(at, false);
    if (at + 12 + length > out.length) break;
    view.setUint32(at + 8 + length, crc32(out.subarray(at + 4, at + 8 + length)), false);
    at += 12 + length;
  }
  return out;
}

/** A PNG seed: its IHDR's width, height, depth, colour type and interlace method and its chunk lengths as fields. */
function pngSeed(bytes: Uint8Array, label: string): Seed {
  const fields: Field[] = [
    { at: 16, bytes: 4, little: false }, { at: 20, bytes: 4, little: false }, { at: 24, bytes: 1, little: false },
    { at: 25, bytes: 1, little: false }, { at: 28, bytes: 1, little: false },
  ];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cuts: number[] = [];
  for (let at = PNG_SIGNATURE; at + 12 <= bytes.length; at += 12 + view.getUint32(at, false)) {
    fields.push({ at, bytes: 4, little: false });
    cuts.push(at, at + 8);
  }
  const seed: Seed = { label, bytes, fields, cuts };
  return { ...seed, plain: { seed, wrap: fixPngCrcs } };
}

/** A JPEG seed: its frame's height and width and every segment's length as fields. */
function jpegSeed(bytes: Uint8Array, label: string): Seed {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Field[] = [];
  const cuts: number[] = [2];
  for (let at = 2; at + 4 <= bytes.length && bytes[at] === 0xff && bytes[at + 1] !== 0xda; at += 2 + view.getUint16(at + 2, false)) {
    fields.push({ at: at + 2, bytes: 2, little: false });
    cuts.push(at, at + 4);
    if (bytes[at + 1] === 0xc0 || bytes[at + 1] === 0xc2) fields.push({ at: at + 5, bytes: 2, little: false }, { at: at + 7, bytes: 2, little: false });
  }
  return { label, bytes, fields, cuts };
}

/** A WebP seed: the RIFF size, the chunk's size and the bytes that hold the image's sides as fields. */
function webpSeed(bytes: Uint8Array, label: string): Seed {
  return { label, bytes, fields: [4, 16, 21, 23, 26, 28].map((at): Field => ({ at, bytes: 4, little: true })), cuts: [12, 20, 30] };
}

/** An image seed's file name and bytes. */
export interface ImageSeed {
  seed: Seed;
  extension: string;
}

export async function imageSeeds(): Promise<ImageSeed[]> {
  const rgb = Buffer.from(values(6 * 5 * 3, 2550).map((v) => Math.round(v) % 256));
  const image = (): Sharp => sharp(rgb, { raw: { width: 6, height: 5, channels: 3 } });
  const encoded = async (s: Sharp): Promise<Uint8Array> => new Uint8Array(await s.toBuffer());
  const grey = new pngjs.PNG({ width: 3, height: 4, colorType: 0, inputColorType: 0, bitDepth: 16, inputHasAlpha: false });
  grey.data = Buffer.from(values(3 * 4 * 2, 2550).map((v) => Math.round(v) % 256));
  return [
    { seed: pngSeed(await encoded(image().png()), 'png rgb'), extension: '.png' },
    { seed: pngSeed(await encoded(image().png({ progressive: true })), 'png interlaced'), extension: '.png' },
    { seed: pngSeed(await encoded(image().png({ palette: true })), 'png palette'), extension: '.png' },
    { seed: pngSeed(new Uint8Array(pngjs.PNG.sync.write(grey, { colorType: 0, inputColorType: 0, bitDepth: 16, inputHasAlpha: false })), 'png grey 16-bit'), extension: '.png' },
    { seed: jpegSeed(await encoded(image().jpeg()), 'jpeg'), extension: '.jpg' },
    { seed: jpegSeed(await encoded(image().jpeg({ progressive: true })), 'jpeg progressive'), extension: '.jpeg' },
    { seed: webpSeed(await encoded(image().webp({ lossless: true })), 'webp lossless'), extension: '.webp' },
    { seed: webpSeed(await encoded(image().webp({ quality: 50 })), 'webp lossy'), extension: '.webp' },
  ];
}

// ---- the readers ------------------------------------------------------------------------------

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Why an array result is not valid (its data does not match its shape), or null. */
function checkArray(shape: readonly number[], length: number): string | null {
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) return `shape [${shape.join(', ')}]`;
  return product(shape) === length ? null : `shape [${shape.join(', ')}] with ${length} values`;
}

/** Why a Dataset is not valid, or null. */
function checkDataset(set: Dataset): string | null {
  if (set.count < 1 || set.values!.length !== set.count * set.size) return `${set.count} examples of ${set.size} in ${set.values!.length} values`;
  if (set.labels !== null && set.labels.length !== set.count) return `${set.labels.length} labels for ${set.count} examples`;
  for (let i = 0; i < set.values!.length; i++) if (!Number.isFinite(set.values![i]!)) return `value ${i} is ${set.values![i]}`;
  return null;
}

/** A case drawn from one of `seeds`, mutated. */
function mutantOf(rng: Random, seeds: readonly Seed[]): { input: Uint8Array; steps: string[]; bytes: Uint8Array } {
  const seed = pick(rng, seeds);
  const m = mutate(rng, seed);
  return { input: m.bytes, steps: [seed.label, ...m.steps], bytes: m.bytes };
}

/** A fresh folder under `work` for one case's files. */
function caseFolder(work: string): string {
  return mkdtempSync(join(work, 'case-'));
}

/** Runs `load` on files written to a fresh folder, removing it afterwards. */
async function withFiles<R>(work: string, files: Record<string, Uint8Array>, load: (dir: string) => R | Promise<R>): Promise<R> {
  const dir = caseFolder(work);
  try {
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
    return await load(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The memory a gzip-compressed input justifies: a stream inflates to at most about 1032 times its size. */
function gzipBudget(bytes: Uint8Array): number {
  return 16 * 2 ** 20 + 1100 * bytes.length;
}

export function idxReader(): Reader<Uint8Array, IdxArray> {
  const seeds = idxSeeds();
  return {
    name: 'idx', ciCases: 5000,
    generate: (rng) => mutantOf(rng, seeds),
    call: (bytes) => parseIdx(bytes, 'fuzz.idx'),
    check: (r) => checkArray(r.shape, r.data.length) ?? (r.shape.includes(0) ? 'a zero dimension' : null),
    memoryBudget: gzipBudget,
  };
}

export function safetensorsReader(): Reader<Uint8Array, ReturnType<typeof decodeSafetensors>> {
  const seeds = safetensorsSeeds();
  return {
    name: 'safetensors', ciCases: 5000,
    generate: (rng) => mutantOf(rng, seeds),
    call: (bytes) => decodeSafetensors(bytes, 'fuzz.safetensors'),
    check: (r) => {
      for (const [name, t] of Object.entries(r.tensors)) {
        const bad = checkArray(t.shape, t.data.length);
        if (bad !== null) return `tensor ${name}: ${bad}`;
      }
      return Object.values(r.metadata).every((v) => typeof v === 'string') ? null : 'metadata that is not strings';
    },
  };
}

export function npyReader(): Reader<Uint8Array, NpyArray> {
  const seeds = npySeeds();
  return {
    name: 'npy', ciCases: 5000,
    generate: (rng) => mutantOf(rng, seeds),
    call: (bytes) => parseNpy(bytes, 'fuzz.npy'),
    check: (r) => checkArray(r.shape, r.data.length),
  };
}

export function csvReader(work: string): Reader<{ bytes: Uint8Array; extension: string; options: CsvOptions }, Dataset> {
  const seeds = csvSeeds();
  return {
    name: 'csv', ciCases: 1000,
    generate: (rng) => {
      const { seed, extension, options } = pick(rng, seeds);
      const m = mutate(rng, seed);
      return { input: { bytes: m.bytes, extension, options }, steps: [seed.label, ...m.steps], bytes: m.bytes };
    },
    call: ({ bytes, extension, options }) => withFiles(work, { [`table${extension}`]: bytes }, (dir) => loadCsv(join(dir, `table${extension}`), options)),
    check: checkDataset,
  };
}

export function bundleReader(): Reader<{ config: string; weights: Uint8Array }, Bundle> {
  const seeds = bundleSeeds();
  return {
    name: 'bundle', ciCases: 2000,
    generate: (rng) => {
      const seed = pick(rng, seeds);
      const what = rng.int(10);
      const steps = [seed.label];
      let config = seed.config;
      let weights = seed.weights.bytes;
      if (what < 6) {
        for (let k = 0, rounds = 1 + rng.int(2); k < rounds; k++) {
          const m = mutateText(rng, config, true);
          config = m.text;
          steps.push(`config ${m.step}`);
        }
      }
      if (what >= 4) {
        const m = mutate(rng, seed.weights);
        weights = m.bytes;
        steps.push(...m.steps.map((s) => `weights ${s}`));
      }
      const bytes = concat(Buffer.from(config, 'utf8'), weights);
      return { input: { config, weights }, steps, bytes };
    },
    call: ({ config, weights }) => decodeBundle(config, weights, { config: 'model/config.json', weights: 'model/weights.safetensors' }),
    check: (b) => {
      if (!b.vae.params.values.every(Number.isFinite)) return 'non-finite weights';
      if (typeof b.training !== 'object' || b.training === null || Array.isArray(b.training)) return `training ${JSON.stringify(b.training)}`;
      if (b.data.shape.join() !== b.vae.config.inputShape.join()) return `data shape [${b.data.shape.join(', ')}] for a model of [${b.vae.config.inputShape.join(', ')}]`;
      return null;
    },
  };
}

export function checkpointReader(work: string): Reader<Uint8Array, Checkpoint> {
  const seeds = checkpointSeeds(work);
  return {
    name: 'checkpoint', ciCases: 1500,
    generate: (rng) => mutantOf(rng, seeds),
    call: (bytes) => withFiles(work, { 'checkpoint-000000007.safetensors': bytes }, (dir) => readCheckpoint(join(dir, 'checkpoint-000000007.safetensors'))),
    check: (c) => (c.adamM.length === c.params.length && c.adamV.length === c.params.length ? null : 'moments unlike the parameters'),
  };
}

/** A pair of files (data and labels) with one of them mutated. */
function mutantPair(rng: Random, pairs: readonly [Seed, Seed][]): { input: { data: Uint8Array; labels: Uint8Array }; steps: string[]; bytes: Uint8Array } {
  const [data, labels] = pick(rng, pairs);
  const which = rng.int(10) < 7 ? 0 : 1;
  const m = mutate(rng, which === 0 ? data : labels);
  const input = which === 0 ? { data: m.bytes, labels: labels.bytes } : { data: data.bytes, labels: m.bytes };
  return { input, steps: [`${which === 0 ? data.label : labels.label} (${which === 0 ? 'data' : 'labels'})`, ...m.steps], bytes: m.bytes };
}

export function npyDatasetReader(work: string): Reader<{ data: Uint8Array; labels: Uint8Array }, Dataset> {
  const labels = npySeed({ dtype: 'int64', shape: [2], data: BigInt64Array.from([0n, 3n]) }, 'labels int64[2]');
  const pairs: [Seed, Seed][] = [
    [npySeed({ dtype: 'uint8', shape: [2, 3, 2], data: Uint8Array.from(values(12, 2550)) }, 'images uint8[2,3,2]'), labels],
    [npySeed({ dtype: 'float32', shape: [2, 2, 2, 3], data: Float32Array.from(values(24)) }, 'images float32[2,2,2,3]'), labels],
    [npySeed({ dtype: 'float64', shape: [2, 3], data: Float64Array.from(values(6, 100)) }, 'features float64[2,3]'), labels],
    [npySeed({ dtype: 'int16', shape: [2, 2, 2], data: Int16Array.from([0, 1, 255, 3, 4, 5, 6, 7]) }, 'images int16[2,2,2]'), labels],
  ];
  return {
    name: 'npy-dataset', ciCases: 800,
    generate: (rng) => mutantPair(rng, pairs),
    call: ({ data, labels: y }) => withFiles(work, { 'x.npy': data, 'y.npy': y }, (dir) => loadNpy(join(dir, 'x.npy'), { labels: join(dir, 'y.npy') })),
    check: checkDataset,
  };
}

export function idxDatasetReader(work: string): Reader<{ data: Uint8Array; labels: Uint8Array }, Dataset> {
  const labels = idxSeed({ dtype: 'uint8', shape: [2], data: Uint8Array.from([1, 0]) }, 'labels uint8[2]');
  const pairs: [Seed, Seed][] = [
    [idxSeed({ dtype: 'uint8', shape: [2, 3, 2], data: Uint8Array.from(values(12, 2550)) }, 'images uint8[2,3,2]'), labels],
    [idxSeed({ dtype: 'float32', shape: [2, 2, 2, 3], data: Float32Array.from(values(24)) }, 'images float32[2,2,2,3]'), labels],
    [gzipSeed(idxSeed({ dtype: 'uint8', shape: [2, 2, 2, 1], data: Uint8Array.from(values(8, 2550)) }, 'images uint8[2,2,2,1]')), gzipSeed(labels)],
  ];
  return {
    name: 'idx-dataset', ciCases: 800,
    generate: (rng) => mutantPair(rng, pairs),
    call: ({ data, labels: y }) => withFiles(work, { 'images.idx': data, 'labels.idx': y }, (dir) => loadIdx(join(dir, 'images.idx'), join(dir, 'labels.idx'))),
    check: checkDataset,
    memoryBudget: gzipBudget,
  };
}

export async function imageFolderReader(work: string): Promise<Reader<{ files: Record<string, Uint8Array>; options: ImageFolderOptions }, Dataset>> {
  const seeds = await imageSeeds();
  return {
    name: 'image-folder', ciCases: 300,
    generate: (rng) => {
      const { seed, extension } = pick(rng, seeds);
      const m = mutate(rng, seed);
      // Alone, or second after a valid image (then it must match its size or be resized).
      const files: Record<string, Uint8Array> = rng.int(3) === 0 ? { [`a${seeds[0]!.extension}`]: seeds[0]!.seed.bytes, [`b${extension}`]: m.bytes } : { [`a${extension}`]: m.bytes };
      const options: ImageFolderOptions = { channels: rng.int(2) === 0 ? 1 : 3, ...(rng.int(3) === 0 ? { imageSize: [5, 7] as const } : {}) };
      return { input: { files, options }, steps: [seed.label, ...m.steps, JSON.stringify(options)], bytes: m.bytes };
    },
    call: ({ files, options }) => withFiles(work, {}, (dir) => {
      const images = join(dir, 'images');
      mkdirSync(images);
      for (const [name, bytes] of Object.entries(files)) writeFileSync(join(images, name), bytes);
      return loadImageFolder(images, options);
    }),
    check: checkDataset,
  };
}

// ---- structured inputs for fast-check --------------------------------------------------------

/** Integers a header field may claim: small ones, and the sizes that overflow something. */
const claimedSize = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom(255, 256, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 60, 1e9) },
);
/** Undefined (the honest value) three times in four, else a value of `arbitrary`. */
function mostlyAbsent<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });
}
/** What a JSON field may hold instead of what it should. */
const jsonAnything: fc.Arbitrary<unknown> = fc.oneof(
  claimedSize, fc.integer({ min: -5, max: -1 }), fc.double(), fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null),
  fc.array(claimedSize, { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 4 }), claimedSize, { maxKeys: 2 }),
);

/** An IDX header with any type code and dimensions, and some data bytes (as many as it needs, give or take a few). */
export function idxArbitrary(): fc.Arbitrary<{ input: Uint8Array; bytes: Uint8Array }> {
  return fc.record({
    code: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e) }, fc.integer({ min: 0, max: 255 })),
    dims: fc.array(fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 5 }) }, claimedSize), { maxLength: 5 }),
    ndims: mostlyAbsent(fc.integer({ min: 0, max: 255 })),
    slack: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.integer({ min: -3, max: 3 })),
    gzip: fc.boolean(),
  }).map(({ code, dims, ndims, slack, gzip }) => {
    const size = { 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 }[code] ?? 1;
    const need = product(dims) * size;
    const header = new Uint8Array(4 + 4 * dims.length);
    header.set([0, 0, code, ndims ?? dims.length]);
    dims.forEach((d, i) => new DataView(header.buffer).setUint32(4 + 4 * i, Math.min(d, 0xffffffff), false));
    const data = new Uint8Array(Math.max(0, (need <= 4096 ? need : 16) + slack));
    const raw = concat(header, data);
    const input = gzip ? new Uint8Array(gzipSync(raw)) : raw;
    return { input, bytes: input };
  });
}

/** A safetensors header of tensors with any dtype, shape and offsets (honest ones mostly), framed honestly, with some data. */
export function safetensorsArbitrary(): fc.Arbitrary<{ input: Uint8Array; bytes: Uint8Array }> {
  const entry = fc.record({
    name: fc.oneof({ weight: 6, arbitrary: fc.string({ maxLength: 6 }) }, fc.constantFrom('__proto__', 'constructor', '__metadata__')),
    dtype: fc.oneof({ weight: 6, arbitrary: fc.constant<unknown>('F32') }, jsonAnything),
    shape: fc.oneof({ weight: 6, arbitrary: fc.array(fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 4 }) }, claimedSize), { maxLength: 3 }) }, jsonAnything),
    offsets: mostlyAbsent(fc.oneof(fc.tuple(claimedSize, claimedSize), fc.array(claimedSize, { maxLength: 3 }), jsonAnything)),
  });
  return fc.record({
    tensors: fc.array(entry, { maxLength: 4 }),
    metadata: fc.option(fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 4 }) }, jsonAnything), { maxKeys: 2 }), { nil: undefined }),
    slack: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.integer({ min: -3, max: 3 })),
  }).map(({ tensors, metadata, slack }) => {
    const header: Record<string, unknown> = {};
    let end = 0;
    for (const { name, dtype, shape, offsets } of tensors) {
      // Honest offsets (the next bytes, as many as the shape needs) unless drawn.
      const need = Array.isArray(shape) ? 4 * product(shape.map(Number)) : 0;
      const honest = Number.isSafeInteger(need) && need <= 4096 ? [end, (end += need)] : [end, end + 4];
      define(header, name, { dtype, shape, data_offsets: offsets ?? honest });
    }
    if (metadata !== undefined) define(header, '__metadata__', metadata);
    const input = safetensorsFrame(JSON.stringify(header), new Uint8Array(Math.max(0, end + slack)));
    return { input, bytes: input };
  });
}

/** A Python-literal text of a value as an NPY header holds it. */
function pythonLiteral(value: unknown): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return `'${value.replace(/[\\']/g, '')}'`;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value).toString() : String(value);
  if (Array.isArray(value)) return `(${value.map(pythonLiteral).join(', ')}${value.length === 1 ? ',' : ''})`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `'${k}': ${pythonLiteral(v)}`).join(', ')}}`;
  return String(value);
}

/** An NPY header dict with any descr, order and shape, framed honestly for its version, with some data (as much as it needs, give or take a few). */
export function npyArbitrary(): fc.Arbitrary<{ input: Uint8Array; bytes: Uint8Array }> {
  const descrs = ['<f4', '>f4', '|u1', '<i8', '>u8', '<f8', '|i1', '<u2', '=i4', '>i2', 'u1', '<f2', '|b1', '<c8', 'O', '<U3', '|f4'];
  return fc.record({
    descr: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...descrs) }, jsonAnything),
    fortran_order: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, fc.constant(true), jsonAnything),
    shape: fc.oneof({ weight: 6, arbitrary: fc.array(fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 5 }) }, claimedSize), { maxLength: 5 }) }, jsonAnything),
    version: fc.constantFrom(1, 2, 3),
    drop: mostlyAbsent(fc.constantFrom('descr', 'fortran_order', 'shape')),
    slack: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.integer({ min: -3, max: 3 })),
  }).map(({ descr, fortran_order, shape, version, drop, slack }) => {
    const dict: Record<string, unknown> = { descr, fortran_order, shape };
    if (drop !== undefined) delete dict[drop];
    const size = typeof descr === 'string' ? Number(descr.at(-1)) || 1 : 1;
    const need = Array.isArray(shape) ? product(shape.map(Number)) * size : 8;
    const data = new Uint8Array(Math.max(0, (need <= 4096 ? need : 16) + slack));
    const bytes = npyFrame(`${pythonLiteral(dict)}\n`, data, version);
    return { input: bytes, bytes };
  });
}

/** A bundle's config with arbitrary values in some model and data fields, beside the seed's weights. */
export function bundleArbitrary(): fc.Arbitrary<{ input: { config: string; weights: Uint8Array }; bytes: Uint8Array }> {
  const seeds = bundleSeeds();
  const modelKeys = ['inputShape', 'latent', 'architecture', 'convChannels', 'encoderHidden', 'decoderHidden', 'activation', 'likelihood',
    'gaussianSigma', 'gaussianLearnedVariance', 'classes', 'prior', 'priorComponents', 'preset', 'imageHeight'];
  const dataKeys = ['shape', 'classNames', 'standardization', 'featureNames', 'source'];
  const changes = (keys: string[]): fc.Arbitrary<Record<string, unknown>> =>
    fc.dictionary(fc.constantFrom(...keys), fc.oneof(jsonAnything, fc.constant(undefined)), { maxKeys: 3 });
  return fc.record({
    seed: fc.integer({ min: 0, max: seeds.length - 1 }),
    model: changes(modelKeys),
    data: fc.oneof(changes(dataKeys), fc.constant(null)),
  }).map(({ seed, model, data }) => {
    const { config: text, weights } = seeds[seed]!;
    const config = JSON.parse(text) as { model: Record<string, unknown>; data?: Record<string, unknown> | null };
    Object.assign(config.model, model);
    if (data === null) config.data = null;
    else if (config.data !== undefined && config.data !== null) Object.assign(config.data, data);
    const configText = JSON.stringify(config);
    return { input: { config: configText, weights: weights.bytes }, bytes: new Uint8Array(Buffer.from(configText, 'utf8')) };
  });
}

// ---- everything, for the test and the script ---------------------------------------------------

/** One row of the fuzzing table: a reader and how to run it for `cases` cases or `seconds`. */
export interface Target {
  name: string;
  /** Mutations of valid seeds, or fast-check's structured inputs (replayed by --seed and --cases, not --case-seed). */
  kind: 'mutations' | 'fast-check';
  ciCases: number;
  run(options: { seed: number; cases?: number; seconds?: number; only?: number }): Promise<Report>;
}

/** Every reader's mutation fuzzer and the fast-check properties, their files under `work`. */
export async function allTargets(work: string): Promise<Target[]> {
  const fuzzed = <I, R>(reader: Reader<I, R>): Target => ({ name: reader.name, kind: 'mutations', ciCases: reader.ciCases, run: (o) => runFuzz(reader, o) });
  const property = <I, R>(reader: Reader<I, R>, name: string, ciCases: number, arbitrary: fc.Arbitrary<{ input: I; bytes: Uint8Array }>): Target => ({
    name, kind: 'fast-check', ciCases, run: (o) => runProperty({ ...reader, name }, arbitrary, o),
  });
  const idx = idxReader();
  const safetensors = safetensorsReader();
  const npy = npyReader();
  const bundle = bundleReader();
  return [
    fuzzed(idx), fuzzed(safetensors), fuzzed(npy), fuzzed(csvReader(work)), fuzzed(bundle), fuzzed(checkpointReader(work)),
    fuzzed(npyDatasetReader(work)), fuzzed(idxDatasetReader(work)), fuzzed(await imageFolderReader(work)),
    property(idx, 'idx-headers', 2000, idxArbitrary()),
    property(safetensors, 'safetensors-headers', 2000, safetensorsArbitrary()),
    property(npy, 'npy-headers', 2000, npyArbitrary()),
    property(bundle, 'bundle-configs', 1000, bundleArbitrary()),
  ];
}
