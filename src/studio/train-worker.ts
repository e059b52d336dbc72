/**
 * The studio's training, in a worker thread so the server keeps serving: the library's planRun and
 * trainRun on the run's spec, into the run folder, with a checkpoint every epoch. It posts `started` (the
 * model and data, once the folder exists), `progress` (at most every 250 ms), `epoch`, `figures`
 * (8 validation examples noisy and denoised, 16 prior samples, drawn here and not in the server
 * thread; after the first and the last epoch and at most once a second between) and finally `end`. A `stop` message aborts training after the current step; fit saves a
 * checkpoint there. With `resume`, it goes on from the run folder's newest checkpoint.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isImageShape, type Dataset } from '../data/dataset.js';
import { parseNoise } from '../data/transforms/noise.js';
import { VaekitError } from '../errors.js';
import { latestCheckpoint } from '../run/checkpoints.js';
import { RunFolder } from '../run/folder.js';
import { imagePlan, planRun } from '../run/plan.js';
import type { RunSpec } from '../run/spec.js';
import { trainRun } from '../run/train-run.js';
import type { Checkpoint } from '../train/checkpoint.js';
import type { Callback } from '../train/fit.js';
import type { Vae } from '../vae/model.js';
import { denoisedExamplesFigure, samplesFigure } from '../viz/figures.js';
import { gridFigurePng } from '../viz/labelled-grid.js';
import type { EndEvent, FiguresEvent, ServerMessage, WorkerInput, WorkerMessage } from './messages.js';

/** Progress messages at most this often. */
const PROGRESS_MS = 250;
/** Figures (about 0.1 s to draw) at most this often, but always after the first and the last epoch. */
const FIGURES_MS = 1000;
export const FIGURE_EXAMPLES = 8;
export const FIGURE_SAMPLES = 16;

function pngUri(bytes: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`;
}

/** The figures of one epoch, or null for data that is not greyscale or RGB images. */
export function epochFigures(vae: Vae, test: Dataset, spec: Pick<RunSpec, 'noise' | 'seed'>): FiguresEvent | null {
  const shape = vae.config.inputShape;
  if (!isImageShape(shape) || (shape[2] !== 1 && shape[2] !== 3)) return null;
  const noise = parseNoise(spec.noise.input);
  const options = { classNames: test.labelNames };
  const reconstructions = gridFigurePng(denoisedExamplesFigure(vae, test, noise, spec.seed, FIGURE_EXAMPLES, options));
  const samples = gridFigurePng(samplesFigure(vae, FIGURE_SAMPLES, spec.seed, undefined, options));
  return { reconstructions: pngUri(reconstructions), samples: pngUri(samples) };
}

/** Trains: plans the run (a refusal then leaves nothing), takes its folder (locked, as vaekit train does), trains, and releases it before the end is told. */
async function run(input: WorkerInput, post: (m: WorkerMessage) => void, signal: AbortSignal): Promise<EndEvent> {
  let folder: RunFolder | null = null;
  try {
    const spec = input.spec;
    let resumeFrom: Checkpoint | undefined;
    if (input.resume) {
      const found = latestCheckpoint(spec.outputs.dir);
      if (found === null) throw new VaekitError('This run has no checkpoint to resume from.');
      resumeFrom = found.checkpoint;
      if (resumeFrom.state.epoch > spec.training.epochs) throw new VaekitError(`The run has already trained ${resumeFrom.state.epoch} epochs, more than its ${spec.training.epochs}.`);
    }
    const plan = imagePlan(await planRun(spec), 'the studio (text models train with vaekit train)');
    folder = input.resume ? RunFolder.resume(spec.outputs.dir) : RunFolder.create(spec.outputs.dir, { overwrite: false });
    post({
      type: 'started', config: plan.vae.config, data: plan.data,
      records: resumeFrom?.state.history.map((rec) => ({ ...rec })) ?? [], trainExamples: plan.train.count, testExamples: plan.test.count,
    });
    const result = await trainRun(plan, { folder, signal, callbacks: progressCallbacks(plan.test, spec, post), ...(resumeFrom !== undefined ? { resumeFrom } : {}) });
    if (result.test === null) return { status: 'stopped' };
    folder.finish();
    return { status: 'done', testMetrics: result.test };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { status: 'failed', error: message.split('\n')[0]! };
  } finally {
    folder?.release();
  }
}

/** The callbacks that tell the server how training goes: progress, epochs, figures, warnings. */
function progressCallbacks(test: Dataset, spec: RunSpec, post: (m: WorkerMessage) => void): Callback<Vae>[] {
  let epoch = 0;
  let lastProgress = 0;
  let lastFigures = -Infinity;
  return [{
    onEpochBegin(e) {
      epoch = e;
    },
    onBatchEnd(step, running, context) {
      const now = performance.now();
      if (now - lastProgress < PROGRESS_MS) return;
      lastProgress = now;
      post({ type: 'progress', event: { epoch, step, steps: context.steps, running: { ...running } } });
    },
    onEpochEnd(record, context) {
      post({ type: 'epoch', record: { ...record } });
      const last = record.epoch === context.options.epochs;
      if (!last && performance.now() - lastFigures < FIGURES_MS) return;
      lastFigures = performance.now();
      try {
        const figures = epochFigures(context.vae, test, spec);
        if (figures !== null) post({ type: 'figures', event: figures });
      } catch (err) {
        post({ type: 'warning', message: `The figures of epoch ${record.epoch} could not be drawn: ${err instanceof Error ? err.message : String(err)}` });
      }
    },
    onWarning(message) {
      post({ type: 'warning', message });
    },
  }];
}

function isWorkerInput(x: unknown): x is WorkerInput {
  return typeof x === 'object' && x !== null && typeof (x as WorkerInput).spec === 'object' && typeof (x as WorkerInput).resume === 'boolean';
}

// Runs only as the studio's worker (importing this module elsewhere, e.g. for epochFigures, starts nothing).
if (parentPort !== null && isWorkerInput(workerData)) {
  const port = parentPort;
  const controller = new AbortController();
  port.on('message', (m: ServerMessage) => {
    if (m.type === 'stop') controller.abort();
  });
  const post = (m: WorkerMessage): void => port.postMessage(m);
  void run(workerData, post, controller.signal).then((event) => {
    post({ type: 'end', event });
    port.unref();
  });
}
