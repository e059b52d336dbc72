/**
 * The IDX format of the MNIST files: a big-endian magic number (two zero bytes, a type code, the
 * number of dimensions), each dimension as a big-endian uint32, then the data in row-major order,
 * multi-byte values big-endian. Gzip-compressed files (as MNIST is usually distributed) are
 * recognised by their first two bytes and inflated, no further than their header declares (and at
 * most 2 GiB), so a lying header or a gzip bomb is refused before its output is allocated.
 */
import { constants as zlibConstants, gunzipSync, type ZlibOptions } from 'node:zlib';
import { VaekitError } from '../errors.js';
import { readFileOrExplain } from './fs-errors.js';

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

export interface IdxArray {
  dtype: IdxDtype;
  shape: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

interface DtypeInfo {
  code: number;
  bytes: number;
}

const DTYPES: Record<IdxDtype, DtypeInfo> = {
  uint8: { code: 0x08, bytes: 1 },
  int8: { code: 0x09, bytes: 1 },
  int16: { code: 0x0b, bytes: 2 },
  int32: { code: 0x0c, bytes: 4 },
  float32: { code: 0x0d, bytes: 4 },
  float64: { code: 0x0e, bytes: 8 },
};

const DTYPE_BY_CODE = new Map<number, IdxDtype>(
  (Object.keys(DTYPES) as IdxDtype[]).map((dtype) => [DTYPES[dtype].code, dtype]),
);

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The most bytes an IDX file may hold once inflated: 2 GiB, far above MNIST's 47 MB training images. */
const MAX_IDX_BYTES = 2 ** 31;
/** The compressed bytes inflated first, to read the header (they give at most about 1032 times as many). */
const HEAD_BYTES = 4096;

/** gunzipSync's output; `limit` says in a message where a maxOutputLength came from. */
function gunzip(bytes: Uint8Array, source: string, options: ZlibOptions, limit = ''): Buffer {
  try {
    return gunzipSync(bytes, options);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new VaekitError(`${source} inflates to more than the ${(options.maxOutputLength ?? 1) - 1} bytes ${limit} (a damaged file or a gzip bomb).`);
    }
    const reason = err instanceof Error ? err.message : String(err);
    throw new VaekitError(`${source} is gzip-compressed but could not be decompressed (${reason}).`);
  }
}

/**
 * Inflates a gzip-compressed IDX file: its header first, from the start of the stream, then the
 * whole stream, allowed no more bytes than the header declares, so a lying header or a gzip bomb
 * is refused before its output is allocated.
 */
function inflate(bytes: Uint8Array, source: string): Uint8Array {
  const head = gunzip(bytes.subarray(0, HEAD_BYTES), source, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const declared = declaredBytes(head);
  if (declared !== null && declared > MAX_IDX_BYTES) {
    throw new VaekitError(`${source} has an IDX header that declares ${declared} bytes, more than the ${MAX_IDX_BYTES} vaekit reads.`);
  }
  return gunzip(bytes, source, { maxOutputLength: (declared ?? MAX_IDX_BYTES) + 1 }, declared === null ? 'vaekit reads' : 'its IDX header declares');
}

/** The bytes (header and data) the IDX header at the start of `raw` declares, or null when it cannot tell (parseIdx says why). */
function declaredBytes(raw: Uint8Array): number | null {
  const dtype = raw.length >= 4 ? DTYPE_BY_CODE.get(raw[2]!) : undefined;
  const headerBytes = 4 + 4 * (raw[3] ?? 0);
  if (dtype === undefined || raw[3] === 0 || raw.length < headerBytes) return null;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let count = DTYPES[dtype].bytes;
  for (let d = 0; d < raw[3]!; d++) count *= view.getUint32(4 + 4 * d, false);
  return count === 0 ? null : headerBytes + count;
}

function hex(value: number, digits: number): string {
  return '0x' + value.toString(16).padStart(digits, '0');
}

/** Parses an IDX file's bytes; `source` names the file in error messages. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  const raw = isGzip(bytes) ? inflate(bytes, source) : bytes;
  if (raw.length < 4) {
    throw new VaekitError(`${source} is not an IDX file: it has only ${raw.length} bytes, fewer than the 4-byte magic number.`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const magic = view.getUint32(0, false);
  if (raw[0] !== 0 || raw[1] !== 0) {
    throw new VaekitError(`${source} is not an IDX file: its magic number ${hex(magic, 8)} does not start with two zero bytes.`);
  }
  const typeCode = raw[2]!;
  const dtype = DTYPE_BY_CODE.get(typeCode);
  if (dtype === undefined) {
    throw new VaekitError(
      `${source} has the unknown IDX type code ${hex(typeCode, 2)} (known: 0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32, 0x0d float32, 0x0e float64).`,
    );
  }
  const ndims = raw[3]!;
  if (ndims === 0) {
    throw new VaekitError(`${source} is an IDX file with zero dimensions, which holds no array.`);
  }
  const headerBytes = 4 + 4 * ndims;
  if (raw.length < headerBytes) {
    throw new VaekitError(`${source} is truncated: its header declares ${ndims} dimensions but the file ends after ${raw.length} bytes.`);
  }
  const shape: number[] = [];
  let count = 1;
  for (let d = 0; d < ndims; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    if (size === 0) {
      throw new VaekitError(`${source} has a dimension of size zero (dimension ${d + 1} of ${ndims}), so it holds no data.`);
    }
    shape.push(size);
    count *= size;
  }
  const elementBytes = DTYPES[dtype].bytes;
  const expected = count * elementBytes;
  const available = raw.length - headerBytes;
  if (available < expected) {
    throw new VaekitError(
      `${source} is truncated: its shape [${shape.join(', ')}] of ${dtype} needs ${expected} data bytes but only ${available} follow the header.`,
    );
  }
  if (available > expected) {
    throw new VaekitError(
      `${source} has ${available - expected} unexpected trailing bytes after the ${expected} data bytes of its shape [${shape.join(', ')}] of ${dtype}.`,
    );
  }
  return { dtype, shape, data: decodeData(raw, view, headerBytes, dtype, count) };
}

function decodeData(raw: Uint8Array, view: DataView, offset: number, dtype: IdxDtype, count: number): IdxArray['data'] {
  switch (dtype) {
    case 'uint8':
      // A copy into a plain Uint8Array: `raw` may be a Buffer, whose slice() is a view of a shared pool.
      return new Uint8Array(raw.subarray(offset, offset + count));
    case 'int8': {
      const out = new Int8Array(count);
      new Uint8Array(out.buffer).set(raw.subarray(offset, offset + count));
      return out;
    }
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/** Reads and parses an IDX file (raw or gzip-compressed). */
export function readIdx(path: string): IdxArray {
  return parseIdx(readFileOrExplain(path, 'IDX file'), path);
}


const ARRAY_TYPES: Record<IdxDtype, { name: string; check: (data: IdxArray['data']) => boolean }> = {
  uint8: { name: 'Uint8Array', check: (d) => d instanceof Uint8Array },
  int8: { name: 'Int8Array', check: (d) => d instanceof Int8Array },
  int16: { name: 'Int16Array', check: (d) => d instanceof Int16Array },
  int32: { name: 'Int32Array', check: (d) => d instanceof Int32Array },
  float32: { name: 'Float32Array', check: (d) => d instanceof Float32Array },
  float64: { name: 'Float64Array', check: (d) => d instanceof Float64Array },
};

/** Encodes an array as raw (uncompressed) IDX bytes: the exact inverse of parseIdx. */
export function encodeIdx(array: IdxArray): Uint8Array {
  const { dtype, shape, data } = array;
  const info = DTYPES[dtype];
  if (info === undefined) {
    throw new VaekitError(`Cannot encode an IDX array of the unknown dtype "${String(dtype)}".`);
  }
  if (!ARRAY_TYPES[dtype].check(data)) {
    throw new VaekitError(`Cannot encode an IDX array of dtype ${dtype} whose data is not a ${ARRAY_TYPES[dtype].name}.`);
  }
  if (shape.length < 1 || shape.length > 255) {
    throw new VaekitError(`Cannot encode an IDX array with ${shape.length} dimensions: IDX holds 1 to 255.`);
  }
  let count = 1;
  for (const size of shape) {
    if (!Number.isInteger(size) || size < 1 || size > 0xffffffff) {
      throw new VaekitError(`Cannot encode an IDX array of shape [${shape.join(', ')}]: each dimension must be an integer from 1 to 4294967295.`);
    }
    count *= size;
  }
  if (count !== data.length) {
    throw new VaekitError(`Cannot encode an IDX array of shape [${shape.join(', ')}] (${count} values) from ${data.length} values.`);
  }
  const headerBytes = 4 + 4 * shape.length;
  const out = new Uint8Array(headerBytes + count * info.bytes);
  const view = new DataView(out.buffer);
  out[2] = info.code;
  out[3] = shape.length;
  shape.forEach((size, d) => view.setUint32(4 + 4 * d, size, false));
  switch (dtype) {
    case 'uint8':
    case 'int8':
      out.set(new Uint8Array(data.buffer, data.byteOffset, count), headerBytes);
      break;
    case 'int16':
      for (let i = 0; i < count; i++) view.setInt16(headerBytes + 2 * i, data[i]!, false);
      break;
    case 'int32':
      for (let i = 0; i < count; i++) view.setInt32(headerBytes + 4 * i, data[i]!, false);
      break;
    case 'float32':
      for (let i = 0; i < count; i++) view.setFloat32(headerBytes + 4 * i, data[i]!, false);
      break;
    case 'float64':
      for (let i = 0; i < count; i++) view.setFloat64(headerBytes + 8 * i, data[i]!, false);
      break;
  }
  return out;
}
