/**
 * Detection metrics against labels (true = anomaly), for points and for series. AUROC lives in
 * auroc.ts; a point is flagged when its score is strictly above the threshold, as in
 * src/anomaly/thresholds.ts. Precision with nothing flagged is 0 (sklearn's zero_division=0); a
 * recall needs at least one anomaly and says so otherwise.
 *
 * Range-based precision and recall (Tatbul et al. 2018, "Precision and Recall for Time Series"):
 * ranges are [first, last] indices, sorted and disjoint. A real range R's recall is
 * alpha * [R meets any prediction] + (1 - alpha) * cardinality * sum over predictions P of
 * omega(R, R n P), where omega is the positional-bias-weighted share of R's points that P covers
 * and cardinality is 1 ("one") or 1/(number of predictions meeting R) ("reciprocal", only when
 * more than one does). A prediction's precision is the same with the roles swapped; the paper
 * fixes alpha = 0 for precision, which is the default here for both.
 *
 * VUS-PR (Paparrizos et al. 2022, "Volume Under the Surface"), as implemented here, exactly:
 *   - Buffered labels for a buffer of length l: 1 inside every anomaly range; a point d = 1..
 *     floor(l/2) steps before a range's first point or after its last gets sqrt(1 - d/l) (the
 *     larger value where two ranges' buffers meet); 0 elsewhere. l = 0 and l = 1 add nothing.
 *   - At each distinct score s (flagging the points scoring >= s, tied points together):
 *       TP = sum of the buffered labels of the flagged points, soft,
 *       precision = TP / flagged,
 *       recall = existence * min(1, TP / P_l), P_l = (anomalous points + sum of buffered labels) / 2,
 *       existence = the share of anomaly ranges whose buffered span holds a flagged point.
 *   - Range-PR AUC(l) = sum over the distinct scores of (recall_n - recall_(n-1)) * precision_n,
 *     recall_0 = 0: the step rule of average precision, not the paper code's trapezoid over 250
 *     sampled thresholds, so that with one anomaly range and l = 0 it is exactly auprc().
 *   - VUS-PR = the mean of Range-PR AUC(l) over l = 0, 1, ..., maxBuffer.
 */
import { VaekitError } from '../errors.js';

export interface DetectionScores {
  precision: number;
  recall: number;
  f1: number;
}

function f1Of(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function checkLengths(what: string, a: ArrayLike<unknown>, labels: ArrayLike<boolean>): void {
  if (a.length !== labels.length) throw new VaekitError(`There are ${a.length} ${what} but ${labels.length} labels; they must match one to one.`);
}

function noAnomalies(metric: string): VaekitError {
  return new VaekitError(`${metric} needs at least one anomaly among the labels, and there is none.`);
}

/** Indices ordered by descending score, after checking no score is NaN. */
function descending(scores: ArrayLike<number>): Uint32Array {
  for (let i = 0; i < scores.length; i++) if (Number.isNaN(scores[i])) throw new VaekitError(`Score ${i} is NaN; every score must be a number.`);
  const order = new Uint32Array(scores.length).map((_, i) => i);
  // Comparisons, not a difference: Infinity - Infinity would be NaN.
  return order.sort((i, j) => (scores[j]! > scores[i]! ? 1 : scores[j]! < scores[i]! ? -1 : 0));
}

/**
 * AUPRC as average precision (sklearn's): sum over the distinct scores, highest first, of
 * (R_n - R_(n-1)) P_n, where a distinct score flags every point scoring at least that much.
 */
export function auprc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  checkLengths('scores', scores, positive);
  let positives = 0;
  for (let i = 0; i < positive.length; i++) if (positive[i]) positives++;
  if (positives === 0) throw noAnomalies('Average precision');
  const order = descending(scores);
  let tp = 0;
  let area = 0;
  for (let i = 0; i < order.length;) {
    const s = scores[order[i]!]!;
    const before = tp;
    for (; i < order.length && scores[order[i]!] === s; i++) if (positive[order[i]!]) tp++;
    area += ((tp - before) / positives) * (tp / i);
  }
  return area;
}

/** Point-wise precision, recall and F1 of flags. */
export function pointScores(flags: ArrayLike<boolean>, positive: ArrayLike<boolean>): DetectionScores {
  checkLengths('flags', flags, positive);
  let tp = 0;
  let flaggedCount = 0;
  let positives = 0;
  for (let i = 0; i < flags.length; i++) {
    if (flags[i]) flaggedCount++;
    if (positive[i]) positives++;
    if (flags[i] && positive[i]) tp++;
  }
  if (positives === 0) throw noAnomalies('Recall');
  const precision = flaggedCount > 0 ? tp / flaggedCount : 0;
  const recall = tp / positives;
  return { precision, recall, f1: f1Of(precision, recall) };
}

/** Point-wise precision, recall and F1 when the scores strictly above `threshold` are flagged. */
export function scoresAtThreshold(scores: ArrayLike<number>, positive: ArrayLike<boolean>, threshold: number): DetectionScores {
  return pointScores(Array.from(scores, (s) => s > threshold), positive);
}

/**
 * Point-adjusted scores: an anomaly range counts as wholly detected when any one of its points is
 * flagged. Kim et al. 2022 ("Towards a Rigorous Evaluation of Time-Series Anomaly Detection",
 * AAAI) show that random scores reach a high point-adjusted F1 on series with long anomaly
 * ranges, so this number only means something next to its plain twin (pointScores) and range
 * or VUS scores; it is here because papers report it.
 */
export function pointAdjustedF1(flags: ArrayLike<boolean>, positive: ArrayLike<boolean>): DetectionScores {
  checkLengths('flags', flags, positive);
  const adjusted = Array.from(flags, Boolean);
  for (const [start, end] of intervals(positive)) {
    let hit = false;
    for (let i = start; i <= end && !hit; i++) hit = adjusted[i]!;
    if (hit) adjusted.fill(true, start, end + 1);
  }
  return pointScores(adjusted, positive);
}

/** Where in a range a detected point counts most (Tatbul et al.'s delta). */
export type PositionalBias = 'flat' | 'front' | 'back' | 'middle';
/** How a range met by several others is discounted: not at all, or by 1/their number. */
export type Cardinality = 'one' | 'reciprocal';

export interface RangeOptions {
  /** Weight of the existence reward, 0 to 1 (default 0). */
  alpha?: number;
  bias?: PositionalBias;
  cardinality?: Cardinality;
}

/** delta(i, length) for position i = 1..length. */
function positionWeight(bias: PositionalBias, i: number, length: number): number {
  switch (bias) {
    case 'flat': return 1;
    case 'front': return length - i + 1;
    case 'back': return i;
    case 'middle': return i <= length / 2 ? i : length - i + 1;
  }
}

function checkRanges(ranges: readonly Interval[], what: string): void {
  let last = -1;
  for (const [start, end] of ranges) {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start > end || start <= last || start < 0) {
      throw new VaekitError(`The ${what} ranges must be [first, last] indices, sorted and disjoint; [${start}, ${end}] is not.`);
    }
    last = end;
  }
}

/**
 * The mean over `targets` of alpha * existence + (1 - alpha) * cardinality * sum of omega over
 * the `others` meeting each target: recall with targets = real ranges, precision with targets =
 * predicted ones. Both lists are sorted, so one pointer walks `others`.
 */
function rangeScore(targets: readonly Interval[], others: readonly Interval[], options: RangeOptions): number {
  const { alpha = 0, bias = 'flat', cardinality = 'one' } = options;
  if (!(alpha >= 0 && alpha <= 1)) throw new VaekitError(`The existence weight alpha must lie between 0 and 1, not ${alpha}.`);
  let total = 0;
  let first = 0;
  for (const [start, end] of targets) {
    const length = end - start + 1;
    while (first < others.length && others[first]![1] < start) first++;
    let weight = 0;
    for (let i = 1; i <= length; i++) weight += positionWeight(bias, i, length);
    let covered = 0;
    let met = 0;
    for (let k = first; k < others.length && others[k]![0] <= end; k++) {
      met++;
      const to = Math.min(end, others[k]![1]);
      for (let p = Math.max(start, others[k]![0]); p <= to; p++) covered += positionWeight(bias, p - start + 1, length);
    }
    const factor = cardinality === 'reciprocal' && met > 1 ? 1 / met : 1;
    total += alpha * (met > 0 ? 1 : 0) + (1 - alpha) * factor * (covered / weight);
  }
  return total / targets.length;
}

/** Range-based recall of the predicted ranges against the real ones. */
export function rangeRecall(real: readonly Interval[], predicted: readonly Interval[], options: RangeOptions = {}): number {
  checkRanges(real, 'real');
  checkRanges(predicted, 'predicted');
  if (real.length === 0) throw noAnomalies('Range-based recall');
  return rangeScore(real, predicted, options);
}

/** Range-based precision of the predicted ranges against the real ones (0 when nothing is predicted). */
export function rangePrecision(real: readonly Interval[], predicted: readonly Interval[], options: RangeOptions = {}): number {
  checkRanges(real, 'real');
  checkRanges(predicted, 'predicted');
  return predicted.length === 0 ? 0 : rangeScore(predicted, real, options);
}

/** Range-based precision, recall and their F1, each with its own options. */
export function rangeF1(
  real: readonly Interval[],
  predicted: readonly Interval[],
  options: { precision?: RangeOptions; recall?: RangeOptions } = {},
): DetectionScores {
  const precision = rangePrecision(real, predicted, options.precision);
  const recall = rangeRecall(real, predicted, options.recall);
  return { precision, recall, f1: f1Of(precision, recall) };
}

function checkBuffer(buffer: number): void {
  if (!Number.isInteger(buffer) || buffer < 0) throw new VaekitError(`A label buffer must be a whole number of points, 0 or more, not ${buffer}.`);
}

/** VUS's soft labels for a buffer of length `buffer` (the top comment has the definition). */
export function bufferedLabels(positive: ArrayLike<boolean>, buffer: number): Float64Array {
  checkBuffer(buffer);
  return buffered(positive.length, intervals(positive), buffer);
}

function buffered(n: number, ranges: readonly Interval[], buffer: number): Float64Array {
  const labels = new Float64Array(n);
  const half = Math.floor(buffer / 2);
  for (const [start, end] of ranges) {
    labels.fill(1, start, end + 1);
    for (let d = 1; d <= half; d++) {
      const w = Math.sqrt(1 - d / buffer);
      if (start - d >= 0) labels[start - d] = Math.max(labels[start - d]!, w);
      if (end + d < n) labels[end + d] = Math.max(labels[end + d]!, w);
    }
  }
  return labels;
}

/** Range-PR AUC for one buffer, given the descending order and the anomaly ranges. */
function rangePrArea(scores: ArrayLike<number>, order: Uint32Array, positive: ArrayLike<boolean>, ranges: Interval[], buffer: number): number {
  const n = scores.length;
  const labels = buffered(n, ranges, buffer);
  const half = Math.floor(buffer / 2);
  let anomalous = 0;
  let labelSum = 0;
  for (let i = 0; i < n; i++) {
    if (positive[i]) anomalous++;
    labelSum += labels[i]!;
  }
  const target = (anomalous + labelSum) / 2;
  // firstSpan[i]: the first range whose buffered span holds point i (-1: none). The spans are
  // sorted by both ends, so the ones holding i are firstSpan[i], firstSpan[i] + 1, ... while
  // their start minus the buffer is at most i.
  const firstSpan = new Int32Array(n).fill(-1);
  ranges.forEach(([start, end], k) => {
    for (let p = Math.max(0, start - half); p <= Math.min(n - 1, end + half); p++) if (firstSpan[p]! < 0) firstSpan[p] = k;
  });
  const hit = new Uint8Array(ranges.length);
  let hits = 0;
  let tp = 0;
  let recall = 0;
  let area = 0;
  for (let i = 0; i < n;) {
    const s = scores[order[i]!]!;
    for (; i < n && scores[order[i]!] === s; i++) {
      const p = order[i]!;
      tp += labels[p]!;
      for (let k = firstSpan[p]!; k >= 0 && k < ranges.length && ranges[k]![0] - half <= p; k++) {
        if (hit[k] === 0) {
          hit[k] = 1;
          hits++;
        }
      }
    }
    const next = (hits / ranges.length) * Math.min(1, tp / target);
    area += (next - recall) * (tp / i);
    recall = next;
  }
  return area;
}

function rangeInputs(scores: ArrayLike<number>, positive: ArrayLike<boolean>): { order: Uint32Array; ranges: Interval[] } {
  checkLengths('scores', scores, positive);
  const ranges = intervals(positive);
  if (ranges.length === 0) throw noAnomalies('Range-PR AUC');
  return { order: descending(scores), ranges };
}

/** The area under the range-PR curve for one label buffer (see the top comment). */
export function rangePrAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>, buffer: number): number {
  checkBuffer(buffer);
  const { order, ranges } = rangeInputs(scores, positive);
  return rangePrArea(scores, order, positive, ranges, buffer);
}

/** VUS-PR: the mean range-PR AUC over the buffers 0, 1, ..., maxBuffer (see the top comment). */
export function vusPr(scores: ArrayLike<number>, positive: ArrayLike<boolean>, maxBuffer: number): number {
  checkBuffer(maxBuffer);
  const { order, ranges } = rangeInputs(scores, positive);
  let sum = 0;
  for (let buffer = 0; buffer <= maxBuffer; buffer++) sum += rangePrArea(scores, order, positive, ranges, buffer);
  return sum / (maxBuffer + 1);
}

export type Interval = [start: number, end: number];

/** The maximal runs of consecutive flags, as [first, last] indices or their timestamps. */
export function intervals(flags: ArrayLike<boolean>, timestamps?: ArrayLike<number>): Interval[] {
  if (timestamps !== undefined && timestamps.length !== flags.length) {
    throw new VaekitError(`A series has ${flags.length} flags but ${timestamps.length} timestamps; they must match one to one.`);
  }
  const at = (i: number): number => (timestamps === undefined ? i : timestamps[i]!);
  const out: Interval[] = [];
  for (let i = 0; i < flags.length; i++) {
    if (!flags[i]) continue;
    const start = i;
    while (i + 1 < flags.length && flags[i + 1]) i++;
    out.push([at(start), at(i)]);
  }
  return out;
}
