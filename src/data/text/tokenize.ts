/**
 * Tokenizers: text to tokens and back.
 *
 * All three first normalise the text: lower-cased when asked (String.prototype.toLowerCase, the same in
 * every locale), then Unicode NFC, so an accented letter typed as one code point or as a letter and a
 * combining mark is the same text.
 *
 *   char   one token per Unicode code point (not per UTF-16 unit: an emoji such as U+1F600 is one
 *          token; a sequence of several code points, such as a flag or a skin-toned emoji, is several).
 *          Spaces are tokens too. detokenize joins the tokens as they are, so
 *          detokenize(tokenize(x)) === normaliseText(x).
 *
 *   word   the rule: a token is either
 *            - a run of Unicode letters, combining marks and digits (\p{L}\p{M}\p{N}), which may hold
 *              an apostrophe (' or ’) between two such characters ("don't", "l’homme" are one token), or
 *            - any other character that is not white space, alone (each punctuation mark, symbol
 *              or emoji code point is its own token: "1.5" is "1" "." "5").
 *          White space separates tokens and is dropped. detokenize joins the tokens with one space,
 *          except none before a closing mark (. , ; : ! ? % ) ] } » …) and none after an opening
 *          one (( [ { « ¿ ¡): "Hello , world ( again ) !" comes back as "hello, world (again)!". The
 *          normalised form of a text is detokenize(tokenize(x)); tokenizing it gives the same tokens.
 *
 *   bpe    byte-pair encoding (bpe.ts): the text is split into words as by the word tokenizer, and
 *          each word into the pieces that the merges learned by buildVocabulary (vocab.ts) make of
 *          it. A word starts as its code points followed by the end-of-word marker "</w>", so the
 *          last piece of each word ends with "</w>" ("lower" may be "low" "er</w>"). detokenize
 *          joins the pieces into words at each "</w>" and the words as the word tokenizer does, so
 *          detokenize(tokenize(x)) is the word tokenizer's normalised form of x. Tokenizing needs
 *          the merges (TokenizerSettings.merges); a code point no merge knows is a piece alone.
 */
import { bpeEncoderFor, joinBpePieces, type BpeMerge } from './bpe.js';

export type TokenKind = 'word' | 'char' | 'bpe';

/** How text becomes tokens: kept with a vocabulary, so every later reading splits text the same way. */
export interface TokenizerSettings {
  kind: TokenKind;
  /** Lower-case the text before splitting it. */
  lowercase: boolean;
  /**
   * bpe only, and needed there: the merges, in the order learned (buildVocabulary learns them).
   * Not changed once given: the encoder made from them is kept with the list.
   */
  merges?: readonly BpeMerge[];
}

export const TOKEN_KINDS: readonly TokenKind[] = ['word', 'char', 'bpe'];

const WORD_TOKEN = /[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*|\S/gu;
const CLOSING = new Set(['.', ',', ';', ':', '!', '?', '%', ')', ']', '}', '»', '…']);
const OPENING = new Set(['(', '[', '{', '«', '¿', '¡']);

/** The text the tokenizer splits: lower-cased when asked, then NFC. */
export function normaliseText(text: string, settings: TokenizerSettings): string {
  return (settings.lowercase ? text.toLowerCase() : text).normalize('NFC');
}

/** The tokens of a text (see the top of this file). */
export function tokenize(text: string, settings: TokenizerSettings): string[] {
  const normal = normaliseText(text, settings);
  if (settings.kind === 'char') return Array.from(normal);
  const words = normal.match(WORD_TOKEN) ?? [];
  if (settings.kind === 'word') return words;
  if (settings.merges === undefined) throw new RangeError('tokenize: bpe tokens need the merges (TokenizerSettings.merges).');
  const encoder = bpeEncoderFor(settings.merges);
  const pieces: string[] = [];
  for (const word of words) pieces.push(...encoder.encodeWord(word));
  return pieces;
}

/** Tokens joined back into text (see the top of this file for word tokens' spacing). */
export function detokenize(tokens: readonly string[], kind: TokenKind): string {
  if (kind === 'char') return tokens.join('');
  if (kind === 'bpe') return detokenize(joinBpePieces(tokens), 'word');
  let text = '';
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (i > 0 && !CLOSING.has(token) && !OPENING.has(tokens[i - 1]!)) text += ' ';
    text += token;
  }
  return text;
}
