/**
 * Anomaly detection jobs. Scores are negative ELBOs in nats (eval/anomaly.ts); the AUROC tells
 * how well they rank the anomalies first, when labels say which examples are anomalies.
 * - scoreAnomalies: one model scores a set; with labels, anomalies are the examples whose class is
 *   not the normal one (by default the class named "0", "false", "normal" or "inlier").
 * - oneClassTasks: for each chosen class, a model trained on that class's examples scores the test
 *   set, the other classes being the anomalies (the protocol of Ruff et al. 2018).
 */
import { classNames, type Dataset } from '../data/dataset.js';
import { VaekitError } from '../errors.js';
import { anomalyScores, classSubset, oneClassAuroc } from '../eval/anomaly.js';
import { fit, type Callback, type FitOptionsInput } from '../train/fit.js';
import { Vae } from '../vae/model.js';
import { saveModel } from '../run/bundle.js';
import { dataInfoFor, modelConfigForData, prepareForModel, standardizationFor, type ModelChoices } from '../run/data.js';

export interface AnomalyScores {
  scores: Float64Array;
  /** The class index that counts as normal, or null when the set has no labels. */
  normalClass: number | null;
  /** AUROC of the scores for finding the other classes, or null without labels. */
  auroc: number | null;
}

const NORMAL_NAMES = ['0', 'false', 'normal', 'inlier', 'no'];

/** The normal class of a labelled set: the named one, else the one called "0", "false", "normal", "inlier" or "no". */
export function normalClassOf(set: Dataset, name?: string): number {
  const names = classNames(set);
  if (name !== undefined) {
    const i = names.indexOf(name);
    if (i < 0) throw new VaekitError(`${set.source} has no class "${name}": its classes are ${names.slice(0, 20).join(', ')}.`);
    return i;
  }
  const i = names.findIndex((n) => NORMAL_NAMES.includes(n.toLowerCase()));
  if (i < 0) throw new VaekitError(`Which class of ${set.source} is normal? Give --normal-class (its classes are ${names.slice(0, 20).join(', ')}).`);
  return i;
}

/**
 * The normal class of a labelled set that is to be scored (see normalClassOf), checked to have
 * examples of it and of other classes: the AUROC needs normal examples and anomalies.
 */
export function scoredNormalClass(set: Dataset, name?: string): number {
  const normal = normalClassOf(set, name);
  let count = 0;
  for (let i = 0; i < set.count; i++) if (set.labels![i] === normal) count++;
  const className = classNames(set)[normal];
  if (count === 0) throw new VaekitError(`${set.source} has no examples of the normal class ${className} to score: the AUROC needs normal examples and anomalies.`);
  if (count === set.count) throw new VaekitError(`Every example of ${set.source} is of the class ${className}: the AUROC needs anomalies (examples of other classes) to score as well.`);
  return normal;
}

export function scoreAnomalies(vae: Vae, set: Dataset, options: { samples: number; seed: number; normalClass?: string }): AnomalyScores {
  // Checked before the scoring pass: a set without anomalies to find is refused at once.
  const normalClass = set.labels === null ? null : scoredNormalClass(set, options.normalClass);
  const scores = anomalyScores(vae, set, options.samples, options.seed);
  if (set.labels === null || normalClass === null) return { scores, normalClass: null, auroc: null };
  return { scores, normalClass, auroc: oneClassAuroc(scores, set.labels, normalClass) };
}

export interface OneClassResult {
  normalClass: string;
  auroc: number;
  trainExamples: number;
}

export interface OneClassOptions {
  choices: ModelChoices;
  fit: FitOptionsInput;
  train: Dataset;
  test: Dataset;
  /** Class indices of `train` to run, one task each. */
  classes: number[];
  samples: number;
  /** A folder per task's model (class-NAME), or none. */
  outDir?: (className: string) => string;
  callbacks?: Callback[];
  onTask?: (className: string, trainExamples: number) => void;
  /** After each task: its model, the test set as the model takes it, and the scores (the CLI writes them and their histogram). */
  onScored?: (className: string, vae: Vae, test: Dataset, scores: AnomalyScores) => void | Promise<void>;
}

/**
 * Each task's class name, training examples and normal class in the test set, every one checked (a
 * class to train on, normal examples and anomalies to score): call it before anything is written.
 */
export function oneClassPlan(train: Dataset, test: Dataset, classes: readonly number[]): Array<{ name: string; subset: Dataset; normal: number }> {
  if (test.labels === null) throw new VaekitError(`One-class detection scores labelled data, and ${test.source} has no labels.`);
  const names = classNames(train);
  return classes.map((c) => {
    const name = names[c] ?? String(c);
    return { name, subset: classSubset(train, c), normal: scoredNormalClass(test, name) };
  });
}

export async function oneClassTasks(o: OneClassOptions): Promise<OneClassResult[]> {
  const results: OneClassResult[] = [];
  for (const { name, subset, normal } of oneClassPlan(o.train, o.test, o.classes)) {
    o.onTask?.(name, subset.count);
    const info = dataInfoFor(subset, standardizationFor(subset));
    const vae = new Vae(modelConfigForData({ ...o.choices, conditional: false }, subset), { seed: o.fit.seed ?? 0 });
    await fit(vae, prepareForModel(info, subset, false), { ...o.fit, ...(o.callbacks !== undefined ? { callbacks: o.callbacks } : {}) });
    if (o.outDir !== undefined) saveModel(vae, o.outDir(name), { normalClass: name, trainExamples: subset.count }, info);
    const test = prepareForModel(info, o.test, false);
    const scores = anomalyScores(vae, test, o.samples, o.fit.seed ?? 0);
    const auroc = oneClassAuroc(scores, test.labels!, normal);
    await o.onScored?.(name, vae, test, { scores, normalClass: normal, auroc });
    results.push({ normalClass: name, auroc, trainExamples: subset.count });
  }
  return results;
}
