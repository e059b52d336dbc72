/**
 * The one batching loop of training, evaluation and scoring: examples gathered (in a given order)
 * into reused float buffers, binarized and corrupted by the noise model, with their labels and,
 * for data with missing values, their mask (missing-point injection may add to it in training).
 *
 *   dataset --gather--> clean [rows, size] --binarize?--> target --noise--> input [rows, size]
 *                       mask [rows, size] --inject missing?--> mask; input 0 where it is 0
 */
import type { Backend } from '../engine/backend.js';
import { getBackend } from '../engine/index.js';
import type { Random } from '../engine/random.js';
import { VaekitError } from '../errors.js';
import { hasMask, isImageShape, type Dataset } from './dataset.js';
import { binarize } from './transforms/binarize.js';
import { injectMissing, type MissingInjection } from './transforms/missing.js';
import { applyNoise, checkNoiseFits, type NoiseSpec, type ValueRange } from './transforms/noise.js';

/** What happens to each batch after it is gathered. */
export interface BatchTransforms {
  /** Dynamic binarization: each value becomes 1 with probability equal to it (images only). */
  binarize: boolean;
  noise: NoiseSpec;
  /** Seed of the per-example binarization and noise generators. */
  seed: number;
  /** Binarization's draw key (0: one fixed draw; the trainer passes the epoch). */
  binarizeKey: number;
  /** The noise's draw key (0: the same noise every pass). */
  noiseKey: number;
  /** Missing-point injection (series with a mask, training only); absent: none. */
  missing?: MissingInjection;
}

export interface Batch {
  /** The clean (binarized when asked) examples, [rows, size]: the decoder's target. */
  target: Float32Array;
  /** The corrupted examples, [rows, size]: the encoder's input. */
  input: Float32Array;
  rows: number;
  /** Position of the first row in the pass. */
  start: number;
  /** The dataset index of each row. */
  indices: Uint32Array;
  /** The labels of the rows, or null for an unlabelled set. */
  labels: Int32Array | null;
  /** Which values were observed [rows, size] (1 observed, 0 missing; the input holds 0 there), or null for a set without a mask. */
  mask: Uint8Array | null;
}

/** Whether a dataset's values are images in [0, 1] or real-valued features. */
export function valueRange(set: Dataset): ValueRange {
  return isImageShape(set.shape) ? 'unit' : 'real';
}

/** Throws when the transforms do not fit the dataset (binarizing or salt-and-pepper on features). */
export function checkTransformsFit(set: Dataset, t: Pick<BatchTransforms, 'binarize' | 'noise'>): void {
  if (t.binarize && valueRange(set) === 'real') {
    throw new VaekitError('Binarization needs values in [0, 1] (images); features are real numbers.');
  }
  checkNoiseFits(t.noise, valueRange(set));
}

/** Buffers for batches of up to batchSize examples of one dataset, reused from pass to pass. */
export class Batcher {
  readonly batchSize: number;
  private readonly target: Float32Array;
  private readonly input: Float32Array;
  private readonly indices: Uint32Array;
  private readonly labels: Int32Array | null;
  private readonly mask: Uint8Array | null;

  constructor(readonly set: Dataset, batchSize: number, private readonly backend: Backend = getBackend()) {
    this.batchSize = batchSize;
    this.target = new Float32Array(batchSize * set.size);
    this.input = new Float32Array(batchSize * set.size);
    this.indices = new Uint32Array(batchSize);
    this.labels = set.labels === null ? null : new Int32Array(batchSize);
    this.mask = hasMask(set) ? new Uint8Array(batchSize * set.size) : null;
  }

  /** Number of batches in one pass over the set. */
  get steps(): number {
    return Math.ceil(this.set.count / this.batchSize);
  }

  /**
   * The batches of one pass over the set in `order` (null: as stored), from batch `fromStep` on (a
   * resumed epoch). Each batch's buffers are reused by the next.
   */
  *pass(order: Uint32Array | null, t: BatchTransforms, fromStep = 0): Generator<Batch> {
    const { set, backend } = this;
    const size = set.size;
    checkTransformsFit(set, t);
    const range = valueRange(set);
    for (let start = fromStep * this.batchSize; start < set.count; start += this.batchSize) {
      const rows = Math.min(this.batchSize, set.count - start);
      const indices = order === null ? this.indices : order.subarray(start, start + rows);
      if (order === null) for (let r = 0; r < rows; r++) this.indices[r] = start + r;
      set.gather(order, start, rows, this.target, backend);
      if (t.binarize) binarize(this.target, this.target, rows, size, indices, t.seed, t.binarizeKey, backend);
      applyNoise(t.noise, this.target, this.input, rows, size, indices, t.seed, t.noiseKey, backend, range);
      if (this.labels !== null) for (let r = 0; r < rows; r++) this.labels[r] = set.labels![indices[r]!]!;
      if (this.mask !== null) this.gatherMask(indices, rows, t.missing);
      yield { target: this.target, input: this.input, rows, start, indices, labels: this.labels, mask: this.mask };
    }
  }

  /**
   * The rows' mask, with missing-point injection when asked, and the input 0 wherever it is 0 (the
   * noise may have moved a missing value's stand-in).
   */
  private gatherMask(indices: ArrayLike<number>, rows: number, missing: MissingInjection | undefined): void {
    const { set, input } = this;
    const mask = this.mask!;
    const size = set.size;
    if (set.mask === undefined) set.streamed!.gatherMask(indices, rows, mask);
    else for (let r = 0; r < rows; r++) mask.set(set.mask.subarray(indices[r]! * size, (indices[r]! + 1) * size), r * size);
    if (missing !== undefined) injectMissing(missing, input, mask, rows, size, indices);
    for (let i = 0; i < rows * size; i++) if (mask[i] === 0) input[i] = 0;
  }
}

/** A shuffled permutation of 0..count-1 drawn from rng. */
export function shuffledOrder(count: number, rng: Random): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  rng.shuffle(order);
  return order;
}

/** Batches of a bucketed order are drawn from pools of this many batches sorted by length. */
export const BUCKET_POOL_BATCHES = 50;

/**
 * A shuffled order in which each batch holds examples of similar lengths (text: a batch runs as many
 * steps as its longest example): the examples shuffled, cut into pools of BUCKET_POOL_BATCHES
 * batches, each pool sorted by length (ties keep the shuffled order) and cut into batches, and the
 * batches shuffled. Every example is in it once; the last batch of the last pool may be short, and
 * stays last, so every other batch is full. Drawn from rng alone: the same state, the same order.
 */
export function bucketedOrder(lengths: Int32Array, batchSize: number, rng: Random): Uint32Array {
  const count = lengths.length;
  const order = shuffledOrder(count, rng);
  const pool = batchSize * BUCKET_POOL_BATCHES;
  for (let start = 0; start < count; start += pool) {
    const sorted = Array.from(order.subarray(start, Math.min(count, start + pool))).sort((a, b) => lengths[a]! - lengths[b]!);
    order.set(sorted, start);
  }
  const full = Math.floor(count / batchSize);
  const batches = new Uint32Array(full);
  for (let i = 0; i < full; i++) batches[i] = i;
  rng.shuffle(batches);
  const out = new Uint32Array(count);
  for (let i = 0; i < full; i++) out.set(order.subarray(batches[i]! * batchSize, (batches[i]! + 1) * batchSize), i * batchSize);
  out.set(order.subarray(full * batchSize), full * batchSize);
  return out;
}
