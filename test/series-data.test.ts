import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subset, takeFirst } from '../src/data/dataset.js';
import { describeSeries, readSeries, readSeriesFile, regularity, resampleSeries, type Series, type SeriesReadOptions } from '../src/data/sources/series.js';
import { pointScores, seriesWindows, trainingEnds } from '../src/data/transforms/windows.js';
import { Random } from '../src/engine/random.js';
import { encodeNpy } from '../src/io/npy.js';
import { VaekitError } from '../src/errors.js';
import { windowRows } from './helpers/series.js';

const tmp = mkdtempSync(join(tmpdir(), 'vaekit-series-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

let files = 0;
/** Writes `content` to a fresh file (named `name`, or numbered .csv) and returns its path. */
function file(content: string | Uint8Array, name = `s${files++}.csv`, dir = tmp): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Asserts that `run` throws a VaekitError with exactly `message`. */
function assertFails(run: () => unknown, message: string): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof VaekitError, `expected a VaekitError, got ${String(err)}`);
    assert.equal(err.message, message);
    return true;
  });
}

const MIN = 60_000;
const T0 = Date.UTC(2020, 0, 1);

/** Rows "time,value,other" at the given minutes after 2020-01-01 00:00 UTC, written as "YYYY-MM-DD HH:MM:SS". */
function minutesCsv(minutes: number[], cells: (i: number) => string): string {
  const rows = minutes.map((m, i) => `${new Date(T0 + m * MIN).toISOString().slice(0, 19).replace('T', ' ')},${cells(i)}`);
  return `time,value,other\n${rows.join('\n')}\n`;
}

test('a CSV of dates with gaps: times in epoch ms (UTC), the most common step, and the gaps counted in the summary line', () => {
  const minutes = [0, 1, 2, 5, 6, 8, 9];
  const path = file(minutesCsv(minutes, (i) => `${i},${10 - i}`));
  const lines: string[] = [];
  const [s] = readSeries(path, { timeColumn: 'time', report: (line) => lines.push(line) });
  assert.ok(s !== undefined);
  assert.equal(s.time, 'date');
  assert.deepEqual(Array.from(s.timestamps), minutes.map((m) => T0 + m * MIN));
  assert.deepEqual(s.channels, ['value', 'other']);
  assert.deepEqual(Array.from(s.values), minutes.flatMap((_, i) => [i, 10 - i]));
  assert.ok(s.mask.every((m) => m === 1));
  assert.equal(s.labels, null);
  assert.deepEqual(regularity(s), { step: MIN, irregular: 2 });
  assert.deepEqual(lines, [`${path}: 7 points of 2 channels (value, other); 0 values missing (0%); most common step 1 min, 2 steps differ from it.`]);
  // ISO 8601 with T, zones and fractions, and bare days.
  const zoned = readSeriesFile(file('t,x\n2020-01-01T01:00:00+01:00,1\n2020-01-01T00:00:00.5Z,2\n2020-01-02,3\n'), { timeColumn: 't' });
  assert.deepEqual(Array.from(zoned.timestamps), [T0, T0 + 500, T0 + 86_400_000]);
});

test('resampling puts every point on the grid of the most common step and adds the missing grid points as missing, labels 0', () => {
  // Minute 5 is written at 5:10 (off the grid: it moves to 5:00); 3, 4 and 7 are absent.
  const text = 'time,value,other,anomaly\n' + [[0, '1', '2', 0], [1, '2', '', 1], [2, '3', '4', 0], [5 + 10 / 60, '4', '5', 1], [6, '5', '6', 0], [8, 'nan', '7', 0]]
    .map(([m, a, b, y]) => `${new Date(T0 + Math.round((m as number) * MIN)).toISOString()},${a},${b},${y}`).join('\n');
  const path = file(text);
  const lines: string[] = [];
  const [s] = readSeries(path, { timeColumn: 'time', labelColumn: 'anomaly', resample: true, report: (line) => lines.push(line) });
  assert.ok(s !== undefined);
  assert.deepEqual(Array.from(s.timestamps), Array.from({ length: 9 }, (_, k) => T0 + k * MIN));
  const v = (t: number, c: number): number => s.values[t * 2 + c]!;
  const observed = [[1, 2], [2, NaN], [3, 4], [NaN, NaN], [NaN, NaN], [4, 5], [5, 6], [NaN, NaN], [NaN, 7]];
  observed.forEach(([a, b], t) => {
    assert.deepEqual([v(t, 0), v(t, 1)], [a, b], `point ${t}`);
    assert.deepEqual([s.mask[t * 2], s.mask[t * 2 + 1]], [Number.isNaN(a) ? 0 : 1, Number.isNaN(b) ? 0 : 1], `mask of point ${t}`);
  });
  assert.deepEqual(Array.from(s.labels!), [0, 1, 0, 0, 0, 1, 0, 0, 0]);
  assert.deepEqual(regularity(s), { step: MIN, irregular: 0 });
  assert.deepEqual(lines, [
    `${path}: 6 points of 2 channels (value, other); 2 values missing (16.7%); 2 points labelled anomalous; most common step 1 min, 3 steps differ from it; resampled onto that step: 3 points added, missing.`,
  ]);
  // Without resample the series stays as read; a regular series resamples to itself.
  const [raw] = readSeries(path, { timeColumn: 'time', labelColumn: 'anomaly' });
  assert.equal(raw!.timestamps.length, 6);
  assert.equal(resampleSeries(s), s);
  // Two points on one grid point are refused, not merged.
  const crowded = file('t,x\n0,1\n10,2\n20,3\n24,4\n30,5\n40,6\n');
  assertFails(() => readSeries(crowded, { timeColumn: 't', resample: true }),
    `${crowded}: the points at the times 20 and 24 fall on one grid point of the step 10; resample the series yourself, or read it without data.resample.`);
  // A grid of over 100 times the points read is refused.
  const sparse = file(`t,x\n${Array.from({ length: 10 }, (_, i) => `${i},1`).join('\n')}\n100000,2\n`);
  assertFails(() => readSeries(sparse, { timeColumn: 't', resample: true }),
    `${sparse}: resampling onto its most common step (1) would make 100,001 points of its 11; resample the series yourself, or read it without data.resample.`);
});

/** A series of T points and C channels from a seeded Random, about a tenth of its values missing, written as CSV with numeric times. */
function randomSeriesCsv(T: number, C: number, seed: number): { path: string; values: number[][] } {
  const random = new Random(seed);
  const missing = ['', 'NaN', 'nan', 'NA'];
  const values: number[][] = [];
  const lines = [['t', ...Array.from({ length: C }, (_, c) => `x${c}`)].join(',')];
  for (let t = 0; t < T; t++) {
    const row = Array.from({ length: C }, (_, c) => (random.uniform() < 0.1 ? NaN : Math.fround(random.normal() * (c + 1) + 3 * c)));
    values.push(row);
    lines.push([String(100 + 5 * t), ...row.map((x, c) => (Number.isNaN(x) ? missing[(t + c) % 4]! : String(x)))].join(','));
  }
  return { path: file(`${lines.join('\n')}\n`), values };
}

test('missing cells (empty, NaN, nan, NA) have mask 0, and the standardization is the observed training values\' mean and population std', () => {
  const T = 200;
  const C = 3;
  const { path, values } = randomSeriesCsv(T, C, 7);
  const series = readSeries(path, { timeColumn: 't' });
  const s = series[0]!;
  assert.equal(s.time, 'number');
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      const x = values[t]![c]!;
      assert.equal(s.mask[t * C + c], Number.isNaN(x) ? 0 : 1);
      assert.ok(Object.is(s.values[t * C + c], x) || (Number.isNaN(x) && Number.isNaN(s.values[t * C + c]!)));
    }
  }
  const trainEnd = Math.floor(0.6 * T);
  const { standardization, train, all } = seriesWindows(series, { window: 10, stride: 3, trainUntil: 0.6 });
  for (let c = 0; c < C; c++) {
    const seen = values.slice(0, trainEnd).map((row) => row[c]!).filter((x) => !Number.isNaN(x));
    const mean = seen.reduce((a, b) => a + b, 0) / seen.length;
    const std = Math.sqrt(seen.reduce((a, b) => a + (b - mean) ** 2, 0) / seen.length);
    assert.ok(Math.abs(standardization.mean[c]! - mean) < 1e-12, `mean of channel ${c}`);
    assert.ok(Math.abs(standardization.std[c]! - std) < 1e-12, `std of channel ${c}`);
  }
  assert.deepEqual(train.series!.standardization, standardization);
  assert.deepEqual(Array.from(train.series!.trainEnds), [trainEnd]);
  assert.equal(train.source, `${path} (training part)`);
  assert.equal(all.source, path);
  // A time splits there too: the points before time 100 + 5 * 120 are those of the fraction 0.6.
  assert.deepEqual(Array.from(trainingEnds(series, 100 + 5 * trainEnd)), [trainEnd]);
});

test('windows: floor((T - W) / S) + 1 of them, each the standardized slice channels-last with missing values 0 and mask 0', () => {
  const C = 2;
  const a = randomSeriesCsv(103, C, 11);
  const b = randomSeriesCsv(57, C, 12);
  const dir = join(tmp, 'folder');
  mkdirSync(dir);
  // Named so that "b" sorts first.
  writeFileSync(join(dir, '2.csv'), readFileText(a.path));
  writeFileSync(join(dir, '1.csv'), readFileText(b.path));
  const series = readSeries(dir, { timeColumn: 't' });
  assert.deepEqual(series.map((s) => s.name), [join(dir, '1.csv'), join(dir, '2.csv')]);
  const oracleValues = [b.values, a.values];
  const W = 8;
  const S = 5;
  const { train, all, standardization: { mean, std } } = seriesWindows(series, { window: W, stride: S, trainUntil: 0.5 });
  const ends = [Math.floor(57 / 2), Math.floor(103 / 2)];
  assert.equal(all.count, Math.floor((57 - W) / S) + 1 + Math.floor((103 - W) / S) + 1);
  assert.equal(train.count, Math.floor((ends[0]! - W) / S) + 1 + Math.floor((ends[1]! - W) / S) + 1);
  assert.deepEqual(all.shape, [W * C]);
  assert.equal(all.featureNames![3], 'x1@1');
  for (const set of [train, all]) {
    const info = set.series!;
    const rows = windowRows(set);
    assert.equal(info.window, W);
    assert.equal(info.stride, S);
    assert.deepEqual(info.channels, ['x0', 'x1']);
    let k = 0;
    for (let i = 0; i < 2; i++) {
      const end = set === train ? ends[i]! : oracleValues[i]!.length;
      for (let start = 0; start + W <= end; start += S, k++) {
        assert.equal(info.seriesIndex[k], i);
        assert.equal(info.starts[k], start);
        assert.equal(set.ids!(k), `${i + 1}.csv:${start}`);
        for (let t = 0; t < W; t++) {
          for (let c = 0; c < C; c++) {
            const x = oracleValues[i]![start + t]![c]!;
            const j = k * W * C + t * C + c;
            assert.equal(rows.mask[j], Number.isNaN(x) ? 0 : 1);
            assert.equal(rows.values[j], Number.isNaN(x) ? 0 : Math.fround((x - mean[c]!) / std[c]!), `window ${k}, point ${t}, channel ${c}`);
          }
        }
      }
    }
    assert.equal(k, set.count);
  }
  // A window gathered alone is the one gathered with the others; the windows are never held as rows.
  const out = new Float32Array(W * C);
  all.gather(null, 4, 1, out);
  assert.deepEqual(out, windowRows(all).values.subarray(4 * W * C, 5 * W * C));
  assert.equal(all.values, null);
});

test('subset and takeFirst carry the mask and the series info of the windows they keep', () => {
  const { path } = randomSeriesCsv(40, 2, 3);
  const { all } = seriesWindows(readSeries(path, { timeColumn: 't' }), { window: 4, stride: 3 });
  const picked = subset(all, [5, 1]);
  assert.deepEqual(Array.from(picked.series!.starts), [15, 3]);
  assert.deepEqual(Array.from(picked.series!.seriesIndex), [0, 0]);
  const allMask = windowRows(all).mask;
  assert.deepEqual(windowRows(picked).mask, Uint8Array.from([...allMask.subarray(40, 48), ...allMask.subarray(8, 16)]));
  assert.deepEqual(picked.ids!(0), '15');
  const first = takeFirst(all, 2);
  assert.deepEqual(Array.from(first.series!.starts), [0, 3]);
  assert.deepEqual(windowRows(first).mask, allMask.subarray(0, 16));
  assert.equal(first.series!.standardization, all.series!.standardization);
});

test('point labels label each window 1 when any of its points is anomalous', () => {
  const path = file('t,x,y\n0,1,0\n1,2,0\n2,4,1\n3,3,0\n4,5,0\n5,1,0\n');
  const { all } = seriesWindows(readSeries(path, { timeColumn: 't', labelColumn: 'y' }), { window: 2, stride: 2 });
  assert.deepEqual(Array.from(all.labels!), [0, 1, 0]);
  assert.deepEqual(all.labelNames, ['0', '1']);
  assert.deepEqual(Array.from(all.series!.pointLabels![0]!), [0, 0, 1, 0, 0, 0]);
});

test('NPY arrays [T] and [T, C] are series whose times are the indices, NaN missing', () => {
  const one = file(encodeNpy({ dtype: 'float64', shape: [4], data: Float64Array.from([1, NaN, 3, 4]) }), 'one.npy');
  const s = readSeriesFile(one);
  assert.deepEqual(Array.from(s.timestamps), [0, 1, 2, 3]);
  assert.deepEqual(s.channels, ['0']);
  assert.deepEqual(Array.from(s.mask), [1, 0, 1, 1]);
  const two = file(encodeNpy({ dtype: 'float32', shape: [3, 2], data: Float32Array.from([1, 2, 3, NaN, 5, 6]) }), 'two.npy');
  const t = readSeriesFile(two);
  assert.deepEqual(t.channels, ['0', '1']);
  assert.equal(t.time, 'index');
  assert.deepEqual(Array.from(t.mask), [1, 1, 1, 0, 1, 1]);
  assertFails(() => readSeriesFile(two, { timeColumn: 't' }), `data.timeColumn applies to CSV series, not to the NPY array ${two}.`);
});

test('pointScores: each point\'s score is the mean over the windows that cover it; a point no window covers is NaN', () => {
  // T = 5, W = 3, S = 1: windows at 0, 1, 2.
  const path = file('t,x\n0,1\n1,2\n2,3\n3,5\n4,8\n');
  const { all } = seriesWindows(readSeries(path, { timeColumn: 't' }), { window: 3 });
  const [perPoint] = pointScores(all.series!, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(Array.from(perPoint!), [1, (2 + 4) / 2, (3 + 5 + 7) / 3, (6 + 8) / 2, 9]);
  const [perWindow] = pointScores(all.series!, [3, 6, 9]);
  assert.deepEqual(Array.from(perWindow!), [3, 4.5, 6, 7.5, 9]);
  // T = 6, W = 3, S = 2: windows at 0 and 2; point 5 is left out.
  const six = file('t,a,b\n0,1,0\n1,2,1\n2,3,0\n3,5,1\n4,8,0\n5,9,1\n');
  const { all: strided } = seriesWindows(readSeries(six, { timeColumn: 't' }), { window: 3, stride: 2 });
  // Per point and channel: window 0 gives (t, c) 10t + c, window 1 gives 100 + 10t + c.
  const [perChannel] = pointScores(strided.series!, [0, 1, 10, 11, 20, 21, 100, 101, 110, 111, 120, 121]);
  assert.deepEqual(Array.from(perChannel!), [0, 1, 10, 11, (20 + 100) / 2, (21 + 101) / 2, 110, 111, 120, 121, NaN, NaN]);
  // A subset's windows map back by their own starts.
  const [picked] = pointScores(subset(strided, [1]).series!, [1, 2, 3]);
  assert.deepEqual(Array.from(picked!), [NaN, NaN, 1, 2, 3, NaN]);
  assert.throws(() => pointScores(strided.series!, [1, 2, 3, 4]), RangeError);
});

test('bad input: one sentence naming the file and the place', () => {
  const time: SeriesReadOptions = { timeColumn: 'time' };
  const fails = (content: string, options: SeriesReadOptions, message: (path: string) => string): void => {
    const path = file(content);
    assertFails(() => readSeries(path, options), message(path));
  };
  fails('time,value\n0,1\n1,abc\n', time, (p) => `${p}: row 2 (line 3), column "value": "abc" is not a number; leave a missing value empty or write NaN or NA.`);
  fails('time,value\n2020-01-02,1\n2020-01-01,2\n', time, (p) => `${p}: row 2 (line 3), column "time": the time 2020-01-01 comes before the previous row's; the rows must be in time order, each time once.`);
  fails('time,value\n0,1\n1,2\n1,3\n', time, (p) => `${p}: row 3 (line 4), column "time": the time 1 repeats the previous row's; the rows must be in time order, each time once.`);
  fails('time,value\n2020-01-01,1\nyesterday,2\n', time, (p) => `${p}: row 2 (line 3), column "time": "yesterday" is not a date; give every point its time, all numbers or all dates.`);
  fails('time,value\n0,1\n,2\n', time, (p) => `${p}: row 2 (line 3), column "time": the time is empty; give every point its time, all numbers or all dates.`);
  fails('', time, (p) => `${p} is empty; a series file needs a header row of column names and one row per point.`);
  fails('time,value\n', time, (p) => `${p} has a header row but no data rows.`);
  fails('t,value\n0,1\n', time, (p) => `${p} has no column "time" for the time (its columns: t, value).`);
  fails('time,value\n0,1\n', { ...time, valueColumns: ['value', 'speed'] }, (p) => `${p} has no column "speed" for the values (its columns: time, value).`);
  fails('time,value\n0,1\n', { ...time, labelColumn: 'label' }, (p) => `${p} has no column "label" for the labels (its columns: time, value).`);
  fails('time,value,label\n0,1,0\n1,2,yes\n', { ...time, labelColumn: 'label' }, (p) => `${p}: row 2 (line 3), column "label": "yes" is not a label; label every point 0 or 1 (or false or true), 1 where it is anomalous.`);
  fails('date,value\n2020-01-01,1\n', {}, (p) => `${p}: row 1 (line 2), column "date": "2020-01-01" is not a number (if the column holds the time, give data.timeColumn date); leave a missing value empty or write NaN or NA.`);
  const emptyNpy = file(encodeNpy({ dtype: 'float32', shape: [0, 2], data: new Float32Array(0) }), 'empty.npy');
  assertFails(() => readSeries(emptyNpy), `${emptyNpy} is empty: its shape [0, 2] holds no points.`);

  const windows = (content: string, options: { window: number; stride?: number; trainUntil?: number | string }, message: (path: string) => string): void => {
    const path = file(content);
    assertFails(() => seriesWindows(readSeries(path, time), options), message(path));
  };
  const five = 'time,a,b\n2020-01-01,1,3\n2020-01-02,2,3\n2020-01-03,4,3\n2020-01-04,3,3\n2020-01-05,5,4\n';
  windows(five, { window: 6 }, (p) => `${p} holds 5 points, fewer than data.window (6); give a shorter window.`);
  windows(five, { window: 3, trainUntil: '2020-01-03' }, (p) => `The training part of ${p} holds 2 points (up to 2020-01-02T00:00:00.000Z), fewer than data.window (3); give a shorter window or a later data.trainUntil.`);
  windows(five, { window: 2, trainUntil: 0.8 }, (p) => `The channel "b" is constant (3) in the training part of ${p}, so it cannot be standardized; drop it (data.valueColumns) or train on more of the series.`);
  windows('time,a\n0,\n1,NA\n2,3\n3,4\n', { window: 1, trainUntil: 0.5 }, (p) => `The channel "a" has no observed value in the training part of ${p}, so it cannot be standardized; drop it or train on more of the series.`);
  windows('time,a\n0,1\n1,2\n', { window: 1, trainUntil: '2020-01-01' }, (p) => `data.trainUntil "2020-01-01" is a date, but the times of ${p} are numbers; give a number.`);
  windows('time,a\n0,1\n1,2\n', { window: 1, stride: 0 }, () => 'data.stride must be a whole number of points >= 1, not 0.');

  const mixed = join(tmp, 'mixed');
  mkdirSync(mixed);
  file('time,a\n0,1\n', 'a.csv', mixed);
  file('time,b\n0,1\n', 'b.csv', mixed);
  assertFails(() => readSeries(mixed, time), `${join(mixed, 'b.csv')} has the channels (b) but ${join(mixed, 'a.csv')} has (a); every series of a folder needs the same channels.`);
  // Nothing was written beside the inputs.
  assert.deepEqual(readdirSync(mixed), ['a.csv', 'b.csv']);
});

test('describeSeries sums a folder\'s series', () => {
  const make = (name: string, times: number[]): Series => ({
    name, time: 'number', timestamps: Float64Array.from(times), values: new Float32Array(times.length).fill(1), mask: new Uint8Array(times.length).fill(1), channels: ['x'], labels: null,
  });
  assert.equal(describeSeries('dir', [make('a', [0, 2, 4, 8]), make('b', [0, 2, 4, 5])]),
    'dir: 2 series, 8 points of 1 channel (x); 0 values missing (0%); most common step 2, 2 steps differ from it (in its series).');
});

function readFileText(path: string): string {
  return readFileSync(path, 'utf8');
}
