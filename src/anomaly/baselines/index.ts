/**
 * The baselines a VAE's anomaly scores are compared with, by name: each fits on training rows
 * [n, d] (row-major) and scores new rows, higher meaning more anomalous. The CLI and the studio
 * list them beside the VAE from BASELINES; a TypeScript user calls fitPca, fitIsolationForest or
 * rollingZScores directly for their options.
 */
import { VaekitError } from '../../errors.js';
import { DEFAULT_SUBSAMPLE, DEFAULT_TREES, fitIsolationForest } from './isolation-forest.js';
import { DEFAULT_VARIANCE_SHARE, fitPca } from './pca.js';
import { DEFAULT_WINDOW, rollingZScores } from './rolling-zscore.js';
import { rowCount, type FloatRows } from './rows.js';

export { fitPca, PcaBaseline, DEFAULT_VARIANCE_SHARE, type PcaOptions } from './pca.js';
export { fitIsolationForest, IsolationForest, averagePathLength, DEFAULT_TREES, DEFAULT_SUBSAMPLE, type IsolationForestOptions } from './isolation-forest.js';
export { rollingZScores, DEFAULT_WINDOW, DEFAULT_MIN_STD, type RollingZScoreOptions } from './rolling-zscore.js';
export type { FloatRows } from './rows.js';

export type BaselineName = 'pca' | 'isolation-forest' | 'rolling-zscore';

/** A fitted baseline: each row's anomaly score [n], higher for more anomalous rows. */
export interface BaselineScorer {
  score(rows: FloatRows): Float64Array;
}

export interface Baseline {
  name: BaselineName;
  /** One line for a table beside the VAE. */
  description: string;
  /** Whether the rows must be the time steps of one series, in order (the score looks at the steps before each). */
  series: boolean;
  /** Fitted on training rows [n, columns] with the default options and `seed`. */
  fit(train: FloatRows, columns: number, seed: number): BaselineScorer;
}

export const BASELINES: readonly Baseline[] = [
  {
    name: 'pca',
    description: `PCA reconstruction error: squared distance to the span of the components explaining ${100 * DEFAULT_VARIANCE_SHARE}% of the training variance`,
    series: false,
    fit: (train, columns) => fitPca(train, columns),
  },
  {
    name: 'isolation-forest',
    description: `Isolation forest (Liu et al. 2008): ${DEFAULT_TREES} random trees on ${DEFAULT_SUBSAMPLE}-row subsamples; rows isolated in fewer cuts score higher`,
    series: false,
    fit: (train, columns, seed) => fitIsolationForest(train, columns, { seed }),
  },
  {
    name: 'rolling-zscore',
    description: `Rolling z-score: the largest |x - mean| / std over channels, against the ${DEFAULT_WINDOW} steps before (learns nothing from training)`,
    series: true,
    fit: (train, columns) => {
      rowCount(train, columns, 'training rows');
      return { score: (rows) => rollingZScores(rows, columns) };
    },
  },
];

/** The baseline called `name` (a VaekitError naming the others for anything else). */
export function findBaseline(name: string): Baseline {
  const found = BASELINES.find((b) => b.name === name);
  if (found === undefined) throw new VaekitError(`Unknown baseline "${name}": use ${BASELINES.map((b) => b.name).join(', ')}.`);
  return found;
}
