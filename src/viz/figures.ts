/**
 * The notebook's figures as PNG, plus prior samples: the first test images, their noisy versions
 * (the same noise as the test metrics use) and the model's denoised outputs.
 */
import { isImageShape, takeFirst, type Dataset } from '../data/dataset.js';
import type { NoiseSpec } from '../data/transforms/noise.js';
import { VaekitError } from '../errors.js';
import { evalBatches, labelsFor } from '../eval/evaluate.js';
import type { Vae } from '../vae/model.js';
import { imageGridPng } from './image-grid.js';

interface Examples {
  clean: Float32Array[];
  noisy: Float32Array[];
  denoised: Float32Array[];
}

/** [height, width, channels] of an image shape; throws for features, which have no picture. */
export function imageDims(shape: readonly number[], source: string): { height: number; width: number; channels: 1 | 3 } {
  if (!isImageShape(shape) || (shape[2] !== 1 && shape[2] !== 3)) {
    throw new VaekitError(`${source} holds examples of shape [${shape.join(', ')}], not greyscale or RGB images, so there is no picture to draw.`);
  }
  return { height: shape[0]!, width: shape[1]!, channels: shape[2] as 1 | 3 };
}

function examples(set: Dataset, count: number, noise: NoiseSpec, seed: number, vae: Vae | null): Examples {
  const first = takeFirst(set, Math.min(count, set.count));
  const size = set.size;
  const out: Examples = { clean: [], noisy: [], denoised: [] };
  for (const b of evalBatches(first, { noise, seed }, Math.max(1, first.count), vae?.backend)) {
    const denoised = new Float32Array(b.rows * size);
    if (vae !== null) vae.reconstructBatch(b.input, b.rows, null, denoised, labelsFor(vae, b.labels));
    for (let r = 0; r < b.rows; r++) {
      const span = [r * size, (r + 1) * size] as const;
      out.clean.push(b.target.slice(...span));
      out.noisy.push(b.input.slice(...span));
      out.denoised.push(denoised.slice(...span));
    }
  }
  return out;
}

/** Figure 1: `count` test images (top row) above their noisy versions (bottom row). */
export function noisyExamplesPng(set: Dataset, noise: NoiseSpec, seed: number, count = 5): Uint8Array {
  const { height, width, channels } = imageDims(set.shape, set.source);
  const e = examples(set, count, noise, seed, null);
  return imageGridPng([e.clean, e.noisy], height, width, { scale: 3, channels });
}

/** Figure 2: one row per test image: original, noisy, denoised. */
export function denoisedExamplesPng(vae: Vae, set: Dataset, noise: NoiseSpec, seed: number, count = 10): Uint8Array {
  const { height, width, channels } = imageDims(set.shape, set.source);
  const e = examples(set, count, noise, seed, vae);
  const rows = e.clean.map((c, i) => [c, e.noisy[i]!, e.denoised[i]!]);
  return imageGridPng(rows, height, width, { scale: 3, channels });
}

/** A square grid (8 x 8 for 64) of images decoded from z ~ p(z); a conditional model without a label draws one row per class. */
export function samplesPng(vae: Vae, count: number, seed: number, label?: number): Uint8Array {
  if (vae.classes > 0 && label === undefined) return classSamplesPng(vae, Math.max(1, Math.round(count / vae.classes)), seed);
  const images = vae.sample(count, seed, label);
  const perRow = Math.ceil(Math.sqrt(count));
  const rows: Float32Array[][] = [];
  for (let i = 0; i < count; i++) {
    if (i % perRow === 0) rows.push([]);
    rows[rows.length - 1]!.push(images.data.subarray(i * vae.pixels, (i + 1) * vae.pixels));
  }
  return modelGridPng(vae, rows);
}

/** A conditional model's samples: one row per class, `perClass` images each. */
export function classSamplesPng(vae: Vae, perClass: number, seed: number): Uint8Array {
  const rows: Float32Array[][] = [];
  for (let label = 0; label < vae.classes; label++) {
    const images = vae.sample(perClass, seed + label, label);
    rows.push(Array.from({ length: perClass }, (_, i) => images.data.subarray(i * vae.pixels, (i + 1) * vae.pixels)));
  }
  return modelGridPng(vae, rows);
}

/** A grid of images of the model's own shape. */
function modelGridPng(vae: Vae, rows: Float32Array[][]): Uint8Array {
  const { height, width, channels } = imageDims(vae.config.inputShape, 'This model');
  return imageGridPng(rows, height, width, { scale: 2, channels });
}

/** The notebook's two figures and 64 prior samples, by file name. */
export function notebookFigures(vae: Vae, set: Dataset, noise: NoiseSpec, seed: number): Array<[string, Uint8Array]> {
  return [
    ['noisy-examples.png', noisyExamplesPng(set, noise, seed)],
    ['denoised-examples.png', denoisedExamplesPng(vae, set, noise, seed)],
    ['samples.png', samplesPng(vae, 64, seed)],
  ];
}
