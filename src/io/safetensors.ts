/**
 * The safetensors format (data only, never code): an 8-byte little-endian u64 header size N, N
 * bytes of UTF-8 JSON header, then the data buffer. The header maps each tensor name to
 * {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the data buffer) and may
 * hold "__metadata__", a map of strings. vaekit writes the tensors sorted by name, contiguous, and
 * pads the header with spaces to a multiple of 8 so the data starts aligned. Only F32 is supported.
 */
import { clip, VaekitError } from '../errors.js';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

const METADATA_KEY = '__metadata__';
const HEADER_ALIGNMENT = 8;
/** The reference implementation refuses headers above 100 MB; so does this one. */
const MAX_HEADER_BYTES = 100_000_000;
/** The most bytes a safetensors file of at most `values` float32 values can have (its size field, the largest header read, the data). */
export function maxSafetensorsBytes(values: number): number {
  return 8 + MAX_HEADER_BYTES + 4 * values;
}
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Byte order of the names' UTF-8 encodings (no Buffer: this file runs in browsers too). */
function utf8Compare(a: string, b: string): number {
  const x = UTF8.encode(a);
  const y = UTF8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}
const UTF8 = new TextEncoder();

function elementCount(shape: number[]): number {
  if (shape.includes(0)) return 0; // not Infinity * 0 when the other dimensions overflow
  let count = 1;
  for (const size of shape) count *= size;
  return count;
}

/** Defines an own property, so that a name such as "__proto__" is stored rather than interpreted. */
function defineEntry<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Encodes F32 tensors (and optional string metadata) as safetensors bytes. */
export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort(utf8Compare);
  const entries: string[] = [];
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    const metadataEntries = Object.keys(metadata).map((key) => {
      const value = metadata[key];
      if (typeof value !== 'string') {
        throw new VaekitError(`Cannot encode safetensors metadata "${key}": its value must be a string.`);
      }
      return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    });
    entries.push(`${JSON.stringify(METADATA_KEY)}:{${metadataEntries.join(',')}}`);
  }
  let offset = 0;
  const placed: { data: Float32Array; begin: number }[] = [];
  for (const name of names) {
    if (name === METADATA_KEY) {
      throw new VaekitError(`Cannot encode a tensor named "${METADATA_KEY}": the name is reserved for metadata.`);
    }
    const { shape, data } = tensors[name]!;
    if (!(data instanceof Float32Array)) {
      throw new VaekitError(`Cannot encode tensor "${name}": its data must be a Float32Array.`);
    }
    if (!Array.isArray(shape) || shape.some((size) => !Number.isSafeInteger(size) || size < 0)) {
      throw new VaekitError(`Cannot encode tensor "${name}": its shape must be a list of whole numbers >= 0.`);
    }
    const count = elementCount(shape);
    if (count !== data.length) {
      throw new VaekitError(`Cannot encode tensor "${name}": its shape [${shape.join(', ')}] holds ${count} values but its data has ${data.length}.`);
    }
    const begin = offset;
    offset += 4 * count;
    placed.push({ data, begin });
    entries.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: 'F32', shape, data_offsets: [begin, offset] })}`);
  }
  const json = UTF8.encode(`{${entries.join(',')}}`);
  const headerBytes = Math.ceil(json.length / HEADER_ALIGNMENT) * HEADER_ALIGNMENT;
  const dataStart = 8 + headerBytes;
  const out = new Uint8Array(dataStart + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes % 0x100000000, true);
  view.setUint32(4, Math.floor(headerBytes / 0x100000000), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, dataStart);
  for (const { data, begin } of placed) {
    if (LITTLE_ENDIAN_HOST) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), dataStart + begin);
    } else {
      for (let i = 0; i < data.length; i++) view.setFloat32(dataStart + begin + 4 * i, data[i]!, true);
    }
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isOffsetList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => Number.isSafeInteger(v) && (v as number) >= 0);
}

/** Decodes safetensors bytes holding F32 tensors; `source` names the file in error messages. */
export function decodeSafetensors(
  bytes: Uint8Array,
  source: string,
): { tensors: Record<string, NamedTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) {
    throw new VaekitError(`${source} is not a safetensors file: it has only ${bytes.length} bytes, fewer than the 8-byte header size.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getUint32(0, true) + view.getUint32(4, true) * 0x100000000;
  if (headerBytes > MAX_HEADER_BYTES) {
    throw new VaekitError(`${source} is not a valid safetensors file: its header size ${headerBytes} is larger than the limit of ${MAX_HEADER_BYTES} bytes.`);
  }
  if (headerBytes > bytes.length - 8) {
    throw new VaekitError(
      `${source} is not a valid safetensors file: its header size ${headerBytes} is larger than the ${bytes.length - 8} bytes that follow it.`,
    );
  }
  if (headerBytes < 2) {
    throw new VaekitError(`${source} is not a valid safetensors file: its header size ${headerBytes} is too small for a JSON object.`);
  }
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerBytes));
    header = JSON.parse(text);
  } catch {
    throw new VaekitError(`${source} is not a valid safetensors file: its header is not valid UTF-8 JSON.`);
  }
  if (!isPlainObject(header)) {
    throw new VaekitError(`${source} is not a valid safetensors file: its header is not a JSON object.`);
  }
  const dataStart = 8 + headerBytes;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const ranges: { name: string; begin: number; end: number }[] = [];
  for (const name of Object.keys(header)) {
    const entry = header[name];
    if (name === METADATA_KEY) {
      if (!isPlainObject(entry)) {
        throw new VaekitError(`${source} has a "${METADATA_KEY}" entry that is not a JSON object of strings.`);
      }
      for (const key of Object.keys(entry)) {
        const value = entry[key];
        if (typeof value !== 'string') {
          throw new VaekitError(`${source} has the metadata entry "${clip(key)}" whose value is not a string.`);
        }
        defineEntry(metadata, key, value);
      }
      continue;
    }
    if (!isPlainObject(entry)) {
      throw new VaekitError(`${source} has a header entry for tensor "${clip(name)}" that is not a JSON object.`);
    }
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string') {
      throw new VaekitError(`${source} has tensor "${clip(name)}" without a dtype string.`);
    }
    if (dtype !== 'F32') {
      throw new VaekitError(`${source} has tensor "${clip(name)}" of dtype ${clip(dtype)}, but vaekit reads only F32 tensors.`);
    }
    if (!isOffsetList(shape)) {
      throw new VaekitError(`${source} has tensor "${clip(name)}" whose shape is not a list of whole numbers >= 0.`);
    }
    if (!isOffsetList(offsets) || offsets.length !== 2 || offsets[0]! > offsets[1]!) {
      throw new VaekitError(`${source} has tensor "${clip(name)}" whose data_offsets is not a pair [begin, end] of whole numbers with begin <= end.`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLength) {
      throw new VaekitError(`${source} has tensor "${clip(name)}" whose data_offsets [${begin}, ${end}] reach past the end of its ${dataLength}-byte data buffer.`);
    }
    const expected = 4 * elementCount(shape);
    if (end - begin !== expected) {
      throw new VaekitError(
        `${source} has tensor "${clip(name)}" of shape [${clip(shape.join(', '))}] that needs ${expected} bytes, but its data_offsets [${begin}, ${end}] span ${end - begin}.`,
      );
    }
    ranges.push({ name, begin, end });
  }
  const filled = ranges.filter((r) => r.end > r.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < filled.length; i++) {
    const previous = filled[i - 1]!;
    const current = filled[i]!;
    if (current.begin < previous.end) {
      throw new VaekitError(`${source} has tensors "${clip(previous.name)}" and "${clip(current.name)}" whose data overlap.`);
    }
  }
  const lastEnd = filled.length === 0 ? 0 : filled[filled.length - 1]!.end;
  if (lastEnd < dataLength) {
    throw new VaekitError(`${source} has ${dataLength - lastEnd} unexpected bytes after the data of its last tensor.`);
  }
  const tensors: Record<string, NamedTensor> = {};
  for (const { name, begin, end } of ranges) {
    const shape = (header[name] as { shape: number[] }).shape.slice();
    const data = new Float32Array((end - begin) / 4);
    if (LITTLE_ENDIAN_HOST) {
      new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    } else {
      for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(dataStart + begin + 4 * i, true);
    }
    defineEntry(tensors, name, { shape, data });
  }
  return { tensors, metadata };
}
