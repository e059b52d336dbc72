/**
 * Images from IDX files (the MNIST format, src/io/idx.ts): uint8 of shape [n, height, width] (or
 * [n, height, width, channels]), or float32 in [0, 1] (converted to bytes with rounding); labels,
 * if given, from a uint8 IDX file of shape [n].
 */
import { VaekitError } from '../../errors.js';
import { readIdx, type IdxArray } from '../../io/idx.js';
import { arrayDataset, type Dataset } from '../dataset.js';

export interface IdxOptions {
  /** The name in messages (default: the images' path). */
  source?: string;
  /** Class names by label value (default "0" .. the largest label). */
  labelNames?: readonly string[];
}

export function loadIdx(imagesPath: string, labelsPath?: string, options: IdxOptions = {}): Dataset {
  const images = readIdx(imagesPath);
  if (images.shape.length !== 3 && images.shape.length !== 4) {
    throw new VaekitError(
      `${imagesPath} holds an array of shape [${images.shape.join(', ')}], but images must have the shape [count, height, width] or [count, height, width, channels].`,
    );
  }
  const [count, height, width] = images.shape as [number, number, number];
  const channels = images.shape[3] ?? 1;
  const values = imageBytes(images, imagesPath);
  let labels: Int32Array | null = null;
  let labelNames: readonly string[] | null = null;
  if (labelsPath !== undefined) {
    const labelArray = readIdx(labelsPath);
    if (labelArray.dtype !== 'uint8' || labelArray.shape.length !== 1) {
      throw new VaekitError(
        `${labelsPath} holds ${labelArray.dtype} of shape [${labelArray.shape.join(', ')}], but labels must be uint8 of shape [count].`,
      );
    }
    if (labelArray.shape[0] !== count) {
      throw new VaekitError(`${labelsPath} has ${labelArray.shape[0]} labels but ${imagesPath} has ${count} images.`);
    }
    labels = Int32Array.from(labelArray.data);
    labelNames = options.labelNames ?? numberNames(labels);
  }
  return arrayDataset({ values, shape: [height, width, channels], labels, labelNames, source: options.source ?? imagesPath });
}

/** "0" .. String(max label): the class names of labels that are plain class numbers. */
export function numberNames(labels: Int32Array): string[] {
  let max = -1;
  for (let i = 0; i < labels.length; i++) max = Math.max(max, labels[i]!);
  return Array.from({ length: max + 1 }, (_, i) => String(i));
}

function imageBytes(images: IdxArray, path: string): Uint8Array {
  if (images.dtype === 'uint8') return images.data as Uint8Array;
  if (images.dtype !== 'float32') {
    throw new VaekitError(`${path} holds ${images.dtype} values, but images must be uint8 (0..255) or float32 (0..1).`);
  }
  const values = images.data as Float32Array;
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= 0 && v <= 1)) {
      throw new VaekitError(`${path} holds the float32 value ${v} at index ${i}, but float32 images must hold values in [0, 1].`);
    }
    out[i] = Math.round(v * 255);
  }
  return out;
}
