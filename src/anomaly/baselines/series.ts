/**
 * The baselines beside a series model, as per-point scores of the scored series (each series' T
 * points, NaN where a baseline gives none), so that they are judged exactly as the model's point
 * scores are:
 *
 *   pca, isolation-forest   fitted on the training windows' rows (standardized, a missing value 0,
 *                           as the model sees them), scoring every window of the scored series; a
 *                           point's score is the mean of the scores of the windows covering it
 *                           (pointScores in src/data/transforms/windows.ts), NaN where none does.
 *   rolling-zscore          each channel of each scored series, standardized as the windows are,
 *                           against its own previous `window` observed values (the model's window,
 *                           at least 2): rollingZScores on the channel's observed values in order,
 *                           NaN for a value with fewer than `window` observed values before it
 *                           (rollingZScores scores those over the few there are, the third point's
 *                           over two, which says nothing); a point's score is the largest over its
 *                           channels that have one (rollingZScores' own rule when nothing is
 *                           missing), NaN when none has. It learns nothing from the training windows.
 */
import type { Dataset } from '../../data/dataset.js';
import type { Series } from '../../data/sources/series.js';
import type { Standardization } from '../../data/transforms/standardize.js';
import { pointScores } from '../../data/transforms/windows.js';
import { VaekitError } from '../../errors.js';
import { BASELINES, type BaselineName } from './index.js';
import { rollingZScores } from './rolling-zscore.js';
import { datasetRows } from './rows.js';

export interface SeriesBaselineScores {
  name: BaselineName;
  /** Per series (the scored series' order), each point's score [T]; NaN where there is none. */
  points: Float64Array[];
}

/**
 * Every baseline's point scores of `series` (see the top of this file): `train` the training
 * windows and `windows` all windows of `series`, both cut and standardized as the model's are.
 */
export function seriesBaselineScores(train: Dataset, windows: Dataset, series: readonly Series[], options: { seed: number }): SeriesBaselineScores[] {
  const info = windows.series;
  if (info === undefined) throw new VaekitError(`The series baselines score windows of a time series, and ${windows.source} is not one.`);
  if (train.size !== windows.size) throw new VaekitError(`The training windows hold ${train.size} values each and the windows to score ${windows.size}; cut both with the same window.`);
  if (series.length !== info.timestamps.length || series.some((s, i) => s.timestamps.length !== info.timestamps[i]!.length)) {
    throw new VaekitError(`The windows of ${windows.source} were not cut from the ${series.length} series given; give the series they were cut from.`);
  }
  const trainRows = datasetRows(train);
  const scoredRows = datasetRows(windows);
  return BASELINES.map((b) => {
    if (b.series) return { name: b.name, points: series.map((s) => seriesZScores(s, info.standardization, Math.max(2, info.window))) };
    const fitted = b.fit(trainRows, train.size, options.seed);
    return { name: b.name, points: pointScores(info, fitted.score(scoredRows)) };
  });
}

/** A series' rolling z-scores [T]: per channel over its previous `window` observed values, standardized; the largest over the channels; NaN where no channel has one. */
function seriesZScores(s: Series, standardization: Standardization, window: number): Float64Array {
  const T = s.timestamps.length;
  const C = s.channels.length;
  const scores = new Float64Array(T).fill(Number.NaN);
  for (let c = 0; c < C; c++) {
    const at: number[] = [];
    for (let t = 0; t < T; t++) if (s.mask[t * C + c] === 1) at.push(t);
    const mean = standardization.mean[c]!;
    const std = standardization.std[c]!;
    const values = Float64Array.from(at, (t) => (s.values[t * C + c]! - mean) / std);
    const z = rollingZScores(values, 1, { window });
    at.forEach((t, k) => {
      if (k < window) return;
      const before = scores[t]!;
      if (Number.isNaN(before) || z[k]! > before) scores[t] = z[k]!;
    });
  }
  return scores;
}
