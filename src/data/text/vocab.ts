/**
 * A Vocabulary: the tokenizer settings and the tokens a model knows, each with its id.
 *
 *   ids 0..3   the special tokens <pad> (0), <unk> (any token not in the vocabulary), <bos>, <eos>
 *   ids 4..    word and char tokens: the corpus's most frequent tokens, most frequent first; tokens
 *              as frequent as each other in the order they first occur in the corpus, so the same
 *              corpus always gives the same ids.
 *              bpe tokens: the end-of-word marker "</w>", every code point of the corpus's words in
 *              code-point order, then each symbol the learned merges made, in the order learned
 *              (bpe.ts); the merges are kept with the tokenizer settings ("merges" in the JSON)
 *
 * No tokenizer produces a special token's text ("<unk>" is split into "<" "unk" ">" by the word
 * tokenizer and into five characters by the char one; no bpe piece holds "<" beside another
 * character but in the marker "</w>"), so a special id only comes from here.
 * A vocabulary is kept as a plain JSON object (toJSON / vocabularyFromJson) with a format name and a
 * version, checked when it is read back.
 */
import { clip, VaekitError } from '../../errors.js';
import { bpeAlphabet, trainBpe, type BpeMerge } from './bpe.js';
import { detokenize, TOKEN_KINDS, tokenize, type TokenizerSettings, type TokenKind } from './tokenize.js';

export const PAD = 0;
export const UNK = 1;
export const BOS = 2;
export const EOS = 3;
export const SPECIAL_TOKENS: readonly string[] = ['<pad>', '<unk>', '<bos>', '<eos>'];

export const VOCABULARY_FORMAT = 'vaekit-vocabulary';
export const VOCABULARY_VERSION = 1;

/** A vocabulary as plain JSON data. */
export interface VocabularyJson {
  format: typeof VOCABULARY_FORMAT;
  version: number;
  /** For bpe, with "merges": a list of [left, right] pairs of tokens, in the order learned. */
  tokenizer: TokenizerSettings;
  /** Every token, by id: the special tokens first. */
  tokens: string[];
}

export class Vocabulary {
  private readonly ids: Map<string, number>;

  /** `tokens` by id, the special tokens first (checked). */
  constructor(
    readonly tokenizer: TokenizerSettings,
    readonly tokens: readonly string[],
  ) {
    SPECIAL_TOKENS.forEach((special, id) => {
      if (tokens[id] !== special) throw new RangeError(`Vocabulary: token ${id} must be ${special}, not ${String(tokens[id])}.`);
    });
    this.ids = new Map(tokens.map((token, id) => [token, id]));
    if (this.ids.size !== tokens.length) throw new RangeError('Vocabulary: a token is listed twice.');
    if ((tokenizer.kind === 'bpe') !== (tokenizer.merges !== undefined)) {
      throw new RangeError(`Vocabulary: a ${tokenizer.kind} tokenizer ${tokenizer.kind === 'bpe' ? 'needs' : 'has no'} merges.`);
    }
    const unknown = tokenizer.merges === undefined ? undefined : mergeNotInVocabulary(tokenizer.merges, this.ids);
    if (unknown !== undefined) throw new RangeError(`Vocabulary: merge ${unknown} makes or joins a token not in the vocabulary.`);
  }

  /** Tokens in the vocabulary, the special ones included. */
  get size(): number {
    return this.tokens.length;
  }

  /** A token's id, <unk>'s for a token not in the vocabulary. */
  idOf(token: string): number {
    return this.ids.get(token) ?? UNK;
  }

  /** The ids of a text's tokens (no <bos> or <eos> added); <unk> for tokens not in the vocabulary. */
  encode(text: string): Int32Array {
    return Int32Array.from(tokenize(text, this.tokenizer), (token) => this.idOf(token));
  }

  /**
   * The text of a sequence of ids: up to the first <eos>, <pad> and <bos> left out, <unk> written
   * as "<unk>", tokens joined as the tokenizer's detokenize joins them.
   */
  decode(ids: ArrayLike<number>): string {
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= this.tokens.length) {
        throw new RangeError(`Vocabulary.decode: id ${id} is not in the vocabulary (0..${this.tokens.length - 1}).`);
      }
      if (id === EOS) break;
      if (id !== PAD && id !== BOS) tokens.push(this.tokens[id]!);
    }
    return detokenize(tokens, this.tokenizer.kind);
  }

  toJSON(): VocabularyJson {
    const { kind, lowercase, merges } = this.tokenizer;
    const tokenizer: TokenizerSettings = merges === undefined ? { kind, lowercase } : { kind, lowercase, merges: merges.map(([left, right]) => [left, right]) };
    return { format: VOCABULARY_FORMAT, version: VOCABULARY_VERSION, tokenizer, tokens: [...this.tokens] };
  }
}

/** The index of the first merge whose two tokens or whose result is not in `ids`, if any. */
function mergeNotInVocabulary(merges: readonly BpeMerge[], ids: ReadonlyMap<string, number>): number | undefined {
  const at = merges.findIndex(([left, right]) => !ids.has(left) || !ids.has(right) || !ids.has(left + right));
  return at < 0 ? undefined : at;
}

/**
 * The vocabulary of a corpus: for word and char tokens, its `size` most frequent tokens (every
 * distinct token when `size` is undefined) after the special ones; `source` names the corpus in
 * the message when `size` is more than the corpus has distinct tokens.
 *
 * For bpe tokens, merges learned from the corpus's words (bpe.ts) until the vocabulary holds
 * `size` tokens after the special ones (as for word and char tokens), or no pair of symbols occurs twice (then it is smaller;
 * always so when `size` is undefined); the merges of `tokenizer`, if any, are not used. `size` must
 * leave room for the special tokens, the end-of-word marker and every code point of the corpus;
 * `source` names the corpus in the message when it does not.
 */
export function buildVocabulary(texts: Iterable<string>, tokenizer: TokenizerSettings, size: number | undefined, source: string): Vocabulary {
  if (size !== undefined && (!Number.isInteger(size) || size < 1)) {
    throw new VaekitError(`The vocabulary size must be a whole number >= 1, not ${size}.`);
  }
  if (tokenizer.kind === 'bpe') return buildBpeVocabulary(texts, tokenizer.lowercase, size, source);
  const counts = new Map<string, number>(); // in order of first occurrence
  for (const text of texts) {
    for (const token of tokenize(text, tokenizer)) counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  if (size !== undefined && size > counts.size) {
    throw new VaekitError(
      `A vocabulary of ${size.toLocaleString('en-US')} tokens was asked for, but ${source} holds only ${counts.size.toLocaleString('en-US')} distinct ${tokenizer.kind} tokens; ask for at most ${counts.size.toLocaleString('en-US')}, or leave the size out to keep them all.`,
    );
  }
  const byCount = [...counts.entries()].sort((a, b) => b[1] - a[1]); // stable: ties stay in first-occurrence order
  const kept = byCount.slice(0, size ?? byCount.length).map(([token]) => token);
  return new Vocabulary({ kind: tokenizer.kind, lowercase: tokenizer.lowercase }, [...SPECIAL_TOKENS, ...kept]);
}

function buildBpeVocabulary(texts: Iterable<string>, lowercase: boolean, size: number | undefined, source: string): Vocabulary {
  const words = new Map<string, number>();
  const split: TokenizerSettings = { kind: 'word', lowercase };
  for (const text of texts) {
    for (const word of tokenize(text, split)) words.set(word, (words.get(word) ?? 0) + 1);
  }
  const smallest = bpeAlphabet(words.keys()).length;
  if (size !== undefined && size < smallest) {
    throw new VaekitError(
      `A bpe vocabulary of ${size.toLocaleString('en-US')} tokens cannot hold the end-of-word marker and the ${(smallest - 1).toLocaleString('en-US')} distinct characters of ${source}; ask for at least ${smallest.toLocaleString('en-US')}.`,
    );
  }
  const learned = trainBpe(words, size);
  return new Vocabulary({ kind: 'bpe', lowercase, merges: learned.merges }, [...SPECIAL_TOKENS, ...learned.tokens]);
}

/** A vocabulary from its JSON form, checked; `where` names its file in the message when it is not one. */
export function vocabularyFromJson(value: unknown, where: string): Vocabulary {
  const bad = (why: string): never => {
    throw new VaekitError(`${where} does not hold a valid vaekit vocabulary: ${why}.`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('it is not a JSON object');
  const json = value as Record<string, unknown>;
  if (json.format !== VOCABULARY_FORMAT) return bad(`its "format" is not "${VOCABULARY_FORMAT}"`);
  if (typeof json.version !== 'number' || !Number.isInteger(json.version) || json.version < 1) return bad('its "version" is not a whole number >= 1');
  if (json.version > VOCABULARY_VERSION) {
    throw new VaekitError(`${where} holds a vocabulary of version ${json.version}, newer than the version ${VOCABULARY_VERSION} this vaekit reads; use a newer vaekit.`);
  }
  const tokenizer = json.tokenizer;
  if (typeof tokenizer !== 'object' || tokenizer === null) return bad('it has no "tokenizer" object');
  const { kind, lowercase } = tokenizer as Record<string, unknown>;
  if (typeof kind !== 'string' || !(TOKEN_KINDS as readonly string[]).includes(kind)) return bad(`its tokenizer kind is not one of ${TOKEN_KINDS.join(', ')}`);
  if (typeof lowercase !== 'boolean') return bad('its tokenizer\'s "lowercase" is not true or false');
  const tokens = json.tokens;
  if (!Array.isArray(tokens)) return bad('it has no "tokens" list');
  const seen = new Set<string>();
  tokens.forEach((token: unknown, id) => {
    if (typeof token !== 'string' || token === '') bad(`token ${id} is not a non-empty string`);
    if (id < SPECIAL_TOKENS.length && token !== SPECIAL_TOKENS[id]) bad(`token ${id} is "${clip(String(token))}", not ${SPECIAL_TOKENS[id]}`);
    if (seen.has(token as string)) bad(`the token "${clip(String(token))}" is listed twice`);
    seen.add(token as string);
  });
  if (tokens.length < SPECIAL_TOKENS.length) bad(`it lists ${tokens.length} tokens, fewer than the ${SPECIAL_TOKENS.length} special ones`);
  const merges = (tokenizer as Record<string, unknown>).merges;
  if (kind !== 'bpe') {
    if (merges !== undefined) bad(`its ${kind} tokenizer has "merges", which only a bpe tokenizer has`);
    return new Vocabulary({ kind: kind as TokenKind, lowercase }, tokens as string[]);
  }
  if (!Array.isArray(merges)) return bad('its bpe tokenizer has no "merges" list');
  const pairs: BpeMerge[] = [];
  const listed = new Set<string>();
  merges.forEach((merge: unknown, at) => {
    if (!Array.isArray(merge) || merge.length !== 2 || merge.some((part: unknown) => typeof part !== 'string' || part === '')) {
      bad(`merge ${at} is not a pair of non-empty strings`);
    }
    const [left, right] = merge as [string, string];
    const key = JSON.stringify([left, right]);
    if (listed.has(key)) bad(`the merge "${clip(left)}" "${clip(right)}" is listed twice`);
    listed.add(key);
    pairs.push([left, right]);
  });
  const unknown = mergeNotInVocabulary(pairs, new Map((tokens as string[]).map((token, id) => [token, id])));
  if (unknown !== undefined) bad(`merge ${unknown} ("${clip(pairs[unknown]![0])}" "${clip(pairs[unknown]![1])}") makes or joins a token not in its "tokens"`);
  return new Vocabulary({ kind: 'bpe', lowercase, merges: pairs }, tokens as string[]);
}
