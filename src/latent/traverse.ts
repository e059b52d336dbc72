/**
 * Latent traversals: which latent dimensions carry information, and what each one does.
 *
 * Ranking. A dimension's information is measured by its average KL(q(z_d | x) || N(0, 1)) over a
 * sample of the data, in nats: 0.5 (mean^2 + exp(logvar) - 1 - logvar) averaged over examples
 * (the closed form that training's ELBO and `vaekit eval` use). A dimension whose average is below
 * INACTIVE_KL_NATS (0.01 nats, the usual threshold for a collapsed unit) is inactive: its posterior
 * is the prior whatever the input, so the decoder has learned to ignore it. This is the
 * per-dimension form of training's collapse warning (fit.ts COLLAPSE_NATS = 0.1 nats for the whole
 * code, the sum over dimensions): a model all of whose dimensions are inactive here has a total KL
 * below 0.01 L nats, which for up to 10 dimensions is under that warning's line. For a learned
 * mixture prior the KL does not split by dimension; the ranking then still uses each dimension's
 * KL to N(0, 1), which measures how far the codes move from a fixed reference, and says so.
 *
 * Traversal. From a base code (an image's posterior mean, or the prior's mean), one dimension at a
 * time is moved by a list of offsets in units of the prior's standard deviation (1 for N(0, I);
 * for a mixture, the standard deviation of its marginal in that dimension) and decoded, the others
 * held fixed.
 *
 * Pure arithmetic and the model: no file system (safe in a browser).
 */
import type { Dataset } from '../data/dataset.js';
import { subset } from '../data/dataset.js';
import { Tensor } from '../engine/tensor.js';
import { VaekitError } from '../errors.js';
import type { Vae } from '../vae/model.js';
import { encodeDataset } from './encode.js';
import { decodeLabels } from './interpolate.js';

/** Below this average KL (nats) a latent dimension counts as inactive (collapsed onto the prior). */
export const INACTIVE_KL_NATS = 0.01;
/** The examples the KL ranking averages over by default. */
export const KL_EXAMPLES = 1000;

/** klDim[d] = (1/count) sum_r 0.5 (mean_rd^2 + exp(logvar_rd) - 1 - logvar_rd), from [count, L] means and log-variances, in double. */
export function averageKlPerDimension(mean: ArrayLike<number>, logvar: ArrayLike<number>, count: number, latent: number): Float64Array {
  if (mean.length !== count * latent || logvar.length !== count * latent) {
    throw new VaekitError(`Means and log-variances of ${count} examples of ${latent} dimensions need ${count * latent} values each, not ${mean.length} and ${logvar.length}.`);
  }
  if (count === 0) throw new VaekitError('The average KL per dimension needs at least one example.');
  const kl = new Float64Array(latent);
  for (let r = 0; r < count; r++) {
    for (let d = 0; d < latent; d++) {
      const mu = mean[r * latent + d]!;
      const lv = logvar[r * latent + d]!;
      kl[d] = kl[d]! + 0.5 * (mu * mu + Math.exp(lv) - 1 - lv);
    }
  }
  for (let d = 0; d < latent; d++) kl[d] = kl[d]! / count;
  return kl;
}

export interface RankedDimension {
  /** The latent dimension's index. */
  dim: number;
  /** Its average KL to N(0, 1), nats. */
  kl: number;
  /** kl >= INACTIVE_KL_NATS (or the threshold given). */
  active: boolean;
}

/** The dimensions sorted by average KL, largest first (ties by index), each marked active or not. */
export function rankDimensions(kl: ArrayLike<number>, threshold = INACTIVE_KL_NATS): RankedDimension[] {
  return Array.from({ length: kl.length }, (_, dim) => ({ dim, kl: kl[dim]!, active: kl[dim]! >= threshold }))
    .sort((a, b) => b.kl - a.kl || a.dim - b.dim);
}

/** `n` indices spread evenly over 0..count-1 (all of them when n >= count): floor(i count / n). */
export function spreadIndices(count: number, n: number): Uint32Array {
  const k = Math.min(count, n);
  return Uint32Array.from({ length: k }, (_, i) => Math.floor((i * count) / k));
}

export interface KlRanking {
  /** Every dimension, ranked by average KL (largest first). */
  dimensions: RankedDimension[];
  /** Each dimension's average KL in index order, nats. */
  klPerDimension: Float64Array;
  /** The examples averaged over. */
  examples: number;
  /** Whether the KL is the closed form of the model's own prior (N(0, I)), or (mixture prior) the KL to N(0, I) as a reference. */
  klToPrior: boolean;
}

export interface KlRankingOptions {
  /** Average over at most this many examples, spread evenly over the data (default KL_EXAMPLES). */
  limit?: number;
  /** Binarize the inputs (one fixed draw per example), for a model trained on binarized data. */
  binarize?: boolean;
  seed?: number;
  threshold?: number;
}

/** The latent dimensions of `vae` ranked by their average KL over (up to `limit` examples of) `set`. */
export function rankLatentDimensions(vae: Vae, set: Dataset, options: KlRankingOptions = {}): KlRanking {
  if (set.count === 0) throw new VaekitError(`${set.source} has no examples to measure the latent dimensions' KL on.`);
  const limit = options.limit ?? KL_EXAMPLES;
  const sample = set.count <= limit ? set : subset(set, spreadIndices(set.count, limit));
  const codes = encodeDataset(vae, sample, { withLogvar: true, binarize: options.binarize === true, seed: options.seed ?? 0 });
  const kl = averageKlPerDimension(codes.mean, codes.logvar!, codes.count, codes.latent);
  return { dimensions: rankDimensions(kl, options.threshold), klPerDimension: kl, examples: codes.count, klToPrior: vae.prior.standard };
}

/** Each latent dimension's prior mean and standard deviation: 0 and 1 for N(0, I); a mixture's marginal moments otherwise. */
export function priorMarginals(vae: Vae): { mean: Float64Array; sd: Float64Array } {
  const L = vae.latent;
  const mean = new Float64Array(L);
  const sd = new Float64Array(L).fill(1);
  if (vae.prior.standard) return { mean, sd };
  const { weights, means, sds } = priorComponents(vae);
  const K = weights.length;
  for (let d = 0; d < L; d++) {
    let m = 0;
    let second = 0;
    for (let k = 0; k < K; k++) {
      const mk = means[k * L + d]!;
      m += weights[k]! * mk;
      second += weights[k]! * (sds[k * L + d]! ** 2 + mk * mk);
    }
    mean[d] = m;
    sd[d] = Math.sqrt(Math.max(0, second - m * m));
  }
  return { mean, sd };
}

/** The prior as a mixture of diagonal Gaussians: weights [K], means and standard deviations [K, L] (N(0, I) is one component). */
export function priorComponents(vae: Vae): { weights: Float64Array; means: Float64Array; sds: Float64Array } {
  const L = vae.latent;
  if (vae.prior.standard) return { weights: Float64Array.of(1), means: new Float64Array(L), sds: new Float64Array(L).fill(1) };
  const logits = vae.params.get('prior.logits').value;
  const means = vae.params.get('prior.means').value;
  const logvars = vae.params.get('prior.logvars').value;
  const K = logits.length;
  let max = -Infinity;
  for (let k = 0; k < K; k++) max = Math.max(max, logits[k]!);
  const weights = Float64Array.from(logits, (a) => Math.exp(a - max));
  const total = weights.reduce((s, w) => s + w, 0);
  for (let k = 0; k < K; k++) weights[k] = weights[k]! / total;
  return { weights, means: Float64Array.from(means), sds: Float64Array.from(logvars, (s) => Math.exp(0.5 * s)) };
}

/** `steps` offsets evenly spaced from -range to +range (default -3 to +3 standard deviations), steps >= 2. */
export function traversalOffsets(steps: number, range = 3): number[] {
  if (!Number.isInteger(steps) || steps < 2) throw new VaekitError(`A traversal needs at least 2 steps, not ${steps}.`);
  if (!(range > 0 && Number.isFinite(range))) throw new VaekitError(`A traversal's range must be a positive number of standard deviations, not ${range}.`);
  return Array.from({ length: steps }, (_, i) => (i === steps - 1 ? range : -range + (2 * range * i) / (steps - 1)));
}

export interface Traversal {
  dims: number[];
  /** The offsets, in prior standard deviations. */
  offsets: number[];
  /** The latent vectors [dims * offsets, L], dimension after dimension. */
  z: Tensor;
  /** Their decoded images, in the same order. */
  images: Tensor;
}

export interface TraverseOptions {
  /** Each dimension's step size per unit offset (default: the prior's standard deviations, priorMarginals). */
  scale?: ArrayLike<number>;
  /** The class a conditional model decodes (required for one). */
  label?: number;
}

/**
 * For each dimension d of `dims` and each offset v of `offsets`: base with z_d = base_d + v sd_d,
 * decoded. Row i * offsets.length + j of the result is dims[i] moved by offsets[j].
 */
export function traverse(vae: Vae, base: ArrayLike<number>, dims: readonly number[], offsets: readonly number[], options: TraverseOptions = {}): Traversal {
  const L = vae.latent;
  if (base.length !== L) throw new VaekitError(`The base code must have ${L} values (this model's latent size), not ${base.length}.`);
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d >= L) throw new VaekitError(`Latent dimension ${d} does not exist: this model has dimensions 0 to ${L - 1}.`);
  }
  if (dims.length === 0 || offsets.length === 0) throw new VaekitError('A traversal needs at least one dimension and one offset.');
  const scale = options.scale ?? priorMarginals(vae).sd;
  const rows = dims.length * offsets.length;
  const z = new Float32Array(rows * L);
  dims.forEach((d, i) => {
    offsets.forEach((v, j) => {
      const row = z.subarray((i * offsets.length + j) * L, (i * offsets.length + j + 1) * L);
      for (let k = 0; k < L; k++) row[k] = base[k]!;
      row[d] = base[d]! + v * scale[d]!;
    });
  });
  const zt = new Tensor(z, [rows, L]);
  return { dims: [...dims], offsets: [...offsets], z: zt, images: vae.decode(zt, decodeLabels(vae, rows, options.label)) };
}
