/**
 * From anomaly scores (higher = more anomalous) to a decision: a threshold chosen on held-out
 * normal scores, the points above it, and the runs they form in a series.
 *
 * A point is flagged when its score is strictly above the threshold, everywhere in vaekit, so a
 * threshold taken from the normal scores themselves never flags the score it came from.
 *
 * Peaks over threshold (POT, Siffer et al. 2017, "Anomaly Detection in Streams with Extreme Value
 * Theory"): by the Pickands-Balkema-de Haan theorem the excesses over a high threshold t follow a
 * generalized Pareto distribution (GPD) whatever the scores' distribution, so a threshold for a
 * risk far smaller than 1/n (beyond any calibration score) is extrapolated from the GPD's tail:
 *
 *   z_q = t + sigma/gamma * ((q n / N_t)^-gamma - 1)      (t - sigma log(q n / N_t) when gamma = 0)
 *
 * with n calibration scores, N_t of them above t. The GPD is fitted by maximum likelihood with
 * Grimshaw's reduction to one variable x = gamma/sigma: the likelihood's stationary points are
 * the roots of w(x) = u(x) v(x) - 1, u = mean 1/(1 + x Y), v = 1 + mean log(1 + x Y), and each
 * root gives gamma = v(x) - 1, sigma = gamma / x. Roots are sought, as libspot (Siffer's C
 * library) does, in (-1/max Y, 0) and (0, 2 (mean Y - min Y) / min Y^2]; the exponential case
 * gamma = 0 is always a candidate, and the candidate with the highest likelihood wins.
 */
import { VaekitError, clip } from '../errors.js';

/** A threshold as the user asks for it. */
export type ThresholdSpec =
  | { kind: 'quantile'; q: number }
  | { kind: 'fpr'; rate: number }
  | { kind: 'pot'; risk: number; level: number }
  | { kind: 'value'; value: number };

/** The calibration quantile POT starts from when the spec names none (Siffer et al. use 0.98). */
export const POT_LEVEL = 0.98;
/** The fewest excesses POT fits a GPD to: fewer give a tail estimate that is mostly noise. */
export const POT_MIN_PEAKS = 10;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const SPEC_FORMS = 'a number, quantile:Q, fpr:F or pot:RISK[:LEVEL], with Q, F, RISK and LEVEL strictly between 0 and 1';

/** Parses `quantile:Q`, `fpr:F`, `pot:RISK`, `pot:RISK:LEVEL` or a plain number. */
export function parseThresholdSpec(text: string): ThresholdSpec {
  const parts = text.trim().split(':');
  const bad = (): VaekitError => new VaekitError(`A threshold must be ${SPEC_FORMS}, not "${clip(text)}".`);
  const fraction = (part: string | undefined): number => {
    const v = part !== undefined && NUMBER.test(part) ? Number(part) : NaN;
    if (!(v > 0 && v < 1)) throw bad();
    return v;
  };
  const [kind, a, b] = parts;
  if (parts.length === 1) {
    if (!NUMBER.test(kind!) || !Number.isFinite(Number(kind))) throw bad();
    return { kind: 'value', value: Number(kind) };
  }
  if (kind === 'quantile' && parts.length === 2) return { kind: 'quantile', q: fraction(a) };
  if (kind === 'fpr' && parts.length === 2) return { kind: 'fpr', rate: fraction(a) };
  if (kind === 'pot' && parts.length <= 3) {
    const risk = fraction(a);
    const level = parts.length === 3 ? fraction(b) : POT_LEVEL;
    if (risk >= 1 - level) throw new VaekitError(`A POT risk must be below 1 - LEVEL (${+(1 - level).toPrecision(12)}), the share of scores above its initial threshold, not ${risk}.`);
    return { kind: 'pot', risk, level };
  }
  throw bad();
}

/** A spec as parseThresholdSpec reads it back: "quantile:0.99", "fpr:0.05", "pot:0.001:0.98", "3.5". */
export function formatThresholdSpec(spec: ThresholdSpec): string {
  switch (spec.kind) {
    case 'value': return String(spec.value);
    case 'quantile': return `quantile:${spec.q}`;
    case 'fpr': return `fpr:${spec.rate}`;
    case 'pot': return `pot:${spec.risk}:${spec.level}`;
  }
}

/** The threshold `spec` asks for, from held-out normal scores (a plain number needs none). */
export function thresholdFor(spec: ThresholdSpec, normalScores: ArrayLike<number>): number {
  switch (spec.kind) {
    case 'value': return spec.value;
    case 'quantile': return quantile(normalScores, spec.q);
    case 'fpr': return fprThreshold(normalScores, spec.rate);
    case 'pot': return potThreshold(normalScores, spec.risk, spec.level).threshold;
  }
}

/** The scores sorted ascending, after checking there are some and none is NaN. */
function sortedScores(scores: ArrayLike<number>): Float64Array {
  if (scores.length === 0) throw new VaekitError('A threshold needs at least one held-out normal score.');
  const sorted = Float64Array.from(scores).sort();
  if (Number.isNaN(sorted[sorted.length - 1])) throw new VaekitError('The held-out normal scores include NaN; every score must be a number.');
  return sorted;
}

/** numpy's default ("linear") quantile of an ascending array: position q (n - 1), interpolated. */
function quantileOfSorted(sorted: Float64Array, q: number): number {
  const at = q * (sorted.length - 1);
  const i = Math.floor(at);
  const below = sorted[i]!;
  return i + 1 < sorted.length ? below + (sorted[i + 1]! - below) * (at - i) : below;
}

/** The q-quantile of the scores (0 <= q <= 1), interpolated linearly as numpy's default. */
export function quantile(scores: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new VaekitError(`A quantile must lie between 0 and 1, not ${q}.`);
  return quantileOfSorted(sortedScores(scores), q);
}

/**
 * The smallest threshold that flags at most a share `rate` of the normal scores: the
 * (n - m)-th smallest score, m = floor(rate n) the false positives allowed. Anything lower flags
 * that score and every one above it, m + 1 or more.
 */
export function fprThreshold(normalScores: ArrayLike<number>, rate: number): number {
  if (!(rate > 0 && rate < 1)) throw new VaekitError(`A false-positive rate must lie strictly between 0 and 1, not ${rate}.`);
  const sorted = sortedScores(normalScores);
  // The 1e-9 keeps rate n = 3 from becoming 2.9999999999999996 (0.3 x 10) and losing one.
  const allowed = Math.floor(rate * sorted.length + 1e-9);
  return sorted[sorted.length - 1 - allowed]!;
}

/** A generalized Pareto fit: shape gamma, scale sigma, and the log-likelihood they reach. */
export interface GpdFit {
  gamma: number;
  sigma: number;
  logLikelihood: number;
}

/** A POT threshold with what it came from. */
export interface PotFit extends GpdFit {
  /** z_q, the threshold for the risk. */
  threshold: number;
  /** t, the initial threshold (the LEVEL-quantile of the calibration scores). */
  initial: number;
  /** N_t, the calibration scores above t. */
  peaks: number;
  /** n, the calibration scores. */
  count: number;
}

/** The GPD log-likelihood of the excesses (gamma = 0: the exponential's). */
function gpdLogLikelihood(excesses: ArrayLike<number>, gamma: number, sigma: number): number {
  const n = excesses.length;
  let sum = 0;
  if (gamma === 0) {
    for (let i = 0; i < n; i++) sum += excesses[i]!;
    return -n * Math.log(sigma) - sum / sigma;
  }
  const x = gamma / sigma;
  for (let i = 0; i < n; i++) {
    const s = 1 + x * excesses[i]!;
    if (!(s > 0)) return -Infinity;
    sum += Math.log(s);
  }
  return -n * Math.log(sigma) - (1 + 1 / gamma) * sum;
}

/** Grimshaw's w(x) = u(x) v(x) - 1 (see the top comment); one pass over the excesses. */
function grimshawW(excesses: ArrayLike<number>, x: number): number {
  let inverse = 0;
  let logs = 0;
  for (let i = 0; i < excesses.length; i++) {
    const s = 1 + x * excesses[i]!;
    inverse += 1 / s;
    logs += Math.log(s);
  }
  const n = excesses.length;
  return (inverse / n) * (1 + logs / n) - 1;
}

/** Grid points per search interval: w is one pass over the excesses, so the grid sets the cost. */
const GRID = 24;

/**
 * The roots of w between consecutive grid points where it changes sign, each refined by the
 * Illinois variant of regula falsi (bisection's safety, near-secant speed: about 10 passes).
 */
function rootsOn(excesses: ArrayLike<number>, grid: number[]): number[] {
  const roots: number[] = [];
  let a = grid[0]!;
  let wa = grimshawW(excesses, a);
  for (let k = 1; k < grid.length; k++) {
    const b = grid[k]!;
    const wb = grimshawW(excesses, b);
    if (wa * wb < 0) {
      let [lo, wlo, hi, whi] = [a, wa, b, wb];
      let root = lo;
      let side = 0;
      for (let it = 0; it < 100; it++) {
        root = (lo * whi - hi * wlo) / (whi - wlo);
        if (Math.abs(hi - lo) <= 1e-12 * Math.abs(hi + lo)) break;
        const w = grimshawW(excesses, root);
        if (w * whi > 0) {
          [hi, whi] = [root, w];
          if (side === -1) wlo /= 2;
          side = -1;
        } else if (w * wlo > 0) {
          [lo, wlo] = [root, w];
          if (side === 1) whi /= 2;
          side = 1;
        } else {
          break;
        }
      }
      roots.push(root);
    }
    a = b;
    wa = wb;
  }
  return roots;
}

/**
 * The maximum-likelihood GPD of positive excesses by Grimshaw's trick. O(excesses) per point of
 * the search: 2 x 24 grid points and about 10 more per root.
 */
export function fitGpd(excesses: ArrayLike<number>): GpdFit {
  const n = excesses.length;
  if (n === 0) throw new VaekitError('A generalized Pareto fit needs at least one excess.');
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const y = excesses[i]!;
    if (!(y > 0 && y < Infinity)) throw new RangeError(`GPD excesses must be positive and finite, not ${y}.`);
    min = Math.min(min, y);
    max = Math.max(max, y);
    sum += y;
  }
  const mean = sum / n;
  let best: GpdFit = { gamma: 0, sigma: mean, logLikelihood: gpdLogLikelihood(excesses, 0, mean) };
  // Left interval (-1/max, 0): x = -f/max with f from ~1e-8 to 1 - 1e-8, dense at both ends
  // (near 0 the w curve is flat, near -1/max it dives; a bounded tail's root sits right there).
  const left = Array.from({ length: GRID }, (_, k) => -1 / max / (1 + Math.exp(18 - (36 * k) / (GRID - 1))));
  // Right interval (0, 2 (mean - min) / min^2]: log-spaced, since its end can be 1e10 times its root.
  const top = Math.min((2 * (mean - min)) / (min * min), 1e12 / mean);
  const bottom = 1e-8 / max;
  const right = top > bottom ? Array.from({ length: GRID }, (_, k) => bottom * (top / bottom) ** (k / (GRID - 1))) : [];
  for (const x of [...rootsOn(excesses, left), ...(right.length > 0 ? rootsOn(excesses, right) : [])]) {
    let logs = 0;
    for (let i = 0; i < n; i++) logs += Math.log(1 + x * excesses[i]!);
    const gamma = logs / n;
    const sigma = gamma / x;
    if (!(sigma > 0) || gamma === 0) continue;
    const logLikelihood = gpdLogLikelihood(excesses, gamma, sigma);
    if (logLikelihood > best.logLikelihood) best = { gamma, sigma, logLikelihood };
  }
  return best;
}

/** z_q from a fit: expm1 keeps the formula exact as gamma goes to 0 (where it becomes -sigma log r). */
function extremeQuantile(initial: number, fit: GpdFit, risk: number, count: number, peaks: number): number {
  const logRatio = Math.log((risk * count) / peaks);
  return initial + fit.sigma * (fit.gamma === 0 ? -logRatio : Math.expm1(-fit.gamma * logRatio) / fit.gamma);
}

/** The initial threshold, the excesses over it, and their fit, checked for enough peaks. */
function potStart(calibration: ArrayLike<number>, risk: number, level: number): { initial: number; excesses: number[]; count: number } {
  if (!(risk > 0 && risk < 1) || !(level > 0 && level < 1)) {
    throw new VaekitError(`A POT risk and level must lie strictly between 0 and 1, not ${risk} and ${level}.`);
  }
  const sorted = sortedScores(calibration);
  const initial = quantileOfSorted(sorted, level);
  const excesses: number[] = [];
  for (let i = sorted.length - 1; i >= 0 && sorted[i]! > initial; i--) excesses.push(sorted[i]! - initial);
  if (excesses.length < POT_MIN_PEAKS) {
    throw new VaekitError(`POT needs at least ${POT_MIN_PEAKS} calibration scores above its initial ${level}-quantile, and has ${excesses.length}; give it more normal scores or a lower level.`);
  }
  if (risk >= excesses.length / sorted.length) {
    throw new VaekitError(`A POT risk must be below the share of calibration scores above the initial threshold (${excesses.length / sorted.length}), not ${risk}.`);
  }
  return { initial, excesses, count: sorted.length };
}

/** The POT threshold for `risk` from calibration (normal) scores, t at their `level`-quantile. */
export function potThreshold(calibration: ArrayLike<number>, risk: number, level = POT_LEVEL): PotFit {
  const { initial, excesses, count } = potStart(calibration, risk, level);
  const fit = fitGpd(excesses);
  return { ...fit, threshold: extremeQuantile(initial, fit, risk, count, excesses.length), initial, peaks: excesses.length, count };
}

/**
 * Streaming POT (SPOT, Siffer et al. 2017, algorithm 2): a score above the threshold is flagged
 * and left out of the model (an anomaly must not teach the tail); one above the initial threshold
 * t but not flagged is a new peak, and the GPD is refitted (O(peaks)) and the threshold moved;
 * any other score only counts towards n. t stays where calibration put it, as in the paper.
 *
 * Leaving flagged scores out censors the tail: on a long stream with no anomalies the peaks look
 * lighter-tailed than they are and the threshold creeps down. Measured on exponential scores
 * (risk 1e-3, level 0.98, 20,000 calibration scores): the threshold's true exceedance averaged
 * 1.06 to 1.6 x the risk over the next 20,000 scores and 1.4 to 1.9 x over 60,000. Keep the risk
 * well below 1 - level, and recalibrate on a long stream.
 */
export class Spot {
  readonly risk: number;
  /** t, the initial threshold. */
  readonly initial: number;
  private readonly excesses: number[];
  private count: number;
  private fit: GpdFit;
  private z: number;

  constructor(calibration: ArrayLike<number>, risk: number, level = POT_LEVEL) {
    const { initial, excesses, count } = potStart(calibration, risk, level);
    this.risk = risk;
    this.initial = initial;
    this.excesses = excesses;
    this.count = count;
    this.fit = fitGpd(excesses);
    this.z = extremeQuantile(initial, this.fit, risk, count, excesses.length);
  }

  /** z_q, the current threshold. */
  get threshold(): number {
    return this.z;
  }

  /** The current GPD shape and scale. */
  get gamma(): number {
    return this.fit.gamma;
  }

  get sigma(): number {
    return this.fit.sigma;
  }

  /** Whether `score` is flagged; a new peak that is not moves the threshold. */
  update(score: number): boolean {
    if (Number.isNaN(score)) throw new VaekitError('SPOT was given a NaN score; every score must be a number.');
    if (score > this.z) return true;
    this.count++;
    if (score > this.initial) {
      this.excesses.push(score - this.initial);
      this.fit = fitGpd(this.excesses);
      this.z = extremeQuantile(this.initial, this.fit, this.risk, this.count, this.excesses.length);
    }
    return false;
  }
}

/** The indices of the scores strictly above the threshold. */
export function flagged(scores: ArrayLike<number>, threshold: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i]! > threshold) out.push(i);
  return out;
}

/** A run of points, both ends included: indices, or timestamps where a series has them. */
// The runs of flags live with the detection metrics (eval/, a floor below); re-exported for the callers here.
export { intervals, type Interval } from '../eval/detection.js';
