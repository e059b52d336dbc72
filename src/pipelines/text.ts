/**
 * Using a trained text model, for the CLI and the studio alike: sentences drawn from the prior,
 * typed sentences encoded to their posterior means and decoded back, the homotopy between two
 * sentences (Bowman et al. 2016: decode points on the line between their codes), and the codes of
 * a set of sentences. Text always goes in through the model's own vocabulary and length.
 */
import { everyRowIds, textDataset } from '../data/sources/text.js';
import type { Dataset } from '../data/dataset.js';
import { isMnistSpec, loadData } from '../data/load.js';
import { Random } from '../engine/random.js';
import { VaekitError } from '../errors.js';
import { slerp, type InterpolationMethod } from '../latent/interpolate.js';
import type { TextBundle } from '../run/bundle-format.js';
import type { GenerateOptions } from '../vae/text/model.js';

/** How generated sentences are decoded, and (conditional models) the class they are of. */
export interface DecodeOptions extends GenerateOptions {
  /** A conditional model's class index. */
  label?: number;
}

/** Typed or read sentences as rows of the model's token ids (its vocabulary and maximum length; longer ones cut). */
export function textsForModel(model: TextBundle, texts: readonly string[], source = 'the sentences'): Dataset {
  if (texts.length === 0) throw new VaekitError(`No sentences to read in ${source}.`);
  texts.forEach((text, i) => {
    if (text.trim() === '') throw new VaekitError(`Sentence ${i + 1} of ${source} is blank.`);
  });
  const v = model.vocabulary;
  return textDataset(
    { texts: texts.map((t) => t.trim()), ids: texts.map((_, i) => String(i + 1)), labels: null, labelNames: null, source, blank: 0 },
    { tokens: v.tokenizer.kind, lowercase: v.tokenizer.lowercase, vocabulary: v, maxLength: model.vae.maxLength },
  );
}

function labelsOf(model: TextBundle, n: number, label: number | undefined): Uint8Array | null {
  if (model.vae.classes === 0) {
    if (label !== undefined) throw new VaekitError('This text model is not conditional: it takes no label.');
    return null;
  }
  if (label === undefined) throw new VaekitError('This text model is conditional: give the class of the sentences (a label).');
  return new Uint8Array(n).fill(label);
}

/** The text of generated token ids. */
function texts(model: TextBundle, ids: Int32Array[]): string[] {
  return ids.map((row) => model.vocabulary.decode(row));
}

/** `count` sentences decoded from z ~ N(0, I) (a language model: from its start), drawn from `seed`. */
export function sampleSentences(model: TextBundle, count: number, seed: number, options: DecodeOptions): string[] {
  const rng = new Random(seed);
  return texts(model, model.vae.generate(null, count, options, rng, labelsOf(model, count, options.label)));
}

/** Each row's posterior mean [n, L] (a copy). */
export function posteriorMeans(model: TextBundle, set: Dataset, labels: ArrayLike<number> | null = null): Float32Array {
  return posteriorParameters(model, set, labels).mean;
}

/** Each row's posterior mean and log-variance, each [n, L] (copies). */
export function posteriorParameters(model: TextBundle, set: Dataset, labels: ArrayLike<number> | null = null): { mean: Float32Array; logvar: Float32Array } {
  const { vae } = model;
  const L = vae.latent;
  if (L === 0) throw new VaekitError('A language model has no latent code to encode sentences to.');
  const mean = new Float32Array(set.count * L);
  const logvar = new Float32Array(set.count * L);
  const rows = new Float32Array(set.size * Math.min(set.count, 256));
  for (let start = 0; start < set.count; start += 256) {
    const n = Math.min(256, set.count - start);
    set.gather(null, start, n, rows);
    const ml = vae.encodeBatch(rows, n, labels === null ? null : Array.from({ length: n }, (_, r) => labels[start + r]!));
    for (let r = 0; r < n; r++) {
      mean.set(ml.subarray(r * 2 * L, r * 2 * L + L), (start + r) * L);
      logvar.set(ml.subarray(r * 2 * L + L, (r + 1) * 2 * L), (start + r) * L);
    }
  }
  return { mean, logvar };
}

/** Each row of a text set decoded from its posterior mean (`labels`: a conditional model's class of each row). */
export function reconstructSet(model: TextBundle, set: Dataset, options: DecodeOptions, labels: ArrayLike<number> | null = null): string[] {
  if (set.count === 0) return [];
  const z = posteriorMeans(model, set, labels);
  const out: string[] = [];
  // In chunks: generate's buffers grow with its rows.
  for (let start = 0; start < set.count; start += 256) {
    const n = Math.min(256, set.count - start);
    const rowLabels = labels === null ? null : Array.from({ length: n }, (_, r) => labels[start + r]!);
    const L = model.vae.latent;
    out.push(...texts(model, model.vae.generate(z.subarray(start * L, (start + n) * L), n, options, new Random(0), rowLabels)));
  }
  return out;
}

/** Each sentence decoded from its posterior mean. */
export function reconstructSentences(model: TextBundle, sentences: readonly string[], options: DecodeOptions): string[] {
  const set = textsForModel(model, sentences);
  const labels = labelsOf(model, set.count, options.label);
  const z = posteriorMeans(model, set, labels);
  return texts(model, model.vae.generate(z, set.count, options, new Random(0), labels));
}

/**
 * Sentences decoded at `steps` evenly spaced points from one sentence's posterior mean to another's
 * (both ends included): on the straight line (Bowman et al.'s homotopy), or with `method`
 * 'spherical' on the great circle between them (slerp).
 */
export function interpolateSentences(model: TextBundle, from: string, to: string, steps: number, options: DecodeOptions, method: InterpolationMethod = 'linear'): { t: number; text: string }[] {
  if (!(Number.isInteger(steps) && steps >= 2)) throw new VaekitError(`An interpolation needs at least 2 steps, not ${steps}.`);
  const ends = textsForModel(model, [from, to]);
  const L = model.vae.latent;
  const labels = labelsOf(model, steps, options.label);
  const z0z1 = posteriorMeans(model, ends, labels === null ? null : labels.subarray(0, 2));
  const z = new Float32Array(steps * L);
  for (let s = 0; s < steps; s++) {
    const t = s / (steps - 1);
    if (method === 'spherical') slerp(z0z1.subarray(0, L), z0z1.subarray(L), t, z.subarray(s * L, (s + 1) * L));
    else for (let d = 0; d < L; d++) z[s * L + d] = (1 - t) * z0z1[d]! + t * z0z1[L + d]!;
  }
  const out = texts(model, model.vae.generate(z, steps, options, new Random(0), labels));
  return out.map((text, s) => ({ t: s / (steps - 1), text }));
}

/** Where a text model's data come from, besides the path: a CSV file's text and label columns. */
export interface TextSourceOptions {
  textColumn?: string;
  labelColumn?: string;
  /** Text that needs more memory than this streams from disk (see data/load.ts). */
  memoryBudget?: number;
  /** Hears the line that says the text streams. */
  report?: (line: string) => void;
}

/**
 * The examples at `spec` (a .txt file, a CSV/TSV file's text column, a folder of .txt files) as rows
 * of the model's token ids: read with its vocabulary and tokenizer, cut to its maximum length
 * (set.text.cut counts the sentences cut), never with a vocabulary of their own.
 */
export async function readTextForModel(model: TextBundle, spec: string, options: TextSourceOptions = {}): Promise<Dataset> {
  if (isMnistSpec(spec)) throw new VaekitError(`${spec} holds images, and a text model reads text: give a .txt file, a .csv file with a text column, or a folder of .txt files.`);
  const v = model.vocabulary;
  return loadData(spec, 'test', {
    text: {
      tokens: v.tokenizer.kind, lowercase: v.tokenizer.lowercase, vocabulary: v, maxLength: model.vae.maxLength,
      ...(options.textColumn !== undefined ? { textColumn: options.textColumn } : {}),
    },
    ...(options.labelColumn !== undefined ? { labelColumn: options.labelColumn } : {}),
    ...(options.memoryBudget !== undefined ? { memoryBudget: options.memoryBudget } : {}),
    ...(options.report !== undefined ? { report: options.report } : {}),
  });
}

/**
 * A conditional text model's class of each example of `set` (its labels matched to the model's
 * classes by name), or null for a model that is not conditional.
 */
export function classesForModel(model: TextBundle, set: Dataset): Int32Array | null {
  const C = model.vae.classes;
  if (C === 0) return null;
  if (set.labels === null) throw new VaekitError(`This is a conditional text model: it needs each sentence's class, and ${set.source} has none (give data.labelColumn, or class subfolders).`);
  const modelNames = model.data.classNames;
  const names = set.labelNames;
  if (names === null || modelNames === null) {
    return Int32Array.from(set.labels, (y) => {
      if (y >= C) throw new VaekitError(`${set.source} has the class ${y}, and the model has classes 0 to ${C - 1}.`);
      return y;
    });
  }
  const index = names.map((n) => modelNames.indexOf(n));
  return Int32Array.from(set.labels, (y) => {
    if (index[y]! < 0) throw new VaekitError(`${set.source} has the class "${names[y]}", which the model was not trained on.`);
    return index[y]!;
  });
}

/** A CSV cell: quoted when it holds a comma, a quote or a line break. */
function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A CSV table of text: the header, then one line per row, each cell quoted where it needs to be. */
export function textCsv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header, ...rows].map((cells) => `${cells.map(csvCell).join(',')}\n`).join('');
}

/** Each row of a text set as the model's vocabulary writes it (tokens not in it as <unk>, cut to its length). */
export function setSentences(set: Dataset): string[] {
  const t = set.text;
  if (t === undefined) throw new VaekitError(`${set.source} is not text.`);
  return Array.from(everyRowIds(set), (ids) => t.vocabulary.decode(ids));
}
