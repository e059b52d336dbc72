/**
 * A Dataset from NumPy arrays saved with np.save, and optionally their labels from a second file:
 *
 *   [N, H, W]      greyscale images  -> examples of [H, W, 1]
 *   [N, H, W, C]   images, C 1 or 3  -> examples of [H, W, C] (channels-last, as Keras keeps them)
 *   [N, D]         feature rows      -> examples of [D], stored as float32
 *
 * Image values: uint8 (or any integer dtype holding 0..255) is kept as bytes; float32 or float64 must
 * lie in [0, 1] and is kept as float32, unrounded. Labels: shape [N], whole numbers >= 0; a label's
 * value is its class index, and class k is named String(k).
 */
import { VaekitError } from '../../errors.js';
import { arrayDataset, type Dataset } from '../dataset.js';
import { readNpy, type NpyArray, type NpyData, type NpyDtype } from '../../io/npy.js';

export interface NpyOptions {
  /** Path of an NPY file of shape [N] holding each example's class (a whole number >= 0). */
  labels?: string;
}

/** The largest class index a labels file may hold (labelNames has one name per index up to it). */
const MAX_CLASS = 65535;

/** Loads an NPY array of images or feature rows (and, with `labels`, an NPY array of class labels). */
export function loadNpy(path: string, options: NpyOptions = {}): Dataset {
  const array = readNpy(path);
  const shape = exampleShape(array, path);
  const count = array.shape[0]!;
  const values = shape.length === 3 ? imageValues(array, shape, path) : featureValues(array, shape[0]!, path);
  return arrayDataset({ values, shape, source: path, ...npyLabels(options.labels, count, path) });
}

/** The labels of an NPY data file's `count` examples from a labels file (none without one), each class k named String(k). */
export function npyLabels(labelsPath: string | undefined, count: number, dataPath: string): { labels: Int32Array | null; labelNames: string[] | null } {
  if (labelsPath === undefined) return { labels: null, labelNames: null };
  const labels = readLabels(labelsPath, count, dataPath);
  let max = -1;
  for (let i = 0; i < labels.length; i++) max = Math.max(max, labels[i]!);
  return { labels, labelNames: Array.from({ length: max + 1 }, (_, k) => String(k)) };
}

/** An example's shape from an array's: [H, W, C] or [D]. */
export function exampleShape(array: Pick<NpyArray, 'shape'>, path: string): number[] {
  const s = array.shape;
  if (s.length < 2 || s.length > 4) {
    throw new VaekitError(
      `${path} has the shape [${s.join(', ')}], but a data array must be [N, H, W] or [N, H, W, C] (images) or [N, D] (feature rows).`,
    );
  }
  if (s.includes(0)) throw new VaekitError(`${path} has the shape [${s.join(', ')}], which holds no values.`);
  if (s.length === 2) return [s[1]!];
  if (s.length === 3) return [s[1]!, s[2]!, 1];
  const channels = s[3]!;
  if (channels !== 1 && channels !== 3) {
    const channelsFirst = s[1] === 1 || s[1] === 3;
    throw new VaekitError(
      `${path} holds images of ${channels} channels (shape [${s.join(', ')}]), but vaekit reads 1 (greyscale) or 3 (RGB) channels, last` +
        (channelsFirst ? `; for channels-first arrays save a.transpose(0, 2, 3, 1).` : '.'),
    );
  }
  return [s[1]!, s[2]!, channels];
}

function isBigIntArray(data: NpyData): data is BigInt64Array | BigUint64Array {
  return data instanceof BigInt64Array || data instanceof BigUint64Array;
}

/** The array's values as numbers (64-bit integers converted, exactly below 2^53). */
function numbers(data: NpyData): ArrayLike<number> {
  return isBigIntArray(data) ? Float64Array.from(data, (v) => Number(v)) : data;
}

/** "example 7, pixel (row 3, column 4, channel 0)" for a flat index into images of `shape`. */
function pixelName(index: number, shape: readonly number[]): string {
  const [h, w, c] = shape as [number, number, number];
  const pixel = index % (h * w * c);
  return `example ${Math.floor(index / (h * w * c))}, pixel (row ${Math.floor(pixel / (w * c))}, column ${Math.floor(pixel / c) % w}, channel ${pixel % c})`;
}

/** How an NPY array's examples are kept: images of an integer dtype as bytes, anything else as floats. */
export function npyStoredType(dtype: NpyDtype, image: boolean): 'uint8' | 'float32' {
  return image && dtype !== 'float32' && dtype !== 'float64' ? 'uint8' : 'float32';
}

/**
 * Image values as kept (bytes, or floats in [0, 1]), checked; `offset` is the flat index of data[0]
 * in the whole array (a streamed chunk's), for messages.
 */
export function imageValues(array: Pick<NpyArray, 'data' | 'dtype'>, shape: readonly number[], path: string, offset = 0): Uint8Array | Float32Array {
  const { data, dtype } = array;
  if (data instanceof Uint8Array) return data;
  const v = numbers(data);
  if (dtype === 'float32' || dtype === 'float64') {
    for (let i = 0; i < v.length; i++) {
      if (!(v[i]! >= 0 && v[i]! <= 1)) {
        throw new VaekitError(
          `${path}: ${pixelName(offset + i, shape)} holds ${v[i]}, but float images must hold values in [0, 1]; scale them (for example x / 255) or save them as uint8.`,
        );
      }
    }
    return data instanceof Float32Array ? data : Float32Array.from(v);
  }
  for (let i = 0; i < v.length; i++) {
    if (!(v[i]! >= 0 && v[i]! <= 255)) {
      throw new VaekitError(
        `${path}: ${pixelName(i, shape)} holds ${v[i]}, but integer (${dtype}) images must hold bytes 0..255; save them as uint8, or as float32 scaled to [0, 1].`,
      );
    }
  }
  return Uint8Array.from(v);
}

/** Feature values as kept (floats), checked finite; `offset` as imageValues'. */
export function featureValues(array: Pick<NpyArray, 'data'>, features: number, path: string, offset = 0): Float32Array {
  const v = numbers(array.data);
  const out = array.data instanceof Float32Array ? array.data : Float32Array.from(v);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i]!)) {
      const overflow = Number.isFinite(v[i]!) ? ', too large for float32' : '';
      throw new VaekitError(
        `${path}: row ${Math.floor((offset + i) / features)}, column ${(offset + i) % features} holds ${v[i]}${overflow}; every feature must be a finite number, so fill or drop missing values.`,
      );
    }
  }
  return out;
}

function readLabels(labelsPath: string, count: number, dataPath: string): Int32Array {
  const array = readNpy(labelsPath);
  if (array.shape.length !== 1) {
    throw new VaekitError(
      `${labelsPath} has the shape [${array.shape.join(', ')}], but labels must be one whole number per example, shape [N] (flatten them with y.ravel()).`,
    );
  }
  if (array.shape[0] !== count) {
    throw new VaekitError(`${labelsPath} has ${array.shape[0]} labels but ${dataPath} has ${count} examples.`);
  }
  const v = numbers(array.data);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const y = v[i]!;
    if (!(Number.isInteger(y) && y >= 0 && y <= MAX_CLASS)) {
      const why = Number.isInteger(y) && y > MAX_CLASS ? `too large for a class index (at most ${MAX_CLASS}); renumber the classes 0..K-1` : 'not a whole number >= 0';
      throw new VaekitError(`${labelsPath}: label ${i} is ${y}, ${why}.`);
    }
    labels[i] = y;
  }
  return labels;
}
