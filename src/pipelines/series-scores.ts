/**
 * Per-point anomaly scores of time series from a series model (Donut, Xu et al. 2018): each window
 * of the series is scored value by value with the negative log "reconstruction probability",
 * -log p(x_tc | z) averaged over posterior samples z ~ q(z | window) (Vae.reconstructionNll); a
 * point's score is the sum over its channels of those values' scores, each averaged over the windows
 * that cover the point (pointScores). Missing values score nothing: a point with every channel
 * missing gets NaN, as does a point no window covers. With `impute` > 0, the missing values of each
 * window are first imputed (Vae.imputeMissing, Donut's MCMC) so that the window's other points are
 * scored from a posterior that does not see zeros in their place; the missing values stay unscored.
 *
 * With `scoreBy: 'window'`, a window's score is the mean of its observed values' scores, and a
 * point's score the mean of the scores of the windows covering it: the way the window baselines (PCA,
 * isolation forest) score points, which spreads a short anomaly over a window's length. NAB's labelled
 * ranges are that wide (bench/series.ts), and there it ranks their points much better.
 */
import { Random } from '../engine/random.js';
import { EVAL_BATCH, evalBatches } from '../data/inference.js';
import type { Dataset } from '../data/dataset.js';
import { PointScoreSums } from '../data/transforms/windows.js';
import { VaekitError } from '../errors.js';
import { MAX_SCORE_SAMPLES } from '../eval/anomaly.js';
import { labelsFor, type Vae } from '../vae/model.js';

export interface SeriesScoreOptions {
  /** Posterior samples averaged per value's score (1 to MAX_SCORE_SAMPLES). */
  samples: number;
  /** Seed of the posterior samples (and of the imputation's). */
  seed: number;
  /** Iterations of the imputation of missing values (Donut's MCMC); 0: none. */
  impute: number;
  /** 'point' (default, Donut's): each point by its own values' scores; 'window': by the scores of the windows covering it (see the top of this file). */
  scoreBy?: 'point' | 'window';
}

/** The most imputation iterations per window. */
export const MAX_IMPUTE_ITERATIONS = 1000;

/** Stream offset so the scores' samples never share numbers with training's. */
const SERIES_SCORE_STREAM = 0x5e41e5;

/** Each series' per-point scores (windows.series.names order), one Float64Array of its T points; see the top of this file. */
export function seriesPointScores(vae: Vae, windows: Dataset, options: SeriesScoreOptions): Float64Array[] {
  const info = windows.series;
  if (info === undefined) throw new VaekitError(`Per-point scores need windows of a time series, and ${windows.source} is not one.`);
  if (windows.size !== vae.pixels) {
    throw new VaekitError(`The model takes windows of ${vae.pixels} values, but ${windows.source} has windows of ${windows.size}.`);
  }
  const { samples, impute } = options;
  if (options.scoreBy !== undefined && options.scoreBy !== 'point' && options.scoreBy !== 'window') {
    throw new VaekitError(`Points are scored by "point" or "window", not "${String(options.scoreBy)}".`);
  }
  if (!Number.isInteger(samples) || samples < 1 || samples > MAX_SCORE_SAMPLES) {
    throw new VaekitError(`The posterior samples per score must be a whole number from 1 to ${MAX_SCORE_SAMPLES}, not ${samples}.`);
  }
  if (!Number.isInteger(impute) || impute < 0 || impute > MAX_IMPUTE_ITERATIONS) {
    throw new VaekitError(`The imputation iterations must be a whole number from 0 to ${MAX_IMPUTE_ITERATIONS}, not ${impute}.`);
  }
  const D = windows.size;
  const C = info.channels.length;
  const byWindow = options.scoreBy === 'window';
  // Batch by batch into the points' sums, so that the scores of every window are never held at once.
  const sums = byWindow ? new PointScoreSums(info, 1, true) : new PointScoreSums(info, C, false);
  const valueScores = new Float64Array(EVAL_BATCH * D);
  const windowScores = new Float64Array(EVAL_BATCH);
  const imputed = new Float32Array(EVAL_BATCH * D);
  const rng = new Random((options.seed ^ SERIES_SCORE_STREAM) >>> 0);
  for (const b of evalBatches(windows, { noise: { kind: 'none' }, seed: options.seed }, EVAL_BATCH, vae.backend)) {
    const labels = labelsFor(vae, b.labels);
    let values = b.target;
    if (impute > 0 && b.mask !== null) {
      values = imputed;
      values.set(b.target.subarray(0, b.rows * D));
      vae.imputeMissing(values, b.mask, b.rows, impute, rng, labels);
    }
    vae.reconstructionNll(values, b.mask, b.rows, samples, rng, valueScores, labels);
    if (byWindow) windowMeans(valueScores, b.rows, D, windowScores);
    for (let r = 0; r < b.rows; r++) sums.add(b.start + r, byWindow ? windowScores : valueScores, byWindow ? r : r * D);
  }
  const means = sums.means();
  return byWindow ? means : means.map((perValue) => sumChannels(perValue, C));
}

/** out[k] for k < count, from [count * D]: each window's mean over its values' scores that are not NaN; NaN where all are. */
function windowMeans(valueScores: Float64Array, count: number, D: number, out: Float64Array): void {
  for (let k = 0; k < count; k++) {
    let sum = 0;
    let scored = 0;
    for (let j = k * D; j < (k + 1) * D; j++) {
      const v = valueScores[j]!;
      if (Number.isNaN(v)) continue;
      sum += v;
      scored++;
    }
    out[k] = scored === 0 ? Number.NaN : sum / scored;
  }
}

/** [T] from [T * C]: each point's sum over its channels' scores that are not NaN; NaN where all are. */
function sumChannels(perValue: Float64Array, C: number): Float64Array {
  const T = perValue.length / C;
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let sum = 0;
    let scored = 0;
    for (let c = 0; c < C; c++) {
      const v = perValue[t * C + c]!;
      if (Number.isNaN(v)) continue;
      sum += v;
      scored++;
    }
    out[t] = scored === 0 ? Number.NaN : sum;
  }
  return out;
}
