/**
 * The `vaekit` command line: a thin shell over the library. Every error a user can cause prints
 * one line to stderr and exits with status 1.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ACTIVATIONS, type Activation } from '../engine/backend.js';
import { getBackend } from '../engine/index.js';
import { Tensor } from '../engine/tensor.js';
import { toBytes } from '../data/batches.js';
import { loadImageIdx, loadMnist, takeFirst, type ImageSet } from '../data/dataset.js';
import { encodeIdx } from '../data/idx.js';
import { applyNoise, formatNoise, parseNoise, type NoiseSpec } from '../data/noise.js';
import { VaekitError } from '../errors.js';
import { type TestMetrics } from '../eval/evaluate.js';
import { evaluateSuite, reportMarkdown } from '../eval/suite.js';
import { anomalyScores, classSubset, oneClassAuroc } from '../eval/anomaly.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { CONFIG_FILE, loadModel, saveModel } from '../io/bundle.js';
import { TerminalProgress, TerminalTaskProgress } from '../train/progress.js';
import { fit, resolveFitOptions } from '../train/fit.js';
import { trainDenoiser, METRICS_FILE, TEST_METRICS_FILE } from '../train/train-denoiser.js';
import type { FitOptionsInput, NoiseRedraw } from '../train/fit.js';
import { NO_WARMUP, parseKlSchedule, type KlSchedule } from '../train/kl-schedule.js';
import { LIKELIHOODS, PRESETS, presetConfig, type Likelihood, type VaeOverrides } from '../vae/config.js';
import { Vae } from '../vae/model.js';
import { checkObjectiveFits, LOSS_DESCRIPTIONS, parseLoss, type LossName } from '../vae/objective.js';
import { parsePrior, type PriorKind } from '../vae/prior.js';
import { imageGridPng } from '../viz/image-grid.js';
import { denoisedExamplesPng, noisyExamplesPng, samplesPng } from '../viz/figures.js';

// ---- value parsers (commander turns InvalidArgumentError into one line and exit 1) ----------

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('It must be a positive integer.');
  return n;
}

function seedValue(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 0xffffffff) throw new InvalidArgumentError('It must be an integer from 0 to 4294967295.');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('It must be an integer >= 0.');
  return n;
}

function labelValue(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 9) throw new InvalidArgumentError('It must be a digit from 0 to 9.');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('It must be a positive number.');
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('It must be a number >= 0.');
  return n;
}

function intList(value: string): number[] {
  if (value.trim() === 'none') return [];
  return value.split(',').map((part) => positiveInt(part.trim()));
}

function noiseValue(value: string): NoiseSpec {
  try {
    return parseNoise(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

function klScheduleValue(value: string): KlSchedule {
  try {
    return parseKlSchedule(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

function priorValue(value: string): { prior: PriorKind; priorComponents: number } {
  try {
    return parsePrior(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

function lossValue(value: string): LossName {
  try {
    return parseLoss(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

// ---- shared option groups ----------------------------------------------------------------

interface ModelFlags {
  preset: string;
  latent?: number;
  hidden?: number[];
  encoderHidden?: number[];
  decoderHidden?: number[];
  activation?: Activation;
  likelihood?: Likelihood;
  sigma?: number;
  learnedVariance?: boolean;
  convChannels?: number[];
  conditional?: boolean;
  prior?: { prior: PriorKind; priorComponents: number };
}

function addModelOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--preset <name>', 'model preset').choices(Object.keys(PRESETS)).default('seed'))
    .option('--latent <n>', 'latent dimensions (seed: 40)', positiveInt)
    .option('--hidden <sizes>', 'hidden layer sizes of encoder and decoder, comma-separated (seed: 512)', intList)
    .option('--encoder-hidden <sizes>', 'encoder hidden sizes, comma-separated', intList)
    .option('--decoder-hidden <sizes>', 'decoder hidden sizes, comma-separated', intList)
    .addOption(new Option('--activation <name>', 'hidden activation').choices([...ACTIVATIONS]))
    .addOption(new Option('--likelihood <name>', 'pixel likelihood p(x|z)').choices([...LIKELIHOODS]))
    .option('--sigma <s>', 'standard deviation of the gaussian likelihood (the initial one with --learned-variance)', positiveNumber)
    .option('--learned-variance', 'learn the gaussian likelihood\'s standard deviation, one per pixel')
    .option('--conv-channels <list>', 'channels of the stride-2 convs of a conv preset, comma-separated (conv: 32,64)', intList)
    .option('--conditional', 'a conditional VAE: the digit label goes to the encoder and the decoder')
    .option('--prior <spec>', 'the prior p(z): "standard" (N(0, I)) or "mog:K" (a learned mixture of K Gaussians)', priorValue);
}

function modelConfigFrom(flags: ModelFlags): ReturnType<typeof presetConfig> {
  const overrides: VaeOverrides = {};
  if (flags.latent !== undefined) overrides.latent = flags.latent;
  if (flags.hidden !== undefined) overrides.encoderHidden = overrides.decoderHidden = flags.hidden;
  if (flags.encoderHidden !== undefined) overrides.encoderHidden = flags.encoderHidden;
  if (flags.decoderHidden !== undefined) overrides.decoderHidden = flags.decoderHidden;
  if (flags.activation !== undefined) overrides.activation = flags.activation;
  if (flags.likelihood !== undefined) overrides.likelihood = flags.likelihood;
  if (flags.sigma !== undefined) overrides.gaussianSigma = flags.sigma;
  if (flags.learnedVariance === true) overrides.gaussianLearnedVariance = true;
  if (flags.convChannels !== undefined) overrides.convChannels = flags.convChannels;
  if (flags.conditional === true) overrides.classes = 10;
  if (flags.prior !== undefined) Object.assign(overrides, flags.prior);
  return presetConfig(flags.preset, overrides);
}

interface TrainFlags extends ModelFlags {
  epochs: number;
  batchSize: number;
  lr: number;
  lrFinal?: number;
  beta: number;
  loss: LossName;
  samples: number;
  freeBits: number;
  klWarmup: KlSchedule;
  binarize?: boolean;
  noise: NoiseSpec;
  noiseRedraw: NoiseRedraw;
  seed: number;
  limit?: number;
  out: string;
  overwrite?: boolean;
}

function addTrainOptions(cmd: Command, defaultOut: string): Command {
  return cmd
    .option('--epochs <n>', 'training epochs', positiveInt, 10)
    .option('--batch-size <n>', 'batch size', positiveInt, 128)
    .option('--lr <rate>', 'Adam learning rate', positiveNumber, 1e-3)
    .option('--lr-final <rate>', 'decay the learning rate exponentially to this by the last epoch', positiveNumber)
    .option('--beta <b>', 'weight of the KL term in the ELBO', nonNegativeNumber, 1)
    .option('--loss <name>', `objective: "elbo" (${LOSS_DESCRIPTIONS.elbo}), "iwae" (${LOSS_DESCRIPTIONS.iwae}) or "notebook-mse" (${LOSS_DESCRIPTIONS['notebook-mse']})`, lossValue, 'elbo' as LossName)
    .option('--samples <k>', 'importance samples per image for --loss iwae', positiveInt, 5)
    .option('--free-bits <nats>', 'floor on each latent dimension\'s batch-mean KL (elbo)', nonNegativeNumber, 0)
    .option('--kl-warmup <schedule>', 'KL weight warm-up: "none", "linear:EPOCHS" or "cyclical:PERIOD[:RAMP]"', klScheduleValue, NO_WARMUP)
    .option('--binarize', 'dynamic binarization: resample every pixel as Bernoulli(intensity) each epoch')
    .option('--noise <spec>', 'input noise: "gaussian:FACTOR" (clipped to [0,1]) or "none"', noiseValue, { kind: 'gaussian', factor: 0.2 } as NoiseSpec)
    .addOption(new Option('--noise-redraw <when>', 'draw new noise every epoch, or once like the notebook').choices(['epoch', 'once']).default('epoch'))
    .option('--seed <n>', 'seed of every random number (weights, shuffling, noise, samples)', seedValue, 0)
    .option('--limit <n>', 'use only the first N training images', positiveInt)
    .option('--out <dir>', 'output folder', defaultOut);
}

/** The training options the train flags describe. */
function fitOptionsFrom(flags: TrainFlags): FitOptionsInput {
  return {
    epochs: flags.epochs,
    batchSize: flags.batchSize,
    learningRate: flags.lr,
    ...(flags.lrFinal !== undefined ? { learningRateFinal: flags.lrFinal } : {}),
    objective: { loss: flags.loss, beta: flags.beta, freeBits: flags.freeBits, samples: flags.loss === 'iwae' ? flags.samples : 1 },
    klWarmup: flags.klWarmup,
    binarize: flags.binarize === true,
    noise: flags.noise,
    noiseRedraw: flags.noiseRedraw,
    seed: flags.seed,
  };
}

// ---- commands ----------------------------------------------------------------------------

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function printTestMetrics(m: TestMetrics): void {
  say(`Test (${m.images} images, noise ${m.noise}): PSNR noisy ${m.psnrNoisyDb.toFixed(2)} dB -> denoised ${m.psnrDenoisedDb.toFixed(2)} dB | negative ELBO ${m.negElboNats.toFixed(2)} nats (recon ${m.reconNats.toFixed(2)} + KL ${m.klNats.toFixed(2)})`);
}

function ensureOutDir(dir: string, overwrite: boolean): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new VaekitError(`The output path ${dir} exists and is not a folder.`);
  if (!overwrite && existsSync(join(dir, CONFIG_FILE))) {
    throw new VaekitError(`${dir} already holds a model; pass --overwrite to replace it or choose another --out.`);
  }
  mkdirSync(dir, { recursive: true });
}

function runTraining(flags: TrainFlags, overwrite: boolean): { vae: Vae; testSet: ImageSet } {
  const model = modelConfigFrom(flags);
  checkObjectiveFits(resolveFitOptions(fitOptionsFrom(flags)).objective, model);
  const out = resolve(flags.out);
  ensureOutDir(out, overwrite);
  const backend = getBackend().info();
  say(`vaekit: training preset ${model.preset} (${model.likelihood} likelihood, loss ${flags.loss}${flags.loss === 'elbo' ? `, beta ${flags.beta}` : ''}, noise ${formatNoise(flags.noise)}) on the ${backend.backend} backend (${backend.blas})`);
  const result = trainDenoiser({
    model,
    fit: fitOptionsFrom(flags),
    ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
    outDir: out,
    progress: new TerminalProgress(),
    onModel: (vae) => say(vae.summary()),
  });
  printTestMetrics(result.test);
  say(`Model: ${out} (${CONFIG_FILE}, weights.safetensors); metrics: ${join(out, METRICS_FILE)}, ${join(out, TEST_METRICS_FILE)}`);
  return { vae: result.vae, testSet: result.testSet };
}

interface FigureFlags {
  noise: NoiseSpec;
  seed: number;
}

function writeFigures(vae: Vae, test: ImageSet, outDir: string, flags: FigureFlags): string[] {
  const files = [
    ['noisy-examples.png', noisyExamplesPng(test, flags.noise, flags.seed)],
    ['denoised-examples.png', denoisedExamplesPng(vae, test, flags.noise, flags.seed)],
    ['samples.png', samplesPng(vae, 64, flags.seed)],
  ] as const;
  mkdirSync(outDir, { recursive: true });
  return files.map(([name, png]) => {
    const path = join(outDir, name);
    writeFileAtomic(path, png);
    return path;
  });
}

function loadImages(input: string | undefined, split: string): ImageSet {
  if (input !== undefined) return loadImageIdx(input);
  if (split !== 'test' && split !== 'train') throw new VaekitError(`Unknown split "${split}": use "test" or "train".`);
  return loadMnist(split);
}

function checkImageSize(vae: Vae, set: ImageSet, source: string): void {
  if (set.height !== vae.config.imageHeight || set.width !== vae.config.imageWidth) {
    throw new VaekitError(`${source} holds ${set.height}x${set.width} images but the model takes ${vae.config.imageHeight}x${vae.config.imageWidth}.`);
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('vaekit')
    .description('Variational autoencoders in TypeScript: train, evaluate and use VAEs on image data.')
    .version('0.1.0')
    .showSuggestionAfterError(true);

  program.command('info')
    .description('print the compute backend in use, whether OpenBLAS was found, and the thread count')
    .action(() => {
      const info = getBackend().info();
      say(`backend: ${info.backend}`);
      say(`openblas: ${info.blas === 'openblas' ? 'yes' : 'no'}`);
      say(`matrix products: ${info.blas === 'openblas' ? 'OpenBLAS cblas_sgemm' : info.blas === 'portable' ? 'bundled portable kernel' : 'TypeScript'}`);
      say(`threads: ${info.threads}`);
      if (info.note !== undefined) say(`note: ${info.note}`);
      say('(set VAEKIT_BACKEND=js to force the js backend)');
    });

  addModelOptions(program.command('summary'))
    .description('print the layers, output shapes and parameter counts of a preset or a saved model')
    .option('--model <dir>', 'a saved model folder (instead of a preset)')
    .action((flags: ModelFlags & { model?: string }) => {
      const vae = flags.model !== undefined ? loadModel(flags.model) : new Vae(modelConfigFrom(flags));
      say(vae.summary());
    });

  addTrainOptions(addModelOptions(program.command('train')), 'runs/train')
    .description('train a denoising VAE on MNIST and save it with its metrics')
    .option('--overwrite', 'replace a model already in --out')
    .action((flags: TrainFlags) => {
      runTraining(flags, flags.overwrite === true);
    });

  program.command('denoise')
    .description('denoise images with a saved model; writes an IDX file and a PNG grid')
    .requiredOption('--model <dir>', 'saved model folder')
    .option('--input <file>', 'IDX file of images (uint8 [n, h, w], raw or gzip); default: MNIST')
    .option('--split <name>', 'MNIST split when no --input is given', 'test')
    .option('--limit <n>', 'denoise only the first N images', positiveInt)
    .option('--noise <spec>', 'noise to add first ("none" for already noisy inputs)', noiseValue, { kind: 'gaussian', factor: 0.2 } as NoiseSpec)
    .option('--seed <n>', 'seed of the added noise', seedValue, 0)
    .requiredOption('--out <file>', 'output IDX file of denoised images (uint8)')
    .option('--grid <file>', 'PNG grid of inputs above outputs (default: --out with .png)')
    .action((flags: { model: string; input?: string; split: string; limit?: number; noise: NoiseSpec; seed: number; out: string; grid?: string }) => {
      const vae = loadModel(flags.model);
      let set = loadImages(flags.input, flags.split);
      checkImageSize(vae, set, flags.input ?? `MNIST ${flags.split}`);
      if (flags.limit !== undefined) set = takeFirst(set, Math.min(flags.limit, set.count));
      const pixels = vae.pixels;
      const clean = new Float32Array(set.count * pixels);
      for (let i = 0; i < clean.length; i++) clean[i] = set.images[i]! / 255;
      const noisy = new Float32Array(clean.length);
      const index = Uint32Array.from({ length: set.count }, (_, i) => i);
      applyNoise(flags.noise, clean, noisy, set.count, pixels, index, flags.seed, 0);
      const denoised = vae.denoise(new Tensor(noisy, [set.count, set.height, set.width]), vae.classes > 0 ? set.labels : null);
      const grid = flags.grid ?? `${extname(flags.out) === '' ? flags.out : flags.out.slice(0, -extname(flags.out).length)}.png`;
      const shown = Math.min(set.count, 16);
      const cells = [0, 1].map((row) => Array.from({ length: shown }, (_, i) =>
        (row === 0 ? noisy : denoised.data).subarray(i * pixels, (i + 1) * pixels)));
      const png = imageGridPng(cells, set.height, set.width, { scale: 2 });
      writeFileAtomic(flags.out, encodeIdx({ dtype: 'uint8', shape: [set.count, set.height, set.width], data: toBytes(denoised.data) }));
      writeFileAtomic(grid, png);
      say(`Denoised ${set.count} images: ${flags.out} (IDX uint8 [${set.count}, ${set.height}, ${set.width}]), ${grid} (inputs above outputs)`);
    });

  program.command('figures')
    .description("write the notebook's figures (and 64 prior samples) for a saved model")
    .requiredOption('--model <dir>', 'saved model folder')
    .option('--out <dir>', 'output folder (default: the model folder)')
    .option('--noise <spec>', 'noise of the examples', noiseValue, { kind: 'gaussian', factor: 0.2 } as NoiseSpec)
    .option('--seed <n>', 'seed of the noise and the samples', seedValue, 0)
    .action((flags: FigureFlags & { model: string; out?: string }) => {
      const vae = loadModel(flags.model);
      const test = loadMnist('test');
      checkImageSize(vae, test, 'MNIST');
      for (const f of writeFigures(vae, test, flags.out ?? flags.model, flags)) say(`wrote ${f}`);
    });

  program.command('sample')
    .description('decode images from z ~ p(z), the model\'s prior, into a PNG grid')
    .requiredOption('--model <dir>', 'saved model folder')
    .option('--count <n>', 'number of samples', positiveInt, 64)
    .option('--label <digit>', 'the class to draw (conditional models)', labelValue)
    .option('--seed <n>', 'seed of the latent draws', seedValue, 0)
    .requiredOption('--out <file>', 'output PNG file')
    .action((flags: { model: string; count: number; label?: number; seed: number; out: string }) => {
      const vae = loadModel(flags.model);
      if (vae.classes === 0 && flags.label !== undefined) throw new VaekitError(`${flags.model} is not a conditional model: it takes no --label.`);
      if (vae.classes > 0 && flags.label === undefined) throw new VaekitError(`${flags.model} is a conditional model: give --label 0 to ${vae.classes - 1}.`);
      if (flags.label !== undefined && flags.label >= vae.classes) throw new VaekitError(`--label must be 0 to ${vae.classes - 1} for this model.`);
      writeFileAtomic(flags.out, samplesPng(vae, flags.count, flags.seed, flags.label));
      say(`wrote ${flags.out} (${flags.count} samples${flags.label === undefined ? '' : ` of class ${flags.label}`})`);
    });

  program.command('eval')
    .description('evaluate a saved model on the MNIST test set: ELBO, importance-sampled log-likelihood, reconstruction, denoising PSNR/SSIM, active units, KL per dimension, kNN accuracy')
    .requiredOption('--model <dir>', 'saved model folder')
    .option('--samples <k>', 'importance samples per image for the log-likelihood (0 skips it)', nonNegativeInt, 5000)
    .option('--knn-k <k>', 'neighbours of the kNN probe', positiveInt, 5)
    .option('--prior-samples <n>', 'prior samples judged against their nearest training images (0 skips)', nonNegativeInt, 1000)
    .option('--noise <spec>', 'noise of the denoising metrics', noiseValue, { kind: 'gaussian', factor: 0.2 } as NoiseSpec)
    .option('--binarize', 'binarize the test images (one fixed draw each): the dynamically binarized MNIST protocol')
    .option('--limit <n>', 'evaluate only the first N test images', positiveInt)
    .option('--seed <n>', 'seed of the test noise, binarization and posterior samples', seedValue, 0)
    .option('--out <dir>', 'where to write eval.json and eval.md (default: the model folder)')
    .action((flags: { model: string; samples: number; knnK: number; priorSamples: number; noise: NoiseSpec; binarize?: boolean; limit?: number; seed: number; out?: string }) => {
      const vae = loadModel(flags.model);
      let test = loadMnist('test');
      checkImageSize(vae, test, 'MNIST');
      if (flags.limit !== undefined) test = takeFirst(test, Math.min(flags.limit, test.count));
      const report = evaluateSuite(vae, test, {
        noise: flags.noise,
        binarize: flags.binarize === true,
        seed: flags.seed,
        samples: flags.samples,
        knnK: flags.knnK,
        priorSamples: flags.priorSamples,
        train: loadMnist('train'),
        progress: new TerminalTaskProgress(),
      });
      const out = flags.out ?? flags.model;
      mkdirSync(out, { recursive: true });
      const markdown = reportMarkdown(report);
      writeFileAtomic(join(out, 'eval.json'), `${JSON.stringify(report, null, 2)}\n`);
      writeFileAtomic(join(out, 'eval.md'), `${markdown}\n`);
      say(markdown);
      say(`wrote ${join(out, 'eval.json')} and ${join(out, 'eval.md')}`);
    });

  addTrainOptions(addModelOptions(program.command('anomaly')), 'runs/anomaly')
    .description('one-class anomaly detection: train on one digit (or --all ten, one model each), score the whole test set by negative ELBO, report AUROC')
    .option('--digit <d>', 'the normal class', labelValue)
    .option('--all', 'run the ten one-class tasks and report each AUROC and their mean')
    .option('--model <dir>', 'score with this saved model instead of training one (needs --digit)')
    .option('--score-samples <n>', 'posterior samples averaged per anomaly score', positiveInt, 10)
    .action((flags: TrainFlags & { digit?: number; all?: boolean; model?: string; scoreSamples: number }) => {
      if ((flags.digit === undefined) === (flags.all !== true)) throw new VaekitError('Give either --digit D or --all.');
      if (flags.model !== undefined && flags.digit === undefined) throw new VaekitError('--model scores one task: give --digit D with it.');
      const train = loadMnist('train');
      const test = loadMnist('test');
      const digits = flags.all === true ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] : [flags.digit!];
      const out = resolve(flags.out);
      mkdirSync(out, { recursive: true });
      const results: Array<{ digit: number; auroc: number; trainImages: number }> = [];
      for (const digit of digits) {
        let vae: Vae;
        let trainImages = 0;
        if (flags.model !== undefined) {
          vae = loadModel(flags.model);
          checkImageSize(vae, test, 'MNIST');
        } else {
          const subset = classSubset(train, digit);
          trainImages = subset.count;
          say(`digit ${digit}: training on ${subset.count} images`);
          vae = new Vae(modelConfigFrom(flags), { seed: flags.seed });
          fit(vae, subset, { ...fitOptionsFrom(flags), progress: new TerminalProgress() });
          saveModel(vae, join(out, `digit-${digit}`), { digit, trainImages });
        }
        const scores = anomalyScores(vae, test, flags.scoreSamples, flags.seed);
        const value = oneClassAuroc(scores, test.labels!, digit);
        results.push({ digit, auroc: value, trainImages });
        say(`digit ${digit}: AUROC ${(100 * value).toFixed(2)}%`);
      }
      const mean = results.reduce((a, r) => a + r.auroc, 0) / results.length;
      const markdown = ['| normal digit | AUROC |', '| --- | --- |', ...results.map((r) => `| ${r.digit} | ${(100 * r.auroc).toFixed(2)}% |`), `| mean | ${(100 * mean).toFixed(2)}% |`].join('\n');
      writeFileAtomic(join(out, 'anomaly.json'), `${JSON.stringify({ results, meanAuroc: mean }, null, 2)}\n`);
      writeFileAtomic(join(out, 'anomaly.md'), `${markdown}\n`);
      say(markdown);
      say(`wrote ${join(out, 'anomaly.json')} and ${join(out, 'anomaly.md')}`);
    });

  addTrainOptions(program.command('demo'), 'runs/demo')
    .description("the notebook in one command: train the seed preset as a denoising VAE, write figures, metrics and the model")
    .action((flags: TrainFlags) => {
      const { vae, testSet } = runTraining({ ...flags, preset: 'seed' }, true);
      const out = resolve(flags.out);
      for (const f of writeFigures(vae, testSet, out, flags)) say(`wrote ${f}`);
      say(`Demo finished: everything is in ${out}`);
    });

  return program;
}

/** Runs the CLI; user errors become one line on stderr and exit status 1. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.stderr.write(`error: ${describeError(err)}\n`);
    process.exitCode = 1;
  }
}

function describeError(err: unknown): string {
  if (err instanceof VaekitError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e !== null && typeof e === 'object' && typeof e.code === 'string' && typeof e.path === 'string') {
    return `cannot access ${e.path} (${e.code}).`;
  }
  // Not a user error: keep the detail for the bug report.
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
