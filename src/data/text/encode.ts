/**
 * Examples as rows of token ids: one row of `maxLength` ids per example, padded with <pad> (0).
 * An example with more tokens than `maxLength` keeps its first `maxLength`; how many were cut is
 * counted, for the report. No <bos> or <eos> is added: a model adds its own.
 */
import { VaekitError } from '../../errors.js';
import { PAD, type Vocabulary } from './vocab.js';

/** The most tokens vaekit keeps of one example (a longer maxLength is refused). */
export const MAX_TEXT_LENGTH = 4096;

/** Refuses a maximum length that is not a whole number of tokens from 1 to MAX_TEXT_LENGTH. */
export function checkMaxLength(maxLength: number | undefined): void {
  if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength >= 1 && maxLength <= MAX_TEXT_LENGTH)) {
    throw new VaekitError(`The maximum length must be a whole number of tokens from 1 to ${MAX_TEXT_LENGTH}, not ${maxLength}.`);
  }
}

/** Refuses rows of `width` ids (the maxLength given, else the longest example's tokens) read from `source` with `vocabulary`: none, or too many. */
export function checkTextWidth(width: number, source: string, vocabulary: Vocabulary): void {
  if (width === 0) throw new VaekitError(`${source} holds no tokens: every example is empty once split into ${vocabulary.tokenizer.kind} tokens.`);
  if (width > MAX_TEXT_LENGTH) {
    throw new VaekitError(`${source} has an example of ${width.toLocaleString('en-US')} tokens, more than the ${MAX_TEXT_LENGTH} vaekit keeps by default: give a maximum length (data.maxLength) to cut longer examples.`);
  }
}

export interface EncodedTexts {
  count: number;
  /** Ids per row: the maxLength asked for, else the longest example's token count. */
  maxLength: number;
  /** count * maxLength ids, row after row, each row padded with <pad> (0) after its tokens: as a text set stores them, floats. */
  ids: Float32Array;
  /** Tokens kept of each example (<= maxLength). */
  lengths: Int32Array;
  /** Examples longer than maxLength, cut to it. */
  cut: number;
}

/** The ids of every text, cut to `maxLength` tokens when given (a whole number >= 1). */
export function encodeTexts(texts: readonly string[], vocabulary: Vocabulary, maxLength?: number): EncodedTexts {
  if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength < 1)) {
    throw new VaekitError(`The maximum length must be a whole number of tokens >= 1, not ${maxLength}.`);
  }
  // Without a maxLength the longest example sets the width, so every example is encoded first;
  // with one, each is written as it is encoded.
  const encoded = maxLength === undefined ? texts.map((text) => vocabulary.encode(text)) : null;
  const width = maxLength ?? encoded!.reduce((longest, row) => Math.max(longest, row.length), 0);
  const ids = new Float32Array(texts.length * width).fill(PAD);
  const lengths = new Int32Array(texts.length);
  let cut = 0;
  texts.forEach((text, i) => {
    const row = encoded?.[i] ?? vocabulary.encode(text);
    if (row.length > width) cut++;
    const kept = row.subarray(0, width);
    ids.set(kept, i * width);
    lengths[i] = kept.length;
  });
  return { count: texts.length, maxLength: width, ids, lengths, cut };
}
