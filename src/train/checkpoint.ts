/**
 * What a checkpoint holds, so that training goes on exactly where it stopped: the weights, Adam's
 * moments and step, every generator's state, the position in the epoch with its running sums, and
 * the history so far. fit makes and takes them (fit.ts); src/io/checkpoint.ts writes and reads them.
 * Resumed on the same backend and thread count, a run ends with the same bits as one never stopped.
 */
import { VaekitError } from '../errors.js';
import type { EpochRecord } from './fit.js';
import type { AggressiveState } from './aggressive.js';

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
  /** Whether the posterior-collapse note was given for the current run of collapsed epochs (train/collapse.ts). */
  warnedCollapse: boolean;
  /** Early stopping: the best validation loss so far and its epoch (null without early stopping). */
  best: { epoch: number; loss: number } | null;
  /** Aggressive inference-network training's state (train/aggressive.ts); absent without it. */
  aggressive?: AggressiveState;
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

/**
 * When fit saves checkpoints and how. A checkpoint is due at the end of every `everyEpochs`-th
 * epoch and after every `everySteps`-th step of an epoch, but at most once in `everySeconds`; the
 * end of the last epoch and a stop by the signal always save one. Resumed from any of them, a run
 * ends with the same bits, so the time limit costs a kill at most that much work.
 */
export interface CheckpointOptions {
  /** After every N epochs (default 1; 0: at no epoch's end but the last). */
  everyEpochs?: number;
  /** Also every N steps inside an epoch (default: never). */
  everySteps?: number;
  /**
   * At most one checkpoint in this many seconds (the last epoch's and the signal's aside); 0: as
   * often as everyEpochs and everySteps say. Default CHECKPOINT_SECONDS (30), or 0 with everySteps
   * (steps asked for are written as asked).
   */
  everySeconds?: number;
  /** Kept with every checkpoint (see Checkpoint.run). */
  run?: Record<string, unknown>;
  /** Writes it (e.g. io/checkpoint.ts' saveCheckpoint to a folder). */
  save(checkpoint: Checkpoint): void | Promise<void>;
}

/** The default least time between two checkpoints, in seconds (CheckpointOptions.everySeconds). */
export const CHECKPOINT_SECONDS = 30;

/** fit's checkpoint guard: when a checkpoint is due, and writing it (with the run's settings). */
export class Checkpointer {
  private readonly everyEpochs: number;
  private readonly everySteps: number;
  private readonly everySeconds: number;
  /** When the last checkpoint was written (or training started), from performance.now(). */
  private lastSave = performance.now();

  constructor(private readonly options: CheckpointOptions | undefined) {
    this.everyEpochs = options?.everyEpochs ?? 1;
    this.everySteps = options?.everySteps ?? 0;
    this.everySeconds = options?.everySeconds ?? (this.everySteps > 0 ? 0 : CHECKPOINT_SECONDS);
    for (const [name, v] of [['everyEpochs', this.everyEpochs], ['everySteps', this.everySteps], ['everySeconds', this.everySeconds]] as const) {
      if (!(v >= 0) || !Number.isFinite(v) || (name !== 'everySeconds' && !Number.isInteger(v))) {
        throw new VaekitError(`The checkpoint option ${name} must be ${name === 'everySeconds' ? 'a number' : 'a whole number'} >= 0, not ${v}.`);
      }
    }
  }

  /** Whether fit saves checkpoints at all. */
  get enabled(): boolean {
    return this.options !== undefined;
  }

  /** After step `step` (1-based) of an epoch of `steps`: whether a checkpoint is due (the epoch's end has its own). */
  dueAfterStep(step: number, steps: number): boolean {
    return this.enabled && this.everySteps > 0 && step % this.everySteps === 0 && step < steps && this.waited();
  }

  /** At the end of epoch `epoch` of `lastEpoch`: whether a checkpoint is due (always at the last). */
  dueAfterEpoch(epoch: number, lastEpoch: number): boolean {
    if (!this.enabled) return false;
    if (epoch === lastEpoch) return true;
    return this.everyEpochs > 0 && epoch % this.everyEpochs === 0 && this.waited();
  }

  /** Writes a checkpoint (nothing without the checkpoint option). */
  async save(checkpoint: Omit<Checkpoint, 'run'>): Promise<void> {
    if (this.options === undefined) return;
    await this.options.save({ ...checkpoint, run: this.options.run ?? {} });
    this.lastSave = performance.now();
  }

  private waited(): boolean {
    return performance.now() - this.lastSave >= this.everySeconds * 1000;
  }
}
