/**
 * Anomalies in time series, the part `vaekit anomaly` and the studio share: a series model scores
 * every point of the scored series (seriesPointScores), a threshold is chosen, the points above it
 * are flagged and their runs (intervals) found, and, with point labels, each method is measured
 * through report.ts's detectionResult, the baselines (--baselines) beside the model in one table.
 *
 *   threshold   quantile:Q and fpr:F are taken on the scores of held-out normal points, those the
 *               validation windows cover (the last share of each series' training part, or another
 *               series file), which no model trains on; pot:RISK fits the tail of the scored
 *               points' own scores (they are many, the held-out ones few); a number is itself.
 *               Each baseline takes its threshold by the same rule, on its own scores of the same
 *               points.
 *   flags       every point of every series scoring strictly above its method's threshold.
 *   metrics     over the measured points: every scored point, except, when the model trained on
 *               these very series, their training parts; the series one after another. AUROC,
 *               AUPRC, precision, recall and F1 of the flags, Tatbul et al.'s range-based precision,
 *               recall and F1, VUS-PR with label buffers up to the model's window, and, when asked,
 *               point-adjusted F1 (see POINT_ADJUST_WARNING).
 */
import { basename } from 'node:path';
import { BASELINE_LABELS, comparisonTable, detectionResult, type DetectionResult } from '../anomaly/report.js';
import { seriesBaselineScores } from '../anomaly/baselines/series.js';
import type { BaselineName } from '../anomaly/baselines/index.js';
import { formatThresholdSpec, intervals, type ThresholdSpec } from '../anomaly/thresholds.js';
import type { Dataset, SeriesInfo } from '../data/dataset.js';
import { formatTime, type Series } from '../data/sources/series.js';
import { pointScores } from '../data/transforms/windows.js';
import { VaekitError } from '../errors.js';
import type { Chart } from '../viz/charts.js';
import { formatDate } from '../viz/series-chart-spec.js';
import type { Vae } from '../vae/model.js';
import { seriesFigure } from './figures.js';
import { seriesPointScores, type SeriesScoreOptions } from './series-scores.js';

/** The series scored, as the model reads them. */
export interface ScoredSeries {
  /** The series as read. */
  series: readonly Series[];
  /** All their windows, cut and standardized as the model's (seriesForModel, or a run's windows.all). */
  windows: Dataset;
  /** Each series' first point after its training part when the model trained on these series (the metrics start there), or null. */
  trainedUntil: Int32Array | null;
}

/** Held-out normal points: the validation windows of the model's run and the series they were cut from. */
export interface HeldOutSeries {
  windows: Dataset;
  series: readonly Series[];
}

export interface SeriesAnomalyOptions {
  threshold: ThresholdSpec;
  scoring: SeriesScoreOptions;
  /** Needed for a quantile or fpr threshold; null: none. */
  heldOut: HeldOutSeries | null;
  /** The windows the model trained on, to fit the baselines on (standardized as the scored windows are); null: no baselines. */
  baselineTrain: Dataset | null;
  /** Add point-adjusted F1 to the metrics. */
  pointAdjust?: boolean;
}

/** A method's scores of every point and its judgement. */
export interface SeriesMethod {
  /** 'vae', or the baseline's name. */
  key: 'vae' | BaselineName;
  /** Per series, each point's score [T]; NaN where there is none. */
  points: Float64Array[];
  /** Its threshold, the measured points it flags (indices into them: SeriesAnomalyReport.idOf) and, with labels, its metrics. */
  result: DetectionResult;
}

/** A run of points of one series scoring above the threshold. */
export interface FlaggedInterval {
  /** The index of its series. */
  series: number;
  /** Its first and last points (indices in the series, both included). */
  first: number;
  last: number;
  /** Its highest score. */
  peak: number;
}

export interface SeriesAnomalyReport {
  /** The model first ("VAE"), then the baselines. */
  methods: SeriesMethod[];
  /** The model's flagged intervals, over every point of every series. */
  intervals: FlaggedInterval[];
  /** The model's scores of the held-out normal points, or null without them. */
  heldOutScores: Float64Array | null;
  /** Each series' first measured point. */
  measuredFrom: Int32Array;
  /** The measured point `k` (an index of a result's flags) as "TIME", or "FILE:TIME" for several series. */
  idOf: (k: number) => string;
  /** The methods side by side in Markdown (comparisonTable). */
  table: string;
}

/** Every point of `scored` scored by the model (and the baselines), thresholded, flagged and measured: see the top of this file. */
export function seriesAnomalies(vae: Vae, scored: ScoredSeries, options: SeriesAnomalyOptions): SeriesAnomalyReport {
  const info = scored.windows.series;
  if (info === undefined) throw new VaekitError(`Series anomalies need windows of a time series, and ${scored.windows.source} is not one.`);
  const { threshold, heldOut } = options;
  const fromHeldOut = threshold.kind === 'quantile' || threshold.kind === 'fpr';
  if (fromHeldOut && heldOut === null) {
    throw new VaekitError(`There are no held-out normal points to take a ${formatThresholdSpec(threshold)} threshold from: give the threshold as a number or pot:RISK, which need none.`);
  }
  const measuredFrom = scored.trainedUntil ?? new Int32Array(scored.series.length);
  const measure = (points: readonly Float64Array[]): Float64Array => Float64Array.from(scored.series.flatMap((_, i) => Array.from(points[i]!.subarray(measuredFrom[i]!))));
  const labelled = scored.series.every((s) => s.labels !== null);
  const isAnomaly = labelled ? Array.from(measure(scored.series.map((s) => Float64Array.from(s.labels!))), (y) => y === 1) : null;

  /** One method's judgement of its point scores, its threshold taken by the rule above (on `heldOutScores`, those of the held-out normal points). */
  const judge = (name: string, points: readonly Float64Array[], heldOutScores: Float64Array | null): DetectionResult => {
    const calibration = fromHeldOut
      ? { normalScores: heldOutScores!, calibration: 'scores of the held-out normal points (those of the validation windows, which the model never trained on)' }
      : { normalScores: numbers(points, null), calibration: 'scores of the scored points themselves' };
    return detectionResult(name, measure(points), {
      isAnomaly, threshold, ...calibration, ranges: true, vusBuffer: info.window, ...(options.pointAdjust === true ? { pointAdjust: true } : {}),
    });
  };

  const vaePoints = seriesPointScores(vae, scored.windows, options.scoring);
  const vaeHeldOut = heldOut === null ? null : heldOutPointScores(vae, heldOut, options.scoring);
  const methods: SeriesMethod[] = [{ key: 'vae', points: vaePoints, result: judge('VAE', vaePoints, vaeHeldOut) }];
  if (options.baselineTrain !== null) {
    const seed = { seed: options.scoring.seed };
    const baselines = seriesBaselineScores(options.baselineTrain, scored.windows, scored.series, seed);
    const held = fromHeldOut ? seriesBaselineScores(options.baselineTrain, heldOut!.windows, heldOut!.series, seed) : null;
    const covered = fromHeldOut ? coveredPoints(heldOut!.windows) : null;
    baselines.forEach((b, k) => methods.push({ key: b.name, points: b.points, result: judge(BASELINE_LABELS[b.name], b.points, held === null ? null : numbers(held[k]!.points, covered)) }));
  }

  const several = scored.series.length > 1;
  const owners: Array<[series: number, offset: number]> = [];
  let offset = 0;
  scored.series.forEach((s, i) => {
    owners.push([i, offset]);
    offset += s.timestamps.length - measuredFrom[i]!;
  });
  const idOf = (k: number): string => {
    let at = 0;
    while (at + 1 < owners.length && owners[at + 1]![1] <= k) at++;
    const s = scored.series[at]!;
    const time = formatTime(s.timestamps[measuredFrom[at]! + k - owners[at]![1]]!, s.time);
    return several ? `${basename(s.name)}:${time}` : time;
  };
  return {
    methods,
    intervals: flaggedIntervals(vaePoints, methods[0]!.result.threshold.value),
    heldOutScores: vaeHeldOut,
    measuredFrom,
    idOf,
    table: comparisonTable(methods.map((m) => m.result)),
  };
}

/**
 * The model's scores of the held-out normal points, those the validation windows cover, series
 * after series, the points no window covers and those with every value missing left out: what a
 * quantile or fpr threshold is taken on (`vaekit anomaly`, and the studio's Series page).
 */
export function heldOutPointScores(vae: Vae, heldOut: HeldOutSeries, scoring: SeriesScoreOptions): Float64Array {
  return numbers(seriesPointScores(vae, heldOut.windows, scoring), coveredPoints(heldOut.windows));
}

/** Per series, whether the windows of `windows` cover each point: the held-out normal points of validation windows. */
function coveredPoints(windows: Dataset): boolean[][] {
  const info: SeriesInfo | undefined = windows.series;
  if (info === undefined) throw new VaekitError(`The held-out normal points must be windows of a time series, and ${windows.source} is not one.`);
  return pointScores(info, new Float64Array(windows.count).fill(1)).map((ones) => Array.from(ones, (x) => !Number.isNaN(x)));
}

/** The scores that are numbers, series after series, of the points `where` holds (all of them when null). */
function numbers(points: readonly Float64Array[], where: boolean[][] | null): Float64Array {
  const out: number[] = [];
  points.forEach((p, i) => p.forEach((x, t) => {
    if (!Number.isNaN(x) && (where === null || where[i]![t] === true)) out.push(x);
  }));
  return Float64Array.from(out);
}

/** The runs of points scoring strictly above `threshold`, series by series. */
export function flaggedIntervals(points: readonly Float64Array[], threshold: number): FlaggedInterval[] {
  return points.flatMap((p, i) => intervals(Array.from(p, (x) => x > threshold)).map(([first, last]) => ({
    series: i, first, last, peak: p.subarray(first, last + 1).reduce((a, b) => Math.max(a, b), -Infinity),
  })));
}

/**
 * Series `i` of `scored` above the model's point scores, its threshold, its flagged and its
 * labelled intervals: titled with the series' file; under it `model` (a description of the model),
 * the end of the series' training part when the model trained on it, and the threshold.
 */
export async function seriesAnomalyFigure(scored: ScoredSeries, report: SeriesAnomalyReport, i: number, model: string): Promise<Chart> {
  const series = scored.series[i]!;
  const { points, result } = report.methods[0]!;
  const { value, spec } = result.threshold;
  const end = scored.trainedUntil?.[i] ?? 0;
  const last = series.timestamps[end - 1]!;
  const trained = end > 0 ? [`trained on the points up to ${series.time === 'date' ? `${formatDate(last)} (UTC)` : String(last)}`] : [];
  return seriesFigure(series, points[i]!, value, {
    title: `Anomaly scores of ${basename(series.name)}`,
    subtitle: [model, ...trained, `threshold ${Number(value.toPrecision(4))} (${spec})`].join(' · '),
    scoreTitle: 'anomaly score (nats)',
  });
}
