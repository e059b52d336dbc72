/**
 * Windows of time series: the Dataset a series model trains on and scores, and the way back from
 * its windows' scores to the series' points.
 *
 *   split           the first points of each series form its training part: `trainUntil` a
 *                   fraction f (0 < f < 1: the first floor(f * T) points) or a time (a number, or a
 *                   date string read as the series' dates are: the points before it)
 *   standardize     per channel, the mean and population standard deviation of the observed values
 *                   of every series' training part (src/data/transforms/standardize.ts's moments)
 *   cut             windows of W points, one every S points from each series' first point
 *                   (floor((T - W) / S) + 1 of a series of T points); a row holds W * C values,
 *                   channels-last (value (t, c) of the window at t * C + c), standardized, a missing
 *                   value 0 with its mask 0. The training windows lie within the training parts.
 *   map back        a point's score is the mean of the scores that the windows covering it give it
 *                   (pointScores).
 */
import { basename } from 'node:path';
import { bytesOf, digestRows, ROW_DIGEST_BYTES } from '../../io/digest.js';
import { accessPattern, arrayLike, isMapped, willNeed, type Kind, type MappableArray } from '../../io/mapped.js';
import { clip, VaekitError } from '../../errors.js';
import { checkGather, RowlessSet, type Dataset, type ExampleIds, type RowlessParts, type SeriesInfo, type StoredChunk, type StreamedRows } from '../dataset.js';
import { formatTime, parseDate, type Series } from '../sources/series.js';
import { columnMoments, MIN_STD, type Standardization } from './standardize.js';

export interface WindowOptions {
  /** Points per window (W). */
  window: number;
  /** Points between the starts of consecutive windows (S); 1 by default. */
  stride?: number;
  /** Where each series' training part ends (see the top of this file); by default the whole series trains. */
  trainUntil?: number | string;
  /** Names the datasets in messages; by default the series' file (or "N series"). */
  source?: string;
}

export interface SeriesWindows {
  /** The windows that lie within the training parts. */
  train: Dataset;
  /** Every window of every series, the training parts' too, to score. */
  all: Dataset;
  /** The standardization of the training parts, which both sets went through. */
  standardization: Standardization;
}

/** The training windows and all windows of `series`, standardized by their training parts (see the top of this file). */
export function seriesWindows(series: readonly Series[], options: WindowOptions): SeriesWindows {
  const trainEnds = trainingEnds(series, options.trainUntil);
  checkWindowFits(series, trainEnds, options.window, options.stride ?? 1);
  const standardization = fitSeriesStandardization(series, trainEnds);
  const cut = { window: options.window, stride: options.stride ?? 1, standardization, trainEnds, ...(options.source !== undefined ? { source: options.source } : {}) };
  const train = windowDataset(series, { ...cut, part: 'train' });
  const all = windowDataset(series, { ...cut, part: 'all' });
  return { train, all, standardization };
}

/**
 * How many points at the start of each series form its training part: all of them without
 * `trainUntil`, the first floor(f * T) for a fraction 0 < f < 1, else those before the time
 * `trainUntil` (a number, or a date string for series of dates).
 */
export function trainingEnds(series: readonly Series[], trainUntil?: number | string): Int32Array {
  if (trainUntil === undefined) return Int32Array.from(series, (s) => s.timestamps.length);
  if (typeof trainUntil === 'number') {
    if (!Number.isFinite(trainUntil)) throw new VaekitError(`data.trainUntil must be a fraction between 0 and 1 or a time, not ${trainUntil}.`);
    if (trainUntil > 0 && trainUntil < 1) return Int32Array.from(series, (s) => Math.floor(trainUntil * s.timestamps.length));
    return Int32Array.from(series, (s) => pointsBefore(s.timestamps, trainUntil));
  }
  const at = parseDate(trainUntil);
  if (!Number.isFinite(at)) throw new VaekitError(`data.trainUntil "${clip(trainUntil)}" is neither a fraction between 0 and 1 nor a time (a number or a date).`);
  return Int32Array.from(series, (s) => {
    if (s.time !== 'date') {
      throw new VaekitError(`data.trainUntil "${clip(trainUntil)}" is a date, but the times of ${s.name} are ${s.time === 'number' ? 'numbers' : 'point indices'}; give a number.`);
    }
    return pointsBefore(s.timestamps, at);
  });
}

/** The number of times before `at` (the times increase). */
function pointsBefore(times: Float64Array, at: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Per channel, the mean and population standard deviation of the observed values of the first
 * trainEnds[i] points of each series i; refuses a channel with no observed value there, or a
 * constant one (whose standardized values would divide by 0).
 */
export function fitSeriesStandardization(series: readonly Series[], trainEnds: Int32Array): Standardization {
  const channels = series[0]?.channels ?? [];
  const C = channels.length;
  const parts = series.map((s, i) => ({ values: s.values, rows: trainEnds[i]!, mask: s.mask }));
  const { mean, std, counts } = columnMoments(parts, C);
  const where = series.length === 1 ? series[0]!.name : `the ${series.length} series`;
  const part = trainEnds.every((end, i) => end === series[i]!.timestamps.length) ? '' : ' training part of';
  for (let c = 0; c < C; c++) {
    const name = clip(channels[c]!);
    if (counts[c] === 0) {
      throw new VaekitError(`The channel "${name}" has no observed value in the${part} ${where}, so it cannot be standardized; drop it or train on more of the series.`);
    }
    if (!(std[c]! > MIN_STD)) {
      throw new VaekitError(`The channel "${name}" is constant (${Number(mean[c]!.toPrecision(7))}) in the${part} ${where}, so it cannot be standardized; drop it (data.valueColumns) or train on more of the series.`);
    }
  }
  return { mean: [...mean], std: [...std] };
}

export interface WindowCut {
  window: number;
  stride: number;
  standardization: Standardization;
  /** Each series' training part (trainingEnds). */
  trainEnds: Int32Array;
  /** 'train': the windows within the training parts; 'all': every window. */
  part: 'train' | 'all';
  source?: string;
}

/**
 * The windows of `series` (see the top of this file) as a Dataset of shape [window * channels]
 * with its mask, its series info, ids ("START", or "FILE:START" for several series) and, when every
 * series has point labels, a label per window: 1 ("1") when any of its points is anomalous, else 0.
 * The windows are cut from the series as they are gathered, never all at once: held as rows they
 * would take `window` times the series' memory (a window per point at stride 1). Where a series is
 * held on disk (mapped, src/io/mapped.ts), so are the windows' starts, series and labels.
 */
export function windowDataset(series: readonly Series[], cut: WindowCut): Dataset {
  const { window: W, stride: S, standardization, trainEnds } = cut;
  checkWindowFits(series, trainEnds, W, S);
  const channels = series[0]!.channels;
  const C = channels.length;
  const { mean, std } = standardization;
  if (mean.length !== C || std.length !== C) throw new VaekitError(`The series have ${C} channels but the standardization has ${mean.length}.`);
  const ends = series.map((s, i) => (cut.part === 'train' ? trainEnds[i]! : s.timestamps.length));
  const perSeries = ends.map((end) => Math.floor((end - W) / S) + 1);
  const count = perSeries.reduce((a, b) => a + b, 0);
  const size = W * C;
  const make = placeOf(series);
  const starts = make(Int32Array, count, 'window starts');
  const seriesIndex = make(Int32Array, count, 'window series');
  const labelled = series.every((s) => s.labels !== null);
  const labels = labelled ? make(Int32Array, count, 'window labels') : null;
  let k = 0;
  series.forEach((s, i) => {
    for (let n = 0; n < perSeries[i]!; n++, k++) {
      const start = n * S;
      starts[k] = start;
      seriesIndex[k] = i;
      if (labels !== null) {
        const y = s.labels!;
        for (let t = start; t < start + W; t++) if (y[t] === 1) labels[k] = 1;
      }
    }
  });
  const info: SeriesInfo = {
    window: W,
    stride: S,
    channels,
    names: series.map((s) => s.name),
    timestamps: series.map((s) => s.timestamps),
    pointLabels: labelled ? series.map((s) => s.labels!) : null,
    trainEnds,
    standardization,
    seriesIndex,
    starts,
  };
  const short = series.map((s) => basename(s.name));
  const source = cut.source ?? (series.length === 1 ? series[0]!.name : `${series.length} series`);
  return new WindowSet(series, info, {
    count,
    shape: [size],
    labels,
    labelNames: labels !== null ? ['0', '1'] : null,
    featureNames: Array.from({ length: size }, (_, j) => `${channels[j % C]}@${Math.floor(j / C)}`),
    source: cut.part === 'train' && trainEnds.some((end, i) => end < series[i]!.timestamps.length) ? `${source} (training part)` : source,
    ids: series.length === 1 ? (r) => String(starts[r]) : (r) => `${short[seriesIndex[r]!]}:${starts[r]}`,
  });
}

/** New arrays in memory, or mapped when any of `series` is. */
function placeOf(series: readonly Series[]): <A extends MappableArray>(Type: Kind<A>, length: number, what: string) => A {
  const disk = series.find((s) => isMapped(s.values));
  return (Type, length, what) => (disk === undefined ? new Type(length) : arrayLike(disk.values, Type, length, what));
}

/** Windows per chunk of a pass over every window (the fingerprint): about 4 MB of values. */
const PASS_VALUES = 1 << 20;

/**
 * Batches whose windows gather asks the system to read from disk ahead of the batch it cuts, for
 * series held on disk: a shuffled pass touches pages all over the series, and under memory pressure
 * an epoch that read each page as the step reached it took twice as long (BENCHMARKS.md).
 */
const AHEAD_BATCHES = 8;

/** Windows of series (windowDataset), cut as they are gathered; subsets (a validation split) are views. */
class WindowSet extends RowlessSet implements Dataset, StreamedRows {
  readonly storedType = 'float32';
  readonly masked = true;
  /** Whether any series is held on disk (mapped), so that gather reads ahead. */
  private readonly onDisk: boolean;
  /** The order gather last read ahead in, and the position it read ahead to. */
  private advised: { order: Uint32Array | null; until: number } = { order: null, until: -1 };

  constructor(private readonly all: readonly Series[], readonly series: SeriesInfo, parts: RowlessParts) {
    super(parts);
    this.onDisk = all.some((s) => isMapped(s.values));
  }

  /** For series held on disk, asks the system to read the first AHEAD_BATCHES batches of `rows` windows of a pass in `order`. */
  prefetch(order: Uint32Array | null, rows: number): void {
    if (this.onDisk) this.readAhead(order, 0, Math.min(rows * AHEAD_BATCHES, order?.length ?? this.count));
  }

  /**
   * Asks the system to read the values and masks of the windows at positions [from, to) of `order`
   * from disk, and tells it whether the pass goes in order (null) or shuffled.
   */
  private readAhead(order: Uint32Array | null, from: number, to: number): void {
    for (const s of this.all) {
      accessPattern(s.values, order === null ? 'in order' : 'shuffled');
      accessPattern(s.mask, order === null ? 'in order' : 'shuffled');
    }
    const C = this.series.channels.length;
    for (let r = from; r < to; r++) {
      const k = order === null ? r : order[r]!;
      const s = this.all[this.series.seriesIndex[k]!]!;
      const at = this.series.starts[k]! * C;
      willNeed(s.values, at, this.size);
      willNeed(s.mask, at, this.size);
    }
    this.advised = { order, until: to };
  }

  get streamed(): StreamedRows {
    return this;
  }

  /** Window k's values, standardized (a missing value 0), into out[at...]: the formula its rows always had. */
  private cut(k: number, out: Float32Array, at: number): void {
    const s = this.all[this.series.seriesIndex[k]!]!;
    const { mean, std } = this.series.standardization;
    const C = mean.length;
    const from = this.series.starts[k]! * C;
    for (let j = 0; j < this.size; j++) {
      const c = j % C;
      out[at + j] = s.mask[from + j] === 1 ? (s.values[from + j]! - mean[c]!) / std[c]! : 0;
    }
  }

  gather(order: Uint32Array | null, start: number, rows: number, out: Float32Array): void {
    checkGather(this, order, start, rows, out);
    if (this.onDisk) {
      // The windows of the batches AHEAD_BATCHES on, past those an earlier gather in this order asked for.
      const to = Math.min(start + rows * (AHEAD_BATCHES + 1), order?.length ?? this.count);
      const { order: before, until } = this.advised;
      this.readAhead(order, before === order && until >= start + rows && until <= to ? until : start + rows, to);
    }
    for (let r = 0; r < rows; r++) this.cut(order === null ? start + r : order[start + r]!, out, r * this.size);
  }

  gatherMask(indices: ArrayLike<number>, rows: number, out: Uint8Array): void {
    const C = this.series.channels.length;
    for (let r = 0; r < rows; r++) {
      const k = indices[r]!;
      const from = this.series.starts[k]! * C;
      out.set(this.all[this.series.seriesIndex[k]!]!.mask.subarray(from, from + this.size), r * this.size);
    }
  }

  *chunks(): Generator<StoredChunk> {
    const per = Math.max(1, Math.floor(PASS_VALUES / this.size));
    const values = new Float32Array(Math.min(per, this.count) * this.size);
    for (let first = 0; first < this.count; first += per) {
      const rows = Math.min(per, this.count - first);
      this.gather(null, first, rows, values);
      yield { values: values.subarray(0, rows * this.size), rows, first };
    }
  }

  digests(): Uint8Array {
    const out = new Uint8Array(this.count * ROW_DIGEST_BYTES);
    for (const c of this.chunks()) digestRows(bytesOf(c.values), this.size * 4, c.rows, out, c.first);
    return out;
  }

  select(indices: Uint32Array, labels: Int32Array | null, source: string, ids: ExampleIds): Dataset {
    const w = this.series;
    const starts = arrayLike(w.starts, Int32Array, indices.length);
    const seriesIndex = arrayLike(w.seriesIndex, Int32Array, indices.length);
    indices.forEach((i, k) => {
      starts[k] = w.starts[i]!;
      seriesIndex[k] = w.seriesIndex[i]!;
    });
    const info = { ...w, starts, seriesIndex };
    return new WindowSet(this.all, info, { ...this.parts(), count: indices.length, labels, source, ids });
  }

  standardized(): Dataset {
    throw new Error(`${this.source}: series windows are standardized by their series already.`);
  }

  relabeled(labels: Int32Array | null, labelNames: readonly string[] | null): Dataset {
    return new WindowSet(this.all, this.series, { ...this.parts(), labels, labelNames });
  }
}

/** Refuses a window or stride that is not a whole number >= 1, and a window longer than a series' training part. */
function checkWindowFits(series: readonly Series[], trainEnds: Int32Array, W: number, S: number): void {
  if (!Number.isInteger(W) || W < 1) throw new VaekitError(`data.window must be a whole number of points >= 1, not ${W}.`);
  if (!Number.isInteger(S) || S < 1) throw new VaekitError(`data.stride must be a whole number of points >= 1, not ${S}.`);
  if (series.length === 0) throw new VaekitError('There are no series to cut into windows.');
  series.forEach((s, i) => {
    const T = s.timestamps.length;
    const end = trainEnds[i]!;
    if (end >= W) return;
    throw new VaekitError(
      end === T
        ? `${s.name} holds ${T} points, fewer than data.window (${W}); give a shorter window.`
        : `The training part of ${s.name} holds ${end} points${end > 0 ? ` (up to ${formatTime(s.timestamps[end - 1]!, s.time)})` : ''}, fewer than data.window (${W}); give a shorter window or a later data.trainUntil.`,
    );
  });
}

/**
 * Scores of windows back on the points of their series: for each series, [T * K] scores (point after
 * point), each the mean of the scores that the windows covering the point give it; NaN for a point no
 * window covers (the last points of a series when the stride skips them).
 *
 * `scores` holds, for each window of `info` (a window dataset's series info), in order, either one
 * score (the window's, given to each of its points), or W * K: one per point, or per point and
 * channel (K = C, channels-last as the rows are).
 */
export function pointScores(info: SeriesInfo, scores: ArrayLike<number>): Float64Array[] {
  const windows = info.starts.length;
  const W = info.window;
  const perWindow = windows === 0 ? 0 : scores.length / windows;
  if (!Number.isInteger(perWindow) || (perWindow !== 1 && perWindow % W !== 0)) {
    throw new RangeError(`pointScores: ${scores.length} scores for ${windows} windows of ${W} points; give 1, ${W} or ${W} * channels per window.`);
  }
  const sums = new PointScoreSums(info, perWindow === 1 ? 1 : perWindow / W, perWindow === 1);
  for (let k = 0; k < windows; k++) sums.add(k, scores, k * perWindow);
  return sums.means();
}

/**
 * pointScores window by window, so that a caller scoring batches of windows never holds every
 * window's scores at once: add(k, scores, at) takes window k's scores from scores[at...] (one, or
 * W * K), in any order; means() gives what pointScores gives when each window was added once, in
 * order.
 */
export class PointScoreSums {
  private readonly sums: Float64Array[];
  private readonly covered: Float64Array[];

  /** `K` scores per point (1, or the channels); `oneScore`: each window gives one score to all its points. */
  constructor(private readonly info: SeriesInfo, private readonly K: number, private readonly oneScore: boolean) {
    // Where the series' times are: in memory, or mapped for a series held on disk.
    this.sums = info.timestamps.map((t) => arrayLike(t, Float64Array, t.length * K, 'point scores'));
    this.covered = info.timestamps.map((t) => arrayLike(t, Float64Array, t.length, 'point scores'));
  }

  add(k: number, scores: ArrayLike<number>, at: number): void {
    const { K, oneScore } = this;
    const W = this.info.window;
    const sum = this.sums[this.info.seriesIndex[k]!]!;
    const cover = this.covered[this.info.seriesIndex[k]!]!;
    const start = this.info.starts[k]!;
    for (let t = 0; t < W; t++) {
      cover[start + t] = cover[start + t]! + 1;
      for (let c = 0; c < K; c++) {
        const score = oneScore ? scores[at]! : scores[at + t * K + c]!;
        sum[(start + t) * K + c] = sum[(start + t) * K + c]! + score;
      }
    }
  }

  /** Per series, each point's mean score [T * K] over the windows added that cover it; NaN where none does. */
  means(): Float64Array[] {
    const { K } = this;
    return this.sums.map((sum, i) => {
      const mean = arrayLike(sum, Float64Array, sum.length);
      for (let j = 0; j < sum.length; j++) mean[j] = sum[j]! / this.covered[i]![Math.floor(j / K)]!;
      return mean;
    });
  }
}
