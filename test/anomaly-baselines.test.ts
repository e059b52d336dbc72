// The anomaly baselines (PCA reconstruction error, isolation forest, rolling z-score) against
// closed forms, brute force and independent implementations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PCA } from 'ml-pca';
import { averagePathLength, BASELINES, findBaseline, fitIsolationForest, fitPca, rollingZScores } from '../src/anomaly/baselines/index.js';
import { Random } from '../src/engine/random.js';
import { auroc } from '../src/eval/auroc.js';
import { VaekitError } from '../src/errors.js';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** `k` orthonormal vectors in R^d (Gram-Schmidt on normals). */
function orthonormal(k: number, d: number, rng: Random): Float64Array[] {
  const out: Float64Array[] = [];
  while (out.length < k) {
    const v = Float64Array.from({ length: d }, () => rng.normal());
    for (const u of out) {
      const p = dot(u, v);
      for (let j = 0; j < d; j++) v[j] = v[j]! - p * u[j]!;
    }
    const len = Math.sqrt(dot(v, v));
    out.push(v.map((x) => x / len));
  }
  return out;
}

/** mu + sum_c coef[c] dirs[c], one row per coefficient list. */
function combine(mu: Float64Array, dirs: Float64Array[], coefs: number[][]): Float64Array {
  const d = mu.length;
  const out = new Float64Array(coefs.length * d);
  coefs.forEach((cs, i) => {
    for (let j = 0; j < d; j++) out[i * d + j] = mu[j]! + cs.reduce((s, c, k) => s + c * dirs[k]![j]!, 0);
  });
  return out;
}

test('PCA: on a 2-D subspace plus noise it keeps 2 components, an in-subspace point reconstructs to ~0 and an off-subspace point scores its squared distance', () => {
  const rng = new Random(11);
  const d = 10;
  const n = 2000;
  const sigma = 0.01;
  // u1, u2 span the data; w1, w2 are orthogonal to them.
  const [u1, u2, w1, w2] = orthonormal(4, d, rng) as [Float64Array, Float64Array, Float64Array, Float64Array];
  const mu = Float64Array.from({ length: d }, () => 5 * rng.normal());
  // Coefficients along u1 and u2 with standard deviations about 3 and 2, centred and uncorrelated
  // (so that the rows' mean is mu and their principal axes u1 and u2, but for the noise).
  const coefs = Array.from({ length: n }, () => [3 * rng.normal(), 2 * rng.normal()]);
  for (const k of [0, 1]) {
    const m = coefs.reduce((s, c) => s + c[k]!, 0) / n;
    for (const c of coefs) c[k] = c[k]! - m;
  }
  const slope = coefs.reduce((s, c) => s + c[0]! * c[1]!, 0) / coefs.reduce((s, c) => s + c[0]! ** 2, 0);
  for (const c of coefs) c[1] = c[1]! - slope * c[0]!;
  const train = combine(mu, [u1, u2], coefs);
  for (let i = 0; i < train.length; i++) train[i] = train[i]! + sigma * rng.normal();

  const model = fitPca(train, d);
  assert.equal(model.components, 2);
  // Variances 9, 4 along the plane and sigma^2 along each of d axes: the plane's share is (13 + 2 s^2) / (13 + d s^2).
  const share = (13 + 2 * sigma ** 2) / (13 + d * sigma ** 2);
  assert.ok(Math.abs(model.explainedShare - share) < 1e-4, `explained share ${model.explainedShare} vs ${share}`);

  const trainScores = model.score(train);
  const maxTrain = Math.max(...trainScores);
  // In the plane: error ~ 0, off only by the estimated plane's tilt (about sigma / (3 sqrt n) towards each
  // of the d - 2 other axes per unit along u1: a few 1e-6 here, against 8 sigma^2 = 8e-4 for a training row).
  const inPlane = model.score(combine(mu, [u1, u2], [[5, -4], [-2, 1], [0, 0]]));
  for (const e of inPlane) assert.ok(e < 1e-5, `in-subspace error ${e}`);
  // Off the plane by c along w: error c^2 (closed form), far above every training row's.
  const offsets = [0.5, 1, 2];
  const off = model.score(combine(mu, [u1, u2, w1, w2], offsets.map((c, i) => [2 - i, 1, c * 0.6, c * 0.8])));
  offsets.forEach((c, i) => assert.ok(Math.abs(off[i]! - c * c) < 1e-3 * Math.max(1, c * c), `off-subspace error ${off[i]} vs ${c * c}`));
  assert.ok(Math.min(...off) > 50 * maxTrain, `off-subspace ${Math.min(...off)} vs training rows' largest ${maxTrain}`);

  // One component (u1's): a point along u2 by b scores b^2.
  const one = fitPca(train, d, { components: 1 });
  assert.equal(one.components, 1);
  const [along2] = one.score(combine(mu, [u2], [[1.5]]));
  assert.ok(Math.abs(along2! - 2.25) < 1e-3, `one-component error ${along2} vs 2.25`);
});

test("PCA: scores match ml-pca's own SVD fit, projected and inverted, on random data (float32 rows too)", () => {
  const rng = new Random(5);
  const d = 7;
  const n = 300;
  const scales = [4, 3, 2, 1.5, 1, 0.5, 0.2];
  const train = Float64Array.from({ length: n * d }, (_, i) => scales[i % d]! * rng.normal() + (i % d));
  const test = Float64Array.from({ length: 50 * d }, (_, i) => 2 * scales[i % d]! * rng.normal() + (i % d));
  for (const k of [0, 1, 3, 6, 7]) {
    const scores = fitPca(train, d, { components: k }).score(test);
    const rowsOf = (x: Float64Array, m: number): number[][] => Array.from({ length: m }, (_, i) => Array.from(x.subarray(i * d, (i + 1) * d)));
    const oracle = new PCA(rowsOf(train, n), { method: 'SVD', center: true });
    const projected = oracle.predict(rowsOf(test, 50));
    for (let i = 0; i < 50; i++) for (let c = k; c < d; c++) projected.set(i, c, 0);
    const reconstructed = oracle.invert(projected);
    for (let i = 0; i < 50; i++) {
      let e = 0;
      for (let j = 0; j < d; j++) e += (test[i * d + j]! - reconstructed.get(i, j)) ** 2;
      assert.ok(Math.abs(scores[i]! - e) < 1e-9 * Math.max(1, e), `k ${k}, row ${i}: ${scores[i]} vs ml-pca ${e}`);
    }
  }
  const asFloat32 = fitPca(Float32Array.from(train), d, { varianceShare: 0.9 }).score(Float32Array.from(test));
  const asFloat64 = fitPca(train, d, { varianceShare: 0.9 }).score(test);
  asFloat64.forEach((e, i) => assert.ok(Math.abs(asFloat32[i]! - e) < 1e-4 * Math.max(1, e)));
});

test('PCA refuses bad shapes and options in one sentence', () => {
  const rows = new Float64Array(12);
  assert.throws(() => fitPca(rows, 5), VaekitError);
  assert.throws(() => fitPca(rows, 12), /at least 2 training rows/);
  assert.throws(() => fitPca(rows, 3, { varianceShare: 1.5 }), /share of variance/);
  assert.throws(() => fitPca(rows, 3, { components: 4 }), /from 0 to 3/);
  assert.throws(() => fitPca(rows, 3, { components: 1, varianceShare: 0.9 }), /not both/);
  assert.throws(() => fitPca(Float64Array.of(1, 2, NaN, 4), 2), /not a finite number/);
  assert.throws(() => fitPca(Float64Array.from({ length: 12 }, (_, i) => (i * 7) % 5), 3).score(new Float64Array(4)), /rows of 3/);
});

test('isolation forest: c(n) is 2 H(n-1) - 2 (n-1) / n and solves the random-split recurrence', () => {
  assert.equal(averagePathLength(0), 0);
  assert.equal(averagePathLength(1), 0);
  assert.equal(averagePathLength(2), 1);
  assert.ok(Math.abs(averagePathLength(3) - 5 / 3) < 1e-15);
  assert.ok(Math.abs(averagePathLength(4) - 13 / 6) < 1e-15);
  // The closed form with H summed term by term (the code sums below 64 and uses the asymptotic series above).
  let h = 0; // H(n - 1)
  for (let n = 2; n <= 5000; n++) {
    h += 1 / (n - 1);
    const exact = 2 * h - (2 * (n - 1)) / n;
    assert.ok(Math.abs(averagePathLength(n) - exact) < 1e-12 * exact, `c(${n}) = ${averagePathLength(n)} vs ${exact}`);
  }
  // Independently: a node over n rows splits them into i and n - i, i uniform on 1..n-1, and a
  // random row goes to the side of i rows with chance i / n: c(n) = 1 + sum_i (i c(i) + (n-i) c(n-i)) / (n (n-1)).
  const c = [0, 0];
  for (let n = 2; n <= 400; n++) {
    let s = 0;
    for (let i = 1; i < n; i++) s += i * c[i]! + (n - i) * c[n - i]!;
    c.push(1 + s / (n * (n - 1)));
    assert.ok(Math.abs(averagePathLength(n) - c[n]!) < 1e-12 * c[n]!, `c(${n}) = ${averagePathLength(n)} vs the recurrence's ${c[n]}`);
  }
});

test('isolation forest: closed forms on two rows and on identical rows (every score exactly 0.5)', () => {
  // Two distinct rows: each tree cuts once, every row ends at depth 1 with one row: E[h] = 1 = c(2).
  const two = fitIsolationForest(Float64Array.of(0, 0, 1, 3), 2, { seed: 1 });
  assert.equal(two.subsample, 2);
  for (const s of two.score(Float64Array.of(0, 0, 1, 3, -5, 9, 0.5, 1))) assert.equal(s, 0.5);
  // Identical rows: no feature varies, the root is a leaf of all 256: h = c(256).
  const same = fitIsolationForest(new Float32Array(1000 * 3).fill(2), 3, { seed: 1 });
  for (const s of same.score(Float32Array.of(2, 2, 2, 100, -4, 7))) assert.ok(Math.abs(s - 0.5) < 1e-15, `${s}`);
});

/** Rows of three Gaussian clusters in d dimensions (unit spread, centres 10 apart), then `outliers` rows 6 to 10 from every centre. */
function clustersWithOutliers(rng: Random, d: number, normal: number, outliers: number): { rows: Float64Array; outlier: boolean[] } {
  const centres = [0, 1, 2].map((k) => Float64Array.from({ length: d }, (_, j) => (j === k % d ? 10 * k : 0) + (j === 1 ? 5 * k : 0)));
  const rows = new Float64Array((normal + outliers) * d);
  const outlier: boolean[] = [];
  for (let i = 0; i < normal; i++) {
    const c = centres[i % 3]!;
    for (let j = 0; j < d; j++) rows[i * d + j] = c[j]! + rng.normal();
    outlier.push(false);
  }
  for (let i = normal; i < normal + outliers; i++) {
    for (;;) {
      const x = Float64Array.from({ length: d }, () => -10 + 40 * rng.uniform());
      const nearest = Math.min(...centres.map((c) => Math.sqrt(c.reduce((s, v, j) => s + (v - x[j]!) ** 2, 0))));
      if (nearest > 6) {
        rows.set(x, i * d);
        break;
      }
    }
    outlier.push(true);
  }
  return { rows, outlier };
}

test('isolation forest: planted outliers among Gaussian clusters score an AUROC above 0.95; one seed gives the same scores, another different ones', () => {
  const d = 4;
  const train = clustersWithOutliers(new Random(1), d, 3000, 0).rows;
  const { rows, outlier } = clustersWithOutliers(new Random(2), d, 600, 40);
  const scores = fitIsolationForest(train, d, { seed: 7 }).score(rows);
  const a = auroc(scores, outlier);
  assert.ok(a > 0.95, `AUROC ${a}`);
  for (const s of scores) assert.ok(s > 0 && s <= 1);
  assert.deepEqual(fitIsolationForest(train, d, { seed: 7 }).score(rows), scores);
  const other = fitIsolationForest(train, d, { seed: 8 }).score(rows);
  assert.ok(other.some((s, i) => s !== scores[i]), 'another seed gave the same scores');
  assert.ok(auroc(other, outlier) > 0.95);
});

test('isolation forest refuses bad options in one sentence', () => {
  const rows = Float64Array.from({ length: 20 }, (_, i) => i);
  assert.throws(() => fitIsolationForest(rows, 20), /at least 2 training rows/);
  assert.throws(() => fitIsolationForest(rows, 2, { trees: 0 }), /trees must be/);
  assert.throws(() => fitIsolationForest(rows, 2, { subsample: 1 }), /subsample must be/);
});

/** Each step's rolling z-score by brute force: two-pass mean and population std of the (up to) W steps before. */
function bruteForceZ(x: ArrayLike<number>, T: number, C: number, W: number, minStd: number): Float64Array {
  const out = new Float64Array(T);
  for (let t = 2; t < T; t++) {
    const from = Math.max(0, t - W);
    let worst = 0;
    for (let c = 0; c < C; c++) {
      const values = Array.from({ length: t - from }, (_, k) => x[(from + k) * C + c]!);
      const m = values.reduce((a, b) => a + b, 0) / values.length;
      const std = Math.max(Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / values.length), minStd);
      worst = Math.max(worst, Math.abs(x[t * C + c]! - m) / std);
    }
    out[t] = worst;
  }
  return out;
}

test('rolling z-score matches brute force on a random series, across a huge spike and with a window longer than the series', () => {
  const rng = new Random(3);
  const T = 700;
  const C = 3;
  // Levels far from 0 and different spreads per channel; a 1e7 spike that later leaves the window.
  const x = Float64Array.from({ length: T * C }, (_, i) => 1000 * (i % C) + (1 + (i % C)) * rng.normal());
  x[200 * C + 1] = 1e7;
  for (const [W, minStd] of [[50, 1e-6], [100, 1e-6], [1000, 0.5], [2, 1e-6]] as const) {
    const fast = rollingZScores(x, C, { window: W, minStd });
    const slow = bruteForceZ(x, T, C, W, minStd);
    for (let t = 0; t < T; t++) {
      assert.ok(Math.abs(fast[t]! - slow[t]!) <= 1e-9 * Math.max(1, slow[t]!), `window ${W}, step ${t}: ${fast[t]} vs ${slow[t]}`);
    }
  }
  const constant = rollingZScores(new Float32Array(50).fill(3), 1);
  assert.ok(constant.every((z) => z === 0));
  assert.throws(() => rollingZScores(x, C, { window: 1 }), /window must be/);
  assert.throws(() => rollingZScores(x, C, { minStd: 0 }), /floor on the standard deviation/);
});

test('rolling z-score flags a planted spike as the highest-scoring step', () => {
  const rng = new Random(9);
  const T = 1000;
  const C = 2;
  // A slowly wandering level (period 500 steps) plus noise of spread 0.1; a spike of 1 (10 spreads) in channel 1.
  const x = Float32Array.from({ length: T * C }, (_, i) => 0.3 * Math.sin((2 * Math.PI * Math.floor(i / C)) / 500 + (i % C)) + 0.1 * rng.normal());
  const spikeAt = 613;
  x[spikeAt * C + 1] = x[spikeAt * C + 1]! + 1;
  // From the first full window on (before it, a few points' spread is a noisy yardstick).
  const z = rollingZScores(x, C).subarray(100);
  const top = z.indexOf(Math.max(...z)) + 100;
  assert.equal(top, spikeAt);
  const others = Math.max(...z.filter((_, t) => t + 100 !== spikeAt));
  assert.ok(z[spikeAt - 100]! > 2 * others, `spike ${z[spikeAt - 100]}, others up to ${others}`);
});

test('the baseline registry names each baseline once, describes it in one line, and fits and scores through one door', () => {
  const names = BASELINES.map((b) => b.name);
  assert.deepEqual(names, ['pca', 'isolation-forest', 'rolling-zscore']);
  const rng = new Random(4);
  const train = Float64Array.from({ length: 200 * 3 }, () => rng.normal());
  const rows = Float64Array.from({ length: 30 * 3 }, () => rng.normal());
  for (const b of BASELINES) {
    assert.ok(b.description.length > 20 && !b.description.includes('\n'));
    assert.equal(findBaseline(b.name), b);
    const scores = b.fit(train, 3, 1).score(rows);
    assert.equal(scores.length, 30);
    assert.ok(scores.every(Number.isFinite));
  }
  assert.throws(() => findBaseline('lof'), /Unknown baseline "lof": use pca, isolation-forest, rolling-zscore\./);
});
