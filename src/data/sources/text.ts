/**
 * Text data as a Dataset: examples read by data/text/read.ts (a .txt file, a CSV/TSV column, a
 * folder of .txt files), split into tokens and numbered by a vocabulary (built from these examples
 * for training, or a trained model's for every later command), one row of `maxLength` ids per
 * example, stored as floats, <pad> (0) after its tokens.
 */
import { arrayDataset, storedChunks, valuesInMemory, type Dataset } from '../dataset.js';
import { VaekitError } from '../../errors.js';
import { checkMaxLength, checkTextWidth, encodeTexts } from '../text/encode.js';
import { encodeStreamed } from '../stream/text.js';
import { readTextData, type TextCorpus } from '../text/read.js';
import { textsInMemory, textsOnlySet } from '../text/texts.js';
import type { TokenKind } from '../text/tokenize.js';
import { buildVocabulary, type Vocabulary } from '../text/vocab.js';

export { MAX_TEXT_LENGTH } from '../text/encode.js';

export interface TextReadOptions {
  /** CSV data: the column that holds the text. */
  textColumn?: string;
  /** CSV data: the column that holds the class. */
  labelColumn?: string;
  /** How to read the text when building a vocabulary (ignored with `vocabulary`). */
  tokens: TokenKind;
  lowercase: boolean;
  /** Keep the `vocab` most frequent tokens (every token when undefined). */
  vocab?: number;
  /** Tokens kept of each example; undefined: the longest example's count. */
  maxLength?: number;
  /** Read with this vocabulary (a trained model's) instead of building one. */
  vocabulary?: Vocabulary;
  /**
   * Read the texts, ids and labels alone (textsOnly): rows of one <pad> each, under a vocabulary of
   * the special tokens. A training run reads its training part again in a vocabulary built from that
   * part, and its validation part in that vocabulary (plan.ts), so the whole corpus is never split
   * into tokens before.
   */
  textsOnly?: boolean;
}

/** The examples at `path` as rows of token ids (see the top of this file), in memory. */
export async function loadText(path: string, options: TextReadOptions): Promise<Dataset> {
  const corpus = await readTextData(path, {
    ...(options.textColumn !== undefined ? { textColumn: options.textColumn } : {}),
    ...(options.labelColumn !== undefined ? { labelColumn: options.labelColumn } : {}),
  });
  return textDataset(corpus, options);
}

/** A corpus already read (or typed: the studio's sentences) as rows of token ids. */
export function textDataset(corpus: TextCorpus, options: TextReadOptions): Dataset {
  checkMaxLength(options.maxLength);
  if (options.textsOnly === true) {
    const ids = corpus.ids;
    return textsOnlySet(textsInMemory(corpus.texts), { kind: options.tokens, lowercase: options.lowercase }, { labels: corpus.labels, labelNames: corpus.labelNames, source: corpus.source, ids: (i) => ids[i]! });
  }
  const vocabulary = options.vocabulary
    ?? buildVocabulary(corpus.texts, { kind: options.tokens, lowercase: options.lowercase }, options.vocab, corpus.source);
  const encoded = encodeTexts(corpus.texts, vocabulary, options.maxLength);
  checkTextWidth(encoded.maxLength, corpus.source, vocabulary);
  const ids = corpus.ids;
  return arrayDataset({
    values: encoded.ids,
    shape: [encoded.maxLength],
    labels: corpus.labels,
    labelNames: corpus.labelNames,
    source: corpus.source,
    ids: (i) => ids[i]!,
    text: { vocabulary, lengths: encoded.lengths, texts: textsInMemory(corpus.texts), cut: encoded.cut },
  });
}

/** The token ids of every row of a text set, in order (a streamed set's read a chunk at a time; each array is a view, valid until the next). */
export function* everyRowIds(set: Dataset): Generator<Float32Array> {
  const lengths = set.text?.lengths;
  for (const { values, rows, first } of storedChunks(set)) {
    for (let r = 0; r < rows; r++) {
      const at = r * set.size;
      yield (values as Float32Array).subarray(at, at + (lengths?.[first + r] ?? set.size));
    }
  }
}

/** Token ids of row `r` of a text set (its first lengths[r] values). */
export function rowIds(set: Dataset, r: number): Int32Array {
  const length = set.text?.lengths[r] ?? set.size;
  return Int32Array.from(valuesInMemory(set, 'Text').subarray(r * set.size, r * set.size + length));
}

/**
 * A text set read again with another vocabulary and maximum length (its texts, ids and labels
 * kept): a validation part in its training part's vocabulary, new data in a trained model's. A
 * streamed set's ids (a set whose texts are on disk: a corpus that streams) are written to disk
 * again (data/stream/text.ts).
 */
export async function withVocabulary(set: Dataset, vocabulary: Vocabulary, maxLength?: number): Promise<Dataset> {
  const t = set.text;
  if (t === undefined) throw new VaekitError(`${set.source} is not text.`);
  const ids = set.ids ?? String;
  if (set.values === null || t.texts.onDisk) {
    return encodeStreamed(t.texts, vocabulary, maxLength, { labels: set.labels, labelNames: set.labelNames, source: set.source, ids });
  }
  return textDataset(
    { texts: [...t.texts], ids: Array.from({ length: set.count }, (_, i) => ids(i)), labels: set.labels, labelNames: set.labelNames === null ? null : [...set.labelNames], source: set.source, blank: 0 },
    { tokens: vocabulary.tokenizer.kind, lowercase: vocabulary.tokenizer.lowercase, vocabulary, ...(maxLength !== undefined ? { maxLength } : {}) },
  );
}
