// The latent space (src/latent/interpolate.ts, traverse.ts, map.ts) against independent oracles:
// slerp's closed form, hand-computed linear paths, per-dimension KL written out from the encoder's
// outputs, traversals against the decoder on hand-built codes, PCA against power iteration on the
// covariance, UMAP on two well-separated clusters, the normal quantile against known values; then
// `vaekit interpolate`, `traverse` and `map` on small models of synthetic 8x8 images, their figures
// read back pixel by pixel, and bad input ending in one line, exit status 1 and no file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { arrayDataset, type Dataset } from '../src/data/dataset.js';
import { loadNpy } from '../src/data/sources/npy.js';
import { parseNoise } from '../src/data/transforms/noise.js';
import { Random } from '../src/engine/random.js';
import { Tensor } from '../src/engine/tensor.js';
import { VaekitError } from '../src/errors.js';
import { loadBundle, saveModel } from '../src/run/bundle.js';
import { cliChecks, twoClassNpy, vaekitFromSources, type CliResult } from './helpers/cli.js';
import { encodeDataset } from '../src/latent/encode.js';
import { angleBetween, interpolate, interpolationPath, lerp, slerp } from '../src/latent/interpolate.js';
import { manifoldGrid, mixtureQuantile, normalCdf, normalQuantile, projectLatents, seededSubset } from '../src/latent/map.js';
import {
  averageKlPerDimension, INACTIVE_KL_NATS, priorComponents, priorMarginals, rankDimensions, rankLatentDimensions, spreadIndices, traversalOffsets, traverse,
} from '../src/latent/traverse.js';
import { dataInfoFor, prepareForModel } from '../src/run/data.js';
import { fit } from '../src/train/fit.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';
import { gridFigureLayout, type GridLayout } from '../src/viz/labelled-grid.js';

const { PNG } = pngjs;

// ---- helpers -------------------------------------------------------------------------------------

function normals(seed: number, n: number): Float32Array {
  const out = new Float32Array(n);
  new Random(seed).fillNormal(out);
  return out;
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
}

/** A small dense VAE on 8x8 greyscale images. */
function smallVae(latent: number, seed = 1, extra: Record<string, unknown> = {}): Vae {
  return new Vae(presetConfig('seed', { inputShape: [8, 8, 1], latent, encoderHidden: [24], decoderHidden: [24], ...extra }), { seed });
}

/** `n` random 8x8 images as rows of floats in [0, 1]. */
function randomImages(n: number, seed: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n * 64 }, () => rng.uniform());
}

// ---- interpolation -------------------------------------------------------------------------------

test('slerp: exact endpoints, equal angle steps, constant norm for equal norms, the closed form on a quarter circle', () => {
  const a = normals(1, 6);
  const b0 = normals(2, 6);
  const b = b0.map((v) => (v * norm(a)) / norm(b0)); // the same norm as a
  assert.deepEqual(slerp(a, b, 0), a);
  assert.deepEqual(slerp(a, b, 1), b);
  const omega = angleBetween(a, b)!;
  const steps = 9;
  const path = interpolationPath(a, b, steps, 'spherical');
  const point = (i: number): Float32Array => path.subarray(i * 6, (i + 1) * 6);
  assert.deepEqual(point(0), a);
  assert.deepEqual(point(steps - 1), b);
  for (let i = 0; i < steps; i++) {
    assertClose(norm(point(i)), norm(a), 1e-5 * norm(a), `|z(t${i})|`);
    assertClose(angleBetween(a, point(i))!, (i * omega) / (steps - 1), 1e-5, `angle from a to point ${i}`);
    if (i > 0) assertClose(angleBetween(point(i - 1), point(i))!, omega / (steps - 1), 1e-5, `angle of step ${i}`);
  }
  // (1, 0) to (0, 1): (cos(t pi/2), sin(t pi/2)).
  for (const t of [0.1, 0.25, 0.5, 0.9]) {
    const p = slerp([1, 0], [0, 1], t);
    assertClose(p[0]!, Math.cos((t * Math.PI) / 2), 1e-7, `x at t=${t}`);
    assertClose(p[1]!, Math.sin((t * Math.PI) / 2), 1e-7, `y at t=${t}`);
  }
  // Different norms: still in the plane of a and b, and the endpoints exact.
  const c = Float32Array.from(b, (v) => 3 * v);
  assert.deepEqual(slerp(a, c, 1), c);
});

test('slerp falls back to the linear path for parallel, antiparallel and zero vectors', () => {
  const a = Float32Array.of(1, -2, 0.5);
  for (const b of [Float32Array.of(2, -4, 1), Float32Array.of(-1, 2, -0.5), Float32Array.of(0, 0, 0)]) {
    for (const t of [0, 0.3, 0.5, 1]) assert.deepEqual(slerp(a, b, t), lerp(a, b, t), `b = [${b.join(', ')}], t = ${t}`);
  }
  assert.deepEqual(slerp(new Float32Array(3), a, 0.5), lerp(new Float32Array(3), a, 0.5));
});

test('linear interpolation: the hand-computed path, and interpolate() decodes it', () => {
  const a = [1, 2, -3];
  const b = [3, -2, 1];
  const path = interpolationPath(a, b, 5, 'linear');
  const expected = [[1, 2, -3], [1.5, 1, -2], [2, 0, -1], [2.5, -1, 0], [3, -2, 1]];
  assert.deepEqual(Array.from(path), expected.flat());

  const vae = smallVae(3);
  const result = interpolate(vae, a, b, 5, 'linear');
  assert.deepEqual(result.t, [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(Array.from(result.z.data), expected.flat());
  assert.deepEqual(Array.from(result.images.data), Array.from(vae.decode(new Tensor(Float32Array.from(expected.flat()), [5, 3])).data));
  assert.throws(() => interpolate(vae, a, b, 1, 'linear'), VaekitError);
  assert.throws(() => interpolate(vae, [1, 2], b, 3, 'linear'), /latent vectors of 3 values/);
  assert.throws(() => interpolate(vae, a, b, 3, 'linear', 1), /not conditional/);
  const conditional = smallVae(3, 1, { classes: 2 });
  assert.throws(() => interpolate(conditional, a, b, 3, 'spherical'), /conditional model: give the class/);
  const as1 = interpolate(conditional, a, b, 3, 'spherical', 1);
  const z = new Tensor(interpolationPath(a, b, 3, 'spherical'), [3, 3]);
  assert.deepEqual(Array.from(as1.images.data), Array.from(conditional.decode(z, [1, 1, 1]).data));
});

// ---- traversal -------------------------------------------------------------------------------------

test('ranking by KL: each dimension\'s average KL written out from encodeBatch equals the ranking\'s, in order', () => {
  const vae = smallVae(5, 3);
  const n = 50;
  const images = randomImages(n, 4);
  const set = arrayDataset({ values: images, shape: [8, 8, 1], source: 'random' });
  // By hand: one image at a time through the encoder, KL(N(mu, s^2) || N(0, 1)) = 0.5 (mu^2 + s^2 - 1 - log s^2).
  const L = 5;
  const hand = new Float64Array(L);
  const handOf = (indices: number[]): Float64Array => {
    const kl = new Float64Array(L);
    for (const i of indices) {
      const out = vae.encodeBatch(images.subarray(i * 64, (i + 1) * 64), 1);
      for (let d = 0; d < L; d++) {
        const mu = out[d]!;
        const variance = Math.exp(out[L + d]!);
        kl[d] = kl[d]! + 0.5 * (mu * mu + variance - 1 - Math.log(variance));
      }
    }
    return kl.map((v) => v / indices.length);
  };
  hand.set(handOf(Array.from({ length: n }, (_, i) => i)));
  const ranking = rankLatentDimensions(vae, set);
  assert.equal(ranking.examples, n);
  assert.equal(ranking.klToPrior, true);
  for (let d = 0; d < L; d++) assertClose(ranking.klPerDimension[d]!, hand[d]!, 1e-5 * Math.max(1, hand[d]!), `KL of z${d}`);
  const order = Array.from({ length: L }, (_, d) => d).sort((p, q) => hand[q]! - hand[p]!);
  assert.deepEqual(ranking.dimensions.map((r) => r.dim), order);

  // At most `limit` examples, spread evenly: 0, 5, ..., 45.
  assert.deepEqual(Array.from(spreadIndices(50, 10)), [0, 5, 10, 15, 20, 25, 30, 35, 40, 45]);
  const limited = rankLatentDimensions(vae, set, { limit: 10 });
  const handLimited = handOf([0, 5, 10, 15, 20, 25, 30, 35, 40, 45]);
  assert.equal(limited.examples, 10);
  for (let d = 0; d < L; d++) assertClose(limited.klPerDimension[d]!, handLimited[d]!, 1e-5 * Math.max(1, handLimited[d]!), `KL of z${d} over 10`);

  // The formula itself on two examples: mu = 1, logvar = 0 gives 0.5; mu = 0, logvar = log 2 gives 0.5 (2 - 1 - log 2).
  const kl = averageKlPerDimension([1, 0], [0, Math.log(2)], 1, 2);
  assertClose(kl[0]!, 0.5, 1e-12, 'mu 1');
  assertClose(kl[1]!, 0.5 * (1 - Math.log(2)), 1e-12, 'variance 2');
});

test('rankDimensions: largest KL first, ties by index, inactive below 0.01 nats', () => {
  assert.equal(INACTIVE_KL_NATS, 0.01);
  const ranked = rankDimensions([0.5, 0.005, 2, 0.01, 0.5]);
  assert.deepEqual(ranked.map((r) => r.dim), [2, 0, 4, 3, 1]);
  assert.deepEqual(ranked.map((r) => r.active), [true, true, true, true, false]);
});

test('traverse: every cell is the decoder\'s image of the base code with one dimension moved by v prior standard deviations', () => {
  const vae = smallVae(4, 5);
  const base = normals(6, 4);
  const offsets = traversalOffsets(7);
  assert.deepEqual(offsets, [-3, -2, -1, 0, 1, 2, 3]);
  assert.deepEqual(traversalOffsets(5), [-3, -1.5, 0, 1.5, 3]);
  const dims = [3, 1];
  const result = traverse(vae, base, dims, offsets);
  const z = new Float32Array(dims.length * offsets.length * 4);
  dims.forEach((d, i) => offsets.forEach((v, j) => {
    const row = (i * offsets.length + j) * 4;
    z.set(base, row);
    z[row + d] = base[d]! + v;
  }));
  assert.deepEqual(Array.from(result.z.data), Array.from(z));
  assert.deepEqual(Array.from(result.images.data), Array.from(vae.decode(new Tensor(z, [z.length / 4, 4])).data));
  // One cell alone: the same image (to float rounding across batch sizes).
  const alone = vae.decode(new Tensor(z.slice(5 * 4, 6 * 4), [1, 4])).data;
  const cell = result.images.data.subarray(5 * 64, 6 * 64);
  for (let p = 0; p < 64; p++) assertClose(cell[p]!, alone[p]!, 1e-6, `pixel ${p}`);
  assert.throws(() => traverse(vae, base, [4], offsets), /dimension 4 does not exist/);
});

test('a mixture prior\'s marginal mean and standard deviation per dimension, written out', () => {
  const vae = smallVae(2, 1, { prior: 'mog', priorComponents: 3 });
  vae.params.get('prior.logits').value.set([0, Math.log(2), Math.log(3)]);
  vae.params.get('prior.means').value.set([0, 1, 2, -1, -4, 3]);
  vae.params.get('prior.logvars').value.set([0, Math.log(4), Math.log(0.25), 0, 0, Math.log(9)]);
  const { weights } = priorComponents(vae);
  [1 / 6, 2 / 6, 3 / 6].forEach((w, k) => assertClose(weights[k]!, w, 1e-7, `weight ${k}`));
  const { mean, sd } = priorMarginals(vae);
  // Dimension 0: means 0, 2, -4, variances 1, 0.25, 1.
  const m0 = (0 + 2 * 2 + 3 * -4) / 6;
  const v0 = (1 * (1 + 0) + 2 * (0.25 + 4) + 3 * (1 + 16)) / 6 - m0 * m0;
  // Dimension 1: means 1, -1, 3, variances 4, 1, 9.
  const m1 = (1 - 2 + 9) / 6;
  const v1 = (1 * (4 + 1) + 2 * (1 + 1) + 3 * (9 + 9)) / 6 - m1 * m1;
  assertClose(mean[0]!, m0, 1e-6, 'mean 0');
  assertClose(mean[1]!, m1, 1e-6, 'mean 1');
  assertClose(sd[0]!, Math.sqrt(v0), 1e-6, 'sd 0');
  assertClose(sd[1]!, Math.sqrt(v1), 1e-6, 'sd 1');
  const standard = priorMarginals(smallVae(3));
  assert.deepEqual([...standard.mean, ...standard.sd], [0, 0, 0, 1, 1, 1]);
});

// ---- the map -------------------------------------------------------------------------------------

/** The top eigenvector and eigenvalue of a symmetric matrix by power iteration. */
function powerIteration(c: Float64Array, L: number): { vector: Float64Array; value: number } {
  let v = Float64Array.from({ length: L }, (_, i) => 1 + i / 10);
  for (let it = 0; it < 2000; it++) {
    const w = new Float64Array(L);
    for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) w[i] = w[i]! + c[i * L + j]! * v[j]!;
    const n = norm(w);
    v = w.map((x) => x / n);
  }
  let value = 0;
  for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) value += v[i]! * c[i * L + j]! * v[j]!;
  return { vector: v, value };
}

test('PCA: coordinates and explained variance match power iteration on the covariance; a 2-D latent space is not projected', () => {
  const n = 300;
  const L = 4;
  const u = [1, 2, 0, -1].map((x) => x / Math.sqrt(6));
  const v = [2, -1, 1, 0].map((x) => x / Math.sqrt(6));
  const rng = new Random(9);
  const data = new Float32Array(n * L);
  for (let i = 0; i < n; i++) {
    const a = 3 * rng.normal();
    const b = rng.normal();
    for (let d = 0; d < L; d++) data[i * L + d] = 5 + a * u[d]! + b * v[d]! + 0.1 * rng.normal();
  }
  // The covariance, and its two leading eigenvectors by power iteration and deflation.
  const mean = new Float64Array(L);
  for (let i = 0; i < n; i++) for (let d = 0; d < L; d++) mean[d] = mean[d]! + data[i * L + d]! / n;
  const c = new Float64Array(L * L);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < L; p++) for (let q = 0; q < L; q++) c[p * L + q] = c[p * L + q]! + ((data[i * L + p]! - mean[p]!) * (data[i * L + q]! - mean[q]!)) / (n - 1);
  }
  let trace = 0;
  for (let d = 0; d < L; d++) trace += c[d * L + d]!;
  const first = powerIteration(c, L);
  const deflated = c.map((x, k) => x - first.value * first.vector[Math.floor(k / L)]! * first.vector[k % L]!);
  const second = powerIteration(deflated, L);
  // The sign convention: each component's largest loading positive.
  const signed = (e: Float64Array): Float64Array => {
    const big = e.reduce((best, x) => (Math.abs(x) > Math.abs(best) ? x : best), 0);
    return big < 0 ? e.map((x) => -x) : e;
  };
  const e1 = signed(first.vector);
  const e2 = signed(second.vector);
  // The dominant direction is the one the data was made with.
  assertClose(Math.abs(e1.reduce((s, x, d) => s + x * u[d]!, 0)), 1, 1e-2, '|<PC1, u>|');

  const projection = projectLatents(new Tensor(data, [n, L]), 'pca');
  assert.equal(projection.method, 'pca');
  assertClose(projection.explainedVariance![0], first.value / trace, 1e-9, 'PC1 share');
  assertClose(projection.explainedVariance![1], second.value / trace, 1e-9, 'PC2 share');
  assert.equal(projection.xTitle, `PC1 (${Math.round((100 * first.value) / trace)}% of variance)`);
  for (let i = 0; i < n; i++) {
    let x = 0;
    let y = 0;
    for (let d = 0; d < L; d++) {
      x += (data[i * L + d]! - mean[d]!) * e1[d]!;
      y += (data[i * L + d]! - mean[d]!) * e2[d]!;
    }
    assertClose(projection.x[i]!, x, 1e-6, `x of point ${i}`);
    assertClose(projection.y[i]!, y, 1e-6, `y of point ${i}`);
  }

  const two = projectLatents(new Tensor(Float32Array.of(1, 2, 3, 4, 5, 6), [3, 2]), 'umap');
  assert.equal(two.method, 'none');
  assert.deepEqual([two.xTitle, two.yTitle, [...two.x], [...two.y]], ['z0', 'z1', [1, 3, 5], [2, 4, 6]]);
  assert.throws(() => projectLatents(new Tensor(data, [n, L]), 'tsne' as 'pca'), /Unknown projection "tsne"/);
});

test('UMAP: the same seed gives the same map; two well-separated clusters stay apart; a seeded subset beyond the cap', () => {
  const per = 60;
  const L = 6;
  const data = new Float32Array(2 * per * L);
  const rng = new Random(11);
  for (let i = 0; i < 2 * per; i++) for (let d = 0; d < L; d++) data[i * L + d] = (i < per ? 0 : 12) + rng.normal();
  const means = new Tensor(data, [2 * per, L]);
  const a = projectLatents(means, 'umap', 4, { nEpochs: 150 });
  const b = projectLatents(means, 'umap', 4, { nEpochs: 150 });
  const c = projectLatents(means, 'umap', 5, { nEpochs: 150 });
  assert.equal(a.method, 'umap');
  assert.deepEqual([...a.x, ...a.y], [...b.x, ...b.y], 'deterministic for a seed');
  assert.notDeepEqual([...a.x], [...c.x], 'another seed, another map');
  // Every point's nearest neighbour in the map is from its own cluster, and the clusters' centres
  // are further apart than any point is from its own centre.
  const cluster = (i: number): number => (i < per ? 0 : 1);
  for (let i = 0; i < 2 * per; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let j = 0; j < 2 * per; j++) {
      const dd = j === i ? Infinity : (a.x[i]! - a.x[j]!) ** 2 + (a.y[i]! - a.y[j]!) ** 2;
      if (dd < bestD) [best, bestD] = [j, dd];
    }
    assert.equal(cluster(best), cluster(i), `point ${i}'s neighbour`);
  }
  const centre = (k: number): [number, number] => {
    let x = 0;
    let y = 0;
    for (let i = k * per; i < (k + 1) * per; i++) [x, y] = [x + a.x[i]! / per, y + a.y[i]! / per];
    return [x, y];
  };
  const [c0, c1] = [centre(0), centre(1)];
  const gap = Math.hypot(c0[0] - c1[0], c0[1] - c1[1]);
  for (let i = 0; i < 2 * per; i++) {
    const own = cluster(i) === 0 ? c0 : c1;
    assert.ok(Math.hypot(a.x[i]! - own[0], a.y[i]! - own[1]) < gap, `point ${i} is nearer its own centre than the centres are to each other`);
  }

  const capped = projectLatents(means, 'umap', 3, { maxPoints: 50, nEpochs: 30 });
  assert.equal(capped.indices.length, 50);
  assert.equal(capped.x.length, 50);
  assert.ok(capped.indices.every((v, i) => v < 2 * per && (i === 0 || v > capped.indices[i - 1]!)), 'distinct, ascending');
  assert.deepEqual([...capped.indices], [...seededSubset(2 * per, 50, 3)]);
  assert.notDeepEqual([...seededSubset(2 * per, 50, 3)], [...seededSubset(2 * per, 50, 4)]);
});

test('the standard normal quantile against known values (1e-6), and the mixture quantile', () => {
  const known: Array<[number, number]> = [
    [0.5, 0], [0.975, 1.959963984540054], [0.95, 1.6448536269514722], [0.05, -1.6448536269514722],
    [0.8413447460685429, 1], [0.001, -3.090232306167813], [0.02, -2.053748910631823], [1e-6, -4.753424308822899],
    [0.999999, 4.753424308822899], [0.3, -0.5244005127080407], [0.7, 0.5244005127080407],
  ];
  for (const [p, x] of known) assertClose(normalQuantile(p), x, 1e-6 * Math.max(1, Math.abs(x)), `Phi^-1(${p})`);
  assert.equal(normalQuantile(0), -Infinity);
  assert.equal(normalQuantile(1), Infinity);
  assert.throws(() => normalQuantile(1.5), VaekitError);
  for (const [p, x] of known) assertClose(normalCdf(x), p, 2e-7, `Phi(${x})`);

  // One component: m + s Phi^-1(p).
  assertClose(mixtureQuantile(0.9, [1], [1.5], [2]), 1.5 + 2 * normalQuantile(0.9), 1e-12, 'one component');
  // Two components at -2 and 2: symmetric, the median 0, and the density integrated up to the quantile is p.
  const w = [0.5, 0.5];
  const m = [-2, 2];
  const s = [1, 1];
  assertClose(mixtureQuantile(0.5, w, m, s), 0, 1e-9, 'median');
  assertClose(mixtureQuantile(0.1, w, m, s), -mixtureQuantile(0.9, w, m, s), 1e-9, 'symmetry');
  for (const p of [0.05, 0.3, 0.8]) {
    const q = mixtureQuantile(p, w, m, s);
    const density = (z: number): number => 0.5 * (Math.exp(-0.5 * (z + 2) ** 2) + Math.exp(-0.5 * (z - 2) ** 2)) / Math.sqrt(2 * Math.PI);
    const steps = 20000;
    const lo = -14;
    const h = (q - lo) / steps;
    let integral = 0.5 * (density(lo) + density(q));
    for (let i = 1; i < steps; i++) integral += density(lo + i * h);
    assertClose(integral * h, p, 1e-6, `mass below the ${p} quantile`);
  }
});

test('manifoldGrid: a 2-D latent space decoded at the prior\'s quantiles 0.05 to 0.95, z1 descending down the rows', () => {
  const vae = smallVae(2, 2);
  const grid = manifoldGrid(vae, 5);
  const expected = [0.05, 0.275, 0.5, 0.725, 0.95].map(normalQuantile);
  grid.z0.forEach((v, i) => assertClose(v, expected[i]!, 1e-12, `z0[${i}]`));
  assert.deepEqual(grid.z1, [...grid.z0].reverse());
  assertClose(grid.z0[0]!, -1.6448536269514722, 1e-6, 'Phi^-1(0.05)');
  const z = new Float32Array(50);
  for (let r = 0; r < 5; r++) for (let c = 0; c < 5; c++) z.set([grid.z0[c]!, grid.z1[r]!], (r * 5 + c) * 2);
  assert.deepEqual(Array.from(grid.z.data), Array.from(z));
  assert.deepEqual(Array.from(grid.images.data), Array.from(vae.decode(new Tensor(z, [25, 2])).data));
  assert.throws(() => manifoldGrid(smallVae(3), 5), /2-dimensional latent space/);
});

// ---- the commands ----------------------------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'vaekit-latent-'));
process.on('exit', () => { if (process.env['VAEKIT_TEST_KEEP'] === undefined) rmSync(work, { recursive: true, force: true }); else console.log(`kept ${work}`); });
const at = (...p: string[]): string => join(work, ...p);

const vaekit = (args: string[]): CliResult => vaekitFromSources(args, 120_000);
const { ok, refused } = cliChecks(vaekit);

const data = twoClassNpy(work, 300);
const DATA = ['--data', data.x, '--labels', data.y];
const models = { m4: at('m4'), m2: at('m2'), cond: at('cond') };

/** The models: 4 latents trained for 30 epochs; 2 latents and a conditional one untrained. */
async function makeModels(): Promise<void> {
  const set = loadNpy(data.x, { labels: data.y });
  const info = dataInfoFor(set, null);
  const m4 = smallVae(4, 1);
  await fit(m4, set, { epochs: 30, batchSize: 32, learningRate: 5e-3, noise: parseNoise('none'), seed: 0 });
  saveModel(m4, models.m4, { loss: 'elbo' }, info);
  saveModel(smallVae(2, 2), models.m2, { loss: 'elbo' }, info);
  saveModel(smallVae(2, 3, { classes: 2 }), models.cond, { loss: 'elbo' }, info);
}

/** The data as a command sees it for a model. */
function dataFor(model: string): Dataset {
  return prepareForModel(loadBundle(model).data, loadNpy(data.x, { labels: data.y }), loadBundle(model).vae.classes > 0);
}

function exampleOf(set: Dataset, i: number): Float32Array {
  const out = new Float32Array(set.size);
  set.gather(Uint32Array.of(i), 0, 1, out);
  return out;
}

/**
 * Where a figure's cells are in its PNG: the vertical layout does not depend on the text, so a
 * layout of the same rows, columns and labels gives the cells' y and the grid's width; the grid's
 * right edge (its last non-white pixel across the first row of cells) gives its x.
 */
function cellsOf(png: InstanceType<typeof PNG>, rows: number, columns: number, rowLabels: boolean): { layout: GridLayout; x0: number } {
  const layout = gridFigureLayout({
    title: 'x', subtitle: 'x', cells: Array.from({ length: rows }, () => Array.from({ length: columns }, () => new Float32Array(64))),
    height: 8, width: 8, channels: 1, columnLabels: Array.from({ length: columns }, () => 'x'), ...(rowLabels ? { rowLabels: Array.from({ length: rows }, () => 'x') } : {}),
  });
  assert.equal(png.height, layout.height, 'the figure\'s height');
  const y = layout.cell(0, 0).y + 3;
  let right = png.width - 1;
  while (right > 0 && [0, 1, 2].every((k) => png.data[(y * png.width + right) * 4 + k] === 255)) right--;
  return { layout, x0: right + 1 - layout.grid.width - layout.grid.x };
}

/** Asserts that cell (r, c) of a figure shows `image` (8x8 greyscale in [0, 1]), pixel by pixel. */
function assertCell(png: InstanceType<typeof PNG>, where: { layout: GridLayout; x0: number }, r: number, c: number, image: ArrayLike<number>, what: string): void {
  const cell = where.layout.cell(r, c);
  const s = where.layout.scale;
  for (let i = 0; i < 8; i++) {
    for (let j = 0; j < 8; j++) {
      const x = where.x0 + cell.x + j * s + Math.floor(s / 2);
      const y = cell.y + i * s + Math.floor(s / 2);
      const got = png.data[(y * png.width + x) * 4]!;
      const want = Math.round(Math.min(1, Math.max(0, image[i * 8 + j]!)) * 255);
      assert.ok(Math.abs(got - want) <= 1, `${what}, pixel (${i}, ${j}): ${got} drawn, ${want} expected`);
    }
  }
}

/** An RGB PNG file (three.png) of an 8x8 greyscale image, its grey in all three channels. */
function rgbPngOf(image: Float32Array): string {
  const rgb = new PNG({ width: 8, height: 8 });
  for (let p = 0; p < 64; p++) rgb.data.set([Math.round(image[p]! * 255), Math.round(image[p]! * 255), Math.round(image[p]! * 255), 255], p * 4);
  const file = at('three.png');
  writeFileSync(file, PNG.sync.write(rgb));
  return file;
}

function readPng(path: string): InstanceType<typeof PNG> {
  return PNG.sync.read(readFileSync(path));
}

await makeModels();

test('vaekit interpolate: the originals at both ends and the decoded path between, from indices or image files', () => {
  const out = at('interp.png');
  const printed = ok(['interpolate', '--model', models.m4, ...DATA, '--from', '3', '--to', '12', '--steps', '5', '--out', out]);
  assert.match(printed, /wrote .*interp\.png \(linear interpolation, 5 steps from example 3 \(class 1\) to example 12 \(class 0\)\)/);
  const { vae } = loadBundle(models.m4);
  const set = dataFor(models.m4);
  const [x3, x12] = [exampleOf(set, 3), exampleOf(set, 12)];
  const z = (x: Float32Array): Float32Array => vae.encode(new Tensor(x, [1, 64])).mean.data;
  const path = interpolate(vae, z(x3), z(x12), 5, 'linear');
  const png = readPng(out);
  const where = cellsOf(png, 1, 7, false);
  assertCell(png, where, 0, 0, x3, 'the first original');
  assertCell(png, where, 0, 6, x12, 'the second original');
  for (let i = 0; i < 5; i++) assertCell(png, where, 0, i + 1, path.images.data.subarray(i * 64, (i + 1) * 64), `t = ${path.t[i]}`);

  // An image file: an RGB PNG of example 3 (grey in all three channels) is example 3.
  const file = rgbPngOf(x3);
  const spherical = at('spherical.png');
  ok(['interpolate', '--model', models.m4, ...DATA, '--from', file, '--to', '12', '--steps', '4', '--method', 'spherical', '--out', spherical]);
  const arc = interpolate(vae, z(x3), z(x12), 4, 'spherical');
  const png2 = readPng(spherical);
  const where2 = cellsOf(png2, 1, 6, false);
  assertCell(png2, where2, 0, 0, x3, 'the image file');
  for (let i = 0; i < 4; i++) assertCell(png2, where2, 0, i + 1, arc.images.data.subarray(i * 64, (i + 1) * 64), `slerp t = ${arc.t[i]}`);
});

test('vaekit traverse: the top dimensions by KL, each swept from -3 to +3 around an example\'s code or the prior mean', () => {
  const out = at('traverse.png');
  const printed = ok(['traverse', '--model', models.m4, ...DATA, '--image', '7', '--dims', '3', '--steps', '5', '--out', out]);
  const { vae } = loadBundle(models.m4);
  const set = dataFor(models.m4);
  const ranking = rankLatentDimensions(vae, set);
  const inactive = ranking.dimensions.filter((d) => !d.active).length;
  assert.match(printed, new RegExp(`3 dimensions x 5 values around example 7 \\(class 1\\); ${inactive} of 4 dimensions inactive`));
  const base = vae.encode(new Tensor(exampleOf(set, 7), [1, 64])).mean.data;
  const dims = ranking.dimensions.slice(0, 3).map((d) => d.dim);
  const expected = traverse(vae, base, dims, traversalOffsets(5));
  const png = readPng(out);
  const where = cellsOf(png, 3, 5, true);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 5; j++) assertCell(png, where, i, j, expected.images.data.subarray((i * 5 + j) * 64, (i * 5 + j + 1) * 64), `z${dims[i]} at offset ${j}`);
  }
  // Without --image: around z = 0; --dims 10 is all 4 of this model's.
  const all = at('traverse-all.png');
  assert.match(ok(['traverse', '--model', models.m4, ...DATA, '--out', all]), /4 dimensions x 7 values around the prior mean \(z = 0\)/);
  const png2 = readPng(all);
  const where2 = cellsOf(png2, 4, 7, true);
  const fromZero = traverse(vae, new Float32Array(4), ranking.dimensions.map((d) => d.dim), traversalOffsets(7));
  assertCell(png2, where2, 3, 6, fromZero.images.data.subarray(27 * 64, 28 * 64), 'the last dimension at +3');
});

test('vaekit map: PCA of the posterior means with an SVG and the coordinates; a 2-D latent space is drawn as it is, with its decoded manifold', () => {
  const out = at('pca', 'map.png');
  const coords = at('pca', 'coords.csv');
  ok(['map', '--model', models.m4, ...DATA, '--out', out, '--coords', coords]);
  const { vae } = loadBundle(models.m4);
  const set = dataFor(models.m4);
  const codes = encodeDataset(vae, set);
  const projection = projectLatents(new Tensor(codes.mean, [codes.count, 4]), 'pca');
  const png = readPng(out);
  assert.ok(png.width > 400 && png.height > 400, `a chart of ${png.width}x${png.height}`);
  const svg = readFileSync(at('pca', 'map.svg'), 'utf8');
  assert.match(svg, /^<svg /);
  const points = [...svg.matchAll(/aria-label="[^"]*class: (\d)" role="graphics-symbol" aria-roledescription="circle"/g)].map((m) => m[1]);
  assert.equal(points.length, 300);
  assert.equal(points.filter((c) => c === '1').length, 150);
  assert.match(svg, new RegExp(projection.xTitle.replace(/[()%]/g, '\\$&')));
  const lines = readFileSync(coords, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'index,x,y,label');
  assert.equal(lines.length, 301);
  lines.slice(1).forEach((line, i) => {
    const [index, x, y, label] = line.split(',');
    assert.equal(Number(index), i);
    assertClose(Number(x), projection.x[i]!, 1e-5 * Math.max(1, Math.abs(projection.x[i]!)), `x of ${i}`);
    assertClose(Number(y), projection.y[i]!, 1e-5 * Math.max(1, Math.abs(projection.y[i]!)), `y of ${i}`);
    assert.equal(label, String(i % 2));
  });
  assert.ok(!existsSync(at('pca', 'manifold.png')), 'no manifold for a 4-D latent space');

  // Two latents: the means themselves, and the manifold beside the map.
  const out2 = at('two', 'latent-map.png');
  const coords2 = at('two', 'z.csv');
  ok(['map', '--model', models.m2, ...DATA, '--method', 'umap', '--grid', '4', '--out', out2, '--coords', coords2]);
  const m2 = loadBundle(models.m2).vae;
  const means = encodeDataset(m2, dataFor(models.m2)).mean;
  readFileSync(coords2, 'utf8').trim().split('\n').slice(1).forEach((line, i) => {
    const [, x, y] = line.split(',').map(Number);
    assert.equal(Math.fround(x!), means[2 * i], `z0 of ${i}`);
    assert.equal(Math.fround(y!), means[2 * i + 1], `z1 of ${i}`);
  });
  assert.match(readFileSync(at('two', 'latent-map.svg'), 'utf8'), /<text[^>]*>z0<\/text>/);
  const manifold = readPng(at('two', 'manifold.png'));
  const grid = manifoldGrid(m2, 4);
  const where = cellsOf(manifold, 4, 4, true);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) assertCell(manifold, where, r, c, grid.images.data.subarray((r * 4 + c) * 64, (r * 4 + c + 1) * 64), `manifold (${r}, ${c})`);
});

test('latent commands refuse bad input in one line, with exit status 1 and no file', () => {
  const out = at('bad', 'fig.png');
  const base = (command: string, model = models.m4): string[] => [command, '--model', model, ...DATA, '--out', out];
  refused([...base('interpolate'), '--from', '300', '--to', '2'], /--from 300 is past the end of .*x\.npy, which has 300 examples \(0 to 299\)\./, [out]);
  refused([...base('interpolate'), '--from', '1', '--to', at('missing.png')], /--to .*missing\.png: there is no image file there\./, [out]);
  refused([...base('interpolate'), '--from', '1', '--to', at('x.npy')], /neither an example index nor a PNG, JPEG or WebP image file/, [out]);
  refused([...base('interpolate'), '--from', '1', '--to', '2', '--label', '1'], /is not a conditional model: it takes no --label/, [out]);
  refused([...base('interpolate', models.cond), '--from', rgbPngOf(exampleOf(dataFor(models.cond), 3)), '--to', '2'], /conditional model: give --label, the class of the image file/, [out]);
  refused([...base('traverse'), '--image', '1000'], /--image 1000 is past the end of .*which has 300 examples/, [out]);
  refused([...base('map'), '--method', 'wrong'], /option '--method <name>' argument 'wrong' is invalid\. Allowed choices are pca, umap\./, [out, at('bad', 'fig.svg')]);
  refused([...base('map', models.m2), '--limit', '301'], /--limit 301 is more than the 300 examples/, [out, at('bad', 'fig.svg'), at('bad', 'manifold.png')]);
  refused(['map', '--model', models.m4, ...DATA, '--out', at('bad', 'map.jpg')], /must end in \.png/, [at('bad', 'map.jpg')]);
  assert.ok(!existsSync(at('bad')), 'nothing was written');
});
