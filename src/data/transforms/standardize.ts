/**
 * Standardization of features: x' = (x - mean) / std per column, with the mean and standard
 * deviation of the training split. They are stored in the model bundle and applied by every later
 * command, so a model always sees its data in the units it was trained in.
 */
import { VaekitError } from '../../errors.js';
import { arrayDataset, type Dataset } from '../dataset.js';

export interface Standardization {
  mean: number[];
  std: number[];
}

/** Below this a column's standard deviation counts as 0 (a constant column), and 1 is used instead. */
const MIN_STD = 1e-12;

/** Column means and (population) standard deviations of a set's values, in float64. */
export function fitStandardization(set: Dataset): Standardization {
  const D = set.size;
  const n = set.count;
  if (n === 0) throw new VaekitError(`${set.source} has no examples to standardize.`);
  const mean = new Float64Array(D);
  const sq = new Float64Array(D);
  const scale = set.values instanceof Uint8Array ? 1 / 255 : 1;
  for (let r = 0; r < n; r++) for (let j = 0; j < D; j++) mean[j] = mean[j]! + set.values[r * D + j]! * scale;
  for (let j = 0; j < D; j++) mean[j] = mean[j]! / n;
  for (let r = 0; r < n; r++) for (let j = 0; j < D; j++) sq[j] = sq[j]! + (set.values[r * D + j]! * scale - mean[j]!) ** 2;
  const std = Array.from(sq, (s) => {
    const sd = Math.sqrt(s / n);
    return sd > MIN_STD ? sd : 1;
  });
  return { mean: [...mean], std };
}

/** The set with every value standardized (a float copy). */
export function standardize(set: Dataset, stats: Standardization): Dataset {
  const D = set.size;
  if (stats.mean.length !== D || stats.std.length !== D) {
    throw new VaekitError(`${set.source} has ${D} features but the model was trained on ${stats.mean.length}.`);
  }
  const scale = set.values instanceof Uint8Array ? 1 / 255 : 1;
  const out = new Float32Array(set.count * D);
  for (let r = 0; r < set.count; r++) {
    for (let j = 0; j < D; j++) out[r * D + j] = (set.values[r * D + j]! * scale - stats.mean[j]!) / stats.std[j]!;
  }
  return arrayDataset({ values: out, shape: set.shape, labels: set.labels, labelNames: set.labelNames, featureNames: set.featureNames, source: set.source, ids: set.ids });
}

/** Standardized values back in the data's own units: x = x' * std + mean (in place). */
export function unstandardize(values: Float32Array, rows: number, stats: Standardization): void {
  const D = stats.mean.length;
  for (let r = 0; r < rows; r++) for (let j = 0; j < D; j++) values[r * D + j] = values[r * D + j]! * stats.std[j]! + stats.mean[j]!;
}
