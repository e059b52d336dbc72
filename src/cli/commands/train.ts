import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { describeShape, type Dataset } from '../../data/dataset.js';
import { parseNoise } from '../../data/transforms/noise.js';
import { getBackend } from '../../engine/index.js';
import type { TestMetrics } from '../../eval/evaluate.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { loadBundle } from '../../run/bundle.js';
import { latestCheckpoint } from '../../run/checkpoints.js';
import { readFileOrExplain } from '../../io/fs-errors.js';
import type { Checkpoint } from '../../train/checkpoint.js';
import { VaekitError } from '../../errors.js';
import { modelFigures } from '../../pipelines/figures.js';
import { writeReport } from '../../report/report.js';
import { readRunRecord, RunFolder } from '../../run/folder.js';
import { RUN_FILES } from '../../run/names.js';
import { planRun } from '../../run/plan.js';
import { SpecFieldError, validateRunSpec, type RunSpec } from '../../run/spec.js';
import { trainRun, type TrainRunResult } from '../../run/train-run.js';
import { TORCHRUN_FILES, trainRunWithTorchrun, type TorchrunOptions } from '../../export/torchrun.js';
import { TextVae } from '../../vae/text/model.js';
import { textMetricsLine } from '../../eval/text.js';
import { TerminalProgress } from '../progress.js';
import { addModelOptions, addTrainOptions, checkGivenFlags, nonNegativeInt, nonNegativeNumber, optionGiven, positiveInt, say, type TrainFlags } from '../options.js';
import { givenSpecFlags, inFlagWords, overrideSpec, refuseChanges, specFromFlags, type RunFlags } from '../spec-flags.js';

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

/** A run spec file (run.json of a run folder, or a spec of the user's own), checked. */
export function readSpecFile(path: string): RunSpec {
  const text = readFileOrExplain(path, 'run spec').toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new VaekitError(`The run spec ${path} is not valid JSON.`);
  }
  // A run folder's run.json holds the spec with what the run recorded beside it.
  const record = typeof raw === 'object' && raw !== null && 'spec' in raw ? raw as { spec: unknown; givenData?: unknown } : null;
  if (typeof record?.givenData === 'string') {
    throw new VaekitError(`The run in ${path} trained on data its command chose (${record.givenData}), which its spec does not name, so --config cannot train it again: run that command again.`);
  }
  const spec = record !== null ? record.spec : raw;
  try {
    return validateRunSpec(spec);
  } catch (err) {
    // The file's own field names (quoted, so the CLI does not say them as flags).
    if (err instanceof SpecFieldError) throw new VaekitError(`The run spec ${path} is not usable: "${err.field}" ${err.detail}`);
    throw new VaekitError(`The run spec ${path} is not usable: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** How a run starts: a new run from a spec, or the run in a folder going on from its newest checkpoint. */
type Start =
  | { kind: 'new'; spec: RunSpec; overwrite: boolean; from?: { config: string; overrides: string[] } }
  | { kind: 'resume'; dir: string; epochs: number | null; command: Command; flags: RunFlags };

/** The spec of a run folder being resumed: its run.json, or (folders from before run specs) the flags its checkpoints kept. */
function resumedSpec(dir: string, checkpoint: Checkpoint): RunSpec {
  if (readRunRecord(dir) !== null) return readSpecFile(join(dir, RUN_FILES.spec));
  const stored = checkpoint.run['flags'];
  if (typeof stored !== 'object' || stored === null) throw new VaekitError(`The run in ${dir} does not say how it was started (it has no ${RUN_FILES.spec}), so it cannot be resumed from the command line.`);
  const flags = stored as RunFlags;
  return validateRunSpec(specFromFlags({ ...flags, out: dir }, { figures: false, checkpoints: true }));
}

/**
 * Trains a run (a new one, or the one in a folder going on from its newest checkpoint) and prints
 * the summary, the epochs and the test metrics. Stopped by a signal, it leaves a checkpoint and
 * returns null.
 */
async function runTraining(start: Start): Promise<{ result: TrainRunResult; spec: RunSpec; dir: string } | null> {
  let spec: RunSpec;
  let resumeFrom: Checkpoint | undefined;
  if (start.kind === 'resume') {
    const dir = resolve(start.dir);
    const found = latestCheckpoint(dir);
    if (found === null) throw new VaekitError(`${dir} has no checkpoint to resume from (it has no ${RUN_FILES.checkpoints}/ folder with a checkpoint in it).`);
    spec = resumedSpec(dir, found.checkpoint);
    refuseChanges(spec, specFromFlags(start.flags, { figures: spec.outputs.figures, checkpoints: true }), givenSpecFlags(start.command, ['epochs', 'out']), dir);
    if (start.epochs !== null) spec = { ...spec, training: { ...spec.training, epochs: start.epochs } };
    spec = { ...spec, outputs: { ...spec.outputs, dir } };
    resumeFrom = found.checkpoint;
    if (spec.training.epochs < resumeFrom.state.epoch) {
      throw new VaekitError(`The run in ${dir} has already trained ${resumeFrom.state.epoch} epochs: --epochs must be at least that.`);
    }
  } else {
    spec = start.spec;
    RunFolder.check(spec.outputs.dir, { overwrite: start.overwrite });
  }
  const plan = await planRun(spec, { report: say });
  const onStale = (pid: number, dir: string): void => say(`vaekit: took over ${dir} from process ${pid}, which is gone`);
  const folder = start.kind === 'resume' ? RunFolder.resume(spec.outputs.dir, { onStale }) : RunFolder.create(spec.outputs.dir, { overwrite: start.overwrite, onStale });
  const controller = new AbortController();
  const restore = stopOnSignals(controller);
  try {
    if (resumeFrom !== undefined && start.kind === 'resume' && start.epochs !== null) {
      // The record says how far the run goes now, so that training it again from run.json gives the same model.
      const record = readRunRecord(folder.dir);
      if (record !== null) folder.writeRecord({ ...record, spec: { ...record.spec, training: { ...record.spec.training, epochs: start.epochs } } });
    }
    const backend = getBackend().info();
    const vae = plan.vae;
    const loss = spec.objective.loss;
    const o = spec.objective;
    const objective = vae instanceof TextVae
      ? (vae.latent === 0 ? 'a language model: softmax over the vocabulary, no latent code'
        : `softmax over the vocabulary, loss ${loss}, beta ${o.beta}${o.klWarmup !== 'none' ? `, KL warm-up ${o.klWarmup}` : ''}${o.freeBits > 0 ? `, free bits ${o.freeBits}` : ''}${o.wordDropout > 0 ? `, word dropout ${o.wordDropout}` : ''}`)
      : loss === 'notebook-mse' ? 'the notebook\'s squared error (no likelihood, KL reported but not trained)'
        : `${vae.config.likelihood} likelihood, loss ${loss}${loss === 'elbo' ? `, beta ${o.beta}` : ''}, noise ${spec.noise.input}`;
    say(`vaekit: ${resumeFrom === undefined ? 'training' : `resuming at epoch ${resumeFrom.state.epoch + 1}, step ${resumeFrom.state.stepInEpoch},`} preset ${vae.config.preset} (${objective}) on the ${backend.backend} backend (${backend.blas}${spec.training.precision === 'bf16' && backend.bf16.available ? ', bf16 mixed precision' : ''})`);
    if (backend.note !== undefined) say(`note: ${backend.note}`);
    say(`data: ${plan.train.count} training and ${plan.test.count} validation examples of ${describeShape(plan.train.shape, plan.train.text !== undefined)} from ${plan.train.source}`);
    const text = plan.train.text;
    if (text !== undefined) {
      const t = text.vocabulary.tokenizer;
      say(`text: ${t.kind} tokens${t.lowercase ? ', lower-cased' : ''}, a vocabulary of ${text.vocabulary.size.toLocaleString('en-US')} tokens (4 special)${text.cut > 0 ? `, ${text.cut} examples cut to ${plan.train.shape[0]} tokens` : ''}`);
    }
    if (resumeFrom === undefined) say(vae instanceof TextVae ? vae.summary() : vae.summary({ loss }));
    const result = await trainRun(plan, {
      folder,
      callbacks: [new TerminalProgress()],
      signal: controller.signal,
      ...(resumeFrom !== undefined ? { resumeFrom } : {}),
      ...(start.kind === 'new' && start.from !== undefined ? { from: start.from } : {}),
    });
    if (result.test === null) {
      say(`Stopped after ${result.history.steps} steps; the checkpoint is in ${join(folder.dir, RUN_FILES.checkpoints)}. Resume with: npx vaekit train --resume ${folder.dir}`);
      process.exitCode = 130;
      return null;
    }
    folder.finish();
    if ('kind' in result.test) say(textMetricsLine(result.test));
    else printTestMetrics(result.test);
    say(`Model: ${folder.target} (${RUN_FILES.config}, ${RUN_FILES.weights}); metrics: ${join(folder.target, RUN_FILES.metrics)}, ${join(folder.target, RUN_FILES.testMetrics)}`);
    if (spec.outputs.figures && !(result.vae instanceof TextVae)) await writeFiguresAndReport(folder.target, result.testSet, spec);
    return { result, spec, dir: folder.target };
  } finally {
    restore();
    folder.release();
  }
}

/** Flags of the torchrun engine. */
interface EngineFlags {
  engine: 'vaekit' | 'torchrun';
  nproc?: number;
  python?: string;
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
  masterPort?: number;
  rdzvEndpoint?: string;
  rdzvId?: string;
  rdzvBackend?: string;
  distBackend?: string;
  checkpointEverySteps?: number;
}

/** The torchrun engine's options from its flags (torchrun's own passed through in its spelling). */
function torchrunOptionsOf(flags: EngineFlags): Omit<TorchrunOptions, 'callbacks' | 'signal'> {
  const passed: string[] = [];
  const pass = (flag: string, value: string | number | undefined): void => {
    if (value !== undefined) passed.push(flag, String(value));
  };
  pass('--node_rank', flags.nodeRank);
  pass('--master_addr', flags.masterAddr);
  pass('--master_port', flags.masterPort);
  pass('--rdzv_endpoint', flags.rdzvEndpoint);
  pass('--rdzv_id', flags.rdzvId);
  pass('--rdzv_backend', flags.rdzvBackend);
  return {
    nproc: flags.nproc ?? 1,
    ...(flags.nnodes !== undefined ? { nnodes: flags.nnodes } : {}),
    torchrunArgs: passed,
    ...(flags.python !== undefined ? { python: flags.python } : {}),
    ...(flags.distBackend !== undefined ? { backend: flags.distBackend } : {}),
    ...(flags.checkpointEverySteps !== undefined ? { checkpointEverySteps: flags.checkpointEverySteps } : {}),
  };
}

/** A new run trained under torchrun (run/torchrun.ts), its progress in vaekit's bar, its test metrics vaekit's own. */
async function runTorchrunTraining(spec: RunSpec, overwrite: boolean, engine: Omit<TorchrunOptions, 'callbacks' | 'signal'>): Promise<void> {
  RunFolder.check(spec.outputs.dir, { overwrite });
  const plan = await planRun(spec, { report: say });
  const folder = RunFolder.create(spec.outputs.dir, { overwrite, onStale: (pid, dir) => say(`vaekit: took over ${dir} from process ${pid}, which is gone`) });
  const controller = new AbortController();
  const restore = stopOnSignals(controller);
  try {
    const result = await trainRunWithTorchrun(plan, folder, {
      ...engine,
      callbacks: [new TerminalProgress()],
      signal: controller.signal,
      onTorch: (info) => {
        const world = engine.nproc * (engine.nnodes ?? 1);
        say(`vaekit: training preset ${plan.vae.config.preset} under torchrun: ${world} process${world === 1 ? '' : 'es'} (PyTorch ${info.torch} from ${info.python}, ${engine.backend ?? (info.cuda ? 'nccl' : 'gloo')})`);
        say(`data: ${plan.train.count} training and ${plan.test.count} validation examples of ${describeShape(plan.train.shape, false)} from ${plan.train.source}`);
      },
    });
    if (result.test === null || !('negElboNats' in result.test)) {
      say(`Stopped after ${result.history.steps} steps; torchrun's checkpoints are in ${join(folder.dir, RUN_FILES.torchrun, TORCHRUN_FILES.checkpoints)} (train.py --resume goes on from the newest).`);
      process.exitCode = 130;
      return;
    }
    folder.finish();
    printTestMetrics(result.test);
    say(`Model: ${folder.target} (${RUN_FILES.config}, ${RUN_FILES.weights}); metrics: ${join(folder.target, RUN_FILES.metrics)}, ${join(folder.target, RUN_FILES.testMetrics)}`);
  } finally {
    restore();
    folder.release();
  }
}

/** The notebook's figures and the HTML report, in the finished run's folder (vaekit demo, or a spec that asks for them). */
async function writeFiguresAndReport(dir: string, testSet: Dataset, spec: RunSpec): Promise<void> {
  const noise = parseNoise(spec.noise.input);
  for (const [name, bytes] of await modelFigures(dir, loadBundle(dir), testSet, noise, spec.seed)) {
    writeFileAtomic(join(dir, name), bytes);
    say(`wrote ${join(dir, name)}`);
  }
  const report = await writeReport(dir, { noise, seed: spec.seed });
  say(`wrote ${report} (the model, its curves, metrics and figures on one page: open it in a browser)`);
}

export function register(program: Command): void {
  addTrainOptions(addModelOptions(program.command('train')), 'runs/train')
    .description('train a denoising VAE on MNIST or your own data (an image folder, NPY or CSV), or a text VAE (--preset text) on lines of text, and save it with its metrics')
    .option('--checkpoint-every <n>', 'save a checkpoint after every N epochs (the newest two are kept in --out/checkpoints)', positiveInt, 1)
    .option('--checkpoint-every-steps <n>', 'also save a checkpoint every N steps inside an epoch', positiveInt)
    .option('--checkpoint-seconds <s>', 'at most one checkpoint in this many seconds (default 30; none with --checkpoint-every-steps); the last epoch and a stop always save one', nonNegativeNumber)
    .option('--early-stopping <patience>', 'stop when the validation loss has not improved for this many epochs, and keep the best epoch\'s weights', positiveInt)
    .option('--resume <dir>', 'go on with the run in DIR from its newest checkpoint, bit for bit (with --epochs N: train to N epochs)')
    .option('--config <file>', `train the run a run spec describes (a run folder's ${RUN_FILES.spec}, bit for bit the same); flags given beside it change its fields`)
    .option('--print-config', 'print the run spec these flags (and --config) make, and exit without training')
    .addOption(new Option('--engine <name>', 'vaekit (its own engine) or torchrun (PyTorch DistributedDataParallel: the model, the data and train.py go into --out/torchrun-engine and python3 -m torch.distributed.run trains it)').choices(['vaekit', 'torchrun']).default('vaekit'))
    .option('--nproc <n>', 'torchrun: processes on this machine (one per GPU, or a few CPU processes)', positiveInt)
    .option('--python <path>', 'torchrun: the Python with PyTorch (default: VAEKIT_PYTHON, else python3)')
    .option('--nnodes <n>', 'torchrun: machines in all (run the same command on each, with its --node-rank)', positiveInt)
    .option('--node-rank <r>', 'torchrun: this machine\'s rank (0 to nnodes - 1)', nonNegativeInt)
    .option('--master-addr <host>', 'torchrun: the address of the machine of rank 0')
    .option('--master-port <port>', 'torchrun: its port', positiveInt)
    .option('--rdzv-endpoint <host:port>', 'torchrun: the rendezvous endpoint (elastic runs)')
    .option('--rdzv-id <id>', 'torchrun: the rendezvous id')
    .option('--rdzv-backend <name>', 'torchrun: the rendezvous backend (c10d, etcd)')
    .option('--dist-backend <name>', 'torchrun: torch.distributed\'s backend (default: nccl with CUDA, else gloo)')
    .action(async (flags: RunFlags & EngineFlags & { resume?: string; config?: string; printConfig?: boolean }, command: Command) => {
      const torchrunOnly = ['nproc', 'python', 'nnodes', 'nodeRank', 'masterAddr', 'masterPort', 'rdzvEndpoint', 'rdzvId', 'rdzvBackend', 'distBackend'];
      if (flags.engine !== 'torchrun') {
        const given = torchrunOnly.find((name) => optionGiven(command, name));
        if (given !== undefined) throw new VaekitError(`--${given.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --engine torchrun: add it, or leave the flag out.`);
      } else if (flags.resume !== undefined) {
        throw new VaekitError('--resume goes on with runs of vaekit\'s own engine; a torchrun run goes on with train.py --resume (see its docstring).');
      }
      if (flags.resume !== undefined) {
        if (flags.config !== undefined || flags.printConfig === true) throw new VaekitError('--resume goes on with a run as it was started: drop --config and --print-config.');
        if (command.getOptionValueSource('out') === 'cli' && resolve(flags.out) !== resolve(flags.resume)) {
          throw new VaekitError(`--resume ${flags.resume} goes on in that folder: drop --out ${flags.out}.`);
        }
        await runTraining({ kind: 'resume', dir: flags.resume, epochs: command.getOptionValueSource('epochs') === 'cli' ? flags.epochs : null, command, flags });
        return;
      }
      checkGivenFlags(command, flags);
      let start: Start;
      try {
        const fromFlags = specFromFlags(flags, { figures: false, checkpoints: true });
        if (flags.config !== undefined) {
          const config = resolve(flags.config);
          const { spec, overrides } = overrideSpec(readSpecFile(config), fromFlags, givenSpecFlags(command, ['overwrite']));
          start = { kind: 'new', spec: validateRunSpec(spec), overwrite: flags.overwrite === true, from: { config, overrides } };
        } else {
          start = { kind: 'new', spec: validateRunSpec(fromFlags), overwrite: flags.overwrite === true };
        }
      } catch (err) {
        throw inFlagWords(err);
      }
      if (flags.printConfig === true) {
        process.stdout.write(`${JSON.stringify(start.spec, null, 2)}\n`);
        return;
      }
      if (flags.engine === 'torchrun' && start.kind === 'new') {
        await runTorchrunTraining(start.spec, start.overwrite, torchrunOptionsOf(flags));
        return;
      }
      await runTraining(start);
    });

  addTrainOptions(program.command('demo'), 'runs/demo')
    .description('the notebook in one command: train the seed preset as a denoising VAE, write figures, metrics and the model')
    .action(async (flags: TrainFlags, command: Command) => {
      checkGivenFlags(command, flags);
      let spec: RunSpec;
      try {
        spec = validateRunSpec(specFromFlags({ ...flags, preset: 'seed' }, { figures: true, checkpoints: false }));
      } catch (err) {
        throw inFlagWords(err);
      }
      const done = await runTraining({ kind: 'new', spec, overwrite: flags.overwrite === true });
      if (done !== null) say(`Demo finished: everything is in ${done.dir}`);
    });
}
