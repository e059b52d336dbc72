/**
 * The training loop: each epoch shuffles the training images, and for each batch converts the
 * bytes to floats, adds the noise, runs forward and backward through the VAE, and takes an Adam
 * step. After each epoch it validates on noisy test images against clean targets.
 */
import { Random } from '../engine/random.js';
import { gatherBatch, shuffledOrder } from '../data/batches.js';
import type { ImageSet } from '../data/dataset.js';
import { applyNoise, formatNoise, type NoiseSpec } from '../data/noise.js';
import { evaluateObjective } from '../eval/evaluate.js';
import { Adam } from '../nn/adam.js';
import type { Vae } from '../vae/model.js';
import type { LossParts, Objective } from '../vae/objective.js';
import { fmt, SILENT, type ProgressReporter } from './progress.js';
import { VaekitError } from '../errors.js';

export type NoiseRedraw = 'epoch' | 'once';

export interface FitOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  objective: Objective;
  noise: NoiseSpec;
  /** 'epoch' draws new noise every epoch (default); 'once' keeps each image's noise fixed, like the notebook. */
  noiseRedraw: NoiseRedraw;
  /** Drives shuffling, noise and posterior samples (the weights are seeded when the Vae is built). */
  seed: number;
  /** Noisy-in, clean-target validation set evaluated after each epoch. */
  validation?: ImageSet | null;
  progress?: ProgressReporter;
  /** Called after each epoch with its record (e.g. to write the metrics log). */
  onEpochEnd?: (record: EpochRecord) => void;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  recon: number;
  kl: number;
  valLoss?: number;
  valRecon?: number;
  valKl?: number;
  seconds: number;
  imagesPerSecond: number;
}

export interface FitOptionsInput extends Partial<Omit<FitOptions, 'objective'>> {
  objective?: Partial<Objective>;
}

export const FIT_DEFAULTS: Readonly<Omit<FitOptions, 'validation' | 'progress' | 'onEpochEnd'>> = {
  epochs: 10,
  batchSize: 128,
  learningRate: 1e-3,
  objective: { loss: 'elbo', beta: 1 },
  noise: { kind: 'gaussian', factor: 0.2 },
  noiseRedraw: 'epoch',
  seed: 0,
};

/** Defaults filled in and every value checked. */
export function resolveFitOptions(input: FitOptionsInput = {}): FitOptions {
  const o: FitOptions = {
    ...FIT_DEFAULTS,
    ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
    objective: { ...FIT_DEFAULTS.objective, ...input.objective },
  };
  const positiveInt = (v: number, what: string): void => {
    if (!Number.isInteger(v) || v < 1) throw new VaekitError(`${what} must be a positive integer, not ${v}.`);
  };
  positiveInt(o.epochs, 'The number of epochs');
  positiveInt(o.batchSize, 'The batch size');
  if (!(o.learningRate > 0) || !Number.isFinite(o.learningRate)) {
    throw new VaekitError(`The learning rate must be a positive number, not ${o.learningRate}.`);
  }
  if (!(o.objective.beta >= 0) || !Number.isFinite(o.objective.beta)) {
    throw new VaekitError(`Beta must be a number >= 0, not ${o.objective.beta}.`);
  }
  if (o.noiseRedraw !== 'epoch' && o.noiseRedraw !== 'once') {
    throw new VaekitError(`Noise redraw must be "epoch" or "once", not "${String(o.noiseRedraw)}".`);
  }
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) {
    throw new VaekitError(`The seed must be an integer from 0 to 4294967295, not ${o.seed}.`);
  }
  return o;
}

/** Trains the model in place and returns one record per epoch. */
export function fit(vae: Vae, train: ImageSet, input: FitOptionsInput = {}): EpochRecord[] {
  const options = resolveFitOptions(input);
  const pixels = train.height * train.width;
  if (pixels !== vae.pixels) {
    throw new VaekitError(`The model takes ${vae.config.imageHeight}x${vae.config.imageWidth} images but the training images are ${train.height}x${train.width}.`);
  }
  if (train.count === 0) throw new VaekitError('There are no training images.');
  const progress = options.progress ?? SILENT;
  const { batchSize, objective } = options;
  const root = new Random(options.seed);
  const shuffleRng = root.fork(1);
  const sampleRng = root.fork(2);
  const noiseSeed = root.fork(3).nextUint32();
  const optimizer = new Adam(vae.params, { learningRate: options.learningRate });
  const clean = new Float32Array(batchSize * pixels);
  const noisy = new Float32Array(batchSize * pixels);
  const steps = Math.ceil(train.count / batchSize);
  vae.reserve(batchSize);
  const history: EpochRecord[] = [];

  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const started = performance.now();
    const order = shuffledOrder(train.count, shuffleRng);
    const epochKey = options.noiseRedraw === 'once' ? 0 : epoch;
    const total = { loss: 0, recon: 0, kl: 0 };
    let seen = 0;
    progress.startEpoch(epoch, options.epochs, steps);
    for (let step = 0; step < steps; step++) {
      const start = step * batchSize;
      const rows = Math.min(batchSize, train.count - start);
      gatherBatch(train.images, pixels, order, start, rows, clean);
      applyNoise(options.noise, clean, noisy, rows, pixels, order.subarray(start, start + rows), noiseSeed, epochKey);
      const parts = vae.run(noisy, clean, rows, objective, sampleRng, true);
      optimizer.update(vae.backend);
      total.loss += parts.loss * rows;
      total.recon += parts.recon * rows;
      total.kl += parts.kl * rows;
      seen += rows;
      progress.step(step + 1, { loss: total.loss / seen, recon: total.recon / seen, kl: total.kl / seen });
    }
    if (!Number.isFinite(total.loss)) {
      throw new VaekitError(`Training diverged in epoch ${epoch} (the loss is not finite); try a lower learning rate.`);
    }
    const seconds = (performance.now() - started) / 1000;
    const record: EpochRecord = {
      epoch,
      loss: total.loss / seen,
      recon: total.recon / seen,
      kl: total.kl / seen,
      seconds,
      imagesPerSecond: seen / seconds,
    };
    if (options.validation) {
      const val = evaluateObjective(vae, options.validation, objective, { noise: options.noise, seed: options.seed });
      record.valLoss = val.loss;
      record.valRecon = val.recon;
      record.valKl = val.kl;
    }
    history.push(record);
    progress.endEpoch(formatEpoch(record, options.epochs));
    options.onEpochEnd?.(record);
  }
  return history;
}

export function formatEpoch(r: EpochRecord, epochs: number): string {
  const parts = [
    `Epoch ${r.epoch}/${epochs}`,
    `${r.seconds.toFixed(1)}s`,
    `loss ${fmt(r.loss)}`,
    `recon ${fmt(r.recon)}`,
    `kl ${fmt(r.kl)}`,
  ];
  if (r.valLoss !== undefined) {
    parts.push(`val_loss ${fmt(r.valLoss)}`, `val_recon ${fmt(r.valRecon ?? Number.NaN)}`, `val_kl ${fmt(r.valKl ?? Number.NaN)}`);
  }
  return parts.join(' | ');
}

/** The objective and noise settings in words, for logs and config files. */
export function describeTraining(o: FitOptions): Record<string, unknown> {
  return {
    epochs: o.epochs,
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    loss: o.objective.loss,
    beta: o.objective.beta,
    noise: formatNoise(o.noise),
    noiseRedraw: o.noiseRedraw,
    seed: o.seed,
  };
}

export type { LossParts };
