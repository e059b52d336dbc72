/**
 * planRun: everything a run does before its first step, from its spec: the checks, the data
 * (loaded and split once), the model config the data asks for, the standardization, the model,
 * the trainer's options and the data's fingerprint. It writes nothing, so a run that cannot train
 * fails before its folder is touched. trainRun (train-run.ts) takes the plan.
 */
import { createHash } from 'node:crypto';
import { takeFirst, type Dataset } from '../data/dataset.js';
import { channelsLike, loadData } from '../data/load.js';
import { splitValidation } from '../data/split.js';
import { loadMnist, MNIST_TRAIN_SOURCE } from '../data/sources/mnist.js';
import { VaekitError } from '../errors.js';
import type { DataInfo } from './bundle.js';
import { checkFits, resolveFitOptions, type FitOptions } from '../train/fit.js';
import { Vae } from '../vae/model.js';
import { dataInfoFor, modelConfigForData, prepareForModel, standardizationFor } from './data.js';
import { dataOptionsOf, fitOptionsOf, modelChoicesOf, validateRunSpec, type RunSpec, type RunSpecInput } from './spec.js';

export interface RunPlan {
  spec: RunSpec;
  /** The trainer's options (callbacks, signal and checkpoints are trainRun's). */
  fit: FitOptions;
  /** The model, built and seeded, not trained. */
  vae: Vae;
  /** The training and validation sets as the model takes them (standardized features, classes matched). */
  train: Dataset;
  test: Dataset;
  /** The data description the bundle keeps. */
  data: DataInfo;
  /** sha256 of the training examples as the model sees them: a resumed run must see the same. */
  fingerprint: string;
  /** What the caller's data was, when it is not what spec.data names (GivenData.describe), else null. */
  given: string | null;
}

/** Data a caller already holds, in place of the spec's sources (the library's in-memory datasets). */
export interface GivenData {
  train?: Dataset;
  validation?: Dataset;
  /** Receives a line about how the data was read (which channels an image folder's images decided on). */
  report?: (line: string) => void;
  /**
   * What the given data is, when it is not what the spec's data names (a one-class run: one class
   * of it): run.json keeps the words, and the spec alone does not train such a run again.
   */
  describe?: string;
}

/** The first `limit` examples of a run's training data (data.limit), in stored order. */
export function firstExamples(train: Dataset, limit: number): Dataset {
  if (!Number.isInteger(limit) || limit < 1) throw new VaekitError(`data.limit must be a positive integer, not ${limit}.`);
  if (limit > train.count) throw new VaekitError(`data.limit ${limit} is more than the ${train.count} examples of ${train.source}.`);
  return takeFirst(train, limit);
}

/** The training and validation sets of a run: MNIST's test split for MNIST, a seeded share of the data for other data without a validation set. */
export function trainAndTestSets(options: { train?: Dataset; test?: Dataset; validationFraction?: number; limit?: number }, seed: number): { train: Dataset; test: Dataset } {
  let train = options.train ?? loadMnist('train');
  if (options.limit !== undefined) train = firstExamples(train, options.limit);
  if (options.test !== undefined) {
    if (options.validationFraction !== undefined) throw new VaekitError('Give a validation fraction or a validation set, not both.');
    return { train, test: options.test };
  }
  if (options.validationFraction === undefined && train.source === MNIST_TRAIN_SOURCE) return { train, test: loadMnist('test') };
  const split = splitValidation(train, options.validationFraction ?? 0.1, seed);
  return { train: split.train, test: split.validation };
}

/** A digest of the training examples as the model sees them (values, labels, shape). */
export function dataFingerprint(set: Dataset): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(set.shape));
  hash.update(new Uint8Array(set.values.buffer, set.values.byteOffset, set.values.byteLength));
  if (set.labels !== null) hash.update(new Uint8Array(set.labels.buffer, set.labels.byteOffset, set.labels.byteLength));
  return hash.digest('hex');
}

/** The spec's training and validation sets, loaded and split (not yet in the model's units). */
export async function loadRunData(spec: RunSpec, given: GivenData = {}): Promise<{ train: Dataset; test: Dataset }> {
  const options = { ...dataOptionsOf(spec.data), ...(given.report !== undefined ? { report: given.report } : {}) };
  const train = given.train ?? await loadData(spec.data.source, 'train', options);
  const v = spec.data.validation;
  // A validation folder loads with the training images' channels, whatever its own images are.
  const test = given.validation ?? (v !== null && 'source' in v ? await loadData(v.source, 'test', { ...options, ...channelsLike(train) }) : undefined);
  return trainAndTestSets({
    train,
    ...(test !== undefined ? { test } : {}),
    ...(v !== null && 'fraction' in v ? { validationFraction: v.fraction } : {}),
    ...(spec.data.limit !== null ? { limit: spec.data.limit } : {}),
  }, spec.seed);
}

/** Plans a run (see the top of this file); throws, having written nothing, when it cannot train. */
export async function planRun(input: RunSpec | RunSpecInput, given: GivenData = {}): Promise<RunPlan> {
  const spec = validateRunSpec(input);
  const fit = resolveFitOptions(fitOptionsOf(spec));
  const sets = await loadRunData(spec, given);
  const config = modelConfigForData(modelChoicesOf(spec.model), sets.train);
  const data = dataInfoFor(sets.train, standardizationFor(sets.train));
  const conditional = config.classes > 0;
  const train = prepareForModel(data, sets.train, conditional);
  const test = prepareForModel(data, sets.test, conditional);
  const vae = new Vae(config, { seed: fit.seed });
  checkFits(vae, train, fit);
  return { spec, fit, vae, train, test, data, fingerprint: dataFingerprint(train), given: given.describe ?? null };
}
