// Streaming data larger than the memory budget (src/data/stream): a streamed image folder, NPY or
// CSV file gives the bits the same data loaded in memory gives (the oracle), in any order, through its
// views (splits, limits, standardization), and a run trains to the same weights either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { relabel, storedChunks, subset, takeFirst, type Dataset } from '../src/data/dataset.js';
import { loadData, parseByteSize } from '../src/data/load.js';
import { streamWaits } from '../src/data/stream/pool.js';
import { shuffledOrder } from '../src/data/batches.js';
import { visitCsvChunks, visitCsvFile } from '../src/data/sources/csv.js';
import { fitStandardization, standardize } from '../src/data/transforms/standardize.js';
import { Random } from '../src/engine/random.js';
import { encodeNpy } from '../src/io/npy.js';
import { VaekitError } from '../src/errors.js';
import { dataFingerprint, legacyFingerprint, sameTrainingData } from '../src/run/plan.js';
import { validateRunSpec, type RunSpecInput } from '../src/run/spec.js';
import { cliChecks, vaekitFromSources } from './helpers/cli.js';
import { assertStreamedTrainsAsLoaded } from './helpers/runs.js';
import { sameBits } from './helpers/assert-close.js';

const cli = cliChecks(vaekitFromSources);

const tmp = mkdtempSync(join(tmpdir(), 'vaekit-stream-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** A folder of `perClass` PNGs of each class, [height, width] RGB (grey: R = G = B), random pixels. */
async function pngFolder(name: string, perClass: number, height: number, width: number, grey: boolean, seed: number): Promise<string> {
  const dir = join(tmp, name);
  const rng = new Random(seed);
  for (const c of ['cats', 'dogs']) {
    mkdirSync(join(dir, c), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const px = new Uint8Array(height * width * 3);
      for (let p = 0; p < height * width; p++) {
        const v = rng.int(256);
        px.set(grey ? [v, v, v] : [v, rng.int(256), rng.int(256)], 3 * p);
      }
      await sharp(Buffer.from(px), { raw: { width, height, channels: 3 } }).png().toFile(join(dir, c, `${String(i).padStart(3, '0')}.png`));
    }
  }
  return dir;
}

/** Every value each set gives through gather, in `order`, in batches of `batch` (the last short), as the batching loop asks. */
function gathered(set: Dataset, order: Uint32Array | null, batch: number): Float32Array {
  const all = new Float32Array(set.count * set.size);
  const out = new Float32Array(batch * set.size);
  for (let start = 0; start < set.count; start += batch) {
    const rows = Math.min(batch, set.count - start);
    set.gather(order, start, rows, out);
    all.set(out.subarray(0, rows * set.size), start * set.size);
  }
  return all;
}

function assertSameSet(streamed: Dataset, loaded: Dataset, seed: number): void {
  assert.equal(streamed.values, null);
  assert.notEqual(loaded.values, null);
  assert.deepEqual([streamed.count, ...streamed.shape], [loaded.count, ...loaded.shape]);
  assert.deepEqual(streamed.labels, loaded.labels);
  assert.deepEqual(streamed.labelNames, loaded.labelNames);
  for (const i of [0, loaded.count - 1]) assert.equal(streamed.ids?.(i), loaded.ids?.(i));
  const order = shuffledOrder(loaded.count, new Random(seed));
  // Bit for bit: the typed arrays compared as bytes.
  assert.ok(sameBits(gathered(streamed, order, 32), gathered(loaded, order, 32)), 'shuffled batches differ');
  assert.ok(sameBits(gathered(streamed, null, 7), gathered(loaded, null, 7)), 'batches in stored order differ');
  assert.equal(dataFingerprint(streamed), dataFingerprint(loaded));
}

test('a streamed image folder gives the loaded one\'s examples, labels, ids, bits and fingerprint, in any order and through its views', async () => {
  const dir = await pngFolder('colour', 45, 9, 11, false, 1);
  const notes: string[] = [];
  const loaded = await loadData(dir, 'train', { memoryBudget: Infinity, report: (l) => notes.push(l) });
  const streamed = await loadData(dir, 'train', { memoryBudget: 0, report: (l) => notes.push(l) });
  assert.equal(notes.length, 3);
  assert.match(notes[1]!, /colour: its images need 26730 bytes, more than the memory budget of 0 bytes \(data\.memoryBudget\), so it streams from disk/);
  assert.equal(notes[2], notes[0]); // the same channels, decided on every image
  assert.deepEqual(streamed.shape, [9, 11, 3]);
  assertSameSet(streamed, loaded, 2);
  // Views: a seeded subset (as a validation split makes), the first examples (data.limit), relabelled classes.
  const picked = [88, 3, 47, 12, 60, 0, 89];
  assertSameSet(subset(streamed, picked, 'part'), subset(loaded, picked, 'part'), 3);
  assertSameSet(takeFirst(streamed, 50), takeFirst(loaded, 50), 4);
  const flipped = Int32Array.from(loaded.labels!, (y) => 1 - y);
  assertSameSet(relabel(subset(streamed, picked), flipped.subarray(0, 7), ['dogs', 'cats']), relabel(subset(loaded, picked), flipped.subarray(0, 7), ['dogs', 'cats']), 5);
  // A budget between the two: the folder's 90 x 9 x 11 x 3 bytes fit 8,910 bytes but not 8,909.
  assert.notEqual((await loadData(dir, 'train', { memoryBudget: 90 * 9 * 11 * 3 })).values, null);
  assert.equal((await loadData(dir, 'train', { memoryBudget: 90 * 9 * 11 * 3 - 1 })).values, null);
});

test('a streamed folder of grey images is 1 channel, as loading decides, and resizes as loading does', async () => {
  const dir = await pngFolder('grey', 20, 12, 10, true, 6);
  const notes: string[] = [];
  const loaded = await loadData(dir, 'train', { memoryBudget: Infinity, report: (l) => notes.push(l) });
  const streamed = await loadData(dir, 'train', { memoryBudget: 0, report: (l) => notes.push(l) });
  assert.deepEqual(streamed.shape, [12, 10, 1]);
  assert.match(notes[2]!, /all 40 images are greyscale, so they load as 1 channel/);
  assertSameSet(streamed, loaded, 7);
  const size: [number, number] = [7, 5];
  assertSameSet(await loadData(dir, 'train', { memoryBudget: 0, imageSize: size, channels: 3 }), await loadData(dir, 'train', { memoryBudget: Infinity, imageSize: size, channels: 3 }), 8);
});

test('a streamed NPY table standardizes to the same statistics and bits; NPY images stream as stored', async () => {
  const rng = new Random(9);
  const n = 300;
  const table = Float64Array.from({ length: n * 6 }, (_, i) => (i % 6) * 10 + rng.normal() * (1 + (i % 3)));
  const x = join(tmp, 'table.npy');
  const y = join(tmp, 'table-labels.npy');
  writeFileSync(x, encodeNpy({ dtype: 'float64', shape: [n, 6], data: table }));
  writeFileSync(y, encodeNpy({ dtype: 'int64', shape: [n], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3)) }));
  const loaded = await loadData(x, 'train', { labels: y, memoryBudget: Infinity });
  const streamed = await loadData(x, 'train', { labels: y, memoryBudget: 0 });
  assertSameSet(streamed, loaded, 10);
  const stats = fitStandardization(loaded);
  assert.deepEqual(fitStandardization(streamed), stats);
  assertSameSet(standardize(streamed, stats), standardize(loaded, stats), 11);
  assertSameSet(standardize(subset(streamed, [5, 1, 299]), stats), standardize(subset(loaded, [5, 1, 299]), stats), 12);
  // Images of floats in [0, 1] and of bytes.
  const images = join(tmp, 'images.npy');
  writeFileSync(images, encodeNpy({ dtype: 'float32', shape: [70, 4, 5, 3], data: Float32Array.from({ length: 70 * 60 }, () => rng.uniform()) }));
  assertSameSet(await loadData(images, 'train', { memoryBudget: 0 }), await loadData(images, 'train', { memoryBudget: Infinity }), 13);
  let chunks = 0;
  for (const c of storedChunks(await loadData(images, 'train', { memoryBudget: 0 }))) chunks += c.rows;
  assert.equal(chunks, 70);
});

test('a damaged image or value stops a streamed source as it opens, with the sentence loading it says', async () => {
  const dir = await pngFolder('damaged', 6, 8, 8, false, 14);
  writeFileSync(join(dir, 'dogs', '003.png'), Buffer.from('not an image at all'));
  const loading = await loadData(dir, 'train', { memoryBudget: Infinity }).then(() => 'loaded', (err: Error) => err.message);
  assert.match(loading, /003\.png could not be decoded as an image/);
  await assert.rejects(loadData(dir, 'train', { memoryBudget: 0 }), (err: Error) => err.message === loading);
  const bad = join(tmp, 'bad.npy');
  const values = new Float32Array(40 * 16).fill(0.5);
  values[37 * 16 + 5] = 1.5;
  writeFileSync(bad, encodeNpy({ dtype: 'float32', shape: [40, 4, 4], data: values }));
  const expected = /bad\.npy: example 37, pixel \(row 1, column 1, channel 0\) holds 1\.5, but float images must hold values in \[0, 1\]/;
  await assert.rejects(loadData(bad, 'train', { memoryBudget: Infinity }), expected);
  await assert.rejects(loadData(bad, 'train', { memoryBudget: 0 }), expected);
});

test('a run trains to the same weights, losses and test metrics streamed as in memory; data.memoryBudget takes bytes or a size', async () => {
  const dir = await pngFolder('run', 60, 8, 8, false, 21);
  // As a spec file gives it (a size may be a string there).
  const spec = (memoryBudget: number | string | null): RunSpecInput => JSON.parse(JSON.stringify({
    data: { source: dir, memoryBudget, validation: { fraction: 0.2 } },
    model: { preset: 'mlp', latent: 3, encoderHidden: [16], decoderHidden: [16] },
    training: { epochs: 2, batchSize: 16 },
    seed: 5,
  }));
  const { streamed, loaded } = await assertStreamedTrainsAsLoaded(spec);
  assert.deepEqual(streamed.test, loaded.test);

  assert.equal(validateRunSpec(spec('1.5GiB')).data.memoryBudget, 1.5 * 2 ** 30);
  assert.equal(validateRunSpec(spec(2_000_000)).data.memoryBudget, 2_000_000);
  assert.throws(() => validateRunSpec(spec('lots')), /data\.memoryBudget is invalid: Invalid size "lots": give a number of bytes or a size such as 512MB or 2GB\.$/);
  assert.throws(() => validateRunSpec(spec(-1)), /data\.memoryBudget must be a number of bytes/);
  assert.equal(parseByteSize('512MB'), 512e6);
});

test('a streamed set reads ahead: a pass in stored order starts again as it ends, and prefetch starts a pass before it is asked for', async () => {
  const n = 3000;
  const path = join(tmp, 'ahead.npy');
  const rng = new Random(31);
  writeFileSync(path, encodeNpy({ dtype: 'float32', shape: [n, 16], data: Float32Array.from({ length: n * 16 }, () => rng.uniform()) }));
  const set = await loadData(path, 'train', { memoryBudget: 0 });
  const loaded = await loadData(path, 'train', { memoryBudget: Infinity });
  const rows = 500;
  const out = new Float32Array(rows * 16);
  const expected = new Float32Array(rows * 16);
  /** One pass, in `order`, checked against the set in memory; the number of reads that waited. */
  const pass = (order: Uint32Array | null): number => {
    const before = streamWaits.count;
    for (let start = 0; start < n; start += rows) {
      set.gather(order, start, rows, out);
      loaded.gather(order, start, rows, expected);
      assert.ok(Buffer.from(out.buffer).equals(Buffer.from(expected.buffer)), `rows ${start}..`);
    }
    return streamWaits.count - before;
  };
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1500));
  pass(null);
  // Passes right after one another: their 6 chunks are fewer than the cursor's 8 slots, so it holds
  // the next passes' chunks as it reads this one's.
  pass(null);
  pass(null);
  await settle();
  // The threads started the stored-order pass again as the last one ended; its first chunks are in.
  const first = streamWaits.count;
  set.gather(null, 0, rows, out);
  assert.equal(streamWaits.count, first, 'the next pass in stored order did not wait for its first rows');
  const order = shuffledOrder(n, new Random(5));
  set.streamed!.prefetch(order, rows);
  await settle();
  const before = streamWaits.count;
  set.gather(order, 0, rows, out);
  assert.equal(streamWaits.count, before, 'a prefetched pass did not wait for its first rows');
  pass(order); // the prefetched pass's rows are the loaded set's
});

test('a pass begun in a cursor whose chunks were asked for ahead and not yet read gets its own rows (the threads read a pass in progress first)', async () => {
  // PNGs: their threads decode asynchronously, so reads asked for at once queue up in a thread.
  const dir = await pngFolder('overtaken', 150, 16, 16, false, 41);
  const set = await loadData(dir, 'train', { memoryBudget: 0 });
  const loaded = await loadData(dir, 'train', { memoryBudget: Infinity });
  const rows = 20;
  for (let round = 0; round < 10; round++) {
    // Chunks of one order asked for ahead, then at once a pass in another, in the same cursor: its
    // reads overtake the ones asked for ahead, which must then leave the slots alone.
    set.streamed!.prefetch(shuffledOrder(set.count, new Random(100 + round)), rows);
    const order = shuffledOrder(set.count, new Random(200 + round));
    assert.ok(Buffer.from(gathered(set, order, rows).buffer).equals(Buffer.from(gathered(loaded, order, rows).buffer)), `round ${round}`);
  }
});

test('a CSV file read a chunk at a time gives the records and line numbers reading it whole gives, cut anywhere', async () => {
  const rng = new Random(31);
  const lines = ['\ufeffa,b,label'];
  for (let i = 0; i < 60; i++) lines.push(i % 9 === 4 ? '' : `${(rng.normal() * 100).toPrecision(7)},${rng.int(1000)},${['ünï', 'cödé', 'x'][i % 3]}`);
  const plain = join(tmp, 'plain.csv');
  writeFileSync(plain, lines.join('\r\n') + '\r\n');
  const quoted = join(tmp, 'quoted.csv');
  writeFileSync(quoted, `a,b,label\n${lines.slice(1).map((l, i) => (l === '' ? '' : `${l.split(',').slice(0, 2).join(',')},"${i % 2 ? 'two\nlines' : 'q, ""q""'}"`)).join('\n')}`);
  for (const path of [plain, quoted]) {
    const whole: [string[], number][] = [];
    visitCsvFile(path, (cells, line) => whole.push([cells, line]));
    assert.ok(whole.length > 50);
    for (const chunkBytes of [1, 2, 7, 64, 1 << 20]) {
      const chunked: [string[], number][] = [];
      await visitCsvChunks(path, (cells, line) => chunked.push([cells, line]), chunkBytes);
      assert.deepEqual(chunked, whole, `${path} in chunks of ${chunkBytes} bytes`);
    }
  }
});

test('a streamed CSV table gives the loaded one\'s features, classes, ids, statistics and bits; a bad cell stops it with loading\'s sentence', async () => {
  const rng = new Random(41);
  const rows = Array.from({ length: 500 }, (_, i) => `${rng.normal().toPrecision(6)},${(rng.uniform() * 1e4).toFixed(2)},${rng.int(7)},${['b', 'a', 'c'][i % 3]}`);
  const path = join(tmp, 'table.csv');
  writeFileSync(path, `x,y,z,kind\n${rows.join('\n')}\n`);
  const loaded = await loadData(path, 'train', { labelColumn: 'kind', memoryBudget: Infinity });
  const streamed = await loadData(path, 'train', { labelColumn: 'kind', memoryBudget: 0 });
  assertSameSet(streamed, loaded, 42);
  assert.deepEqual(streamed.featureNames, ['x', 'y', 'z']);
  const stats = fitStandardization(loaded);
  assert.deepEqual(fitStandardization(streamed), stats);
  assertSameSet(standardize(streamed, stats), standardize(loaded, stats), 43);
  const bad = join(tmp, 'bad.csv');
  writeFileSync(bad, `x,y\n${rows.slice(0, 300).map((r) => r.split(',').slice(0, 2).join(',')).join('\n')}\n1,oops\n`);
  const expected = /bad\.csv: row 301 \(line 302\), column "y": "oops" is not a number/;
  await assert.rejects(loadData(bad, 'train', { memoryBudget: Infinity }), expected);
  await assert.rejects(loadData(bad, 'train', { memoryBudget: 0 }), expected);
});

test('vaekit train --memory-budget streams a folder and says so; a size it cannot read is refused in one sentence', async () => {
  const dir = await pngFolder('cli', 30, 8, 8, false, 51);
  const out = join(tmp, 'cli-run');
  const stdout = cli.ok(['train', '--data', dir, '--memory-budget', '10KB', '--preset', 'mlp', '--latent', '2', '--hidden', '8', '--epochs', '1', '--noise', 'none', '--out', out]);
  // 60 images of 8x8 RGB: 11,520 bytes.
  assert.match(stdout, /cli: its images need 11520 bytes, more than the memory budget of 10000 bytes \(--memory-budget\), so it streams from disk/);
  assert.ok(existsSync(join(out, 'config.json')));
  cli.refused(['train', '--data', dir, '--memory-budget', 'lots', '--out', join(tmp, 'never')], /--memory-budget.*Invalid size "lots": give a number of bytes or a size such as 512MB or 2GB\./, [join(tmp, 'never')]);
});

test('a file that goes missing while a streamed folder trains stops the batch that needs it, in one sentence naming it', async () => {
  const dir = await pngFolder('vanishing', 10, 6, 6, false, 61);
  const set = await loadData(dir, 'train', { memoryBudget: 0 });
  rmSync(join(dir, 'dogs', '004.png'));
  const out = new Float32Array(20 * set.size);
  assert.throws(() => set.gather(null, 0, 20, out), (err: Error) => err instanceof VaekitError && /dogs\/004\.png could not be decoded as an image \(ENOENT/.test(err.message));
  // The examples before it still read (another pass, another cursor).
  set.gather(null, 0, 10, out);
});

test('a fingerprint is made of row digests kept from the pass that opened a streamed source; a run recorded with the older fingerprint still resumes', async () => {
  const dir = await pngFolder('prints', 25, 7, 7, false, 71);
  const loaded = await loadData(dir, 'train', { memoryBudget: Infinity });
  const streamed = await loadData(dir, 'train', { memoryBudget: 0 });
  const stats = { mean: [0.5], std: [2] };
  const flipped = Int32Array.from(loaded.labels!, (y) => 1 - y);
  assert.equal(dataFingerprint(streamed), dataFingerprint(loaded));
  assert.equal(dataFingerprint(streamed, stats), dataFingerprint(loaded, stats));
  assert.equal(dataFingerprint(streamed, null, flipped), dataFingerprint(loaded, null, flipped));
  assert.notEqual(dataFingerprint(loaded, null, flipped), dataFingerprint(loaded));
  assert.notEqual(dataFingerprint(loaded, stats), dataFingerprint(loaded));
  assert.notEqual(dataFingerprint(subset(loaded, [0, 1])), dataFingerprint(subset(loaded, [1, 0])));
  // The older fingerprint: one sha256 of the shape, the values and the labels.
  const hash = createHash('sha256').update(JSON.stringify(loaded.shape)).update(loaded.values!).update(Buffer.from(loaded.labels!.buffer));
  const legacy = hash.digest('hex');
  assert.equal(legacyFingerprint(streamed), legacy);
  const plan = { fingerprint: dataFingerprint(loaded), train: loaded };
  assert.ok(sameTrainingData(plan.fingerprint, plan));
  assert.ok(sameTrainingData(legacy, plan));
  assert.ok(!sameTrainingData(legacy.replace(/^./, (c) => (c === '0' ? '1' : '0')), plan));
  assert.ok(!sameTrainingData(dataFingerprint(subset(loaded, [0, 1])), plan));
});
