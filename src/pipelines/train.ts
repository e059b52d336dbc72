/**
 * The training job behind `vaekit train` and `vaekit demo` (and the studio's runs): data in, a
 * trained denoising VAE out, with its metrics log, test metrics and model bundle written under one
 * folder. It joins the stages that do not know each other: the trainer (train/), validation and
 * test metrics (eval/) and the bundle (io/).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { takeFirst, type Dataset } from '../data/dataset.js';
import { splitValidation } from '../data/split.js';
import { loadMnist, MNIST_TRAIN_SOURCE } from '../data/sources/mnist.js';
import { VaekitError } from '../errors.js';
import { evaluateDenoising, validator, type TestMetrics } from '../eval/evaluate.js';
import { saveModel, type DataInfo } from '../io/bundle.js';
import { checkpointTo } from '../io/checkpoint.js';
import type { Checkpoint } from '../train/checkpoint.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { metricsLog } from '../train/callbacks.js';
import { checkFits, describeTraining, fit, resolveFitOptions, type Callback, type History, type FitOptionsInput } from '../train/fit.js';
import type { VaeConfig } from '../vae/config.js';
import { Vae } from '../vae/model.js';
import { dataInfoFor, modelConfigForData, prepareForModel, standardizationFor, type ModelChoices } from './data.js';

export const METRICS_FILE = 'metrics.jsonl';
export const TEST_METRICS_FILE = 'test-metrics.json';

export interface TrainJobOptions {
  /** A model config, or the user's choices to complete from the data (shape, classes, likelihood). */
  model: VaeConfig | ModelChoices;
  fit?: FitOptionsInput;
  /** The training set (default: MNIST's 60,000 training images). */
  train?: Dataset;
  /** Validated after each epoch and scored at the end (default: MNIST's test images for MNIST, else a split of train). */
  test?: Dataset;
  /** Without `test`, the share of `train` split off (seeded) to validate on (default 0.1; MNIST uses its test split). */
  validationFraction?: number;
  /** Use only the first N training examples. */
  limit?: number;
  /** Folder for the model bundle and the metrics; nothing is written when absent. */
  outDir?: string;
  /** Called in order after the job's own (the metrics log); e.g. a progress bar. */
  callbacks?: Callback[];
  signal?: AbortSignal;
  /** With outDir: when to checkpoint into outDir/checkpoints (default: every epoch; null: never). */
  checkpoint?: { everyEpochs?: number; everySteps?: number } | null;
  /** Kept in every checkpoint (the CLI keeps its flags, to resume from the folder alone). */
  run?: Record<string, unknown>;
  /** Go on from this checkpoint of the same job (the same data, checked by its fingerprint). */
  resumeFrom?: Checkpoint;
  /** Called with the model and its training and test data once they are ready, before training (e.g. to print the summary). */
  onModel?: (vae: Vae, data: { train: Dataset; test: Dataset }) => void;
}

export interface TrainJobResult {
  vae: Vae;
  history: History;
  /** The test metrics, or null when the signal stopped training (nothing but the checkpoint is written then). */
  test: TestMetrics | null;
  /** The test set as the model sees it (standardized features). */
  testSet: Dataset;
  data: DataInfo;
}

/** The training and test sets of a job: MNIST by default, a seeded validation split for other data without a test set. */
export function trainAndTestSets(options: Pick<TrainJobOptions, 'train' | 'test' | 'validationFraction' | 'limit'>, seed: number): { train: Dataset; test: Dataset } {
  let train = options.train ?? loadMnist('train');
  if (options.limit !== undefined) {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new VaekitError(`The limit must be a positive integer, not ${options.limit}.`);
    }
    if (options.limit > train.count) throw new VaekitError(`--limit ${options.limit} is more than the ${train.count} examples of ${train.source}.`);
    train = takeFirst(train, options.limit);
  }
  if (options.test !== undefined) {
    if (options.validationFraction !== undefined) throw new VaekitError('Give a validation fraction or a validation set, not both.');
    return { train, test: options.test };
  }
  if (options.validationFraction === undefined && train.source === MNIST_TRAIN_SOURCE) return { train, test: loadMnist('test') };
  const split = splitValidation(train, options.validationFraction ?? 0.1, seed);
  return { train: split.train, test: split.validation };
}

/** A digest of the training examples as the model sees them (values, labels, shape): a resumed run must see the same. */
export function dataFingerprint(set: Dataset): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(set.shape));
  hash.update(new Uint8Array(set.values.buffer, set.values.byteOffset, set.values.byteLength));
  if (set.labels !== null) hash.update(new Uint8Array(set.labels.buffer, set.labels.byteOffset, set.labels.byteLength));
  return hash.digest('hex');
}

export async function trainJob(options: TrainJobOptions): Promise<TrainJobResult> {
  const fitOptions = resolveFitOptions(options.fit);
  const sets = trainAndTestSets(options, fitOptions.seed);
  const config = 'overrides' in options.model ? modelConfigForData(options.model, sets.train) : options.model;
  const standardization = standardizationFor(sets.train);
  const data = dataInfoFor(sets.train, standardization);
  const conditional = config.classes > 0;
  const train = prepareForModel(data, sets.train, conditional);
  const test = prepareForModel(data, sets.test, conditional);
  const vae = new Vae(config, { seed: fitOptions.seed });
  checkFits(vae, train, fitOptions);
  const fingerprint = dataFingerprint(train);
  const resume = options.resumeFrom;
  if (resume !== undefined && resume.run['dataFingerprint'] !== fingerprint) {
    throw new VaekitError('The training data is not what this run was trained on (its fingerprint differs): resume with the same data, or start a new run.');
  }
  options.onModel?.(vae, { train, test });
  const outDir = options.outDir;
  const evalOptions = { noise: fitOptions.noise, binarize: fitOptions.binarize, seed: fitOptions.seed };
  const history = await fit(vae, train, {
    ...fitOptions,
    validate: validator(test, fitOptions.objective, evalOptions),
    callbacks: [...(outDir !== undefined ? [metricsLog(join(outDir, METRICS_FILE), resume?.state.history ?? [])] : []), ...(options.callbacks ?? [])],
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(resume !== undefined ? { resumeFrom: resume } : {}),
    ...(outDir !== undefined && options.checkpoint !== null
      ? { checkpoint: checkpointTo(outDir, { ...options.checkpoint, run: { ...options.run, dataFingerprint: fingerprint } }) }
      : {}),
  });
  if (history.aborted) return { vae, history, test: null, testSet: test, data };
  const testMetrics = evaluateDenoising(vae, test, evalOptions);
  if (outDir !== undefined) {
    saveModel(vae, outDir, {
      ...describeTraining(fitOptions), trainImages: train.count, testImages: test.count, epochsTrained: history.epochs.length,
      ...(history.stoppedEarlyAt !== undefined ? { weightsOfEpoch: history.stoppedEarlyAt } : {}),
    }, data);
    writeFileAtomic(join(outDir, TEST_METRICS_FILE), `${JSON.stringify(testMetrics, null, 2)}\n`);
  }
  return { vae, history, test: testMetrics, testSet: test, data };
}
