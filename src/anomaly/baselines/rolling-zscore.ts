/**
 * Rolling z-score, the plain detector for series: a point is as anomalous as it is far from the
 * points just before it, in their standard deviations. For a series [T, C] (time steps in order,
 * C channels), the score of step t is the largest over channels of
 * |x[t] - mean| / max(std, minStd), the mean and the (population) standard deviation taken over the
 * `window` points before t (fewer at the start: steps 0 and 1, with fewer than two points before
 * them, score 0). It learns nothing from training rows: each series is scored against its own past.
 *
 * O(T C): each channel's window mean and sum of squared deviations are running sums, updated as a
 * point enters and one leaves (Welford's update). They are summed afresh every `window` steps, so
 * rounding cannot build up, and when the spread falls a thousandfold at once (a huge spike left the
 * window, and the subtraction lost its digits).
 */
import { VaekitError } from '../../errors.js';
import { rowCount, type FloatRows } from './rows.js';

export const DEFAULT_WINDOW = 100;
export const DEFAULT_MIN_STD = 1e-6;

export interface RollingZScoreOptions {
  /** The points before each step its mean and spread are taken over (default 100). */
  window?: number;
  /** The floor on the standard deviation, in the data's units (default 1e-6): a flat stretch does not divide by 0. */
  minStd?: number;
}

/** Each step's rolling z-score [T] for the series `series` [T, channels]. */
export function rollingZScores(series: FloatRows, channels: number, options: RollingZScoreOptions = {}): Float64Array {
  const C = channels;
  const T = rowCount(series, C, 'series');
  const W = options.window ?? DEFAULT_WINDOW;
  if (!Number.isInteger(W) || W < 2) throw new VaekitError(`The rolling z-score's window must be a whole number >= 2, not ${W}.`);
  const minStd = options.minStd ?? DEFAULT_MIN_STD;
  if (!(minStd > 0 && Number.isFinite(minStd))) throw new VaekitError(`The rolling z-score's floor on the standard deviation must be a positive number, not ${minStd}.`);
  const mean = new Float64Array(C); // over the window before step t
  const m2 = new Float64Array(C); // sum of squared deviations from `mean` over it
  /** Channel c's mean and m2 over steps from..to-1, summed afresh in two passes. */
  const resum = (c: number, from: number, to: number): void => {
    let s = 0;
    for (let u = from; u < to; u++) s += series[u * C + c]!;
    const m = s / (to - from);
    let q = 0;
    for (let u = from; u < to; u++) q += (series[u * C + c]! - m) ** 2;
    mean[c] = m;
    m2[c] = q;
  };
  const scores = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const count = Math.min(t, W);
    const o = t * C;
    if (t > 0 && t % W === 0) for (let c = 0; c < C; c++) resum(c, t - W, t);
    if (count >= 2) {
      let worst = 0;
      for (let c = 0; c < C; c++) {
        const std = Math.max(Math.sqrt(Math.max(m2[c]!, 0) / count), minStd);
        const z = Math.abs(series[o + c]! - mean[c]!) / std;
        if (z > worst) worst = z;
      }
      scores[t] = worst;
    }
    // Step t enters the window for step t + 1; step t - W leaves it once it is full.
    for (let c = 0; c < C; c++) {
      const x = series[o + c]!;
      const m = mean[c]!;
      if (count < W) {
        const next = m + (x - m) / (count + 1);
        mean[c] = next;
        m2[c] = m2[c]! + (x - m) * (x - next);
      } else {
        const y = series[(t - W) * C + c]!;
        const next = m + (x - y) / W;
        const before = m2[c]!;
        mean[c] = next;
        m2[c] = before + (x - y) * (x - next + y - m);
        // A point that dominated the spread left: the subtraction lost digits, so sum afresh.
        if (m2[c]! < 1e-3 * before) resum(c, t - W + 1, t + 1);
      }
    }
  }
  return scores;
}
