/**
 * vaekit anomaly on time series: a score for every point of every series, the points above a
 * threshold flagged, their runs (intervals) in time, and a figure of each series above its scores.
 *
 *   --model M --data FILE     a saved series model scores FILE (or --test-data FILE), read with the
 *                             model's window, columns and standardization (run/series.ts seriesForModel)
 *   --data FILE --window W    a model trains on each series' first part (--train-until) and scores
 *                             every point of FILE (or of --test-data)
 *
 * The scoring, the threshold (--threshold, default quantile:0.99, from the held-out normal points'
 * scores), the flags, the metrics with point labels (--label-column) and the baselines (--baselines)
 * are src/pipelines/series-anomaly.ts's; this file reads the flags, prints and writes scores.csv,
 * anomaly.json, anomaly.md and the figures.
 */
import { basename, extname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_THRESHOLD, resultSummary } from '../../anomaly/report.js';
import { quantile, type ThresholdSpec } from '../../anomaly/thresholds.js';
import { formatTime, type Series } from '../../data/sources/series.js';
import { VaekitError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { prepareOutputFile } from '../../io/output.js';
import { shortestFloat32 } from '../../io/rows.js';
import { seriesAnomalies, seriesAnomalyFigure, type FlaggedInterval, type HeldOutSeries, type ScoredSeries, type SeriesAnomalyReport } from '../../pipelines/series-anomaly.js';
import { textCsv } from '../../pipelines/text.js';
import { loadBundle, type Bundle } from '../../run/bundle.js';
import { RunFolder } from '../../run/folder.js';
import { RUN_FILES } from '../../run/names.js';
import { imagePlan, planRun } from '../../run/plan.js';
import { readSeriesRun, seriesForModel, trainingRun } from '../../run/series.js';
import { validateRunSpec, type RunSpec } from '../../run/spec.js';
import { lossOf } from '../../run/training-record.js';
import { trainRun } from '../../run/train-run.js';
import type { Vae } from '../../vae/model.js';
import { describeModel } from '../../viz/figures.js';
import { TerminalProgress } from '../progress.js';
import { inFlagWords, specFromFlags } from '../spec-flags.js';
import { inLockedFolder, nonNegativeInt, optionGiven, refuseGivenOptions, refuseOptionsOutside, say, type TrainFlags } from '../options.js';

export interface SeriesAnomalyFlags extends TrainFlags {
  model?: string;
  testData?: string;
  scoreSamples: number;
  normalClass?: string;
  digit?: string;
  all?: boolean;
  threshold?: ThresholdSpec;
  impute: number;
  scoreBy: 'point' | 'window';
  baselines?: boolean;
  pointAdjust?: boolean;
}

/** The flagged intervals printed (all of them go to anomaly.json). */
const SHOWN_INTERVALS = 10;

/** The series drawn, one figure each; the others are counted. */
export const MAX_SERIES_FIGURES = 20;

/** The options only series scoring takes (attribute names): given, the anomaly command scores series. */
const SERIES_OPTIONS = ['window', 'stride', 'timeColumn', 'valueColumns', 'trainUntil', 'resample', 'impute', 'scoreBy'];

/** --impute and --score-by (--threshold, --baselines and --point-adjust are anomaly.ts's, for every kind). */
export function addSeriesAnomalyOptions(cmd: Command): Command {
  return cmd
    .option('--impute <n>', 'time series: MCMC iterations that fill in missing values before they are scored', nonNegativeInt, 0)
    .addOption(new Option('--score-by <how>', "time series: a point's score is its own value's -log p(x|z) averaged over the windows covering it (point, Donut's), "
      + "or the mean of those windows' scores (window: an anomaly spreads over its neighbours, as NAB's wide labels want; BENCHMARKS.md)").choices(['point', 'window']).default('point'));
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

/** The files every series scoring writes (the figures' names depend on the series: figureNames). */
const OUTPUT_FILES = [RUN_FILES.scores, RUN_FILES.anomaly, RUN_FILES.anomalyMarkdown];

/** A saved series model scores --test-data or --data; the held-out normal points and the baselines' training windows come from its run's data (run.json). */
async function scoreWithModel(bundle: Bundle, dir: string, flags: SeriesAnomalyFlags, command: Command): Promise<void> {
  refuseOptionsOutside(command, ['model', 'data', 'memoryBudget', 'testData', 'labelColumn', 'scoreSamples', 'seed', 'out', 'overwrite', 'threshold', 'impute', 'scoreBy', 'baselines', 'pointAdjust'],
    `sets how a model trains or reads series, and ${dir} holds a trained series model, which reads series with its own window, columns and standardization`);
  if (!optionGiven(command, 'data') && flags.testData === undefined) throw new VaekitError('Give --data (or --test-data), the series to score: a .csv, .tsv or .npy file, or a folder of them.');
  const source = flags.testData ?? flags.data;
  const threshold = flags.threshold ?? DEFAULT_THRESHOLD;
  const out = resolve(flags.out);
  const inputs = [flags.data, flags.testData];
  for (const name of OUTPUT_FILES) prepareOutputFile(join(out, name), { inputs });
  const { series, windows } = seriesForModel(bundle.data, source, { labelColumn: flags.labelColumn ?? null, report: say, role: 'series to score', memoryBudget: flags.memoryBudget });
  for (const name of figureNames(series).flat()) prepareOutputFile(join(out, name), { inputs });
  const run = trainingRun(dir, bundle.data.series!, [
    ...(threshold.kind === 'quantile' || threshold.kind === 'fpr' ? [{ what: 'held-out normal points to take a threshold from', fix: 'give --threshold as a number or pot:RISK, which need no held-out normal points' }] : []),
    ...(flags.baselines === true ? [{ what: 'training windows to fit --baselines on', fix: 'leave out --baselines, or let vaekit anomaly train a model on --data (with --window) beside them' }] : []),
  ]);
  const model = describeModel(bundle.vae.config, lossOf(bundle.training));
  await inLockedFolder(out, () => writeSeriesAnomaly(out, bundle.vae, { series, windows, trainedUntil: null }, {
    heldOut: run === null ? null : { windows: run.validation, series: run.validationSeries },
    baselineTrain: flags.baselines === true ? run!.train : null,
  }, threshold, flags, `${model} · ${dir}`));
}

/** Trains a series model on --data (each series' part before --train-until) and scores every point of --data, or of --test-data. */
async function trainAndScore(flags: SeriesAnomalyFlags): Promise<void> {
  let spec: RunSpec;
  try {
    spec = validateRunSpec(specFromFlags(flags, { figures: false, checkpoints: false }));
  } catch (err) {
    throw inFlagWords(err);
  }
  const threshold = flags.threshold ?? DEFAULT_THRESHOLD;
  const out = resolve(flags.out);
  RunFolder.check(out, { overwrite: flags.overwrite === true });
  const plan = imagePlan(await planRun(spec, { report: say }), 'vaekit anomaly');
  // The run's series again (as the plan read them): their held-out normal points, the baselines'
  // training windows, and the series scored without --test-data. Read before training, so that
  // series the model cannot score are refused before anything is written.
  const run = readSeriesRun(spec.data);
  const scored: ScoredSeries = flags.testData !== undefined
    ? { ...seriesForModel(plan.data, flags.testData, { labelColumn: flags.labelColumn ?? null, report: say, role: 'series to score', memoryBudget: spec.data.memoryBudget }), trainedUntil: null }
    : { series: run.series, windows: run.windows.all, trainedUntil: run.windows.all.series!.trainEnds };
  const heldOut: HeldOutSeries = { windows: plan.test, series: run.validationSeries };
  const folder = RunFolder.create(out, { overwrite: flags.overwrite === true });
  try {
    const { vae } = await trainRun(plan, { folder, callbacks: [new TerminalProgress()] });
    try {
      await writeSeriesAnomaly(folder.dir, vae, scored, { heldOut, baselineTrain: flags.baselines === true ? run.train : null }, threshold, flags, describeModel(vae.config, flags.loss));
    } catch (err) {
      // Scoring can fail only after training (a POT risk the scores cannot reach): the trained model is whole, so it is kept, and said so.
      if (err instanceof VaekitError) throw new VaekitError(`${err.message.replace(/\.$/, '')}; the trained model is saved in ${folder.dir}: score with it again (vaekit anomaly --model ${folder.dir} --data ...) without training.`);
      throw err;
    }
    folder.finish();
  } finally {
    folder.release();
  }
}

// ---- printing and writing ----------------------------------------------------------------------

/** [png, svg] for each series drawn: series.png for one series, series-NAME.png for several (the first MAX_SERIES_FIGURES). */
export function figureNames(series: readonly Series[]): Array<[string, string]> {
  if (series.length === 1) return [['series.png', 'series.svg']];
  const safe = (name: string): string => name.replace(/[^A-Za-z0-9._-]+/g, '_');
  const stems = series.map((s) => safe(basename(s.name, extname(s.name))));
  return series.slice(0, MAX_SERIES_FIGURES).map((s, i) => {
    const stem = stems.indexOf(stems[i]!) === stems.lastIndexOf(stems[i]!) ? stems[i]! : safe(basename(s.name));
    return [`series-${stem}.png`, `series-${stem}.svg`];
  });
}

/** Mean, standard deviation, extremes and 0.99 quantile of scores; null for none. */
function summary(scores: Float64Array | null): Record<string, number> | null {
  if (scores === null || scores.length === 0) return null;
  const n = scores.length;
  const mean = scores.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return { points: n, mean, std, min: scores.reduce((a, b) => Math.min(a, b), Infinity), max: scores.reduce((a, b) => Math.max(a, b), -Infinity), quantile99: quantile(scores, 0.99) };
}

function scoreText(score: number): string {
  return Number.isFinite(score) ? String(Number(score.toPrecision(7))) : '';
}

/**
 * scores.csv: one row per point: series (for several), time, each channel's value as read, the
 * model's score, each baseline's (score_pca, ...), label (labelled series), flagged (by the model).
 */
function scoresCsv(series: readonly Series[], report: SeriesAnomalyReport): string {
  const several = series.length > 1;
  const labelled = series.every((s) => s.labels !== null);
  const [model, ...baselines] = report.methods;
  const threshold = model!.result.threshold.value;
  const header = [
    ...(several ? ['series'] : []), 'time', ...series[0]!.channels, 'score', ...baselines.map((b) => `score_${b.key.replaceAll('-', '_')}`),
    ...(labelled ? ['label'] : []), 'flagged',
  ];
  const rows: string[][] = [];
  series.forEach((s, i) => {
    const C = s.channels.length;
    const name = basename(s.name);
    for (let t = 0; t < s.timestamps.length; t++) {
      const values = Array.from(s.values.subarray(t * C, (t + 1) * C), (v) => (Number.isNaN(v) ? '' : shortestFloat32(v)));
      const score = model!.points[i]![t]!;
      rows.push([
        ...(several ? [name] : []), formatTime(s.timestamps[t]!, s.time), ...values, scoreText(score), ...baselines.map((b) => scoreText(b.points[i]![t]!)),
        ...(labelled ? [String(s.labels![t])] : []), score > threshold ? '1' : '0',
      ]);
    }
  });
  return textCsv(header, rows);
}

/**
 * Scores every point of `scored` (and, with baselineTrain, the baselines'), and writes scores.csv,
 * anomaly.json, anomaly.md and the figures into `dir`; `model` describes the model in the figures.
 */
async function writeSeriesAnomaly(
  dir: string, vae: Vae, scored: ScoredSeries, sets: { heldOut: HeldOutSeries | null; baselineTrain: ScoredSeries['windows'] | null },
  spec: ThresholdSpec, flags: SeriesAnomalyFlags, model: string,
): Promise<void> {
  const report = seriesAnomalies(vae, scored, {
    threshold: spec, scoring: { samples: flags.scoreSamples, seed: flags.seed, impute: flags.impute, scoreBy: flags.scoreBy },
    heldOut: sets.heldOut, baselineTrain: sets.baselineTrain, ...(flags.pointAdjust === true ? { pointAdjust: true } : {}),
  });
  const { series } = scored;
  const names = figureNames(series);
  // Drawn first: nothing is written when a figure cannot be.
  const figures = await Promise.all(names.map((_, i) => seriesAnomalyFigure(scored, report, i, model)));
  const vaeMethod = report.methods[0]!;
  const { threshold, metrics } = vaeMethod.result;
  const found = report.intervals;
  const info = scored.windows.series!;
  const points = series.reduce((n, s) => n + s.timestamps.length, 0);
  const scoredPoints = vaeMethod.points.reduce((n, p) => n + p.filter((x) => !Number.isNaN(x)).length, 0);
  const flaggedPoints = found.reduce((n, f) => n + f.last - f.first + 1, 0);
  const at = (f: FlaggedInterval, t: number): string => formatTime(series[f.series]!.timestamps[t]!, series[f.series]!.time);
  const result = {
    points, scoredPoints, series: series.length, source: scored.windows.source,
    window: info.window, stride: info.stride,
    score: flags.scoreBy === 'window'
      ? 'each point\'s anomaly score (nats; higher is more anomalous): the mean of the scores (mean -log p(x|z) of their values) of the windows that cover it; empty where no window covers it'
      : 'each point\'s anomaly score (nats; higher is more anomalous): -log p(x|z) of its values, averaged over the windows that cover it; empty where no window covers it',
    scoreBy: flags.scoreBy,
    heldOutNormal: summary(report.heldOutScores),
    threshold,
    flaggedPoints,
    intervals: found.map((f) => ({ series: series[f.series]!.name, start: at(f, f.first), end: at(f, f.last), points: f.last - f.first + 1, peakScore: f.peak })),
    labels: metrics === null ? null : {
      points: vaeMethod.result.scored, anomalous: metrics.anomalies, auroc: metrics.auroc, auprc: metrics.auprc,
      precision: metrics.precision, recall: metrics.recall, f1: metrics.f1, range: metrics.range,
      ...(metrics.pointAdjustedF1 !== null ? { pointAdjustedF1: metrics.pointAdjustedF1 } : {}),
    },
    measured: scored.trainedUntil === null ? 'every scored point' : 'the scored points after each series\' training part',
    methods: report.methods.map((m) => resultSummary(m.result, report.idOf)),
    figures: names.map(([png]) => png),
  };
  const scoresPath = join(dir, RUN_FILES.scores);
  writeFileAtomic(scoresPath, scoresCsv(series, report));
  writeFileAtomic(join(dir, RUN_FILES.anomaly), `${JSON.stringify(result, null, 2)}\n`);
  writeFileAtomic(join(dir, RUN_FILES.anomalyMarkdown), `${report.table}\n`);
  names.forEach(([png, svg], i) => {
    writeFileAtomic(join(dir, png), figures[i]!.png);
    writeFileAtomic(join(dir, svg), figures[i]!.svg);
  });

  say(`Scored ${scoredPoints.toLocaleString('en-US')} of ${points.toLocaleString('en-US')} points of ${scored.windows.source} (windows of ${info.window} points every ${info.stride}, scored by ${flags.scoreBy}): ${scoresPath}`);
  const from = spec.kind === 'pot' ? `POT over the ${scoredPoints} scored points' scores` : spec.kind === 'value' ? 'given' : `of the ${report.heldOutScores!.length} held-out normal points' scores`;
  say(`Threshold ${scoreText(threshold.value)} (${threshold.spec}, ${from}): ${flaggedPoints.toLocaleString('en-US')} points flagged in ${found.length} ${found.length === 1 ? 'interval' : 'intervals'}`);
  for (const f of found.slice(0, SHOWN_INTERVALS)) {
    const where = series.length > 1 ? `${basename(series[f.series]!.name)}: ` : '';
    say(`  ${where}${at(f, f.first)}${f.last > f.first ? ` .. ${at(f, f.last)}` : ''} (${f.last - f.first + 1} ${f.last === f.first ? 'point' : 'points'}, peak score ${scoreText(f.peak)})`);
  }
  if (found.length > SHOWN_INTERVALS) say(`  ... and ${found.length - SHOWN_INTERVALS} more intervals (all of them in ${join(dir, RUN_FILES.anomaly)})`);
  const labelled = series.every((s) => s.labels !== null);
  if (metrics !== null) {
    const where = scored.trainedUntil === null ? 'scored points' : 'scored points after the training parts';
    say(`Point labels: AUROC ${(100 * metrics.auroc).toFixed(2)}%, AUPRC ${(100 * metrics.auprc).toFixed(2)}% over the ${vaeMethod.result.scored.toLocaleString('en-US')} ${where} (${metrics.anomalies.toLocaleString('en-US')} anomalous)`);
  } else if (labelled) {
    say('Point labels: the measured points are not both normal and anomalous, so no AUROC or AUPRC.');
  }
  if (flags.pointAdjust === true && metrics === null) say('--point-adjust: there is no point-adjusted F1 without point labels (--label-column) marking both normal and anomalous points.');
  if (report.methods.length > 1 || metrics !== null) say(report.table);
  const drawn = names.length === 1 ? join(dir, names[0]![0]) : `${join(dir, 'series-*.png')} (${names.length} series${series.length > names.length ? `; ${series.length - names.length} more not drawn` : ''})`;
  say(names.length === 1 ? `Figure of the series and its scores: ${drawn}` : `Figures of the series and their scores: ${drawn}`);
}
