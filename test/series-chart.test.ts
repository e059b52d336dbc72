// The series figure (src/viz/series-chart-spec.ts, src/viz/series-chart.ts, seriesFigure in
// src/pipelines/figures.ts): the min/max downsampling against a brute-force pass over each time
// bucket, the spec's threshold rule, shaded spans and gaps against values worked out by hand, the
// drawn SVG's broken line paths, the UTC date axis under another time zone, the PNG, a Series'
// flagged and labelled runs, and bad input refused with one sentence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pngjs from 'pngjs';
import { intervalSpan, minMaxIndices, seriesChartSpec, SERIES_CHART_WIDTH, type SeriesChartInput } from '../src/viz/series-chart-spec.js';
import { seriesChart } from '../src/viz/series-chart.js';
import { seriesFigure } from '../src/pipelines/figures.js';
import type { Series } from '../src/data/sources/series.js';
import { Random } from '../src/engine/random.js';
import { VaekitError } from '../src/errors.js';

const { PNG } = pngjs;

type Json = Record<string, unknown>;

/** The layers of panel `p` (0: the series, 1: the scores) whose mark is of `type`. */
function layersOf(spec: object, p: number, type: string): Json[] {
  const panel = (spec as { vconcat: Array<{ layer: Json[] }> }).vconcat[p]!;
  return panel.layer.filter((l) => (l['mark'] as Json | undefined)?.['type'] === type);
}

function rowsOf(layer: Json): Json[] {
  return (layer['data'] as { values: Json[] }).values;
}

/** The texts of the SVG's <text> elements. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replace(/&amp;/g, '&').replace(/&#x27;|&#39;/g, '\''));
}

/** The path data of the SVG's line marks, in drawing order. */
function linePaths(svg: string): string[] {
  return [...svg.matchAll(/<path [^>]*aria-roledescription="line mark"[^>]*>/g)].map((m) => /\sd="([^"]*)"/.exec(m[0])![1]!);
}

function ramp(n: number, step = 1, start = 0): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => start + i * step);
}

function input(n: number, overrides: Partial<SeriesChartInput> = {}): SeriesChartInput {
  const times = ramp(n);
  return {
    title: 'A series', times, timeKind: 'index',
    channels: [{ name: 'value', values: Float64Array.from(times, (t) => Math.sin(t / 7)) }],
    scores: Float64Array.from(times, (t) => Math.abs(Math.cos(t / 5))),
    threshold: null, flaggedIntervals: [], ...overrides,
  };
}

test('minMaxIndices keeps each time bucket\'s smallest and largest value and its first missing point, in time order', () => {
  const rng = new Random(3);
  const n = 10_000;
  const buckets = 97;
  // Irregular times, so the buckets hold different numbers of points.
  const times = new Float64Array(n);
  for (let i = 1; i < n; i++) times[i] = times[i - 1]! + 0.5 + rng.uniform() * 2;
  const values = Float64Array.from({ length: n }, () => rng.normal());
  values[4321] = 50; // a one-point spike
  for (let i = 2000; i < 2600; i++) values[i] = NaN; // a run of missing points spanning buckets
  for (let i = 0; i < 40; i++) values[rng.int(n)] = NaN; // scattered missing points
  const kept = minMaxIndices(times, values, buckets);
  for (let k = 1; k < kept.length; k++) assert.ok(kept[k]! > kept[k - 1]!, 'in time order');
  assert.ok(kept.includes(4321), 'the spike is kept');

  // The oracle: each bucket's points by brute force over the times.
  const span = times[n - 1]! - times[0]!;
  const bucketOf = (i: number): number => Math.min(buckets - 1, Math.floor(((times[i]! - times[0]!) / span) * buckets));
  const keptSet = new Set(kept);
  for (let b = 0; b < buckets; b++) {
    const members = [...Array(n).keys()].filter((i) => bucketOf(i) === b);
    const observed = members.filter((i) => !Number.isNaN(values[i]!));
    const mine = kept.filter((i) => bucketOf(i) === b);
    if (observed.length > 0) {
      const low = Math.min(...observed.map((i) => values[i]!));
      const high = Math.max(...observed.map((i) => values[i]!));
      assert.ok(mine.some((i) => values[i] === low), `bucket ${b}'s minimum`);
      assert.ok(mine.some((i) => values[i] === high), `bucket ${b}'s maximum`);
    }
    assert.ok(mine.length <= 3, `bucket ${b} keeps at most its min, its max and a gap`);
    const firstMissing = members.find((i) => Number.isNaN(values[i]!));
    // Its first missing point is kept, unless the point kept before it is already a gap.
    if (firstMissing !== undefined) {
      const before = kept.filter((i) => i < firstMissing).at(-1);
      assert.ok(keptSet.has(firstMissing) || (before !== undefined && Number.isNaN(values[before]!)), `bucket ${b}'s gap`);
    }
  }
  // A missing run is one gap: no two kept points in a row are both missing.
  for (let k = 1; k < kept.length; k++) assert.ok(!(Number.isNaN(values[kept[k]!]!) && Number.isNaN(values[kept[k - 1]!]!)));
});

test('minMaxIndices keeps every point of a short line, a run of missing points as its first', () => {
  const values = Float64Array.from([1, NaN, NaN, NaN, 2, 3, NaN, 4]);
  assert.deepEqual([...minMaxIndices(ramp(8), values, 4)], [0, 1, 4, 5, 6, 7]);
});

test('intervalSpan shades from half a step before the first point to half a step after the last, at least the minimum width', () => {
  const times = ramp(11, 2, 100); // 100, 102, ..., 120
  assert.deepEqual(intervalSpan(times, { start: 3, end: 5 }, 0), [105, 111]);
  assert.deepEqual(intervalSpan(times, { start: 0, end: 1 }, 0), [100, 103], 'the series starts at its first point');
  assert.deepEqual(intervalSpan(times, { start: 10, end: 10 }, 0), [119, 120]);
  assert.deepEqual(intervalSpan(times, { start: 4, end: 4 }, 6), [105, 111], 'widened about its middle');
  assert.deepEqual(intervalSpan(times, { start: 0, end: 0 }, 6), [100, 106], 'widened within the series');
});

test('the spec: the threshold rule at its value and labelled with it, the flagged and labelled spans, one legend entry each', () => {
  const spec = seriesChartSpec(input(2000, {
    threshold: 0.875, flaggedIntervals: [{ start: 400, end: 450 }, { start: 700, end: 700 }], labelIntervals: [{ start: 380, end: 500 }],
  }));
  const rule = (spec as { vconcat: Array<{ layer: Json[] }> }).vconcat[1]!.layer.find((l) => Array.isArray(l['layer']))!;
  assert.deepEqual(rowsOf(rule), [{ threshold: 0.875, label: 'threshold 0.875' }]);
  const [ruleMark, text] = rule['layer'] as Json[];
  assert.equal((ruleMark!['mark'] as Json)['type'], 'rule');
  assert.equal(((ruleMark!['encoding'] as Json)['y'] as Json)['field'], 'threshold');
  assert.equal(((text!['encoding'] as Json)['text'] as Json)['field'], 'label');

  for (const panel of [0, 1]) {
    const [flagged, labelled] = layersOf(spec, panel, 'rect');
    // Points 400..450 at times 400..450: from 399.5 to 450.5; point 700 alone is 1 wide, under 3
    // pixels of the 1999-wide axis, so it is widened to 3 pixels about 700.
    const px3 = (3 * 1999) / SERIES_CHART_WIDTH;
    const spans = rowsOf(flagged!);
    assert.deepEqual(spans[0], { from: 399.5, to: 450.5, kind: 'flagged' });
    assert.ok(Math.abs((spans[1]!['from'] as number) - (700 - px3 / 2)) < 1e-9 && Math.abs((spans[1]!['to'] as number) - (700 + px3 / 2)) < 1e-9);
    assert.deepEqual(rowsOf(labelled!), [{ from: 379.5, to: 500.5, kind: 'labelled anomaly' }]);
  }
  const fill = (layersOf(spec, 0, 'rect')[0]!['encoding'] as Json)['fill'] as { scale: { domain: string[] } };
  assert.deepEqual(fill.scale.domain, ['flagged', 'labelled anomaly']);
  // Without labels or flags there is nothing to shade and no legend entry for them.
  assert.equal(layersOf(seriesChartSpec(input(100)), 0, 'rect').length, 0);
});

test('the spec: missing values are gaps (null rows that break the line), not interpolated; a point alone between gaps is a dot', () => {
  const values = Float64Array.from({ length: 60 }, (_, i) => i);
  for (const i of [10, 11, 12, 30, 32]) values[i] = NaN;
  const spec = seriesChartSpec(input(60, { channels: [{ name: 'a', values }] }));
  const [line] = layersOf(spec, 0, 'line');
  assert.equal((line!['mark'] as Json)['invalid'], 'break-paths-show-domains');
  const rows = rowsOf(line!);
  assert.deepEqual(rows.filter((r) => r['value'] === null).map((r) => r['t']), [10, 30, 32], 'one null row per missing run');
  assert.equal(rows.length, 60 - 2, 'every other point as it is');
  assert.deepEqual(rows.filter((r) => r['value'] !== null).map((r) => r['value']), [...values].filter((v) => !Number.isNaN(v)));
  assert.deepEqual(rowsOf(layersOf(spec, 0, 'point')[0]!).map((r) => r['t']), [31], 'point 31 alone between gaps');
});

test('the drawn SVG breaks each line at its missing runs: one move-to per observed run', async () => {
  const a = Float64Array.from({ length: 200 }, (_, i) => Math.sin(i / 9));
  const b = Float64Array.from({ length: 200 }, (_, i) => Math.cos(i / 13));
  for (let i = 50; i < 60; i++) a[i] = NaN; // a: 2 runs
  for (const i of [20, 100, 101, 150]) b[i] = NaN; // b: 4 runs
  const scores = Float64Array.from({ length: 200 }, (_, i) => (i < 10 ? NaN : 1 + Math.sin(i))); // scores: 1 run
  const chart = await seriesChart(input(200, { channels: [{ name: 'a', values: a }, { name: 'b', values: b }], scores, threshold: 1.5 }));
  const moves = linePaths(chart.svg).map((d) => (d.match(/M/g) ?? []).length);
  assert.deepEqual(moves, [2, 4, 1]);
  const words = texts(chart.svg);
  for (const w of ['A series', 'a', 'b', 'value', 'anomaly score', 'point', 'threshold 1.5']) assert.ok(words.includes(w), w);
});

test('a long series is drawn from each pixel bucket\'s min and max: its spikes stay, the subtitle says so, and it renders quickly', async () => {
  const n = 20_000;
  const rng = new Random(11);
  const start = Date.UTC(2014, 1, 14, 14, 30);
  const times = ramp(n, 300_000, start);
  const values = Float64Array.from({ length: n }, (_, i) => 50 + 10 * Math.sin(i / 46) + rng.normal());
  values[7000] = 120;
  values[15000] = -30;
  const scores = Float64Array.from(values, (v) => Math.abs(v - 50));
  const began = performance.now();
  const chart = await seriesChart({
    title: 'Long', times, timeKind: 'date', channels: [{ name: 'value', values }], scores, threshold: 40,
    flaggedIntervals: [{ start: 7000, end: 7000 }, { start: 15000, end: 15000 }], labelIntervals: [{ start: 6800, end: 7200 }],
  });
  const seconds = (performance.now() - began) / 1000;
  assert.ok(seconds < 20, `drawn in ${seconds.toFixed(1)} s`);
  const rows = rowsOf(layersOf(chart.spec, 0, 'line')[0]!);
  assert.ok(rows.length <= 2 * SERIES_CHART_WIDTH, `${rows.length} rows drawn of ${n}`);
  assert.ok(rows.some((r) => r['t'] === times[7000] && r['value'] === 120), 'the high spike');
  assert.ok(rows.some((r) => r['t'] === times[15000] && r['value'] === -30), 'the low spike');
  const title = (chart.spec as { title: { subtitle: string } }).title;
  assert.match(title.subtitle, /^20,000 points, drawn from the lowest and highest value of each of 880 time buckets/);
  assert.ok(chart.svg.length < 400_000, `an SVG of ${chart.svg.length} characters`);
  assert.ok(texts(chart.svg).includes('time (UTC): 2014-02-14 14:30 to 2014-04-25 01:05'));
  // A short series says nothing of downsampling.
  assert.equal((seriesChartSpec(input(100)) as { title: unknown }).title, 'A series');
});

test('date times are drawn in UTC whatever the machine\'s time zone', async () => {
  const zone = process.env['TZ'];
  process.env['TZ'] = 'Asia/Kolkata';
  try {
    const start = Date.UTC(2020, 0, 1);
    const times = ramp(100, 15 * 60_000, start);
    const chart = await seriesChart(input(100, { times, timeKind: 'date' }));
    const words = texts(chart.svg);
    assert.ok(words.includes('Jan 1 00:00') && words.includes('Jan 1 12:00'), words.join(' | '));
    assert.ok(words.includes('time (UTC): 2020-01-01 00:00 to 2020-01-02 00:45'));
  } finally {
    if (zone === undefined) delete process.env['TZ'];
    else process.env['TZ'] = zone;
  }
});

test('a date axis labelled with days, months or years has one tick each (never two ticks with one label)', async () => {
  const cases = [
    { step: 5 * 60_000, n: 7 * 288, first: 'Mar 4', pattern: /^Mar \d+$/ },
    { step: 3_600_000, n: 24 * 200, first: 'Jan 2024', pattern: /^[A-Z][a-z]{2} 2024$/ },
  ];
  for (const c of cases) {
    const times = ramp(c.n, c.step, Date.UTC(2024, c.first === 'Mar 4' ? 2 : 0, c.first === 'Mar 4' ? 4 : 1));
    const words = texts((await seriesChart(input(c.n, { times, timeKind: 'date' }))).svg).filter((w) => c.pattern.test(w));
    assert.ok(words.length >= 5, words.join(' | '));
    assert.equal(new Set(words).size, words.length, `each label once: ${words.join(' | ')}`);
    assert.equal(words[0], c.first);
  }
});

test('the PNG is the SVG drawn at twice its size, with the flagged red and the labelled purple in it', async () => {
  const chart = await seriesChart(input(300, { threshold: 0.9, flaggedIntervals: [{ start: 100, end: 140 }], labelIntervals: [{ start: 90, end: 150 }] }));
  const png = PNG.sync.read(Buffer.from(chart.png));
  const m = /^<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(chart.svg)!;
  assert.equal(png.width, Math.round(Number(m[1]) * 2));
  assert.equal(png.height, Math.round(Number(m[2]) * 2));
  const count = (rgb: [number, number, number]): number => {
    let k = 0;
    for (let i = 0; i < png.data.length; i += 4) if (png.data[i] === rgb[0] && png.data[i + 1] === rgb[1] && png.data[i + 2] === rgb[2]) k++;
    return k;
  };
  assert.ok(count([0xf6, 0xc4, 0xc4]) > 10_000, 'the flagged shading');
  assert.ok(count([0x6a, 0x51, 0xa3]) > 1000, 'the labelled band');
  assert.deepEqual(chart.warnings, []);
});

test('bad input is refused with one sentence', () => {
  const refuse = (overrides: Partial<SeriesChartInput>, pattern: RegExp, n = 10): void => {
    assert.throws(() => seriesChartSpec(input(n, overrides)), (err: unknown) => err instanceof VaekitError && pattern.test(err.message) && /\.$/.test(err.message));
  };
  refuse({ times: Float64Array.from([0, 1, 1, 2, 3, 4, 5, 6, 7, 8]) }, /times must increase, but point 2's \(1\) is not after point 1's/);
  refuse({ times: new Float64Array(0), channels: [{ name: 'v', values: new Float64Array(0) }], scores: new Float64Array(0) }, /at least one point/);
  refuse({ scores: new Float64Array(9) }, /the scores has 9 for 10 times/);
  refuse({ channels: [{ name: 'v', values: Float64Array.from({ length: 10 }, (_, i) => (i === 4 ? Infinity : i)) }] }, /"v" has Infinity at point 4/);
  refuse({ channels: [] }, /at least one channel/);
  refuse({ channels: [{ name: 'v', values: new Float64Array(10) }, { name: 'v', values: new Float64Array(10) }] }, /distinct names/);
  refuse({ threshold: NaN }, /threshold must be a finite number/);
  refuse({ flaggedIntervals: [{ start: 5, end: 10 }] }, /flagged interval must run .* not from 5 to 10/);
  refuse({ labelIntervals: [{ start: 5, end: 4 }] }, /labelled interval/);
});

test('seriesFigure: a series\' channels, its points above the threshold as flagged runs and its labels as labelled runs', async () => {
  const points = 120;
  const channels = ['a', 'b'];
  const values = new Float32Array(points * 2);
  for (let t = 0; t < points; t++) {
    values[t * 2] = Math.sin(t / 6);
    values[t * 2 + 1] = t === 50 ? NaN : Math.cos(t / 9);
  }
  const labels = Uint8Array.from({ length: points }, (_, t) => (t >= 30 && t <= 39) || t === 100 ? 1 : 0);
  const series: Series = {
    name: 'machine.csv', time: 'number', timestamps: ramp(points, 10), values,
    mask: Uint8Array.from(values, (v) => (Number.isNaN(v) ? 0 : 1)), channels, labels,
  };
  const scores = Float64Array.from({ length: points }, (_, t) => (t < 5 ? NaN : (t >= 33 && t <= 36) || t === 90 ? 5 : 1));
  scores[60] = 2; // at the threshold: not flagged (strictly above flags)
  const chart = await seriesFigure(series, scores, 2, { subtitle: 'a model' });
  const spec = chart.spec;
  assert.equal((spec as { title: { text: string } }).title.text, 'Anomaly scores of machine.csv');
  const [flagged, labelled] = layersOf(spec, 1, 'rect').map(rowsOf);
  // Runs 33..36 and 90..90 at times 10 t: half a step (5) either side.
  assert.deepEqual(flagged!.map((r) => [r['from'], r['to']]), [[325, 365], [895, 905]]);
  assert.deepEqual(labelled!.map((r) => [r['from'], r['to']]), [[295, 395], [995, 1005]]);
  const rows = rowsOf(layersOf(spec, 0, 'line')[0]!);
  assert.deepEqual(rows.filter((r) => r['channel'] === 'b' && r['value'] === null).map((r) => r['t']), [500], 'b\'s missing point 50');
  assert.equal(rows.filter((r) => r['channel'] === 'a').length, points);
  assert.ok(texts(chart.svg).includes('a'), 'the channel legend');
  await assert.rejects(seriesFigure(series, scores.subarray(1), 2), /has 120 points but 119 scores/);
});
