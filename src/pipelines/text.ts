/**
 * Using a trained text model, for the CLI and the studio alike: sentences drawn from the prior,
 * typed sentences encoded to their posterior means and decoded back, the homotopy between two
 * sentences (Bowman et al. 2016: decode points on the line between their codes), and the codes of
 * a set of sentences. Text always goes in through the model's own vocabulary and length.
 */
import { textDataset } from '../data/sources/text.js';
import type { Dataset } from '../data/dataset.js';
import { Random } from '../engine/random.js';
import { VaekitError } from '../errors.js';
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
  const { vae } = model;
  const L = vae.latent;
  if (L === 0) throw new VaekitError('A language model has no latent code to encode sentences to.');
  const out = new Float32Array(set.count * L);
  const rows = new Float32Array(set.size * Math.min(set.count, 256));
  for (let start = 0; start < set.count; start += 256) {
    const n = Math.min(256, set.count - start);
    set.gather(null, start, n, rows);
    const ml = vae.encodeBatch(rows, n, labels === null ? null : Array.from({ length: n }, (_, r) => labels[start + r]!));
    for (let r = 0; r < n; r++) out.set(ml.subarray(r * 2 * L, r * 2 * L + L), (start + r) * L);
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

/** Sentences decoded at `steps` evenly spaced points from one sentence's posterior mean to another's (both ends included). */
export function interpolateSentences(model: TextBundle, from: string, to: string, steps: number, options: DecodeOptions): { t: number; text: string }[] {
  if (!(Number.isInteger(steps) && steps >= 2)) throw new VaekitError(`An interpolation needs at least 2 steps, not ${steps}.`);
  const ends = textsForModel(model, [from, to]);
  const L = model.vae.latent;
  const labels = labelsOf(model, steps, options.label);
  const z0z1 = posteriorMeans(model, ends, labels === null ? null : labels.subarray(0, 2));
  const z = new Float32Array(steps * L);
  for (let s = 0; s < steps; s++) {
    const t = s / (steps - 1);
    for (let d = 0; d < L; d++) z[s * L + d] = (1 - t) * z0z1[d]! + t * z0z1[L + d]!;
  }
  const out = texts(model, model.vae.generate(z, steps, options, new Random(0), labels));
  return out.map((text, s) => ({ t: s / (steps - 1), text }));
}
