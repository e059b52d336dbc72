/**
 * Early stopping: training stops when the validation loss has not improved for `patience` epochs,
 * and the model keeps the best epoch's weights (also when training ran to its last epoch). Its state
 * in a checkpoint is the best epoch and loss (TrainState.best) and that epoch's weights (bestParams).
 */
import { VaekitError } from '../errors.js';
import type { ParameterSet } from '../nn/parameters.js';
import type { Checkpoint, TrainState } from './checkpoint.js';

export class EarlyStopping {
  /** The best validation loss so far and its epoch. */
  private best: { epoch: number; loss: number } | null = null;
  /** The weights of the best epoch. */
  private readonly bestParams: Float32Array;

  /** `validates`: whether training scores the model after each epoch (early stopping needs it). */
  constructor(readonly patience: number, private readonly vae: { readonly params: ParameterSet }, validates: boolean) {
    if (!Number.isInteger(patience) || patience < 1) throw new VaekitError(`The early-stopping patience must be a whole number of epochs >= 1, not ${patience}.`);
    if (!validates) throw new VaekitError('Early stopping watches the validation loss, and this training has no validation.');
    this.bestParams = vae.params.values.slice();
  }

  /** After epoch `epoch`'s validation: keeps its weights when its loss is the best yet; true when training should stop here. */
  epochEnd(epoch: number, valLoss: number | undefined, lastEpoch: number): boolean {
    if (valLoss === undefined) return false;
    if (this.best === null || valLoss < this.best.loss) {
      this.best = { epoch, loss: valLoss };
      this.bestParams.set(this.vae.params.values);
      return false;
    }
    return epoch - this.best.epoch >= this.patience && epoch < lastEpoch;
  }

  /** The line to give when training stops early (after keepBest). */
  stoppedMessage(): string {
    const best = this.best!;
    return `Early stopping: the validation loss has not improved for ${this.patience} epochs; the model keeps the weights of epoch ${best.epoch} (validation loss ${best.loss.toFixed(2)}).`;
  }

  /**
   * Puts the best epoch's weights into the model unless it holds them already (the best epoch is
   * `currentEpoch`, the one its weights are from); returns the epoch whose weights it now holds, or
   * null when nothing changed.
   */
  keepBest(currentEpoch: number): number | null {
    if (this.best === null || this.best.epoch === currentEpoch) return null;
    this.vae.params.values.set(this.bestParams);
    return this.best.epoch;
  }

  snapshot(): Pick<TrainState, 'best'> & { bestParams: Float32Array } {
    return { best: this.best, bestParams: this.bestParams.slice() };
  }

  restore(from: Checkpoint): void {
    this.best = from.state.best;
    if (from.bestParams !== null) this.bestParams.set(from.bestParams);
  }
}
