/**
 * trainRun: a planned run (plan.ts) trained into its run folder: run.json first, the metrics log
 * and the checkpoints while it trains, and, when it completes, the model bundle and the test
 * metrics; a staging folder then takes its target's place. It joins the stages that do not know
 * each other: the trainer (train/), validation and test metrics (eval/) and the stores. The CLI's
 * train and demo, the studio's worker and anomaly's one-class runs all train through it.
 */
import { evaluateDenoising, prefetchEvaluation, validator, type TestMetrics } from '../eval/evaluate.js';
import { saveModel } from './bundle.js';
import { checkpointTo } from './checkpoints.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { metricsLog } from '../train/callbacks.js';
import type { Checkpoint } from '../train/checkpoint.js';
import { describeTraining, fit, type Callback, type History } from '../train/fit.js';
import type { Dataset } from '../data/dataset.js';
import type { DataInfo } from './bundle.js';
import type { Vae } from '../vae/model.js';
import { TextVae } from '../vae/text/model.js';
import { evaluateText, textValidator, type TextMetrics } from '../eval/text.js';
import { VaekitError } from '../errors.js';
import { vaekitVersion } from '../version.js';
import { RunFolder } from './folder.js';
import { sameTrainingData, type RunPlan } from './plan.js';

export interface TrainRunOptions {
  /**
   * Where the run is written: an open RunFolder (the caller finishes it), a folder path (opened
   * here for a new run, never replacing a model, and finished here), or null: nothing is written.
   */
  folder?: RunFolder | string | null;
  /** Called in order after the run's own (the metrics log); e.g. a progress bar. */
  callbacks?: Callback[];
  signal?: AbortSignal;
  /** Go on from this checkpoint of the same run (the same data, checked by its fingerprint). */
  resumeFrom?: Checkpoint;
  /** Recorded in run.json: the spec file the run came from and the flags that changed it. */
  from?: { config: string; overrides: string[] };
  /** More of how the model was trained, for the bundle's training record (a one-class run's normal class). */
  record?: Record<string, unknown>;
}

/**
 * Importance samples per sentence in a text run's closing test metrics: few, so that a run ends
 * soon after its last epoch; `vaekit eval` takes He et al.'s 500 (eval/text.ts).
 */
export const TRAIN_TEXT_IMPORTANCE_SAMPLES = 20;

export interface TrainRunResult<M extends Vae | TextVae = Vae | TextVae> {
  vae: M;
  history: History;
  /** The test metrics (a text model's: eval/text.ts), or null when the signal stopped training (nothing but the checkpoint is written then). */
  test: (M extends TextVae ? TextMetrics : TestMetrics) | null;
  /** The validation set as the model sees it (standardized features). */
  testSet: Dataset;
  data: DataInfo;
}

export async function trainRun<M extends Vae | TextVae>(plan: RunPlan<M>, options: TrainRunOptions = {}): Promise<TrainRunResult<M>> {
  const { spec, vae, train, test, data, fingerprint } = plan;
  const resume = options.resumeFrom;
  if (resume !== undefined && !sameTrainingData(resume.run['dataFingerprint'], plan)) {
    throw new VaekitError('The training data is not what this run was trained on (its fingerprint differs): resume with the same data, or start a new run.');
  }
  const given = options.folder ?? null;
  const folder = typeof given === 'string' ? RunFolder.create(given, { overwrite: false }) : given;
  try {
    if (folder !== null && resume === undefined) {
      folder.writeRecord({ spec, vaekit: vaekitVersion(), dataFingerprint: fingerprint, staging: folder.staging, ...(options.from !== undefined ? { from: options.from } : {}), ...(plan.given !== null ? { givenData: plan.given } : {}) });
    }
    const evalOptions = { noise: plan.fit.noise, binarize: plan.fit.binarize, seed: plan.fit.seed };
    const every = spec.training.checkpoint;
    const history = await fit(vae, train, {
      ...plan.fit,
      validate: vae instanceof TextVae ? textValidator(test, plan.fit.objective, plan.fit.seed) : validator(test, plan.fit.objective, evalOptions),
      ...(vae instanceof TextVae ? {} : { prefetchValidation: () => prefetchEvaluation(test, evalOptions) }),
      callbacks: [...(folder !== null ? [metricsLog({ metrics: folder.path('metrics'), timing: folder.path('timing') }, resume?.state.history ?? [])] : []), ...(options.callbacks ?? [])],
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      ...(resume !== undefined ? { resumeFrom: resume } : {}),
      ...(folder !== null && every !== null
        ? { checkpoint: checkpointTo(folder.dir, { everyEpochs: every.everyEpochs, ...(every.everySteps !== null ? { everySteps: every.everySteps } : {}), ...(every.everySeconds !== null ? { everySeconds: every.everySeconds } : {}), run: { dataFingerprint: fingerprint } }) }
        : {}),
    });
    if (history.aborted) return { vae, history, test: null, testSet: test, data };
    const testMetrics = (vae instanceof TextVae
      ? evaluateText(vae, test, { seed: plan.fit.seed, importanceSamples: TRAIN_TEXT_IMPORTANCE_SAMPLES })
      : evaluateDenoising(vae as Vae, test, evalOptions)) as M extends TextVae ? TextMetrics : TestMetrics;
    if (folder !== null) {
      saveModel(vae, folder.dir, {
        ...describeTraining(plan.fit), trainImages: train.count, testImages: test.count, epochsTrained: history.epochs.length,
        ...(history.stoppedEarlyAt !== undefined ? { weightsOfEpoch: history.stoppedEarlyAt } : {}), ...options.record,
      }, data);
      writeFileAtomic(folder.path('testMetrics'), `${JSON.stringify(testMetrics, null, 2)}\n`);
      if (typeof given === 'string') folder.finish();
    }
    return { vae, history, test: testMetrics, testSet: test, data };
  } finally {
    if (typeof given === 'string') folder?.release();
  }
}
