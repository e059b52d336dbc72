/**
 * The notebook's figures as PNG, plus prior samples: the first test images, their noisy versions
 * (the same noise as the test metrics use) and the model's denoised outputs. Each is a labelled
 * grid (labelled-grid.ts): a title that says what is shown (the noise, the prior), the model under
 * it, and the rows and columns named.
 */
import { isImageShape, takeFirst, type Dataset } from '../data/dataset.js';
import type { NoiseSpec } from '../data/transforms/noise.js';
import { VaekitError } from '../errors.js';
import { evalBatches } from '../data/inference.js';
import type { VaeConfig } from '../vae/config.js';
import { labelsFor, type Vae } from '../vae/model.js';
import type { LossName } from '../vae/objective.js';
import { gridFigurePng, type GridFigure } from './labelled-grid.js';

interface Examples {
  clean: Float32Array[];
  noisy: Float32Array[];
  denoised: Float32Array[];
}

/** What the figures may say beyond what the model and data know. */
export interface FigureOptions {
  /** The class names of a conditional model, for its rows (default: the data's label names, else the indices). */
  classNames?: readonly string[] | null;
  /** Where the model comes from (e.g. its folder), added to the subtitle. */
  model?: string;
  /** The objective it was trained with (a bundle's training.loss; lossOf), so the subtitle names no likelihood for notebook-mse. */
  loss?: LossName;
}

/** [height, width, channels] of an image shape; throws for features, which have no picture. */
export function imageDims(shape: readonly number[], source: string): { height: number; width: number; channels: 1 | 3 } {
  if (!isImageShape(shape) || (shape[2] !== 1 && shape[2] !== 3)) {
    throw new VaekitError(`${source} holds examples of shape [${shape.join(', ')}], not greyscale or RGB images, so there is no picture to draw.`);
  }
  return { height: shape[0]!, width: shape[1]!, channels: shape[2] as 1 | 3 };
}

/** The noise in words: "gaussian noise (sigma 0.2)", "salt-and-pepper noise (p 0.1)", "no noise". */
export function describeNoise(noise: NoiseSpec): string {
  switch (noise.kind) {
    case 'none': return 'no noise';
    case 'gaussian': return `gaussian noise (sigma ${noise.factor})`;
    default: return `${noise.kind} noise (p ${noise.probability})`;
  }
}

/** The prior in words: "the prior N(0, I)" or "the learned mixture prior (K Gaussians)". */
export function describePrior(config: Pick<VaeConfig, 'prior' | 'priorComponents'>): string {
  return config.prior === 'mog'
    ? `the learned mixture prior (${config.priorComponents} Gaussian${config.priorComponents === 1 ? '' : 's'})`
    : 'the prior N(0, I)';
}

/**
 * The model in a few words: "seed preset, latent 40, bernoulli likelihood"; a model trained on the
 * notebook's squared error has no likelihood, so none is named.
 */
export function describeModel(config: VaeConfig, loss?: LossName): string {
  const likelihood = loss === 'notebook-mse' ? 'trained on the notebook\'s squared error'
    : config.likelihood !== 'gaussian' ? `${config.likelihood} likelihood`
      : config.gaussianLearnedVariance ? 'gaussian likelihood (learned variance)' : `gaussian likelihood (sigma ${config.gaussianSigma})`;
  const parts = [`${config.preset} preset`, `latent ${config.latent}`, likelihood];
  if (config.classes > 0) parts.push(`conditional on ${config.classes} classes`);
  return parts.join(', ');
}

function subtitleOf(vae: Vae, options: FigureOptions, extra?: string): string {
  return [describeModel(vae.config, options.loss), ...(extra !== undefined ? [extra] : []), ...(options.model !== undefined ? [options.model] : [])].join(' · ');
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

function imagesTitle(noise: NoiseSpec): string {
  return noise.kind === 'none' ? 'Test images (no noise added)' : `Test images with ${describeNoise(noise)}`;
}

/** Figure 1 as a labelled grid: `count` test images (row "Original") above their noisy versions (row "Noisy"). */
export function noisyExamplesFigure(set: Dataset, noise: NoiseSpec, seed: number, count = 5): GridFigure {
  const dims = imageDims(set.shape, set.source);
  const e = examples(set, count, noise, seed, null);
  return {
    ...dims,
    title: imagesTitle(noise),
    subtitle: `the first ${e.clean.length} of ${set.source}`,
    cells: [e.clean, e.noisy],
    rowLabels: ['Original', 'Noisy'],
    columnLabels: e.clean.map((_, i) => `Image ${i}`),
  };
}

/** Figure 1: `count` test images (top row) above their noisy versions (bottom row). */
export function noisyExamplesPng(set: Dataset, noise: NoiseSpec, seed: number, count = 5): Uint8Array {
  return gridFigurePng(noisyExamplesFigure(set, noise, seed, count));
}

/** Figure 2 as a labelled grid: one row per test image ("Example i"), columns Original, Noisy, Denoised. */
export function denoisedExamplesFigure(vae: Vae, set: Dataset, noise: NoiseSpec, seed: number, count = 10, options: FigureOptions = {}): GridFigure {
  const dims = imageDims(set.shape, set.source);
  const e = examples(set, count, noise, seed, vae);
  return {
    ...dims,
    title: noise.kind === 'none' ? 'Test images and their reconstructions' : `Denoising test images with ${describeNoise(noise)}`,
    subtitle: subtitleOf(vae, options),
    cells: e.clean.map((c, i) => [c, e.noisy[i]!, e.denoised[i]!]),
    rowLabels: e.clean.map((_, i) => `Example ${i}`),
    columnLabels: ['Original', noise.kind === 'none' ? 'Input' : 'Noisy', noise.kind === 'none' ? 'Reconstructed' : 'Denoised'],
  };
}

/** Figure 2: one row per test image: original, noisy, denoised. */
export function denoisedExamplesPng(vae: Vae, set: Dataset, noise: NoiseSpec, seed: number, count = 10, options: FigureOptions = {}): Uint8Array {
  return gridFigurePng(denoisedExamplesFigure(vae, set, noise, seed, count, options));
}

function classNameOf(options: FigureOptions, label: number): string {
  return options.classNames?.[label] ?? String(label);
}

/**
 * A square grid (8 x 8 for 64) of images decoded from z ~ p(z), titled with the count and the
 * prior; a conditional model without a label draws one row per class.
 */
export function samplesFigure(vae: Vae, count: number, seed: number, label?: number, options: FigureOptions = {}): GridFigure {
  if (vae.classes > 0 && label === undefined) return classSamplesFigure(vae, Math.max(1, Math.round(count / vae.classes)), seed, options);
  const images = vae.sample(count, seed, label);
  const perRow = Math.ceil(Math.sqrt(count));
  const rows: Float32Array[][] = [];
  for (let i = 0; i < count; i++) {
    if (i % perRow === 0) rows.push([]);
    rows[rows.length - 1]!.push(images.data.subarray(i * vae.pixels, (i + 1) * vae.pixels));
  }
  const what = `${count} sample${count === 1 ? '' : 's'}${label === undefined ? '' : ` of class ${classNameOf(options, label)}`}`;
  return { ...imageDims(vae.config.inputShape, 'This model'), title: `${what} from ${describePrior(vae.config)}`, subtitle: subtitleOf(vae, options, `seed ${seed}`), cells: rows };
}

export function samplesPng(vae: Vae, count: number, seed: number, label?: number, options: FigureOptions = {}): Uint8Array {
  return gridFigurePng(samplesFigure(vae, count, seed, label, options));
}

/** A conditional model's samples: one row per class (labelled with its name), `perClass` images each. */
export function classSamplesFigure(vae: Vae, perClass: number, seed: number, options: FigureOptions = {}): GridFigure {
  const rows: Float32Array[][] = [];
  for (let label = 0; label < vae.classes; label++) {
    const images = vae.sample(perClass, seed + label, label);
    rows.push(Array.from({ length: perClass }, (_, i) => images.data.subarray(i * vae.pixels, (i + 1) * vae.pixels)));
  }
  return {
    ...imageDims(vae.config.inputShape, 'This model'),
    title: `${perClass} sample${perClass === 1 ? '' : 's'} of each class from ${describePrior(vae.config)}`,
    subtitle: subtitleOf(vae, options, `seed ${seed}`),
    cells: rows,
    rowLabels: rows.map((_, label) => classNameOf(options, label)),
  };
}

export function classSamplesPng(vae: Vae, perClass: number, seed: number, options: FigureOptions = {}): Uint8Array {
  return gridFigurePng(classSamplesFigure(vae, perClass, seed, options));
}

/** The notebook's figures, named as a run folder's files are (run/names.ts: RUN_FILES[name]). */
export type NotebookFigure = 'noisyExamples' | 'denoisedExamples' | 'samples';

/** The notebook's two figures and 64 prior samples; class names default to the set's label names. */
export function notebookFigures(vae: Vae, set: Dataset, noise: NoiseSpec, seed: number, options: FigureOptions = {}): Array<[NotebookFigure, Uint8Array]> {
  const o: FigureOptions = { ...options, classNames: options.classNames ?? set.labelNames };
  return [
    ['noisyExamples', noisyExamplesPng(set, noise, seed)],
    ['denoisedExamples', denoisedExamplesPng(vae, set, noise, seed, 10, o)],
    ['samples', samplesPng(vae, 64, seed, undefined, o)],
  ];
}
