import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { describeShape, type Dataset } from '../../data/dataset.js';
import { isMnistSpec, loadData } from '../../data/load.js';
import { formatNoise } from '../../data/transforms/noise.js';
import { getBackend } from '../../engine/index.js';
import type { TestMetrics } from '../../eval/evaluate.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { CONFIG_FILE, loadBundle } from '../../io/bundle.js';
import { checkpointFiles, CHECKPOINT_DIR, latestCheckpoint } from '../../io/checkpoint.js';
import { lockRunFolder, prepareModelFolder, stagingFolder, swapInto } from '../../io/output.js';
import type { Checkpoint } from '../../train/checkpoint.js';
import { VaekitError } from '../../errors.js';
import { METRICS_FILE, TEST_METRICS_FILE, trainAndTestSets, trainJob, type TrainJobResult } from '../../pipelines/train.js';
import { resolveFitOptions } from '../../train/fit.js';
import { modelFigures } from '../../pipelines/figures.js';
import { writeReport } from '../../report/report.js';
import { TerminalProgress } from '../progress.js';
import {
  addModelOptions, addTrainOptions, checkGivenFlags, dataOptionsFrom, fitOptionsFrom, loadDataFrom, modelChoicesFrom, positiveInt, say, type TrainFlags,
} from '../options.js';

export function printTestMetrics(m: TestMetrics): void {
  say(testMetricsLine(m));
}

/** The test line, each number with what it measures: denoising quality, then the negative ELBO of clean examples given the model's inputs. */
export function testMetricsLine(m: TestMetrics): string {
  const noisy = m.noise !== 'none';
  let quality: string;
  if (m.psnrDenoisedDb !== null) {
    // Without noise there is no noisy-input PSNR (test-metrics.json has null; older files, 100 dB, the input against itself).
    quality = noisy && m.psnrNoisyDb !== null
      ? `denoising PSNR ${m.psnrNoisyDb.toFixed(2)} dB (noisy input) -> ${m.psnrDenoisedDb.toFixed(2)} dB (denoised)`
      : `reconstruction PSNR ${m.psnrDenoisedDb.toFixed(2)} dB`;
  } else {
    quality = noisy
      ? `denoising MSE per value ${m.mseNoisy.toPrecision(4)} (noisy input) -> ${m.mseDenoised.toPrecision(4)} (denoised)`
      : `reconstruction MSE per value ${m.mseDenoised.toPrecision(4)}`;
  }
  const given = noisy ? 'clean examples given noisy ones' : 'examples given themselves';
  return `Test (${m.images} examples${noisy ? `, noise ${m.noise}` : ''}): ${quality} | negative ELBO of ${given} ${m.negElboNats.toFixed(2)} nats per example `
    + `(reconstruction ${m.reconNats.toFixed(2)} + KL ${m.klNats.toFixed(2)}; ${m.elboSamples === 1 ? 'one posterior sample' : `mean of ${m.elboSamples} posterior samples`} each)`;
}

interface RunFlags extends TrainFlags {
  resume?: string;
  checkpointEvery?: number;
  checkpointEverySteps?: number;
}

/** Options a resumed run may change; every other one keeps the run's value. */
const CHANGEABLE_ON_RESUME = new Set(['resume', 'epochs', 'out', 'overwrite']);
const PATH_FLAGS = ['data', 'labels', 'validationData'] as const;

/** The flags as the run keeps them: data paths made absolute, so a resume works from any folder. */
function storedFlags(flags: RunFlags): Record<string, unknown> {
  const kept: Record<string, unknown> = { ...flags };
  for (const key of ['resume', 'out', 'overwrite']) delete kept[key];
  for (const key of PATH_FLAGS) {
    const value = flags[key];
    if (typeof value === 'string' && !isMnistSpec(value) && existsSync(value)) kept[key] = resolve(value);
  }
  return JSON.parse(JSON.stringify(kept)) as Record<string, unknown>;
}

/** The run's own flags, with --epochs from the command line; refuses any other flag that differs, naming it. */
function resumeFlags(flags: RunFlags, command: Command, dir: string, stored: Record<string, unknown>): RunFlags {
  const given = storedFlags(flags);
  for (const option of command.options) {
    const key = option.attributeName();
    if (CHANGEABLE_ON_RESUME.has(key) || command.getOptionValueSource(key) !== 'cli') continue;
    if (JSON.stringify(given[key]) !== JSON.stringify(stored[key])) {
      const was = stored[key] === undefined ? 'not set' : JSON.stringify(stored[key]);
      throw new VaekitError(`${option.long ?? key} was ${was} in the run in ${dir}, not ${JSON.stringify(given[key])}: a resumed run keeps its settings (only --epochs may change), so drop the flag or start a new run.`);
    }
  }
  const epochs = command.getOptionValueSource('epochs') === 'cli' ? flags.epochs : stored['epochs'];
  return { ...(stored as unknown as RunFlags), epochs: epochs as number, out: dir, resume: dir };
}

/** Aborts on SIGINT, SIGTERM or when the parent process is gone (a killed npx); returns the undo. */
function stopOnSignals(controller: AbortController): () => void {
  const stop = (why: string): void => {
    if (controller.signal.aborted) return;
    process.stderr.write(`vaekit: ${why}: stopping after this step and saving a checkpoint\n`);
    controller.abort();
  };
  const onInt = (): void => stop('interrupted');
  const onTerm = (): void => stop('terminated');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const parent = process.ppid;
  const watch = setInterval(() => { if (process.ppid !== parent) stop('the parent process is gone'); }, 1000);
  watch.unref();
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    clearInterval(watch);
  };
}

/**
 * Loads the data the flags name and trains into --out (or goes on with the run in --resume DIR);
 * prints the summary, the epochs and the test metrics. Stopped by a signal, it leaves a checkpoint
 * and returns null.
 */
async function runTraining(input: RunFlags, overwrite: boolean, command: Command | null, checkpoints: boolean): Promise<TrainJobResult | null> {
  let flags = input;
  let resumeFrom: Checkpoint | undefined;
  // Where the finished model goes; a run replacing a model trains beside it (swap.ts).
  let target = resolve(input.out);
  if (input.resume !== undefined) {
    const dir = resolve(input.resume);
    if (command !== null && command.getOptionValueSource('out') === 'cli' && resolve(input.out) !== dir) {
      throw new VaekitError(`--resume ${input.resume} goes on in that folder: drop --out ${input.out}.`);
    }
    const found = latestCheckpoint(dir);
    if (found === null) throw new VaekitError(`${dir} has no checkpoint to resume from (it has no ${CHECKPOINT_DIR}/ folder with a checkpoint in it).`);
    const stored = found.checkpoint.run['flags'];
    if (typeof stored !== 'object' || stored === null) throw new VaekitError(`${found.path} does not say how its run was started, so it cannot be resumed from the command line.`);
    flags = resumeFlags(input, command!, dir, stored as Record<string, unknown>);
    resumeFrom = found.checkpoint;
    target = typeof found.checkpoint.run['target'] === 'string' ? found.checkpoint.run['target'] : dir;
    if (flags.epochs < resumeFrom.state.epoch) {
      throw new VaekitError(`The run in ${dir} has already trained ${resumeFrom.state.epoch} epochs: --epochs must be at least that.`);
    }
  }
  const fitOptions = resolveFitOptions(fitOptionsFrom(flags));
  const train = await loadDataFrom(flags, 'train');
  const test: Dataset | undefined = flags.validationData !== undefined ? await loadData(flags.validationData, 'test', dataOptionsFrom(flags)) : undefined;
  // Replacing a model: train into OUT.new and swap it in when complete, so OUT holds the old model, whole, until then.
  const replacing = resumeFrom === undefined && overwrite && existsSync(join(target, CONFIG_FILE));
  const out = replacing ? stagingFolder(target) : resolve(flags.out);
  const split = { ...(flags.validation !== undefined ? { validationFraction: flags.validation } : {}), ...(flags.limit !== undefined ? { limit: flags.limit } : {}) };
  // Everything the job checks before it writes, checked before the folder is made.
  trainAndTestSets({ train, ...(test !== undefined ? { test } : {}), ...split }, fitOptions.seed);
  const backend = getBackend().info();
  const onStale = (pid: number): void => say(`vaekit: took over ${out} from process ${pid}, which is gone`);
  // The target's lock first: whoever holds it owns its staging folder too.
  const releaseTarget = target !== out ? lockRunFolder(target, onStale) : () => undefined;
  if (replacing) rmSync(out, { recursive: true, force: true });
  let release: () => void = releaseTarget;
  try {
    release = lockRunFolder(out, onStale);
  } catch (err) {
    releaseTarget();
    throw err;
  }
  const controller = new AbortController();
  const restore = stopOnSignals(controller);
  try {
    if (resumeFrom === undefined && checkpointFiles(out).length > 0) {
      if (!overwrite && !existsSync(join(out, CONFIG_FILE))) {
        throw new VaekitError(`${out} holds the checkpoints of an unfinished run: resume it with --resume ${flags.out}, or pass --overwrite to start over.`);
      }
      prepareModelFolder(out, overwrite);
      rmSync(join(out, CHECKPOINT_DIR), { recursive: true, force: true });
    }
    const result = await trainJob({
      model: modelChoicesFrom(flags),
      fit: fitOptions,
      train,
      ...(test !== undefined ? { test } : {}),
      ...split,
      outDir: out,
      callbacks: [new TerminalProgress()],
      signal: controller.signal,
      checkpoint: checkpoints ? { everyEpochs: flags.checkpointEvery ?? 1, ...(flags.checkpointEverySteps !== undefined ? { everySteps: flags.checkpointEverySteps } : {}) } : null,
      run: { flags: storedFlags(flags), target },
      ...(resumeFrom !== undefined ? { resumeFrom } : {}),
      onModel: (vae, data) => {
        if (resumeFrom === undefined) prepareModelFolder(out, overwrite);
        const m = vae.config;
        const objective = flags.loss === 'notebook-mse' ? 'the notebook\'s squared error (no likelihood, KL reported but not trained)'
          : `${m.likelihood} likelihood, loss ${flags.loss}${flags.loss === 'elbo' ? `, beta ${flags.beta}` : ''}`;
        say(`vaekit: ${resumeFrom === undefined ? 'training' : `resuming at epoch ${resumeFrom.state.epoch + 1}, step ${resumeFrom.state.stepInEpoch},`} preset ${m.preset} (${objective}, noise ${formatNoise(flags.noise)}) on the ${backend.backend} backend (${backend.blas}${flags.precision === 'bf16' && backend.bf16.available ? ', bf16 mixed precision' : ''})`);
        if (backend.note !== undefined) say(`note: ${backend.note}`);
        say(`data: ${data.train.count} training and ${data.test.count} validation examples of ${describeShape(data.train.shape)} from ${train.source}`);
        if (resumeFrom === undefined) say(vae.summary({ loss: flags.loss }));
      },
    });
    if (result.test === null) {
      say(`Stopped after ${result.history.steps} steps; the checkpoint is in ${join(out, CHECKPOINT_DIR)}. Resume with: npx vaekit train --resume ${out === target ? flags.out : out}`);
      process.exitCode = 130;
      return null;
    }
    if (out !== target) swapInto(out, target);
    printTestMetrics(result.test);
    say(`Model: ${target} (${CONFIG_FILE}, weights.safetensors); metrics: ${join(target, METRICS_FILE)}, ${join(target, TEST_METRICS_FILE)}`);
    return result;
  } finally {
    restore();
    release();
    releaseTarget();
  }
}

export function register(program: Command): void {
  addTrainOptions(addModelOptions(program.command('train')), 'runs/train')
    .description('train a denoising VAE on MNIST or your own data (an image folder, NPY or CSV) and save it with its metrics')
    .option('--checkpoint-every <n>', 'save a checkpoint after every N epochs (the newest two are kept in --out/checkpoints)', positiveInt, 1)
    .option('--checkpoint-every-steps <n>', 'also save a checkpoint every N steps inside an epoch', positiveInt)
    .option('--early-stopping <patience>', 'stop when the validation loss has not improved for this many epochs, and keep the best epoch\'s weights', positiveInt)
    .option('--resume <dir>', 'go on with the run in DIR from its newest checkpoint, bit for bit (with --epochs N: train to N epochs)')
    .action(async (flags: RunFlags, command: Command) => {
      if (flags.resume === undefined) checkGivenFlags(command, flags);
      await runTraining(flags, flags.overwrite === true, command, true);
    });

  addTrainOptions(program.command('demo'), 'runs/demo')
    .description('the notebook in one command: train the seed preset as a denoising VAE, write figures, metrics and the model')
    .action(async (flags: TrainFlags, command: Command) => {
      checkGivenFlags(command, flags);
      const result = await runTraining({ ...flags, preset: 'seed' }, flags.overwrite === true, null, false);
      if (result === null) return;
      const { testSet } = result;
      const out = resolve(flags.out);
      for (const [name, bytes] of await modelFigures(out, loadBundle(out), testSet, flags.noise, flags.seed)) {
        writeFileAtomic(join(out, name), bytes);
        say(`wrote ${join(out, name)}`);
      }
      const report = await writeReport(out, { noise: flags.noise, seed: flags.seed });
      say(`wrote ${report} (the model, its curves, metrics and figures on one page: open it in a browser)`);
      say(`Demo finished: everything is in ${out}`);
    });
}
