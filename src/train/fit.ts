/**
 * The training loop (async, like tfjs-layers' fit): each epoch shuffles the training set, and for
 * each batch gathers it, binarizes and corrupts it (data/batches.ts), runs forward and backward
 * through the VAE and takes an Adam step. Callbacks see every epoch and batch (the CLI's progress
 * bar, the metrics log, the studio's live curves); `validate` scores the model after each epoch;
 * an AbortSignal stops it after the current step; it yields to the event loop so a server keeps
 * serving while it trains. fit returns the History of its epochs.
 */
import { parsePrecision, resolvePrecision, type Precision } from '../engine/precision.js';
import { Random } from '../engine/random.js';
import { hasMask, type Dataset } from '../data/dataset.js';
import { DEFAULT_NOISE, formatNoise, type NoiseSpec } from '../data/transforms/noise.js';
import { checkMissingRate } from '../data/transforms/missing.js';
import { Adam } from '../nn/adam.js';
import { fmt } from '../progress.js';
import { Batcher, bucketedOrder, checkTransformsFit, shuffledOrder } from '../data/batches.js';
import { checkBufferSize } from '../vae/model.js';
import { resolveObjective, type LossName, type LossParts, type Objective } from '../vae/objective.js';
import { formatKlSchedule, klFactor, NO_WARMUP, type KlSchedule } from './kl-schedule.js';
import { VaekitError } from '../errors.js';
import { Checkpointer, type Checkpoint, type CheckpointOptions } from './checkpoint.js';
import { CollapseWatch, IMAGE_REMEDIES, TEXT_REMEDIES } from './collapse.js';
import { EarlyStopping } from './early-stopping.js';
import { HealthGuard } from './health.js';
import { AggressiveTraining, encoderParameterCount } from './aggressive.js';
import { checkShards, ShardedStep, type ShardBatch } from './shards.js';

// The guards' limits, where they were before the guards had files of their own.
export { MAX_REFUSED_STEPS } from './health.js';
export { COLLAPSE_NATS } from './collapse.js';

export type NoiseRedraw = 'epoch' | 'once';

export type { Trainable, ValidationParts } from '../vae/trainable.js';
import type { Trainable, ValidationParts } from '../vae/trainable.js';

export interface FitOptions<M extends Trainable = Trainable> {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** When set, the learning rate decays exponentially from learningRate (first epoch) to this (last epoch). */
  learningRateFinal?: number;
  objective: Objective;
  /** KL warm-up: a factor on beta per step (kl-schedule.ts). */
  klWarmup: KlSchedule;
  /** Dynamic binarization: every value resampled as Bernoulli(value) each epoch (before the noise). */
  binarize: boolean;
  noise: NoiseSpec;
  /**
   * Missing-point injection (Donut; data/transforms/missing.ts): the chance that each observed value
   * of a training batch is made missing, drawn anew every epoch. Needs data with a mask (series); 0: off.
   */
  missingRate: number;
  /** 'epoch' draws new noise every epoch (default); 'once' keeps each example's noise fixed, like the notebook. */
  noiseRedraw: NoiseRedraw;
  /** Drives shuffling, noise and posterior samples (the weights are seeded when the Vae is built). */
  seed: number;
  /**
   * 'bf16': mixed precision (bf16 products, fp32 weights, Adam and losses; engine/precision.ts),
   * where the backend runs bf16 natively; elsewhere fit warns once and trains in fp32. 'fp32' by default.
   */
  precision: Precision;
  /**
   * Cut each batch into this many shards, each a forward and backward pass of its own, run on
   * `threads` threads at once, their gradients summed in shard order (shards.ts): the same bits on
   * any number of threads. 1 (the default): the whole batch in one pass.
   */
  shards: number;
  /** Threads for the shards (the calling one included); by default the backend's (VAEKIT_THREADS, else every core). */
  threads?: number;
  /** Scores the model after each epoch (e.g. eval/evaluate.ts' validator); its parts become val_loss etc. */
  validate?(vae: M): ValidationParts;
  /** Has the threads of a streamed validation set start on validate's pass (prefetchEvaluation), called as each epoch's training pass nears its end. */
  prefetchValidation?(): void;
  /**
   * He et al. 2019's aggressive inference-network training (train/aggressive.ts): needs `validate`
   * to give the mutual information. Off by default.
   */
  aggressive?: boolean;
  callbacks?: Callback<M>[];
  /** Stops training after the current step when aborted. */
  signal?: AbortSignal;
  /** Yield to the event loop when this many milliseconds have passed since the last yield (default 25). */
  yieldEveryMs?: number;
  /** Save checkpoints (train/checkpoint.ts); when aborted, fit saves one where it stopped. */
  checkpoint?: CheckpointOptions;
  /** Go on from a checkpoint of this model, data and options (the same bits as never stopping). */
  resumeFrom?: Checkpoint;
  /**
   * Stop when the validation loss has not improved for `patience` epochs, and keep the best
   * epoch's weights (needs `validate`).
   */
  earlyStopping?: { patience: number };
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
  /** Text models' validation measures (ValidationParts). */
  valPerplexity?: number;
  valMi?: number;
  valActiveUnits?: number;
  seconds: number;
  /** Training examples per second. */
  imagesPerSecond: number;
}

export interface History {
  /** One record per completed epoch. */
  epochs: EpochRecord[];
  /** True when the signal stopped training before the last epoch ended. */
  aborted: boolean;
  /** With early stopping: the epoch whose weights the model holds (the best validation loss), when it stopped before the last epoch. */
  stoppedEarlyAt?: number;
  /** Steps taken in all. */
  steps: number;
}

/** What callbacks are told about the run. */
export interface TrainContext<M extends Trainable = Trainable> {
  vae: M;
  options: FitOptions<M>;
  /** Batches per epoch. */
  steps: number;
}

/** Hooks called in order at each point of training; any may be async (fit awaits it). */
export interface Callback<M extends Trainable = Trainable> {
  onTrainBegin?(context: TrainContext<M>): void | Promise<void>;
  onEpochBegin?(epoch: number, context: TrainContext<M>): void | Promise<void>;
  /** After each step, with the running means of the epoch so far. */
  onBatchEnd?(step: number, running: LossParts, context: TrainContext<M>): void | Promise<void>;
  /** After each epoch (validation included). */
  onEpochEnd?(record: EpochRecord, context: TrainContext<M>): void | Promise<void>;
  onTrainEnd?(history: History, context: TrainContext<M>): void | Promise<void>;
  /** A line worth the user's attention (a skipped step, a collapsed posterior). */
  onWarning?(message: string, context: TrainContext<M>): void | Promise<void>;
}

export interface FitOptionsInput<M extends Trainable = Trainable> extends Partial<Omit<FitOptions<M>, 'objective'>> {
  objective?: Partial<Objective>;
}

export const FIT_DEFAULTS: Readonly<Omit<FitOptions, 'validate' | 'callbacks' | 'signal' | 'yieldEveryMs' | 'checkpoint' | 'resumeFrom' | 'threads'>> = {
  epochs: 10,
  batchSize: 128,
  learningRate: 1e-3,
  objective: { loss: 'elbo', beta: 1, freeBits: 0, samples: 1, wordDropout: 0 },
  klWarmup: NO_WARMUP,
  binarize: false,
  noise: DEFAULT_NOISE,
  missingRate: 0,
  noiseRedraw: 'epoch',
  seed: 0,
  precision: 'fp32',
  shards: 1,
};

/** Defaults filled in and every value checked. */
export function resolveFitOptions<M extends Trainable = Trainable>(input: FitOptionsInput<M> = {}): FitOptions<M> {
  const o: FitOptions<M> = {
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
  if (o.klWarmup.kind !== 'none' && o.objective.loss !== 'elbo') {
    throw new VaekitError(`A KL warm-up scales the elbo objective's KL term; ${o.objective.loss} has none to warm up.`);
  }
  if (o.noiseRedraw !== 'epoch' && o.noiseRedraw !== 'once') {
    throw new VaekitError(`Noise redraw must be "epoch" or "once", not "${String(o.noiseRedraw)}".`);
  }
  checkMissingRate(o.missingRate);
  parsePrecision(o.precision);
  checkShards(o.shards, o.batchSize);
  if (o.threads !== undefined) positiveInt(o.threads, 'The number of threads');
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) {
    throw new VaekitError(`The seed must be an integer from 0 to 4294967295, not ${o.seed}.`);
  }
  return o;
}

/** Throws when the model cannot train on the set with these options (before anything runs). */
export function checkFits(vae: Trainable, train: Dataset, options: FitOptions): void {
  const shape = train.shape;
  const modelShape = vae.inputShape;
  if (shape.length !== modelShape.length || shape.some((d, i) => d !== modelShape[i])) {
    throw new VaekitError(`The model takes examples of shape [${modelShape.join(', ')}] but ${train.source} has [${shape.join(', ')}].`);
  }
  if (train.count === 0) throw new VaekitError(`${train.source} has no training examples.`);
  checkBufferSize(options.batchSize, vae.pixels, `A batch of ${options.batchSize} examples of ${vae.pixels} values`, 'lower training.batchSize or use smaller examples');
  if (vae.classes > 0 && train.labels === null) throw new VaekitError(`A conditional model needs labels, and ${train.source} has none.`);
  vae.checkObjective(options.objective, options.batchSize);
  checkTransformsFit(train, options);
  if (options.missingRate > 0 && !hasMask(train)) {
    throw new VaekitError(`Missing-point injection (objective.missingRate) applies to time series (data with a mask of missing values), and ${train.source} has none.`);
  }
  if (hasMask(train) && options.objective.loss === 'notebook-mse') {
    throw new VaekitError(`${train.source} has missing values, which the notebook's squared error cannot leave out: use the elbo or iwae loss.`);
  }
}

/**
 * Trains the model in place; resolves to the history of its epochs. The loop is here; the guards
 * around it each keep their own state, which a checkpoint holds and a resume restores: the health
 * guard (health.ts: skips non-finite steps, halves the learning rate), early stopping
 * (early-stopping.ts), the posterior-collapse note (collapse.ts) and the checkpointer
 * (checkpoint.ts: when to save). The loop's own state is the position, the generators, the
 * epoch's running sums, the history, the weights and Adam's.
 */
export async function fit<M extends Trainable>(vae: M, train: Dataset, input: FitOptionsInput<M> = {}): Promise<History> {
  const options = resolveFitOptions<M>(input);
  checkFits(vae, train, options);
  const callbacks = options.callbacks ?? [];
  const yieldEveryMs = options.yieldEveryMs ?? 25;
  const { batchSize, objective } = options;
  const root = new Random(options.seed);
  const shuffleRng = root.fork(1);
  const sampleRng = root.fork(2);
  const noiseSeed = root.fork(3).nextUint32();
  const missingSeed = root.fork(5).nextUint32();
  const optimizer = new Adam(vae.params, { learningRate: options.learningRate });
  const batcher = new Batcher(train, batchSize, vae.backend);
  const innerBatcher = options.aggressive === true ? new Batcher(train, batchSize, vae.backend) : null;
  const steps = batcher.steps;
  const conditional = vae.classes > 0;
  // The objective of each step: the configured one with beta times the warm-up factor.
  const stepObjective: Objective = { ...objective };
  vae.reserve(batchSize);
  const context: TrainContext<M> = { vae, options, steps };
  const history: History = { epochs: [], aborted: false, steps: 0 };

  // The guards, each with its part of the training state.
  const health = new HealthGuard();
  const collapse = new CollapseWatch(options, train.text !== undefined ? TEXT_REMEDIES : IMAGE_REMEDIES, vae.latent === 0);
  const early = options.earlyStopping === undefined ? null : new EarlyStopping(options.earlyStopping.patience, vae, options.validate != null);
  const checkpointer = new Checkpointer(options.checkpoint);
  const aggressive = options.aggressive === true ? new AggressiveTraining(root.fork(4).nextUint32()) : null;
  const encoderPart = aggressive === null ? null : encoderParameterCount(vae.params);
  if (aggressive !== null && options.validate === undefined) throw new VaekitError('Aggressive training ends by the validation mutual information, and this run has no validation.');

  // Where this call starts: the beginning, or a checkpoint's position (restored below).
  let firstEpoch = 1;
  let firstStep = 0;
  let resumedTotals = { loss: 0, recon: 0, kl: 0, seen: 0 };
  if (options.resumeFrom !== undefined) {
    const c = options.resumeFrom;
    checkResumable(c, vae, steps);
    vae.params.values.set(c.params);
    optimizer.m.set(c.adamM);
    optimizer.v.set(c.adamV);
    optimizer.step = c.state.steps;
    history.steps = c.state.steps;
    history.epochs.push(...c.state.history.map((r) => ({ ...r })));
    shuffleRng.setState(c.state.shuffleAtEpochStart);
    sampleRng.setState(c.state.sample);
    firstEpoch = c.state.epoch + 1;
    firstStep = c.state.stepInEpoch;
    resumedTotals = { ...c.state.totals };
    health.restore(c);
    collapse.restore(c);
    early?.restore(c);
    aggressive?.restore(c);
  }
  let shuffleAtEpochStart = shuffleRng.getState();
  // Text: batches of similar lengths (a batch runs as many steps as its longest example).
  const drawOrder = (rng: Random): Uint32Array => (train.text === undefined ? shuffledOrder(train.count, rng) : bucketedOrder(train.text.lengths, batchSize, rng));
  /** The next epoch's order, drawn AHEAD_STEPS before an epoch's end for a streamed set (its rows read ahead), or null. */
  let ahead: Uint32Array | null = null;
  const total = { loss: 0, recon: 0, kl: 0 };
  let seen = 0;
  /** The training state after step `stepInEpoch` of epoch `epoch + 1` (0: at epoch `epoch`'s end): the loop's, then each guard's. */
  const snapshot = (epoch: number, stepInEpoch: number): Omit<Checkpoint, 'run'> => {
    const stopping = early?.snapshot() ?? { best: null, bestParams: null };
    return {
      state: {
        epoch, stepInEpoch, steps: history.steps, shuffleAtEpochStart, sample: sampleRng.getState(),
        totals: stepInEpoch === 0 ? { loss: 0, recon: 0, kl: 0, seen: 0 } : { ...total, seen }, history: history.epochs.map((r) => ({ ...r })),
        ...health.snapshot(), ...collapse.snapshot(), best: stopping.best, ...aggressive?.snapshot(),
      },
      params: vae.params.values.slice(), adamM: optimizer.m.slice(), adamV: optimizer.v.slice(), bestParams: stopping.bestParams,
    };
  };
  let lastYield = performance.now();
  const warn = async (message: string | null): Promise<void> => {
    if (message === null) return;
    for (const c of callbacks) await c.onWarning?.(message, context);
  };

  for (const c of callbacks) await c.onTrainBegin?.(context);
  const precision = resolvePrecision(vae.backend, options.precision);
  await warn(precision.note);
  vae.setPrecision(precision.precision);
  let sharded: ShardedStep | null = null;
  /** One step's forward and backward: params.grads and the loss parts (several shards: their posterior noise from one draw of sampleRng). */
  const trainStep = (b: ShardBatch): LossParts => (sharded === null
    ? vae.run(b.input, b.target, b.rows, stepObjective, sampleRng, true, conditional ? b.labels : null, b.mask)
    : sharded.run(b, stepObjective, sampleRng.nextUint32()));
  try {
    if (options.shards > 1) {
      sharded = await ShardedStep.start(vae, {
        shards: options.shards, threads: options.threads ?? vae.backend.info().threads, batchSize, precision: precision.precision,
        hasLabels: conditional, hasMask: hasMask(train),
      });
    }
    for (let epoch = firstEpoch; epoch <= options.epochs && !history.aborted; epoch++) {
      for (const c of callbacks) await c.onEpochBegin?.(epoch, context);
      const started = performance.now();
      optimizer.learningRate = health.epochBegin(learningRateAt(options, epoch));
      shuffleAtEpochStart = shuffleRng.getState();
      const drawn = drawOrder(shuffleRng);
      // The order drawn ahead (the same draw, from a copy of the generator), whose rows the threads
      // are reading: the generator is still drawn from, so its state stays what a checkpoint
      // expects, and the two are compared rather than trusted to agree.
      const order = ahead !== null && sameOrder(ahead, drawn) ? ahead : drawn;
      ahead = null;
      const transforms = {
        binarize: options.binarize, noise: options.noise, seed: noiseSeed,
        binarizeKey: epoch, noiseKey: options.noiseRedraw === 'once' ? 0 : epoch,
        ...(options.missingRate > 0 ? { missing: { rate: options.missingRate, seed: missingSeed, key: epoch } } : {}),
      };
      const fromStep = epoch === firstEpoch ? firstStep : 0;
      const sums = epoch === firstEpoch ? resumedTotals : { loss: 0, recon: 0, kl: 0, seen: 0 };
      [total.loss, total.recon, total.kl, seen] = [sums.loss, sums.recon, sums.kl, sums.seen];
      let step = fromStep;
      for (const batch of batcher.pass(order, transforms, fromStep)) {
        // Streamed data. Once this pass's first chunks are read, the threads start on the validation
        // pass (whose chunks take longer to read than the last steps take); when they have every
        // chunk of this pass in hand, on the next epoch's first rows.
        if (step === Math.min(AHEAD_STEPS, steps - 1)) options.prefetchValidation?.();
        if (step === Math.max(0, steps - AHEAD_STEPS) && epoch < options.epochs && train.streamed !== undefined) {
          const copy = new Random(0);
          copy.setState(shuffleRng.getState());
          ahead = drawOrder(copy);
          train.streamed.prefetch(ahead, batchSize);
        }
        stepObjective.beta = objective.beta * klFactor(options.klWarmup, epoch - 1 + (step + 1) / steps);
        if (aggressive?.on === true) {
          // The encoder first, on other batches of this epoch (the inner loop of train/aggressive.ts).
          const losses: number[] = [];
          do {
            const inner = innerBatcher!.pass(order, transforms, aggressive.rng.int(steps)).next().value!;
            const p = trainStep(inner);
            // A non-finite inner step ends the inner loop unapplied; the health guard judges the outer steps.
            if (!Number.isFinite(p.loss) || vae.backend.countNonFinite(vae.params.grads, vae.params.count) > 0) break;
            optimizer.updateRange(vae.backend, encoderPart!.offset, encoderPart!.count, ++aggressive.encoderSteps);
            losses.push(p.loss);
          } while (AggressiveTraining.goOn(losses));
        }
        const parts = trainStep(batch);
        step++;
        history.steps++;
        // The plain step's update checks its gradients as it applies them (nothing when one is not finite).
        const finite = Number.isFinite(parts.loss) &&
          (aggressive === null ? optimizer.update(vae.backend) : vae.backend.countNonFinite(vae.params.grads, vae.params.count) === 0);
        const refused = health.refuse(finite, optimizer, epoch, step);
        if (refused !== null) {
          await warn(refused);
          continue;
        }
        if (aggressive !== null) {
          // He et al.'s two optimizers: the decoder alone while the phase is on, then both, each counting its own steps.
          const { count } = encoderPart!;
          if (!aggressive.on) optimizer.updateRange(vae.backend, 0, count, ++aggressive.encoderSteps);
          optimizer.updateRange(vae.backend, count, vae.params.count - count, ++aggressive.decoderSteps);
        }
        total.loss += parts.loss * batch.rows;
        total.recon += parts.recon * batch.rows;
        total.kl += parts.kl * batch.rows;
        seen += batch.rows;
        const running = { loss: total.loss / seen, recon: total.recon / seen, kl: total.kl / seen };
        for (const c of callbacks) await c.onBatchEnd?.(step, running, context);
        if (performance.now() - lastYield >= yieldEveryMs) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
        if (options.signal?.aborted === true) {
          history.aborted = true;
          await checkpointer.save(snapshot(epoch - 1, step));
          break;
        }
        if (checkpointer.dueAfterStep(step, steps)) await checkpointer.save(snapshot(epoch - 1, step));
      }
      if (history.aborted) break;
      if (!Number.isFinite(total.loss)) {
        throw new VaekitError(`Training diverged in epoch ${epoch} (the loss is not finite); try a lower learning rate.`);
      }
      const seconds = (performance.now() - started) / 1000;
      const record: EpochRecord = {
        epoch,
        loss: total.loss / seen,
        recon: total.recon / seen,
        kl: total.kl / seen,
        // The KL weight at the epoch's last step.
        beta: objective.beta * klFactor(options.klWarmup, epoch),
        seconds,
        imagesPerSecond: seen / seconds,
      };
      if (options.validate) {
        const val = options.validate(vae);
        record.valLoss = val.loss;
        record.valRecon = val.recon;
        record.valKl = val.kl;
        if (val.perplexity !== undefined) record.valPerplexity = val.perplexity;
        if (val.mi !== undefined) record.valMi = val.mi;
        if (val.activeUnits !== undefined) record.valActiveUnits = val.activeUnits;
      }
      await warn(aggressive?.epochEnd(epoch, record.valMi) ?? null);
      history.epochs.push(record);
      shuffleAtEpochStart = shuffleRng.getState();
      const stop = early?.epochEnd(epoch, record.valLoss, options.epochs) ?? false;
      // The last epoch's collapse, if any, is told at the end.
      if (epoch < options.epochs) await warn(collapse.epochEnd(history.epochs));
      if (checkpointer.dueAfterEpoch(epoch, options.epochs)) await checkpointer.save(snapshot(epoch, 0));
      for (const c of callbacks) await c.onEpochEnd?.(record, context);
      if (stop) {
        history.stoppedEarlyAt = early!.keepBest(epoch)!;
        await warn(early!.stoppedMessage());
        break;
      }
    }
  } finally {
    await sharded?.close();
    vae.setPrecision('fp32');
  }
  if (early !== null && history.stoppedEarlyAt === undefined && !history.aborted) {
    // Trained to the end: the best epoch's weights all the same.
    const kept = early.keepBest(options.epochs);
    if (kept !== null) history.stoppedEarlyAt = kept;
  }
  if (!history.aborted) await warn(collapse.trainEnd(history.epochs));
  for (const c of callbacks) await c.onTrainEnd?.(history, context);
  return history;
}

/** Throws when a checkpoint does not belong to this model and data (its sizes disagree). */
function checkResumable(c: Checkpoint, vae: Trainable, steps: number): void {
  const n = vae.params.count;
  if (c.params.length !== n || c.adamM.length !== n || c.adamV.length !== n) {
    throw new VaekitError(`The checkpoint holds ${c.params.length} parameters but this model has ${n}: it is another model's.`);
  }
  const s = c.state;
  if (!(Number.isInteger(s.epoch) && s.epoch >= 0 && Number.isInteger(s.stepInEpoch) && s.stepInEpoch >= 0 && s.stepInEpoch <= steps)) {
    throw new VaekitError(`The checkpoint stopped at step ${s.stepInEpoch} of epoch ${s.epoch + 1}, which this data's ${steps} steps per epoch do not have.`);
  }
}

/** Lets pending I/O and timers run (setImmediate in Node, a zero timeout in a browser). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

/** The learning rate of an epoch (1-based) under the exponential decay, if any. */
export function learningRateAt(o: Pick<FitOptions, 'learningRate' | 'learningRateFinal' | 'epochs'>, epoch: number): number {
  if (o.learningRateFinal === undefined || o.epochs === 1) return o.learningRate;
  return o.learningRate * (o.learningRateFinal / o.learningRate) ** ((epoch - 1) / (o.epochs - 1));
}

/**
 * The names of the three running numbers in logs and progress bars: the loss, its reconstruction
 * part and the KL. The notebook's loss is a squared error with no KL term, so its columns say so.
 */
export function lossColumns(loss: LossName = 'elbo'): { loss: string; recon: string; kl: string } {
  return loss === 'notebook-mse'
    ? { loss: 'mse', recon: 'mse', kl: 'kl (not trained)' }
    : { loss: loss === 'iwae' ? 'iwae loss' : 'loss', recon: 'recon', kl: 'kl' };
}

/** An epoch's record as one log line: "Epoch 3/10 | 2.1s | loss ... | val_loss ...". */
export function formatEpoch(r: EpochRecord, epochs: number, loss: LossName = 'elbo'): string {
  const c = lossColumns(loss);
  const parts = [`Epoch ${r.epoch}/${epochs}`, `${r.seconds.toFixed(1)}s`, `${c.loss} ${fmt(r.loss)}`];
  // The notebook's loss is its reconstruction term: one column for both.
  if (loss !== 'notebook-mse') parts.push(`${c.recon} ${fmt(r.recon)}`);
  parts.push(`${c.kl} ${fmt(r.kl)}`);
  if (r.valLoss !== undefined) {
    parts.push(`val_${c.loss} ${fmt(r.valLoss)}`);
    if (loss !== 'notebook-mse') parts.push(`val_${c.recon} ${fmt(r.valRecon ?? Number.NaN)}`);
    parts.push(`val_${c.kl} ${fmt(r.valKl ?? Number.NaN)}`);
    if (r.valPerplexity !== undefined) parts.push(`val_ppl ${fmt(r.valPerplexity)}`);
    if (r.valMi !== undefined) parts.push(`val_mi ${fmt(r.valMi)}`);
    if (r.valActiveUnits !== undefined) parts.push(`val_au ${r.valActiveUnits}`);
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
    ...(o.objective.wordDropout > 0 ? { wordDropout: o.objective.wordDropout } : {}),
    samples: o.objective.samples,
    klWarmup: formatKlSchedule(o.klWarmup),
    binarize: o.binarize,
    noise: formatNoise(o.noise),
    ...(o.missingRate > 0 ? { missingRate: o.missingRate } : {}),
    noiseRedraw: o.noiseRedraw,
    seed: o.seed,
    precision: o.precision,
    ...(o.shards > 1 ? { shards: o.shards } : {}),
    earlyStoppingPatience: o.earlyStopping?.patience ?? null,
    ...(o.aggressive === true ? { aggressive: true } : {}),
  };
}

/**
 * About as many chunks as a cursor keeps ahead (pool.ts): a streamed pass's first rows are read by
 * this step, and its last are in hand this many steps before its end.
 */
const AHEAD_STEPS = 8;

/** Whether two orders of examples are the same. */
function sameOrder(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
