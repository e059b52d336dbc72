import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { addModelNoiseOption, noiseForModel } from '../model-noise.js';
import { relabel, takeFirst } from '../../data/dataset.js';
import { channelsLike, isMnistSpec, loadData } from '../../data/load.js';
import { VaekitError } from '../../errors.js';
import type { NoiseSpec } from '../../data/transforms/noise.js';
import { evaluateSuite, reportMarkdown } from '../../eval/suite.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { loadBundle } from '../../run/bundle.js';
import { prepareOutputFile } from '../../io/output.js';
import { prepareForModel } from '../../run/data.js';
import { TerminalTaskProgress } from '../progress.js';
import { RUN_FILES } from '../../run/names.js';
import {
  addDataOptions, addModelDirOption, addSeedOption, dataOptionsFrom, inLockedFolder, loadDataForModel, nonNegativeInt, positiveInt, say, type DataFlags,
} from '../options.js';

import {
  addTextColumnOption, notForText, textSourceFrom, onlyForText, optionGiven, prepareNewOutputFile, refuseGivenOptions, refuseOptionsOutside,
} from '../options.js';
import type { TextBundle } from '../../run/bundle.js';
import { classesForModel, readTextForModel } from '../../pipelines/text.js';
import { textModelAt } from '../../pipelines/text-model.js';
import { evaluateText, textMetricsLine, TEXT_IMPORTANCE_SAMPLES, type TextMetrics } from '../../eval/text.js';

interface EvalFlags extends DataFlags {
  model: string;
  trainData?: string;
  samples: number;
  knnK: number;
  priorSamples: number;
  noise: NoiseSpec;
  binarize?: boolean;
  limit?: number;
  seed: number;
  out?: string;
  overwrite?: boolean;
}

/** A text model's measures as a Markdown table. */
function textMetricsMarkdown(m: TextMetrics, source: string): string {
  const rows: [string, string][] = [
    ['sentences', String(m.examples)],
    ['tokens (each sentence\'s <eos> included)', String(m.tokens)],
    [`NLL (nats per sentence, ${m.latent === 0 ? 'exact' : `importance-sampled, k = ${m.importanceSamples}`})`, m.nllNats.toFixed(3)],
    ['perplexity (per token)', m.perplexity.toFixed(3)],
    ['negative ELBO (nats per sentence)', m.negElboNats.toFixed(3)],
    ['reconstruction (nats per sentence)', m.reconNats.toFixed(3)],
    ['KL (nats per sentence)', m.klNats.toFixed(3)],
    ...(m.latent === 0 ? [] : [['mutual information I(x; z) (nats)', m.mutualInformation.toFixed(3)], ['active units', `${m.activeUnits}/${m.latent}`]] as [string, string][]),
  ];
  return [`Text model on ${source}`, '', '| measure | value |', '| --- | --- |', ...rows.map(([a, b]) => `| ${a} | ${b} |`)].join('\n');
}

/**
 * A text model's measures on --data (He et al. 2019): the importance-sampled NLL with --samples
 * (default 500), the perplexity, the ELBO's parts, the mutual information and active units; eval.json
 * and eval.md in --out (default the model folder).
 */
async function evaluateTextModel(model: TextBundle, flags: EvalFlags, command: Command): Promise<void> {
  refuseOptionsOutside(command, ['model', 'data', 'memoryBudget', 'textColumn', 'labelColumn', 'samples', 'limit', 'seed', 'out', 'overwrite'], notForText(flags.model));
  if (!optionGiven(command, 'data')) throw new VaekitError('Give --data, the sentences to evaluate on: a .txt file (one a line), a .csv file with --text-column, or a folder of .txt files.');
  const samples = optionGiven(command, 'samples') ? flags.samples : TEXT_IMPORTANCE_SAMPLES;
  if (samples === 0) throw new VaekitError('--samples 0 would skip the log-likelihood, which is what a text model\'s evaluation reports: give 1 or more (500 is He et al.\'s).');
  const out = flags.out ?? flags.model;
  for (const name of [RUN_FILES.evalJson, RUN_FILES.evalMarkdown]) prepareNewOutputFile(join(out, name), flags.overwrite, [flags.data], '');
  await inLockedFolder(out, async () => {
    let set = await readTextForModel(model, flags.data, textSourceFrom(flags));
    if (flags.limit !== undefined) set = takeFirst(set, flags.limit);
    const classes = classesForModel(model, set);
    if (classes !== null) set = relabel(set, classes, model.data.classNames);
    say(`vaekit eval: ${set.count} sentences of ${set.source}${model.vae.latent === 0 ? ', a language model (its likelihood is exact)' : `, ${samples} importance samples each${optionGiven(command, 'samples') ? '' : ' (He et al.\'s; --samples to change it)'}`}${set.text!.cut > 0 ? `; ${set.text!.cut} cut to the model's ${model.vae.maxLength} tokens` : ''}`);
    const metrics = evaluateText(model.vae, set, { importanceSamples: samples, seed: flags.seed });
    const report = { ...metrics, source: set.source, model: flags.model, seed: flags.seed };
    writeFileAtomic(join(out, RUN_FILES.evalJson), `${JSON.stringify(report, null, 2)}\n`);
    writeFileAtomic(join(out, RUN_FILES.evalMarkdown), `${textMetricsMarkdown(metrics, set.source)}\n`);
    say(textMetricsLine(metrics));
    say(`wrote ${join(out, RUN_FILES.evalJson)} and ${join(out, RUN_FILES.evalMarkdown)}`);
  });
}

export function register(program: Command): void {
  const cmd = addModelDirOption(program.command('eval'))
    .description('evaluate a saved model: ELBO, importance-sampled log-likelihood, reconstruction, denoising PSNR/SSIM, active units, KL per dimension, kNN accuracy');
  addDataOptions(cmd, 'the test data (text models: a .txt file, one sentence a line; a .csv file with --text-column; a folder of .txt files)', 'its test split');
  addTextColumnOption(cmd)
    .option('--train-data <spec>', 'labelled reference data for the kNN probe and the prior-sample check (default: MNIST\'s training split when --data is MNIST, else none)')
    .addOption(new Option('--samples <k>', 'importance samples per example for the log-likelihood (0 skips it)').argParser(nonNegativeInt).default(5000, '5000; text models: 500, as He et al. 2019'))
    .option('--knn-k <k>', 'neighbours of the kNN probe', positiveInt, 5)
    .option('--prior-samples <n>', 'prior samples judged against their nearest training images (0 skips)', nonNegativeInt, 1000);
  addModelNoiseOption(cmd, 'noise of the denoising metrics ("none": reconstruction metrics of clean inputs)');
  cmd
    .option('--binarize', 'binarize the test images (one fixed draw each): the dynamically binarized MNIST protocol')
    .option('--limit <n>', 'evaluate only the first N test examples', positiveInt);
  addSeedOption(cmd, 'seed of the test noise, binarization and posterior samples')
    .option('--out <dir>', `where to write ${RUN_FILES.evalJson} and ${RUN_FILES.evalMarkdown} (default: the model folder)`)
    .option('--overwrite', `text models: replace an existing ${RUN_FILES.evalJson} and ${RUN_FILES.evalMarkdown} (an image or table model's are replaced as before)`)
    .action(async (flags: EvalFlags, command: Command) => {
      const text = textModelAt(flags.model);
      if (text !== null) {
        await evaluateTextModel(text, flags, command);
        return;
      }
      refuseGivenOptions(command, ['textColumn'], onlyForText(flags.model));
      const bundle = loadBundle(flags.model);
      const { noise, words } = noiseForModel(command, flags, bundle);
      const out = flags.out ?? flags.model;
      for (const name of [RUN_FILES.evalJson, RUN_FILES.evalMarkdown]) prepareOutputFile(join(out, name));
      await inLockedFolder(out, async () => {
        let test = await loadDataForModel(flags, bundle, 'test');
        if (flags.limit !== undefined) test = takeFirst(test, flags.limit);
        const trainSpec = flags.trainData ?? (isMnistSpec(flags.data) ? 'mnist:train' : undefined);
        const train = trainSpec === undefined ? null : prepareForModel(bundle.data, await loadData(trainSpec, 'train', { ...dataOptionsFrom(flags), ...channelsLike(bundle.data) }), bundle.vae.classes > 0);
        say(`vaekit eval: ${words}`);
        const report = evaluateSuite(bundle.vae, test, {
          noise,
          binarize: flags.binarize === true,
          seed: flags.seed,
          samples: flags.samples,
          knnK: flags.knnK,
          priorSamples: flags.priorSamples,
          train,
          progress: new TerminalTaskProgress(),
        });
        const markdown = reportMarkdown(report);
        writeFileAtomic(join(out, RUN_FILES.evalJson), `${JSON.stringify(report, null, 2)}\n`);
        writeFileAtomic(join(out, RUN_FILES.evalMarkdown), `${markdown}\n`);
        say(markdown);
        say(`wrote ${join(out, RUN_FILES.evalJson)} and ${join(out, RUN_FILES.evalMarkdown)}`);
      });
    });
}
