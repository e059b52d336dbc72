/**
 * Byte-pair encoding (BPE) over code points, as in Sennrich et al. (2016): learned by merging the
 * most frequent pair of adjacent symbols, again and again, within words.
 *
 * Words. The text is split into words as the word tokenizer splits it (see tokenize.ts); this file
 * only sees the words, each with its count. A word is its Unicode code points followed by the
 * end-of-word marker END_OF_WORD ("</w>", a symbol of its own): "low" starts as l o w </w>. A
 * symbol made by merges that ends with "</w>" ends a word (only a merge with the marker can end so:
 * a word never holds "<" beside another character), which is how the pieces are joined back into
 * words (joinBpePieces) and the words into text (the word tokenizer's spacing).
 *
 * Learning (trainBpe). The alphabet is "</w>" then every code point of the words, in code-point
 * order. Each step merges the pair of adjacent symbols that occurs most often (pairs counted in
 * every word, overlapping ones too, times the word's count), everywhere in every word, left to
 * right; pairs as frequent as each other go in code-point order of the left symbol, then of the
 * right one (code points, not UTF-16 units: U+FF5A comes before U+1D41A). It stops when the
 * tokens (the alphabet and the new symbols) reach the number asked for, or when no pair occurs
 * twice. The result is the same for the same words and counts, whatever their order.
 *
 * Pair counts are kept up to date as words change (only the words holding the merged pair are
 * looked at, found through an index of the words each pair occurs in), and the next pair comes from
 * a heap, so a merge costs about the size of the words it touches, not of the corpus.
 *
 * Encoding (BpeEncoder.encodeWord) applies the merges to a word in the order they were learned (by
 * rank, as GPT-2's bpe() does), which splits every word of the corpus as learning left it. A code
 * point that is not in the alphabet stays a piece of its own, and merges never touch it; the
 * vocabulary gives it the id of <unk>.
 */

/** The end-of-word marker: the last symbol of every word before merges. */
export const END_OF_WORD = '</w>';

/** A merge: two adjacent symbols that become one, their texts joined. */
export type BpeMerge = readonly [left: string, right: string];

/** What trainBpe learned. */
export interface BpeTraining {
  /** END_OF_WORD, then every code point of the words in code-point order. */
  alphabet: string[];
  /** The merges, in the order learned. */
  merges: BpeMerge[];
  /** The alphabet, then each new symbol the merges made, in the order made (each once). */
  tokens: string[];
}

/**
 * Compares two strings by code point (String's `<` compares UTF-16 units, which puts U+10000 and
 * above before U+E000..U+FFFF). Negative when `a` comes first.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixUp(x) - fixUp(y);
  }
  return a.length - b.length;
}

/** A UTF-16 unit moved so that units compare in code-point order: surrogates after U+FFFF. */
function fixUp(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/** END_OF_WORD, then every code point of `words` in code-point order. */
export function bpeAlphabet(words: Iterable<string>): string[] {
  const chars = new Set<string>();
  for (const word of words) for (const char of word) chars.add(char);
  return [END_OF_WORD, ...[...chars].sort(compareCodePoints)];
}

/** Symbol ids below this; a pair of ids is one number, left * PAIR + right (below 2^52). */
const PAIR = 2 ** 26;

/**
 * The merges of `words` (each word with its count, a whole number >= 1), until the tokens (the
 * alphabet and the symbols made) number `maxTokens`, or, when it is undefined, until no pair
 * occurs twice. `maxTokens` must be at least the alphabet's size (see bpeAlphabet).
 */
export function trainBpe(words: Iterable<readonly [string, number]>, maxTokens?: number): BpeTraining {
  const counted = [...words];
  const alphabet = bpeAlphabet(counted.map(([word]) => word));
  if (maxTokens !== undefined && maxTokens < alphabet.length) {
    throw new RangeError(`trainBpe: ${maxTokens} tokens cannot hold the alphabet of ${alphabet.length}.`);
  }
  const symbols = [...alphabet];
  const idOf = new Map(symbols.map((symbol, id) => [symbol, id]));
  const seqs: number[][] = counted.map(([word]) => [...Array.from(word, (char) => idOf.get(char)!), 0]);
  const freqs = counted.map(([, count]) => count);

  const counts = new Map<number, number>();
  const where = new Map<number, number[]>(); // pair -> words that hold it, or once held it
  seqs.forEach((seq, w) => {
    for (let i = 0; i + 1 < seq.length; i++) {
      const pair = seq[i]! * PAIR + seq[i + 1]!;
      counts.set(pair, (counts.get(pair) ?? 0) + freqs[w]!);
      const list = where.get(pair);
      if (list === undefined) where.set(pair, [w]);
      else if (list[list.length - 1] !== w) list.push(w);
    }
  });

  const heap = new PairHeap(symbols);
  for (const [pair, count] of counts) heap.push(pair, count);

  const merges: BpeMerge[] = [];
  const tokens = [...alphabet];
  const seen = new Int32Array(seqs.length).fill(-1); // the merge that last looked at a word
  while (maxTokens === undefined || tokens.length < maxTokens) {
    // The most frequent pair. A heap entry may be stale: its count is then more than the pair's
    // (counts only grow by a fresh push), so it goes back with the count the pair has now.
    let best = -1;
    while (heap.size > 0) {
      const [pair, count] = heap.pop();
      const now = counts.get(pair) ?? 0;
      if (now === count) {
        best = pair;
        break;
      }
      if (now > 0 && now < count) heap.push(pair, now);
    }
    if (best < 0 || counts.get(best)! < 2) break;

    const left = Math.floor(best / PAIR);
    const right = best - left * PAIR;
    const text = symbols[left]! + symbols[right]!;
    let made = idOf.get(text); // a symbol made before by another pair: kept once (not seen in tests)
    if (made === undefined) {
      made = symbols.length;
      if (made >= PAIR) break;
      symbols.push(text);
      idOf.set(text, made);
      tokens.push(text);
    }
    const step = merges.length;
    merges.push([symbols[left]!, symbols[right]!]);

    const deltas = new Map<number, number>();
    const add = (pair: number, by: number): void => {
      deltas.set(pair, (deltas.get(pair) ?? 0) + by);
    };
    for (const w of where.get(best)!) {
      if (seen[w] === step) continue;
      seen[w] = step;
      const seq = seqs[w]!;
      const merged: number[] = [];
      for (let i = 0; i < seq.length; i++) {
        if (i + 1 < seq.length && seq[i] === left && seq[i + 1] === right) {
          merged.push(made);
          i++;
        } else merged.push(seq[i]!);
      }
      if (merged.length === seq.length) continue; // the pair has left this word
      const f = freqs[w]!;
      for (let i = 0; i + 1 < seq.length; i++) add(seq[i]! * PAIR + seq[i + 1]!, -f);
      for (let i = 0; i + 1 < merged.length; i++) {
        const pair = merged[i]! * PAIR + merged[i + 1]!;
        add(pair, f);
        if (merged[i] === made || merged[i + 1] === made) {
          const list = where.get(pair);
          if (list === undefined) where.set(pair, [w]);
          else if (list[list.length - 1] !== w) list.push(w);
        }
      }
      seqs[w] = merged;
    }
    where.delete(best);
    for (const [pair, delta] of deltas) {
      if (delta === 0) continue;
      const count = (counts.get(pair) ?? 0) + delta;
      if (count <= 0) counts.delete(pair);
      else {
        counts.set(pair, count);
        if (delta > 0) heap.push(pair, count);
      }
    }
    counts.delete(best);
  }
  return { alphabet, merges, tokens };
}

/** A max-heap of pairs by count, then by the pair's texts in code-point order (left, then right). */
class PairHeap {
  private readonly pairs: number[] = [];
  private readonly counts: number[] = [];

  constructor(private readonly symbols: readonly string[]) {}

  get size(): number {
    return this.pairs.length;
  }

  push(pair: number, count: number): void {
    this.pairs.push(pair);
    this.counts.push(count);
    this.up(this.pairs.length - 1);
  }

  pop(): [pair: number, count: number] {
    const top: [number, number] = [this.pairs[0]!, this.counts[0]!];
    const lastPair = this.pairs.pop()!;
    const lastCount = this.counts.pop()!;
    if (this.pairs.length > 0) {
      this.pairs[0] = lastPair;
      this.counts[0] = lastCount;
      this.down(0);
    }
    return top;
  }

  /** Whether entry i comes before entry j. */
  private before(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    if (ci !== cj) return ci > cj;
    const pi = this.pairs[i]!;
    const pj = this.pairs[j]!;
    const li = Math.floor(pi / PAIR);
    const lj = Math.floor(pj / PAIR);
    const byLeft = li === lj ? 0 : compareCodePoints(this.symbols[li]!, this.symbols[lj]!);
    if (byLeft !== 0) return byLeft < 0;
    return compareCodePoints(this.symbols[pi - li * PAIR]!, this.symbols[pj - lj * PAIR]!) < 0;
  }

  private swap(i: number, j: number): void {
    [this.pairs[i], this.pairs[j]] = [this.pairs[j]!, this.pairs[i]!];
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.pairs.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let first = i;
      if (l < n && this.before(l, first)) first = l;
      if (r < n && this.before(r, first)) first = r;
      if (first === i) return;
      this.swap(i, first);
      i = first;
    }
  }
}

/** Words cached per encoder before the cache is emptied and starts again. */
const CACHE_WORDS = 100_000;

/** Splits words into pieces with a list of merges (see the top of this file). */
export class BpeEncoder {
  /** left -> right -> the merge's rank. */
  private readonly ranks = new Map<string, Map<string, number>>();
  private readonly cache = new Map<string, readonly string[]>();

  constructor(merges: readonly BpeMerge[]) {
    merges.forEach(([left, right], rank) => {
      let rights = this.ranks.get(left);
      if (rights === undefined) this.ranks.set(left, (rights = new Map()));
      if (!rights.has(right)) rights.set(right, rank);
    });
  }

  private rank(left: string, right: string): number | undefined {
    return this.ranks.get(left)?.get(right);
  }

  /** The pieces of one word (a token of the word tokenizer), the last one ending with END_OF_WORD. */
  encodeWord(word: string): readonly string[] {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    const parts = [...Array.from(word), END_OF_WORD];
    // Merges apply in the order learned: each step takes the lowest-ranked pair present among those
    // ranked after the last one applied. That is GPT-2's rule as long as each merge makes a new
    // symbol (as learning from words has in every test); were a symbol made by two merges, a rank
    // already passed is not applied again, as learning never went back either.
    let last = -1;
    for (;;) {
      let rank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = this.rank(parts[i]!, parts[i + 1]!);
        if (r !== undefined && r > last && r < rank) rank = r;
      }
      if (rank === Infinity) break;
      let left = '';
      let right = '';
      for (let i = 0; i + 1 < parts.length; i++) {
        if (this.rank(parts[i]!, parts[i + 1]!) === rank) {
          left = parts[i]!;
          right = parts[i + 1]!;
          break;
        }
      }
      const merged: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === left && parts[i + 1] === right) {
          merged.push(left + right);
          i++;
        } else merged.push(parts[i]!);
      }
      parts.splice(0, parts.length, ...merged);
      last = rank;
    }
    if (this.cache.size >= CACHE_WORDS) this.cache.clear();
    this.cache.set(word, parts);
    return parts;
  }
}

const encoders = new WeakMap<readonly BpeMerge[], BpeEncoder>();

/** The encoder of a list of merges, made once per list (the list must not change afterwards). */
export function bpeEncoderFor(merges: readonly BpeMerge[]): BpeEncoder {
  let encoder = encoders.get(merges);
  if (encoder === undefined) {
    encoder = new BpeEncoder(merges);
    encoders.set(merges, encoder);
  }
  return encoder;
}

/**
 * The words of a sequence of pieces: pieces joined until one ends with END_OF_WORD (the marker
 * dropped). Pieces after the last marker (a sequence cut short) make a last word; empty words are
 * left out.
 */
export function joinBpePieces(pieces: readonly string[]): string[] {
  const words: string[] = [];
  let word = '';
  for (const piece of pieces) {
    if (piece.endsWith(END_OF_WORD)) {
      word += piece.slice(0, piece.length - END_OF_WORD.length);
      if (word !== '') words.push(word);
      word = '';
    } else word += piece;
  }
  if (word !== '') words.push(word);
  return words;
}
