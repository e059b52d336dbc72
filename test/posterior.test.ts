// The diagonal Gaussian posterior's functions (src/vae/posterior.ts) on both backends: each forward
// against an independent oracle (the density written out, quadrature of the entropy and KL
// integrals), each backward against finite differences of its forward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../src/engine/backend.js';
import { JsBackend } from '../src/engine/js-backend.js';
import { loadNativeBackend } from '../src/engine/native-backend.js';
import { Random } from '../src/engine/random.js';
import {
  klPerDimension, klPerDimensionBackward, klToStandardNormal, logDensity, negativeEntropy, negativeEntropyBackward,
  reparameterize, reparameterizeBackward,
} from '../src/vae/posterior.js';
import { assertGradient, numericGradient } from './helpers/gradient-check.js';

const backends: Backend[] = [new JsBackend(), loadNativeBackend()];
const ROWS = 3;
const L = 4;

/** meanLogvar [rows, 2L]: means ~ N(0, 1), log-variances ~ N(-0.3, 0.5^2). */
function posterior(seed: number, rows = ROWS): Float32Array {
  const rng = new Random(seed);
  const out = new Float32Array(rows * 2 * L);
  for (let r = 0; r < rows; r++) {
    for (let d = 0; d < L; d++) {
      out[r * 2 * L + d] = rng.normal();
      out[r * 2 * L + L + d] = -0.3 + 0.5 * rng.normal();
    }
  }
  return out;
}

function normals(seed: number, n: number): Float32Array {
  const out = new Float32Array(n);
  new Random(seed).fillNormal(out);
  return out;
}

/** Each row of meanLogvar k times in a row. */
function repeated(meanLogvar: Float32Array, rows: number, k: number): Float32Array {
  const out = new Float32Array(rows * k * 2 * L);
  for (let s = 0; s < rows * k; s++) out.set(meanLogvar.subarray(Math.floor(s / k) * 2 * L, (Math.floor(s / k) + 1) * 2 * L), s * 2 * L);
  return out;
}

/** Simpson's rule for f over mu +- 12 sigma. */
function integrate(f: (z: number) => number, mu: number, sigma: number): number {
  const n = 4000;
  const a = mu - 12 * sigma;
  const h = (24 * sigma) / n;
  let s = f(a) + f(a + n * h);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

function normalPdf(z: number, mu: number, sigma: number): number {
  return Math.exp(-0.5 * ((z - mu) / sigma) ** 2) / (sigma * Math.sqrt(2 * Math.PI));
}

/** The integral of q log(q / p) over one dimension (p = 1: -H; p = N(0, 1): the KL). */
function crossIntegral(mu: number, logvar: number, p: (z: number) => number): number {
  const sigma = Math.exp(0.5 * logvar);
  return integrate((z) => {
    const q = normalPdf(z, mu, sigma);
    return q === 0 ? 0 : q * Math.log(q / p(z));
  }, mu, sigma);
}

const standardNormal = (z: number): number => normalPdf(z, 0, 1);
const mean = (ml: Float32Array, r: number, d: number): number => ml[r * 2 * L + d]!;
const logvar = (ml: Float32Array, r: number, d: number): number => ml[r * 2 * L + L + d]!;

for (const b of backends) {
  test(`${b.name}: reparameterize gives mean + exp(0.5 logvar) eps, and logDensity the Gaussian log-density there`, () => {
    const ml = posterior(1);
    const eps = normals(2, ROWS * L);
    const z = new Float32Array(ROWS * L);
    reparameterize(b, ml, eps, z, ROWS, L);
    const logq = new Float64Array(ROWS);
    logDensity(ml, eps, ROWS, L, logq);
    for (let r = 0; r < ROWS; r++) {
      let expected = 0;
      for (let d = 0; d < L; d++) {
        const sigma = Math.exp(0.5 * logvar(ml, r, d));
        const zd = mean(ml, r, d) + sigma * eps[r * L + d]!;
        assert.ok(Math.abs(z[r * L + d]! - zd) <= 1e-6 * (1 + Math.abs(zd)), `z[${r}, ${d}]`);
        expected += Math.log(normalPdf(zd, mean(ml, r, d), sigma));
      }
      assert.ok(Math.abs(logq[r]! - expected) < 1e-9, `log q row ${r}: ${logq[r]} vs ${expected}`);
    }
  });

  test(`${b.name}: negativeEntropy, klToStandardNormal and klPerDimension equal their integrals`, () => {
    const ml = posterior(3);
    const klRow = new Float32Array(ROWS);
    const klMean = klToStandardNormal(b, ml, ROWS, L, klRow);
    const klDim = new Float64Array(L);
    klPerDimension(ml, ROWS, L, klDim);
    const expectedDim = new Float64Array(L);
    let expectedMean = 0;
    for (let r = 0; r < ROWS; r++) {
      let negH = 0;
      let kl = 0;
      for (let d = 0; d < L; d++) {
        negH += crossIntegral(mean(ml, r, d), logvar(ml, r, d), () => 1);
        const kld = crossIntegral(mean(ml, r, d), logvar(ml, r, d), standardNormal);
        kl += kld;
        expectedDim[d] = expectedDim[d]! + kld / ROWS;
      }
      expectedMean += kl / ROWS;
      assert.ok(Math.abs(negativeEntropy(ml, r, L) - negH) < 1e-7, `-H row ${r}: ${negativeEntropy(ml, r, L)} vs ${negH}`);
      assert.ok(Math.abs(klRow[r]! - kl) < 1e-5 * (1 + kl), `KL row ${r}: ${klRow[r]} vs ${kl}`);
    }
    assert.ok(Math.abs(klMean - expectedMean) < 1e-5 * (1 + expectedMean));
    for (let d = 0; d < L; d++) assert.ok(Math.abs(klDim[d]! - expectedDim[d]!) < 1e-7, `KL dimension ${d}`);
  });

  for (const k of [1, 3]) {
    for (const [klScale, negEntropyScale] of [[0, 0], [0.7, 0], [0, 0.4], [0.7, 0.4]] as const) {
      test(`${b.name}: reparameterizeBackward with ${k} sample(s) per row, KL scale ${klScale}, entropy scale ${negEntropyScale} matches finite differences`, () => {
        const ml = posterior(4);
        const eps = normals(5, ROWS * k * L);
        const dz = normals(6, ROWS * k * L);
        const z = new Float32Array(ROWS * k * L);
        const klRow = new Float32Array(ROWS);
        // f = sum_s dz_s . z_s + klScale sum_r KL_r + negEntropyScale sum_r -H_r
        const f = (): number => {
          reparameterize(b, repeated(ml, ROWS, k), eps, z, ROWS * k, L);
          let s = 0;
          for (let i = 0; i < z.length; i++) s += dz[i]! * z[i]!;
          s += klScale * ROWS * klToStandardNormal(b, ml, ROWS, L, klRow);
          for (let r = 0; r < ROWS; r++) s += negEntropyScale * negativeEntropy(ml, r, L);
          return s;
        };
        const analytic = new Float32Array(ROWS * 2 * L).fill(Number.NaN); // written, not added to
        reparameterizeBackward(b, ml, eps, dz, analytic, ROWS, k, L, klScale, negEntropyScale);
        assertGradient(analytic, numericGradient(ml, f, 1e-3), 'd(mean, logvar)');
      });
    }
  }

  test(`${b.name}: reparameterizeBackward with k samples per row is the sum of its samples' one-sample backward passes`, () => {
    const k = 4;
    const ml = posterior(7);
    const eps = normals(8, ROWS * k * L);
    const dz = normals(9, ROWS * k * L);
    const summed = new Float32Array(ROWS * 2 * L);
    reparameterizeBackward(b, ml, eps, dz, summed, ROWS, k, L, 0.5, 0.25);
    const expected = new Float64Array(ROWS * 2 * L);
    const one = new Float32Array(2 * L);
    for (let s = 0; s < ROWS * k; s++) {
      const r = Math.floor(s / k);
      const first = s % k === 0;
      const row = ml.subarray(r * 2 * L, (r + 1) * 2 * L);
      // The KL and entropy terms are per row: count them with the row's first sample.
      reparameterizeBackward(b, row, eps.subarray(s * L, (s + 1) * L), dz.subarray(s * L, (s + 1) * L), one, 1, 1, L,
        first ? 0.5 : 0, first ? 0.25 : 0);
      for (let j = 0; j < 2 * L; j++) expected[r * 2 * L + j] = expected[r * 2 * L + j]! + one[j]!;
    }
    for (let i = 0; i < summed.length; i++) assert.ok(Math.abs(summed[i]! - expected[i]!) < 1e-5 * (1 + Math.abs(expected[i]!)), `element ${i}`);
  });
}

test('negativeEntropyBackward adds the gradient of scale * sum_r -H[q_r], which is also log q(z|x)\'s at fixed eps', () => {
  const ml = posterior(10);
  const eps = normals(11, ROWS * L);
  const start = normals(12, ROWS * 2 * L);
  const analytic = Float32Array.from(start);
  negativeEntropyBackward(analytic, ROWS, L, 0.6);
  const negEntropy = (): number => {
    let s = 0;
    for (let r = 0; r < ROWS; r++) s += 0.6 * negativeEntropy(ml, r, L);
    return s;
  };
  const added = analytic.map((g, i) => g - start[i]!);
  assertGradient(added, numericGradient(ml, negEntropy, 1e-3), 'd(-H)');
  const logq = new Float64Array(ROWS);
  const sumLogq = (): number => {
    logDensity(ml, eps, ROWS, L, logq);
    return 0.6 * logq.reduce((a, v) => a + v, 0);
  };
  assertGradient(added, numericGradient(ml, sumLogq, 1e-3), 'd log q at fixed eps');
});

test('klPerDimensionBackward adds dKlDim . d klDim to the dimensions with a non-zero dKlDim and leaves the others alone', () => {
  const ml = posterior(13);
  const dKlDim = new Float64Array([0.8, 0, -1.3, 0]);
  const start = normals(14, ROWS * 2 * L);
  const analytic = Float32Array.from(start);
  klPerDimensionBackward(ml, dKlDim, analytic, ROWS, L);
  const klDim = new Float64Array(L);
  const f = (): number => {
    klPerDimension(ml, ROWS, L, klDim);
    return klDim.reduce((a, v, d) => a + dKlDim[d]! * v, 0);
  };
  const added = analytic.map((g, i) => g - start[i]!);
  assertGradient(added, numericGradient(ml, f, 1e-3), 'd(KL per dimension)');
  for (let r = 0; r < ROWS; r++) {
    for (const d of [1, 3]) {
      assert.equal(analytic[r * 2 * L + d], start[r * 2 * L + d]);
      assert.equal(analytic[r * 2 * L + L + d], start[r * 2 * L + L + d]);
    }
  }
});
