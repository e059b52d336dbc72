// Time series as a run's data: the spec's series fields (and the flags that set them), windows split
// in time for validation, the series description a bundle keeps, and new series read with a model's
// standardization (run/series.ts seriesForModel).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inFlagText } from '../src/cli/spec-flags.js';
import { VaekitError } from '../src/errors.js';
import { loadBundle, saveModel } from '../src/run/bundle.js';
import { planRun } from '../src/run/plan.js';
import { readSeriesRun, seriesForModel } from '../src/run/series.js';
import { SpecFieldError, validateRunSpec, type DataSpec } from '../src/run/spec.js';
import type { Vae } from '../src/vae/model.js';
import { windowRows } from './helpers/series.js';

const tmp = mkdtempSync(join(tmpdir(), 'vaekit-series-run-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** A CSV series "t,x,y" of T points: x = a sine of period 10 shifted by `shift`, y = x scaled by `scale`, times 100, 105, 110, ... */
function seriesCsv(path: string, T: number, shift = 0, scale = 1): { x: number[]; y: number[] } {
  const x = Array.from({ length: T }, (_, t) => Number((Math.sin((2 * Math.PI * t) / 10) + shift).toFixed(4)));
  const y = x.map((v, t) => Number((v * scale + 0.01 * (t % 3)).toFixed(4)));
  writeFileSync(path, `t,x,y\n${x.map((v, t) => `${100 + 5 * t},${v},${y[t]}`).join('\n')}\n`);
  return { x, y };
}

function data(over: Partial<DataSpec>): DataSpec {
  return validateRunSpec({ data: { source: 'unused', ...over } }).data;
}

function refused(input: unknown, field: string, pattern: RegExp): void {
  assert.throws(() => validateRunSpec(input), (err: unknown) => {
    assert.ok(err instanceof SpecFieldError, String(err));
    assert.equal(err.field, field);
    assert.match(err.message, pattern);
    return true;
  });
}

test('the spec takes the series fields, and refuses them without data.window, and image, text and class settings with it', () => {
  const d = data({ window: 16, stride: 2, timeColumn: 't', valueColumns: ['x', 'y'], trainUntil: '2014-04-01', resample: true });
  assert.deepEqual(
    { window: d.window, stride: d.stride, timeColumn: d.timeColumn, valueColumns: d.valueColumns, trainUntil: d.trainUntil, resample: d.resample },
    { window: 16, stride: 2, timeColumn: 't', valueColumns: ['x', 'y'], trainUntil: '2014-04-01', resample: true },
  );
  assert.equal(data({ window: 8, trainUntil: 0.5 }).trainUntil, 0.5);
  assert.equal(data({ window: 8, trainUntil: 1500 }).trainUntil, 1500);
  const defaults = validateRunSpec({}).data;
  assert.deepEqual([defaults.window, defaults.stride, defaults.timeColumn, defaults.valueColumns, defaults.trainUntil, defaults.resample], [null, null, null, null, null, null]);

  refused({ data: { timeColumn: 't' } }, 'data.timeColumn', /^data\.timeColumn applies to time series, and this run reads none: give data\.window/);
  refused({ data: { trainUntil: 0.5 } }, 'data.trainUntil', /give data\.window/);
  refused({ data: { window: 0 } }, 'data.window', /whole number from 1/);
  refused({ data: { window: 8, stride: 1.5 } }, 'data.stride', /whole number from 1/);
  refused({ data: { window: 8, trainUntil: 'soon' } }, 'data.trainUntil', /a fraction between 0 and 1, a time \(a number\) or a date/);
  refused({ data: { window: 8, trainUntil: '0.5' } }, 'data.trainUntil', /a fraction between 0 and 1, a time/);
  refused({ data: { window: 8, valueColumns: ['x', 'x'] } }, 'data.valueColumns', /names the column "x" twice/);
  refused({ data: { window: 8, valueColumns: [] } }, 'data.valueColumns', /list of column names/);
  refused({ data: { window: 8, channels: 3 } }, 'data.channels', /^data\.channels applies to image folders, and this run reads time series \(data\.window\)\.$/);
  refused({ data: { window: 8, textColumn: 'text' } }, 'data.textColumn', /applies to text, and this run reads time series/);
  refused({ data: { window: 8, limit: 10 } }, 'data.limit', /takes the first examples/);
  refused({ data: { window: 8 }, model: { preset: 'text' } }, 'model.preset', /^model\.preset text is a text model, and this run reads time series/);
  refused({ data: { window: 8 }, model: { conditional: true } }, 'model.conditional', /point labels never train it/);

  // The CLI says the flags instead of the fields.
  assert.equal(inFlagText('data.timeColumn applies to time series, and this run reads none: give data.window, the points of each window, to train on series.'),
    '--time-column applies to time series, and this run reads none: give --window, the points of each window, to train on series.');
  assert.equal(inFlagText('data.valueColumns, data.trainUntil, data.stride, data.resample'), '--value-columns, --train-until, --stride, --resample');
});

test('validation takes the last share of each series\' training windows, and no window that trains shares a point with one that validates', () => {
  const dir = join(tmp, 'split');
  mkdirSync(dir);
  seriesCsv(join(dir, 'a.csv'), 200);
  seriesCsv(join(dir, 'b.csv'), 130, 1);
  const W = 12;
  const lines: string[] = [];
  const run = readSeriesRun(data({ source: dir, timeColumn: 't', window: W, trainUntil: 0.75 }), (line) => lines.push(line));
  // Training parts: floor(0.75 T) points, so n = end - W + 1 windows at stride 1; the last round(0.1 n) validate.
  const expected = [200, 130].map((T) => {
    const end = Math.floor(0.75 * T);
    const n = end - W + 1;
    const held = Math.round(0.1 * n);
    const firstValidation = n - held;
    return { train: Array.from({ length: firstValidation - W + 1 }, (_, s) => s), validation: Array.from({ length: held }, (_, k) => firstValidation + k) };
  });
  const startsOf = (set: typeof run.train, i: number): number[] => {
    const s = set.series!;
    return Array.from(s.starts).filter((_, k) => s.seriesIndex[k] === i);
  };
  for (const i of [0, 1]) {
    assert.deepEqual(startsOf(run.train, i), expected[i]!.train);
    assert.deepEqual(startsOf(run.validation, i), expected[i]!.validation);
    const lastTrainedPoint = Math.max(...startsOf(run.train, i)) + W - 1;
    assert.ok(lastTrainedPoint < Math.min(...startsOf(run.validation, i)));
  }
  // The windows' values are the series' rows (standardized), so the subsets kept theirs.
  const k = run.validation.count - 1;
  const start = run.validation.series!.starts[k]!;
  const all = run.windows.all;
  const inAll = Array.from(all.series!.starts).findIndex((s, j) => s === start && all.series!.seriesIndex[j] === run.validation.series!.seriesIndex[k]);
  assert.deepEqual(windowRows(run.validation).values.subarray(k * run.validation.size, (k + 1) * run.validation.size), windowRows(all).values.subarray(inAll * all.size, (inAll + 1) * all.size));
  assert.ok(lines.some((line) => /^windows: \d+ to train on and the last 10% of each series' training windows \(\d+\) to validate on; the 22 between them/.test(line)), lines.join('\n'));

  // data.validation.fraction: the last share of that size.
  const fifth = readSeriesRun(data({ source: join(dir, 'a.csv'), timeColumn: 't', window: W, trainUntil: 0.75, validation: { fraction: 0.2 } }));
  assert.equal(fifth.validation.count, Math.round(0.2 * (150 - W + 1)));
  // Too few windows to split without overlap: one sentence.
  assert.throws(() => readSeriesRun(data({ source: join(dir, 'a.csv'), timeColumn: 't', window: 60, trainUntil: 0.4 })),
    (err: unknown) => err instanceof VaekitError && /too few to validate on the last 10% of each series/.test(err.message));
});

test('a series run plans a dense model on windows, and its bundle keeps how it read the series (old bundles: null)', async () => {
  const path = join(tmp, 'plan.csv');
  seriesCsv(path, 160, 2, 3);
  const spec = { data: { source: path, timeColumn: 't', window: 10, stride: 2, trainUntil: 0.5 }, model: { preset: 'mlp', latent: 2, encoderHidden: [8], decoderHidden: [8] }, training: { epochs: 1 } };
  const plan = await planRun(spec);
  assert.deepEqual(plan.train.shape, [20]);
  // Not standardized again: the windows are the model's input as cut.
  assert.equal(plan.data.standardization, null);
  const run = readSeriesRun(validateRunSpec(spec).data);
  assert.deepEqual(windowRows(plan.train), windowRows(run.train));
  const series = plan.data.series!;
  assert.deepEqual({ ...series, standardization: null }, {
    window: 10, stride: 2, channels: ['x', 'y'], timeColumn: 't', valueColumns: ['x', 'y'], labelColumn: null, timeKind: 'number', standardization: null, resample: false,
  });
  // The standardization of the first half, against a float64 reference.
  const rows = readFileSync(path, 'utf8').trim().split('\n').slice(1, 81).map((line) => line.split(',').map(Number));
  for (const c of [0, 1]) {
    const v = rows.map((r) => r[c + 1]!);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    assert.ok(Math.abs(series.standardization.mean[c]! - mean) < 1e-5 && Math.abs(series.standardization.std[c]! - std) < 1e-5, `channel ${c}`);
  }

  const dir = join(tmp, 'bundle');
  saveModel(plan.vae, dir, {}, plan.data);
  assert.deepEqual(loadBundle(dir).data.series, series);
  // A bundle from before series: null.
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { data: Record<string, unknown> };
  delete config.data['series'];
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  assert.equal(loadBundle(dir).data.series, null);
  // A series section that does not fit the model is refused in one sentence.
  config.data['series'] = { ...series, channels: ['x'] };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  assert.throws(() => loadBundle(dir), /has a "data" section whose series channels are not names whose count times the window \(10\) is the model's input size\.$/);
  config.data['series'] = { ...series, standardization: { mean: [0, 0], std: [1, 0] } };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  assert.throws(() => loadBundle(dir), /series standardization is not 2 finite means and positive standard deviations\.$/);
});

test('seriesForModel reads a new series with the model\'s columns, window, stride and standardization, cutting all its windows', async () => {
  const path = join(tmp, 'model.csv');
  seriesCsv(path, 120);
  const plan = await planRun({ data: { source: path, timeColumn: 't', window: 8, stride: 3, trainUntil: 0.5 }, model: { preset: 'mlp', latent: 2, encoderHidden: [8], decoderHidden: [8] } });
  const info = plan.data.series!;
  // New data on another scale, with a label column and an extra column the model does not read.
  const fresh = join(tmp, 'fresh.csv');
  const T = 50;
  const x = Array.from({ length: T }, (_, t) => 5 + 2 * Math.sin(t / 3));
  writeFileSync(fresh, `t,label,y,extra,x\n${x.map((v, t) => `${t},${t === 20 ? 1 : 0},${(v / 2).toFixed(3)},7,${v.toFixed(3)}`).join('\n')}\n`);
  const { series, windows } = seriesForModel(plan.data, fresh, { labelColumn: 'label' });
  assert.equal(series.length, 1);
  assert.deepEqual(series[0]!.channels, ['x', 'y']);
  assert.equal(series[0]!.labels![20], 1);
  // All windows at the model's stride: floor((T - W) / S) + 1.
  assert.equal(windows.count, Math.floor((T - 8) / 3) + 1);
  assert.deepEqual(Array.from(windows.series!.starts), Array.from({ length: windows.count }, (_, k) => 3 * k));
  // Each value (x - mean) / std with the model's statistics, not the new data's (float64 reference).
  const { mean, std } = info.standardization;
  const rows = windowRows(windows).values;
  for (let k = 0; k < windows.count; k++) {
    for (let t = 0; t < 8; t++) {
      const p = 3 * k + t;
      const raw = [Number(x[p]!.toFixed(3)), Number((x[p]! / 2).toFixed(3))];
      for (const c of [0, 1]) {
        const want = (Math.fround(raw[c]!) - mean[c]!) / std[c]!;
        assert.ok(Math.abs(rows[k * 16 + t * 2 + c]! - want) < 1e-5, `window ${k}, point ${t}, channel ${c}`);
      }
    }
  }
  // The model reads its channels: a file without one is refused, and so is a series shorter than the window.
  const other = join(tmp, 'other.csv');
  writeFileSync(other, 't,x,z\n0,1,2\n1,2,3\n');
  assert.throws(() => seriesForModel(plan.data, other), /other\.csv has no column "y" for the values/);
  const short = join(tmp, 'short.csv');
  writeFileSync(short, 't,x,y\n0,1,2\n1,2,3\n');
  assert.throws(() => seriesForModel(plan.data, short), /short\.csv holds 2 points, fewer than the model's window of 8; give longer series\.$/);
  // A model of other data reads no series.
  const table = join(tmp, 'table.csv');
  writeFileSync(table, 'a,b\n1,2\n3,5\n4,4\n6,1\n');
  const tablePlan = await planRun({ data: { source: table }, model: { preset: 'mlp', latent: 2, encoderHidden: [4], decoderHidden: [4] } });
  assert.equal(tablePlan.data.series, null);
  assert.throws(() => seriesForModel(tablePlan.data, fresh), /not on time series/);
  assert.ok((plan.vae as Vae).config.inputShape[0] === 16);
});
