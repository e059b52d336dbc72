import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VaekitError } from '../src/errors.js';
import { bpeAlphabet, BpeEncoder, compareCodePoints, END_OF_WORD, joinBpePieces, trainBpe, type BpeMerge } from '../src/data/text/bpe.js';
import { detokenize, tokenize, type TokenizerSettings } from '../src/data/text/tokenize.js';
import { buildVocabulary, SPECIAL_TOKENS, UNK, vocabularyFromJson, type Vocabulary } from '../src/data/text/vocab.js';

const BPE: TokenizerSettings = { kind: 'bpe', lowercase: false };
const BPE_LOWER: TokenizerSettings = { kind: 'bpe', lowercase: true };
const WORD: TokenizerSettings = { kind: 'word', lowercase: false };

/** The merges of a vocabulary. */
function mergesOf(vocab: Vocabulary): readonly BpeMerge[] {
  assert.ok(vocab.tokenizer.merges !== undefined);
  return vocab.tokenizer.merges;
}

/** The word tokenizer's normalised form of a text: what a bpe round trip gives back. */
function wordNormal(text: string, lowercase: boolean): string {
  return detokenize(tokenize(text, { kind: 'word', lowercase }), 'word');
}

/**
 * The merges learned the slow, plain way: every pair counted again before each merge. The trainer
 * under test keeps counts up to date instead; both must agree.
 */
function naiveMerges(words: ReadonlyMap<string, number>, maxTokens: number | undefined): BpeMerge[] {
  return naiveTraining(words, maxTokens).merges;
}

/** naiveMerges, and the pieces each word is left in. */
function naiveTraining(words: ReadonlyMap<string, number>, maxTokens: number | undefined): { merges: BpeMerge[]; pieces: Map<string, string[]> } {
  const seqs = [...words].map(([word, count]) => ({ parts: [...Array.from(word), END_OF_WORD], count }));
  const tokens = new Set(bpeAlphabet(words.keys()));
  const merges: BpeMerge[] = [];
  while (maxTokens === undefined || tokens.size < maxTokens) {
    const counts = new Map<string, { left: string; right: string; count: number }>();
    for (const { parts, count } of seqs) {
      for (let i = 0; i + 1 < parts.length; i++) {
        const key = JSON.stringify([parts[i], parts[i + 1]]);
        const entry = counts.get(key) ?? { left: parts[i]!, right: parts[i + 1]!, count: 0 };
        entry.count += count;
        counts.set(key, entry);
      }
    }
    const best = [...counts.values()].sort((a, b) => b.count - a.count || compareCodePoints(a.left, b.left) || compareCodePoints(a.right, b.right))[0];
    if (best === undefined || best.count < 2) break;
    merges.push([best.left, best.right]);
    tokens.add(best.left + best.right);
    for (const seq of seqs) {
      const merged: string[] = [];
      for (let i = 0; i < seq.parts.length; i++) {
        if (i + 1 < seq.parts.length && seq.parts[i] === best.left && seq.parts[i + 1] === best.right) {
          merged.push(best.left + best.right);
          i++;
        } else merged.push(seq.parts[i]!);
      }
      seq.parts = merged;
    }
  }
  return { merges, pieces: new Map([...words.keys()].map((word, i) => [word, seqs[i]!.parts])) };
}

/** Word counts of texts, split as the bpe tokenizer splits them before merging. */
function wordCounts(texts: readonly string[], lowercase: boolean): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) for (const word of tokenize(text, { kind: 'word', lowercase })) counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}

/** A seeded random number generator (mulberry32): the same numbers on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The corpus of Sennrich et al.'s example: low x5, lower x2, newest x6, widest x3.
const SENNRICH = ['low low low low low', 'lower lower', 'newest newest newest newest newest newest', 'widest widest widest'];

test('the merges of a tiny corpus are the ones worked out by hand, ties going in code-point order', () => {
  // Worked by hand (pairs counted with each word's count; ties: the left symbol first, then the right):
  //   e s 9 = s t 9 = t </w> 9: "e" < "s" < "t"        -> es
  //   es t 9 = t </w> 9: "es" < "t"                    -> est
  //   est </w> 9                                       -> est</w>
  //   l o 7 = o w 7: "l" < "o"                         -> lo
  //   lo w 7                                           -> low
  //   e w 6 = n e 6 = w est</w> 6: "e" < "n" < "w"     -> ew
  //   ew est</w> 6 = n ew 6: "ew" < "n"                -> ewest</w>
  //   n ewest</w> 6                                    -> newest</w>
  //   low </w> 5                                       -> low</w>
  //   d est</w> 3 = i d 3 = w i 3: "d" < "i" < "w"     -> dest</w>
  //   i dest</w> 3 = w i 3                             -> idest</w>
  //   w idest</w> 3                                    -> widest</w>
  //   e r 2 = low e 2 = r </w> 2: "e" < "low" < "r"    -> er
  //   er </w> 2 = low er 2                             -> er</w>
  //   low er</w> 2                                     -> lower</w>
  // and then no pair is left.
  const expected: BpeMerge[] = [
    ['e', 's'], ['es', 't'], ['est', '</w>'], ['l', 'o'], ['lo', 'w'], ['e', 'w'], ['ew', 'est</w>'], ['n', 'ewest</w>'],
    ['low', '</w>'], ['d', 'est</w>'], ['i', 'dest</w>'], ['w', 'idest</w>'], ['e', 'r'], ['er', '</w>'], ['low', 'er</w>'],
  ];
  const alphabet = ['</w>', 'd', 'e', 'i', 'l', 'n', 'o', 'r', 's', 't', 'w'];
  const all = buildVocabulary(SENNRICH, BPE, undefined, 'tiny');
  assert.deepEqual(mergesOf(all), expected);
  assert.deepEqual(all.tokens, [...SPECIAL_TOKENS, ...alphabet, ...expected.map(([l, r]) => l + r)]);
  assert.deepEqual(naiveMerges(wordCounts(SENNRICH, false), undefined), expected, 'the plain trainer agrees');

  // A size stops the merges when the vocabulary reaches it: 11 alphabet + 3 merges after the 4 special tokens.
  const small = buildVocabulary(SENNRICH, BPE, 14, 'tiny');
  assert.equal(small.size, 18);
  assert.deepEqual(mergesOf(small), expected.slice(0, 3));
  assert.deepEqual(tokenize('newest lowest', small.tokenizer), ['n', 'e', 'w', 'est</w>', 'l', 'o', 'w', 'est</w>']);
  assert.deepEqual(tokenize('lowest', all.tokenizer), ['low', 'est</w>']);
  // A size more than the merges can reach keeps them all.
  assert.deepEqual(buildVocabulary(SENNRICH, BPE, 1000, 'tiny').tokens, all.tokens);
  // The smallest size that works: no merges at all.
  assert.deepEqual(mergesOf(buildVocabulary(SENNRICH, BPE, 11, 'tiny')), []);
});

test('ties between pairs go by code point, not by UTF-16 unit: U+FF5A before U+1D41A', () => {
  // ｚ (U+FF5A) is one UTF-16 unit, 𝐚 (U+1D41A) two starting with 0xD835, so `<` on strings puts 𝐚 first.
  assert.ok('𝐚' < 'ｚ');
  assert.ok(compareCodePoints('ｚ', '𝐚') < 0);
  const vocab = buildVocabulary(['𝐚b ｚb 𝐚b ｚb'], BPE, undefined, 'x');
  assert.deepEqual(mergesOf(vocab), [['b', '</w>'], ['ｚ', 'b</w>'], ['𝐚', 'b</w>']]);
  assert.deepEqual(vocab.tokens.slice(SPECIAL_TOKENS.length), ['</w>', 'b', 'ｚ', '𝐚', 'b</w>', 'ｚb</w>', '𝐚b</w>']);
});

test('property: the incremental trainer learns exactly what recounting every pair before each merge learns', () => {
  const letters = fc.constantFrom('a', 'b', 'c', 'a', 'b', 'é', '😀', 'ｚ', '𝐚', '.', "'");
  const corpus = fc.array(fc.array(fc.oneof(letters, fc.constant(' ')), { maxLength: 30 }).map((parts) => parts.join('')), { minLength: 1, maxLength: 8 });
  fc.assert(
    fc.property(corpus, fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }), (texts, extra) => {
      const words = wordCounts(texts, false);
      const maxTokens = extra === undefined ? undefined : bpeAlphabet(words.keys()).length + extra;
      const learned = trainBpe(words, maxTokens);
      const plain = naiveTraining(words, maxTokens);
      assert.deepEqual(learned.merges, plain.merges);
      // Encoding a word of the corpus splits it as learning left it.
      const encoder = new BpeEncoder(learned.merges);
      for (const [word, pieces] of plain.pieces) assert.deepEqual(encoder.encodeWord(word), pieces);
      assert.equal(learned.tokens.length, learned.alphabet.length + learned.merges.length, 'each merge makes a new symbol');
    }),
    { numRuns: 1000 },
  );
});

test('training is deterministic: the same corpus, in any order, gives the same vocabulary and merges', () => {
  const texts = ['The cat sat on the mat.', 'A cat, a hat; the bat sat.', 'Mats and hats and cats!', 'the end'];
  const first = JSON.stringify(buildVocabulary(texts, BPE_LOWER, 40, 'x').toJSON());
  assert.equal(JSON.stringify(buildVocabulary([...texts], BPE_LOWER, 40, 'x').toJSON()), first);
  assert.equal(JSON.stringify(buildVocabulary([...texts].reverse(), BPE_LOWER, 40, 'x').toJSON()), first);
  assert.equal(JSON.stringify(buildVocabulary(texts.map((t) => t.toUpperCase()), BPE_LOWER, 40, 'x').toJSON()), first, 'lower-casing comes first');
});

const TRICKY = ['a', 'B', '7', "'", '’', ' ', '  ', '\r\n', '.', '(', ')', '¿', '…', '"', 'é', 'e\u0301', '😀', '👍🏽', 'İ', 'ß', '<', '/', 'w', '>', '</w>', '<unk>', 'lower', 'newest'];
const anyText = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.array(fc.constantFrom(...TRICKY), { maxLength: 20 }).map((parts) => parts.join('')));

test('property: with every character known, decode(encode(x)) and detokenize(tokenize(x)) give the normalised text', () => {
  fc.assert(
    fc.property(anyText, fc.array(anyText, { maxLength: 4 }), fc.boolean(), fc.nat(60), (text, others, lowercase, extra) => {
      const settings: TokenizerSettings = { kind: 'bpe', lowercase };
      const corpus = [...others, text];
      const smallest = SPECIAL_TOKENS.length + bpeAlphabet(wordCounts(corpus, lowercase).keys()).length;
      const vocab = buildVocabulary(corpus, settings, smallest + extra, 'x');
      const normal = wordNormal(text, lowercase);
      const pieces = tokenize(text, vocab.tokenizer);
      assert.equal(detokenize(pieces, 'bpe'), normal);
      assert.deepEqual(joinBpePieces(pieces), tokenize(text, { kind: 'word', lowercase }), 'the pieces join into the word tokens');
      const ids = vocab.encode(text);
      assert.ok(!ids.includes(UNK), 'every character is known');
      assert.equal(vocab.decode(ids), normal);
      assert.deepEqual(Array.from(vocab.encode(normal)), Array.from(ids), 'the normalised text encodes the same');
    }),
    { numRuns: 500, examples: [["rock ' n' roll </w> <unk>", [], false, 0], ['(a) b… c', ['lower newest'], true, 3]] },
  );
});

test('characters not seen in training are <unk>, and the words around them keep their spaces', () => {
  const vocab = buildVocabulary(['abc abc'], BPE, undefined, 'x');
  assert.deepEqual(mergesOf(vocab), [['a', 'b'], ['ab', 'c'], ['abc', '</w>']]);
  const id = (token: string): number => vocab.tokens.indexOf(token);
  assert.deepEqual(tokenize('abz', vocab.tokenizer), ['ab', 'z', '</w>']);
  assert.deepEqual(Array.from(vocab.encode('abz')), [id('ab'), UNK, id('</w>')]);
  assert.deepEqual(Array.from(vocab.encode('zz abc Abc')), [UNK, UNK, id('</w>'), id('abc</w>'), UNK, id('b'), id('c'), id('</w>')]);
  assert.equal(vocab.decode(vocab.encode('zz abc Abc')), '<unk><unk> abc <unk>bc');
  assert.equal(vocab.decode(vocab.encode('abc, abc')), 'abc <unk> abc', 'an unknown comma is a word "<unk>", spaced as one');
  // "</w>" and "<unk>" typed in the text are characters like any other.
  const marks = buildVocabulary(['a </w> <unk>'], BPE, undefined, 'x');
  assert.equal(marks.decode(marks.encode('</w> <unk>')), '< / w > < unk >');
  assert.ok(!Array.from(marks.encode('</w> <unk>')).includes(UNK));
});

test('a bpe vocabulary round-trips through JSON with its merges and encodes identically; old word and char JSON still loads', () => {
  const texts = ['The lowest, newest and widest: lower still.', 'Newer news is the newest news; Zoë 😀 agrees.', 'low lower lowest'];
  const vocab = buildVocabulary(texts, BPE_LOWER, 50, 'x');
  const json = vocab.toJSON();
  assert.deepEqual(json.tokenizer.merges, mergesOf(vocab));
  assert.deepEqual(Object.keys(json.tokenizer), ['kind', 'lowercase', 'merges']);
  assert.equal(json.version, 1);
  const back = vocabularyFromJson(JSON.parse(JSON.stringify(json)), 'v.json');
  assert.deepEqual(back.tokens, vocab.tokens);
  assert.deepEqual(back.tokenizer, vocab.tokenizer);
  for (const text of [...texts, 'NEWEST lows, widest widths', 'unseen ✓ characters ☃']) {
    assert.deepEqual(Array.from(back.encode(text)), Array.from(vocab.encode(text)));
    assert.equal(back.decode(back.encode(text)), vocab.decode(vocab.encode(text)));
  }

  // Files written before bpe: no "merges" key, and they load as before.
  const old = { format: 'vaekit-vocabulary', version: 1, tokenizer: { kind: 'word', lowercase: true }, tokens: [...SPECIAL_TOKENS, 'hi', '!'] };
  const word = vocabularyFromJson(old, 'old.json');
  assert.deepEqual(word.tokenizer, { kind: 'word', lowercase: true });
  assert.deepEqual(word.toJSON(), old);
  assert.deepEqual(Array.from(word.encode('Hi!')), [4, 5]);
  const chars = { format: 'vaekit-vocabulary', version: 1, tokenizer: { kind: 'char', lowercase: false }, tokens: [...SPECIAL_TOKENS, 'a'] };
  assert.deepEqual(vocabularyFromJson(chars, 'c.json').toJSON(), chars);
  assert.deepEqual(buildVocabulary(['a b'], WORD, undefined, 'x').toJSON().tokenizer, { kind: 'word', lowercase: false });

  const refused = (value: unknown, why: string): void => {
    assert.throws(() => vocabularyFromJson(value, 'v.json'), { message: `v.json does not hold a valid vaekit vocabulary: ${why}.` });
  };
  const good = JSON.parse(JSON.stringify(json)) as { tokenizer: { merges: unknown[] }; tokens: string[] };
  refused({ ...good, tokenizer: { kind: 'bpe', lowercase: true } }, 'its bpe tokenizer has no "merges" list');
  refused({ ...good, tokenizer: { ...good.tokenizer, merges: [['a']] } }, 'merge 0 is not a pair of non-empty strings');
  refused({ ...good, tokenizer: { ...good.tokenizer, merges: [...good.tokenizer.merges, ['x', '']] } }, `merge ${good.tokenizer.merges.length} is not a pair of non-empty strings`);
  refused({ ...good, tokenizer: { ...good.tokenizer, merges: [good.tokenizer.merges[0], good.tokenizer.merges[0]] } }, `the merge "${mergesOf(vocab)[0]![0]}" "${mergesOf(vocab)[0]![1]}" is listed twice`);
  refused({ ...good, tokenizer: { ...good.tokenizer, merges: [['q', 'q']] } }, 'merge 0 ("q" "q") makes or joins a token not in its "tokens"');
  refused({ ...old, tokenizer: { kind: 'word', lowercase: true, merges: [] } }, 'its word tokenizer has "merges", which only a bpe tokenizer has');
});

test('a bpe vocabulary too small for the special tokens, the marker and the characters is refused, saying the smallest size', () => {
  // 4 special + "</w>" + 10 characters (d e i l n o r s t w) = 15.
  assert.throws(() => buildVocabulary(SENNRICH, BPE, 10, 'tiny.txt'), (err: unknown) => {
    assert.ok(err instanceof VaekitError);
    assert.equal(err.message, 'A bpe vocabulary of 10 tokens cannot hold the end-of-word marker and the 10 distinct characters of tiny.txt; ask for at least 11.');
    return true;
  });
  assert.throws(() => buildVocabulary(SENNRICH, BPE, 0, 'tiny.txt'), { message: 'The vocabulary size must be a whole number >= 1, not 0.' });
  assert.equal(buildVocabulary(SENNRICH, BPE, 11, 'tiny.txt').size, 15);
  assert.throws(() => tokenize('a', BPE), RangeError, 'tokenizing bpe needs the merges');
});

/** `sentences` sentences of `wordsEach` words drawn (Zipf-like) from a made-up lexicon, with some punctuation. */
function generatedCorpus(sentences: number, wordsEach: number, seed: number): string[] {
  const random = seeded(seed);
  const syllables = ['ka', 'lo', 'mi', 'ne', 'tor', 'sa', 'qu', 'ri', 'ven', 'do', 'pe', 'lu', 'gra', 'shi', 'mon', 'ta', 'el', 'ur', 'is', 'bre', 'ché', 'ño', 'wy', 'zed', 'a', 'o', 'ing', 'st'];
  const lexicon: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    let word = '';
    const n = 2 + Math.floor(random() * 4);
    for (let j = 0; j < n; j++) word += syllables[Math.floor(random() * syllables.length)];
    lexicon.push(word);
  }
  const pick = (): string => lexicon[Math.min(lexicon.length - 1, Math.floor(Math.exp(random() * Math.log(lexicon.length + 1)) - 1))]!;
  const texts: string[] = [];
  for (let s = 0; s < sentences; s++) {
    const words: string[] = [];
    for (let w = 0; w < wordsEach; w++) words.push(w > 0 && random() < 0.05 ? `${pick()},` : pick());
    texts.push(`${words.join(' ')}.`);
  }
  return texts;
}

test('speed: 50,000 sentences of 1,000,000 words learn a 10,000-token vocabulary (timed, not asserted)', (t) => {
  const made = performance.now();
  const texts = generatedCorpus(50_000, 20, 20);
  const madeMs = performance.now() - made;
  const start = performance.now();
  const vocab = buildVocabulary(texts, BPE_LOWER, 10_000, 'generated');
  const trainMs = performance.now() - start;
  assert.equal(vocab.size, 10_000 + 4); // the 4 special tokens besides the 10,000
  const encodeStart = performance.now();
  let pieces = 0;
  for (const text of texts) pieces += vocab.encode(text).length;
  const encodeMs = performance.now() - encodeStart;
  const words = texts.reduce((sum, text) => sum + tokenize(text, { kind: 'word', lowercase: true }).length, 0);
  for (const text of texts.slice(0, 200)) assert.equal(vocab.decode(vocab.encode(text)), wordNormal(text, true));
  const line =
    `bpe speed: ${texts.length.toLocaleString('en-US')} sentences, ${words.toLocaleString('en-US')} word tokens ` +
    `(${wordCounts(texts, true).size.toLocaleString('en-US')} distinct): trained to ${vocab.size.toLocaleString('en-US')} tokens ` +
    `(${mergesOf(vocab).length.toLocaleString('en-US')} merges) in ${(trainMs / 1000).toFixed(2)} s; encoded into ` +
    `${pieces.toLocaleString('en-US')} pieces in ${(encodeMs / 1000).toFixed(2)} s (corpus made in ${(madeMs / 1000).toFixed(2)} s)`;
  t.diagnostic(line);
  console.log(line);
});
