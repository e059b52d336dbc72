// Text larger than the memory budget streams from disk (src/data/stream/text.ts): the readers that
// read a file a chunk at a time give what reading it whole gave (the texts, ids and sentences for
// damaged files), a streamed corpus gives the loaded one's rows bit for bit with the same texts,
// ids, labels, lengths and vocabulary (the in-memory load is the oracle), and a text run trains to
// the same weights either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { subset, takeFirst, type Dataset } from '../src/data/dataset.js';
import { loadData, TEXT_MEMORY_PER_BYTE } from '../src/data/load.js';
import { shuffledOrder } from '../src/data/batches.js';
import { withVocabulary } from '../src/data/sources/text.js';
import { readTextData } from '../src/data/text/read.js';
import { decodeUtf8Text, utf8Chunks } from '../src/data/text/utf8.js';
import { buildVocabulary } from '../src/data/text/vocab.js';
import { Random } from '../src/engine/random.js';
import { VaekitError } from '../src/errors.js';
import { cliChecks, vaekitFromSources } from './helpers/cli.js';
import { assertStreamedTrainsAsLoaded } from './helpers/runs.js';

const cli = cliChecks(vaekitFromSources);
const tmp = mkdtempSync(join(tmpdir(), 'vaekit-stream-text-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** Sentences drawn from a seed, some with accents and symbols of 2 to 4 UTF-8 bytes. */
function sentences(n: number, seed: number): string[] {
  const rng = new Random(seed);
  const words = ['the', 'cat', 'saw', 'a', 'bird', 'café', 'naïve', '東京', 'river', '✓', '🙂', 'again', 'Über', 'moon'];
  return Array.from({ length: n }, () => Array.from({ length: 1 + rng.int(9) }, () => words[rng.int(words.length)]!).join(' '));
}

/** The options a text model's data are read with. */
const TEXT = { tokens: 'word' as const, lowercase: true };

/** `spec` loaded in memory and streamed (a budget of 0 bytes). */
async function bothWays(spec: string, extra: { labelColumn?: string; textColumn?: string; maxLength?: number } = {}): Promise<[Dataset, Dataset]> {
  const { labelColumn, ...text } = extra;
  const options = { text: { ...TEXT, ...text }, ...(labelColumn !== undefined ? { labelColumn } : {}) };
  const loaded = await loadData(spec, 'train', { ...options, memoryBudget: Infinity });
  const streamed = await loadData(spec, 'train', { ...options, memoryBudget: 0 });
  assert.notEqual(loaded.values, null);
  assert.equal(streamed.values, null, 'a budget of 0 streams');
  return [loaded, streamed];
}

/** Asserts that two text sets hold the same examples: rows (gathered in a shuffled order) bit for bit, texts, ids, labels, lengths, vocabulary. */
function assertSameText(a: Dataset, b: Dataset, what: string): void {
  assert.equal(b.count, a.count, what);
  assert.deepEqual(b.shape, a.shape, what);
  assert.deepEqual(b.labels, a.labels, what);
  assert.deepEqual(b.labelNames, a.labelNames, what);
  const ta = a.text!;
  const tb = b.text!;
  assert.deepEqual(tb.vocabulary.tokens, ta.vocabulary.tokens, what);
  assert.deepEqual(tb.lengths, ta.lengths, what);
  assert.equal(tb.cut, ta.cut, what);
  assert.deepEqual([...tb.texts], [...ta.texts], what);
  for (const i of [0, a.count - 1, a.count >> 1]) assert.equal(tb.texts.text(i), ta.texts.text(i), what);
  for (let i = 0; i < a.count; i++) assert.equal(b.ids?.(i), a.ids?.(i), what);
  const order = shuffledOrder(a.count, new Random(7));
  const ra = new Float32Array(a.count * a.size);
  const rb = new Float32Array(a.count * a.size);
  a.gather(order, 0, a.count, ra);
  b.gather(order, 0, a.count, rb);
  assert.ok(Buffer.from(rb.buffer).equals(Buffer.from(ra.buffer)), `${what}: the rows differ`);
}

test('a text file read a chunk at a time gives what reading it whole gives, cut anywhere, and the same sentence for a damaged file', async () => {
  const path = join(tmp, 'chunks.txt');
  writeFileSync(path, `\ufeff${sentences(40, 1).join('\r\n')}\n\n   \n${sentences(5, 2).join('\n')}`);
  const whole = await readTextData(path);
  assert.equal(whole.texts.length, 45);
  assert.equal(whole.blank, 2);
  for (const chunkBytes of [4, 5, 7, 64, 1000]) assert.deepEqual(await readTextData(path, { chunkBytes }), whole, `chunks of ${chunkBytes}`);
  const table = join(tmp, 'chunks.csv');
  writeFileSync(table, `text,kind\n${sentences(30, 3).map((s, i) => `"${s}, said ""${i}""\n again",${i % 3 === 0 ? 'b' : 'a'}`).join('\n')}\n`);
  const wholeTable = await readTextData(table, { textColumn: 'text', labelColumn: 'kind' });
  assert.deepEqual(wholeTable.labelNames, ['a', 'b']);
  for (const chunkBytes of [4, 6, 64]) assert.deepEqual(await readTextData(table, { textColumn: 'text', labelColumn: 'kind', chunkBytes }), wholeTable, `chunks of ${chunkBytes}`);

  // Damaged files: the sentence decodeUtf8Text gives for the whole file, at every cut.
  const line = Buffer.from('first line\nsecond café line\nthird\n', 'utf8');
  const damaged: [string, Buffer][] = [
    ['nul', Buffer.concat([line.subarray(0, 15), Buffer.from([0]), line.subarray(15)])],
    ['bad continuation', Buffer.concat([line.subarray(0, 17), Buffer.from([0xc3, 0x28]), line.subarray(17)])],
    ['cut sequence at the end', Buffer.concat([line, Buffer.from([0xe2, 0x82])])],
    ['stray continuation', Buffer.concat([line.subarray(0, 20), Buffer.from([0x80]), line.subarray(20)])],
    ['four-byte sequence cut short', Buffer.concat([line.subarray(0, 12), Buffer.from([0xf0, 0x9f, 0x99]), line.subarray(12)])],
  ];
  for (const [name, bytes] of damaged) {
    const file = join(tmp, `${name.replace(/ /g, '-')}.txt`);
    writeFileSync(file, bytes);
    let expected = '';
    try {
      decodeUtf8Text(bytes, file);
    } catch (err) {
      expected = (err as Error).message;
    }
    assert.notEqual(expected, '', name);
    for (const chunkBytes of [4, 5, 6, 7, 13, 1 << 20]) {
      await assert.rejects(readTextData(file, { chunkBytes }), (err: unknown) => err instanceof VaekitError && err.message === expected, `${name}, chunks of ${chunkBytes}`);
    }
  }
});

test('utf8Chunks gives decodeUtf8Text\'s text or sentence for any bytes, cut at any chunk size (property)', () => {
  const file = join(tmp, 'property.bin');
  // Mostly UTF-8 text (with newlines and 2- to 4-byte characters), some bytes flipped, a NUL or a cut sequence now and then.
  const bytesArb = fc.tuple(
    fc.string({ unit: 'grapheme', maxLength: 60 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 2 }),
    fc.boolean(),
  ).map(([text, flips, cut]) => {
    const bytes = Buffer.from(text.replace(/\u0000/g, ''), 'utf8');
    for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
    return cut && bytes.length > 0 ? bytes.subarray(0, bytes.length - 1) : bytes;
  });
  fc.assert(fc.property(bytesArb, fc.integer({ min: 1, max: 12 }), (bytes, chunkBytes) => {
    writeFileSync(file, bytes);
    const outcome = (read: () => string): string => {
      try {
        return `text:${read()}`;
      } catch (err) {
        if (!(err instanceof VaekitError)) throw err;
        return `error:${err.message}`;
      }
    };
    const whole = outcome(() => decodeUtf8Text(bytes, file));
    const fd = openSync(file, 'r');
    try {
      assert.equal(outcome(() => [...utf8Chunks(fd, file, chunkBytes)].join('')), whole);
    } finally {
      closeSync(fd);
    }
  }), { numRuns: 1000 });
});

test('a streamed .txt corpus gives the loaded one\'s rows, texts, ids, lengths and vocabulary, through its views and another vocabulary', async () => {
  const path = join(tmp, 'corpus.txt');
  writeFileSync(path, `${sentences(300, 4).join('\n')}\n\n${sentences(20, 5).join('\n')}\n`);
  const [loaded, streamed] = await bothWays(path);
  assertSameText(loaded, streamed, 'the corpus');
  const picked = Uint32Array.from(shuffledOrder(loaded.count, new Random(3)).subarray(0, 90)).sort();
  assertSameText(subset(loaded, picked), subset(streamed, picked), 'a subset');
  assertSameText(takeFirst(loaded, 17), takeFirst(streamed, 17), 'the first 17');
  // A training part's vocabulary (8 tokens: the rest <unk>), cut to 5 tokens, as a run reads its validation part.
  const vocabulary = buildVocabulary(subset(loaded, picked).text!.texts, { kind: 'word', lowercase: true }, 8, 'x');
  const again = [await withVocabulary(subset(loaded, picked), vocabulary, 5), await withVocabulary(subset(streamed, picked), vocabulary, 5)] as const;
  assert.equal(again[1].values, null, 'still streamed');
  assert.ok(again[0].text!.cut > 0, 'some are cut');
  assertSameText(again[0], again[1], 'read again with another vocabulary');
  // A maximum length given as the corpus is read.
  const [short, shortStreamed] = await bothWays(path, { maxLength: 3 });
  assertSameText(short, shortStreamed, 'cut to 3 tokens');
});

test('text streams when 8 times its files\' size is more than the budget, and not at the budget', async () => {
  const path = join(tmp, 'edge.txt');
  writeFileSync(path, `${sentences(30, 12).join('\n')}\n`);
  const needs = TEXT_MEMORY_PER_BYTE * statSync(path).size;
  assert.equal(TEXT_MEMORY_PER_BYTE, 8);
  assert.notEqual((await loadData(path, 'train', { text: TEXT, memoryBudget: needs })).values, null, 'at the budget: in memory');
  assert.equal((await loadData(path, 'train', { text: TEXT, memoryBudget: needs - 1 })).values, null, 'one byte less: streamed');
});

test('a streamed CSV column and a streamed folder of classes give the loaded ones\' examples and classes', async () => {
  const table = join(tmp, 'labelled.csv');
  const rows = sentences(120, 6);
  writeFileSync(table, `id,text,kind\n${rows.map((s, i) => `${i},"${s.replace(/ /g, ', ')}",${[10, 2, '2.0'][i % 3]}`).join('\n')}\n5, ,2\n`);
  const [loaded, streamed] = await bothWays(table, { textColumn: 'text', labelColumn: 'kind' });
  assert.deepEqual(loaded.labelNames, ['2', '10']);
  assertSameText(loaded, streamed, 'the CSV column');

  const folder = join(tmp, 'classes');
  sentences(40, 7).forEach((s, i) => {
    const dir = join(folder, i % 2 === 0 ? 'even' : 'odd');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${String(i).padStart(2, '0')}.txt`), `${s}\n`);
  });
  const [fromFolder, fromFolderStreamed] = await bothWays(folder);
  assertSameText(fromFolder, fromFolderStreamed, 'the folder');
  assert.equal(fromFolderStreamed.ids!(1), 'even/02.txt');
});

test('streamed text is refused in the sentences loading gives, and leaves no file open', async () => {
  const openFiles = (): number => readdirSync('/proc/self/fd').length;
  const long = join(tmp, 'long.txt');
  writeFileSync(long, `a b\n${'word '.repeat(5000)}\n`);
  const blank = join(tmp, 'blank.txt');
  writeFileSync(blank, '\n  \n');
  const table = join(tmp, 'ragged.csv');
  writeFileSync(table, 'text,kind\na b,x\nc d\n');
  const cases: [string, { text: Record<string, unknown>; labelColumn?: string }][] = [
    [long, { text: TEXT }],
    [blank, { text: TEXT }],
    [table, { text: { ...TEXT, textColumn: 'text' }, labelColumn: 'kind' }],
    [join(tmp, 'corpus.txt'), { text: { ...TEXT, vocab: 10_000 } }],
  ];
  const before = openFiles();
  for (const [spec, options] of cases) {
    const sentence = async (memoryBudget: number): Promise<string> => {
      try {
        await loadData(spec, 'train', { ...(options as object), memoryBudget });
      } catch (err) {
        assert.ok(err instanceof VaekitError, `${spec}: ${String(err)}`);
        return err.message;
      }
      return assert.fail(`${spec} loaded`);
    };
    assert.equal(await sentence(0), await sentence(Infinity), spec);
  }
  assert.equal(openFiles(), before, 'every scratch file and source was closed');
});

test('a text run trains to the same weights, losses and fingerprint streamed as in memory', async () => {
  const path = join(tmp, 'run.txt');
  writeFileSync(path, `${sentences(240, 8).join('\n')}\n`);
  await assertStreamedTrainsAsLoaded((memoryBudget) => ({
    data: { source: path, memoryBudget: memoryBudget === null ? null : 0, validation: { fraction: 0.2 }, lowercase: true },
    model: { preset: 'text', latent: 3, embedding: 8, encoderHidden: [12], decoderHidden: [12] },
    training: { epochs: 2, batchSize: 16, checkpoint: null },
    seed: 9,
    outputs: { dir: join(tmp, 'unused'), figures: false },
  }));
});

test('vaekit train --memory-budget streams a text corpus and says so; encode, denoise, eval and anomaly read it streamed as in memory', async () => {
  const path = join(tmp, 'cli.txt');
  writeFileSync(path, `${sentences(80, 10).join('\n')}\n`);
  const out = join(tmp, 'cli-run');
  const stdout = cli.ok(['train', '--data', path, '--preset', 'text', '--memory-budget', '1KB', '--latent', '2', '--hidden', '8', '--epochs', '1', '--out', out]);
  assert.match(stdout, /cli\.txt: its text needs about \d+ bytes, more than the memory budget of 1000 bytes \(--memory-budget\), so it streams from disk/);
  assert.ok(existsSync(join(out, 'config.json')), 'the run is saved');
  const table = join(tmp, 'cli.csv');
  writeFileSync(table, `text,kind\n${sentences(60, 11).map((s, i) => `${s},${i % 4 === 0 ? 'odd' : 'normal'}`).join('\n')}\n`);
  // Each command once in memory and once streamed: the same files, and the same lines but the note that says it streams.
  const commands: [string, string[], string][] = [
    ['encode', ['encode', '--model', out, '--data', path], 'codes.csv'],
    ['denoise', ['denoise', '--model', out, '--data', path, '--noise', 'word-dropout:0.3'], 'denoised.csv'],
    ['eval', ['eval', '--model', out, '--data', path, '--samples', '5', '--overwrite'], ''],
    ['anomaly', ['anomaly', '--model', out, '--data', path, '--test-data', table, '--text-column', 'text', '--label-column', 'kind', '--normal-class', 'normal', '--baselines', '--samples', '5'], 'scores.csv'],
  ];
  for (const [name, args, file] of commands) {
    const said: string[] = [];
    const written: string[] = [];
    for (const budget of [[], ['--memory-budget', '1KB']]) {
      const where = join(tmp, `cli-${name}-${budget.length}${file === '' ? '' : name === 'anomaly' ? '' : '.csv'}`);
      const lines = cli.ok([...args, ...budget, ...(file === '' ? [] : ['--out', where])]).split('\n').filter((l) => !/so it streams from disk/.test(l) && !/^wrote |: cli-/.test(l));
      said.push(lines.join('\n').replaceAll(where, 'OUT'));
      if (file !== '') written.push(readFileSync(name === 'anomaly' ? join(where, file) : where, 'utf8'));
    }
    assert.equal(said[1], said[0], `${name} says the same streamed`);
    assert.equal(written[1], written[0], `${name} writes the same streamed`);
  }
});
