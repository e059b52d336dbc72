import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { VaekitError } from '../src/errors.js';
import { encodeTexts } from '../src/data/text/encode.js';
import { MAX_EXAMPLE_BYTES, readTextCsv, readTextData, readTextFolder, readTextLines } from '../src/data/text/read.js';
import { detokenize, normaliseText, tokenize, type TokenizerSettings } from '../src/data/text/tokenize.js';
import { decodeUtf8Text, firstInvalidUtf8 } from '../src/data/text/utf8.js';
import { BOS, buildVocabulary, EOS, PAD, SPECIAL_TOKENS, UNK, vocabularyFromJson } from '../src/data/text/vocab.js';

const tmp = mkdtempSync(join(tmpdir(), 'vaekit-text-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

let folders = 0;
/** A fresh empty folder under the test's temp folder. */
function freshFolder(): string {
  const dir = join(tmp, `d${folders++}`);
  mkdirSync(dir);
  return dir;
}

/** Writes files (path relative to `dir` -> content) and returns `dir`. */
function writeFiles(dir: string, files: Record<string, string | Uint8Array>): string {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** Every path below `dir`, sorted. */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

/** Asserts that `run` fails with exactly `message` and leaves the files below `dir` as they were. */
async function assertRefused(dir: string, run: () => Promise<unknown>, message: string): Promise<void> {
  const before = listing(dir);
  await assert.rejects(run, (err: unknown) => {
    assert.ok(err instanceof VaekitError, `expected a VaekitError, got ${String(err)}`);
    assert.equal(err.message, message);
    return true;
  });
  assert.deepEqual(listing(dir), before, 'nothing is written');
}

const WORD: TokenizerSettings = { kind: 'word', lowercase: false };
const WORD_LOWER: TokenizerSettings = { kind: 'word', lowercase: true };
const CHAR: TokenizerSettings = { kind: 'char', lowercase: false };

// --- readers ---

test('a .txt file gives one example per line: BOM dropped, CRLF read as LF, blank lines skipped and counted, ids are line numbers', async () => {
  const dir = freshFolder();
  const path = join(dir, 'lines.txt');
  writeFileSync(path, '\ufeffFirst line\r\n\r\n  second, with spaces  \r\n   \r\nthird\n\n');
  const corpus = await readTextLines(path);
  assert.deepEqual(corpus.texts, ['First line', 'second, with spaces', 'third']);
  assert.deepEqual(corpus.ids, ['1', '3', '5']);
  assert.equal(corpus.blank, 3);
  assert.equal(corpus.labels, null);
  assert.equal(corpus.labelNames, null);
  assert.deepEqual((await readTextData(path)).texts, corpus.texts);
});

test('a CSV file gives the named text column, quoted fields holding commas, quotes and newlines, with labels and row ids', async () => {
  const dir = freshFolder();
  const path = join(dir, 'msgs.csv');
  writeFileSync(path, 'id,text,kind\n7,"Hello, world",ham\n8,"two\nlines, ""quoted""",spam\n9,,ham\n10,plain,ham\n');
  const corpus = await readTextCsv(path, 'text', 'kind');
  assert.deepEqual(corpus.texts, ['Hello, world', 'two\nlines, "quoted"', 'plain']);
  assert.deepEqual(corpus.ids, ['1', '2', '4']);
  assert.equal(corpus.blank, 1);
  assert.deepEqual(corpus.labelNames, ['ham', 'spam']);
  assert.deepEqual(Array.from(corpus.labels!), [0, 1, 0]);
  assert.deepEqual(await readTextData(path, { textColumn: 'text', labelColumn: 'kind' }), corpus);

  const numeric = await readTextCsv(writeFiles(dir, { 'n.tsv': 'y\tsentence\n10\ta b\n2\tc\n2.0\td\n' }) + '/n.tsv', 'sentence', 'y');
  assert.deepEqual(numeric.labelNames, ['2', '10']);
  assert.deepEqual(Array.from(numeric.labels!), [1, 0, 0]);
  assert.equal((await readTextCsv(path, 'text')).labels, null);
});

test('a folder of .txt files gives one example per file, class subfolders giving labels, ids the paths in the folder', async () => {
  const dir = writeFiles(freshFolder(), {
    'pos/a.txt': 'Good film.\r\n',
    'pos/more/b.txt': 'Great\nacting',
    'pos/.hidden.txt': 'skipped',
    'neg/c.txt': '\ufeffBad film.',
    'neg/d.txt': '  \n',
  });
  const corpus = await readTextFolder(dir);
  assert.deepEqual(corpus.labelNames, ['neg', 'pos']);
  assert.deepEqual(corpus.texts, ['Bad film.', 'Good film.', 'Great\nacting']);
  assert.deepEqual(corpus.ids, ['neg/c.txt', 'pos/a.txt', 'pos/more/b.txt']);
  assert.deepEqual(Array.from(corpus.labels!), [0, 1, 1]);
  assert.equal(corpus.blank, 1);
  assert.deepEqual(await readTextData(dir), corpus);

  const flat = await readTextFolder(writeFiles(freshFolder(), { 'b.txt': 'two', 'a.txt': 'one' }));
  assert.deepEqual(flat.texts, ['one', 'two']);
  assert.deepEqual(flat.ids, ['a.txt', 'b.txt']);
  assert.equal(flat.labels, null);
});

// --- tokenizers ---

test('word tokens: letter/digit runs with inner apostrophes, each punctuation mark alone, optional lower-casing, NFC', () => {
  assert.deepEqual(tokenize('Don’t stop: it’s 3.5 km, isn\'t it?!', WORD), ['Don’t', 'stop', ':', 'it’s', '3', '.', '5', 'km', ',', 'isn\'t', 'it', '?', '!']);
  assert.deepEqual(tokenize('  Café  NAÏVE\r\nrésumé ', WORD_LOWER), ['café', 'naïve', 'résumé']);
  // "é" as one code point and as "e" + a combining acute accent are the same token.
  assert.deepEqual(tokenize('caf\u00e9 cafe\u0301', WORD), ['café', 'café']);
  assert.deepEqual(tokenize('I ❤ tea 😀!', WORD), ['I', '❤', 'tea', '😀', '!']);
  assert.deepEqual(tokenize("'quoted' end'", WORD), ["'", 'quoted', "'", 'end', "'"]);
  assert.equal(detokenize(tokenize('Hello , world ( again ) !', WORD_LOWER), 'word'), 'hello, world (again)!');
  // A lone apostrophe keeps its spaces, so it never joins two words into one token.
  assert.equal(detokenize(tokenize("rock ' n' roll", WORD), 'word'), "rock ' n ' roll");
});

test('char tokens are code points, not UTF-16 units: an emoji is one token, spaces are tokens', () => {
  assert.deepEqual(tokenize('a😀 é', CHAR), ['a', '😀', ' ', 'é']);
  assert.equal('😀'.length, 2);
  assert.deepEqual(tokenize('cafe\u0301', CHAR), ['c', 'a', 'f', 'é']);
  assert.equal(tokenize('👍🏽', CHAR).length, 2); // a skin-toned emoji is two code points
  assert.equal(detokenize(tokenize('Ça va? 😀', CHAR), 'char'), 'Ça va? 😀');
});

test('text read from a file with a BOM and CRLF line ends tokenizes without stray characters', async () => {
  const path = join(writeFiles(freshFolder(), { 'x.txt': '\ufeff😀 ok\r\nnext\r\n' }), 'x.txt');
  const corpus = await readTextLines(path);
  assert.deepEqual(corpus.texts.map((t) => tokenize(t, CHAR)), [['😀', ' ', 'o', 'k'], ['n', 'e', 'x', 't']]);
  assert.deepEqual(corpus.texts.map((t) => tokenize(t, WORD)), [['😀', 'ok'], ['next']]);
});

// --- vocabulary ---

test('a vocabulary keeps the N most frequent tokens after the special ones, ties in first-occurrence order, <unk> for the rest', () => {
  assert.deepEqual(SPECIAL_TOKENS, ['<pad>', '<unk>', '<bos>', '<eos>']);
  assert.deepEqual([PAD, UNK, BOS, EOS], [0, 1, 2, 3]);
  const texts = ['b a c', 'c d a', 'e b'];
  const vocab = buildVocabulary(texts, WORD, 3, 'test');
  // counts: b 2, a 2, c 2, d 1, e 1; ties keep the order of first occurrence.
  assert.deepEqual(vocab.tokens, ['<pad>', '<unk>', '<bos>', '<eos>', 'b', 'a', 'c']);
  assert.deepEqual(buildVocabulary([...texts], WORD, 3, 'test').tokens, vocab.tokens, 'the same corpus gives the same vocabulary');
  assert.deepEqual(Array.from(vocab.encode('a d b zebra')), [5, UNK, 4, UNK]);
  assert.equal(vocab.decode([BOS, 5, UNK, 4, EOS, 6, PAD]), 'a <unk> b');
  assert.equal(buildVocabulary(texts, WORD, undefined, 'test').size, 4 + 5);
  // "<unk>" typed in the text is not the special token.
  assert.deepEqual(Array.from(buildVocabulary(['<unk>'], WORD, undefined, 't').encode('<unk>')), [4, 5, 6]);
});

test('encoding cuts examples longer than the maximum length and counts them; rows are padded with <pad>', () => {
  const vocab = buildVocabulary(['a b c d e'], WORD, undefined, 'test');
  const encoded = encodeTexts(['a b c d e', 'a b', 'a b c'], vocab, 3);
  assert.equal(encoded.cut, 1);
  assert.equal(encoded.maxLength, 3);
  assert.deepEqual(Array.from(encoded.lengths), [3, 2, 3]);
  assert.deepEqual(Array.from(encoded.ids), [4, 5, 6, 4, 5, PAD, 4, 5, 6]);
  const whole = encodeTexts(['a b c d e', 'a'], vocab);
  assert.equal(whole.maxLength, 5);
  assert.equal(whole.cut, 0);
  assert.throws(() => encodeTexts(['a'], vocab, 0), { message: 'The maximum length must be a whole number of tokens >= 1, not 0.' });
});

test('a vocabulary round-trips through plain JSON, and a damaged one is refused in one sentence', () => {
  const vocab = buildVocabulary(['Zoë says: hi 😀', 'hi again'], WORD_LOWER, undefined, 'test');
  const json: unknown = JSON.parse(JSON.stringify(vocab.toJSON()));
  const back = vocabularyFromJson(json, 'vocab.json');
  assert.deepEqual(back.tokens, vocab.tokens);
  assert.deepEqual(back.tokenizer, { kind: 'word', lowercase: true });
  assert.deepEqual(Array.from(back.encode('ZOË, hi')), Array.from(vocab.encode('zoë, hi')));

  const good = vocab.toJSON();
  const refused = (value: unknown, why: string): void => {
    assert.throws(() => vocabularyFromJson(value, 'v.json'), { message: `v.json does not hold a valid vaekit vocabulary: ${why}.` });
  };
  refused([], 'it is not a JSON object');
  refused({ ...good, format: 'other' }, 'its "format" is not "vaekit-vocabulary"');
  refused({ ...good, version: 0 }, 'its "version" is not a whole number >= 1');
  refused({ ...good, tokenizer: { kind: 'unigram', lowercase: true } }, 'its tokenizer kind is not one of word, char, bpe');
  refused({ ...good, tokenizer: { kind: 'char' } }, 'its tokenizer\'s "lowercase" is not true or false');
  refused({ ...good, tokens: ['<unk>', '<pad>', '<bos>', '<eos>'] }, 'token 0 is "<unk>", not <pad>');
  refused({ ...good, tokens: [...SPECIAL_TOKENS, 'a', 'a'] }, 'the token "a" is listed twice');
  refused({ ...good, tokens: [...SPECIAL_TOKENS, 5] }, 'token 4 is not a non-empty string');
  refused({ ...good, tokens: ['<pad>'] }, 'it lists 1 tokens, fewer than the 4 special ones');
  assert.throws(() => vocabularyFromJson({ ...good, version: 2 }, 'v.json'), {
    message: 'v.json holds a vocabulary of version 2, newer than the version 1 this vaekit reads; use a newer vaekit.',
  });
});

// --- bad input: one sentence each, nothing written ---

test('a binary file, UTF-16 text and invalid UTF-8 are refused, naming the byte offset and line', async () => {
  const dir = freshFolder();
  const binary = join(writeFiles(dir, { 'bin.txt': new Uint8Array([0x68, 0x69, 0x0a, 0x00, 0x01]) }), 'bin.txt');
  await assertRefused(dir, () => readTextLines(binary), `${binary} looks like a binary file, not text (a NUL byte at byte offset 3, line 2); give a UTF-8 text file.`);
  const utf16 = join(writeFiles(dir, { 'u16.txt': Buffer.from('\ufeffhi', 'utf16le') }), 'u16.txt');
  await assertRefused(dir, () => readTextLines(utf16), `${utf16} is UTF-16 text; vaekit reads UTF-8, so convert it first (for example: iconv -f UTF-16 -t UTF-8).`);
  // "ok\né\n" then a Latin-1 "é" (0xE9) on line 3, at byte offset 6.
  const latin1 = join(writeFiles(dir, { 'l1.txt': new Uint8Array([0x6f, 0x6b, 0x0a, 0xc3, 0xa9, 0x0a, 0xe9, 0x74, 0xe9]) }), 'l1.txt');
  await assertRefused(dir, () => readTextLines(latin1), `${latin1} is not valid UTF-8 (byte offset 6, line 3); save it as UTF-8 text.`);
  const csv = join(writeFiles(dir, { 'bad.csv': new Uint8Array([0x74, 0x0a, 0xff]) }), 'bad.csv');
  await assertRefused(dir, () => readTextCsv(csv, 't'), `${csv} is not valid UTF-8 (byte offset 2, line 2); save it as UTF-8 text.`);
  const folder = writeFiles(freshFolder(), { 'a.txt': 'fine', 'b.txt': new Uint8Array([0xc0, 0x80]) });
  await assertRefused(folder, () => readTextFolder(folder), `${join(folder, 'b.txt')} is not valid UTF-8 (byte offset 0, line 1); save it as UTF-8 text.`);
});

test('an empty corpus is refused: an empty file, only blank lines, a blank text column, only blank files', async () => {
  const dir = freshFolder();
  const empty = join(writeFiles(dir, { 'e.txt': '' }), 'e.txt');
  await assertRefused(dir, () => readTextLines(empty), `${empty} holds no text (it is empty); give one example per line.`);
  const blank = join(writeFiles(dir, { 'b.txt': '\ufeff\r\n  \n\t\n' }), 'b.txt');
  await assertRefused(dir, () => readTextLines(blank), `${blank} holds no text (every line is blank); give one example per line.`);
  const csv = join(writeFiles(dir, { 'c.csv': 'text,y\n,1\n"  ",2\n' }), 'c.csv');
  await assertRefused(dir, () => readTextCsv(csv, 'text'), `${csv} holds no text: the column "text" is blank in every row.`);
  const header = join(writeFiles(dir, { 'h.csv': 'text\n' }), 'h.csv');
  await assertRefused(dir, () => readTextCsv(header, 'text'), `${header} has a header row but no data rows.`);
  const folder = writeFiles(freshFolder(), { 'a.txt': ' \n', 'b.txt': '' });
  await assertRefused(folder, () => readTextFolder(folder), `${folder} holds no text: every .txt file in it is blank.`);
  const classes = writeFiles(freshFolder(), { 'x/a.txt': 'text', 'y/b.txt': '\n' });
  await assertRefused(classes, () => readTextFolder(classes), `The class folder ${join(classes, 'y')} holds no text: every .txt file in it is blank.`);
});

test('an example of more than 1 MiB is refused, naming its line, row or file', async () => {
  const dir = freshFolder();
  const long = 'é'.repeat(MAX_EXAMPLE_BYTES / 2) + 'x'; // 1 MiB + 1 byte
  const lines = join(writeFiles(dir, { 'long.txt': `short\n${long}\nshort\n` }), 'long.txt');
  await assertRefused(dir, () => readTextLines(lines), `Line 2 of ${lines} holds 1,048,577 bytes, more than the 1,048,576 (1 MiB) vaekit takes for one example; split it into shorter examples.`);
  assert.equal((await readTextLines(join(writeFiles(dir, { 'edge.txt': 'é'.repeat(MAX_EXAMPLE_BYTES / 2) }), 'edge.txt'))).texts.length, 1, 'exactly 1 MiB is taken');
  const csv = join(writeFiles(dir, { 'long.csv': `label,text\na,"${long}"\n` }), 'long.csv');
  await assertRefused(dir, () => readTextCsv(csv, 'text'), `The text of row 1 (line 2) of ${csv} holds 1,048,577 bytes, more than the 1,048,576 (1 MiB) vaekit takes for one example; split it into shorter examples.`);
  const folder = writeFiles(freshFolder(), { 'big.txt': long });
  await assertRefused(folder, () => readTextFolder(folder), `Cannot read the text example ${join(folder, 'big.txt')}: it holds 1,048,577 bytes, more than vaekit's limit of 1,048,576 for a text example.`);
});

test('a vocabulary larger than the corpus\'s distinct tokens is refused, saying both numbers and what to do', () => {
  assert.throws(() => buildVocabulary(['the cat', 'the dog'], WORD, 10_000, 'pets.txt'), {
    message: 'A vocabulary of 10,000 tokens was asked for, but pets.txt holds only 3 distinct word tokens; ask for at most 3, or leave the size out to keep them all.',
  });
  assert.equal(buildVocabulary(['the cat', 'the dog'], WORD, 3, 'pets.txt').size, 7);
  assert.throws(() => buildVocabulary(['a'], CHAR, 1.5, 'x'), { message: 'The vocabulary size must be a whole number >= 1, not 1.5.' });
});

test('CSV columns that are missing and labels that do not line up with the examples are refused', async () => {
  const dir = freshFolder();
  const path = join(writeFiles(dir, { 'm.csv': 'body,kind\nhello,a\n"two, cells",b,extra\n' }), 'm.csv');
  await assertRefused(dir, () => readTextCsv(path, 'text'), `${path} has no column "text" for the text (its columns: body, kind).`);
  await assertRefused(dir, () => readTextCsv(path, 'body', 'label'), `${path} has no column "label" for the labels (its columns: body, kind).`);
  await assertRefused(dir, () => readTextCsv(path, 'body', 'kind'), `${path}: row 2 (line 3) has 3 cells but the header names 2 columns.`);
  const unlabelled = join(writeFiles(dir, { 'u.csv': 'text,y\nfirst,1\nsecond,\n' }), 'u.csv');
  await assertRefused(dir, () => readTextCsv(unlabelled, 'text', 'y'), `${unlabelled}: row 2 (line 3) has text but no label in the column "y"; give every example a label, or drop the row.`);
  await assertRefused(dir, () => readTextCsv(unlabelled, 'text', 'text'), `${unlabelled}: the text and the labels cannot both be the column "text".`);
  await assertRefused(dir, () => readTextData(unlabelled), `Give data.textColumn, the column of ${unlabelled} that holds the text.`);
  const lines = join(writeFiles(dir, { 'l.txt': 'a\n' }), 'l.txt');
  await assertRefused(dir, () => readTextData(lines, { labelColumn: 'y' }), `data.labelColumn applies to CSV data, not to ${lines}.`);
});

test('a text folder with stray files, files beside class folders or an empty class is refused', async () => {
  const stray = writeFiles(freshFolder(), { 'a.txt': 'x', 'b.png': 'not text' });
  await assertRefused(stray, () => readTextFolder(stray), `${join(stray, 'b.png')} is not a .txt file; remove it or move it out of the text folder.`);
  const mixed = writeFiles(freshFolder(), { 'a.txt': 'x', 'pos/b.txt': 'y' });
  await assertRefused(mixed, () => readTextFolder(mixed), `${mixed} holds both .txt files (a.txt) and subfolders (pos); put every file in a class subfolder, or remove the subfolders for an unlabelled folder.`);
  const emptyClass = writeFiles(freshFolder(), { 'pos/b.txt': 'y' });
  mkdirSync(join(emptyClass, 'neg'));
  await assertRefused(emptyClass, () => readTextFolder(emptyClass), `The class folder ${join(emptyClass, 'neg')} holds no .txt files; add some or remove the folder.`);
  const nothing = freshFolder();
  await assertRefused(nothing, () => readTextFolder(nothing), `${nothing} holds no .txt files and no class subfolders of .txt files.`);
  await assertRefused(nothing, () => readTextFolder(join(nothing, 'gone')), `Cannot read the text folder ${join(nothing, 'gone')}: no such folder.`);
  const file = join(writeFiles(nothing, { 'f.txt': 'x' }), 'f.txt');
  await assertRefused(nothing, () => readTextFolder(file), `${file} is not a folder; pass a folder of .txt files, or of one subfolder of .txt files per class.`);
  await assertRefused(nothing, () => readTextData(join(nothing, 'gone.txt')), `Cannot read the text data ${join(nothing, 'gone.txt')}: no such file.`);
  const json = join(writeFiles(nothing, { 'x.json': '{}' }), 'x.json');
  await assertRefused(nothing, () => readTextData(json), `${json} is not text data vaekit reads: give a .txt file (one example per line), a .csv file with data.textColumn, or a folder of .txt files.`);
});

// --- properties ---

/** Any text, and text made of the pieces the rules treat specially (apostrophes, brackets, marks, emoji, CRLF, "İ"). */
const TRICKY = ['a', 'B', '7', "'", "'", '’', ' ', ' ', '\r\n', '.', '(', ')', '¿', '…', '"', 'é', 'e\u0301', '\u0301', '😀', '👍🏽', 'İ', 'ß', '<unk>', '\ufeff'];
const anyText = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.array(fc.constantFrom(...TRICKY), { maxLength: 20 }).map((parts) => parts.join('')));

test('property: with every token in the vocabulary, decode(encode(x)) is the normalised x, and tokenizes to the same tokens', () => {
  fc.assert(
    fc.property(anyText, fc.boolean(), (text, lowercase) => {
      const word: TokenizerSettings = { kind: 'word', lowercase };
      const words = buildVocabulary([text], word, undefined, 'x');
      const normal = detokenize(tokenize(text, word), 'word');
      const decoded = words.decode(words.encode(text));
      assert.equal(decoded, normal);
      assert.deepEqual(tokenize(decoded, word), tokenize(text, word));
      assert.equal(detokenize(tokenize(normal, word), 'word'), normal, 'normalising twice changes nothing');

      const char: TokenizerSettings = { kind: 'char', lowercase };
      const chars = buildVocabulary([text], char, undefined, 'x');
      assert.equal(chars.decode(chars.encode(text)), normaliseText(text, char));
    }),
    { numRuns: 1000, examples: [["rock ' n' roll", false], ['(a) b… c', true]] },
  );
});

test('firstInvalidUtf8 refuses overlong forms, surrogates, code points above U+10FFFF and a cut sequence, at the sequence\'s first byte', () => {
  assert.equal(firstInvalidUtf8(Buffer.from('añ😀€', 'utf8')), 10);
  assert.equal(firstInvalidUtf8(new Uint8Array([0x61, 0xc1, 0xbf])), 1); // overlong 2-byte
  assert.equal(firstInvalidUtf8(new Uint8Array([0x61, 0xe0, 0x80, 0x80])), 1); // overlong 3-byte
  assert.equal(firstInvalidUtf8(new Uint8Array([0x61, 0x62, 0xed, 0xa0, 0x80])), 2); // a surrogate, U+D800
  assert.equal(firstInvalidUtf8(new Uint8Array([0xf4, 0x90, 0x80, 0x80])), 0); // U+110000
  assert.equal(firstInvalidUtf8(new Uint8Array([0xf0, 0x9f, 0x98])), 0); // an emoji cut short
  assert.equal(firstInvalidUtf8(new Uint8Array([0x80])), 0); // a lone continuation byte
});

test('property: firstInvalidUtf8 finds an invalid byte exactly when a fatal TextDecoder refuses the bytes', () => {
  const strict = new TextDecoder('utf-8', { fatal: true });
  const valid = (bytes: Uint8Array): boolean => {
    try {
      strict.decode(bytes);
      return true;
    } catch {
      return false;
    }
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
      const at = firstInvalidUtf8(bytes);
      assert.equal(at === bytes.length, valid(bytes));
      if (at < bytes.length) assert.ok(valid(bytes.subarray(0, at)), 'the bytes before the offset are valid');
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), (text) => {
      assert.equal(decodeUtf8Text(Buffer.from(text.replace(/\0/g, ''), 'utf8'), 'x'), text.replace(/\0/g, '').replace(/^\ufeff/, ''));
    }),
  );
});
