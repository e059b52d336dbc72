import { join, resolve } from 'node:path';
import type { Command } from 'commander';
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
  optionGiven, prepareNewOutputFile, refuseOptionsOutside, notForText,
} from '../options.js';
import type { TextBundle } from '../../run/bundle.js';
import { readTextForModel, textCsv } from '../../pipelines/text.js';
import { textModelAt } from '../../pipelines/text-model.js';
import { addSeriesAnomalyOptions, scoresSeries, seriesAnomaly, seriesModelAt } from './anomaly-series.js';
import type { ThresholdSpec } from '../../anomaly/thresholds.js';
import { scoreTextAnomalies, TEXT_ANOMALY_SAMPLES, type TextAnomalyScores } from '../../pipelines/text-anomaly.js';
import { addFollowOptions, followIfAsked, type FollowFlags } from './anomaly-follow.js';

interface AnomalyFlags extends TrainFlags, FollowFlags {
  normalClass?: string;
  digit?: string;
  all?: boolean;
  model?: string;
  testData?: string;
  scoreSamples: number;
  threshold?: ThresholdSpec;
  impute: number;
}


function percent(x: number, digits = 2): string {
  return `${(100 * x).toFixed(digits)}%`;
}

/** The share of --data held out to score in a one-class run without --test-data. */
const HELD_OUT = 0.2;

/** The histogram of the scores: normal and anomalous examples overlaid when labels tell them apart, with the threshold when there is one. */
async function scoreHistogram(set: Dataset, result: ReturnType<typeof scoreAnomalies>, vae: Vae, loss: LossName | undefined, normalName: string | null): Promise<Uint8Array> {
  const { labels } = set;
  const normal = result.normalClass;
  const threshold = 'threshold' in result && typeof result.threshold === 'number' ? result.threshold : undefined;
  const chart = await scoreHistogramChart({
    scores: result.scores,
    isAnomaly: labels === null || normal === null ? null : Array.from(labels, (y) => y !== normal),
    ...(threshold !== undefined ? { threshold } : {}),
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

/** Scores with one model; writes scores.csv, its histogram and the AUROC when labels say which examples are anomalies. */
async function writeScores(out: string, set: Dataset, result: ReturnType<typeof scoreAnomalies>, vae: Vae, loss: LossName | undefined): Promise<void> {
  const path = join(out, RUN_FILES.scores);
  const summary = { examples: set.count, source: set.source, normalClass: result.normalClass === null ? null : set.labelNames?.[result.normalClass] ?? String(result.normalClass), auroc: result.auroc };
  // Drawn first: nothing is written when the chart cannot be.
  const png = await scoreHistogram(set, result, vae, loss, summary.normalClass);
  writeRows(path, { values: Float32Array.from(result.scores), count: set.count, shape: [1], columns: ['score'], labels: set.labels, labelNames: set.labelNames, ids: (r) => exampleId(set, r) }, ['csv']);
  writeFileAtomic(join(out, RUN_FILES.anomaly), `${JSON.stringify(summary, null, 2)}\n`);
  const histogram = join(out, RUN_FILES.scoreHistogram);
  writeFileAtomic(histogram, png);
  say(`Scored ${set.count} examples of ${set.source} (negative ELBO, nats): ${path}; their histogram: ${histogram}`);
  if (result.auroc !== null) say(`AUROC (class ${summary.normalClass} normal, the rest anomalies): ${percent(result.auroc)}`);
}

/** The most anomalous sentences the text path prints. */
const SHOWN = 3;

/**
 * A saved text model scoring the sentences of --test-data (or --data): each one's negative
 * log-likelihood per token, importance-sampled with --samples (default TEXT_ANOMALY_SAMPLES); scores.csv
 * (id, score, text), anomaly.json, the histogram, and the AUROC when labels mark the anomalies.
 */
async function scoreText(model: TextBundle, dir: string, flags: AnomalyFlags, command: Command): Promise<void> {
  refuseOptionsOutside(command, ['model', 'data', 'testData', 'textColumn', 'labelColumn', 'normalClass', 'digit', 'samples', 'seed', 'out', 'overwrite'], notForText(dir));
  if (model.vae.classes > 0) throw new VaekitError(`${dir} holds a conditional text model, which scores a sentence given its class: anomaly scores need a model that is not conditional.`);
  if (!optionGiven(command, 'data') && flags.testData === undefined) throw new VaekitError('Give --test-data (or --data), the sentences to score: a .txt file (one a line), a .csv file with --text-column (and --label-column to measure the AUROC), or a folder of .txt files (one subfolder per class).');
  const spec = flags.testData ?? flags.data;
  const samples = model.vae.latent === 0 ? 1 : optionGiven(command, 'samples') ? flags.samples : TEXT_ANOMALY_SAMPLES;
  const out = resolve(flags.out);
  const inputs = [flags.data, flags.testData];
  for (const name of [RUN_FILES.scores, RUN_FILES.anomaly, RUN_FILES.scoreHistogram]) prepareNewOutputFile(join(out, name), flags.overwrite, inputs, '');
  const set = await readTextForModel(model, spec, { ...(flags.textColumn !== undefined ? { textColumn: flags.textColumn } : {}), ...(flags.labelColumn !== undefined ? { labelColumn: flags.labelColumn } : {}) });
  const normalClass = flags.normalClass ?? flags.digit;
  if (normalClass !== undefined && set.labels === null) throw new VaekitError(`--normal-class names the class of ${spec} that is normal, and ${spec} has no labels (give --label-column, or class subfolders).`);
  const how = model.vae.latent === 0 ? 'exact: a language model' : `importance-sampled, k = ${samples}`;
  const hint = model.vae.latent === 0 || optionGiven(command, 'samples') ? '' : ' (--samples to change it; vaekit eval uses 500)';
  await inLockedFolder(out, async () => {
    const result = scoreTextAnomalies(model.vae, set, { samples, seed: flags.seed, ...(normalClass !== undefined ? { normalClass } : {}) });
    await writeTextScores(out, set, result, how, hint, dir);
  });
}

/** scores.csv (id, score, text, label), anomaly.json and the histogram of a text model's scores. */
async function writeTextScores(out: string, set: Dataset, result: TextAnomalyScores, how: string, hint: string, model: string): Promise<void> {
  const texts = set.text!.texts;
  const normalName = result.normalClass === null ? null : set.labelNames?.[result.normalClass] ?? String(result.normalClass);
  const { labels } = set;
  const chart = await scoreHistogramChart({
    scores: result.scores,
    isAnomaly: labels === null || result.normalClass === null ? null : Array.from(labels, (y) => y !== result.normalClass),
    title: `Anomaly scores of ${set.count} sentences of ${set.source}`,
    subtitle: [...(normalName !== null ? [`class ${normalName} normal, the rest anomalous`] : []), ...(result.auroc !== null ? [`AUROC ${percent(result.auroc)}`] : []), how, model].join(' · '),
    xTitle: 'anomaly score: negative log-likelihood per token (nats)',
  });
  const rows = Array.from({ length: set.count }, (_, r) => [
    exampleId(set, r), String(Number(result.scores[r]!.toPrecision(7))), texts[r]!,
    ...(labels === null ? [] : [set.labelNames?.[labels[r]!] ?? String(labels[r])]),
  ]);
  const path = join(out, RUN_FILES.scores);
  writeFileAtomic(path, textCsv(['id', 'score', 'text', ...(labels === null ? [] : ['label'])], rows));
  const summary = {
    examples: set.count, source: set.source,
    score: 'negative log-likelihood per token (nats), each sentence\'s <eos> counted',
    importanceSamples: result.samples,
    meanScore: result.scores.reduce((a, b) => a + b, 0) / set.count,
    tokens: result.tokens.reduce((a, b) => a + b, 0),
    cut: set.text!.cut,
    normalClass: normalName, auroc: result.auroc,
  };
  writeFileAtomic(join(out, RUN_FILES.anomaly), `${JSON.stringify(summary, null, 2)}\n`);
  const histogram = join(out, RUN_FILES.scoreHistogram);
  writeFileAtomic(histogram, chart.png);
  say(`Scored ${set.count} sentences of ${set.source} (negative log-likelihood per token, nats; ${how}${hint}): ${path}; their histogram: ${histogram}`);
  const order = Array.from(result.scores.keys()).sort((a, b) => result.scores[b]! - result.scores[a]!);
  for (const r of order.slice(0, SHOWN)) say(`  ${result.scores[r]!.toFixed(3)}  ${exampleId(set, r)}: ${texts[r]!}`);
  if (set.text!.cut > 0) say(`(${set.text!.cut} sentences were cut to the model's ${set.shape[0]} tokens and scored on what is left)`);
  if (result.auroc !== null) say(`AUROC (class ${normalName} normal, the rest anomalies): ${percent(result.auroc)}`);
}

export function register(program: Command): void {
  const cmd = addTrainOptions(addModelOptions(program.command('anomaly')), 'runs/anomaly');
  cmd
    .description('anomaly scores (negative ELBO) for every example, and their AUROC when labels mark the anomalies: with a saved --model, '
      + 'by training on --data, or one-class (--normal-class C, or --all classes, each model trained on one class)')
    .option('--normal-class <name>', 'one-class detection: train on this class of --data, score --test-data; with scores only, the class that is normal')
    .option('--digit <d>', 'the same as --normal-class (older name)')
    .option('--all', 'run one one-class task per class and report each AUROC and their mean')
    .option('--model <dir>', 'score with this saved model instead of training one (a text model scores each sentence by its negative log-likelihood per token)')
    .option('--test-data <spec>', 'the data to score (default: --data itself; MNIST\'s test split for MNIST; text models: a .txt file, a .csv file with --text-column, a folder of .txt files)')
    .option('--score-samples <n>', 'posterior samples averaged per anomaly score', positiveInt, 10);
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
        const bundle = loadBundle(flags.model);
        for (const name of [RUN_FILES.scores, RUN_FILES.anomaly, RUN_FILES.scoreHistogram]) prepareOutputFile(join(out, name), { inputs });
        const test = await loadDataForModel({ ...flags, data: flags.testData ?? flags.data }, bundle, 'test');
        await locked(async () => {
          const result = scoreAnomalies(bundle.vae, test, scoring);
          await writeScores(out, test, result, bundle.vae, lossOf(bundle.training));
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
        // One model on all of --data (unsupervised), scoring --test-data.
        const test = await loadTest(train);
        if (test.labels !== null) scoredNormalClass(test, normalClass);
        const plan = imagePlan(await planRun(spec, { train }), 'vaekit anomaly');
        const folder = RunFolder.create(out, { overwrite: flags.overwrite === true });
        try {
          const { vae, data } = await trainRun(plan, { folder, callbacks: [new TerminalProgress()] });
          await writeScores(folder.dir, test, scoreAnomalies(vae, prepareForModel(data, test, vae.classes > 0), scoring), vae, flags.loss);
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
      // Every task checked (a class to train on, normal examples and anomalies to score) before anything is written.
      oneClassPlan(train, test, classes);
      const names = classNames(train);
      await locked(async () => {
        // Every model folder checked before the first is trained: none is replaced without --overwrite.
        for (const c of classes) RunFolder.check(join(out, `${CLASS_FOLDER_PREFIX}${names[c] ?? c}`), { overwrite: flags.overwrite === true });
        prepareOutputFile(join(out, RUN_FILES.anomaly));
        await oneClassRuns(out, flags, spec, train, test, classes);
      });
    });
}

/** The one-class tasks of `classes`, each model in out/class-NAME with its scores; the AUROCs in RUN_FILES.anomaly and RUN_FILES.anomalyMarkdown. */
async function oneClassRuns(out: string, flags: AnomalyFlags, spec: RunSpec, train: Dataset, test: Dataset, classes: number[]): Promise<void> {
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
    onScored: (_name, vae, scored, result, dir) => writeScores(dir!, scored, result, vae, flags.loss),
  });
  for (const r of results) say(`class ${r.normalClass}: AUROC ${percent(r.auroc)}`);
  const mean = results.reduce((a, r) => a + r.auroc, 0) / results.length;
  const markdown = ['| normal class | AUROC |', '| --- | --- |', ...results.map((r) => `| ${r.normalClass} | ${percent(r.auroc)} |`), `| mean | ${percent(mean)} |`].join('\n');
  writeFileAtomic(join(out, RUN_FILES.anomaly), `${JSON.stringify({ results, meanAuroc: mean }, null, 2)}\n`);
  writeFileAtomic(join(out, RUN_FILES.anomalyMarkdown), `${markdown}\n`);
  say(markdown);
  say(`wrote ${join(out, RUN_FILES.anomaly)} and ${join(out, RUN_FILES.anomalyMarkdown)}`);
}
