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
import { resolveObjective, type Objective } from '../vae/objective.js';
import { binarize } from '../data/binarize.js';
import { fmt, SILENT, type ProgressReporter } from './progress.js';
import { formatKlSchedule, klFactor, NO_WARMUP, type KlSchedule } from './kl-schedule.js';
import { VaekitError } from '../errors.js';

export type NoiseRedraw = 'epoch' | 'once';

export interface FitOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** When set, the learning rate decays exponentially from learningRate (first epoch) to this (last epoch). */
  learningRateFinal?: number;
  objective: Objective;
  /** KL warm-up: a factor on beta per step (kl-schedule.ts). */
  klWarmup: KlSchedule;
  /** Dynamic binarization: every pixel resampled as Bernoulli(intensity) each epoch (before the noise). */
  binarize: boolean;
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
  /** The KL weight at the epoch's last step (beta times the warm-up factor). */
  beta: number;
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
  objective: { loss: 'elbo', beta: 1, freeBits: 0, samples: 1 },
  klWarmup: NO_WARMUP,
  binarize: false,
  noise: { kind: 'gaussian', factor: 0.2 },
  noiseRedraw: 'epoch',
  seed: 0,
};

/** Defaults filled in and every value checked. */
export function resolveFitOptions(input: FitOptionsInput = {}): FitOptions {
  const o: FitOptions = {
    ...FIT_DEFAULTS,
    ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
    objective: resolveObjective({ ...FIT_DEFAULTS.objective, ...input.objective }),
  };
  const positiveInt = (v: number, what: string): void => {
    if (!Number.isInteger(v) || v < 1) throw new VaekitError(`${what} must be a positive integer, not ${v}.`);
  };
  positiveInt(o.epochs, 'The number of epochs');
  positiveInt(o.batchSize, 'The batch size');
  for (const lr of [o.learningRate, o.learningRateFinal ?? o.learningRate]) {
    if (!(lr > 0) || !Number.isFinite(lr)) throw new VaekitError(`The learning rate must be a positive number, not ${lr}.`);
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
  const conditional = vae.classes > 0;
  if (conditional && train.labels === null) throw new VaekitError('A conditional model needs labelled training images.');
  const labels = new Uint8Array(conditional ? batchSize : 0);
  // The objective of each step: the configured one with beta times the warm-up factor.
  const stepObjective: Objective = { ...objective };
  vae.reserve(batchSize);
  const history: EpochRecord[] = [];

  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const started = performance.now();
    optimizer.learningRate = learningRateAt(options, epoch);
    const order = shuffledOrder(train.count, shuffleRng);
    const epochKey = options.noiseRedraw === 'once' ? 0 : epoch;
    const total = { loss: 0, recon: 0, kl: 0 };
    let seen = 0;
    progress.startEpoch(epoch, options.epochs, steps);
    for (let step = 0; step < steps; step++) {
      const start = step * batchSize;
      const rows = Math.min(batchSize, train.count - start);
      const images = order.subarray(start, start + rows);
      gatherBatch(train.images, pixels, order, start, rows, clean);
      if (options.binarize) binarize(clean, clean, rows, pixels, images, noiseSeed, epoch);
      applyNoise(options.noise, clean, noisy, rows, pixels, images, noiseSeed, epochKey);
      if (conditional) for (let r = 0; r < rows; r++) labels[r] = train.labels![images[r]!]!;
      stepObjective.beta = objective.beta * klFactor(options.klWarmup, epoch - 1 + (step + 1) / steps);
      const parts = vae.run(noisy, clean, rows, stepObjective, sampleRng, true, conditional ? labels : null);
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
      beta: stepObjective.beta,
      seconds,
      imagesPerSecond: seen / seconds,
    };
    if (options.validation) {
      const val = evaluateObjective(vae, options.validation, objective, { noise: options.noise, binarize: options.binarize, seed: options.seed });
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

/** The learning rate of an epoch (1-based) under the exponential decay, if any. */
export function learningRateAt(o: FitOptions, epoch: number): number {
  if (o.learningRateFinal === undefined || o.epochs === 1) return o.learningRate;
  return o.learningRate * (o.learningRateFinal / o.learningRate) ** ((epoch - 1) / (o.epochs - 1));
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
    learningRateFinal: o.learningRateFinal ?? o.learningRate,
    loss: o.objective.loss,
    beta: o.objective.beta,
    freeBits: o.objective.freeBits,
    samples: o.objective.samples,
    klWarmup: formatKlSchedule(o.klWarmup),
    binarize: o.binarize,
    noise: formatNoise(o.noise),
    noiseRedraw: o.noiseRedraw,
    seed: o.seed,
  };
}

