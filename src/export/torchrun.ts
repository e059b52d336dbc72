/**
 * Training past one machine on an existing engine: a planned run (plan.ts) trained by PyTorch's
 * DistributedDataParallel under torchrun. Into the run folder's torchrun/ go the PyTorch export of
 * the model as vaekit built it (model.py, model.safetensors and the trainer train.py, all from
 * export/pytorch.ts), the data as the run sees it (export-data.ts) and train.py's checkpoints; then
 * `python3 -m torch.distributed.run --nproc_per_node N ... train.py` runs, its JSON lines on stdout
 * become the fit callbacks' calls (the CLI's progress bar), and the folder ends as a native run's
 * does: the bundle and metrics.jsonl (train.py's), the test metrics (vaekit's own evaluation).
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { evaluateDenoising } from '../eval/evaluate.js';
import { VaekitError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { PYTORCH_TRAINER_FILE, pytorchFiles } from './pytorch.js';
import { describeTraining, type Callback, type EpochRecord, type History, type TrainContext } from '../train/fit.js';
import type { Vae } from '../vae/model.js';
import { vaekitVersion } from '../version.js';
import { loadBundle } from '../run/bundle.js';
import { checkExportable, defaultShardRows, exportRunData } from '../run/export-data.js';
import type { RunFolder } from '../run/folder.js';
import { RUN_FILES } from '../run/names.js';
import type { RunPlan } from '../run/plan.js';
import type { TrainRunResult } from '../run/train-run.js';

/** The folders and files under a run folder's torchrun/. */
export const TORCHRUN_FILES = { model: 'model', data: 'data', checkpoints: RUN_FILES.checkpoints, log: 'torchrun.log', logs: 'logs' } as const;

/** The python a run uses when none is given: VAEKIT_PYTHON, else python3 on the PATH. */
export function defaultPython(): string {
  const env = process.env['VAEKIT_PYTHON'];
  return env !== undefined && env !== '' ? env : 'python3';
}

export interface TorchInfo {
  python: string;
  torch: string;
  cuda: boolean;
  gloo: boolean;
  nccl: boolean;
}

const PROBE = [
  'import json, torch, torch.distributed as d',
  'ok = d.is_available()',
  'print(json.dumps({"torch": torch.__version__, "distributed": ok, "cuda": torch.cuda.is_available(),',
  '  "gloo": ok and d.is_gloo_available(), "nccl": ok and d.is_nccl_available()}))',
].join('\n');

/** What the python at `python` has: PyTorch with torch.distributed, or a one-sentence refusal. */
export function findTorch(python: string): TorchInfo {
  const run = spawnSync(python, ['-c', PROBE], { encoding: 'utf8', timeout: 120_000 });
  if (run.error !== undefined) {
    const code = (run.error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'was not found' : code === 'EACCES' ? 'cannot be run' : `could not be started (${run.error.message})`;
    throw new VaekitError(`The python ${python} ${why}: install Python 3 with PyTorch (Debian: apt install python3-torch), or name one (the python option, or VAEKIT_PYTHON).`);
  }
  if (run.status !== 0) {
    const missing = /No module named '?torch/.test(run.stderr);
    throw new VaekitError(missing
      ? `The python ${python} cannot import torch: install PyTorch for it (Debian: apt install python3-torch), or name another python (the python option, or VAEKIT_PYTHON).`
      : `The python ${python} fails to load PyTorch (${lastLine(run.stderr)}): fix its installation or name another python.`);
  }
  let info: { torch: string; distributed: boolean; cuda: boolean; gloo: boolean; nccl: boolean };
  try {
    info = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as typeof info;
  } catch {
    throw new VaekitError(`The python ${python} did not answer as Python 3 with PyTorch does: name another one.`);
  }
  if (!info.distributed) throw new VaekitError(`The PyTorch of ${python} (${info.torch}) has no torch.distributed, which torchrun needs: install a build with it (Debian's python3-torch has it).`);
  return { python, torch: info.torch, cuda: info.cuda, gloo: info.gloo, nccl: info.nccl };
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return (lines.pop() ?? 'no message').slice(0, 300);
}

export interface TorchrunOptions {
  /** Processes on this machine (torchrun's --nproc_per_node). */
  nproc: number;
  /** Machines in all (torchrun's --nnodes); the data is cut into a multiple of nproc * nnodes shards. */
  nnodes?: number;
  /** The rest of torchrun's flags, as given (--node_rank, --master_addr, ...); none: a standalone run on this machine. */
  torchrunArgs?: string[];
  python?: string;
  /** torch.distributed's backend (train.py's default: nccl with CUDA, else gloo). */
  backend?: string;
  /** A checkpoint every N steps (default: at the end of each epoch). */
  checkpointEverySteps?: number;
  /** Stop (with a checkpoint) after this many steps, as a preempted run would. */
  stopAfterSteps?: number;
  callbacks?: Callback[];
  signal?: AbortSignal;
  /** Told once PyTorch is found, with what it has. */
  onTorch?: (info: TorchInfo) => void;
}

/** One JSON line of train.py's rank 0. */
interface TrainEvent {
  event: string;
  [key: string]: unknown;
}

/** The training record a torchrun run's bundle starts from: vaekit's own (train.py adds the engine's). */
function trainingRecord(plan: RunPlan<Vae>): Record<string, unknown> {
  return { ...describeTraining(plan.fit), trainImages: plan.train.count, testImages: plan.test.count, epochsTrained: plan.fit.epochs };
}

/** The shards of a run's training data of `size` values an example: a multiple of the processes, about defaultShardRows rows each, at most one per row. */
export function torchrunShards(rows: number, size: number, world: number): number {
  if (rows < world) throw new VaekitError(`The training split has ${rows} examples, fewer than the ${world} processes: use fewer processes.`);
  return Math.min(rows - (rows % world), world * Math.max(1, Math.ceil(rows / (world * defaultShardRows(size)))));
}

/**
 * Refuses, before anything is written, what train.py does not train: text models, time series,
 * and the settings that only vaekit's own engine has.
 */
export function checkTorchrunPlan(plan: RunPlan): asserts plan is RunPlan<Vae> {
  const spec = plan.spec;
  const refuse = (what: string): never => {
    throw new VaekitError(`${what} trains on vaekit's own engine only: leave it out under torchrun, or train on vaekit's own engine.`);
  };
  if (plan.train.text !== undefined) refuse(`model.preset ${spec.model.preset} (a text model)`);
  checkExportable(plan.train);
  if (spec.objective.loss === 'notebook-mse') refuse('The notebook\'s squared error (objective.loss notebook-mse)');
  if (spec.training.earlyStopping !== null) refuse('Early stopping (training.earlyStopping)');
  if (spec.training.precision !== 'fp32') refuse('Mixed precision (training.precision bf16)');
  if (spec.noise.redraw !== 'epoch') refuse('Noise drawn once (noise.redraw once)');
  if (plan.fit.missingRate > 0) refuse('Missing-point injection (objective.missingRate)');
}

/**
 * Trains a planned image or table run under torchrun into `folder` (open, new: the caller finishes
 * it) and evaluates the result as trainRun does. Throws a VaekitError, in one sentence, where Python
 * or PyTorch is missing, the run is one train.py refuses, or torchrun fails.
 */
export async function trainRunWithTorchrun(plan: RunPlan, folder: RunFolder, options: TorchrunOptions): Promise<TrainRunResult<Vae>> {
  checkTorchrunPlan(plan);
  const world = options.nproc * (options.nnodes ?? 1);
  if (!Number.isInteger(world) || world < 1) throw new VaekitError(`The number of processes must be a whole number of at least 1, not ${world}.`);
  if (plan.spec.training.batchSize < world) throw new VaekitError(`training.batchSize ${plan.spec.training.batchSize} is smaller than the ${world} processes: each needs a share of the batch.`);
  const torch = findTorch(options.python ?? defaultPython());
  options.onTorch?.(torch);
  const shards = torchrunShards(plan.train.count, plan.train.size, world);

  folder.writeRecord({ spec: plan.spec, vaekit: vaekitVersion(), dataFingerprint: plan.fingerprint, staging: folder.staging, ...(plan.given !== null ? { givenData: plan.given } : {}) });
  const root = join(folder.dir, RUN_FILES.torchrun);
  const modelDir = join(root, TORCHRUN_FILES.model);
  mkdirSync(modelDir, { recursive: true });
  for (const file of pytorchFiles(plan.vae, plan.data, trainingRecord(plan))) writeFileAtomic(join(modelDir, file.name), file.bytes);
  const dataDir = join(root, TORCHRUN_FILES.data);
  exportRunData(plan, dataDir, { shards, overwrite: true });

  const given = options.torchrunArgs ?? [];
  const args = [
    '-m', 'torch.distributed.run',
    ...(given.length === 0 && (options.nnodes ?? 1) === 1 ? ['--standalone'] : []),
    '--nproc_per_node', String(options.nproc),
    // The workers' stderr kept in torchrun/logs and shown as well; stdout (train.py's events) as it is. Given
    // explicitly: torch 1.13's default ("0") does not parse under Python 3.11, whose IntFlag hides the zero member.
    '--redirects', '2', '--tee', '2', '--log_dir', join(root, TORCHRUN_FILES.logs),
    ...(options.nnodes !== undefined ? ['--nnodes', String(options.nnodes)] : []),
    ...given,
    join(modelDir, PYTORCH_TRAINER_FILE),
    '--data', dataDir, '--out', folder.dir, '--checkpoints', join(root, TORCHRUN_FILES.checkpoints),
    '--progress-every', '1',
    ...(options.checkpointEverySteps !== undefined ? ['--checkpoint-every', String(options.checkpointEverySteps)] : []),
    ...(options.stopAfterSteps !== undefined ? ['--stop-after-steps', String(options.stopAfterSteps)] : []),
    ...(options.backend !== undefined ? ['--backend', options.backend] : []),
  ];
  const history = await runTorchrun(torch.python, args, join(root, TORCHRUN_FILES.log), plan, options);
  if (history.aborted) return { vae: plan.vae, history, test: null, testSet: plan.test, data: plan.data };

  const { vae } = loadBundle(folder.dir);
  const test = evaluateDenoising(vae, plan.test, { noise: plan.fit.noise, binarize: plan.fit.binarize, seed: plan.fit.seed });
  writeFileAtomic(folder.path('testMetrics'), `${JSON.stringify(test, null, 2)}\n`);
  return { vae, history, test, testSet: plan.test, data: plan.data };
}

/** Runs torchrun, its events turned into the callbacks' calls and every line kept in `logPath`; resolves to the epochs' history. */
function runTorchrun(python: string, args: string[], logPath: string, plan: RunPlan<Vae>, options: TorchrunOptions): Promise<History> {
  const callbacks = options.callbacks ?? [];
  const context: TrainContext = { vae: plan.vae, options: plan.fit, steps: 0 };
  const history: History = { epochs: [], aborted: false, steps: 0 };
  const log = (stream: string, line: string): void => appendFileSync(logPath, `${stream}: ${line}\n`);
  log('command', [python, ...args].join(' '));
  const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' } });
  let epoch = 0;
  let refusal: string | null = null;
  let stopped = false;
  const stderrTail: string[] = [];
  // The events are handled in order, one at a time (callbacks may be async).
  let queue: Promise<void> = Promise.resolve();
  const handle = async (e: TrainEvent): Promise<void> => {
    const n = (key: string): number => Number(e[key]);
    switch (e.event) {
      case 'start':
        context.steps = n('steps');
        for (const c of callbacks) await c.onTrainBegin?.(context);
        break;
      case 'step': {
        if (n('epoch') !== epoch) {
          epoch = n('epoch');
          for (const c of callbacks) await c.onEpochBegin?.(epoch, context);
        }
        history.steps = n('globalStep');
        for (const c of callbacks) await c.onBatchEnd?.(n('step'), { loss: n('loss'), recon: n('recon'), kl: n('kl') }, context);
        break;
      }
      case 'epoch': {
        const { event: _event, ...fields } = e;
        const record = fields as unknown as EpochRecord;
        history.epochs.push(record);
        for (const c of callbacks) await c.onEpochEnd?.(record, context);
        break;
      }
      case 'warning':
        for (const c of callbacks) await c.onWarning?.(String(e['message']), context);
        break;
      case 'error':
        refusal = String(e['message']);
        break;
      case 'stopped':
        stopped = true;
        break;
      default:
        break;
    }
  };
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    log('stdout', line);
    let event: TrainEvent | null = null;
    if (line.startsWith('{')) {
      try {
        const parsed = JSON.parse(line) as unknown;
        if (typeof parsed === 'object' && parsed !== null && typeof (parsed as TrainEvent).event === 'string') event = parsed as TrainEvent;
      } catch {
        event = null;
      }
    }
    if (event !== null) {
      const e = event;
      queue = queue.then(() => handle(e));
    }
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    log('stderr', line);
    stderrTail.push(line);
    if (stderrTail.length > 40) stderrTail.shift();
  });
  const onAbort = (): void => {
    stopped = true;
    child.kill('SIGINT');
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  return new Promise<History>((resolvePromise, reject) => {
    child.on('error', (err) => reject(new VaekitError(`Cannot start ${python}: ${err.message}.`)));
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      void queue.then(async () => {
        if (refusal !== null) return reject(new VaekitError(refusal));
        if (stopped) {
          history.aborted = true;
          return resolvePromise(history);
        }
        if (code !== 0) {
          const why = stderrTail.map((l) => l.trim()).filter((l) => /Error|error:/.test(l)).pop() ?? lastLine(stderrTail.join('\n'));
          return reject(new VaekitError(`torchrun ${signal !== null ? `was stopped by ${signal}` : `exited with code ${code}`} (${why.slice(0, 300)}); its output is in ${logPath}.`));
        }
        for (const c of callbacks) await c.onTrainEnd?.(history, context);
        resolvePromise(history);
      }, reject);
    });
  });
}
