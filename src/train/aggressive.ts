/**
 * He et al. 2019's aggressive inference-network training, against posterior collapse: early on, an
 * autoregressive decoder learns faster than the encoder can follow, so the encoder is trained "to
 * convergence" before each decoder step. While the phase is on, each training step first takes up
 * to AGGRESSIVE_MAX_INNER encoder-only Adam steps on other random batches of the epoch (stopping
 * when the loss summed over AGGRESSIVE_CHECK_EVERY of them stops falling), then one decoder-only
 * step on the step's own batch. The phase ends after the first epoch whose validation mutual
 * information I(x; z) is not above the previous epoch's; from then on both parts step together,
 * each with its own Adam step count, as He et al.'s two optimizers do.
 *
 * Its state in a checkpoint: whether the phase is on, the two step counts, the last epoch's mutual
 * information and the inner batches' generator.
 */
import { Random } from '../engine/random.js';
import { VaekitError } from '../errors.js';
import type { ParameterSet } from '../nn/parameters.js';
import type { Checkpoint, TrainState } from './checkpoint.js';

/** The most encoder steps before one decoder step (He et al.: 100). */
export const AGGRESSIVE_MAX_INNER = 100;
/** The encoder's loss is summed over this many inner steps and compared with the sum before (He et al.: 10). */
export const AGGRESSIVE_CHECK_EVERY = 10;

export interface AggressiveState {
  on: boolean;
  encoderSteps: number;
  decoderSteps: number;
  lastMi: number | null;
  /** The inner batches' generator. */
  rng: number[];
}

/** The number of leading parameters that are the encoder's (named "enc." or "encoder."). */
export function encoderParameterCount(params: ParameterSet): { offset: number; count: number } {
  const list = params.list;
  let i = 0;
  while (i < list.length && /^enc(oder)?\./.test(list[i]!.name)) i++;
  if (i === 0 || list.slice(i).some((p) => /^enc(oder)?\./.test(p.name))) {
    throw new VaekitError('Aggressive training needs a model whose encoder\'s parameters come first, and this one has none or mixes them.');
  }
  const end = list[i - 1]!;
  return { offset: 0, count: end.offset + end.size };
}

export class AggressiveTraining {
  on = true;
  encoderSteps = 0;
  decoderSteps = 0;
  private lastMi: number | null = null;
  readonly rng: Random;

  constructor(seed: number) {
    this.rng = new Random(seed);
  }

  /**
   * The inner loop's stopping rule, given each inner step's loss in turn: whether to go on after
   * `losses` (AGGRESSIVE_CHECK_EVERY-step sums compared; at most AGGRESSIVE_MAX_INNER steps).
   */
  static goOn(losses: readonly number[]): boolean {
    const n = losses.length;
    if (n >= AGGRESSIVE_MAX_INNER) return false;
    if (n < 2 * AGGRESSIVE_CHECK_EVERY || n % AGGRESSIVE_CHECK_EVERY !== 0) return true;
    const sum = (from: number): number => losses.slice(from, from + AGGRESSIVE_CHECK_EVERY).reduce((a, b) => a + b, 0);
    return sum(n - AGGRESSIVE_CHECK_EVERY) < sum(n - 2 * AGGRESSIVE_CHECK_EVERY);
  }

  /** After an epoch with validation mutual information `mi`: ends the phase when it did not rise; returns the note to give, or null. */
  epochEnd(epoch: number, mi: number | undefined): string | null {
    if (!this.on) return null;
    if (mi === undefined || !Number.isFinite(mi)) throw new VaekitError('Aggressive training needs the validation mutual information after each epoch, and the validation gave none.');
    const last = this.lastMi;
    this.lastMi = mi;
    if (last === null || mi > last) return null;
    this.on = false;
    return `Aggressive inference-network training ended after epoch ${epoch}: the validation mutual information went from ${last.toFixed(3)} to ${mi.toFixed(3)} nats; encoder and decoder now train together.`;
  }

  snapshot(): Pick<TrainState, 'aggressive'> {
    return { aggressive: { on: this.on, encoderSteps: this.encoderSteps, decoderSteps: this.decoderSteps, lastMi: this.lastMi, rng: this.rng.getState() } };
  }

  restore(from: Checkpoint): void {
    const a = from.state.aggressive;
    if (a === undefined) throw new VaekitError('The checkpoint was not made with aggressive training, and this run trains with it: resume with the settings the run was started with.');
    this.on = a.on;
    this.encoderSteps = a.encoderSteps;
    this.decoderSteps = a.decoderSteps;
    this.lastMi = a.lastMi;
    this.rng.setState(a.rng);
  }
}
