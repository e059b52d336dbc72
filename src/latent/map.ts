/**
 * The latent space in two dimensions: a projection of the posterior means for a scatter plot
 * (PCA or UMAP; none when the latent space is already 2-D), and for a 2-D latent space the decoded
 * manifold, the figure of Kingma & Welling and of the Keras VAE example: a grid of images decoded
 * from z at evenly spaced quantiles of the prior (the standard normal's inverse CDF for N(0, I)),
 * so each cell stands for an equal share of the prior's mass.
 *
 * PCA by ml-pca (the covariance matrix's eigenvectors; each component's sign fixed so that its
 * largest loading is positive, as scikit-learn's svd_flip does, so the map does not flip between
 * runs); UMAP by umap-js with vaekit's seeded generator, 15 neighbours and its default epochs, on at
 * most UMAP_MAX_POINTS points (a seeded subset beyond that: UMAP's cost grows faster than the
 * points, and umap-js runs on one thread).
 *
 * Pure arithmetic and the model: no file system (safe in a browser).
 */
import { PCA } from 'ml-pca';
import { UMAP } from 'umap-js';
import { Random } from '../engine/random.js';
import { Tensor } from '../engine/tensor.js';
import { VaekitError } from '../errors.js';
import type { Vae } from '../vae/model.js';
import { decodeLabels } from './interpolate.js';
import { priorComponents } from './traverse.js';

export type ProjectionMethod = 'pca' | 'umap';
export const PROJECTION_METHODS: readonly ProjectionMethod[] = ['pca', 'umap'];
/** The most points UMAP embeds; more are subsampled with the seed. */
export const UMAP_MAX_POINTS = 5000;
export const UMAP_NEIGHBOURS = 15;

export interface Projection {
  /** What was done: a projection, or none for a latent space of at most 2 dimensions. */
  method: ProjectionMethod | 'none';
  /** Coordinates of each projected point. */
  x: Float64Array;
  y: Float64Array;
  /** The rows of the input each point is (all of them, or UMAP's subset), ascending. */
  indices: Uint32Array;
  /** Axis titles: "PC1 (34% of variance)", "UMAP 1", "z0". */
  xTitle: string;
  yTitle: string;
  /** PCA: the share of the total variance along each of the two axes; null otherwise. */
  explainedVariance: [number, number] | null;
  /** PCA: the mean code and the two unit directions (signs as x and y have them), so z = center + x axes[0] + y axes[1] in the plane; null otherwise. */
  pca: { center: number[]; axes: [number[], number[]] } | null;
}

export interface ProjectOptions {
  /** UMAP: the most points embedded (default UMAP_MAX_POINTS). */
  maxPoints?: number;
  /** UMAP: neighbours of each point (default 15, fewer when there are fewer points). */
  nNeighbors?: number;
  /** UMAP: optimization epochs (default: umap-js's, 200 to 500 by the number of points). */
  nEpochs?: number;
}

/** Two-dimensional coordinates of the rows of `means` [N, L] (e.g. posterior means), by `method`, seeded. */
export function projectLatents(means: Tensor, method: ProjectionMethod, seed = 0, options: ProjectOptions = {}): Projection {
  if (means.shape.length !== 2) throw new VaekitError(`Latent codes to project must have the shape [N, L], not [${means.shape.join(', ')}].`);
  const [n, L] = means.shape as [number, number];
  if (!PROJECTION_METHODS.includes(method)) throw new VaekitError(`Unknown projection "${String(method)}": use "pca" or "umap".`);
  if (n === 0) throw new VaekitError('There are no latent codes to project.');
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  if (L <= 2) {
    const x = Float64Array.from({ length: n }, (_, i) => means.data[i * L]!);
    const y = Float64Array.from({ length: n }, (_, i) => (L === 2 ? means.data[i * L + 1]! : 0));
    return { method: 'none', x, y, indices: all, xTitle: 'z0', yTitle: L === 2 ? 'z1' : '(none: the latent space has one dimension)', explainedVariance: null, pca: null };
  }
  return method === 'pca' ? pca(means.data, n, L) : umap(means.data, n, L, seed, options);
}

function rowsOf(data: Float32Array, indices: ArrayLike<number>, L: number): number[][] {
  return Array.from(indices as ArrayLike<number>, (i) => Array.from(data.subarray(i * L, (i + 1) * L)));
}

function percent(share: number): string {
  const p = 100 * share;
  return p >= 10 || p === 0 ? p.toFixed(0) : p.toPrecision(2);
}

function pca(data: Float32Array, n: number, L: number): Projection {
  if (n < 2) throw new VaekitError(`PCA needs at least 2 latent codes, not ${n}.`);
  const rows = rowsOf(data, Uint32Array.from({ length: n }, (_, i) => i), L);
  const model = new PCA(rows, { method: 'covarianceMatrix', center: true });
  const explained = model.getExplainedVariance();
  const vectors = model.getEigenvectors();
  // Each component's sign: its largest loading (by absolute value) positive.
  const sign = [0, 1].map((c) => {
    let best = 0;
    for (let d = 0; d < L; d++) if (Math.abs(vectors.get(d, c)) > Math.abs(best)) best = vectors.get(d, c);
    return best < 0 ? -1 : 1;
  });
  const scores = model.predict(rows, { nComponents: 2 });
  const x = Float64Array.from({ length: n }, (_, i) => sign[0]! * scores.get(i, 0));
  const y = Float64Array.from({ length: n }, (_, i) => sign[1]! * scores.get(i, 1));
  const share: [number, number] = [explained[0] ?? 0, explained[1] ?? 0];
  if (!share.every(Number.isFinite)) throw new VaekitError('The latent codes do not vary at all, so PCA has no direction to show.');
  const axes = [0, 1].map((c) => Array.from({ length: L }, (_, d) => sign[c]! * vectors.get(d, c))) as [number[], number[]];
  return {
    method: 'pca', x, y, indices: Uint32Array.from({ length: n }, (_, i) => i),
    xTitle: `PC1 (${percent(share[0])}% of variance)`, yTitle: `PC2 (${percent(share[1])}% of variance)`, explainedVariance: share,
    pca: { center: model.toJSON().means, axes },
  };
}

/** `k` of 0..n-1 drawn without replacement by `rng` (all when k >= n), ascending. */
export function seededSubset(n: number, k: number, seed: number): Uint32Array {
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  if (k >= n) return all;
  new Random(seed).shuffle(all);
  return all.subarray(0, k).sort();
}

function umap(data: Float32Array, n: number, L: number, seed: number, options: ProjectOptions): Projection {
  if (n < 3) throw new VaekitError(`UMAP needs at least 3 latent codes, not ${n}.`);
  const maxPoints = options.maxPoints ?? UMAP_MAX_POINTS;
  if (!Number.isInteger(maxPoints) || maxPoints < 3) throw new VaekitError(`UMAP's point limit must be a whole number >= 3, not ${maxPoints}.`);
  const indices = seededSubset(n, maxPoints, seed);
  const rng = new Random(seed);
  const nNeighbors = Math.min(options.nNeighbors ?? UMAP_NEIGHBOURS, indices.length - 1);
  const embedding = new UMAP({
    nComponents: 2, nNeighbors, random: () => rng.uniform(), ...(options.nEpochs !== undefined ? { nEpochs: options.nEpochs } : {}),
  }).fit(rowsOf(data, indices, L));
  return {
    method: 'umap', x: Float64Array.from(embedding, (p) => p[0]!), y: Float64Array.from(embedding, (p) => p[1]!), indices,
    xTitle: 'UMAP 1', yTitle: 'UMAP 2', explainedVariance: null, pca: null,
  };
}

// ---- the standard normal --------------------------------------------------------------------

/** Acklam's rational approximation of the standard normal's inverse CDF (relative error below 1.2e-9). */
const A = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
const B = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
const C = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
const D = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
const P_LOW = 0.02425;

/** The standard normal quantile Phi^-1(p) for 0 < p < 1 (Acklam's algorithm; -Infinity at 0, +Infinity at 1). */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) throw new VaekitError(`A probability must lie in [0, 1], not ${p}.`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) / ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  }
  if (p > 1 - P_LOW) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) / ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((A[0]! * r + A[1]!) * r + A[2]!) * r + A[3]!) * r + A[4]!) * r + A[5]!) * q) / (((((B[0]! * r + B[1]!) * r + B[2]!) * r + B[3]!) * r + B[4]!) * r + 1);
}

/** The standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2 (Numerical Recipes' erfc, fractional error below 1.2e-7). */
export function normalCdf(x: number): number {
  if (x === Infinity) return 1;
  if (x === -Infinity) return 0;
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - 0.5 * erfc : 0.5 * erfc;
}

/** The p-quantile of the 1-D mixture sum_k w_k N(m_k, s_k^2) (one component: m + s Phi^-1(p) exactly; more: bisection on the CDF). */
export function mixtureQuantile(p: number, weights: ArrayLike<number>, means: ArrayLike<number>, sds: ArrayLike<number>): number {
  if (!(p > 0 && p < 1)) throw new VaekitError(`A quantile's probability must lie strictly between 0 and 1, not ${p}.`);
  const K = weights.length;
  if (K === 1) return means[0]! + sds[0]! * normalQuantile(p);
  const cdf = (z: number): number => {
    let s = 0;
    for (let k = 0; k < K; k++) s += weights[k]! * normalCdf((z - means[k]!) / sds[k]!);
    return s;
  };
  // Every component's own p-quantile brackets the mixture's.
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < K; k++) {
    const q = means[k]! + sds[k]! * normalQuantile(p);
    lo = Math.min(lo, q);
    hi = Math.max(hi, q);
  }
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(lo)); i++) {
    const mid = 0.5 * (lo + hi);
    if (cdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

// ---- the decoded manifold of a 2-D latent space -------------------------------------------------

export interface Manifold {
  /** Columns' z0 values, ascending left to right. */
  z0: number[];
  /** Rows' z1 values, descending top to bottom (as a plot's y axis). */
  z1: number[];
  /** The latent vectors [size * size, 2], row after row. */
  z: Tensor;
  /** Their decoded images, in the same order. */
  images: Tensor;
}

export interface ManifoldOptions {
  /** The lowest and highest prior quantile (default 0.05 and 0.95). */
  from?: number;
  to?: number;
  /** The class a conditional model decodes (required for one). */
  label?: number;
}

/**
 * The decoder's images over a size x size grid of a 2-D latent space, at the prior's marginal
 * quantiles from `from` to `to` in each dimension (N(0, I): Phi^-1 of evenly spaced probabilities).
 */
export function manifoldGrid(vae: Vae, size = 15, options: ManifoldOptions = {}): Manifold {
  if (vae.latent !== 2) throw new VaekitError(`The decoded manifold is drawn for a 2-dimensional latent space, and this model's has ${vae.latent}.`);
  if (!Number.isInteger(size) || size < 2 || size > 100) throw new VaekitError(`The manifold grid's size must be a whole number from 2 to 100, not ${size}.`);
  const from = options.from ?? 0.05;
  const to = options.to ?? 0.95;
  if (!(from > 0 && to < 1 && from < to)) throw new VaekitError(`The manifold's quantiles must satisfy 0 < from < to < 1, not ${from} and ${to}.`);
  const { weights, means, sds } = priorComponents(vae);
  const K = weights.length;
  const quantiles = (d: number): number[] => {
    const m = Float64Array.from({ length: K }, (_, k) => means[k * 2 + d]!);
    const s = Float64Array.from({ length: K }, (_, k) => sds[k * 2 + d]!);
    return Array.from({ length: size }, (_, i) => mixtureQuantile(from + ((to - from) * i) / (size - 1), weights, m, s));
  };
  const z0 = quantiles(0);
  const z1 = quantiles(1).reverse();
  const z = new Float32Array(size * size * 2);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      z[(r * size + c) * 2] = z0[c]!;
      z[(r * size + c) * 2 + 1] = z1[r]!;
    }
  }
  const zt = new Tensor(z, [size * size, 2]);
  return { z0, z1, z: zt, images: vae.decode(zt, decodeLabels(vae, size * size, options.label)) };
}
