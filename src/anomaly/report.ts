/**
 * Anomaly scores turned into something a user can act on, for any kind of data (images, table
 * rows, sentences, points of a series): a threshold and how it was chosen, the examples above it,
 * and, where labels say which examples are anomalies, how good the scores and the decision are.
 * Several methods (the VAE and its baselines) side by side in one Markdown table, with a sentence
 * that says which one ranks the anomalies best. The CLI (`vaekit anomaly`) and the studio share it.
 *
 * Metrics, with labels (true = anomaly), over the scores that are numbers (NaN scores, such as
 * points no window covers, are skipped):
 *   - AUROC (eval/auroc.ts) and AUPRC as average precision (eval/detection.ts): the ranking;
 *   - precision, recall and F1 of the examples flagged, those strictly above the threshold;
 *   - with `ranges` (points of a series, in order): Tatbul et al.'s range-based precision, recall
 *     and F1 (alpha 0, flat bias, cardinality one) and VUS-PR up to a label buffer of `vusBuffer`;
 *   - with `pointAdjust`: point-adjusted F1, which counts a whole anomaly range as found when one of
 *     its points is flagged. Kim et al. 2022 show random scores reach 0.97 on SWaT that way, so it
 *     is printed only when asked, and with that warning.
 */
import { auroc } from '../eval/auroc.js';
import { auprc, pointAdjustedF1, pointScores, rangeF1, vusPr } from '../eval/detection.js';
import { VaekitError } from '../errors.js';
import { BASELINES, type BaselineName, type FloatRows } from './baselines/index.js';
import {
  flagged as flaggedAbove, formatThresholdSpec, fprThreshold, intervals, POT_MIN_PEAKS, potThreshold, quantile, type ThresholdSpec,
} from './thresholds.js';

/** The threshold when the user names none: the 0.99-quantile of the normal scores (about 1% of normal examples flagged). */
export const DEFAULT_THRESHOLD: ThresholdSpec = { kind: 'quantile', q: 0.99 };

/** The warning point-adjusted F1 is always printed with. */
export const POINT_ADJUST_WARNING = 'Point-adjusted F1 counts a whole anomaly range as found when any one of its points is flagged: '
  + 'random scores reach 0.97 on SWaT that way (Kim et al. 2022), so read it only beside the plain and range-based F1.';

export interface DetectionOptions {
  /** Which scores are anomalies (true) by the labels, or null without labels. */
  isAnomaly: ArrayLike<boolean> | null;
  /**
   * Held-out normal scores that a quantile, fpr or POT threshold is taken on (scores of examples the
   * model never trained on); null takes it on the scores themselves, and the description says so.
   */
  normalScores: ArrayLike<number> | null;
  threshold: ThresholdSpec;
  /** What the normal scores are, for the description ("scores of the validation split, which the model never trained on"). */
  calibration?: string;
  /** The scores are the points of a series, in order: add range-based precision/recall/F1 and VUS-PR. */
  ranges?: boolean;
  /** VUS-PR's largest label buffer, in points (default: the median length of the anomaly ranges). */
  vusBuffer?: number;
  /** Add point-adjusted F1 (series only; see POINT_ADJUST_WARNING). */
  pointAdjust?: boolean;
}

export interface ThresholdChoice {
  /** The spec as the user writes it: "quantile:0.99", "fpr:0.05", "pot:0.01:0.98", "3.5". */
  spec: string;
  value: number;
  /** How the value was chosen, in words. */
  how: string;
}

export interface RangeMetrics {
  precision: number;
  recall: number;
  f1: number;
  vusPr: number;
  /** VUS-PR's largest label buffer, in points. */
  vusBuffer: number;
}

export interface DetectionMetrics {
  anomalies: number;
  normals: number;
  auroc: number;
  auprc: number;
  /** Of the flagged examples, the share that are anomalies (0 when none is flagged). */
  precision: number;
  /** Of the anomalies, the share flagged. */
  recall: number;
  f1: number;
  range: RangeMetrics | null;
  pointAdjustedF1: number | null;
}

export interface DetectionResult {
  /** The method: "VAE", "PCA", "isolation forest", "unigram". */
  name: string;
  threshold: ThresholdChoice;
  /** Scores that are numbers. */
  scored: number;
  /** NaN scores, skipped. */
  skipped: number;
  /** Indices (into the scores given) strictly above the threshold, ascending. */
  flagged: number[];
  /** Null without labels, or when the labels hold only anomalies or only normal examples. */
  metrics: DetectionMetrics | null;
}

/** A number for a sentence or a table: four significant digits. */
function short(x: number): string {
  return String(Number(x.toPrecision(4)));
}

/** The scores that are numbers, and their indices. */
function numbers(scores: ArrayLike<number>): { values: Float64Array; at: Int32Array } {
  const at: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!Number.isNaN(scores[i])) at.push(i);
  return { values: Float64Array.from(at, (i) => scores[i]!), at: Int32Array.from(at) };
}

/**
 * Refuses, before any work, a threshold that `count` normal scores cannot give: POT needs at
 * least POT_MIN_PEAKS of them above its initial LEVEL-quantile. Call it when the count is known
 * and training or scoring is still to come.
 */
export function checkCalibrationCount(spec: ThresholdSpec, count: number, what = 'normal scores'): void {
  if (spec.kind === 'value') return;
  if (count === 0) throw new VaekitError(`A ${formatThresholdSpec(spec)} threshold is taken on normal scores, and there are no ${what}.`);
  if (spec.kind === 'pot' && Math.floor((count - 1) * (1 - spec.level)) < POT_MIN_PEAKS) {
    const needed = Math.ceil(POT_MIN_PEAKS / (1 - spec.level)) + 1;
    throw new VaekitError(`POT at level ${spec.level} needs about ${needed} ${what} (${POT_MIN_PEAKS} above its initial threshold) and there are ${count}: use more data, a lower level (pot:RISK:LEVEL), or quantile:Q.`);
  }
}

/** The threshold `spec` asks for, taken on `calibration` (NaN skipped), and how, in words. */
export function chooseThreshold(spec: ThresholdSpec, calibration: ArrayLike<number>, words: string): ThresholdChoice {
  const text = formatThresholdSpec(spec);
  if (spec.kind === 'value') return { spec: text, value: spec.value, how: `the number given (${short(spec.value)})` };
  const { values } = numbers(calibration);
  checkCalibrationCount(spec, values.length, words);
  const n = `${values.length} ${words}`;
  switch (spec.kind) {
    case 'quantile':
      return { spec: text, value: quantile(values, spec.q), how: `the ${spec.q}-quantile of ${n}` };
    case 'fpr':
      return { spec: text, value: fprThreshold(values, spec.rate), how: `the lowest threshold that flags at most ${short(100 * spec.rate)}% of ${n}` };
    case 'pot': {
      const fit = potThreshold(values, spec.risk, spec.level);
      return {
        spec: text, value: fit.threshold,
        how: `peaks over threshold at risk ${spec.risk}: a generalized Pareto tail (shape ${short(fit.gamma)}, scale ${short(fit.sigma)}) fitted to the ${fit.peaks} of ${n} above their ${spec.level}-quantile ${short(fit.initial)}`,
      };
    }
  }
}

/** The median length of the anomaly ranges, at least 1. */
function medianRangeLength(positive: ArrayLike<boolean>): number {
  const lengths = intervals(positive).map(([a, b]) => b - a + 1).sort((a, b) => a - b);
  return Math.max(1, lengths[Math.floor((lengths.length - 1) / 2)] ?? 1);
}

/** One method's threshold, flags and (with labels) metrics for its scores: see DetectionOptions. */
export function detectionResult(name: string, scores: ArrayLike<number>, options: DetectionOptions): DetectionResult {
  const { isAnomaly } = options;
  if (isAnomaly !== null && isAnomaly.length !== scores.length) {
    throw new VaekitError(`There are ${scores.length} scores but ${isAnomaly.length} labels; they must match one to one.`);
  }
  if (options.pointAdjust === true && options.ranges !== true) {
    throw new VaekitError('Point-adjusted F1 needs the points of a series in order (ranges), and these scores are not.');
  }
  const { values, at } = numbers(scores);
  const words = options.normalScores === null
    ? 'scores being judged themselves (there are no held-out normal scores)'
    : options.calibration ?? 'held-out normal scores';
  const threshold = chooseThreshold(options.threshold, options.normalScores ?? values, words);
  const flagged = flaggedAbove(values, threshold.value).map((i) => at[i]!);
  const result: DetectionResult = { name, threshold, scored: values.length, skipped: scores.length - values.length, flagged, metrics: null };
  if (isAnomaly === null) return result;
  const positive = Array.from(at, (i) => Boolean(isAnomaly[i]));
  const anomalies = positive.filter(Boolean).length;
  if (anomalies === 0 || anomalies === positive.length) return result;
  const flags = Array.from(values, (s) => s > threshold.value);
  const point = pointScores(flags, positive);
  let range: RangeMetrics | null = null;
  if (options.ranges === true) {
    const vusBuffer = options.vusBuffer ?? medianRangeLength(positive);
    const r = rangeF1(intervals(positive), intervals(flags));
    range = { ...r, vusPr: vusPr(values, positive, vusBuffer), vusBuffer };
  }
  result.metrics = {
    anomalies, normals: positive.length - anomalies,
    auroc: auroc(values, positive), auprc: auprc(values, positive),
    ...point, range,
    pointAdjustedF1: options.pointAdjust === true ? pointAdjustedF1(flags, positive).f1 : null,
  };
  return result;
}

/**
 * The normal scores a threshold is taken on: held-out ones when there are some, else those of the
 * scored examples marked normal, else null (the threshold is then taken on the scores themselves).
 */
export function normalScoresOf(scores: ArrayLike<number>, isNormal: ArrayLike<boolean> | null, heldOut: ArrayLike<number> | null): ArrayLike<number> | null {
  if (heldOut !== null) return heldOut;
  if (isNormal === null) return null;
  const out: number[] = [];
  for (let i = 0; i < scores.length; i++) if (isNormal[i]) out.push(scores[i]!);
  return out;
}

/** How the baselines are named in tables and sentences. */
export const BASELINE_LABELS: Record<BaselineName, string> = { pca: 'PCA', 'isolation-forest': 'isolation forest', 'rolling-zscore': 'rolling z-score' };

export interface BaselineRows {
  /** The rows the model trained on [n, columns], in its units (standardized features, pixel values). */
  train: FloatRows;
  /** The rows scored [m, columns]. */
  scored: FloatRows;
  /** Held-out normal rows whose scores set the threshold (a run's validation split), or null. */
  heldOut: FloatRows | null;
  /** Without held-out rows: which scored rows are normal (their scores set the threshold), or null. */
  isNormal: ArrayLike<boolean> | null;
  columns: number;
  seed: number;
}

/**
 * PCA reconstruction error and an isolation forest (the baselines that score rows one by one),
 * each fitted on `rows.train`, scoring `rows.scored`, and put through detectionResult with the
 * normal scores taken as for the model (normalScoresOf).
 */
export function baselineResults(rows: BaselineRows, options: Omit<DetectionOptions, 'normalScores'>): DetectionResult[] {
  return BASELINES.filter((b) => !b.series).map((b) => {
    const fitted = b.fit(rows.train, rows.columns, rows.seed);
    const scores = fitted.score(rows.scored);
    const normalScores = normalScoresOf(scores, rows.isNormal, rows.heldOut === null ? null : fitted.score(rows.heldOut));
    return detectionResult(BASELINE_LABELS[b.name], scores, { ...options, normalScores });
  });
}

/** "VAE flags 12 of 300 above 3.21 (quantile:0.99: the 0.99-quantile of ...): 38, 75, 112, ..." */
export function flaggedLine(result: DetectionResult, idOf: (index: number) => string, shown = 5): string {
  const { flagged, threshold } = result;
  const first = flagged.slice(0, shown).map(idOf).join(', ') + (flagged.length > shown ? ', ...' : '');
  const skipped = result.skipped > 0 ? ` (${result.skipped} NaN scores skipped)` : '';
  return `${result.name} flags ${flagged.length} of ${result.scored}${skipped} above ${short(threshold.value)} (${threshold.spec}: ${threshold.how})${flagged.length > 0 ? `: ${first}` : ''}`;
}

/** A result as anomaly.json keeps it: the threshold, the flagged count and the first `shown` ids, the metrics. */
export function resultSummary(result: DetectionResult, idOf: (index: number) => string, shown = 20): object {
  const { metrics } = result;
  return {
    method: result.name,
    threshold: result.threshold,
    scored: result.scored,
    ...(result.skipped > 0 ? { skippedNaN: result.skipped } : {}),
    flagged: result.flagged.length,
    firstFlagged: result.flagged.slice(0, shown).map(idOf),
    ...(metrics === null ? {} : {
      auroc: metrics.auroc, auprc: metrics.auprc, precision: metrics.precision, recall: metrics.recall, f1: metrics.f1,
      ...(metrics.range !== null ? { range: metrics.range } : {}),
      ...(metrics.pointAdjustedF1 !== null ? { pointAdjustedF1: metrics.pointAdjustedF1 } : {}),
    }),
  };
}

const DASH = '—';
const fixed = (x: number | undefined): string => (x === undefined ? DASH : x.toFixed(3));

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The sentence under a comparison: the best method by AUPRC, and each baseline that beats the
 * model (`methods[0]`) in so many words. Null AUPRCs (no labels) make it say there is nothing to compare.
 */
function comparisonSentence(methods: ReadonlyArray<{ name: string; auprc: number | null }>, what = 'AUPRC'): string {
  const model = methods[0]!;
  const labelled = methods.filter((m): m is { name: string; auprc: number } => m.auprc !== null);
  if (model.auprc === null || labelled.length === 0) return 'No labels say which examples are anomalies, so there is no AUROC or AUPRC to compare: each method flags the scores above its own threshold.';
  const best = labelled.reduce((a, b) => (b.auprc > a.auprc ? b : a));
  const lines = [`Best by ${what}: ${best.name} (${best.auprc.toFixed(3)}).`];
  for (const m of labelled.slice(1)) {
    if (m.auprc > model.auprc) lines.push(`${capitalized(m.name)} scores a higher ${what} than the ${model.name} here (${m.auprc.toFixed(3)} vs ${model.auprc.toFixed(3)}).`);
  }
  return lines.join(' ');
}

/**
 * The methods side by side in Markdown, one row each (the model first, then its baselines):
 * method, AUROC, AUPRC, threshold, flagged, precision, recall, F1, with range F1 and VUS-PR when
 * the results have them and point-adjusted F1 when asked for; then a sentence naming the best
 * method by AUPRC and every baseline that beats the model, and the point-adjust warning.
 */
export function comparisonTable(results: readonly DetectionResult[]): string {
  if (results.length === 0) throw new RangeError('comparisonTable: no results.');
  const ranges = results.some((r) => (r.metrics?.range ?? null) !== null);
  const adjusted = results.some((r) => (r.metrics?.pointAdjustedF1 ?? null) !== null);
  const header = ['method', 'AUROC', 'AUPRC', 'threshold', 'flagged', 'precision', 'recall', 'F1', ...(ranges ? ['range F1', 'VUS-PR'] : []), ...(adjusted ? ['point-adjusted F1'] : [])];
  const lines = [row(header), row(header.map(() => '---'))];
  for (const r of results) {
    const m = r.metrics;
    lines.push(row([
      r.name, fixed(m?.auroc), fixed(m?.auprc), `${short(r.threshold.value)} (${r.threshold.spec})`, `${r.flagged.length} of ${r.scored}`,
      fixed(m?.precision), fixed(m?.recall), fixed(m?.f1),
      ...(ranges ? [fixed(m?.range?.f1), fixed(m?.range?.vusPr)] : []),
      ...(adjusted ? [fixed(m?.pointAdjustedF1 ?? undefined)] : []),
    ]));
  }
  const notes = [comparisonSentence(results.map((r) => ({ name: r.name, auprc: r.metrics?.auprc ?? null })))];
  if (adjusted) notes.push(POINT_ADJUST_WARNING);
  return `${lines.join('\n')}\n\n${notes.join('\n')}`;
}

/**
 * One-class runs (one model per normal class): every class's methods, then each method's mean
 * over the classes, in Markdown; the sentence under it compares the mean AUPRCs.
 */
export function oneClassTable(tasks: ReadonlyArray<{ normalClass: string; results: readonly DetectionResult[] }>): string {
  if (tasks.length === 0) throw new RangeError('oneClassTable: no tasks.');
  const header = ['normal class', 'method', 'AUROC', 'AUPRC', 'threshold', 'flagged', 'precision', 'recall', 'F1'];
  const lines = [row(header), row(header.map(() => '---'))];
  for (const t of tasks) {
    for (const r of t.results) {
      const m = r.metrics;
      lines.push(row([t.normalClass, r.name, fixed(m?.auroc), fixed(m?.auprc), `${short(r.threshold.value)} (${r.threshold.spec})`, `${r.flagged.length} of ${r.scored}`, fixed(m?.precision), fixed(m?.recall), fixed(m?.f1)]));
    }
  }
  const means = tasks[0]!.results.map((first, k) => {
    const all = tasks.map((t) => t.results[k]!.metrics);
    const mean = (pick: (m: DetectionMetrics) => number): number | null => (all.every((m) => m !== null) ? all.reduce((a, m) => a + pick(m!), 0) / all.length : null);
    return { name: first.name, auroc: mean((m) => m.auroc), auprc: mean((m) => m.auprc), precision: mean((m) => m.precision), recall: mean((m) => m.recall), f1: mean((m) => m.f1) };
  });
  for (const m of means) {
    const f = (x: number | null): string => fixed(x ?? undefined);
    lines.push(row(['mean', m.name, f(m.auroc), f(m.auprc), DASH, DASH, f(m.precision), f(m.recall), f(m.f1)]));
  }
  return `${lines.join('\n')}\n\n${comparisonSentence(means, 'mean AUPRC')}`;
}
