// The baselines beside a series model as per-point scores (src/anomaly/baselines/series.ts), against
// direct recomputation: the window baselines fitted and scored by hand, each point the mean of the
// windows covering it counted out by hand, the rolling z-score from its definition.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitIsolationForest, fitPca } from '../src/anomaly/baselines/index.js';
import { datasetRows } from '../src/anomaly/baselines/rows.js';
import { seriesBaselineScores } from '../src/anomaly/baselines/series.js';
import { arrayDataset } from '../src/data/dataset.js';
import type { Series } from '../src/data/sources/series.js';
import { seriesWindows } from '../src/data/transforms/windows.js';
import { Random } from '../src/engine/random.js';
import { makeSeries } from './helpers/series.js';
import { VaekitError } from '../src/errors.js';

const T = 1000;
const W = 10;
const SPIKE = 770;

/** A noisy sine with one spike at SPIKE, after the training half. */
function spiked(): Series {
  const rng = new Random(5);
  return makeSeries(T, 1, (t) => 2 + Math.sin((2 * Math.PI * t) / 25) + 0.1 * rng.normal() + (t === SPIKE ? 6 : 0));
}

function argmax(xs: Float64Array): number {
  let best = -1;
  for (let i = 0; i < xs.length; i++) if (!Number.isNaN(xs[i]!) && (best < 0 || xs[i]! > xs[best]!)) best = i;
  return best;
}

/** Point t's score by hand: the mean of the scores of the windows (one every `stride`, of W points) that cover it; NaN for none. */
function coveringMean(windowScores: Float64Array, t: number, stride: number): number {
  let sum = 0;
  let n = 0;
  for (let k = 0; k < windowScores.length; k++) {
    const start = k * stride;
    if (start <= t && t < start + W) {
      sum += windowScores[k]!;
      n++;
    }
  }
  return n === 0 ? Number.NaN : sum / n;
}

test('series baselines: PCA, isolation forest and the rolling z-score each rank a planted spike first; the window baselines give each point the mean of its covering windows', () => {
  const series = [spiked()];
  const cut = seriesWindows(series, { window: W, trainUntil: 0.5 });
  const results = seriesBaselineScores(cut.train, cut.all, series, { seed: 3 });
  assert.deepEqual(results.map((r) => r.name), ['pca', 'isolation-forest', 'rolling-zscore']);
  for (const r of results) {
    assert.equal(r.points.length, 1);
    assert.equal(r.points[0]!.length, T);
    assert.equal(argmax(r.points[0]!), SPIKE, `${r.name} ranks the spike first`);
  }

  // The window baselines fitted and scored directly, then averaged over the covering windows by hand.
  const train = datasetRows(cut.train);
  const all = datasetRows(cut.all);
  const direct = {
    pca: fitPca(train, W).score(all),
    'isolation-forest': fitIsolationForest(train, W, { seed: 3 }).score(all),
  };
  for (const [name, windowScores] of Object.entries(direct)) {
    const points = results.find((r) => r.name === name)!.points[0]!;
    for (const t of [0, 4, 9, 150, SPIKE - 3, SPIKE, SPIKE + 9, T - 1]) {
      const expected = coveringMean(windowScores, t, 1);
      assert.ok(Math.abs(points[t]! - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `${name} at ${t}: ${points[t]} vs ${expected}`);
    }
  }
  // Point 0 lies in window 0 only; the spike in windows SPIKE - 9 .. SPIKE.
  const pca = results[0]!.points[0]!;
  assert.equal(pca[0], direct.pca[0]);

  // The rolling z-score from its definition, over the W points before each (standardized by the training half).
  const { mean, std } = cut.standardization;
  const x = Array.from(series[0]!.values, (v) => (v - mean[0]!) / std[0]!);
  const z = results[2]!.points[0]!;
  for (const t of [0, 2, W - 1]) assert.ok(Number.isNaN(z[t]!), `rolling z-score at ${t}: fewer than W points before it, NaN`);
  for (const t of [W, W + 1, 50, SPIKE, SPIKE + 1, T - 1]) {
    const before = x.slice(t - W, t);
    const m = before.reduce((a, b) => a + b, 0) / W;
    const s = Math.sqrt(before.reduce((a, b) => a + (b - m) ** 2, 0) / W);
    const expected = Math.abs(x[t]! - m) / Math.max(s, 1e-6);
    assert.ok(Math.abs(z[t]! - expected) <= 1e-9 * Math.max(1, expected), `rolling z-score at ${t}: ${z[t]} vs ${expected}`);
  }
});

test('series baselines: points no window covers are NaN; the rolling z-score skips missing values per channel and is NaN where every channel is missing', () => {
  const N = 300;
  const rng = new Random(8);
  // Channel 1 is missing at 40..44 (and 3, within its first W values); both channels at 60.
  const series = [makeSeries(N, 2, (t, c) => {
    if (t === 60 || (c === 1 && ((t >= 40 && t < 45) || t === 3))) return Number.NaN;
    return c + Math.cos(t / (4 + c)) + 0.2 * rng.normal();
  })];
  const stride = 3;
  const cut = seriesWindows(series, { window: W, stride, trainUntil: 0.5 });
  const [pca, forest, rolling] = seriesBaselineScores(cut.train, cut.all, series, { seed: 1 });
  // Windows start at 0, 3, ..., 288 and the last ends at 297: points 298 and 299 are in none.
  for (const r of [pca!, forest!]) {
    assert.ok(Number.isNaN(r.points[0]![N - 1]!) && Number.isNaN(r.points[0]![N - 2]!), `${r.name}: uncovered points are NaN`);
    assert.ok(Number.isFinite(r.points[0]![N - 3]!), `${r.name}: point 297 is covered`);
    assert.ok(Number.isFinite(r.points[0]![60]!), `${r.name}: a missing point inside covered windows still has its windows' score`);
  }
  const pcaDirect = fitPca(datasetRows(cut.train), 2 * W).score(datasetRows(cut.all));
  for (const t of [0, 2, 3, 60, 150, 297]) assert.ok(Math.abs(pca!.points[0]![t]! - coveringMean(pcaDirect, t, stride)) < 1e-9, `PCA at ${t}`);

  const z = rolling!.points[0]!;
  assert.ok(Number.isNaN(z[60]!), 'every channel missing: NaN');
  // Each channel against its previous W observed values, standardized; the point's score the largest.
  const { mean, std } = cut.standardization;
  const observed = (c: number): Array<{ t: number; x: number }> => {
    const out: Array<{ t: number; x: number }> = [];
    for (let t = 0; t < N; t++) if (series[0]!.mask[2 * t + c] === 1) out.push({ t, x: (series[0]!.values[2 * t + c]! - mean[c]!) / std[c]! });
    return out;
  };
  const zOf = (c: number, t: number): number | null => {
    const points = observed(c);
    const k = points.findIndex((p) => p.t === t);
    if (k < W) return null;
    const before = points.slice(k - W, k).map((p) => p.x);
    const m = before.reduce((a, b) => a + b, 0) / W;
    const s = Math.sqrt(before.reduce((a, b) => a + (b - m) ** 2, 0) / W);
    return Math.abs(points[k]!.x - m) / Math.max(s, 1e-6);
  };
  // Channel 0 has W observed values before point W, channel 1 (missing at 3) only before W + 1.
  assert.ok(Number.isNaN(z[W - 1]!));
  assert.equal(zOf(1, W), null);
  for (const t of [W, W + 1, 42, 45, 50, 61, 62, 70, 200]) {
    const zs = [zOf(0, t), zOf(1, t)].filter((v): v is number => v !== null);
    const expected = Math.max(...zs);
    assert.ok(Math.abs(z[t]! - expected) < 1e-9 * Math.max(1, expected), `rolling z-score at ${t}: ${z[t]} vs ${expected}`);
  }
});

test('series baselines: windows that are not of a series, or of other series, are refused in a sentence', () => {
  const series = [spiked()];
  const cut = seriesWindows(series, { window: W, trainUntil: 0.5 });
  const plain = arrayDataset({ values: datasetRows(cut.all), shape: [W], source: 'rows.csv' });
  assert.throws(() => seriesBaselineScores(cut.train, plain, series, { seed: 0 }), (err: unknown) => err instanceof VaekitError && /rows\.csv is not one\.$/.test(err.message));
  const shorter = [makeSeries(T - 1, 1, (t) => Math.sin(t))];
  assert.throws(() => seriesBaselineScores(cut.train, cut.all, shorter, { seed: 0 }), (err: unknown) => err instanceof VaekitError && /give the series they were cut from\.$/.test(err.message));
});
