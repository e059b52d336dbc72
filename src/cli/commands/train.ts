import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { describeShape, type Dataset } from '../../data/dataset.js';
import { loadData } from '../../data/load.js';
import { formatNoise } from '../../data/transforms/noise.js';
import { getBackend } from '../../engine/index.js';
import type { TestMetrics } from '../../eval/evaluate.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { CONFIG_FILE } from '../../io/bundle.js';
import { prepareModelFolder } from '../../io/output.js';
import { METRICS_FILE, TEST_METRICS_FILE, trainAndTestSets, trainJob, type TrainJobResult } from '../../pipelines/train.js';
import { resolveFitOptions } from '../../train/fit.js';
import { notebookFigures } from '../../viz/figures.js';
import { TerminalProgress } from '../progress.js';
import {
  addModelOptions, addTrainOptions, dataOptionsFrom, fitOptionsFrom, loadDataFrom, modelChoicesFrom, say, type TrainFlags,
} from '../options.js';

export function printTestMetrics(m: TestMetrics): void {
  const quality = m.psnrNoisyDb !== null && m.psnrDenoisedDb !== null
    ? `PSNR noisy ${m.psnrNoisyDb.toFixed(2)} dB -> denoised ${m.psnrDenoisedDb.toFixed(2)} dB`
    : `MSE per value noisy ${m.mseNoisy.toPrecision(4)} -> denoised ${m.mseDenoised.toPrecision(4)}`;
  say(`Test (${m.images} examples, noise ${m.noise}): ${quality} | negative ELBO ${m.negElboNats.toFixed(2)} nats (recon ${m.reconNats.toFixed(2)} + KL ${m.klNats.toFixed(2)})`);
}

/** Loads the data the flags name and trains into --out; prints the summary, the epochs and the test metrics. */
async function runTraining(flags: TrainFlags, overwrite: boolean): Promise<TrainJobResult> {
  const fitOptions = resolveFitOptions(fitOptionsFrom(flags));
  const train = await loadDataFrom(flags, 'train');
  const test: Dataset | undefined = flags.validationData !== undefined ? await loadData(flags.validationData, 'test', dataOptionsFrom(flags)) : undefined;
  const out = resolve(flags.out);
  // Everything the job checks before it writes, checked before the folder is made.
  trainAndTestSets({ train, ...(test !== undefined ? { test } : {}), ...(flags.validation !== undefined ? { validationFraction: flags.validation } : {}), ...(flags.limit !== undefined ? { limit: flags.limit } : {}) }, fitOptions.seed);
  const backend = getBackend().info();
  const result = await trainJob({
    model: modelChoicesFrom(flags),
    fit: fitOptions,
    train,
    ...(test !== undefined ? { test } : {}),
    ...(flags.validation !== undefined ? { validationFraction: flags.validation } : {}),
    ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
    outDir: out,
    callbacks: [new TerminalProgress()],
    onModel: (vae, data) => {
      prepareModelFolder(out, overwrite);
      const m = vae.config;
      say(`vaekit: training preset ${m.preset} (${m.likelihood} likelihood, loss ${flags.loss}${flags.loss === 'elbo' ? `, beta ${flags.beta}` : ''}, noise ${formatNoise(flags.noise)}) on the ${backend.backend} backend (${backend.blas})`);
      say(`data: ${data.train.count} training and ${data.test.count} validation examples of ${describeShape(data.train.shape)} from ${train.source}`);
      say(vae.summary());
    },
  });
  printTestMetrics(result.test);
  say(`Model: ${out} (${CONFIG_FILE}, weights.safetensors); metrics: ${join(out, METRICS_FILE)}, ${join(out, TEST_METRICS_FILE)}`);
  return result;
}

export function register(program: Command): void {
  addTrainOptions(addModelOptions(program.command('train')), 'runs/train')
    .description('train a denoising VAE on MNIST or your own data (an image folder, NPY or CSV) and save it with its metrics')
    .option('--overwrite', 'replace a model already in --out')
    .action(async (flags: TrainFlags) => {
      await runTraining(flags, flags.overwrite === true);
    });

  addTrainOptions(program.command('demo'), 'runs/demo')
    .description('the notebook in one command: train the seed preset as a denoising VAE, write figures, metrics and the model')
    .action(async (flags: TrainFlags) => {
      const { vae, testSet } = await runTraining({ ...flags, preset: 'seed' }, true);
      const out = resolve(flags.out);
      for (const [name, png] of notebookFigures(vae, testSet, flags.noise, flags.seed)) {
        writeFileAtomic(join(out, name), png);
        say(`wrote ${join(out, name)}`);
      }
      say(`Demo finished: everything is in ${out}`);
    });
}
