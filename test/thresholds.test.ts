// Thresholds from anomaly scores against brute force and closed forms.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Random } from '../src/engine/random.js';
import { VaekitError } from '../src/errors.js';
import { Spot, fitGpd, flagged, fprThreshold, intervals, parseThresholdSpec, potThreshold, quantile, thresholdFor } from '../src/anomaly/thresholds.js';

/** A generalized Pareto draw by inverse CDF (gamma = 0: the exponential). */
function gpd(rng: Random, gamma: number, sigma: number): number {
  const u = 1 - rng.uniform(); // in (0, 1]
  return gamma === 0 ? -sigma * Math.log(u) : (sigma / gamma) * (u ** -gamma - 1);
}

/** The GPD's (1 - q)-quantile: sigma/gamma (q^-gamma - 1), -sigma log q at gamma = 0. */
function gpdQuantile(gamma: number, sigma: number, q: number): number {
  return gamma === 0 ? -sigma * Math.log(q) : (sigma / gamma) * (q ** -gamma - 1);
}

/** The GPD's survival function P(X > z). */
function gpdSurvival(gamma: number, sigma: number, z: number): number {
  return gamma === 0 ? Math.exp(-z / sigma) : Math.max(0, 1 + (gamma * z) / sigma) ** (-1 / gamma);
}

test('quantile matches numpy values worked by hand and a brute force over the sorted array', () => {
  // np.quantile([1, 2, 3, 4], 0.25) = 1.75; np.quantile([3, 1, 4, 1, 5], 0.3) = 1.4 (sorted
  // [1, 1, 3, 4, 5], position 1.2: 1 + 0.2 * (3 - 1)); one value is its own every quantile.
  assert.equal(quantile([1, 2, 3, 4], 0.25), 1.75);
  assert.ok(Math.abs(quantile([3, 1, 4, 1, 5], 0.3) - 1.4) < 1e-12);
  assert.equal(quantile([7], 0.9), 7);
  const rng = new Random(1);
  for (let trial = 0; trial < 50; trial++) {
    const n = 1 + rng.int(12);
    // Few distinct values, so ties are common.
    const values = Array.from({ length: n }, () => rng.int(6) - 2);
    const sorted = [...values].sort((a, b) => a - b);
    for (let k = 0; k <= 20; k++) {
      const q = k / 20;
      // The brute force: the piecewise-linear curve through (i / (n - 1), sorted[i]), read at q
      // by scanning every segment for the one that holds q.
      let expected = sorted[0]!;
      for (let i = 0; i + 1 < n; i++) {
        const q0 = i / (n - 1);
        const q1 = (i + 1) / (n - 1);
        if (q >= q0 && q <= q1) expected = sorted[i]! + ((sorted[i + 1]! - sorted[i]!) * (q - q0)) / (q1 - q0);
      }
      assert.ok(Math.abs(quantile(values, q) - expected) < 1e-12, `quantile ${q} of [${values}]: ${quantile(values, q)} vs ${expected}`);
    }
  }
});

test('fpr:F gives the smallest threshold whose false-positive rate is at most F, checked at every candidate', () => {
  const rng = new Random(2);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + rng.int(15);
    const normal = Array.from({ length: n }, () => rng.int(5));
    const rate = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99][rng.int(8)]!;
    const fpr = (t: number): number => normal.filter((s) => s > t).length / n;
    // The rate only changes at the scores (and is 1 below them all), so the smallest threshold
    // that meets it is the smallest score that does.
    const expected = Math.min(...normal.filter((s) => fpr(s) <= rate));
    assert.equal(fprThreshold(normal, rate), expected, `fpr:${rate} of [${normal}]`);
  }
  // Exact by hand: 10 distinct scores, F = 0.3 allows 3 above: the 7th smallest, 6 (0-based 6).
  assert.equal(fprThreshold([9, 0, 8, 1, 7, 2, 6, 3, 5, 4], 0.3), 6);
  // 0.7 x 90 is 62.99999999999999 in floating point, yet 63 of 90 is exactly 0.7: 27..89 above 26.
  assert.equal(fprThreshold(Array.from({ length: 90 }, (_, i) => i), 0.7), 26);
});

test('threshold specs parse to their kinds, and bad ones say which forms are accepted', () => {
  assert.deepEqual(parseThresholdSpec('quantile:0.99'), { kind: 'quantile', q: 0.99 });
  assert.deepEqual(parseThresholdSpec('fpr:0.01'), { kind: 'fpr', rate: 0.01 });
  assert.deepEqual(parseThresholdSpec('pot:1e-4'), { kind: 'pot', risk: 1e-4, level: 0.98 });
  assert.deepEqual(parseThresholdSpec('pot:0.001:0.95'), { kind: 'pot', risk: 0.001, level: 0.95 });
  assert.deepEqual(parseThresholdSpec(' -3.5 '), { kind: 'value', value: -3.5 });
  for (const bad of ['', 'quantile', 'quantile:1', 'quantile:0', 'fpr:-0.1', 'fpr:abc', 'pot:0', 'pot:0.5:0.99', 'pot:1e-3:1', 'median', '0x10', '1,5', 'quantile:0.5:0.5']) {
    assert.throws(() => parseThresholdSpec(bad), (e: unknown) => e instanceof VaekitError && /^A (threshold|POT risk) must be .*\.$/.test(e.message), bad);
  }
  const normal = [1, 2, 3, 4, 5];
  assert.equal(thresholdFor(parseThresholdSpec('quantile:0.5'), normal), 3);
  assert.equal(thresholdFor(parseThresholdSpec('fpr:0.2'), normal), 4);
  assert.equal(thresholdFor(parseThresholdSpec('12'), []), 12);
  assert.throws(() => thresholdFor(parseThresholdSpec('quantile:0.5'), []), VaekitError);
  assert.throws(() => quantile([1, NaN], 0.5), VaekitError);
});

test('the GPD fit reaches the maximum likelihood a grid search finds, and recovers the true shape and scale', () => {
  const logLikelihood = (y: number[], gamma: number, sigma: number): number =>
    y.reduce((sum, v) => {
      const s = 1 + (gamma * v) / sigma;
      return s > 0 ? sum - Math.log(sigma) - (1 + 1 / gamma) * Math.log(s) : -Infinity;
    }, 0);
  for (const [gamma, seed] of [[0.3, 3], [-0.3, 4], [0.6, 5]] as const) {
    const rng = new Random(seed);
    const y = Array.from({ length: 4000 }, () => gpd(rng, gamma, 2));
    const fit = fitGpd(y);
    // Standard errors at n = 4000 are about (1 + gamma) / sqrt(n) = 0.02 for gamma.
    assert.ok(Math.abs(fit.gamma - gamma) < 0.08, `gamma ${fit.gamma} vs ${gamma}`);
    assert.ok(Math.abs(fit.sigma / 2 - 1) < 0.1, `sigma ${fit.sigma} vs 2`);
    // No point of a coarse grid around the truth, nor a close neighbour of the fit, does better.
    let best = -Infinity;
    for (let g = gamma - 0.3; g <= gamma + 0.3; g += 0.02) {
      for (let s = 1.4; s <= 2.6; s += 0.02) if (Math.abs(g) > 1e-9) best = Math.max(best, logLikelihood(y, g, s));
    }
    for (const [dg, ds] of [[1e-3, 0], [-1e-3, 0], [0, 1e-3], [0, -1e-3], [1e-3, 1e-3], [-1e-3, -1e-3], [1e-3, -1e-3], [-1e-3, 1e-3]]) {
      best = Math.max(best, logLikelihood(y, fit.gamma + dg!, fit.sigma + ds!));
    }
    assert.ok(fit.logLikelihood >= best - 1e-6, `fit ${fit.logLikelihood} below the search's ${best}`);
    assert.ok(Math.abs(fit.logLikelihood - logLikelihood(y, fit.gamma, fit.sigma)) < 1e-6 * Math.abs(best));
  }
  // Equal excesses: no root of w exists, and the exponential fallback (gamma 0, sigma = mean) is the fit.
  const flat = fitGpd([2, 2, 2, 2]);
  assert.equal(flat.gamma, 0);
  assert.equal(flat.sigma, 2);
});

test('POT extrapolates the (1 - risk)-quantile of exponential and generalized Pareto scores', () => {
  // 50,000 scores, t at their 0.98-quantile (1,000 excesses), risk 1e-3: a twentieth of the way
  // beyond t's tail share. Over 30 seeds the relative error's RMS was 0.014 (gamma 0), 0.032
  // (0.25) and 0.005 (-0.25), gamma's about 0.035: the bounds are about 3 of those.
  for (const [gamma, tolerance, seed] of [[0, 0.05, 11], [0.25, 0.1, 12], [-0.25, 0.02, 13]] as const) {
    const rng = new Random(seed);
    const scores = Array.from({ length: 50_000 }, () => 10 + gpd(rng, gamma, 2));
    const fit = potThreshold(scores, 1e-3);
    const exact = 10 + gpdQuantile(gamma, 2, 1e-3);
    assert.ok(Math.abs(fit.threshold - exact) / (exact - 10) < tolerance, `gamma ${gamma}: z ${fit.threshold} vs ${exact}`);
    assert.ok(Math.abs(fit.gamma - gamma) < 0.12, `fitted gamma ${fit.gamma} vs ${gamma}`);
    assert.equal(fit.peaks, 1000);
    assert.ok(Math.abs(fit.initial - (10 + gpdQuantile(gamma, 2, 0.02))) < 0.1 * (fit.initial - 10));
    // The spec string reaches the same number.
    assert.equal(thresholdFor(parseThresholdSpec('pot:0.001'), scores), fit.threshold);
  }
  const few = Array.from({ length: 200 }, (_, i) => i);
  assert.throws(() => potThreshold(few, 1e-3), /at least 10 calibration scores above/);
  // 1,980 tied scores and 20 above: t = 0 and only 1% of the scores exceed it.
  const tied = Array.from({ length: 2000 }, (_, i) => Math.max(0, i - 1979));
  assert.throws(() => potThreshold(tied, 0.015), /below the share of calibration scores above the initial threshold \(0\.01\)/);
});

test('SPOT flags about a share RISK of fresh scores from the calibration distribution', () => {
  // Flagged scores never reach the model, so over a long anomaly-free stream the tail looks
  // lighter and the threshold creeps down; over a stream as long as the calibration set the
  // true exceedance of the threshold in use averaged 1.06 to 1.6 x RISK over 6 seeds.
  const risk = 1e-3;
  for (const [gamma, seed] of [[0, 21], [0.2, 22]] as const) {
    const rng = new Random(seed);
    const spot = new Spot(Array.from({ length: 20_000 }, () => gpd(rng, gamma, 1)), risk);
    let flags = 0;
    let exceedance = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      exceedance += gpdSurvival(gamma, 1, spot.threshold) / n;
      if (spot.update(gpd(rng, gamma, 1))) flags++;
    }
    assert.ok(exceedance > 0.7 * risk && exceedance < 2 * risk, `gamma ${gamma}: mean exceedance ${exceedance}`);
    // About 20 to 30 flags expected: Poisson's spread on top.
    assert.ok(flags / n > 0.3 * risk && flags / n < 3 * risk, `gamma ${gamma}: flagged share ${flags / n}`);
  }
});

test('SPOT refits on an unflagged peak, and leaves a flagged score and a score below t out', () => {
  const rng = new Random(31);
  const calibration = Array.from({ length: 5000 }, () => gpd(rng, 0, 1));
  const risk = 1e-3;
  const spot = new Spot(calibration, risk);
  const before = spot.threshold;
  assert.equal(spot.update(spot.initial - 0.5), false);
  // A score below t only counts towards n; the threshold waits for the next peak (SPOT's rule).
  assert.equal(spot.threshold, before);
  const z = spot.threshold;
  assert.equal(spot.update(z + 100), true);
  assert.equal(spot.threshold, z);
  const peak = spot.initial + 0.5 * (z - spot.initial);
  assert.equal(spot.update(peak), false);
  // The oracle: a batch fit to the calibration excesses plus the new one, with n = 5000 + 2 (the
  // flagged score not counted) and N_t = 100 + 1, through the closed form for z_q.
  const excesses = calibration.filter((s) => s > spot.initial).map((s) => s - spot.initial);
  assert.equal(excesses.length, 100);
  excesses.push(peak - spot.initial);
  const fit = fitGpd(excesses);
  const expected = spot.initial + (fit.sigma / fit.gamma) * (((risk * 5002) / 101) ** -fit.gamma - 1);
  assert.ok(Math.abs(spot.threshold - expected) < 1e-9 * expected, `${spot.threshold} vs ${expected}`);
  assert.notEqual(spot.threshold, z);
  assert.throws(() => spot.update(NaN), VaekitError);
});

test('flagged lists the scores strictly above the threshold, and intervals the runs of flags', () => {
  assert.deepEqual(flagged([0.1, 0.5, 0.9, 0.5, 1.2], 0.5), [2, 4]);
  const flags = [false, true, true, false, true, false, false, true];
  assert.deepEqual(intervals(flags), [[1, 2], [4, 4], [7, 7]]);
  assert.deepEqual(intervals(flags, [10, 20, 30, 40, 50, 60, 70, 80]), [[20, 30], [50, 50], [80, 80]]);
  assert.deepEqual(intervals([]), []);
  assert.deepEqual(intervals([true, true]), [[0, 1]]);
  assert.throws(() => intervals(flags, [1, 2]), /8 flags but 2 timestamps/);
  // Random flags against a brute force: every flagged point lies in exactly one run, runs are
  // separated by at least one unflagged point.
  const rng = new Random(41);
  for (let trial = 0; trial < 100; trial++) {
    const f = Array.from({ length: rng.int(30) }, () => rng.uniform() < 0.4);
    const runs = intervals(f);
    const covered = f.map((_, i) => runs.filter(([s, e]) => s <= i && i <= e).length);
    f.forEach((v, i) => assert.equal(covered[i], v ? 1 : 0));
    for (let k = 1; k < runs.length; k++) assert.ok(runs[k]![0] > runs[k - 1]![1] + 1);
  }
});
