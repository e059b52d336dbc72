/**
 * Training progress: a bar per epoch with the running loss, reconstruction, KL and ETA when the
 * output is a terminal (cli-progress), one plain line per epoch otherwise (logs, CI, pipes).
 */
import { SingleBar } from 'cli-progress';
import type { LossParts } from '../vae/objective.js';

export interface ProgressReporter {
  startEpoch(epoch: number, epochs: number, steps: number): void;
  /** Running means of the epoch so far, after `step` steps. */
  step(step: number, running: LossParts): void;
  /** The epoch's summary line (train and validation numbers). */
  endEpoch(line: string): void;
}

export function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(2) : Math.abs(x) >= 1 ? x.toFixed(3) : x.toPrecision(4);
}

export class TerminalProgress implements ProgressReporter {
  private bar: SingleBar | null = null;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {}

  startEpoch(epoch: number, epochs: number, steps: number): void {
    if (!this.stream.isTTY) return;
    this.bar = new SingleBar({
      stream: this.stream,
      format: `Epoch ${epoch}/${epochs} [{bar}] {value}/{total} | loss {loss} | recon {recon} | kl {kl} | ETA {eta_formatted}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 10,
    });
    this.bar.start(steps, 0, { loss: '-', recon: '-', kl: '-' });
  }

  step(step: number, running: LossParts): void {
    this.bar?.update(step, { loss: fmt(running.loss), recon: fmt(running.recon), kl: fmt(running.kl) });
  }

  endEpoch(line: string): void {
    if (this.bar !== null) {
      this.bar.stop();
      this.bar = null;
    }
    this.stream.write(`${line}\n`);
  }
}

/** Reports nothing (library use without output). */
export const SILENT: ProgressReporter = {
  startEpoch: () => undefined,
  step: () => undefined,
  endEpoch: () => undefined,
};
