/**
 * vaekit anomaly on time series: a score for every point of every series, the points above a
 * threshold flagged, and their runs (intervals) in time.
 *
 *   --model M --data FILE     a saved series model scores FILE (or --test-data FILE), read with the
 *                             model's window, columns and standardization (run/series.ts seriesForModel)
 *   --data FILE --window W    a model trains on each series' first part (--train-until) and scores
 *                             every point of FILE (or of --test-data)
 *
 * The threshold (--threshold, default quantile:0.99) comes from the scores of held-out normal points:
 * those of the validation windows, the last share of each series' training part, which no model
 * trains on; pot:RISK fits the tail of the scored points' own scores. With point labels
 * (--label-column), the AUROC and AUPRC of the point scores, over the points after the training parts.
 */
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { flagged, intervals, parseThresholdSpec, potThreshold, thresholdFor, type ThresholdSpec } from '../../anomaly/thresholds.js';
import type { Dataset } from '../../data/dataset.js';
import { formatTime, type Series } from '../../data/sources/series.js';
import { trainingEnds } from '../../data/transforms/windows.js';
import { VaekitError } from '../../errors.js';
import { auroc } from '../../eval/auroc.js';
import { auprc } from '../../eval/detection.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { prepareOutputFile } from '../../io/output.js';
import { shortestFloat32 } from '../../io/rows.js';
import { seriesPointScores } from '../../pipelines/series-scores.js';
import { textCsv } from '../../pipelines/text.js';
import { loadBundle, type Bundle } from '../../run/bundle.js';
import { readRunRecord, RunFolder } from '../../run/folder.js';
import { RUN_FILES } from '../../run/names.js';
import { imagePlan, planRun } from '../../run/plan.js';
import { readSeriesRun, seriesForModel } from '../../run/series.js';
import { validateRunSpec, type RunSpec } from '../../run/spec.js';
import { trainRun } from '../../run/train-run.js';
import type { Vae } from '../../vae/model.js';
import { TerminalProgress } from '../progress.js';
import { inFlagWords, specFromFlags } from '../spec-flags.js';
import { inLockedFolder, nonNegativeInt, optionGiven, refuseGivenOptions, refuseOptionsOutside, say, viaLibrary, type TrainFlags } from '../options.js';

export interface SeriesAnomalyFlags extends TrainFlags {
  model?: string;
  testData?: string;
  scoreSamples: number;
  normalClass?: string;
  digit?: string;
  all?: boolean;
  threshold?: ThresholdSpec;
  impute: number;
}

/** The threshold when --threshold is not given. */
export const DEFAULT_SERIES_THRESHOLD = 'quantile:0.99';

/** The flagged intervals printed (all of them go to anomaly.json). */
const SHOWN_INTERVALS = 10;

/** The options only series scoring takes (attribute names): given, the anomaly command scores series. */
const SERIES_OPTIONS = ['window', 'stride', 'timeColumn', 'valueColumns', 'trainUntil', 'resample', 'threshold', 'impute'];

/** --threshold and --impute. */
export function addSeriesAnomalyOptions(cmd: Command): Command {
  return cmd
    .option('--threshold <spec>', `time series: flag the points scoring above it: quantile:Q or fpr:F of the held-out normal points' scores, pot:RISK[:LEVEL] (peaks over threshold, fitted to the scored points' scores) or a number (default ${DEFAULT_SERIES_THRESHOLD})`, viaLibrary(parseThresholdSpec))
    .option('--impute <n>', 'time series: MCMC iterations that fill in missing values before they are scored', nonNegativeInt, 0);
}

/** The saved series model in `dir`, or null (no --model, a model of other data, or one that does not load: the other paths say why). */
export function seriesModelAt(dir: string | undefined): Bundle | null {
  if (dir === undefined) return null;
  try {
    const bundle = loadBundle(dir);
    return bundle.data.series !== undefined && bundle.data.series !== null ? bundle : null;
  } catch {
    return null;
  }
}

/** Whether the anomaly command scores series: a series --model, or a series option given. */
export function scoresSeries(command: Command, model: Bundle | null): boolean {
  return model !== null || SERIES_OPTIONS.some((name) => optionGiven(command, name));
}

/** vaekit anomaly on series (see the top of this file); `model`: the series model of --model, if it is one. */
export async function seriesAnomaly(flags: SeriesAnomalyFlags, command: Command, model: Bundle | null): Promise<void> {
  refuseGivenOptions(command, ['normalClass', 'digit', 'all'], 'picks a class of labelled examples, and series are scored point by point (point labels, --label-column, only measure the scores)');
  if (model !== null) {
    await scoreWithModel(model, flags.model!, flags, command);
    return;
  }
  if (flags.model !== undefined) {
    const other = loadBundle(flags.model);
    const given = command.options.filter((o) => SERIES_OPTIONS.includes(o.attributeName()) && optionGiven(command, o.attributeName())).map((o) => o.long);
    throw new VaekitError(`${flags.model} holds a model of ${other.data.source}, not of time series, so the series options (${given.join(', ')}) do not apply to it.`);
  }
  await trainAndScore(flags);
}

/** The series a model scores, read as it reads them. */
interface Scored {
  series: Series[];
  windows: Dataset;
  /** Each series' first point after its training part, or null when the model trained on none of it. */
  trainedUntil: Int32Array | null;
}

/** A saved series model scores --test-data or --data; the held-out normal points come from its run's data (run.json). */
async function scoreWithModel(bundle: Bundle, dir: string, flags: SeriesAnomalyFlags, command: Command): Promise<void> {
  refuseOptionsOutside(command, ['model', 'data', 'testData', 'labelColumn', 'scoreSamples', 'seed', 'out', 'overwrite', 'threshold', 'impute'],
    `sets how a model trains or reads series, and ${dir} holds a trained series model, which reads series with its own window, columns and standardization`);
  if (!optionGiven(command, 'data') && flags.testData === undefined) throw new VaekitError('Give --data (or --test-data), the series to score: a .csv, .tsv or .npy file, or a folder of them.');
  const source = flags.testData ?? flags.data;
  const threshold = flags.threshold ?? parseThresholdSpec(DEFAULT_SERIES_THRESHOLD);
  const out = resolve(flags.out);
  for (const name of [RUN_FILES.scores, RUN_FILES.anomaly]) prepareOutputFile(join(out, name), { inputs: [flags.data, flags.testData] });
  const { series, windows } = seriesForModel(bundle.data, source, { labelColumn: flags.labelColumn ?? null, report: say, role: 'series to score' });
  const heldOut = heldOutWindows(dir, bundle, needsNormalScores(threshold));
  await inLockedFolder(out, () => writeSeriesScores(out, bundle.vae, { series, windows, trainedUntil: null }, heldOut, threshold, flags));
}

/** Whether a threshold is taken from held-out normal scores (a number, or POT over the scored points, is not). */
function needsNormalScores(spec: ThresholdSpec): boolean {
  return spec.kind === 'quantile' || spec.kind === 'fpr';
}

/**
 * The validation windows of the run that trained the model in `dir` (its run.json's data read again,
 * checked to standardize as it did), or null when there is no such run and `needed` is false.
 */
function heldOutWindows(dir: string, bundle: Bundle, needed: boolean): Dataset | null {
  const record = readRunRecord(dir);
  const why = `give --threshold as a number or pot:RISK, which need no held-out normal points`;
  if (record === null || typeof record.spec !== 'object' || record.spec === null) {
    if (!needed) return null;
    throw new VaekitError(`${dir} has no ${RUN_FILES.spec} saying which data it trained on, so it has no held-out normal points to take a threshold from: ${why}.`);
  }
  try {
    const run = readSeriesRun(validateRunSpec(record.spec).data);
    if (JSON.stringify(run.info.standardization) !== JSON.stringify(bundle.data.series!.standardization)) {
      throw new VaekitError('they no longer standardize as they did when it trained');
    }
    return run.validation;
  } catch (err) {
    if (!needed) return null;
    const detail = err instanceof Error ? err.message.replace(/\.$/, '') : String(err);
    throw new VaekitError(`The held-out normal points of ${dir} are those of the series it trained on, which cannot be used now (${detail}): ${why}.`);
  }
}

/** Trains a series model on --data (each series' part before --train-until) and scores every point of --data, or of --test-data. */
async function trainAndScore(flags: SeriesAnomalyFlags): Promise<void> {
  let spec: RunSpec;
  try {
    spec = validateRunSpec(specFromFlags(flags, { figures: false, checkpoints: false }));
  } catch (err) {
    throw inFlagWords(err);
  }
  const threshold = flags.threshold ?? parseThresholdSpec(DEFAULT_SERIES_THRESHOLD);
  const out = resolve(flags.out);
  RunFolder.check(out, { overwrite: flags.overwrite === true });
  const plan = imagePlan(await planRun(spec, { report: say }), 'vaekit anomaly');
  // Read before training, so that series the model cannot score are refused before anything is written.
  let scored: Scored;
  if (flags.testData !== undefined) {
    scored = { ...seriesForModel(plan.data, flags.testData, { labelColumn: flags.labelColumn ?? null, report: say, role: 'series to score' }), trainedUntil: null };
  } else {
    const again = seriesForModel(plan.data, spec.data.source, { labelColumn: spec.data.labelColumn });
    scored = { ...again, trainedUntil: trainingEnds(again.series, spec.data.trainUntil ?? undefined) };
  }
  const folder = RunFolder.create(out, { overwrite: flags.overwrite === true });
  try {
    const { vae } = await trainRun(plan, { folder, callbacks: [new TerminalProgress()] });
    await writeSeriesScores(folder.dir, vae, scored, plan.test, threshold, flags);
    folder.finish();
  } finally {
    folder.release();
  }
}

// ---- scores, threshold, flags, metrics (the parts a common anomaly report can take over) ------

/** The finite values of per-series scores, in one array. */
function finiteScores(scores: readonly Float64Array[]): Float64Array {
  return Float64Array.from(scores.flatMap((s) => Array.from(s).filter(Number.isFinite)));
}

/** The threshold `spec` asks for: from the held-out normal points' scores, or (pot, a number) from the scored points'. */
export function seriesThreshold(spec: ThresholdSpec, normal: Float64Array | null, scored: Float64Array): number {
  if (spec.kind === 'pot') return potThreshold(scored, spec.risk, spec.level).threshold;
  if (spec.kind === 'value') return spec.value;
  if (normal === null || normal.length === 0) throw new VaekitError('There are no held-out normal points to take the threshold from: give --threshold as a number or pot:RISK.');
  return thresholdFor(spec, normal);
}

export function formatThreshold(spec: ThresholdSpec): string {
  switch (spec.kind) {
    case 'value': return String(spec.value);
    case 'quantile': return `quantile:${spec.q}`;
    case 'fpr': return `fpr:${spec.rate}`;
    case 'pot': return `pot:${spec.risk}:${spec.level}`;
  }
}

export interface FlaggedInterval {
  /** The index of its series. */
  series: number;
  /** Its first and last points (indices in the series, both included). */
  first: number;
  last: number;
  /** Its highest score. */
  peak: number;
}

/** The runs of points scoring above the threshold, series by series. */
export function flaggedIntervals(scores: readonly Float64Array[], threshold: number): FlaggedInterval[] {
  return scores.flatMap((s, i) => {
    const flags = new Array<boolean>(s.length).fill(false);
    for (const t of flagged(s, threshold)) flags[t] = true;
    return intervals(flags).map(([first, last]) => ({ series: i, first, last, peak: s.subarray(first, last + 1).reduce((a, b) => Math.max(a, b), -Infinity) }));
  });
}

export interface PointMetrics {
  /** The points measured: those with a score, after each series' training part. */
  points: number;
  anomalous: number;
  auroc: number;
  auprc: number;
}

/**
 * AUROC and AUPRC of the point scores against the point labels, over the scored points at or after
 * `from` (each series' first point after its training part; all points when null); null without
 * labels, or when the measured points are not both normal and anomalous.
 */
export function seriesPointMetrics(series: readonly Series[], scores: readonly Float64Array[], from: Int32Array | null): PointMetrics | null {
  if (series.some((s) => s.labels === null)) return null;
  const measured: number[] = [];
  const positive: boolean[] = [];
  series.forEach((s, i) => {
    for (let t = from === null ? 0 : from[i]!; t < s.timestamps.length; t++) {
      const score = scores[i]![t]!;
      if (!Number.isFinite(score)) continue;
      measured.push(score);
      positive.push(s.labels![t] === 1);
    }
  });
  const anomalous = positive.filter(Boolean).length;
  if (anomalous === 0 || anomalous === measured.length) return null;
  return { points: measured.length, anomalous, auroc: auroc(measured, positive), auprc: auprc(measured, positive) };
}

/** Mean, standard deviation, extremes and 0.99 quantile of scores; null for none. */
function summary(scores: Float64Array | null): Record<string, number> | null {
  if (scores === null || scores.length === 0) return null;
  const n = scores.length;
  const mean = scores.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return { points: n, mean, std, min: scores.reduce((a, b) => Math.min(a, b), Infinity), max: scores.reduce((a, b) => Math.max(a, b), -Infinity), quantile99: thresholdFor({ kind: 'quantile', q: 0.99 }, scores) };
}

function scoreText(score: number): string {
  return Number.isFinite(score) ? String(Number(score.toPrecision(7))) : '';
}

/** scores.csv: one row per point: series (for several), time, each channel's value as read, score, label (labelled series), flagged. */
function scoresCsv(series: readonly Series[], scores: readonly Float64Array[], threshold: number): string {
  const several = series.length > 1;
  const labelled = series.every((s) => s.labels !== null);
  const header = [...(several ? ['series'] : []), 'time', ...series[0]!.channels, 'score', ...(labelled ? ['label'] : []), 'flagged'];
  const rows: string[][] = [];
  series.forEach((s, i) => {
    const C = s.channels.length;
    const name = basename(s.name);
    for (let t = 0; t < s.timestamps.length; t++) {
      const values = Array.from(s.values.subarray(t * C, (t + 1) * C), (v) => (Number.isNaN(v) ? '' : shortestFloat32(v)));
      const score = scores[i]![t]!;
      rows.push([
        ...(several ? [name] : []), formatTime(s.timestamps[t]!, s.time), ...values, scoreText(score),
        ...(labelled ? [String(s.labels![t])] : []), score > threshold ? '1' : '0',
      ]);
    }
  });
  return textCsv(header, rows);
}

/** Scores every point of `scored`, flags those above the threshold, and writes scores.csv and anomaly.json into `dir`. */
async function writeSeriesScores(dir: string, vae: Vae, scored: Scored, heldOut: Dataset | null, spec: ThresholdSpec, flags: SeriesAnomalyFlags): Promise<void> {
  const options = { samples: flags.scoreSamples, seed: flags.seed, impute: flags.impute };
  const scores = seriesPointScores(vae, scored.windows, options);
  const normal = heldOut === null ? null : finiteScores(seriesPointScores(vae, heldOut, options));
  const all = finiteScores(scores);
  const threshold = seriesThreshold(spec, normal, all);
  const found = flaggedIntervals(scores, threshold);
  const metrics = seriesPointMetrics(scored.series, scores, scored.trainedUntil);
  const { series } = scored;
  const info = scored.windows.series!;
  const points = series.reduce((n, s) => n + s.timestamps.length, 0);
  const flaggedPoints = found.reduce((n, f) => n + f.last - f.first + 1, 0);
  const at = (f: FlaggedInterval, t: number): string => formatTime(series[f.series]!.timestamps[t]!, series[f.series]!.time);
  const normalSummary = summary(normal);
  const result = {
    points, scoredPoints: all.length, series: series.length, source: scored.windows.source,
    window: info.window, stride: info.stride,
    score: 'each point\'s anomaly score (nats; higher is more anomalous), averaged over the windows that cover it; empty where no window covers it',
    heldOutNormal: normalSummary,
    threshold: { spec: formatThreshold(spec), value: threshold },
    flaggedPoints,
    intervals: found.map((f) => ({ series: series[f.series]!.name, start: at(f, f.first), end: at(f, f.last), points: f.last - f.first + 1, peakScore: f.peak })),
    labels: metrics,
  };
  const scoresPath = join(dir, RUN_FILES.scores);
  writeFileAtomic(scoresPath, scoresCsv(series, scores, threshold));
  writeFileAtomic(join(dir, RUN_FILES.anomaly), `${JSON.stringify(result, null, 2)}\n`);
  say(`Scored ${all.length.toLocaleString('en-US')} of ${points.toLocaleString('en-US')} points of ${scored.windows.source} (windows of ${info.window} points every ${info.stride}): ${scoresPath}`);
  const from = spec.kind === 'pot' ? `POT over the ${all.length} scored points' scores` : spec.kind === 'value' ? 'given' : `of the ${normal!.length} held-out normal points' scores`;
  say(`Threshold ${scoreText(threshold)} (${formatThreshold(spec)}, ${from}): ${flaggedPoints.toLocaleString('en-US')} points flagged in ${found.length} ${found.length === 1 ? 'interval' : 'intervals'}`);
  for (const f of found.slice(0, SHOWN_INTERVALS)) {
    const where = series.length > 1 ? `${basename(series[f.series]!.name)}: ` : '';
    say(`  ${where}${at(f, f.first)}${f.last > f.first ? ` .. ${at(f, f.last)}` : ''} (${f.last - f.first + 1} ${f.last === f.first ? 'point' : 'points'}, peak score ${scoreText(f.peak)})`);
  }
  if (found.length > SHOWN_INTERVALS) say(`  ... and ${found.length - SHOWN_INTERVALS} more intervals (all of them in ${join(dir, RUN_FILES.anomaly)})`);
  if (metrics !== null) {
    const where = scored.trainedUntil === null ? 'scored points' : 'scored points after the training parts';
    say(`Point labels: AUROC ${(100 * metrics.auroc).toFixed(2)}%, AUPRC ${(100 * metrics.auprc).toFixed(2)}% over the ${metrics.points.toLocaleString('en-US')} ${where} (${metrics.anomalous.toLocaleString('en-US')} anomalous)`);
  } else if (series.every((s) => s.labels !== null)) {
    say('Point labels: the measured points are not both normal and anomalous, so no AUROC or AUPRC.');
  }
}
