/**
 * The trained models the studio's inference endpoints use: each run's bundle (or, for a stopped
 * run, its newest checkpoint's weights), loaded once and kept until its weights file changes, and
 * the run's test split as the model takes it (the same split its training made, by the library's
 * trainAndTestSets). A run folder may hold an image or table model or a text model (vaekit train
 * model.preset text): `bundle` serves the first kind and refuses the second in one sentence that
 * points to the Text page; `textBundle` the other way round, with the codes of the run's training
 * sentences for the nearest-sentence search; `seriesBundle` a time series model, for the Series page,
 * with `seriesHeldOut` the scores of its run's held-out normal points, its threshold's starting point.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { arrayDataset, isImageShape, takeFirst, valuesInMemory, type Dataset } from '../data/dataset.js';
import { loadMnist, MNIST_TRAIN_SOURCE } from '../data/sources/mnist.js';
import { loadAnyBundle, type Bundle, type DataInfo, type TextBundle } from '../run/bundle.js';
import { sentenceCodes, trainingSentences, type SentenceCodes } from '../pipelines/text-nearest.js';
import { heldOutPointScores } from '../pipelines/series-anomaly.js';
import type { SeriesScoreOptions } from '../pipelines/series-scores.js';
import { trainingRunOf } from '../run/series.js';
import { TextVae } from '../vae/text/model.js';
import { isTextConfig } from '../vae/text/config.js';
import { checkpointFiles, latestCheckpoint } from '../run/checkpoints.js';
import { prepareForModel } from '../run/data.js';
import { dataFingerprint, loadRunData } from '../run/plan.js';
import { fitOptionsOf } from '../run/spec.js';
import { describeTraining, resolveFitOptions } from '../train/fit.js';
import { Vae } from '../vae/model.js';
import type { RunMeta, RunStore } from './runs.js';
import { confineRunData, HttpError } from './security.js';
import { RUN_FILES } from '../run/names.js';

/** Runs whose bundles (and test splits) stay loaded. */
const KEEP = 4;

/** The most training sentences the nearest-sentence search encodes and searches (the first of the training part). */
export const TEXT_NEAREST_LIMIT = 20_000;

/** The training sentences' codes of a text run, and how many the training part holds. */
export interface TrainingCodes {
  codes: SentenceCodes;
  total: number;
}

interface Cached<T> {
  key: string;
  value: T;
}

function remember<T>(cache: Map<string, Cached<T>>, id: string, entry: Cached<T>): T {
  cache.delete(id);
  cache.set(id, entry);
  while (cache.size > KEEP) cache.delete(cache.keys().next().value!);
  return entry.value;
}

export interface RunModel<B extends Bundle | TextBundle = Bundle> {
  bundle: B;
  dir: string;
  /** Changes whenever the weights do. */
  key: string;
  /** The checkpoint file a stopped run's model comes from, or null for a trained model's bundle. */
  checkpoint: string | null;
}

/** The scores of a series run's held-out normal points, or why it has none (a clause that starts with the run's name). */
export type HeldOutScores = { scores: Float64Array; why: null } | { scores: null; why: string };

/** Whether a bundle holds a text model. */
export function isTextBundle(bundle: Bundle | TextBundle): bundle is TextBundle {
  return bundle.vae instanceof TextVae;
}

export class Models {
  private readonly bundles = new Map<string, Cached<RunModel<Bundle | TextBundle>>>();
  private readonly testSets = new Map<string, Cached<Dataset>>();
  private readonly trainingCodes = new Map<string, Cached<TrainingCodes>>();
  private readonly heldOutScores = new Map<string, Cached<Float64Array>>();

  /** `training`: the run that trains now (a worker's Models is told by the server, whose RunStore knows). */
  constructor(private readonly runs: RunStore, private readonly roots: readonly string[], private readonly training: () => string | null = () => runs.training) {}

  /** Run `id`'s image or table model (see load); a text model is refused (400) with a pointer to the Text page. */
  bundle(id: string): RunModel {
    const model = this.load(id);
    if (isTextBundle(model.bundle)) throw new HttpError(400, `The run "${id}" is a text model, and this takes image and table models: explore it on the Text page.`);
    return model as RunModel;
  }

  /** Run `id`'s series model (see load; its data.series says how it reads a series); any other model is refused (400). */
  seriesBundle(id: string): RunModel {
    const model = this.load(id);
    if (isTextBundle(model.bundle) || model.bundle.data.series === undefined || model.bundle.data.series === null) {
      throw new HttpError(400, `The run "${id}" is not a series model, and the Series page takes models trained on time series.`);
    }
    return model as RunModel;
  }

  /** Run `id`'s text model (see load); an image or table model is refused (400). */
  textBundle(id: string): RunModel<TextBundle> {
    const model = this.load(id);
    if (!isTextBundle(model.bundle)) throw new HttpError(400, `The run "${id}" is an image or table model, and the Text page takes text models (model.preset text).`);
    return model as RunModel<TextBundle>;
  }

  /**
   * Run `id`'s model, of any kind: its bundle when training completed; for a stopped (or failed)
   * studio run, the weights of its newest checkpoint with the config and data description the run
   * recorded. 409 while it trains or when it has neither.
   */
  private load(id: string): RunModel<Bundle | TextBundle> {
    const dir = this.runs.runDir(id);
    if (this.training() === id) throw new HttpError(409, `The run "${id}" is training: its model is ready when it ends or is stopped.`);
    const files = [join(dir, RUN_FILES.config), join(dir, RUN_FILES.weights)];
    const meta = this.runs.meta(dir);
    const checkpoint = files.every((f) => existsSync(f)) ? null : checkpointFiles(dir)[0] ?? null;
    if (checkpoint === null && !files.every((f) => existsSync(f))) throw new HttpError(409, `The run "${id}" has no trained model yet.`);
    if (checkpoint !== null && (meta?.config === undefined || meta.data === undefined || isTextConfig(meta.config))) {
      throw new HttpError(409, `The run "${id}" has no trained model yet, and its checkpoint does not say which model it holds.`);
    }
    const stats = (checkpoint === null ? files : [checkpoint]).map((f) => statSync(f));
    const key = `${checkpoint ?? 'bundle'}:${stats.map((s) => `${s.mtimeMs}:${s.size}:${s.ino}`).join(':')}`;
    const hit = this.bundles.get(id);
    if (hit !== undefined && hit.key === key) return hit.value;
    const bundle = checkpoint === null ? loadAnyBundle(dir) : checkpointBundle(dir, meta!);
    return remember(this.bundles, id, { key, value: { bundle, dir, key, checkpoint } });
  }

  /** Run `id`'s test split (its validation examples), prepared for its model. */
  async testSet(id: string): Promise<{ set: Dataset; bundle: Bundle; dir: string }> {
    const { bundle, dir, key } = this.bundle(id);
    const hit = this.testSets.get(id);
    if (hit !== undefined && hit.key === key) return { set: hit.value, bundle, dir };
    const meta = this.runs.meta(dir);
    let test: Dataset;
    if (meta !== null) {
      // The split the run's training made (the library's, from the run's spec), its data confined again.
      test = (await loadRunData({ ...meta.spec, data: confineRunData(meta.spec.data, this.roots) })).test;
    } else if (bundle.data.source === MNIST_TRAIN_SOURCE) {
      test = loadMnist('test');
    } else {
      throw new HttpError(409, `The run "${id}" was not trained by the studio and does not say where its data is.`);
    }
    const set = prepareForModel(bundle.data, test, bundle.vae.classes > 0);
    return { set: remember(this.testSets, id, { key, value: set }), bundle, dir };
  }

  /**
   * The posterior means of text run `id`'s training sentences (the first TEXT_NEAREST_LIMIT of the
   * training part of the data its run spec names, confined again, read with the model's
   * vocabulary), encoded once per trained state.
   */
  async textTrainingCodes(id: string): Promise<TrainingCodes> {
    const model = this.textBundle(id);
    const hit = this.trainingCodes.get(id);
    if (hit !== undefined && hit.key === model.key) return hit.value;
    const spec = this.runs.spec(model.dir);
    if (spec === null) throw new HttpError(409, `The run "${id}" has no run.json, so it does not say which sentences it was trained on.`);
    const all = await trainingSentences(model.bundle, { ...spec, data: confineRunData(spec.data, this.roots) });
    const value: TrainingCodes = { codes: sentenceCodes(model.bundle, takeFirst(all, TEXT_NEAREST_LIMIT)), total: all.count };
    return remember(this.trainingCodes, id, { key: model.key, value });
  }

  /**
   * The scores of series run `id`'s held-out normal points (the library's heldOutPointScores), on
   * which vaekit anomaly --model takes its threshold: its run read again by the library's
   * trainingRunOf (its data confined again), or why it cannot be. The run's data is read on every
   * call, so a file moved or changed since is noticed; the scoring, the slow part, is done once per
   * trained state, held-out windows (their digest) and scoring options.
   */
  seriesHeldOut(id: string, scoring: SeriesScoreOptions): HeldOutScores {
    const model = this.seriesBundle(id);
    const { run, why } = trainingRunOf(model.dir, model.bundle.data.series!, { name: `The run "${id}"`, data: (d) => confineRunData(d, this.roots) });
    if (run === null) return { scores: null, why };
    const key = `${model.key}:${dataFingerprint(run.validation)}:${JSON.stringify(scoring)}`;
    const hit = this.heldOutScores.get(id);
    if (hit !== undefined && hit.key === key) return { scores: hit.value, why: null };
    const scores = heldOutPointScores(model.bundle.vae, { windows: run.validation, series: run.validationSeries }, scoring);
    return { scores: remember(this.heldOutScores, id, { key, value: scores }), why: null };
  }
}

/** A stopped run's model: the newest readable checkpoint's weights in the model its studio.json records. */
function checkpointBundle(dir: string, meta: RunMeta): Bundle {
  const found = latestCheckpoint(dir);
  if (found === null) throw new HttpError(409, 'This run has no checkpoint.');
  const vae = new Vae(meta.config!);
  const c = found.checkpoint;
  if (c.params.length !== vae.params.count) throw new HttpError(409, `The checkpoint holds ${c.params.length} parameters, and the run's model has ${vae.params.count}.`);
  vae.params.values.set(c.params);
  const fit = resolveFitOptions(fitOptionsOf(meta.spec));
  return { vae, data: meta.data!, training: { ...describeTraining(fit), epochsTrained: c.state.epoch, checkpoint: basename(found.path) } };
}

/**
 * An uploaded set in the shape the model takes: a table whose rows hold exactly an image's values
 * (H x W x C, channels-last) becomes images, its values read as bytes (whole numbers 0 to 255) or
 * as intensities in [0, 1].
 */
export function asModelShape(set: Dataset, info: DataInfo): Dataset {
  const shape = info.shape;
  const same = set.shape.length === shape.length && set.shape.every((d, i) => d === shape[i]);
  if (same || !isImageShape(shape) || set.shape.length !== 1 || set.size !== shape[0]! * shape[1]! * shape[2]!) return set;
  const v = valuesInMemory(set, 'An upload');
  let bytes = v instanceof Uint8Array;
  if (!bytes) {
    let max = 0;
    let whole = true;
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (!(x >= 0 && x <= 255)) throw new HttpError(400, `${set.source} has the value ${x}, and image values must lie in [0, 1] or be whole numbers from 0 to 255.`);
      max = Math.max(max, x);
      if (!Number.isInteger(x)) whole = false;
    }
    if (max > 1) {
      if (!whole) throw new HttpError(400, `${set.source} has values above 1 that are not whole numbers: image values must lie in [0, 1] or be whole numbers from 0 to 255.`);
      bytes = true;
    }
  }
  return arrayDataset({
    values: bytes && !(v instanceof Uint8Array) ? Uint8Array.from(v) : v,
    shape, labels: set.labels, labelNames: set.labelNames, source: set.source,
  });
}
