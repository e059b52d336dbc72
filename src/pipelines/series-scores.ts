/**
 * Per-point anomaly scores of time series from a series model (Donut, Xu et al. 2018): each window
 * of the series is scored value by value with the negative log "reconstruction probability",
 * -log p(x_tc | z) averaged over posterior samples z ~ q(z | window) (Vae.reconstructionNll); a
 * point's score is the sum over its channels of those values' scores, each averaged over the windows
 * that cover the point (pointScores). Missing values score nothing: a point with every channel
 * missing gets NaN, as does a point no window covers. With `impute` > 0, the missing values of each
 * window are first imputed (Vae.imputeMissing, Donut's MCMC) so that the window's other points are
 * scored from a posterior that does not see zeros in their place; the missing values stay unscored.
 */
import { Random } from '../engine/random.js';
import { EVAL_BATCH, evalBatches } from '../data/inference.js';
import type { Dataset } from '../data/dataset.js';
import { pointScores } from '../data/transforms/windows.js';
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
  if (!Number.isInteger(samples) || samples < 1 || samples > MAX_SCORE_SAMPLES) {
    throw new VaekitError(`The posterior samples per score must be a whole number from 1 to ${MAX_SCORE_SAMPLES}, not ${samples}.`);
  }
  if (!Number.isInteger(impute) || impute < 0 || impute > MAX_IMPUTE_ITERATIONS) {
    throw new VaekitError(`The imputation iterations must be a whole number from 0 to ${MAX_IMPUTE_ITERATIONS}, not ${impute}.`);
  }
  const D = windows.size;
  const valueScores = new Float64Array(windows.count * D);
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
    vae.reconstructionNll(values, b.mask, b.rows, samples, rng, valueScores.subarray(b.start * D, (b.start + b.rows) * D), labels);
  }
  const C = info.channels.length;
  return pointScores(info, valueScores).map((perValue) => sumChannels(perValue, C));
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
