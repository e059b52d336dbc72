import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { classCount, classNames, exampleId, type Dataset } from '../../data/dataset.js';
import { channelsLike, isMnistSpec, loadData } from '../../data/load.js';
import { holdOut } from '../../data/split.js';
import { VaekitError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { loadBundle } from '../../run/bundle.js';
import { prepareOutputFile } from '../../io/output.js';
import { RunFolder } from '../../run/folder.js';
import { CLASS_FOLDER_PREFIX, RUN_FILES } from '../../run/names.js';
import { writeRows } from '../../io/rows.js';
import { normalClassOf, oneClassPlan, oneClassTasks, scoreAnomalies, scoredNormalClass } from '../../pipelines/anomaly.js';
import { prepareForModel } from '../../run/data.js';
import { firstExamples, imagePlan, planRun } from '../../run/plan.js';
import { validateRunSpec, type RunSpec } from '../../run/spec.js';
import { trainRun } from '../../run/train-run.js';
import { inFlagWords, specFromFlags } from '../spec-flags.js';
import type { Vae } from '../../vae/model.js';
import type { LossName } from '../../vae/objective.js';
import { scoreHistogramChart } from '../../viz/charts.js';
import { describeModel } from '../../viz/figures.js';
import { lossOf } from '../../run/training-record.js';
import { TerminalProgress } from '../progress.js';
import {
  addModelOptions, addTrainOptions, checkGivenFlags, dataOptionsFrom, inLockedFolder, loadDataForModel, loadDataFrom, positiveInt, say, type TrainFlags,
} from '../options.js';

import {
  optionGiven, prepareNewOutputFile, refuseOptionsOutside, notForText, textSourceFrom, thresholdValue,
} from '../options.js';
import type { TextBundle } from '../../run/bundle.js';
import { readTextForModel, textCsv } from '../../pipelines/text.js';
import { textModelAt } from '../../pipelines/text-model.js';
import { addSeriesAnomalyOptions, scoresSeries, seriesAnomaly, seriesModelAt } from './anomaly-series.js';
import { scoreTextAnomalies, TEXT_ANOMALY_SAMPLES, type TextAnomalyScores } from '../../pipelines/text-anomaly.js';
import { addFollowOptions, followIfAsked, type FollowFlags } from './anomaly-follow.js';
import { datasetRows } from '../../anomaly/baselines/rows.js';
import { fitUnigram } from '../../anomaly/baselines/unigram.js';
import { isTextTablePath } from '../../data/text/read.js';
import {
  baselineResults, checkCalibrationCount, comparisonTable, DEFAULT_THRESHOLD, detectionResult, flaggedLine, normalScoresOf, oneClassTable, resultSummary,
  type DetectionOptions, type DetectionResult,
} from '../../anomaly/report.js';
import { formatThresholdSpec, type ThresholdSpec } from '../../anomaly/thresholds.js';
import { anomalyScores, classSubset } from '../../eval/anomaly.js';

interface AnomalyFlags extends TrainFlags, FollowFlags {
  normalClass?: string;
  digit?: string;
  all?: boolean;
  model?: string;
  testData?: string;
  scoreSamples: number;
  threshold: ThresholdSpec;
  impute: number;
  scoreBy: 'point' | 'window';
  baselines?: boolean;
  pointAdjust?: boolean;
}


function percent(x: number, digits = 2): string {
  return `${(100 * x).toFixed(digits)}%`;
}

/** The share of --data held out to score in a one-class run without --test-data. */
const HELD_OUT = 0.2;

/** --point-adjust is for series (src/cli/commands/anomaly-series.ts); the paths here refuse it. */
function refusePointAdjust(flags: AnomalyFlags): void {
  if (flags.pointAdjust === true) throw new VaekitError('--point-adjust applies to time series, whose anomalies are ranges of points, and images, table rows and sentences are scored one by one.');
}

const BASELINES_NEED_TRAINING = '--baselines with --model needs the data the model trained on to fit them: give it as --data and the data to score as --test-data.';

/**
 * How a run turns scores into decisions: the threshold asked for, taken on held-out normal scores
 * (a run's validation split scored by its model) when there are some, else on the scored examples
 * labelled normal (`normalWords` names them), else on the scored data itself; and the baselines
 * scored beside the model (--baselines), or null.
 */
interface Judging {
  threshold: ThresholdSpec;
  heldOut: { scores: ArrayLike<number>; words: string } | null;
  normalWords?: string;
  baselines: ((options: Omit<DetectionOptions, 'normalScores'>, isNormal: boolean[] | null) => DetectionResult[]) | null;
}

/** The model's scores judged (its threshold, flags and, with labels, metrics), then each baseline's: the model first. */
function judge(name: string, scores: ArrayLike<number>, set: Dataset, normalClass: number | null, judging: Judging): DetectionResult[] {
  const isAnomaly = set.labels === null || normalClass === null ? null : Array.from(set.labels, (y) => y !== normalClass);
  const isNormal = isAnomaly === null ? null : isAnomaly.map((a) => !a);
  const calibration = judging.heldOut?.words
    ?? (isNormal === null ? undefined : judging.normalWords ?? `scores of the scored examples labelled normal (class ${classNames(set)[normalClass!]})`);
  const options = { isAnomaly, threshold: judging.threshold, ...(calibration !== undefined ? { calibration } : {}) };
  const model = detectionResult(name, scores, { ...options, normalScores: normalScoresOf(scores, isNormal, judging.heldOut?.scores ?? null) });
  return [model, ...(judging.baselines?.(options, isNormal) ?? [])];
}

/** PCA and isolation forest beside an image or table model: fitted on `train`, scoring `scored` (and `heldOut`), all in the model's units. */
function rowBaselines(train: Dataset, heldOut: Dataset | null, scored: Dataset, seed: number): Judging['baselines'] {
  return (options, isNormal) => baselineResults({
    train: datasetRows(train), scored: datasetRows(scored), heldOut: heldOut === null ? null : datasetRows(heldOut), isNormal, columns: train.size, seed,
  }, options);
}

/** The bag-of-words unigram beside a text model: fitted on the training sentences, scoring `scored`. */
function textBaselines(train: Dataset, scored: Dataset): Judging['baselines'] {
  return (options, isNormal) => {
    const scores = fitUnigram(train).score(scored);
    return [detectionResult('bag-of-words unigram', scores, { ...options, normalScores: normalScoresOf(scores, isNormal, null) })];
  };
}

/**
 * Checks, before any scoring, that the normal scores a threshold will be taken on can give it:
 * those of the scored examples labelled normal, or all of them without labels (and says so).
 */
function checkScoredCalibration(spec: ThresholdSpec, set: Dataset, normalClass: number | null, what: string): void {
  if (normalClass === null || set.labels === null) {
    if (spec.kind !== 'value') say(`No labels say which scored ${what} are normal, so the ${formatThresholdSpec(spec)} threshold is taken on the scored data itself.`);
    checkCalibrationCount(spec, set.count, `scored ${what}`);
    return;
  }
  checkCalibrationCount(spec, set.labels.filter((y) => y === normalClass).length, `scored ${what} labelled normal`);
}

/** What anomaly.json keeps of the decisions: the model's threshold, its flagged count and first ids, and every method's summary. */
function decisions(judged: readonly DetectionResult[], idOf: (i: number) => string): object {
  const model = judged[0]!;
  const summaries = judged.map((r) => resultSummary(r, idOf));
  return { threshold: model.threshold, flagged: model.flagged.length, firstFlagged: (summaries[0] as { firstFlagged: string[] }).firstFlagged, methods: summaries };
}

/** Each example's 0/1 flag. */
function flagColumn(count: number, result: DetectionResult): Uint8Array {
  const flags = new Uint8Array(count);
  for (const i of result.flagged) flags[i] = 1;
  return flags;
}

/** Prints what a user acts on: the model's flagged count and first ids, and the methods side by side when there is anything to compare. */
function sayDecisions(judged: readonly DetectionResult[], idOf: (i: number) => string, table: boolean): void {
  say(flaggedLine(judged[0]!, idOf));
  if (table && (judged.length > 1 || judged[0]!.metrics !== null)) say(comparisonTable(judged));
}

/** The histogram of the scores: normal and anomalous examples overlaid when labels tell them apart, with the threshold. */
async function scoreHistogram(set: Dataset, result: ReturnType<typeof scoreAnomalies>, threshold: number, vae: Vae, loss: LossName | undefined, normalName: string | null): Promise<Uint8Array> {
  const { labels } = set;
  const normal = result.normalClass;
  const chart = await scoreHistogramChart({
    scores: result.scores,
    isAnomaly: labels === null || normal === null ? null : Array.from(labels, (y) => y !== normal),
    threshold,
    title: `Anomaly scores of ${set.count} examples of ${set.source}`,
    subtitle: [
      ...(normalName !== null ? [`class ${normalName} normal, the rest anomalous`] : []),
      ...(result.auroc !== null ? [`AUROC ${percent(result.auroc)}`] : []),
      describeModel(vae.config, loss),
    ].join(' · '),
    xTitle: 'anomaly score: negative ELBO (nats per example)',
  });
  return chart.png;
}

/**
 * Scores with one model; writes scores.csv (score and flagged), its histogram with the threshold,
 * anomaly.json (the AUROC when labels say which examples are anomalies, the threshold, the flags,
 * every method's metrics) and anomaly.md (the methods side by side); `table` prints that table.
 */
async function writeScores(out: string, set: Dataset, result: ReturnType<typeof scoreAnomalies>, judged: readonly DetectionResult[], vae: Vae, loss: LossName | undefined, table = true): Promise<void> {
  const path = join(out, RUN_FILES.scores);
  const idOf = (i: number): string => exampleId(set, i);
  const summary = { examples: set.count, source: set.source, normalClass: result.normalClass === null ? null : set.labelNames?.[result.normalClass] ?? String(result.normalClass), auroc: result.auroc };
  const model = judged[0]!;
  // Drawn first: nothing is written when the chart cannot be.
  const png = await scoreHistogram(set, result, model.threshold.value, vae, loss, summary.normalClass);
  const flags = flagColumn(set.count, model);
  const values = new Float32Array(2 * set.count);
  for (let r = 0; r < set.count; r++) {
    values[2 * r] = result.scores[r]!;
    values[2 * r + 1] = flags[r]!;
  }
  writeRows(path, { values, count: set.count, shape: [2], columns: ['score', 'flagged'], labels: set.labels, labelNames: set.labelNames, ids: idOf }, ['csv']);
  writeFileAtomic(join(out, RUN_FILES.anomaly), `${JSON.stringify({ ...summary, ...decisions(judged, idOf) }, null, 2)}\n`);
  writeFileAtomic(join(out, RUN_FILES.anomalyMarkdown), `${comparisonTable(judged)}\n`);
  const histogram = join(out, RUN_FILES.scoreHistogram);
  writeFileAtomic(histogram, png);
  say(`Scored ${set.count} examples of ${set.source} (negative ELBO, nats): ${path}; their histogram: ${histogram}`);
  if (result.auroc !== null) say(`AUROC (class ${summary.normalClass} normal, the rest anomalies): ${percent(result.auroc)}`);
  sayDecisions(judged, idOf, table);
}

/** The most anomalous sentences the text path prints. */
const SHOWN = 3;

/**
 * A saved text model scoring the sentences of --test-data (or --data): each one's negative
 * log-likelihood per token, importance-sampled with --samples (default TEXT_ANOMALY_SAMPLES); scores.csv
 * (id, score, flagged, text), anomaly.json, anomaly.md, the histogram, and the AUROC when labels mark
 * the anomalies. --baselines fits a bag-of-words unigram model on --data beside --test-data.
 */
async function scoreText(model: TextBundle, dir: string, flags: AnomalyFlags, command: Command): Promise<void> {
  refusePointAdjust(flags);
  refuseOptionsOutside(command, ['model', 'data', 'memoryBudget', 'testData', 'textColumn', 'labelColumn', 'normalClass', 'digit', 'samples', 'seed', 'out', 'overwrite', 'threshold', 'baselines'], notForText(dir));
  if (model.vae.classes > 0) throw new VaekitError(`${dir} holds a conditional text model, which scores a sentence given its class: anomaly scores need a model that is not conditional.`);
  if (!optionGiven(command, 'data') && flags.testData === undefined) throw new VaekitError('Give --test-data (or --data), the sentences to score: a .txt file (one a line), a .csv file with --text-column (and --label-column to measure the AUROC), or a folder of .txt files (one subfolder per class).');
  if (flags.baselines === true && !(optionGiven(command, 'data') && flags.testData !== undefined)) throw new VaekitError(BASELINES_NEED_TRAINING);
  const spec = flags.testData ?? flags.data;
  const samples = model.vae.latent === 0 ? 1 : optionGiven(command, 'samples') ? flags.samples : TEXT_ANOMALY_SAMPLES;
  const out = resolve(flags.out);
  const inputs = [flags.data, flags.testData];
  for (const name of [RUN_FILES.scores, RUN_FILES.anomaly, RUN_FILES.anomalyMarkdown, RUN_FILES.scoreHistogram]) prepareNewOutputFile(join(out, name), flags.overwrite, inputs, '');
  const set = await readTextForModel(model, spec, textSourceFrom(flags));
  // The training sentences: --text-column names their column too when they are a table.
  const train = flags.baselines === true ? await readTextForModel(model, flags.data, textSourceFrom({ memoryBudget: flags.memoryBudget, textColumn: isTextTablePath(flags.data) ? flags.textColumn : undefined })) : null;
  const normalClass = flags.normalClass ?? flags.digit;
  if (normalClass !== undefined && set.labels === null) throw new VaekitError(`--normal-class names the class of ${spec} that is normal, and ${spec} has no labels (give --label-column, or class subfolders).`);
  checkScoredCalibration(flags.threshold, set, set.labels === null ? null : scoredNormalClass(set, normalClass), 'sentences');
  const how = model.vae.latent === 0 ? 'exact: a language model' : `importance-sampled, k = ${samples}`;
  const hint = model.vae.latent === 0 || optionGiven(command, 'samples') ? '' : ' (--samples to change it; vaekit eval uses 500)';
  await inLockedFolder(out, async () => {
    const result = scoreTextAnomalies(model.vae, set, { samples, seed: flags.seed, ...(normalClass !== undefined ? { normalClass } : {}) });
    const judged = judge(model.vae.latent === 0 ? 'language model' : 'text VAE', result.scores, set, result.normalClass, {
      threshold: flags.threshold, heldOut: null, baselines: train === null ? null : textBaselines(train, set),
    });
    await writeTextScores(out, set, result, judged, how, hint, dir);
  });
}

/** scores.csv (id, score, flagged, text, label), anomaly.json, anomaly.md and the histogram of a text model's scores. */
async function writeTextScores(out: string, set: Dataset, result: TextAnomalyScores, judged: readonly DetectionResult[], how: string, hint: string, model: string): Promise<void> {
  const texts = set.text!.texts;
  const normalName = result.normalClass === null ? null : set.labelNames?.[result.normalClass] ?? String(result.normalClass);
  const { labels } = set;
  const idOf = (i: number): string => exampleId(set, i);
  const decision = judged[0]!;
  const chart = await scoreHistogramChart({
    scores: result.scores,
    isAnomaly: labels === null || result.normalClass === null ? null : Array.from(labels, (y) => y !== result.normalClass),
    threshold: decision.threshold.value,
    title: `Anomaly scores of ${set.count} sentences of ${set.source}`,
    subtitle: [...(normalName !== null ? [`class ${normalName} normal, the rest anomalous`] : []), ...(result.auroc !== null ? [`AUROC ${percent(result.auroc)}`] : []), how, model].join(' · '),
    xTitle: 'anomaly score: negative log-likelihood per token (nats)',
  });
  const flags = flagColumn(set.count, decision);
  const rows = Array.from({ length: set.count }, (_, r) => [
    idOf(r), String(Number(result.scores[r]!.toPrecision(7))), String(flags[r]), texts.text(r),
    ...(labels === null ? [] : [set.labelNames?.[labels[r]!] ?? String(labels[r])]),
  ]);
  const path = join(out, RUN_FILES.scores);
  writeFileAtomic(path, textCsv(['id', 'score', 'flagged', 'text', ...(labels === null ? [] : ['label'])], rows));
  const summary = {
    examples: set.count, source: set.source,
    score: 'negative log-likelihood per token (nats), each sentence\'s <eos> counted',
    importanceSamples: result.samples,
    meanScore: result.scores.reduce((a, b) => a + b, 0) / set.count,
    tokens: result.tokens.reduce((a, b) => a + b, 0),
    cut: set.text!.cut,
    normalClass: normalName, auroc: result.auroc,
    ...decisions(judged, idOf),
  };
  writeFileAtomic(join(out, RUN_FILES.anomaly), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileAtomic(join(out, RUN_FILES.anomalyMarkdown), `${comparisonTable(judged)}\n`);
  const histogram = join(out, RUN_FILES.scoreHistogram);
  writeFileAtomic(histogram, chart.png);
  say(`Scored ${set.count} sentences of ${set.source} (negative log-likelihood per token, nats; ${how}${hint}): ${path}; their histogram: ${histogram}`);
  const order = Array.from(result.scores.keys()).sort((a, b) => result.scores[b]! - result.scores[a]!);
  for (const r of order.slice(0, SHOWN)) say(`  ${result.scores[r]!.toFixed(3)}  ${idOf(r)}: ${texts.text(r)}`);
  if (set.text!.cut > 0) say(`(${set.text!.cut} sentences were cut to the model's ${set.shape[0]} tokens and scored on what is left)`);
  if (result.auroc !== null) say(`AUROC (class ${normalName} normal, the rest anomalies): ${percent(result.auroc)}`);
  sayDecisions(judged, idOf, true);
}

/**
 * The normal examples of a run's validation split (as the model takes them), whose scores set the
 * threshold: those of the normal class when the split has labels and that class, else all of it.
 */
function validationNormals(validation: Dataset, normalName: string | null): { set: Dataset; words: string } {
  if (validation.labels !== null && normalName !== null) {
    const c = classNames(validation).indexOf(normalName);
    if (c >= 0 && validation.labels.includes(c)) {
      return { set: classSubset(validation, c), words: `scores of the validation split's class ${normalName} examples, which the model never trained on` };
    }
  }
  return { set: validation, words: 'scores of the validation split, which the model never trained on' };
}

export function register(program: Command): void {
  const cmd = addTrainOptions(addModelOptions(program.command('anomaly')), 'runs/anomaly');
  cmd
    .description('anomaly scores (negative ELBO) for every example, a threshold and the examples above it, and their AUROC, AUPRC, precision, recall and F1 when labels mark the anomalies: '
      + 'with a saved --model, by training on --data, or one-class (--normal-class C, or --all classes, each model trained on one class)')
    .option('--normal-class <name>', 'one-class detection: train on this class of --data, score --test-data; with scores only, the class that is normal')
    .option('--digit <d>', 'the same as --normal-class (older name)')
    .option('--all', 'run one one-class task per class and report each AUROC and their mean')
    .option('--model <dir>', 'score with this saved model instead of training one (a text model scores each sentence by its negative log-likelihood per token)')
    .option('--test-data <spec>', 'the data to score (default: --data itself; MNIST\'s test split for MNIST; text models: a .txt file, a .csv file with --text-column, a folder of .txt files)')
    .option('--score-samples <n>', 'posterior samples averaged per anomaly score', positiveInt, 10)
    .addOption(new Option('--threshold <spec>', 'flag the examples scoring above it: quantile:Q or fpr:F of held-out normal scores (a run that trains: its validation split; --model: the scored examples labelled normal, '
      + 'else the scored data itself), pot:RISK[:LEVEL] (peaks over threshold, extreme value theory, on the same scores), or a number')
      .argParser(thresholdValue).default(DEFAULT_THRESHOLD, formatThresholdSpec(DEFAULT_THRESHOLD)))
    .option('--baselines', 'score the same data with PCA reconstruction error and an isolation forest (text: a bag-of-words unigram model; time series: also a rolling z-score), fitted on the same training data, '
      + 'and compare them with the model at the same threshold rule (--model: --data is their training data, --test-data the data scored; a series --model: the series it trained on)')
    .option('--point-adjust', 'time series only: also report point-adjusted F1 (random scores reach 0.97 on SWaT with it, Kim et al. 2022)');
  addFollowOptions(cmd);
  addSeriesAnomalyOptions(cmd);
  const samples = cmd.options.find((o) => o.long === '--samples')!;
  samples.description = `${samples.description}; with a text --model: importance samples per sentence of its score, the negative log-likelihood per token (default ${TEXT_ANOMALY_SAMPLES})`;
  cmd
    .action(async (flags: AnomalyFlags, command: Command) => {
      if (await followIfAsked(flags, command)) return;
      const text = textModelAt(flags.model);
      if (text !== null) {
        await scoreText(text, flags.model!, flags, command);
        return;
      }
      const series = seriesModelAt(flags.model);
      if (scoresSeries(command, series)) {
        await seriesAnomaly(flags, command, series);
        return;
      }
      refusePointAdjust(flags);
      checkGivenFlags(command, flags);
      const normalClass = flags.normalClass ?? flags.digit;
      if (normalClass !== undefined && flags.all === true) throw new VaekitError('Give either --normal-class C or --all, not both.');
      if (flags.model !== undefined && flags.all === true) throw new VaekitError('--model scores with one model: --all trains one per class.');
      const out = resolve(flags.out);
      const testSpec = flags.testData ?? (isMnistSpec(flags.data) ? 'mnist:test' : flags.data);
      // Scored data load as the training images do (an image folder's channels follow --data's).
      const loadTest = (train: Dataset): Promise<Dataset> => loadData(testSpec, 'test', { ...dataOptionsFrom(flags), ...channelsLike(train) });
      const scoring = { samples: flags.scoreSamples, seed: flags.seed, ...(normalClass !== undefined ? { normalClass } : {}) };
      const inputs = [flags.data, flags.labels, flags.testData];
      // One run at a time in a folder: a second is refused, not mixed with the first.
      const locked = (work: () => Promise<void>): Promise<void> => inLockedFolder(out, work);

      if (flags.model !== undefined) {
        if (flags.baselines === true && !(optionGiven(command, 'data') && flags.testData !== undefined)) throw new VaekitError(BASELINES_NEED_TRAINING);
        const bundle = loadBundle(flags.model);
        for (const name of [RUN_FILES.scores, RUN_FILES.anomaly, RUN_FILES.anomalyMarkdown, RUN_FILES.scoreHistogram]) prepareOutputFile(join(out, name), { inputs });
        const test = await loadDataForModel({ ...flags, data: flags.testData ?? flags.data }, bundle, 'test');
        const baselineTrain = flags.baselines === true ? await loadDataForModel(flags, bundle, 'train') : null;
        checkScoredCalibration(flags.threshold, test, test.labels === null ? null : scoredNormalClass(test, normalClass), 'examples');
        await locked(async () => {
          const result = scoreAnomalies(bundle.vae, test, scoring);
          const judged = judge('VAE', result.scores, test, result.normalClass, {
            threshold: flags.threshold, heldOut: null, baselines: baselineTrain === null ? null : rowBaselines(baselineTrain, null, test, flags.seed),
          });
          await writeScores(out, test, result, judged, bundle.vae, lossOf(bundle.training));
        });
        return;
      }
      // The run (or each one-class run) a model trains: checked before any data is read.
      let spec: RunSpec;
      try {
        spec = validateRunSpec(specFromFlags(flags, { figures: false, checkpoints: false }));
      } catch (err) {
        throw inFlagWords(err);
      }
      let train = await loadDataFrom(flags, 'train');
      if (normalClass === undefined && flags.all !== true) {
        // One model on all of --data (unsupervised), scoring --test-data; the threshold comes from
        // its validation split (the normal class's examples there when it has labels).
        const test = await loadTest(train);
        const normal = test.labels === null ? null : scoredNormalClass(test, normalClass);
        const plan = imagePlan(await planRun(spec, { train }), 'vaekit anomaly');
        const validation = validationNormals(plan.test, normal === null ? null : classNames(test)[normal]!);
        checkCalibrationCount(flags.threshold, validation.set.count, 'validation examples');
        const folder = RunFolder.create(out, { overwrite: flags.overwrite === true });
        try {
          const { vae, data } = await trainRun(plan, { folder, callbacks: [new TerminalProgress()] });
          const scored = prepareForModel(data, test, vae.classes > 0);
          const result = scoreAnomalies(vae, scored, scoring);
          const judged = judge('VAE', result.scores, scored, result.normalClass, {
            threshold: flags.threshold,
            heldOut: { scores: anomalyScores(vae, validation.set, flags.scoreSamples, flags.seed), words: validation.words },
            baselines: flags.baselines === true ? rowBaselines(plan.train, validation.set, scored, flags.seed) : null,
          });
          await writeScores(folder.dir, scored, result, judged, vae, flags.loss);
          folder.finish();
        } finally {
          folder.release();
        }
        return;
      }
      // One-class: the models never score what they trained on. Without --test-data (other than
      // MNIST's test split), a seeded share of --data is held out to score. --limit takes the first
      // examples of --data before that, as for any run.
      if (spec.data.limit !== null) train = firstExamples(train, spec.data.limit);
      let test: Dataset;
      if (flags.testData !== undefined || testSpec !== flags.data) {
        test = await loadTest(train);
      } else {
        ({ train, heldOut: test } = holdOut(train, HELD_OUT, flags.seed));
        say(`Scoring a held-out ${percent(HELD_OUT, 0)} of ${flags.data} (${test.count} examples, drawn with seed ${flags.seed}) that no model trains on; give --test-data to score other data.`);
      }
      const classes = flags.all === true
        ? Array.from({ length: classCount(train) }, (_, i) => i)
        : [normalClassOf(train, normalClass)];
      // Every task checked (a class to train on, normal examples and anomalies to score, enough of
      // them for the threshold) before anything is written.
      for (const task of oneClassPlan(train, test, classes)) {
        checkCalibrationCount(flags.threshold, test.labels!.filter((y) => y === task.normal).length, `class ${task.name} examples to score`);
      }
      const names = classNames(train);
      await locked(async () => {
        // Every model folder checked before the first is trained: none is replaced without --overwrite.
        for (const c of classes) RunFolder.check(join(out, `${CLASS_FOLDER_PREFIX}${names[c] ?? c}`), { overwrite: flags.overwrite === true });
        prepareOutputFile(join(out, RUN_FILES.anomaly));
        prepareOutputFile(join(out, RUN_FILES.anomalyMarkdown));
        await oneClassRuns(out, flags, spec, train, test, classes);
      });
    });
}

/**
 * The one-class tasks of `classes`, each model in out/class-NAME with its scores; the threshold
 * of each comes from the normal class's scored examples (its validation split, never trained on).
 * Every class's methods and their means in RUN_FILES.anomaly and RUN_FILES.anomalyMarkdown.
 */
async function oneClassRuns(out: string, flags: AnomalyFlags, spec: RunSpec, train: Dataset, test: Dataset, classes: number[]): Promise<void> {
  const tasks: Array<{ normalClass: string; results: DetectionResult[]; methods: object[] }> = [];
  const results = await oneClassTasks({
    spec,
    train,
    test,
    classes,
    samples: flags.scoreSamples,
    outDir: (name) => join(out, `${CLASS_FOLDER_PREFIX}${name}`),
    overwrite: flags.overwrite === true,
    callbacks: [new TerminalProgress()],
    onTask: (name, n) => say(`class ${name}: training on ${n} examples`),
    onScored: (name, vae, scored, result, dir, trained) => {
      const judged = judge('VAE', result.scores, scored, result.normalClass, {
        threshold: flags.threshold, heldOut: null,
        normalWords: `scores of the scored class ${name} examples (the run's validation split, which the model never trained on)`,
        baselines: flags.baselines === true ? rowBaselines(trained, null, scored, flags.seed) : null,
      });
      tasks.push({ normalClass: name, results: judged, methods: judged.map((r) => resultSummary(r, (i) => exampleId(scored, i))) });
      return writeScores(dir!, scored, result, judged, vae, flags.loss, false);
    },
  });
  for (const r of results) say(`class ${r.normalClass}: AUROC ${percent(r.auroc)}`);
  const mean = results.reduce((a, r) => a + r.auroc, 0) / results.length;
  const markdown = oneClassTable(tasks);
  const summary = { results: results.map((r, i) => ({ ...r, methods: tasks[i]!.methods })), meanAuroc: mean, threshold: formatThresholdSpec(flags.threshold) };
  writeFileAtomic(join(out, RUN_FILES.anomaly), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileAtomic(join(out, RUN_FILES.anomalyMarkdown), `${markdown}\n`);
  say(markdown);
  say(`wrote ${join(out, RUN_FILES.anomaly)} and ${join(out, RUN_FILES.anomalyMarkdown)}`);
}
