// vaekit train and vaekit anomaly on time series, end to end on a small synthetic CSV with a planted
// anomaly and point labels: the planted points score highest, scores.csv has a row per point with
// its time, and every bad input is refused in one sentence with nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { cliChecks, vaekitFromSources, type CliResult } from './helpers/cli.js';
import { HOUR, PLANTED, SERIES_POINTS, T0, writeLabelledSeries } from './helpers/series.js';
import { auroc } from '../src/eval/auroc.js';

const tmp = mkdtempSync(join(tmpdir(), 'vaekit-series-cli-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const at = (...p: string[]): string => join(tmp, ...p);
const { ok, refused } = cliChecks((args) => vaekitFromSources(args, 120_000));

const T = SERIES_POINTS;

const data = at('s.csv');
writeLabelledSeries(data);
const TRAIN_UNTIL = new Date(T0 + 300 * HOUR).toISOString().slice(0, 10); // 2021-03-13: the first 288 points
const SMALL = ['--preset', 'mlp', '--hidden', '32', '--latent', '4', '--epochs', '8', '--batch-size', '32', '--lr', '0.003'];

interface ScoreRow { time: string; a: string; b: string; score: number; label: number; flagged: number }

function readScores(path: string): { header: string[]; rows: ScoreRow[] } {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const header = head!.split(',');
  const rows = lines.map((line) => {
    const cells = line.split(',');
    const cell = (name: string): string => cells[header.indexOf(name)]!;
    return { time: cell('time'), a: cell('a'), b: cell('b'), score: Number(cell('score')), label: Number(cell('label')), flagged: Number(cell('flagged')) };
  });
  return { header, rows };
}

/** The planted points outscore every point more than a window away from them, and the AUROC of the scores is high. */
function assertFound(rows: ScoreRow[], window: number): number {
  const planted = rows.slice(PLANTED.from, PLANTED.to).map((r) => r.score);
  const far = rows.filter((_, t) => t < PLANTED.from - window || t >= PLANTED.to + window).map((r) => r.score);
  assert.ok(Math.min(...planted) > Math.max(...far), `planted ${Math.min(...planted)} vs others ${Math.max(...far)}`);
  const top = rows.map((r, t) => ({ t, s: r.score })).sort((x, y) => y.s - x.s)[0]!.t;
  assert.ok(top >= PLANTED.from && top < PLANTED.to, `the top score is at point ${top}`);
  return auroc(rows.slice(300).map((r) => r.score), rows.slice(300).map((r) => r.label === 1));
}

test('anomaly trains on each series\' start and scores every point: the planted points score highest, one row per point with its time', () => {
  const out = at('trained');
  const stdout = ok(['anomaly', '--data', data, '--time-column', 'time', '--label-column', 'label', '--window', '12', '--train-until', TRAIN_UNTIL, ...SMALL, '--out', out]);
  assert.match(stdout, /s\.csv: 480 points of 2 channels \(a, b\); 0 values missing \(0%\); 10 points labelled anomalous; most common step 1 h, every step regular\./);
  assert.match(stdout, /windows: \d+ to train on and the last 10% of each series' training windows \(\d+\) to validate on/);
  assert.match(stdout, /Threshold [\d.]+ \(quantile:0\.99, of the \d+ held-out normal points' scores\): \d+ points flagged in \d+ intervals?/);
  const { header, rows } = readScores(join(out, 'scores.csv'));
  assert.deepEqual(header, ['time', 'a', 'b', 'score', 'label', 'flagged']);
  assert.equal(rows.length, T);
  assert.deepEqual(rows.map((r) => r.time), Array.from({ length: T }, (_, t) => new Date(T0 + t * HOUR).toISOString()));
  assert.deepEqual(rows.map((r) => r.label), Array.from({ length: T }, (_, t) => (t >= PLANTED.from && t < PLANTED.to ? 1 : 0)));
  const byCsv = assertFound(rows, 12);
  assert.ok(byCsv > 0.9, `AUROC ${byCsv}`);
  const result = JSON.parse(readFileSync(join(out, 'anomaly.json'), 'utf8')) as {
    points: number; window: number; threshold: { spec: string; value: number }; flaggedPoints: number;
    intervals: { start: string; end: string }[]; heldOutNormal: { points: number }; labels: { auroc: number; auprc: number; points: number };
  };
  assert.equal(result.points, T);
  assert.equal(result.window, 12);
  assert.equal(result.threshold.spec, 'quantile:0.99');
  // Flags are the scores above the threshold, and the intervals their runs.
  assert.deepEqual(rows.map((r) => r.flagged), rows.map((r) => (r.score > result.threshold.value ? 1 : 0)));
  assert.equal(result.flaggedPoints, rows.filter((r) => r.flagged === 1).length);
  assert.ok(result.intervals.some((i) => i.start <= new Date(T0 + PLANTED.from * HOUR).toISOString() && i.end >= new Date(T0 + (PLANTED.to - 1) * HOUR).toISOString()));
  // The AUROC over the points after the training part (288 of them: before 2021-03-13), as printed.
  assert.equal(result.labels.points, T - 288);
  assert.ok(Math.abs(result.labels.auroc - auroc(rows.slice(288).map((r) => r.score), rows.slice(288).map((r) => r.label === 1))) < 1e-12);
  assert.match(stdout, new RegExp(`Point labels: AUROC ${(100 * result.labels.auroc).toFixed(2)}%, AUPRC [\\d.]+% over the 192 scored points after the training parts \\(10 anomalous\\)`));
});

test('train writes a series model; anomaly --model scores a series with it, its threshold from the run\'s held-out normal points', () => {
  const model = at('model');
  ok(['train', '--data', data, '--time-column', 'time', '--label-column', 'label', '--window', '12', '--train-until', TRAIN_UNTIL, ...SMALL, '--out', model]);
  const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as { data: { shape: number[]; standardization: unknown; series: Record<string, unknown> } };
  assert.deepEqual(config.data.shape, [24]);
  assert.equal(config.data.standardization, null);
  assert.deepEqual({ ...config.data.series, standardization: null }, {
    window: 12, stride: 1, channels: ['a', 'b'], timeColumn: 'time', valueColumns: ['a', 'b'], labelColumn: 'label', timeKind: 'date', standardization: null, resample: false,
  });
  const out = at('scored');
  const stdout = ok(['anomaly', '--model', model, '--data', data, '--label-column', 'label', '--threshold', 'fpr:0.05', '--out', out]);
  assert.match(stdout, /Threshold [\d.]+ \(fpr:0\.05, of the \d+ held-out normal points' scores\)/);
  const { rows } = readScores(join(out, 'scores.csv'));
  assert.equal(rows.length, T);
  assert.ok(assertFound(rows, 12) > 0.9);
  // Options that would change how the model reads series are refused.
  refused(['anomaly', '--model', model, '--data', data, '--window', '8', '--out', at('never')], /^error: --window sets how a model trains or reads series, and .* holds a trained series model/, [at('never')]);
});

/**
 * Several vaekit commands run one after another in one process (each a fresh start costs seconds):
 * each one's exit status and output. Only for commands that end in main's own error handling, not
 * in commander's (which exits the process).
 */
function vaekitInOneProcess(runs: string[][]): CliResult[] {
  const cli = pathToFileURL(join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')).href;
  const script = `
    const { main } = await import(${JSON.stringify(cli)});
    const [write, print] = [process.stderr.write.bind(process.stderr), process.stdout.write.bind(process.stdout)];
    const results = [];
    for (const args of JSON.parse(process.argv[1])) {
      let stderr = '', stdout = '';
      process.stderr.write = (chunk) => { stderr += chunk; return true; };
      process.stdout.write = (chunk) => { stdout += chunk; return true; };
      process.exitCode = 0;
      await main(['node', 'vaekit', ...args]);
      [process.stderr.write, process.stdout.write] = [write, print];
      results.push({ status: process.exitCode, stdout, stderr });
    }
    process.exitCode = 0;
    print(JSON.stringify(results));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, JSON.stringify(runs)], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as CliResult[];
}

test('bad series input is refused in one sentence, and nothing is written', () => {
  const out = at('bad-out');
  const train = (file: string, ...more: string[]): string[] => ['anomaly', '--data', file, '--time-column', 'time', '--window', '8', ...SMALL, '--epochs', '1', '--out', out, ...more];
  const csv = (name: string, rows: string[]): string => {
    writeFileSync(at(name), `time,a,b\n${rows.join('\n')}\n`);
    return at(name);
  };
  const good = Array.from({ length: 40 }, (_, t) => `${t},${Math.sin(t)},${Math.cos(t)}`);
  const fine = csv('fine.csv', good);
  const cases: [string[], RegExp][] = [
    [train(csv('text.csv', good.map((r, t) => (t === 5 ? '5,abc,1' : r)))), /^error: .*text\.csv: row 6 \(line 7\), column "a": "abc" is not a number; leave a missing value empty or write NaN or NA\.$/],
    [train(csv('order.csv', good.map((r, t) => (t === 9 ? r.replace(/^9,/, '3,') : r)))), /^error: .*order\.csv: row 10 \(line 11\), column "time": the time 3 comes before the previous row's; the rows must be in time order, each time once\.$/],
    [train(csv('twice.csv', good.map((r, t) => (t === 9 ? r.replace(/^9,/, '8,') : r)))), /the time 8 repeats the previous row's; the rows must be in time order, each time once\.$/],
    [train(csv('constant.csv', good.map((r) => r.replace(/,[^,]*$/, ',1')))), /^error: The channel "b" is constant \(1\) in .*constant\.csv, so it cannot be standardized; drop it \(--value-columns\) or train on more of the series\.$/],
    [train(fine, '--train-until', '0.15'), /^error: The training part of .*fine\.csv holds 6 points \(up to 5\), fewer than --window \(8\); give a shorter window or a later --train-until\.$/],
    [train(fine, '--train-until', '-5'), /^error: The training part of .*fine\.csv holds 0 points, fewer than --window \(8\)/],
    [train(fine, '--window', '50'), /^error: .*fine\.csv holds 40 points, fewer than --window \(50\); give a shorter window\.$/],
    [['anomaly', '--data', fine, '--time-column', 'time', '--out', out], /^error: --time-column applies to time series, and this run reads none: give --window, the points of each window, to train on series\.$/],
    [['train', '--data', fine, '--train-until', '0.5', '--out', out], /^error: --train-until applies to time series, and this run reads none/],
    [train(fine, '--image-size', '8x8'), /^error: --image-size applies to image folders, and this run reads time series \(--window\)\.$/],
    [train(fine, '--normal-class', '0'), /^error: --normal-class picks a class of labelled examples, and series are scored point by point/],
  ];
  const results = vaekitInOneProcess(cases.map(([args]) => args));
  results.forEach((r, i) => {
    assert.equal(r.status, 1, `${cases[i]![0].join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, cases[i]![1]);
  });
  // A threshold commander's parser refuses.
  refused(train(fine, '--threshold', 'quantile:2'), /^error: option '--threshold <spec>' argument 'quantile:2' is invalid\. A threshold must be a number, quantile:Q/, [out]);
  assert.ok(!existsSync(out));
});

test('train --print-config shows the series flags as spec fields', () => {
  const spec = JSON.parse(ok(['train', '--data', data, '--time-column', 'time', '--value-columns', 'a,b', '--window', '24', '--stride', '4', '--train-until', '0.5', '--resample', '--print-config'])) as { data: Record<string, unknown> };
  assert.deepEqual(
    [spec.data['timeColumn'], spec.data['valueColumns'], spec.data['window'], spec.data['stride'], spec.data['trainUntil'], spec.data['resample']],
    ['time', ['a', 'b'], 24, 4, 0.5, true],
  );
});
