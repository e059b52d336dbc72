/**
 * The studio's training, in a worker thread so the server keeps serving: the library's trainJob on
 * the run's data, into the run folder, with a checkpoint every epoch. It posts `started` (the
 * model and data, once the folder exists), `progress` (at most every 250 ms), `epoch`, `figures`
 * (8 validation examples noisy and denoised, 16 prior samples, drawn here and not in the server
 * thread; after the first and the last epoch and at most once a second between) and finally `end`. A `stop` message aborts training after the current step; fit saves a
 * checkpoint there. With `resume`, it goes on from the run folder's newest checkpoint.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isImageShape, type Dataset } from '../data/dataset.js';
import { loadData } from '../data/load.js';
import { parseNoise } from '../data/transforms/noise.js';
import { VaekitError } from '../errors.js';
import { latestCheckpoint } from '../io/checkpoint.js';
import { lockRunFolder } from '../io/output.js';
import { dataInfoFor, standardizationFor } from '../pipelines/data.js';
import { trainAndTestSets, trainJob } from '../pipelines/train.js';
import type { Checkpoint } from '../train/checkpoint.js';
import type { Callback } from '../train/fit.js';
import type { Vae } from '../vae/model.js';
import type { VaeOverrides } from '../vae/config.js';
import { denoisedExamplesFigure, samplesFigure } from '../viz/figures.js';
import { gridFigurePng } from '../viz/labelled-grid.js';
import { fitInputOf } from './models.js';
import type { EndEvent, FiguresEvent, ServerMessage, TrainRequest, WorkerInput, WorkerMessage } from './messages.js';

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
export function epochFigures(vae: Vae, test: Dataset, request: TrainRequest): FiguresEvent | null {
  const shape = vae.config.inputShape;
  if (!isImageShape(shape) || (shape[2] !== 1 && shape[2] !== 3)) return null;
  const noise = parseNoise(request.noise);
  const options = { classNames: test.labelNames };
  const reconstructions = gridFigurePng(denoisedExamplesFigure(vae, test, noise, request.seed, FIGURE_EXAMPLES, options));
  const samples = gridFigurePng(samplesFigure(vae, FIGURE_SAMPLES, request.seed, undefined, options));
  return { reconstructions: pngUri(reconstructions), samples: pngUri(samples) };
}

/** Trains; the run folder is locked meanwhile (the lock vaekit train takes too), and released before the end is told. */
async function run(input: WorkerInput, post: (m: WorkerMessage) => void, signal: AbortSignal): Promise<EndEvent> {
  let release = (): void => undefined;
  try {
    // A new run's folder is made (and locked) once the model is ready; a resumed one's at once.
    if (input.resume) release = lockRunFolder(input.runDir);
    return await train(input, post, signal, (lock) => { release = lock; });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { status: 'failed', error: message.split('\n')[0]! };
  } finally {
    release();
  }
}

async function train(input: WorkerInput, post: (m: WorkerMessage) => void, signal: AbortSignal, locked: (release: () => void) => void): Promise<EndEvent> {
  const r = input.request;
  let resumeFrom: Checkpoint | undefined;
  if (input.resume) {
    const found = latestCheckpoint(input.runDir);
    if (found === null) throw new VaekitError('This run has no checkpoint to resume from.');
    resumeFrom = found.checkpoint;
    if (resumeFrom.state.epoch > r.epochs) throw new VaekitError(`The run has already trained ${resumeFrom.state.epoch} epochs, more than its ${r.epochs}.`);
  }
  const loaded = await loadData(r.data, 'train', {
    ...(r.labels !== undefined ? { labels: r.labels } : {}),
    ...(r.labelColumn !== undefined ? { labelColumn: r.labelColumn } : {}),
  });
  // The split trainJob would make (the server makes it again for its inference endpoints).
  const sets = trainAndTestSets({ train: loaded, ...(r.limit !== undefined ? { limit: r.limit } : {}) }, r.seed);
  const dataInfo = dataInfoFor(sets.train, standardizationFor(sets.train));
  const overrides: VaeOverrides = {
    ...(r.latent !== undefined ? { latent: r.latent } : {}),
    ...(r.likelihood !== undefined ? { likelihood: r.likelihood } : {}),
  };
  let test: Dataset | null = null;
  let epoch = 0;
  let lastProgress = 0;
  let lastFigures = -Infinity;
  const callbacks: Callback[] = [{
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
      if (test === null || (!last && performance.now() - lastFigures < FIGURES_MS)) return;
      lastFigures = performance.now();
      try {
        const figures = epochFigures(context.vae, test, r);
        if (figures !== null) post({ type: 'figures', event: figures });
      } catch (err) {
        post({ type: 'warning', message: `The figures of epoch ${record.epoch} could not be drawn: ${err instanceof Error ? err.message : String(err)}` });
      }
    },
    onWarning(message) {
      post({ type: 'warning', message });
    },
  }];
  const result = await trainJob({
    model: { preset: r.preset, overrides, conditional: r.conditional },
    fit: fitInputOf(r),
    train: sets.train,
    test: sets.test,
    outDir: input.runDir,
    checkpoint: { everyEpochs: 1 },
    run: { studio: r },
    signal,
    callbacks,
    ...(resumeFrom !== undefined ? { resumeFrom } : {}),
    onModel(vae, data) {
      test = data.test;
      if (!input.resume) locked(lockRunFolder(input.runDir));
      post({
        type: 'started', config: vae.config, data: dataInfo,
        records: resumeFrom?.state.history.map((rec) => ({ ...rec })) ?? [], trainExamples: data.train.count, testExamples: data.test.count,
      });
    },
  });
  return result.test === null ? { status: 'stopped' } : { status: 'done', testMetrics: result.test };
}

function isWorkerInput(x: unknown): x is WorkerInput {
  return typeof x === 'object' && x !== null && typeof (x as WorkerInput).runDir === 'string' && typeof (x as WorkerInput).request === 'object';
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
