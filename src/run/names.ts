/**
 * The names of the files in a run folder, spelled here and nowhere else (no files are touched:
 * this module bundles for a browser). A run folder is what `vaekit train` (and demo, anomaly, the
 * studio) writes: the model bundle, the run spec, the logs, the checkpoints, and what the model
 * commands add to it by default (figures, the report, the evaluation). folder.ts owns its
 * lifecycle; a file not named here is not vaekit's, and vaekit never removes it.
 */
export const RUN_FILES = {
  /** The model bundle: the model's config, its data description and training settings (JSON). */
  config: 'config.json',
  /** The model bundle: the weights (safetensors). */
  weights: 'weights.safetensors',
  /** The run spec the run was trained from, with the vaekit version and the data's fingerprint. */
  spec: 'run.json',
  /** One JSON line per epoch: losses, KL, KL weight, the same on the validation set. */
  metrics: 'metrics.jsonl',
  /** One JSON line per epoch: its seconds and examples per second. */
  timing: 'timing.jsonl',
  /** The test metrics at the end of training. */
  testMetrics: 'test-metrics.json',
  /** The folder of checkpoints (checkpoint-<steps>.safetensors). */
  checkpoints: 'checkpoints',
  /** A run trained under torchrun (vaekit train --engine torchrun): the PyTorch export, the data and train.py's checkpoints and log. */
  torchrun: 'torchrun-engine',
  /** The PID of the process that writes the folder now. */
  lock: '.vaekit.lock',
  /** The studio's record of a run it started (its request, status, model). */
  studio: 'studio.json',
  /** The self-contained HTML report. */
  report: 'report.html',
  /** vaekit eval's results. */
  evalJson: 'eval.json',
  evalMarkdown: 'eval.md',
  /** The notebook's figures (vaekit demo, vaekit figures). */
  noisyExamples: 'noisy-examples.png',
  denoisedExamples: 'denoised-examples.png',
  samples: 'samples.png',
  curvesPng: 'training-curves.png',
  curvesSvg: 'training-curves.svg',
  /** vaekit anomaly's scores, summary, table and histogram. */
  scores: 'scores.csv',
  anomaly: 'anomaly.json',
  anomalyMarkdown: 'anomaly.md',
  scoreHistogram: 'score-histogram.png',
  /** The studio's anomaly scores of a run's validation set. */
  studioScores: 'anomaly-scores.csv',
} as const;

export type RunFileKey = keyof typeof RUN_FILES;
export type RunFileName = (typeof RUN_FILES)[RunFileKey];

/** One-class anomaly runs keep a model folder per class: class-<name>. */
export const CLASS_FOLDER_PREFIX = 'class-';

/** A folder beside OUT that a run replacing the model in OUT trains in (OUT.new), and the old model's place during the swap (OUT.old). */
export const STAGING_SUFFIX = '.new';
export const REPLACED_SUFFIX = '.old';
