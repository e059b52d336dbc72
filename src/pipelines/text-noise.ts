/**
 * Noise for text, what `vaekit denoise` corrupts a text model's input with:
 *   word-dropout:P   each token replaced by <unk> with probability P (Bowman et al. 2016's word
 *                    dropout, applied here to the encoder's input)
 *   masking:P        the same: the name the image and table noise (data/transforms/noise.ts) gives
 *                    to hiding values, so one --noise works for every kind of model
 *   none             the sentence as it is
 * Every example's noise comes from its own generator, seeded from (seed, example index), so it does
 * not depend on the order or the batches the examples are read in.
 */
import { arrayDataset, type Dataset } from '../data/dataset.js';
import { everyRowIds } from '../data/sources/text.js';
import { textsInMemory } from '../data/text/texts.js';
import type { NoiseSpec } from '../data/transforms/noise.js';
import { PAD, UNK } from '../data/text/vocab.js';
import { mix32, Random } from '../engine/random.js';
import { VaekitError } from '../errors.js';

export type TextNoise =
  | { kind: 'none' }
  | { kind: 'word-dropout'; probability: number }
  | { kind: 'masking'; probability: number };

export const TEXT_NOISE_HELP = '"word-dropout:P" or "masking:P" (each token becomes <unk> with probability P) or "none"';

/** A plain decimal number such as 0.2, .5 or 1 (no sign, spaces or words). */
const DECIMAL_NUMBER = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Whether a --noise text names a text noise only (word-dropout), which the image noise parser does not know. */
export function isTextOnlyNoise(text: string): boolean {
  return text === 'word-dropout' || text.startsWith('word-dropout:');
}

/** Parses "none", "word-dropout:P" or "masking:P" (P from 0 to 1). */
export function parseTextNoise(text: string): TextNoise {
  if (text === 'none') return { kind: 'none' };
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  if ((kind === 'word-dropout' || kind === 'masking') && colon >= 0) {
    const valueText = text.slice(colon + 1);
    const value = DECIMAL_NUMBER.test(valueText) ? Number(valueText) : NaN;
    if (!(value >= 0 && value <= 1)) throw new VaekitError(`Invalid noise probability "${valueText}" in "${text}": use a number from 0 to 1, e.g. "${kind}:0.2".`);
    return kind === 'word-dropout' ? { kind, probability: value } : { kind, probability: value };
  }
  throw new VaekitError(`Unknown text noise "${text}": use ${TEXT_NOISE_HELP}, e.g. "word-dropout:0.2".`);
}

/** The text that parseTextNoise turns back into `noise`. */
export function formatTextNoise(noise: TextNoise): string {
  return noise.kind === 'none' ? 'none' : `${noise.kind}:${noise.probability}`;
}

/**
 * A text model's noise from a --noise value parsed by either parser: the image parser's "masking:P"
 * and "none" mean the same for text; its gaussian and salt-and-pepper noise have no meaning for
 * tokens and are refused.
 */
export function textNoiseOf(spec: NoiseSpec | TextNoise): TextNoise {
  switch (spec.kind) {
    case 'none':
    case 'word-dropout':
      return spec;
    case 'masking':
      return { kind: 'masking', probability: spec.probability };
    default:
      throw new VaekitError(`${spec.kind} noise changes the values of images and tables; a text model's input takes ${TEXT_NOISE_HELP}.`);
  }
}

/** The seed of example `index`'s noise: a bijection of the index for a fixed seed. */
function exampleSeed(seed: number, index: number): number {
  const base = mix32((seed ^ 0x74786e73) >>> 0);
  return mix32((base + Math.imul(index, 0x9e3779b9)) >>> 0);
}

/**
 * Each example of a text set with its tokens replaced by <unk> with the noise's probability (one
 * uniform draw per token from the example's own generator), as a text set whose texts are the
 * noisy sentences as the model's vocabulary writes them ("<unk>" for a dropped token).
 */
export function noisyTextSet(set: Dataset, noise: TextNoise, seed: number): Dataset {
  const t = set.text;
  if (t === undefined) throw new VaekitError(`${set.source} is not text, and text noise corrupts tokens.`);
  const N = set.size;
  const p = noise.kind === 'none' ? 0 : noise.probability;
  const texts: string[] = [];
  const values = new Float32Array(set.count * N);
  let r = 0;
  for (const ids of everyRowIds(set)) {
    const rng = new Random(exampleSeed(seed >>> 0, r));
    const row = new Int32Array(ids.length);
    for (let i = 0; i < row.length; i++) row[i] = p > 0 && rng.uniform() < p ? UNK : ids[i]!;
    values.set(row, r * N);
    values.fill(PAD, r * N + row.length, (r + 1) * N);
    texts.push(t.vocabulary.decode(row));
    r++;
  }
  return arrayDataset({
    values, shape: set.shape, labels: set.labels, labelNames: set.labelNames, source: `${set.source} with ${formatTextNoise(noise)}`,
    ...(set.ids !== undefined ? { ids: set.ids } : {}),
    text: { vocabulary: t.vocabulary, lengths: t.lengths, texts: textsInMemory(texts), cut: t.cut },
  });
}
