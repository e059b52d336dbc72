/**
 * The data-parallel training step (issue 22). The batch is cut into `shards` parts, a number the
 * run's spec fixes (training.shards), never the thread count: shard s holds rows
 * [s * q, min(rows, (s + 1) * q)) with q = ceil(rows / shards). Threads run whole shards' forward
 * and backward passes, each thread its own replica of the model over the same weights in shared
 * memory and its kernels serial; shard s writes its gradients into its own slice of one shared
 * buffer and draws its posterior noise from its own generator (the step's seed forked by s). The
 * step's gradient is the shards' gradients weighted by their shares of the batch, summed in shard
 * order (backend.sumShards), and its loss likewise. So a run gives the same bits on 1, 2, 16 or 64
 * threads, since no number depends on which thread ran which shard.
 *
 *   main thread:  copy the batch in -> wake the workers -> run shards 0, T, 2T, ... -> wait
 *   worker t:     wait -> run shards t, t + T, ... -> count itself done
 *   main thread:  grads = sum_s (rows_s / rows) * grads_s; loss parts likewise
 *
 * One shard (the default) is the plain step: fit calls the model directly. Where there are no
 * threads to start (a browser, the js backend, threads 1), every shard runs on the calling thread,
 * with the same bits. Objectives that look at the whole batch (free bits' per-dimension KL) see a
 * shard at a time.
 */
import type * as NodeWorkers from 'node:worker_threads';
import { VaekitError } from '../errors.js';
import { nodeBuiltins, startModuleWorker, type NodeBuiltins } from '../engine/node.js';
import { Random } from '../engine/random.js';
import type { Precision } from '../engine/precision.js';
import type { LossParts, Objective } from '../vae/objective.js';
import type { Trainable } from '../vae/trainable.js';
import type { VaeConfig } from '../vae/config.js';
import type { TextVaeConfig } from '../vae/text/config.js';
import { Vae } from '../vae/model.js';
import { TextVae } from '../vae/text/model.js';

/** The most shards a step may be cut into. */
export const MAX_SHARDS = 64;

/** What a worker needs to build its replica of the model. */
export type ModelRecipe = { kind: 'vae'; config: VaeConfig } | { kind: 'text'; config: TextVaeConfig };

/** The batch a step trains on: fit's Batch, or any rows of the same form. */
export interface ShardBatch {
  input: Float32Array;
  target: Float32Array;
  rows: number;
  labels: Int32Array | null;
  mask: Uint8Array | null;
}

/** Rows per shard of a batch of `rows` cut into `shards`: the last shard may hold fewer, and shards past the rows none. */
export function shardRows(rows: number, shards: number): number {
  return Math.ceil(rows / shards);
}

/** Throws unless `shards` is a whole number from 1 to MAX_SHARDS, and no more than the batch size. */
export function checkShards(shards: number, batchSize: number): void {
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new VaekitError(`The number of shards must be a whole number from 1 to ${MAX_SHARDS}, not ${shards}.`);
  }
  if (shards > batchSize) throw new VaekitError(`A batch of ${batchSize} cannot be cut into ${shards} shards: use at most ${batchSize}.`);
}

/** The recipe of a model fit trains: an image/table/series Vae or a TextVae. */
export function recipeOf(model: Trainable): ModelRecipe {
  if (model instanceof Vae) return { kind: 'vae', config: model.config };
  if (model instanceof TextVae) return { kind: 'text', config: model.config };
  throw new VaekitError('Training on several shards needs a Vae or a TextVae.');
}

/** The objectives by index, as the step's shared numbers carry them. */
const LOSSES: readonly Objective['loss'][] = ['elbo', 'iwae', 'notebook-mse'];

// The control words in shared memory.
const GENERATION = 0; // the step's number; the workers wait for it to change (-1: stop)
const DONE = 1; // workers done with the step
const FAILED = 2; // 1 when a worker's shard threw (its message in the error bytes)
const ROWS = 3;
const LOSS = 4;
const CONTROL_WORDS = 5;
// The step's numbers.
const SEED = 0;
const BETA = 1;
const FREE_BITS = 2;
const SAMPLES = 3;
const WORD_DROPOUT = 4;
const STEP_NUMBERS = 5;
const ERROR_BYTES = 2048;

/** The memory the threads share, made by the main thread and handed to every worker. */
export interface ShardMemory {
  control: Int32Array;
  step: Float64Array;
  /** Each shard's loss, recon and KL [shards, 3]. */
  parts: Float64Array;
  /** Each shard's gradients [shards, parameters]. */
  grads: Float32Array;
  input: Float32Array;
  target: Float32Array;
  labels: Int32Array | null;
  mask: Uint8Array | null;
  error: Uint8Array;
}

/** What a worker is started with (shard-worker.ts). */
export interface ShardWorkerData {
  recipe: ModelRecipe;
  backend: 'js' | 'native';
  precision: Precision;
  shards: number;
  threads: number;
  /** This worker's thread index (1 .. threads - 1; the main thread is 0). */
  index: number;
  batchSize: number;
  values: Float32Array;
  half: Uint16Array | null;
  memory: ShardMemory;
}

function allocate(bytes: number, shared: boolean): ArrayBuffer | SharedArrayBuffer {
  return shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

function shardMemory(model: Trainable, shards: number, batchSize: number, hasLabels: boolean, hasMask: boolean, shared: boolean): ShardMemory {
  const D = model.pixels;
  const P = model.params.count;
  return {
    control: new Int32Array(allocate(4 * CONTROL_WORDS, shared)),
    step: new Float64Array(allocate(8 * STEP_NUMBERS, shared)),
    parts: new Float64Array(allocate(8 * 3 * shards, shared)),
    grads: new Float32Array(allocate(4 * shards * P, shared)),
    input: new Float32Array(allocate(4 * batchSize * D, shared)),
    target: new Float32Array(allocate(4 * batchSize * D, shared)),
    labels: hasLabels ? new Int32Array(allocate(4 * batchSize, shared)) : null,
    mask: hasMask ? new Uint8Array(allocate(batchSize * D, shared)) : null,
    error: new Uint8Array(allocate(ERROR_BYTES, shared)),
  };
}

/** The step's objective from the shared numbers. */
function objectiveOf(memory: ShardMemory): Objective {
  const s = memory.step;
  return { loss: LOSSES[memory.control[LOSS]!]!, beta: s[BETA]!, freeBits: s[FREE_BITS]!, samples: s[SAMPLES]!, wordDropout: s[WORD_DROPOUT]! };
}

/**
 * Runs the shards of the current step that belong to thread `thread` of `threads` on `model`
 * (kernels serial); each writes its gradients and loss parts into its slots.
 */
export function runShards(model: Trainable, memory: ShardMemory, shards: number, thread: number, threads: number): void {
  const rows = memory.control[ROWS]!;
  const objective = objectiveOf(memory);
  const seed = memory.step[SEED]!;
  const q = shardRows(rows, shards);
  const D = model.pixels;
  const P = model.params.count;
  model.backend.serialKernels(true);
  try {
    for (let s = thread; s < shards && s * q < rows; s += threads) {
      const r0 = s * q;
      const r1 = Math.min(rows, r0 + q);
      model.params.writeGradsTo(memory.grads.subarray(s * P, (s + 1) * P));
      const rng = new Random(seed).fork(s);
      const p = model.run(
        memory.input.subarray(r0 * D, r1 * D), memory.target.subarray(r0 * D, r1 * D), r1 - r0, objective, rng, true,
        memory.labels === null ? null : memory.labels.subarray(r0, r1), memory.mask === null ? null : memory.mask.subarray(r0 * D, r1 * D),
      );
      memory.parts.set([p.loss, p.recon, p.kl], 3 * s);
    }
  } finally {
    model.params.writeGradsTo(null);
    model.backend.serialKernels(false);
  }
}

/** The worker loop (shard-worker.ts): waits for each step, runs its shards, counts itself done; returns when told to stop. */
export function serveShards(model: Trainable, data: ShardWorkerData): void {
  const { memory } = data;
  const control = memory.control;
  let seen = 0;
  for (;;) {
    Atomics.wait(control, GENERATION, seen);
    seen = Atomics.load(control, GENERATION);
    if (seen < 0) return;
    try {
      runShards(model, memory, data.shards, data.index, data.threads);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      memory.error.set(new TextEncoder().encode(message).subarray(0, ERROR_BYTES - 1));
      Atomics.store(control, FAILED, 1);
    }
    Atomics.add(control, DONE, 1);
    Atomics.notify(control, DONE);
  }
}

/** Node's modules where worker threads can share memory; null elsewhere (a browser: every shard on the calling thread). */
function workerModules(): NodeBuiltins | null {
  return typeof SharedArrayBuffer === 'undefined' ? null : nodeBuiltins();
}

export interface ShardedStepOptions {
  shards: number;
  /** Threads to run shards on, the calling one included (at most `shards` are used). */
  threads: number;
  batchSize: number;
  precision: Precision;
  hasLabels: boolean;
  hasMask: boolean;
}

/** The data-parallel step of one model: start it, run it once per batch, close it. */
export class ShardedStep {
  private readonly weights: Float64Array;

  private constructor(
    private readonly model: Trainable,
    private readonly memory: ShardMemory,
    private readonly shards: number,
    private readonly workers: NodeWorkers.Worker[],
  ) {
    this.weights = new Float64Array(shards);
  }

  /** Threads the step runs on (the calling one included). */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Shares the model's weights and starts threads - 1 workers, each with a replica of the model;
   * resolves when every replica is built. The model's precision must be set already.
   */
  static async start(model: Trainable, options: ShardedStepOptions): Promise<ShardedStep> {
    const { shards, batchSize, precision } = options;
    checkShards(shards, batchSize);
    const node = workerModules();
    const threads = node === null ? 1 : Math.max(1, Math.min(options.threads, shards));
    const memory = shardMemory(model, shards, batchSize, options.hasLabels, options.hasMask, threads > 1);
    if (threads === 1) return new ShardedStep(model, memory, shards, []);
    const recipe = recipeOf(model);
    const { values, half } = model.params.share();
    const workers: NodeWorkers.Worker[] = [];
    try {
      for (let index = 1; index < threads; index++) {
        const data: ShardWorkerData = {
          recipe, backend: model.backend.name === 'js' ? 'js' : 'native', precision, shards, threads, index, batchSize, values, half, memory,
        };
        workers.push(startModuleWorker(node!, import.meta.url, 'shard-worker', data));
      }
      await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', (err) => reject(new Error(`a training thread did not start: ${err.message}`)));
        w.once('exit', (code) => reject(new Error(`a training thread stopped as it started (exit code ${code})`)));
      })));
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      model.params.unshare();
      throw err;
    }
    for (const w of workers) w.removeAllListeners();
    return new ShardedStep(model, memory, shards, workers);
  }

  /**
   * Forward and backward over the batch's shards: the step's gradients into the model's
   * params.grads, its loss parts returned (the shards' weighted by their rows). `seed` draws every
   * shard's posterior noise.
   */
  run(batch: ShardBatch, objective: Objective, seed: number): LossParts {
    const { memory, model, shards } = this;
    const { rows } = batch;
    const D = model.pixels;
    memory.input.set(batch.input.subarray(0, rows * D));
    memory.target.set(batch.target.subarray(0, rows * D));
    if (memory.labels !== null && batch.labels !== null) memory.labels.set(batch.labels.subarray(0, rows));
    if (memory.mask !== null && batch.mask !== null) memory.mask.set(batch.mask.subarray(0, rows * D));
    const control = memory.control;
    control[ROWS] = rows;
    control[LOSS] = LOSSES.indexOf(objective.loss);
    memory.step.set([seed, objective.beta, objective.freeBits, objective.samples, objective.wordDropout]);
    const threads = this.threads;
    if (threads > 1) {
      Atomics.store(control, DONE, 0);
      Atomics.add(control, GENERATION, 1);
      Atomics.notify(control, GENERATION);
    }
    let failure: unknown = null;
    try {
      runShards(model, memory, shards, 0, threads);
    } catch (err) {
      failure = err;
    }
    for (let done = Atomics.load(control, DONE); threads > 1 && done < threads - 1; done = Atomics.load(control, DONE)) {
      Atomics.wait(control, DONE, done);
    }
    if (failure !== null) throw failure;
    if (Atomics.load(control, FAILED) !== 0) {
      const bytes = memory.error.slice();
      const message = new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0) < 0 ? bytes.length : bytes.indexOf(0)));
      throw new VaekitError(`A training thread failed: ${message}`);
    }
    // The shards' shares of the batch, and the step's gradient and loss from theirs in shard order.
    const q = shardRows(rows, shards);
    const active = Math.ceil(rows / q);
    const parts = { loss: 0, recon: 0, kl: 0 };
    for (let s = 0; s < active; s++) {
      const w = (Math.min(rows, (s + 1) * q) - s * q) / rows;
      this.weights[s] = w;
      parts.loss += w * memory.parts[3 * s]!;
      parts.recon += w * memory.parts[3 * s + 1]!;
      parts.kl += w * memory.parts[3 * s + 2]!;
    }
    model.backend.sumShards(memory.grads, this.weights, active, model.params.count, model.params.grads);
    return parts;
  }

  /** Stops the workers and gives the model its own weights' memory back. */
  async close(): Promise<void> {
    if (this.workers.length > 0) {
      Atomics.store(this.memory.control, GENERATION, -1);
      Atomics.notify(this.memory.control, GENERATION);
      await Promise.all(this.workers.map((w) => new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        // A worker stuck in a shard would never see the stop word.
        setTimeout(() => { void w.terminate(); }, 5000).unref();
      })));
    }
    this.model.params.unshare();
  }
}
