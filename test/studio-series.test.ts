// vaekit studio with a series run in its runs folder: a tiny series model (preset series) trained
// here by the library (planRun + trainRun) on a two-channel hourly series with a planted, labelled
// anomaly, beside a tiny image model. The Series page's API scores a series file (a path on this
// machine, or an upload) with per-point scores equal to the library's seriesPointScores called
// directly, a starting threshold equal to the 0.99 quantile (numpy's linear rule, computed here) of
// the scores of the run's held-out normal points and to the threshold vaekit anomaly --model takes
// (the library's seriesAnomalies on the run read again), not the scored file's own quantile (a file
// with many anomalies), and an AUROC and AUPRC equal to brute-force ones written here; copies of the
// run whose data is gone, changed or unnamed fall back to the file's own quantile and say why in one
// sentence; bad input (wrong columns, a missing label column, a short series, a path outside the
// data folders, an image run, a file that is not a series) is refused with a 4xx and one sentence,
// and nothing is written. In Chromium (Debian's, through playwright-core): the Models page links
// the series run to the Series page, the Denoise page sends it there, and on the Series page an
// uploaded file is scored, its figure drawn, and a new threshold flags as many points as score
// above it; a run whose data is gone shows the fallback sentence by the threshold.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { DEFAULT_THRESHOLD } from '../src/anomaly/report.js';
import { Random } from '../src/engine/random.js';
import { seriesAnomalies } from '../src/pipelines/series-anomaly.js';
import { seriesPointScores } from '../src/pipelines/series-scores.js';
import { loadBundle, type Bundle } from '../src/run/bundle.js';
import { readRunRecord } from '../src/run/folder.js';
import { planRun } from '../src/run/plan.js';
import { readSeriesRun, seriesForModel, trainingRun } from '../src/run/series.js';
import { validateRunSpec, type RunSpecInput } from '../src/run/spec.js';
import { trainRun } from '../src/run/train-run.js';
import type { RunList, SeriesScores } from '../src/studio/messages.js';
import { startStudio, type Studio } from '../src/studio/server.js';
import { formatValue } from '../src/viz/series-chart-spec.js';
import { twoClassNpy } from './helpers/cli.js';
import { CHROMIUM_ARGS, chromiumPath, requireTool } from './helpers/outside-tools.js';
import { apiCall, ensureWebBuilt } from './helpers/studio.js';

const work = mkdtempSync(join(tmpdir(), 'vaekit-series-page-'));
process.on('exit', () => { if (process.env['VAEKIT_TEST_KEEP'] === undefined) rmSync(work, { recursive: true, force: true }); else console.log(`kept ${work}`); });

const HOUR = 3_600_000;
const T0 = Date.UTC(2021, 2, 1);
const T = 480;
const WINDOW = 12;
/** The planted anomaly: channel a jumps by 4 on these points (after the training part), labelled 1. */
const PLANTED = { from: 380, to: 390 };
/** Many planted anomalies: 6 points of every 24 after the training part (about 10% of the points), so that the file's own 0.99 quantile lies among them. */
const MANY = Array.from({ length: 8 }, (_, k) => ({ from: 300 + 24 * k, to: 306 + 24 * k }));

/** Hourly points from 2021-03-01 of two noisy sines (period 24 h), "time,a,b,label"; `points` of them, channel a `scale` times as large, with `planted` anomalies. */
function seriesCsv(points = T, { planted: ranges = [PLANTED], scale = 1 }: { planted?: { from: number; to: number }[]; scale?: number } = {}): string {
  const rng = new Random(3);
  const rows: string[] = [];
  for (let t = 0; t < points; t++) {
    const planted = ranges.some((p) => t >= p.from && t < p.to);
    const a = scale * Math.sin((2 * Math.PI * t) / 24) + 0.05 * rng.normal() + (planted ? 4 : 0);
    const b = Math.cos((2 * Math.PI * t) / 24) + 0.05 * rng.normal();
    rows.push(`${new Date(T0 + t * HOUR).toISOString().slice(0, 19).replace('T', ' ')},${a.toFixed(4)},${b.toFixed(4)},${planted ? 1 : 0}`);
  }
  return `time,a,b,label\n${rows.join('\n')}\n`;
}

/** The q-quantile as numpy's default computes it: linear between the two nearest ranks. */
function numpyQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  const at = q * (sorted.length - 1);
  const i = Math.floor(at);
  return i + 1 < sorted.length ? sorted[i]! + (sorted[i + 1]! - sorted[i]!) * (at - i) : sorted[i]!;
}

/** AUROC by counting every (anomalous, normal) pair: the share the anomalous one outscores, ties half. */
function pairAuroc(scores: readonly number[], positive: readonly boolean[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((p, i) => {
    if (!positive[i]) return;
    scores.forEach((n, j) => {
      if (positive[j]) return;
      pairs++;
      wins += p > n ? 1 : p === n ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

/** Average precision: the mean over the anomalous points of the precision of flagging every point scoring at least as much. */
function bruteAveragePrecision(scores: readonly number[], positive: readonly boolean[]): number {
  let sum = 0;
  let positives = 0;
  scores.forEach((s, i) => {
    if (!positive[i]) return;
    positives++;
    const flagged = scores.map((x, j) => ({ x, j })).filter(({ x }) => x >= s);
    sum += flagged.filter(({ j }) => positive[j]).length / flagged.length;
  });
  return sum / positives;
}

/** A refusal: its status and its one sentence. */
async function refusal(studio: Studio, path: string, body: string | object | FormData): Promise<{ status: number; error: string }> {
  const form = body instanceof FormData;
  const response = await fetch(`http://127.0.0.1:${studio.port}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${studio.token}`, ...(form ? {} : { 'Content-Type': 'application/json' }) },
    body: form ? body : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const json = (await response.json()) as { error?: unknown };
  assert.equal(typeof json.error, 'string', `${path}: a refusal with { error }`);
  return { status: response.status, error: json.error as string };
}

/** One sentence: a single line, ending in a full stop, with no stack trace or temporary folder in it. */
function assertOneSentence(text: string): void {
  assert.doesNotMatch(text, /\n|\bat \S+:\d+|Error:|vaekit-studio-/, text);
  assert.match(text, /^\S.*[.!?]$/, text);
}

function upload(name: string, text: string, labelColumn?: string): FormData {
  const form = new FormData();
  form.append('file', new File([text], name));
  if (labelColumn !== undefined) form.append('labelColumn', labelColumn);
  return form;
}

/** Every file under `dir`, with its size and time: what a request must leave as it was. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

describe('vaekit studio with a series run', () => {
  const data = join(work, 'data');
  const runsDir = join(work, 'runs');
  const csv = join(data, 's.csv');
  const many = join(data, 'many.csv');
  /** The training data of the copies of the run (series-moved, series-bare) whose data goes. */
  const moved = join(data, 'moved.csv');
  let studio: Studio;
  let model: Bundle;

  before(async () => {
    mkdirSync(data);
    writeFileSync(csv, seriesCsv());
    writeFileSync(many, seriesCsv(T, { planted: MANY }));
    writeFileSync(moved, seriesCsv());
    twoClassNpy(data, 200);
    const train = async (name: string, spec: RunSpecInput): Promise<void> => {
      const plan = await planRun({ ...spec, seed: 1, outputs: { dir: join(runsDir, name), figures: false } });
      await trainRun(plan, { folder: join(runsDir, name) });
    };
    await train('series', {
      data: { source: csv, timeColumn: 'time', labelColumn: 'label', window: WINDOW, trainUntil: '2021-03-13' },
      model: { preset: 'series', latent: 4, encoderHidden: [32], decoderHidden: [32] },
      training: { epochs: 8, batchSize: 32, learningRate: 0.003 },
    });
    await train('digits', { data: { source: join(data, 'x.npy'), labels: join(data, 'y.npy') }, model: { latent: 2 }, training: { epochs: 1 } });
    model = loadBundle(join(runsDir, 'series'));
    // Copies of the series run: series-moved trained (as its run.json says) on moved.csv, which the
    // tests change and remove; series-bare has no run.json.
    for (const copy of ['series-moved', 'series-bare']) cpSync(join(runsDir, 'series'), join(runsDir, copy), { recursive: true });
    const record = JSON.parse(readFileSync(join(runsDir, 'series', 'run.json'), 'utf8')) as { spec: { data: { source: string } } };
    record.spec.data.source = moved;
    writeFileSync(join(runsDir, 'series-moved', 'run.json'), JSON.stringify(record));
    rmSync(join(runsDir, 'series-bare', 'run.json'));
    studio = await startStudio({ port: 0, runsDir, dataRoots: [data], quiet: true });
  });
  after(async () => { await studio?.close(); });

  /** The scores of the CSV as the library computes them, called directly (the same options as the studio's). */
  const direct = (): Float64Array => {
    const { windows } = seriesForModel(model.data, csv, { labelColumn: 'label' });
    const scores = seriesPointScores(model.vae, windows, { samples: 10, seed: 0, impute: 0 });
    assert.equal(scores.length, 1);
    return scores[0]!;
  };

  /** The per-point scores of `path` as the library computes them (the studio's options), every number of them. */
  const ownScores = (path: string): number[] => {
    const { windows } = seriesForModel(model.data, path);
    return seriesPointScores(model.vae, windows, { samples: 10, seed: 0, impute: 0 }).flatMap((p) => Array.from(p).filter((x) => !Number.isNaN(x)));
  };

  /**
   * The threshold vaekit anomaly --model series --data PATH takes by default, by the library calls
   * it makes (scoreWithModel, writeSeriesAnomaly): the run read again by trainingRun, and
   * seriesAnomalies' 0.99 quantile of its held-out normal points' scores; checked against numpy's
   * 0.99 quantile of the scores of the points the run's validation windows cover (those with a
   * score), computed here from the run's spec.
   */
  const cliThreshold = (path: string): { value: number; heldOut: number } => {
    const dir = join(runsDir, 'series');
    const run = trainingRun(dir, model.data.series!, [{ what: 'held-out normal points', fix: 'none' }])!;
    const report = seriesAnomalies(model.vae, { ...seriesForModel(model.data, path), trainedUntil: null }, {
      threshold: DEFAULT_THRESHOLD, scoring: { samples: 10, seed: 0, impute: 0 }, heldOut: { windows: run.validation, series: run.validationSeries }, baselineTrain: null,
    });
    const value = report.methods[0]!.result.threshold.value;
    const validation = readSeriesRun(validateRunSpec(readRunRecord(dir)!.spec).data).validation;
    const heldOut = seriesPointScores(model.vae, validation, { samples: 10, seed: 0, impute: 0 }).flatMap((p) => Array.from(p).filter((x) => !Number.isNaN(x)));
    assert.equal(report.heldOutScores!.length, heldOut.length);
    assert.ok(Math.abs(value - numpyQuantile(heldOut, 0.99)) <= 1e-9 * Math.abs(value), 'the CLI\'s threshold: the 0.99 quantile of the held-out points\' scores');
    return { value, heldOut: heldOut.length };
  };

  it('lists the series run with its windows', async () => {
    const { runs } = await apiCall<RunList>(studio, '/api/runs');
    const run = runs.find((r) => r.id === 'series');
    assert.ok(run !== undefined && run.status === 'done', 'the series run is listed, done');
    assert.deepEqual(run.data?.series?.channels, ['a', 'b']);
    assert.equal(run.data?.series?.window, WINDOW);
  });

  it('scores a path on this machine as seriesPointScores does, its threshold the CLI\'s, with the AUROC and AUPRC of its labels', async () => {
    const r = await apiCall<SeriesScores>(studio, '/api/runs/series/series/score', { path: csv, labelColumn: 'label' });
    const expected = direct();
    assert.equal(r.series.length, 1);
    const s = r.series[0]!;
    assert.equal(s.name, 's.csv');
    assert.equal(s.timeKind, 'date');
    assert.deepEqual(s.times, Array.from({ length: T }, (_, t) => T0 + t * HOUR));
    assert.deepEqual(s.scores, Array.from(expected, (v) => (Number.isNaN(v) ? null : v)), 'the scores of seriesPointScores, point by point');
    assert.deepEqual(s.channels.map((c) => c.name), ['a', 'b']);
    const rows = seriesCsv().trim().split('\n').slice(1).map((line) => line.split(','));
    assert.deepEqual(s.channels[0]!.values, rows.map((row) => Number(row[1])), 'channel a as the file has it');
    assert.deepEqual(s.labels, rows.map((row) => Number(row[3])));
    assert.deepEqual([r.window, r.stride, r.points, r.scoredPoints, r.labelColumn, r.thresholdQuantile], [WINDOW, 1, T, T, 'label', 0.99]);

    const scores = Array.from(expected);
    const cli = cliThreshold(csv);
    assert.deepEqual([r.threshold, r.thresholdFrom, r.heldOutPoints, r.thresholdFallback], [cli.value, 'held-out', cli.heldOut, null]);
    const positive = s.labels!.map((y) => y === 1);
    assert.ok(r.metrics !== null);
    assert.deepEqual([r.metrics.points, r.metrics.anomalous], [T, PLANTED.to - PLANTED.from]);
    assert.ok(Math.abs(r.metrics.auroc - pairAuroc(scores, positive)) < 1e-12, `AUROC ${r.metrics.auroc}`);
    assert.ok(Math.abs(r.metrics.auprc - bruteAveragePrecision(scores, positive)) < 1e-12, `AUPRC ${r.metrics.auprc}`);
    assert.ok(r.metrics.auroc > 0.9, `the planted points score high: AUROC ${r.metrics.auroc}`);

    // Without a label column: the same scores, no metrics.
    const plain = await apiCall<SeriesScores>(studio, '/api/runs/series/series/score', { path: 's.csv' });
    assert.deepEqual(plain.series[0]!.scores, s.scores);
    assert.deepEqual([plain.series[0]!.labels, plain.metrics, plain.labelColumn], [null, null, null]);
  });

  it('starts the threshold at the 0.99 quantile of the held-out normal points\' scores, as vaekit anomaly --model does, not at the file\'s own quantile', async () => {
    const r = await apiCall<SeriesScores>(studio, '/api/runs/series/series/score', { path: many, labelColumn: 'label' });
    const cli = cliThreshold(many);
    assert.equal(r.thresholdFrom, 'held-out');
    assert.equal(r.heldOutPoints, cli.heldOut);
    assert.ok(cli.heldOut > 0 && cli.heldOut < T, `${cli.heldOut} held-out points`);
    assert.ok(Math.abs(r.threshold - cli.value) <= 1e-9 * Math.abs(cli.value), `studio ${r.threshold}, CLI ${cli.value}`);
    // The file holds about 10% anomalous points: its own 0.99 quantile lies among them, far above the held-out one.
    const own = ownScores(many);
    const ownQuantile = numpyQuantile(own, 0.99);
    assert.ok(r.threshold < ownQuantile, `held-out threshold ${r.threshold} below the file's own quantile ${ownQuantile}`);
    const anomalous = MANY.reduce((n, p) => n + p.to - p.from, 0);
    const flagged = own.filter((x) => x > r.threshold).length;
    assert.ok(flagged >= anomalous / 2, `${flagged} of ${own.length} points flagged (${anomalous} planted), not about 1%`);
    assert.ok(own.filter((x) => x > ownQuantile).length <= Math.ceil(0.01 * own.length));
  });

  it('falls back to the file\'s own 0.99 quantile when the run\'s data is changed, gone or unnamed, and says why in one sentence', async () => {
    const score = (id: string): Promise<SeriesScores> => apiCall<SeriesScores>(studio, `/api/runs/${id}/series/score`, { path: csv });
    const ownQuantile = numpyQuantile(ownScores(csv), 0.99);
    const cli = cliThreshold(csv);
    // The copy's data, read again: the same held-out points as the run's.
    const same = await score('series-moved');
    assert.deepEqual([same.threshold, same.thresholdFrom, same.heldOutPoints, same.thresholdFallback], [cli.value, 'held-out', cli.heldOut, null]);
    const fallsBack = async (id: string, why: RegExp): Promise<void> => {
      const r = await score(id);
      assert.deepEqual([r.thresholdFrom, r.heldOutPoints], ['scored', 0], id);
      assert.ok(Math.abs(r.threshold - ownQuantile) <= 1e-9 * Math.abs(ownQuantile), `${id}: ${r.threshold} is the file's own quantile ${ownQuantile}`);
      assert.match(r.thresholdFallback ?? '', new RegExp(`^${why.source}, so the threshold starts at the 0\\.99 quantile of this file's own scores, not of the run's held-out normal points\\.$`));
      assertOneSentence(r.thresholdFallback!);
    };
    writeFileSync(moved, seriesCsv(T, { scale: 3 }));
    await fallsBack('series-moved', /The run "series-moved" trained on series that no longer standardize as they did when it trained/);
    rmSync(moved);
    await fallsBack('series-moved', /The run "series-moved" trained on series that cannot be read again \(No data at .*moved\.csv\)/);
    await fallsBack('series-bare', /The run "series-bare" has no run\.json saying which data it trained on/);
  });

  it('scores an upload as it scores the same file on this machine', async () => {
    const response = await fetch(`http://127.0.0.1:${studio.port}/api/runs/series/series/upload`, {
      method: 'POST', headers: { Authorization: `Bearer ${studio.token}` }, body: upload('my series.csv', seriesCsv(), 'label'),
    });
    assert.equal(response.status, 200);
    const r = (await response.json()) as SeriesScores;
    assert.equal(r.source, 'my series.csv');
    assert.equal(r.series[0]!.name, 'my series.csv');
    assert.deepEqual(r.series[0]!.scores, Array.from(direct(), (v) => (Number.isNaN(v) ? null : v)));
    assert.ok(r.metrics !== null && r.metrics.anomalous === PLANTED.to - PLANTED.from);
  });

  it('refuses bad input with a 4xx and one sentence, and writes nothing', async () => {
    writeFileSync(join(data, 'other.csv'), 'time,x\n2021-03-01 00:00:00,1\n2021-03-01 01:00:00,2\n');
    const before = filesUnder(work);
    const short = seriesCsv(5);
    const cases: { path: string; body: string | object | FormData; status: number; says: RegExp }[] = [
      { path: '/api/runs/series/series/score', body: { path: join(data, 'other.csv') }, status: 400, says: /other\.csv/ },
      { path: '/api/runs/series/series/score', body: { path: csv, labelColumn: 'nope' }, status: 400, says: /nope/ },
      { path: '/api/runs/series/series/score', body: { path: '   ' }, status: 400, says: /^Give "path": the path of a series file/ },
      { path: '/api/runs/series/series/score', body: { path: 'mnist' }, status: 400, says: /set of images/ },
      { path: '/api/runs/series/series/score', body: { path: join(data, 'x.npy') }, status: 400, says: /^x\.npy is an NPY array, and this model reads the columns time, a, b of CSV series: give a \.csv or \.tsv file with them\.$/ },
      { path: '/api/runs/series/series/score', body: { path: csv, labelColumn: 3 }, status: 400, says: /"labelColumn" must be the name of a column/ },
      { path: '/api/runs/series/series/score', body: '{"path":', status: 400, says: /not valid JSON/ },
      { path: '/api/runs/series/series/score', body: { path: '/etc/passwd' }, status: 403, says: /outside/ },
      { path: '/api/runs/series/series/score', body: { path: 'missing.csv' }, status: 404, says: /No series at missing\.csv/ },
      { path: '/api/runs/digits/series/score', body: { path: csv }, status: 400, says: /^The run "digits" is not a series model/ },
      { path: '/api/runs/nothing/series/score', body: { path: csv }, status: 404, says: /no run "nothing"/ },
      { path: '/api/runs/series/series/upload', body: upload('short.csv', short), status: 400, says: /^short\.csv holds 5 points, fewer than the model's window of 12/ },
      { path: '/api/runs/series/series/upload', body: upload('notes.txt', 'hello'), status: 400, says: /"file" must be a \.csv, \.tsv or \.npy file, not "notes\.txt"/ },
      { path: '/api/runs/series/series/upload', body: upload('broken.csv', 'time,a,b\nyesterday,1\n'), status: 400, says: /broken\.csv/ },
      { path: '/api/runs/series/series/upload', body: { path: csv }, status: 415, says: /multipart\/form-data/ },
    ];
    for (const c of cases) {
      const { status, error } = await refusal(studio, c.path, c.body);
      assert.equal(status, c.status, `${c.path} ${c.body instanceof FormData ? '(upload)' : JSON.stringify(c.body)}: ${error}`);
      assert.match(error, c.says, c.path);
      assertOneSentence(error);
    }
    assert.deepEqual(filesUnder(work), before, 'no file was written or removed');
  });

  it('in Chromium: Models and Denoise send the series run to the Series page, which scores an upload, draws it, and flags the points above a moved threshold', async (t) => {
    const executablePath = requireTool(t, chromiumPath(), 'chromium');
    if (executablePath === null) return;
    await ensureWebBuilt();
    const scores = Array.from(direct());
    const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(studio.url, { waitUntil: 'load' });

      await page.evaluate('window.location.hash = "#/models?run=series"');
      await page.waitForSelector('[data-testid="series-page-link"]');
      assert.match(await page.textContent('[data-testid="run-detail"]') ?? '', /windows of 12 points of a, b/);

      // An image page with the series run picked: one sentence, and a way to the Series page.
      await page.evaluate('window.location.hash = "#/denoise?run=series"');
      await page.waitForSelector('[data-testid="series-run-note"]');
      assert.match(await page.textContent('[data-testid="series-run-note"]') ?? '', /^series is a time series model, and this page works with image and table models: score a series with it on the Series page\.$/);
      await page.click('[data-testid="series-run-note"] a');
      await page.waitForSelector('[data-testid="series-form"]');
      assert.match(await page.textContent('[data-testid="series-model"]') ?? '', /series · latent 4 .*s\.csv.* \[windows of 12 points of a, b\]/);

      // A bad file: one sentence on the page.
      await page.setInputFiles('[data-testid="series-file"]', { name: 'short.csv', mimeType: 'text/csv', buffer: Buffer.from(seriesCsv(5)) });
      await page.click('[data-testid="series-score"]');
      await page.waitForSelector('[data-testid="series-form"] .error');
      assert.match(await page.textContent('[data-testid="series-form"] .error') ?? '', /^short\.csv holds 5 points, fewer than the model's window of 12; give longer series\.$/);

      // The series: its label column offered from its header (the model's own picked), scored, drawn.
      await page.setInputFiles('[data-testid="series-file"]', csv);
      await page.waitForFunction('document.querySelector(\'[data-testid="series-label-column"]\')?.value === "label"');
      await page.click('[data-testid="series-score"]');
      await page.waitForSelector('[data-testid="series-chart"] svg', { timeout: 60_000 });
      assert.equal(await page.locator('[data-testid="series-form"] .error').count(), 0, 'the error is gone');
      const flaggedAt = async (): Promise<number> => Number((await page.textContent('[data-testid="flagged-count"] .big'))!.replace(/,/g, ''));
      const start = cliThreshold(csv).value;
      const above = (th: number): number => scores.filter((s) => s > th).length;
      assert.equal(await flaggedAt(), above(start), 'the points above the starting threshold');
      assert.match(await page.textContent('[data-testid="threshold-note"]') ?? '', /starts at the 0\.99 quantile of the scores of the run's \d+ held-out normal points, which the model never trained on, as vaekit anomaly --model takes it/);
      assert.equal(await page.locator('[data-testid="threshold-fallback"]').count(), 0);
      assert.match(await page.textContent('[data-testid="series-metrics"]') ?? '', /\d+\.\d\d% AUROC · AUPRC \d+\.\d\d%/);

      // A lower threshold, typed: more points flagged, as many as score above it, and the figure drawn again.
      const drawn = Number(await page.getAttribute('[data-testid="series-chart"]', 'data-drawn'));
      const lower = numpyQuantile(scores.filter((x) => x < start), 0.5);
      await page.fill('[data-testid="threshold-input"]', String(lower));
      await page.waitForFunction(`Number(document.querySelector('[data-testid="series-chart"]').dataset.drawn) > ${drawn}`);
      assert.equal(await flaggedAt(), above(lower));
      assert.ok(above(lower) > above(start));
      assert.match(await page.textContent('[data-testid="flagged-count"]') ?? '', /in \d+ intervals? \(\d+\.\d\d%\)/);
      // The slider moved to its top: no point scores above the highest score.
      await page.evaluate(`(() => {
        const slider = document.querySelector('[data-testid="threshold-slider"]');
        slider.value = slider.max;
        slider.dispatchEvent(new Event('input', { bubbles: true }));
      })()`);
      await page.waitForFunction('document.querySelector(\'[data-testid="flagged-count"] .big\')?.textContent === "0"');
      await page.click('[data-testid="threshold-reset"]');
      await page.waitForFunction(`document.querySelector('[data-testid="flagged-count"] .big')?.textContent === "${above(start)}"`);
      // The figure drawn at the starting threshold again before the picture is taken.
      await page.waitForFunction(`[...document.querySelectorAll('[data-testid="series-chart"] svg text')].some((t) => t.textContent === ${JSON.stringify(`threshold ${formatValue(start)}`)})`);
      await page.screenshot({ path: join(work, 'studio-series.png'), fullPage: true });

      // A run whose data is gone (the test above removed it): the threshold starts at the file's own quantile, and the page says why by it.
      await page.evaluate('window.location.hash = "#/series?run=series-moved"');
      await page.waitForFunction('document.querySelector(\'[data-testid="series-model"]\') !== null && document.querySelector(\'[data-testid="series-summary"]\') === null');
      await page.click('[data-testid="source-path"]');
      await page.fill('[data-testid="series-path"]', csv);
      await page.click('[data-testid="series-score"]');
      await page.waitForSelector('[data-testid="threshold-fallback"]', { timeout: 60_000 });
      assert.match(await page.textContent('[data-testid="threshold-fallback"]') ?? '',
        /^The run "series-moved" trained on series that cannot be read again \(No data at .*moved\.csv\), so the threshold starts at the 0\.99 quantile of this file's own scores, not of the run's held-out normal points\.$/);
      assert.match(await page.textContent('[data-testid="threshold-note"]') ?? '', /starts at the 0\.99 quantile of this file's own scores/);
      assert.equal(await flaggedAt(), above(numpyQuantile(scores, 0.99)), 'the points above the file\'s own quantile');
      await page.screenshot({ path: join(work, 'studio-series-fallback.png'), fullPage: true });

      assert.deepEqual(problems, [], 'no errors in the page');
      const elsewhere = requests.filter((u) => !u.startsWith(`http://127.0.0.1:${studio.port}/`) && !u.startsWith('data:'));
      assert.deepEqual(elsewhere, [], 'no request left the studio');
    } finally {
      await browser.close();
    }
  });
});
