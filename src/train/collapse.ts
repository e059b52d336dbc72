/**
 * The posterior-collapse note: the KL (the validation KL when there is one) below COLLAPSE_NATS
 * for the last COLLAPSE_EPOCHS epochs after any KL warm-up means the latent code carries almost
 * nothing. A dip that recovers is no collapse: the note is given when a run of collapsed epochs
 * reaches COLLAPSE_EPOCHS before the last epoch, naming them, and at the end of training only if
 * the final epochs are still collapsed. Its state in a checkpoint is whether the note was given for
 * the current run of collapsed epochs (TrainState.warnedCollapse).
 */
import type { EpochRecord, FitOptions } from './fit.js';
import type { Checkpoint, TrainState } from './checkpoint.js';
import { klFactor } from './kl-schedule.js';

/** Below this KL (nats per example, after any warm-up) the posterior counts as collapsed. */
export const COLLAPSE_NATS = 0.1;
/** What the note suggests for an image or table model. */
export const IMAGE_REMEDIES = 'try free bits (objective.freeBits 0.5), a KL warm-up (objective.klWarmup linear:5) or a smaller decoder';
/** What it suggests for a text model, whose autoregressive decoder can model the text without the code. */
export const TEXT_REMEDIES = 'try word dropout (objective.wordDropout 0.3), free bits (objective.freeBits 0.1), a logistic KL warm-up (objective.klWarmup logistic:10) or aggressive inference-network training (objective.aggressive)';

/** Consecutive collapsed epochs (after any warm-up) that make a collapse; fewer at the end of a shorter run. */
export const COLLAPSE_EPOCHS = 3;

export class CollapseWatch {
  /** Whether the note was given for the current run of collapsed epochs (false again once an epoch recovers). */
  private warned = false;

  /**
   * `remedies` ends the note (what to try); `off`: a model without a latent code (a language model),
   * whose KL is 0 by design, gets no note.
   */
  constructor(private readonly options: Pick<FitOptions, 'klWarmup' | 'objective'>, private readonly remedies = IMAGE_REMEDIES, private readonly off = false) {}

  /** After each epoch (its record the last of `history`) but the last: the note to give, or null. */
  epochEnd(history: readonly EpochRecord[]): string | null {
    const streak = this.streak(history);
    if (streak.length === 0) this.warned = false;
    if (this.warned || streak.length < COLLAPSE_EPOCHS) return null;
    this.warned = true;
    return `The KL has stayed below ${COLLAPSE_NATS} nats for ${epochsText(streak)} (${kl(streak.at(-1)!).toPrecision(2)} at the last): the posterior has collapsed onto the prior and the latent code carries almost nothing; if it does not recover, ${this.remedies}.`;
  }

  /** At the end of a finished run: the note when its final epochs are collapsed, or null. */
  trainEnd(history: readonly EpochRecord[]): string | null {
    const streak = this.streak(history);
    const afterWarmup = history.filter((r) => this.afterWarmup(r)).length;
    if (streak.length === 0 || streak.length < Math.min(COLLAPSE_EPOCHS, afterWarmup)) return null;
    return `The trained model's posterior has collapsed onto the prior: the KL is ${kl(streak.at(-1)!).toPrecision(2)} nats, below ${COLLAPSE_NATS} for its last ${epochsText(streak)}, so its latent code carries almost nothing; ${this.remedies}.`;
  }

  snapshot(): Pick<TrainState, 'warnedCollapse'> {
    return { warnedCollapse: this.warned };
  }

  restore(from: Checkpoint): void {
    this.warned = from.state.warnedCollapse;
  }

  private afterWarmup(r: EpochRecord): boolean {
    return klFactor(this.options.klWarmup, r.epoch) === 1;
  }

  /** The collapsed epochs at the end of `history` (after the warm-up); none for the notebook's loss, which trains no KL. */
  private streak(history: readonly EpochRecord[]): EpochRecord[] {
    if (this.options.objective.loss === 'notebook-mse' || this.off) return [];
    let first = history.length;
    while (first > 0 && this.afterWarmup(history[first - 1]!) && kl(history[first - 1]!) < COLLAPSE_NATS) first--;
    return history.slice(first);
  }
}

/** The KL the note judges: the validation KL when there is one. */
function kl(r: EpochRecord): number {
  return r.valKl ?? r.kl;
}

/** "epoch 7" or "epochs 5 to 9". */
function epochsText(records: readonly EpochRecord[]): string {
  const first = records[0]!.epoch;
  const last = records.at(-1)!.epoch;
  return first === last ? `epoch ${first}` : `epochs ${first} to ${last}`;
}
