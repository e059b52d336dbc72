/**
 * What a checkpoint holds, so that training goes on exactly where it stopped: the weights, Adam's
 * moments and step, every generator's state, the position in the epoch with its running sums, and
 * the history so far. fit makes and takes them (fit.ts); src/io/checkpoint.ts writes and reads them.
 * Resumed on the same backend and thread count, a run ends with the same bits as one never stopped.
 */
import type { EpochRecord } from './fit.js';

export const CHECKPOINT_VERSION = 1;

/** Where training stands, in numbers JSON keeps exactly. */
export interface TrainState {
  /** Epochs completed. */
  epoch: number;
  /** Steps done in epoch `epoch + 1` (0 at an epoch's end). */
  stepInEpoch: number;
  /** Steps done in all (Adam's step count). */
  steps: number;
  /** The shuffling generator before epoch `epoch + 1`'s shuffle (its order is drawn again on resume). */
  shuffleAtEpochStart: number[];
  /** The posterior-sample generator now. */
  sample: number[];
  /** Sums over the current epoch's examples so far (loss, reconstruction, KL), and their count. */
  totals: { loss: number; recon: number; kl: number; seen: number };
  /** The completed epochs' records. */
  history: EpochRecord[];
  /** The factor on the learning rate from the health guard's halvings (1 when none). */
  lrScale: number;
  /** Whether the posterior-collapse warning was given. */
  warnedCollapse: boolean;
  /** Early stopping: the best validation loss so far and its epoch (null without early stopping). */
  best: { epoch: number; loss: number } | null;
}

export interface Checkpoint {
  state: TrainState;
  /** Every parameter, flat (the ParameterSet's order), and Adam's first and second moments. */
  params: Float32Array;
  adamM: Float32Array;
  adamV: Float32Array;
  /** Early stopping: the best epoch's parameters (null without early stopping). */
  bestParams: Float32Array | null;
  /** What the caller keeps with it (the job's settings, to resume from the folder alone). */
  run: Record<string, unknown>;
}

/** When fit saves checkpoints and how. */
export interface CheckpointOptions {
  /** After every N epochs (default 1; 0: never at an epoch's end). */
  everyEpochs?: number;
  /** Also every N steps inside an epoch (default: never). */
  everySteps?: number;
  /** Kept with every checkpoint (see Checkpoint.run). */
  run?: Record<string, unknown>;
  /** Writes it (e.g. io/checkpoint.ts' saveCheckpoint to a folder). */
  save(checkpoint: Checkpoint): void | Promise<void>;
}
