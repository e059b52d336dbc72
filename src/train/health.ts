/**
 * The health guard: a step whose loss or a gradient is not finite is not applied, and the learning
 * rate is halved after each such step (for the rest of training); the third refused step of one
 * epoch stops training. Its state in a checkpoint is the factor on the learning rate (lrScale).
 */
import { VaekitError } from '../errors.js';
import type { Adam } from '../nn/adam.js';
import type { Checkpoint, TrainState } from './checkpoint.js';

/** Steps of one epoch the health guard refuses before it stops training. */
export const MAX_REFUSED_STEPS = 3;

export class HealthGuard {
  /** The factor on the learning rate from the halvings (1 when none). */
  private lrScale = 1;
  /** Steps refused in the current epoch. */
  private refused = 0;

  /** At an epoch's start: its learning rate (the schedule's `scheduled`, times the halvings so far). */
  epochBegin(scheduled: number): number {
    this.refused = 0;
    return scheduled * this.lrScale;
  }

  /**
   * After a step's backward pass: `finite` says whether its loss and every gradient were (the
   * optimizer's update checks the gradients as it applies them, and applies nothing when one is
   * not). Null when so; otherwise halves the learning rate (the optimizer's too) and returns the
   * warning to give, or throws at the MAX_REFUSED_STEPS-th refused step of the epoch.
   */
  refuse(finite: boolean, optimizer: Adam, epoch: number, step: number): string | null {
    if (finite) return null;
    this.refused++;
    this.lrScale /= 2;
    optimizer.learningRate /= 2;
    if (this.refused >= MAX_REFUSED_STEPS) {
      throw new VaekitError(`Training diverged: ${this.refused} steps of epoch ${epoch} had a non-finite loss or gradient, so none was applied and the learning rate was halved each time (now ${optimizer.learningRate.toPrecision(3)}); the last checkpoint holds the last good weights; lower the learning rate or check the data for non-finite values.`);
    }
    return `Epoch ${epoch}, step ${step}: the loss or a gradient is not finite; the step was skipped and the learning rate halved to ${optimizer.learningRate.toPrecision(3)}.`;
  }

  snapshot(): Pick<TrainState, 'lrScale'> {
    return { lrScale: this.lrScale };
  }

  restore(from: Checkpoint): void {
    this.lrScale = from.state.lrScale;
  }
}
