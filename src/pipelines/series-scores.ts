/**
 * STAND-IN, to be replaced at merge by the real src/pipelines/series-scores.ts (another helper's,
 * same signature): there a point's score is the sum over its channels of -log p(x|z) of each value,
 * averaged over the windows covering it, with missing points NaN and `impute` MCMC iterations.
 *
 * Here a point's score is the mean of the negative ELBOs (eval/anomaly.ts anomalyScores, `samples`
 * posterior samples each) of the windows covering it (windows.ts pointScores); `impute` is ignored,
 * and only a point that no window covers is NaN.
 */
import type { Dataset } from '../data/dataset.js';
import { pointScores } from '../data/transforms/windows.js';
import { VaekitError } from '../errors.js';
import { anomalyScores } from '../eval/anomaly.js';
import type { Vae } from '../vae/model.js';

/** Per series of `windows`' series info, a score for each of its points (see the top of this file). */
export function seriesPointScores(vae: Vae, windows: Dataset, options: { samples: number; seed: number; impute: number }): Float64Array[] {
  const info = windows.series;
  if (info === undefined) throw new VaekitError(`${windows.source} holds no series windows to score point by point.`);
  return pointScores(info, anomalyScores(vae, windows, options.samples, options.seed));
}
