// vaekit anomaly on time series with --baselines and --point-adjust, end to end on a small labelled
// CSV with a planted anomaly: PCA, the isolation forest and the rolling z-score beside the VAE with
// range F1 and VUS-PR, their AUPRC and threshold recomputed through the library from the run's own
// record; anomaly.md; one figure per series; --score-by window and --follow with a series --model; its refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliChecks, vaekitFromSources } from './helpers/cli.js';
import { SERIES_POINTS, windowRows, writeLabelledSeries } from './helpers/series.js';
import { seriesBaselineScores } from '../src/anomaly/baselines/series.js';
import { POINT_ADJUST_WARNING } from '../src/anomaly/report.js';
import { quantile } from '../src/anomaly/thresholds.js';
import { figureNames, MAX_SERIES_FIGURES } from '../src/cli/commands/anomaly-series.js';
import type { Series } from '../src/data/sources/series.js';
import { pointScores } from '../src/data/transforms/windows.js';
import { auprc } from '../src/eval/detection.js';
import { anomalyScoreRng } from '../src/eval/anomaly.js';
import { readSeriesRun, seriesForModel } from '../src/run/series.js';
import { loadBundle } from '../src/run/bundle.js';
import { seriesPointScores } from '../src/pipelines/series-scores.js';
import { validateRunSpec } from '../src/run/spec.js';

const tmp = mkdtempSync(join(tmpdir(), 'vaekit-series-anomaly-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const at = (...p: string[]): string => join(tmp, ...p);
const { ok, refused } = cliChecks((args) => vaekitFromSources(args, 120_000));

const T = SERIES_POINTS;
/** The points of each series before TRAIN_UNTIL, its training part. */
const TRAINED = 288;
const TRAIN_UNTIL = '2021-03-13';
const SEED = 7;
const SMALL = ['--preset', 'mlp', '--hidden', '32', '--latent', '4', '--epochs', '8', '--batch-size', '32', '--lr', '0.003', '--seed', String(SEED)];

const data = at('s.csv');
writeLabelledSeries(data);

function readCsv(path: string): { header: string[]; column: (name: string) => string[] } {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const header = head!.split(',');
  const cells = lines.map((line) => line.split(','));
  return { header, column: (name) => cells.map((c) => c[header.indexOf(name)]!) };
}

interface MethodSummary { method: string; threshold: { spec: string; value: number }; auprc: number; range: { f1: number; vusPr: number; vusBuffer: number }; pointAdjustedF1?: number }

const METHODS = ['VAE', 'PCA', 'isolation forest', 'rolling z-score'];

test('anomaly --baselines --point-adjust on a series: the baselines beside the VAE with range F1 and VUS-PR, their AUPRC and threshold as the library recomputes them, anomaly.md and series.png', () => {
  const out = at('trained');
  const stdout = ok(['anomaly', '--data', data, '--time-column', 'time', '--label-column', 'label', '--window', '12', '--train-until', TRAIN_UNTIL, ...SMALL, '--baselines', '--point-adjust', '--out', out]);
  // The table: every method with its range F1, VUS-PR and point-adjusted F1, then the warning.
  assert.match(stdout, /^\| method \| AUROC \| AUPRC \| threshold \| flagged \| precision \| recall \| F1 \| range F1 \| VUS-PR \| point-adjusted F1 \|$/m);
  for (const name of METHODS) assert.match(stdout, new RegExp(`^\\| ${name} \\| [\\d.]+ \\| [\\d.]+ \\| [\\d.]+ \\(quantile:0\\.99\\) \\| \\d+ of \\d+ \\|( [\\d.]+ \\|){6}$`, 'm'), `${name}'s row`);
  assert.ok(stdout.includes(POINT_ADJUST_WARNING), 'the point-adjust warning');
  const markdown = readFileSync(join(out, 'anomaly.md'), 'utf8');
  assert.ok(stdout.includes(markdown.trim()), 'anomaly.md is the table printed');

  const csv = readCsv(join(out, 'scores.csv'));
  assert.deepEqual(csv.header, ['time', 'a', 'b', 'score', 'score_pca', 'score_isolation_forest', 'score_rolling_zscore', 'label', 'flagged']);
  const labels = csv.column('label').map((y) => y === '1');
  const result = JSON.parse(readFileSync(join(out, 'anomaly.json'), 'utf8')) as { labels: { auprc: number; points: number }; methods: MethodSummary[]; figures: string[] };
  assert.deepEqual(result.methods.map((m) => m.method), METHODS);

  // The baselines again, through the library, from the run's record: fitted on its training
  // windows, scoring every point; measured after the training part; thresholds on the validation points.
  const record = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { spec: unknown };
  const run = readSeriesRun(validateRunSpec(record.spec).data);
  assert.equal(run.windows.all.series!.trainEnds[0], TRAINED);
  const baselines = seriesBaselineScores(run.train, run.windows.all, run.series, { seed: SEED });
  const held = seriesBaselineScores(run.train, run.validation, run.validationSeries, { seed: SEED });
  const covered = pointScores(run.validation.series!, new Float64Array(run.validation.count).fill(1))[0]!;
  baselines.forEach((b, k) => {
    const summary = result.methods[k + 1]!;
    const points = b.points[0]!;
    const measured = Array.from(points.subarray(TRAINED));
    const keep = measured.map((x) => !Number.isNaN(x));
    const expected = auprc(measured.filter((_, i) => keep[i]), labels.slice(TRAINED).filter((_, i) => keep[i]));
    assert.ok(Math.abs(summary.auprc - expected) < 1e-12, `${summary.method}: AUPRC ${summary.auprc} vs ${expected}`);
    const normal = Array.from(held[k]!.points[0]!).filter((x, t) => !Number.isNaN(covered[t]!) && !Number.isNaN(x));
    assert.ok(Math.abs(summary.threshold.value - quantile(normal, 0.99)) <= 1e-12 * Math.abs(summary.threshold.value), `${summary.method}: the 0.99-quantile of its held-out normal points' scores`);
    assert.equal(summary.range.vusBuffer, 12);
    assert.ok(summary.range.f1 >= 0 && summary.range.f1 <= 1 && summary.range.vusPr > 0 && summary.range.vusPr <= 1);
    assert.equal(typeof summary.pointAdjustedF1, 'number');
    // Each baseline's column of scores.csv holds its scores (7 significant digits; empty for none).
    const column = csv.column(`score_${b.name.replaceAll('-', '_')}`);
    points.forEach((x, t) => {
      if (Number.isNaN(x)) assert.equal(column[t], '', `${b.name} at ${t}`);
      else assert.ok(Math.abs(Number(column[t]) - x) <= 1e-6 * Math.max(1, Math.abs(x)), `${b.name} at ${t}: ${column[t]} vs ${x}`);
    });
  });
  // The rolling z-score has no score for the first window of points.
  assert.equal(csv.column('score_rolling_zscore')[11], '');
  // The VAE's AUPRC over the same points, from its column.
  const vae = csv.column('score').slice(TRAINED).map(Number);
  assert.equal(result.labels.points, T - TRAINED);
  assert.ok(Math.abs(result.labels.auprc - auprc(vae, labels.slice(TRAINED))) < 1e-6);

  // The figure: a PNG and an SVG, named in anomaly.json and printed.
  const png = readFileSync(join(out, 'series.png'));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.match(readFileSync(join(out, 'series.svg'), 'utf8'), /<svg/);
  assert.deepEqual(result.figures, ['series.png']);
  assert.ok(stdout.includes(`Figure of the series and its scores: ${join(out, 'series.png')}`));
});

test('anomaly --model on series: --baselines fits on the run the model trained on; a folder of series gets a figure each; without point labels --point-adjust says there is nothing to adjust', () => {
  const model = at('model');
  ok(['train', '--data', data, '--time-column', 'time', '--label-column', 'label', '--window', '12', '--train-until', TRAIN_UNTIL, ...SMALL, '--out', model]);
  const out = at('scored');
  const stdout = ok(['anomaly', '--model', model, '--data', data, '--label-column', 'label', '--baselines', '--threshold', 'pot:0.01:0.95', '--out', out]);
  for (const name of METHODS) assert.match(stdout, new RegExp(`^\\| ${name} \\| [\\d.]+ \\| [\\d.]+ \\| [\\d.]+ \\(pot:0\\.01:0\\.95\\) \\| \\d+ of \\d+ \\|( [\\d.]+ \\|){5}$`, 'm'), `${name}'s row`);
  assert.doesNotMatch(stdout, /point-adjusted/);
  assert.ok(existsSync(join(out, 'anomaly.md')) && existsSync(join(out, 'series.png')));

  // --score-by window: each point's score is the mean of its windows' scores, as the library gives them.
  const byWindow = at('by-window');
  ok(['anomaly', '--model', model, '--data', data, '--score-by', 'window', '--threshold', '3', '--out', byWindow]);
  const bundle = loadBundle(model);
  const { windows } = seriesForModel(bundle.data, data);
  const expected = seriesPointScores(bundle.vae, windows, { samples: 10, seed: 0, impute: 0, scoreBy: 'window' })[0]!;
  const written = readCsv(join(byWindow, 'scores.csv')).column('score');
  expected.forEach((x, t) => assert.ok(Math.abs(Number(written[t]) - x) <= 1e-6 * Math.max(1, Math.abs(x)), `point ${t}: ${written[t]} vs ${x}`));
  assert.equal((JSON.parse(readFileSync(join(byWindow, 'anomaly.json'), 'utf8')) as { scoreBy: string }).scoreBy, 'window');
  const byPoint = readCsv(join(out, 'scores.csv')).column('score');
  assert.ok(byPoint.some((x, t) => Math.abs(Number(x) - Number(written[t])) > 1e-3), 'scores by point and by window differ');

  // A folder of three series: series-NAME.png each, and no point labels read.
  const folder = at('folder');
  mkdirSync(folder);
  for (const [name, seed] of [['north', 4], ['south', 5], ['west', 6]] as const) writeLabelledSeries(join(folder, `${name}.csv`), seed);
  const several = at('several');
  const printed = ok(['anomaly', '--model', model, '--data', folder, '--point-adjust', '--out', several]);
  for (const name of ['north', 'south', 'west']) {
    assert.deepEqual([...readFileSync(join(several, `series-${name}.png`)).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    assert.ok(existsSync(join(several, `series-${name}.svg`)));
  }
  assert.ok(printed.includes(`Figures of the series and their scores: ${join(several, 'series-*.png')} (3 series)`));
  assert.match(printed, /--point-adjust: there is no point-adjusted F1 without point labels/);
  assert.ok(existsSync(join(several, 'anomaly.md')));

  // --follow: each point from the W-th on scored by the window that ends at it (Donut's streaming
  // score), bit for bit as the library scores that window with the same generator carried from window to window.
  const followed = at('followed');
  ok(['anomaly', '--model', model, '--follow', data, '--stop-at-end', '--calibration', '200', '--pot', '0.01:0.9', '--score-samples', '1', '--out', followed]);
  const streamed = readFileSync(join(followed, 'scores.csv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split(','));
  const W = 12;
  const C = 2;
  assert.equal(streamed.length, T - W + 1);
  const times = readFileSync(data, 'utf8').trim().split('\n').slice(1).map((line) => line.split(',')[0]!);
  const rng = anomalyScoreRng(0);
  const D = W * C;
  const nll = new Float64Array(D);
  const rows = windowRows(windows).values;
  for (let w = 0; w < windows.count; w++) {
    bundle.vae.reconstructionNll(rows.slice(w * D, (w + 1) * D), null, 1, 1, rng, nll);
    const expected = nll[D - 2]! + nll[D - 1]!;
    const [id, score] = streamed[w]!;
    assert.equal(id, times[w + W - 1], `window ${w}'s point`);
    assert.equal(Number(score), expected, `window ${w}`);
  }

  // A model whose run.json is gone has no training windows to fit the baselines on.
  const bare = at('bare-model');
  cpSync(model, bare, { recursive: true });
  rmSync(join(bare, 'run.json'));
  const never = at('never');
  refused(['anomaly', '--model', bare, '--data', data, '--baselines', '--threshold', '3', '--out', never],
    /^error: .*bare-model has no run\.json saying which data it trained on, so it has no training windows to fit --baselines on: leave out --baselines, or let vaekit anomaly train a model on --data \(with --window\) beside them\.$/, [never]);
});

test('figure names: series.png for one series, series-NAME.png for several (the file name kept where two share a stem), at most MAX_SERIES_FIGURES', () => {
  const named = (...names: string[]): Series[] => names.map((name) => ({ name } as Series));
  assert.deepEqual(figureNames(named('/data/s.csv')), [['series.png', 'series.svg']]);
  assert.deepEqual(figureNames(named('/d/a.csv', '/d/a.npy', '/d/b c.csv')).map(([png]) => png), ['series-a.csv.png', 'series-a.npy.png', 'series-b_c.png']);
  const many = named(...Array.from({ length: MAX_SERIES_FIGURES + 3 }, (_, i) => `/d/s${i}.csv`));
  const names = figureNames(many);
  assert.equal(names.length, MAX_SERIES_FIGURES);
  assert.equal(names[MAX_SERIES_FIGURES - 1]![0], `series-s${MAX_SERIES_FIGURES - 1}.png`);
});
