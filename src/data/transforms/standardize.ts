/**
 * Standardization of features: x' = (x - mean) / std per column, with the mean and standard
 * deviation of the training split. They are stored in the model bundle and applied by every later
 * command, so a model always sees its data in the units it was trained in.
 */
import { VaekitError } from '../../errors.js';
import { arrayDataset, storedChunks, type Dataset } from '../dataset.js';

export interface Standardization {
  mean: number[];
  std: number[];
}

/** Below this a column's standard deviation counts as 0 (a constant column), and 1 is used instead. */
export const MIN_STD = 1e-12;

/** Rows of values (`columns` each) whose column moments are taken; with a mask (same layout), only values whose mask is 1. */
export interface MomentRows {
  values: ArrayLike<number>;
  rows: number;
  mask?: Uint8Array | undefined;
}

/**
 * Per column: the mean and the population standard deviation, in float64, of the values of all the
 * `parts` times `scale` (two passes over them: the mean, then the squared deviations from it), and how many
 * values counted; a column with no value that counts has mean and std NaN.
 */
export function columnMoments(parts: Iterable<MomentRows>, columns: number, scale = 1): { mean: Float64Array; std: Float64Array; counts: Float64Array } {
  const D = columns;
  const mean = new Float64Array(D);
  const sq = new Float64Array(D);
  const counts = new Float64Array(D);
  for (const { values: v, rows, mask } of parts) {
    if (mask === undefined) {
      for (let r = 0; r < rows; r++) for (let j = 0; j < D; j++) mean[j] = mean[j]! + v[r * D + j]! * scale;
      for (let j = 0; j < D; j++) counts[j] = counts[j]! + rows;
    } else {
      for (let i = 0; i < rows * D; i++) {
        if (mask[i] === 1) {
          mean[i % D] = mean[i % D]! + v[i]! * scale;
          counts[i % D] = counts[i % D]! + 1;
        }
      }
    }
  }
  for (let j = 0; j < D; j++) mean[j] = counts[j]! > 0 ? mean[j]! / counts[j]! : NaN;
  for (const { values: v, rows, mask } of parts) {
    if (mask === undefined) {
      for (let r = 0; r < rows; r++) for (let j = 0; j < D; j++) sq[j] = sq[j]! + (v[r * D + j]! * scale - mean[j]!) ** 2;
    } else {
      for (let i = 0; i < rows * D; i++) if (mask[i] === 1) sq[i % D] = sq[i % D]! + (v[i]! * scale - mean[i % D]!) ** 2;
    }
  }
  const std = Float64Array.from(sq, (s, j) => (counts[j]! > 0 ? Math.sqrt(s / counts[j]!) : NaN));
  return { mean, std, counts };
}

/** Column means and (population) standard deviations of a set's values, in float64 (a streamed set's read twice). */
export function fitStandardization(set: Dataset): Standardization {
  const n = set.count;
  if (n === 0) throw new VaekitError(`${set.source} has no examples to standardize.`);
  const bytes = set.values === null ? set.streamed!.storedType === 'uint8' : set.values instanceof Uint8Array;
  const parts = { *[Symbol.iterator](): Generator<MomentRows> { for (const c of storedChunks(set)) yield { values: c.values, rows: c.rows }; } };
  const { mean, std } = columnMoments(parts, set.size, bytes ? 1 / 255 : 1);
  return { mean: [...mean], std: Array.from(std, (sd) => (sd > MIN_STD ? sd : 1)) };
}

/** The set with every value standardized (a float copy; a streamed set's: standardized as it is read). */
export function standardize(set: Dataset, stats: Standardization): Dataset {
  const D = set.size;
  if (stats.mean.length !== D || stats.std.length !== D) {
    throw new VaekitError(`${set.source} has ${D} features but the model was trained on ${stats.mean.length}.`);
  }
  if (set.values === null) return set.streamed!.standardized(stats);
  const out = new Float32Array(set.count * D);
  standardizeRows(set.values, set.count, stats, out);
  return arrayDataset({ values: out, shape: set.shape, labels: set.labels, labelNames: set.labelNames, featureNames: set.featureNames, source: set.source, ids: set.ids });
}

/** out[r, j] = (values[r, j] (bytes / 255) - mean[j]) / std[j] for `rows` rows: one formula in memory and streamed, so the same bits. */
export function standardizeRows(values: Uint8Array | Float32Array, rows: number, stats: Standardization, out: Float32Array): void {
  const D = stats.mean.length;
  const scale = values instanceof Uint8Array ? 1 / 255 : 1;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < D; j++) out[r * D + j] = (values[r * D + j]! * scale - stats.mean[j]!) / stats.std[j]!;
  }
}

/** Standardized values back in the data's own units: x = x' * std + mean (in place). */
export function unstandardize(values: Float32Array, rows: number, stats: Standardization): void {
  const D = stats.mean.length;
  for (let r = 0; r < rows; r++) for (let j = 0; j < D; j++) values[r * D + j] = values[r * D + j]! * stats.std[j]! + stats.mean[j]!;
}
