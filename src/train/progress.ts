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

/** Progress of one long task (evaluation passes): a bar on a terminal, a line at the end otherwise. */
export interface TaskProgress {
  start(label: string, total: number): void;
  update(done: number): void;
  stop(): void;
}

export class TerminalTaskProgress implements TaskProgress {
  private bar: SingleBar | null = null;
  private label = '';
  private started = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  start(label: string, total: number): void {
    this.label = label;
    this.started = performance.now();
    if (!this.stream.isTTY) return;
    this.bar = new SingleBar({
      stream: this.stream,
      format: `${label} [{bar}] {value}/{total} | ETA {eta_formatted}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
      fps: 5,
    });
    this.bar.start(total, 0);
  }

  update(done: number): void {
    this.bar?.update(done);
  }

  stop(): void {
    if (this.bar !== null) {
      this.bar.stop();
      this.bar = null;
    }
    this.stream.write(`${this.label}: done in ${((performance.now() - this.started) / 1000).toFixed(1)}s\n`);
  }
}

export const SILENT_TASK: TaskProgress = { start: () => undefined, update: () => undefined, stop: () => undefined };
