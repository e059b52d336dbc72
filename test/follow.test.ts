// Streaming anomaly scores (`vaekit anomaly --model M --follow FILE|-`): lines read as a file grows
// (a line in two writes read once, whole; a replaced or truncated file read from its start),
// scores equal to the batch scores of `vaekit anomaly --model` on the same rows, flags and
// thresholds equal to class Spot run directly on the same scores.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Spot } from '../src/anomaly/thresholds.js';
import { Random } from '../src/engine/random.js';
import { followFile, LineSplitter, streamLines, type LineEvent } from '../src/io/tail.js';
import { checkFollowOptions, followScores, tableScorer, type FlaggedPoint, type ScoredPoint } from '../src/pipelines/follow.js';
import { loadBundle, type Bundle } from '../src/run/bundle.js';
import { prepareForModel } from '../src/run/data.js';
import { anomalyScores } from '../src/eval/anomaly.js';
import { loadCsv } from '../src/data/sources/csv.js';
import { Readable } from 'node:stream';
import { cliChecks, vaekitFromSources } from './helpers/cli.js';
import { corpus, trainTiny } from './export-text-models.js';
import { textScorer } from '../src/pipelines/follow.js';
import { scoreTextAnomalies } from '../src/pipelines/text-anomaly.js';
import { textsForModel } from '../src/pipelines/text.js';

const work = mkdtempSync(join(tmpdir(), 'vaekit-follow-'));
after(() => rmSync(work, { recursive: true, force: true }));
const { ok, refused } = cliChecks((args) => vaekitFromSources(args, 60_000));

const FEATURES = ['a', 'b', 'c', 'd'];
/** Four features on a 2-D plane (c = a + b, d = a - b) with a little noise. */
function normalRow(rng: Random): number[] {
  const [z1, z2] = [rng.normal(), rng.normal()];
  const e = (): number => 0.05 * rng.normal();
  return [z1 + e(), z2 + e(), z1 + z2 + e(), z1 - z2 + e()];
}
/** Far off the plane: c and d contradict a and b. */
function outlierRow(rng: Random): number[] {
  return [1 + 0.1 * rng.normal(), 1, -4, 4];
}
const cells = (row: number[]): string[] => row.map((v) => v.toFixed(4));

/** Stream settings: calibration 200 at level 0.9 leaves POT 20 peaks. */
const CALIBRATION = 200;
const POT = '1e-4:0.9';
const SEED = 3;

/** The rows streamed: 200 normal (calibration), then 100 normal with outliers planted at rows 230, 260 and 290 (1-based). */
const PLANTED = [230, 260, 290];
let rows: number[][];
let modelDir: string;
let bundle: Bundle;
/** The batch scores of the same rows, one posterior sample each. */
let batchScores: number[];

before(() => {
  const rng = new Random(11);
  const train = [FEATURES.join(','), ...Array.from({ length: 1000 }, () => cells(normalRow(rng)).join(','))];
  writeFileSync(join(work, 'train.csv'), `${train.join('\n')}\n`);
  modelDir = join(work, 'model');
  ok(['train', '--data', join(work, 'train.csv'), '--latent', '2', '--hidden', '32', '--epochs', '60', '--batch-size', '64', '--lr', '3e-3', '--noise', 'none', '--seed', '1', '--out', modelDir]);
  bundle = loadBundle(modelDir);
  rows = Array.from({ length: 300 }, (_, i) => (PLANTED.includes(i + 1) ? outlierRow(rng) : normalRow(rng)));
  // One pass over all the rows (batches of 500), as `vaekit anomaly --model M --data batch.csv --score-samples 1` scores them.
  const batch = join(work, 'batch.csv');
  writeFileSync(batch, `${[FEATURES.join(','), ...rows.map((r) => cells(r).join(','))].join('\n')}\n`);
  batchScores = Array.from(anomalyScores(bundle.vae, prepareForModel(bundle.data, loadCsv(batch), false), 1, SEED));
  assert.equal(batchScores.length, rows.length);
});

/** The stream's columns in another order than the model's, with a time column it ignores. */
const STREAM_HEADER = 'time,d,b,a,c';
function streamLine(i: number): string {
  const [a, b, c, d] = cells(rows[i]!);
  return `2024-01-01T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')},${d},${b},${a},${c}`;
}

/** Spot run directly on the scores: the flags after calibration, each with the threshold it met. */
function spotOracle(scores: readonly number[], calibration: number, risk: number, level: number): Array<{ index: number; threshold: number }> {
  const spot = new Spot(scores.slice(0, calibration), risk, level);
  const out: Array<{ index: number; threshold: number }> = [];
  for (let i = calibration; i < scores.length; i++) {
    const threshold = spot.threshold;
    if (spot.update(scores[i]!)) out.push({ index: i, threshold });
  }
  return out;
}

/** Waits for `done()` (every 5 ms), failing after `ms`. */
async function until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('LineSplitter: whole lines only, CRLF and a byte-order mark dropped, a UTF-8 character split across chunks kept whole', () => {
  const s = new LineSplitter('t');
  assert.deepEqual(s.push(Buffer.from('\ufeffa,b\r\n1,')), ['a,b']);
  assert.deepEqual(s.push(Buffer.from('2')), []);
  const euro = Buffer.from('\n3,€\n4');
  assert.deepEqual(s.push(euro.subarray(0, 5)), ['1,2']);
  assert.deepEqual(s.push(euro.subarray(5)), ['3,€']);
  assert.equal(s.finish(), '4');
  assert.equal(s.finish(), null);
});

test('a file appended in pieces (a line split across two writes): scores equal the batch scores, flags equal Spot\'s, rotation and truncation read the new file from its start', { timeout: 30_000 }, async () => {
  const path = join(work, 'live.csv');
  writeFileSync(path, `${STREAM_HEADER}\n`);
  const stop = new AbortController();
  const scored: ScoredPoint[] = [];
  const flagged: FlaggedPoint[] = [];
  const restarts: string[] = [];
  const scorer = tableScorer(bundle, { samples: 1, seed: SEED, source: path, idColumn: 'time' });
  const done = followScores(followFile(path, { signal: stop.signal, pollMs: 5 }), scorer, {
    calibration: CALIBRATION, risk: 1e-4, level: 0.9,
    onScored: (p) => scored.push(p), onFlagged: (p) => flagged.push(p), onRestart: (why) => restarts.push(why),
  });
  try {
    // 250 rows in pieces of 50, then row 251 in two writes, then the rest.
    for (let start = 0; start < 250; start += 50) {
      appendFileSync(path, rows.slice(start, start + 50).map((_, k) => `${streamLine(start + k)}\n`).join(''));
      await until(() => scored.length === start + 50, `row ${start + 50}`);
    }
    const line = streamLine(250);
    const cut = line.indexOf(',', line.indexOf(',') + 1) + 3; // in the middle of a number
    appendFileSync(path, line.slice(0, cut));
    await new Promise((r) => setTimeout(r, 60)); // a dozen polls
    assert.equal(scored.length, 250, 'half a line is not read');
    appendFileSync(path, `${line.slice(cut)}\n`);
    await until(() => scored.length === 251, 'row 251');
    appendFileSync(path, rows.slice(251).map((_, k) => `${streamLine(251 + k)}\n`).join(''));
    await until(() => scored.length === 300, 'row 300');

    // Every score is the batch score, and the ids are the time column.
    scored.forEach((p, i) => assert.equal(p.score, batchScores[i], `row ${i + 1}`));
    assert.deepEqual(scored.map((p) => p.id), rows.map((_, i) => streamLine(i).split(',')[0]));
    // The flags are exactly the planted outliers, each with the threshold Spot had when it came.
    const oracle = spotOracle(scored.map((p) => p.score), CALIBRATION, 1e-4, 0.9);
    assert.deepEqual(oracle.map((o) => o.index + 1), PLANTED);
    assert.deepEqual(flagged.map((p) => [p.id, p.score, p.threshold]), oracle.map((o) => [scored[o.index]!.id, scored[o.index]!.score, o.threshold]));

    // Rotation: the file renamed away and a new one written at the path, its header first.
    renameSync(path, join(work, 'live.csv.1'));
    writeFileSync(path, `${STREAM_HEADER}\n${streamLine(PLANTED[0]! - 1)}\n${streamLine(0)}\n`);
    await until(() => scored.length === 302, 'the new file\'s rows');
    assert.deepEqual(restarts, ['rotated']);
    assert.equal(scored[300]!.id, streamLine(PLANTED[0]! - 1).split(',')[0]);
    assert.equal(flagged.length, 4, 'the outlier at the top of the new file is flagged');
    // Truncation in place: the file emptied and written again from its start.
    truncateSync(path, 0);
    await new Promise((r) => setTimeout(r, 30));
    appendFileSync(path, `${STREAM_HEADER}\n${streamLine(1)}\n`);
    await until(() => scored.length === 303, 'the truncated file\'s row');
    assert.deepEqual(restarts, ['rotated', 'truncated']);
    assert.equal(scored[302]!.id, streamLine(1).split(',')[0]);
  } finally {
    stop.abort();
  }
  const summary = await done;
  assert.deepEqual({ ...summary, threshold: null }, { scored: 303, flagged: 4, calibrated: true, threshold: null, restarts: 2 });
});

test('a stream\'s last line counts without its newline when the stream ends; an abort ends it at once', { timeout: 10_000 }, async () => {
  const events: LineEvent[] = [];
  for await (const e of streamLines(Readable.from([Buffer.from('x\ny'), Buffer.from('z')]), 'test')) events.push(e);
  assert.deepEqual(events, [{ kind: 'file', why: 'start' }, { kind: 'line', text: 'x' }, { kind: 'line', text: 'yz' }]);
  const stop = new AbortController();
  const never = new Readable({ read() {} });
  const seen: LineEvent[] = [];
  const reading = (async () => {
    for await (const e of streamLines(never, 'test', { signal: stop.signal })) seen.push(e);
  })();
  never.push('a\n');
  await until(() => seen.length === 2, 'the first line');
  stop.abort();
  await reading;
  assert.deepEqual(seen, [{ kind: 'file', why: 'start' }, { kind: 'line', text: 'a' }]);
});

test('a text model scores each line of a stream as one pass over the same sentences scores them (blank lines skipped)', { timeout: 60_000 }, async () => {
  const model = await trainTiny('text', { latent: 4, embedding: 8, encoderHidden: 8, decoderHidden: 16 }, { epochs: 1 });
  const sentences = [...corpus(8, 5).texts, 'river the the ball sees sees'];
  const scored: ScoredPoint[] = [];
  const text = sentences.map((t, i) => (i === 3 ? `${t}\n\n` : `${t}\n`)).join('');
  const pieces = [text.slice(0, 17), text.slice(17, 90), text.slice(90)].map((p) => Buffer.from(p));
  await followScores(streamLines(Readable.from(pieces), 'test'), textScorer(model, { samples: 5, seed: 4, source: 'test' }), {
    calibration: 1000, risk: 1e-3, onScored: (p) => scored.push(p), onFlagged: () => {},
  });
  const batch = scoreTextAnomalies(model.vae, textsForModel(model, sentences), { samples: 5, seed: 4 }).scores;
  assert.deepEqual(scored.map((p) => p.id), sentences.map((_, i) => String(i + 1)));
  assert.deepEqual(scored.map((p) => p.score), Array.from(batch));
});

/** The CLI's flagged lines "id,score,threshold" as numbers. */
function flaggedLines(stdout: string): Array<[string, number, number]> {
  return stdout.trim().split('\n').filter((l) => l !== '').map((l) => {
    const [id, score, threshold] = l.split(',');
    return [id!, Number(score), Number(threshold)];
  });
}

test('the CLI on standard input (-) and on a file with --stop-at-end: the planted outliers flagged, thresholds equal Spot\'s on its --out scores', { timeout: 60_000 }, () => {
  const text = `${STREAM_HEADER}\n${rows.map((_, i) => streamLine(i)).join('\n')}`; // no newline at the end
  const file = join(work, 'stream.csv');
  writeFileSync(file, text);
  const out = join(work, 'follow-out');
  const args = ['anomaly', '--model', modelDir, '--calibration', String(CALIBRATION), '--pot', POT, '--score-samples', '1', '--seed', String(SEED)];
  const r = vaekitFromSources([...args, '--follow', file, '--stop-at-end', '--out', out], 60_000);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^vaekit: scored 300 rows of .*stream\.csv \(negative ELBO, nats\), the first 200 calibrating the threshold; flagged 3; threshold [\d.e+-]+ at risk 0\.0001; every score in .*scores\.csv\n$/);
  const lines = flaggedLines(r.stdout);
  assert.deepEqual(lines.map((l) => l[0]), PLANTED.map(String));
  // --out holds every score at full precision: Spot on them gives the printed thresholds exactly.
  const written = readFileSync(join(out, 'scores.csv'), 'utf8').trim().split('\n');
  assert.equal(written[0], 'id,score,threshold,flagged');
  const scores = written.slice(1).map((l) => Number(l.split(',')[1]));
  assert.deepEqual(scores, batchScores);
  const oracle = spotOracle(scores, CALIBRATION, 1e-4, 0.9);
  assert.deepEqual(lines, oracle.map((o) => [String(o.index + 1), scores[o.index]!, o.threshold]));
  assert.deepEqual(written.slice(1).filter((l) => l.endsWith(',1')).map((l) => l.split(',')[0]), PLANTED.map(String));

  // Standard input: the same rows, the same lines.
  const run = `const { main } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')).href)}); await main(['node', 'vaekit', ...process.argv.slice(1)]);`;
  return new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', run, ...args, '--follow', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        assert.equal(code, 0, stderr);
        assert.deepEqual(flaggedLines(stdout), lines);
        assert.match(stderr, /scored 300 rows of standard input .* flagged 3;/);
        resolve();
      } catch (err) {
        reject(err);
      }
    });
    child.stdin.end(text);
  });
});

test('the CLI following a file ends cleanly on SIGINT with its summary, writing the lines it flagged as they came', { timeout: 60_000 }, async () => {
  const path = join(work, 'sigint.csv');
  writeFileSync(path, `${STREAM_HEADER}\n${rows.slice(0, 240).map((_, i) => `${streamLine(i)}\n`).join('')}`);
  const run = `const { main } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')).href)}); await main(['node', 'vaekit', ...process.argv.slice(1)]);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', run,
    'anomaly', '--model', modelDir, '--follow', path, '--calibration', String(CALIBRATION), '--pot', POT, '--score-samples', '1', '--seed', String(SEED)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  try {
    await until(() => stdout.includes('\n'), 'the first flag', 40_000);
    assert.equal(flaggedLines(stdout)[0]![0], String(PLANTED[0]));
    appendFileSync(path, rows.slice(240).map((_, k) => `${streamLine(240 + k)}\n`).join(''));
    await until(() => stdout.trim().split('\n').length === 3, 'the other flags', 20_000);
    child.kill('SIGINT');
    assert.equal(await closed, 0, stderr);
  } finally {
    clearTimeout(timer);
    child.kill('SIGKILL');
  }
  assert.deepEqual(flaggedLines(stdout).map((l) => l[0]), PLANTED.map(String));
  assert.match(stderr, /^vaekit: scored 300 rows of .*sigint\.csv .* flagged 3; threshold [\d.e+-]+ at risk 0\.0001\n$/);
});

test('flags that make no sense with --follow, or without it, and a bad row end in one line, exit 1, nothing written', () => {
  const out = join(work, 'refused');
  refused(['anomaly', '--model', modelDir, '--follow', join(work, 'stream.csv'), '--test-data', 'x.csv', '--out', out], /--test-data makes no sense with --follow/, [out]);
  refused(['anomaly', '--calibration', '500', '--out', out], /--calibration goes with --follow/, [out]);
  // A bad row ends the stream: the scores of --out are not written.
  writeFileSync(join(work, 'bad.csv'), `${FEATURES.join(',')}\n1,2,3,4\n1,oops,3,4\n`);
  refused(['anomaly', '--model', modelDir, '--follow', join(work, 'bad.csv'), '--stop-at-end', '--calibration', '500', '--out', out], /bad\.csv: row 2, column "b": "oops" is not a number/, [out]);
});

test('a missing file, a header without the model\'s features, a bad cell: one sentence each', async () => {
  const stream = async (text: string, name = 'x.csv'): Promise<void> => {
    const path = join(work, name);
    writeFileSync(path, text);
    await followScores(followFile(path, { stopAtEnd: true }), tableScorer(bundle, { samples: 1, seed: 0, source: path }), { calibration: CALIBRATION, risk: 1e-4, level: 0.9, onFlagged: () => {} });
  };
  await assert.rejects(followScores(followFile(join(work, 'nothing.csv')), tableScorer(bundle, { samples: 1, seed: 0, source: 'n' }), { calibration: CALIBRATION, risk: 1e-4, level: 0.9, onFlagged: () => {} }),
    /^VaekitError: Cannot follow .*nothing\.csv: no such file\.$/);
  await assert.rejects(stream('a,b,x\n1,2,3\n', 'wrong.csv'), /wrong\.csv has no column "c" for the model's features \(its columns: a, b, x\)\.$/);
  await assert.rejects(stream('a,b,c,d\n1,2,3,4\n1,2,,4\n'), /x\.csv: row 2, column "c" is missing a value; every feature must hold a number\.$/);
  await assert.rejects(stream('a,b,c,d\n1,2,3\n'), /x\.csv: row 1 has 3 cells but the header names 4 columns\.$/);
  await assert.rejects(followScores(followFile(work), tableScorer(bundle, { samples: 1, seed: 0, source: work }), { calibration: CALIBRATION, risk: 1e-4, level: 0.9, onFlagged: () => {} }), /it is a folder, not a regular file/);
  assert.throws(() => checkFollowOptions(100, 1e-3, 0.98), /follow\.calibration 100 leaves 2 scores above .* calibrate on 452 scores or more/);
  assert.throws(() => checkFollowOptions(200, 0.2, 0.9), /risk must be below/);
  // Too few rows to calibrate: nothing flagged, no error.
  const path = join(work, 'short.csv');
  writeFileSync(path, 'a,b,c,d\n1,1,2,0\n');
  const summary = await followScores(followFile(path, { stopAtEnd: true }), tableScorer(bundle, { samples: 1, seed: 0, source: path }), { calibration: CALIBRATION, risk: 1e-4, level: 0.9, onFlagged: () => {} });
  assert.deepEqual(summary, { scored: 1, flagged: 0, calibrated: false, threshold: null, restarts: 0 });
});
