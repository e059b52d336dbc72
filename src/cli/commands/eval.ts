import { join } from 'node:path';
import type { Command } from 'commander';
import { addModelNoiseOption, noiseForModel } from '../model-noise.js';
import { takeFirst } from '../../data/dataset.js';
import { channelsLike, isMnistSpec, loadData } from '../../data/load.js';
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
}

export function register(program: Command): void {
  const cmd = addModelDirOption(program.command('eval'))
    .description('evaluate a saved model: ELBO, importance-sampled log-likelihood, reconstruction, denoising PSNR/SSIM, active units, KL per dimension, kNN accuracy');
  addDataOptions(cmd, 'the test data', 'its test split');
  cmd
    .option('--train-data <spec>', 'labelled reference data for the kNN probe and the prior-sample check (default: MNIST\'s training split when --data is MNIST, else none)')
    .option('--samples <k>', 'importance samples per example for the log-likelihood (0 skips it)', nonNegativeInt, 5000)
    .option('--knn-k <k>', 'neighbours of the kNN probe', positiveInt, 5)
    .option('--prior-samples <n>', 'prior samples judged against their nearest training images (0 skips)', nonNegativeInt, 1000);
  addModelNoiseOption(cmd, 'noise of the denoising metrics ("none": reconstruction metrics of clean inputs)');
  cmd
    .option('--binarize', 'binarize the test images (one fixed draw each): the dynamically binarized MNIST protocol')
    .option('--limit <n>', 'evaluate only the first N test examples', positiveInt);
  addSeedOption(cmd, 'seed of the test noise, binarization and posterior samples')
    .option('--out <dir>', `where to write ${RUN_FILES.evalJson} and ${RUN_FILES.evalMarkdown} (default: the model folder)`)
    .action(async (flags: EvalFlags, command: Command) => {
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
