/**
 * The NPY format of NumPy's np.save and np.load (format versions 1.0, 2.0 and 3.0):
 *
 *   "\x93NUMPY"  major  minor  header length (uint16 LE in 1.0, uint32 LE in 2.0 and 3.0)
 *   header       a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *                padded with spaces and ended by "\n" so the data starts at a multiple of 64 bytes
 *                (latin-1 text in 1.0 and 2.0, UTF-8 in 3.0)
 *   data         the values in C (row-major) order, in the byte order the descr names
 *
 * The header is read by a small parser of Python literals (dicts, tuples, lists, strings, integers,
 * True, False, None), never evaluated. encodeNpy writes exactly the bytes np.save writes.
 */
import { clip, VaekitError } from '../errors.js';
import { closeSync, fstatSync, readSync } from 'node:fs';
import { openOrExplain, readFileOrExplain } from './fs-errors.js';

export type NpyDtype = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64';

export type NpyData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

export interface NpyArray {
  dtype: NpyDtype;
  /** The array's shape; [] for a scalar. */
  shape: number[];
  data: NpyData;
}

interface TypedArrayType {
  new (length: number): NpyData;
  readonly name: string;
}

interface DtypeInfo {
  /** NumPy's type character and size in bytes: 'f' and 4 for '<f4'. */
  kind: 'u' | 'i' | 'f';
  bytes: 1 | 2 | 4 | 8;
  array: TypedArrayType;
}

const DTYPES: Record<NpyDtype, DtypeInfo> = {
  uint8: { kind: 'u', bytes: 1, array: Uint8Array },
  int8: { kind: 'i', bytes: 1, array: Int8Array },
  int16: { kind: 'i', bytes: 2, array: Int16Array },
  uint16: { kind: 'u', bytes: 2, array: Uint16Array },
  int32: { kind: 'i', bytes: 4, array: Int32Array },
  uint32: { kind: 'u', bytes: 4, array: Uint32Array },
  int64: { kind: 'i', bytes: 8, array: BigInt64Array },
  uint64: { kind: 'u', bytes: 8, array: BigUint64Array },
  float32: { kind: 'f', bytes: 4, array: Float32Array },
  float64: { kind: 'f', bytes: 8, array: Float64Array },
};

const DTYPE_NAMES = Object.keys(DTYPES) as NpyDtype[];
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** np.save pads the header so the data starts at a multiple of this. */
const ARRAY_ALIGN = 64;
/** np.save leaves room for the first dimension to grow to this many digits (numpy's GROWTH_AXIS_MAX_DIGITS). */
const GROWTH_AXIS_MAX_DIGITS = 21;
/** The longest header read, as np.load's default max_header_size (only a structured dtype needs more). */
const MAX_HEADER_LENGTH = 10_000;
/** The deepest nesting of the header's literals (np.save's is 2: a tuple in a dict). */
const MAX_DEPTH = 16;

/** The descr NumPy writes for a dtype in this machine's byte order: '<f4', '|u1'. */
export function npyDescr(dtype: NpyDtype): string {
  const { kind, bytes } = DTYPES[dtype];
  return `${bytes === 1 ? '|' : HOST_IS_LITTLE_ENDIAN ? '<' : '>'}${kind}${bytes}`;
}

const SUPPORTED_DESCRS = DTYPE_NAMES.map((d) => npyDescr(d).replace('>', '<')).join(', ');

/** Where an NPY file's values lie and what they are: its header read, its size checked against it. */
export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  /** Whether the values are in the other byte order than this machine's. */
  swap: boolean;
  /** The byte at which the values start. */
  dataStart: number;
}

/**
 * Reads an NPY header from the file's first bytes (`head`, at least the header) and checks that the
 * file's `total` bytes hold exactly the values it announces; `source` names the file in messages.
 */
export function parseNpyHeader(head: Uint8Array, total: number, source: string): NpyHeader {
  if (head.length < 10 || MAGIC.some((b, i) => head[i] !== b)) {
    const zip = head[0] === 0x50 && head[1] === 0x4b;
    throw new VaekitError(
      zip
        ? `${source} is a zip archive (an .npz file?), not an NPY file; save each array on its own with np.save.`
        : `${source} is not an NPY file: it does not start with the NPY magic bytes "\\x93NUMPY".`,
    );
  }
  const major = head[6]!;
  const minor = head[7]!;
  if (major < 1 || major > 3 || minor !== 0) {
    throw new VaekitError(`${source} uses NPY format version ${major}.${minor}, which vaekit does not read (it reads 1.0, 2.0 and 3.0).`);
  }
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  const headerStart = 8 + lengthBytes;
  const headerLength = head.length < headerStart ? Infinity : major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (dataStart > total) {
    throw new VaekitError(`${source} is truncated: it ends after ${total} bytes, inside its NPY header.`);
  }
  if (headerLength > MAX_HEADER_LENGTH) {
    throw new VaekitError(`${source} has an NPY header of ${headerLength} bytes, more than the ${MAX_HEADER_LENGTH} that np.load reads by default.`);
  }
  const text = Buffer.from(head.buffer, head.byteOffset + headerStart, headerLength).toString(major === 3 ? 'utf8' : 'latin1');
  const { dtype, swap, shape } = readHeader(text, source);
  const info = DTYPES[dtype];
  const count = shape.includes(0) ? 0 : shape.reduce((a, b) => a * b, 1); // not Infinity * 0 when the others overflow
  const available = total - dataStart;
  if (available !== count * info.bytes) {
    throw new VaekitError(
      `${source}: the header says [${clip(shape.join(', '))}] = ${count} values of ${info.bytes} byte${info.bytes === 1 ? '' : 's'} ` +
        `but the file holds ${available} bytes of data${available < count * info.bytes ? ' (is it truncated?)' : ''}.`,
    );
  }
  return { dtype, shape, swap, dataStart };
}

/** Bytes per value of a dtype. */
export function npyValueBytes(dtype: NpyDtype): number {
  return DTYPES[dtype].bytes;
}

/** Values of `dtype` from their bytes as stored (`swap`: in the other byte order), copied. */
export function npyValues(bytes: Uint8Array, dtype: NpyDtype, swap: boolean): NpyData {
  const info = DTYPES[dtype];
  const data = new info.array(bytes.length / info.bytes);
  const out = new Uint8Array(data.buffer);
  out.set(bytes);
  if (swap) swapBytes(out, info.bytes);
  return data;
}

/** Parses an NPY file's bytes; `source` names the file in error messages. */
export function parseNpy(bytes: Uint8Array, source: string): NpyArray {
  const { dtype, shape, swap, dataStart } = parseNpyHeader(bytes, bytes.length, source);
  return { dtype, shape, data: npyValues(bytes.subarray(dataStart), dtype, swap) };
}

/**
 * Reads an NPY file's header alone (the values stay on disk: a streamed source reads its rows as it
 * needs them), checked against the file's size.
 */
export function readNpyHeader(path: string): NpyHeader {
  const fd = openOrExplain(path, 'NPY file');
  try {
    const head = new Uint8Array(12 + MAX_HEADER_LENGTH);
    const got = readSync(fd, head, 0, head.length, 0);
    return parseNpyHeader(head.subarray(0, got), fstatSync(fd).size, path);
  } finally {
    closeSync(fd);
  }
}

/** Reads and parses an NPY file. */
export function readNpy(path: string): NpyArray {
  return parseNpy(readFileOrExplain(path, 'NPY file'), path);
}


/** Encodes an array as the exact bytes np.save writes for it (format 1.0, or 2.0 for a huge header). */
export function encodeNpy(array: NpyArray): Uint8Array {
  const { dtype, shape, data } = array;
  const info = DTYPES[dtype];
  if (info === undefined) {
    throw new VaekitError(`Cannot encode an NPY array of the unknown dtype "${String(dtype)}" (known: ${DTYPE_NAMES.join(', ')}).`);
  }
  if (!(data instanceof info.array)) {
    throw new VaekitError(`Cannot encode an NPY array of dtype ${dtype} whose data is not a ${info.array.name}.`);
  }
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new VaekitError(`Cannot encode an NPY array of shape [${shape.join(', ')}]: each dimension must be a whole number >= 0.`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new VaekitError(`Cannot encode an NPY array of shape [${shape.join(', ')}] (${count} values) from ${data.length} values.`);
  }
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${npyDescr(dtype)}', 'fortran_order': False, 'shape': ${tuple}, }`;
  if (shape.length > 0) header += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const headerBytes = Buffer.from(header, 'latin1');
  const major = 10 + headerBytes.length + 1 + ARRAY_ALIGN <= 0xffff ? 1 : 2;
  const prefix = major === 1 ? 10 : 12;
  const padding = ARRAY_ALIGN - ((prefix + headerBytes.length + 1) % ARRAY_ALIGN);
  const headerLength = headerBytes.length + padding + 1;
  const out = new Uint8Array(prefix + headerLength + data.byteLength);
  const view = new DataView(out.buffer);
  out.set(MAGIC);
  out[6] = major;
  if (major === 1) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  out.set(headerBytes, prefix);
  out.fill(0x20, prefix + headerBytes.length, prefix + headerLength - 1);
  out[prefix + headerLength - 1] = 0x0a;
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), prefix + headerLength);
  return out;
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

interface Header {
  dtype: NpyDtype;
  /** Whether the data's byte order differs from this machine's. */
  swap: boolean;
  shape: number[];
}

function readHeader(text: string, source: string): Header {
  const dict = new PyLiteralParser(text, source).parseAll();
  const bad = (what: string): VaekitError => new VaekitError(`${source} has an unreadable NPY header: ${what} (header: ${clip(text.trim(), 100)}).`);
  if (!(dict instanceof Map)) throw bad('it is not a dict');
  const descr = dict.get('descr');
  const fortranOrder = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (descr === undefined || fortranOrder === undefined || shape === undefined) {
    throw bad(`it lacks the key '${descr === undefined ? 'descr' : fortranOrder === undefined ? 'fortran_order' : 'shape'}'`);
  }
  if (typeof fortranOrder !== 'boolean') throw bad("'fortran_order' is not True or False");
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || d < 0)) throw bad("'shape' is not a tuple of whole numbers >= 0");
  if (fortranOrder) {
    throw new VaekitError(
      `${source} stores its array in Fortran (column-major) order, which vaekit does not read; save it in C order with np.save(path, np.ascontiguousarray(a)).`,
    );
  }
  return { ...readDescr(descr, source), shape: shape as number[] };
}

function readDescr(descr: PyValue, source: string): { dtype: NpyDtype; swap: boolean } {
  const match = typeof descr === 'string' ? /^([<>=|]?)([uif])(\d)$/.exec(descr) : null;
  const dtype = match === null ? undefined : DTYPE_NAMES.find((d) => DTYPES[d].kind === match[2] && DTYPES[d].bytes === Number(match[3]));
  if (match === null || dtype === undefined || (match[1] === '|' && DTYPES[dtype].bytes > 1)) {
    const shown = typeof descr === 'string' ? `'${clip(descr)}'` : 'a structured (record) dtype';
    throw new VaekitError(
      `${source} holds ${shown}, a dtype vaekit does not read (it reads ${SUPPORTED_DESCRS}, little- or big-endian); convert it with a.astype(np.float32).`,
    );
  }
  const order = match[1]!;
  const little = order === '<' || ((order === '=' || order === '|' || order === '') && HOST_IS_LITTLE_ENDIAN);
  return { dtype, swap: DTYPES[dtype].bytes > 1 && little !== HOST_IS_LITTLE_ENDIAN };
}

type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

/** A parser of the Python literals an NPY header may hold (the subset ast.literal_eval reads there). */
class PyLiteralParser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly source: string,
  ) {}

  parseAll(): PyValue {
    const value = this.value();
    this.skipSpace();
    if (this.pos < this.text.length) this.fail('text after the closing brace');
    return value;
  }

  private fail(what: string): never {
    throw new VaekitError(`${this.source} has an unreadable NPY header: ${what} at character ${this.pos + 1} of "${clip(this.text.trim(), 100)}".`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private value(): PyValue {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '{') return this.dict();
    if (c === '(') return this.sequence(')');
    if (c === '[') return this.sequence(']');
    if (c === "'" || c === '"') return this.string();
    const word = /^(?:-?\d+[lL]?|True|False|None)/.exec(this.text.slice(this.pos));
    if (word === null) this.fail(c === undefined ? 'an unexpected end' : `an unexpected ${JSON.stringify(c)}`);
    this.pos += word[0].length;
    if (word[0] === 'True' || word[0] === 'False') return word[0] === 'True';
    if (word[0] === 'None') return null;
    const n = Number(word[0].replace(/[lL]$/, ''));
    if (!Number.isSafeInteger(n)) this.fail(`the integer ${clip(word[0], 30)}, too large`);
    return n;
  }

  private string(): string {
    const quote = this.text[this.pos++]!;
    let out = '';
    while (this.pos < this.text.length && this.text[this.pos] !== quote) {
      if (this.text[this.pos] === '\\') this.pos++;
      out += this.text[this.pos++] ?? '';
    }
    if (this.pos >= this.text.length) this.fail('an unterminated string');
    this.pos++;
    return out;
  }

  /** Items separated by commas, an optional trailing comma, then `close`; `item` reads one. */
  private items(close: string, item: () => void): void {
    if (++this.depth > MAX_DEPTH) this.fail(`brackets nested more than ${MAX_DEPTH} deep`);
    this.pos++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) break;
      item();
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== close) this.fail(`a missing "," or "${close}"`);
    }
    this.pos++;
    this.depth--;
  }

  private sequence(close: string): PyValue[] {
    const out: PyValue[] = [];
    this.items(close, () => out.push(this.value()));
    return out;
  }

  private dict(): Map<string, PyValue> {
    const out = new Map<string, PyValue>();
    this.items('}', () => {
      const key = this.value();
      if (typeof key !== 'string') this.fail('a key that is not a string');
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail('a missing ":"');
      this.pos++;
      out.set(key, this.value());
    });
    return out;
  }
}
