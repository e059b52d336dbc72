/**
 * The notebook's figures as PNG, plus prior samples: the first test images, their noisy versions
 * (the same noise as the test metrics use) and the model's denoised outputs.
 */
import { takeFirst, type ImageSet } from '../data/dataset.js';
import type { NoiseSpec } from '../data/noise.js';
import { forEachNoisyBatch } from '../eval/evaluate.js';
import type { Vae } from '../vae/model.js';
import { imageGridPng } from './image-grid.js';

interface Examples {
  clean: Float32Array[];
  noisy: Float32Array[];
  denoised: Float32Array[];
}

function examples(set: ImageSet, count: number, noise: NoiseSpec, seed: number, vae: Vae | null): Examples {
  const first = takeFirst(set, Math.min(count, set.count));
  const pixels = set.height * set.width;
  const out: Examples = { clean: [], noisy: [], denoised: [] };
  forEachNoisyBatch(first, { noise, seed }, Math.max(1, first.count), (clean, noisy, rows, _start, labels) => {
    const denoised = new Float32Array(rows * pixels);
    if (vae !== null) vae.reconstructBatch(noisy, rows, null, denoised, vae.classes > 0 ? labels : null);
    for (let r = 0; r < rows; r++) {
      const span = [r * pixels, (r + 1) * pixels] as const;
      out.clean.push(clean.slice(...span));
      out.noisy.push(noisy.slice(...span));
      out.denoised.push(denoised.slice(...span));
    }
  });
  return out;
}

/** Figure 1: `count` test images (top row) above their noisy versions (bottom row). */
export function noisyExamplesPng(set: ImageSet, noise: NoiseSpec, seed: number, count = 5): Uint8Array {
  const e = examples(set, count, noise, seed, null);
  return imageGridPng([e.clean, e.noisy], set.height, set.width, { scale: 3 });
}

/** Figure 2: one row per test image: original, noisy, denoised. */
export function denoisedExamplesPng(vae: Vae, set: ImageSet, noise: NoiseSpec, seed: number, count = 10): Uint8Array {
  const e = examples(set, count, noise, seed, vae);
  const rows = e.clean.map((c, i) => [c, e.noisy[i]!, e.denoised[i]!]);
  return imageGridPng(rows, set.height, set.width, { scale: 3 });
}

/** An 8 x 8 (for 64) grid of images decoded from z ~ N(0, I). */
export function samplesPng(vae: Vae, count: number, seed: number, label?: number): Uint8Array {
  if (vae.classes > 0 && label === undefined) return classSamplesPng(vae, Math.max(1, Math.round(count / vae.classes)), seed);
  const images = vae.sample(count, seed, label);
  const pixels = vae.pixels;
  const perRow = Math.ceil(Math.sqrt(count));
  const rows: Float32Array[][] = [];
  for (let i = 0; i < count; i++) {
    if (i % perRow === 0) rows.push([]);
    rows[rows.length - 1]!.push(images.data.subarray(i * pixels, (i + 1) * pixels));
  }
  return imageGridPng(rows, vae.config.imageHeight, vae.config.imageWidth, { scale: 2 });
}

/** A conditional model's samples: one row per class, `perClass` images each. */
export function classSamplesPng(vae: Vae, perClass: number, seed: number): Uint8Array {
  const pixels = vae.pixels;
  const rows: Float32Array[][] = [];
  for (let label = 0; label < vae.classes; label++) {
    const images = vae.sample(perClass, seed + label, label);
    rows.push(Array.from({ length: perClass }, (_, i) => images.data.subarray(i * pixels, (i + 1) * pixels)));
  }
  return imageGridPng(rows, vae.config.imageHeight, vae.config.imageWidth, { scale: 2 });
}
