/**
 * planRun: everything a run does before its first step, from its spec: the checks, the data
 * (loaded and split once), the model config the data asks for, the standardization, the model,
 * the trainer's options and the data's fingerprint. It writes nothing, so a run that cannot train
 * fails before its folder is touched. trainRun (train-run.ts) takes the plan.
 */
import { createHash } from 'node:crypto';
import { storedChunks, takeFirst, type Dataset } from '../data/dataset.js';
import type { Standardization } from '../data/transforms/standardize.js';
import { bytesOf, digestRows, ROW_DIGEST_BYTES } from '../io/digest.js';
import { channelsLike, loadData } from '../data/load.js';
import { splitValidation } from '../data/split.js';
import { loadMnist, MNIST_TRAIN_SOURCE } from '../data/sources/mnist.js';
import { VaekitError } from '../errors.js';
import type { DataInfo, SeriesDataInfo } from './bundle-format.js';
import { readSeriesRun } from './series.js';
import { checkFits, resolveFitOptions, type FitOptions } from '../train/fit.js';
import { Vae } from '../vae/model.js';
import { TextVae } from '../vae/text/model.js';
import { buildVocabulary } from '../data/text/vocab.js';
import { withVocabulary } from '../data/sources/text.js';
import { dataInfoFor, missingRateFor, modelConfigForData, prepareForModel, standardizationFor, textConfigForData, textDataInfo } from './data.js';
import { dataOptionsOf, fitOptionsOf, isSeriesSpec, isTextSpec, modelChoicesOf, validateRunSpec, type RunSpec, type RunSpecInput } from './spec.js';

export interface RunPlan<M extends Vae | TextVae = Vae | TextVae> {
  spec: RunSpec;
  /** The trainer's options (callbacks, signal and checkpoints are trainRun's). */
  fit: FitOptions;
  /** The model, built and seeded, not trained: a TextVae for a text run (model.preset text or text-lm). */
  vae: M;
  /** The training and validation sets as the model takes them (standardized features, classes matched). */
  train: Dataset;
  test: Dataset;
  /** The data description the bundle keeps. */
  data: DataInfo;
  /** The training examples' fingerprint (dataFingerprint): a resumed run must see the same. */
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

/** What starts a fingerprint made of row digests (dataFingerprint); one without it is a legacyFingerprint. */
const FINGERPRINT_PREFIX = 'v2:';

/**
 * A digest of the training examples as the model sees them: the shape, each example's digest of
 * its stored values in order (io/digest.ts), the standardization they go through, and the labels
 * (by default the set's). A streamed set's row digests were kept when it was opened, so no row is
 * read again; the same data gives the same fingerprint streamed or in memory.
 */
export function dataFingerprint(set: Dataset, standardization: Standardization | null = null, labels: Int32Array | null = set.labels): string {
  const hash = createHash('sha256');
  hash.update(`${JSON.stringify(set.shape)}\n${JSON.stringify(standardization)}\n`);
  hash.update(rowDigests(set));
  if (labels !== null) hash.update(bytesOf(labels));
  return `${FINGERPRINT_PREFIX}${hash.digest('hex')}`;
}

/** Each example's digest of its stored values, in order. */
function rowDigests(set: Dataset): Uint8Array {
  if (set.values === null) return set.streamed!.digests();
  const out = new Uint8Array(set.count * ROW_DIGEST_BYTES);
  digestRows(bytesOf(set.values), set.size * set.values.BYTES_PER_ELEMENT, set.count, out, 0);
  return out;
}

/**
 * The fingerprint of runs recorded before fingerprints were made of row digests: one sha256 of the shape, every value of
 * the set as the model sees it, and its labels. A run recorded with one resumes when it matches.
 */
export function legacyFingerprint(set: Dataset): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(set.shape));
  for (const { values } of storedChunks(set)) hash.update(bytesOf(values));
  if (set.labels !== null) hash.update(bytesOf(set.labels));
  return hash.digest('hex');
}

/** Whether a recorded fingerprint is the one of `plan`'s training data (a legacy one checked as it was made). */
export function sameTrainingData(recorded: unknown, plan: Pick<RunPlan, 'fingerprint' | 'train'>): boolean {
  if (recorded === plan.fingerprint) return true;
  return typeof recorded === 'string' && !recorded.startsWith(FINGERPRINT_PREFIX) && recorded === legacyFingerprint(plan.train);
}

/**
 * The spec's training and validation sets, loaded and split (not yet in the model's units); for a
 * series run (data.window), windows of the series split in time (run/series.ts) and what the bundle
 * keeps about them.
 */
export async function loadRunData(spec: RunSpec, given: GivenData = {}): Promise<{ train: Dataset; test: Dataset; series: SeriesDataInfo | null }> {
  if (isSeriesSpec(spec)) {
    if (given.train !== undefined || given.validation !== undefined) throw new VaekitError('A series run reads its series from data.source; it takes no datasets given in memory.');
    const run = readSeriesRun(spec.data, given.report);
    return { train: run.train, test: run.validation, series: run.info };
  }
  const options = { ...dataOptionsOf(spec.data, isTextSpec(spec)), ...(given.report !== undefined ? { report: given.report } : {}) };
  // Text is split into tokens once the training part's vocabulary is built from it (planTextRun), not before.
  if (options.text !== undefined) options.text = { ...options.text, textsOnly: true };
  const train = given.train ?? await loadData(spec.data.source, 'train', options);
  const v = spec.data.validation;
  // A validation folder loads with the training images' channels, whatever its own images are.
  const test = given.validation ?? (v !== null && 'source' in v ? await loadData(v.source, 'test', { ...options, ...channelsLike(train) }) : undefined);
  const sets = trainAndTestSets({
    train,
    ...(test !== undefined ? { test } : {}),
    ...(v !== null && 'fraction' in v ? { validationFraction: v.fraction } : {}),
    ...(spec.data.limit !== null ? { limit: spec.data.limit } : {}),
  }, spec.seed);
  return { ...sets, series: null };
}

/** Whether a plan trains a text model. */
export function isTextPlan(plan: RunPlan): plan is RunPlan<TextVae> {
  return plan.vae instanceof TextVae;
}

/** The plan of an image or table model; a text run is refused, in `what`'s words ("the anomaly command"). */
export function imagePlan(plan: RunPlan, what: string): RunPlan<Vae> {
  if (isTextPlan(plan)) throw new VaekitError(`model.preset ${plan.spec.model.preset} trains a text model, and ${what} takes image and table models.`);
  return plan as RunPlan<Vae>;
}

/** Plans a run (see the top of this file); throws, having written nothing, when it cannot train. */
export async function planRun(input: RunSpec | RunSpecInput, given: GivenData = {}): Promise<RunPlan> {
  const spec = validateRunSpec(input);
  const fit = resolveFitOptions(fitOptionsOf(spec));
  const sets = await loadRunData(spec, given);
  if (isTextSpec(spec)) return planTextRun(spec, fit, sets, given);
  fit.missingRate = missingRateFor(spec.objective.missingRate, sets.train);
  const config = modelConfigForData(modelChoicesOf(spec.model), sets.train);
  const data = dataInfoFor(sets.train, standardizationFor(sets.train), sets.series);
  const conditional = config.classes > 0;
  const train = prepareForModel(data, sets.train, conditional);
  const test = prepareForModel(data, sets.test, conditional);
  const vae = new Vae(config, { seed: fit.seed });
  checkFits(vae, train, fit);
  // The data as read, with the standardization and labels the model takes it with: the same as
  // fingerprinting `train`, without reading a streamed set's rows again.
  return { spec, fit, vae, train, test, data, fingerprint: dataFingerprint(sets.train, data.standardization, train.labels), given: given.describe ?? null };
}

/**
 * A text run's plan: the vocabulary built from the training part alone (the validation part is read
 * with it, so its unseen tokens are <unk> as any new text's), the maximum length the training
 * part's longest example unless data.maxLength cuts it, the TextVae those make.
 */
async function planTextRun(spec: RunSpec, fit: FitOptions, sets: { train: Dataset; test: Dataset }, given: GivenData): Promise<RunPlan<TextVae>> {
  const d = spec.data;
  const texts = sets.train.text;
  if (texts === undefined || sets.test.text === undefined) throw new VaekitError(`A text model needs text data, and ${sets.train.source} is not text.`);
  const vocabulary = buildVocabulary(texts.texts, { kind: d.tokens ?? 'word', lowercase: d.lowercase ?? false }, d.vocab ?? undefined, sets.train.source);
  const train = await withVocabulary(sets.train, vocabulary, d.maxLength ?? undefined);
  const test = await withVocabulary(sets.test, vocabulary, train.shape[0]!);
  const config = textConfigForData(spec.model, train);
  const vae = new TextVae(config, { seed: fit.seed });
  checkFits(vae, train, fit);
  return { spec, fit, vae, train, test, data: textDataInfo(train), fingerprint: dataFingerprint(train), given: given.describe ?? null };
}
