/**
 * The training sentences nearest a typed one by code: every training sentence encoded once to its
 * posterior mean (pipelines/text.ts posteriorMeans, a conditional model's with its own class), the
 * typed sentence encoded the same way, and the sentences whose means are closest to its mean by
 * cosine distance (1 - cos, of the directions alone) or Euclidean distance. The training sentences
 * are those of the run's data (its spec's data read as the run read it, its training part) in the
 * model's own vocabulary, so a word the model never saw is <unk> as it is in a typed sentence.
 */
import type { Dataset } from '../data/dataset.js';
import { withVocabulary } from '../data/sources/text.js';
import type { Texts } from '../data/text/texts.js';
import { VaekitError } from '../errors.js';
import type { TextBundle } from '../run/bundle-format.js';
import { loadRunData } from '../run/plan.js';
import { isTextSpec, type RunSpec } from '../run/spec.js';
import { posteriorMeans, textsForModel } from './text.js';

export type CodeDistance = 'cosine' | 'euclidean';
export const CODE_DISTANCES: readonly CodeDistance[] = ['cosine', 'euclidean'];

/** Sentences with their posterior means [count, latent]. */
export interface SentenceCodes {
  texts: Texts;
  codes: Float32Array;
  count: number;
  latent: number;
  /** Where the sentences came from (the data's source). */
  source: string;
}

/** A sentence of a SentenceCodes, its index there and its distance to the query's code. */
export interface NearSentence {
  index: number;
  text: string;
  distance: number;
}

/** The training part of a text run's data (the split its training made, data.limit applied) read with the model's vocabulary and maximum length. */
export async function trainingSentences(model: TextBundle, spec: RunSpec): Promise<Dataset> {
  if (!isTextSpec(spec)) throw new VaekitError(`The run's spec trains model.preset ${spec.model.preset}, which is not a text model.`);
  const { train } = await loadRunData(spec);
  return withVocabulary(train, model.vocabulary, model.vae.maxLength);
}

/** The posterior mean of each sentence of a text set read in the model's vocabulary (with its own class for a conditional model). */
export function sentenceCodes(model: TextBundle, set: Dataset): SentenceCodes {
  const texts = set.text?.texts;
  if (texts === undefined) throw new VaekitError(`${set.source} is not text.`);
  if (model.vae.classes > 0 && set.labels === null) throw new VaekitError(`This text model is conditional, and ${set.source} has no classes to encode its sentences with.`);
  const codes = posteriorMeans(model, set, model.vae.classes > 0 ? set.labels : null);
  return { texts, codes, count: set.count, latent: model.vae.latent, source: set.source };
}

/** The distance between row `i` of `codes` and `query` (both `latent` wide), summed in float64. */
export function codeDistance(codes: Float32Array, i: number, query: Float32Array, latent: number, metric: CodeDistance): number {
  const at = i * latent;
  if (metric === 'euclidean') {
    let sum = 0;
    for (let d = 0; d < latent; d++) sum += (codes[at + d]! - query[d]!) ** 2;
    return Math.sqrt(sum);
  }
  let dot = 0;
  let a = 0;
  let b = 0;
  for (let d = 0; d < latent; d++) {
    const x = codes[at + d]!;
    const y = query[d]!;
    dot += x * y;
    a += x * x;
    b += y * y;
  }
  // A zero vector has no direction: as far from every other as orthogonal ones are.
  return a === 0 || b === 0 ? 1 : 1 - dot / Math.sqrt(a * b);
}

/** The indices of the `k` codes nearest `query`, nearest first (equal distances: the earlier sentence first). */
export function nearestCodes(codes: SentenceCodes, query: Float32Array, k: number, metric: CodeDistance): { index: number; distance: number }[] {
  if (!(Number.isInteger(k) && k >= 1)) throw new VaekitError(`The number of nearest sentences must be a whole number >= 1, not ${k}.`);
  if (query.length !== codes.latent) throw new VaekitError(`The query code has ${query.length} values, and the sentences' codes ${codes.latent}.`);
  const distances = new Float64Array(codes.count);
  for (let i = 0; i < codes.count; i++) distances[i] = codeDistance(codes.codes, i, query, codes.latent, metric);
  const order = Array.from({ length: codes.count }, (_, i) => i).sort((x, y) => distances[x]! - distances[y]! || x - y);
  return order.slice(0, k).map((index) => ({ index, distance: distances[index]! }));
}

/** The `k` sentences of `codes` nearest `sentence` by posterior mean; `label`: a conditional model's class of the typed sentence. */
export function nearestSentences(model: TextBundle, codes: SentenceCodes, sentence: string, k: number, metric: CodeDistance, label?: number): NearSentence[] {
  if (model.vae.latent === 0) throw new VaekitError('A language model has no latent code to find near sentences by.');
  if (model.vae.classes > 0 && label === undefined) throw new VaekitError('This text model is conditional: give the class of the sentence (a label).');
  if (model.vae.classes === 0 && label !== undefined) throw new VaekitError('This text model is not conditional: it takes no label.');
  const query = posteriorMeans(model, textsForModel(model, [sentence], 'the sentence'), label === undefined ? null : [label]);
  return nearestCodes(codes, query, k, metric).map(({ index, distance }) => ({ index, text: codes.texts.text(index), distance }));
}
