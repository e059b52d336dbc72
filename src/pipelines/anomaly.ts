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
import type { Callback } from '../train/fit.js';
import type { Vae } from '../vae/model.js';
import { RunFolder } from '../run/folder.js';
import { imagePlan, planRun } from '../run/plan.js';
import type { RunSpec } from '../run/spec.js';
import { trainRun } from '../run/train-run.js';
import { prepareForModel } from '../run/data.js';

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
  if (i < 0) throw new VaekitError(`Which class of ${set.source} is normal? Give anomaly.normalClass (its classes are ${names.slice(0, 20).join(', ')}).`);
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
  /**
   * The run each class's model trains (model, objective, schedule, noise, seed); its data section
   * names where `train` came from. Each task trains on one class of `train` and validates on that
   * class's examples in `test` (unseen normal examples), as a plain model, with no limit applied.
   */
  spec: RunSpec;
  train: Dataset;
  test: Dataset;
  /** Class indices of `train` to run, one task each. */
  classes: number[];
  samples: number;
  /** A run folder per task's model (class-NAME), or none. */
  outDir?: (className: string) => string;
  /** Replace a model already in a task's folder. */
  overwrite?: boolean;
  callbacks?: Callback[];
  onTask?: (className: string, trainExamples: number) => void;
  /**
   * After each task: its model, the test set as the model takes it, the scores, the folder its
   * files go in now (the staging folder while a model is replaced; null without outDir), and the
   * training examples as the model took them (what baselines fit on). The CLI writes the scores
   * and their histogram there.
   */
  onScored?: (className: string, vae: Vae, test: Dataset, scores: AnomalyScores, dir: string | null, train: Dataset) => void | Promise<void>;
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
    const dir = o.outDir?.(name);
    const spec: RunSpec = {
      ...o.spec,
      data: { ...o.spec.data, limit: null, validation: null },
      model: { ...o.spec.model, conditional: false },
      outputs: { ...o.spec.outputs, dir: dir ?? o.spec.outputs.dir },
    };
    const plan = imagePlan(await planRun(spec, {
      train: subset,
      validation: classSubset(o.test, normal),
      describe: `class ${name} of ${o.train.source} (${subset.count} examples), validated on class ${name} of ${o.test.source}`,
    }), 'a one-class anomaly run');
    const folder = dir !== undefined ? RunFolder.create(dir, { overwrite: o.overwrite === true }) : null;
    try {
      const { vae, data } = await trainRun(plan, { folder, record: { normalClass: name, trainExamples: subset.count }, ...(o.callbacks !== undefined ? { callbacks: o.callbacks } : {}) });
      const test = prepareForModel(data, o.test, false);
      const scores = anomalyScores(vae, test, o.samples, plan.fit.seed);
      const auroc = oneClassAuroc(scores, test.labels!, normal);
      await o.onScored?.(name, vae, test, { scores, normalClass: normal, auroc }, folder?.dir ?? null, plan.train);
      folder?.finish();
      results.push({ normalClass: name, auroc, trainExamples: subset.count });
    } finally {
      folder?.release();
    }
  }
  return results;
}
