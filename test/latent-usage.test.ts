// Mutual information and active units against closed forms.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Random } from '../src/engine/random.js';
import { activeUnits, mutualInformation } from '../src/eval/latent-usage.js';

/** [n, 2L] posterior rows with the given means (n x L) and one log-variance for all. */
function posterior(means: number[][], logvar: number): Float32Array {
  const L = means[0]!.length;
  const out = new Float32Array(means.length * 2 * L);
  means.forEach((m, i) => m.forEach((v, d) => {
    out[i * 2 * L + d] = v;
    out[i * 2 * L + L + d] = logvar;
  }));
  return out;
}

test('active units count the dimensions whose posterior mean varies by more than 0.01', () => {
  const rng = new Random(3);
  const n = 2000;
  // Dimension 0: variance 1; 1: variance 0.0001; 2: variance 0.04; 3: constant.
  const means = Array.from({ length: n }, () => [rng.normal(), 0.01 * rng.normal(), 0.2 * rng.normal(), 5]);
  assert.equal(activeUnits(posterior(means, 0), n, 4), 2);
});

test('mutual information is 0 when every example has the same posterior, and log K for K well-separated clusters', () => {
  // The estimate is a Monte Carlo one (one z per example): its standard error here is about
  // sqrt(L / 2) / sqrt(n) = 0.016 nats.
  const n = 4000;
  const same = Array.from({ length: n }, () => [0.3, -1]);
  const mi0 = mutualInformation(posterior(same, Math.log(0.5)), n, 2, new Random(1));
  assert.ok(Math.abs(mi0) < 0.05, `MI of identical posteriors: ${mi0}`);
  for (const K of [2, 4]) {
    const clusters = Array.from({ length: n }, (_, i) => [20 * (i % K), 0]);
    const mi = mutualInformation(posterior(clusters, Math.log(0.01)), n, 2, new Random(2));
    assert.ok(Math.abs(mi - Math.log(K)) < 0.05, `MI of ${K} separated clusters: ${mi} vs log ${K} = ${Math.log(K)}`);
  }
});

test('mutual information of a Gaussian channel approaches its closed form 1/2 log(1 + s^2/t^2) per dimension', () => {
  // x-means ~ N(0, s^2), q(z|x) = N(mean, t^2): I(x; z) = 1/2 log(1 + s^2 / t^2).
  const rng = new Random(7);
  const n = 3000;
  const s = 1;
  const t = 0.5;
  const means = Array.from({ length: n }, () => [s * rng.normal()]);
  const mi = mutualInformation(posterior(means, Math.log(t * t)), n, 1, new Random(8));
  const exact = 0.5 * Math.log(1 + (s * s) / (t * t));
  assert.ok(Math.abs(mi - exact) < 0.05, `MI ${mi} vs ${exact}`);
});

test('a model without a latent code has no mutual information', () => {
  assert.equal(mutualInformation(new Float32Array(0), 10, 0, new Random(0)), 0);
});
