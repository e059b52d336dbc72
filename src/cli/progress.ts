/**
 * The CLI's progress display: a bar per epoch with the running loss, reconstruction, KL and ETA
 * when the output is a terminal (cli-progress); otherwise (logs, CI, pipes) plain lines: one per
 * epoch, and one every 10 seconds inside a long epoch or evaluation pass, so a log never goes
 * quiet for minutes. Training's display is a fit callback; the evaluation's is the library's
 * TaskProgress.
 */
import { SingleBar } from 'cli-progress';
import { fmt, type TaskProgress } from '../progress.js';
import { formatEpoch, lossColumns, type Callback, type EpochRecord, type TrainContext } from '../train/fit.js';
import type { LossParts } from '../vae/objective.js';
import { inFlagText } from './spec-flags.js';

/** Seconds between plain progress lines when the output is not a terminal. */
export const PLAIN_LINE_EVERY_MS = 10_000;

export class TerminalProgress implements Callback {
  private bar: SingleBar | null = null;
  private epoch = 0;
  private lastLine = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {}

  onEpochBegin(epoch: number, context: TrainContext): void {
    this.epoch = epoch;
    const c = lossColumns(context.options.objective.loss);
    this.lastLine = performance.now();
    if (!this.stream.isTTY) return;
    this.bar = new SingleBar({
      stream: this.stream,
      format: `Epoch ${epoch}/${context.options.epochs} [{bar}] {value}/{total} | ${c.loss} {loss} | ${context.options.objective.loss === 'notebook-mse' ? '' : `${c.recon} {recon} | `}${c.kl} {kl} | ETA {eta_formatted}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 10,
    });
    this.bar.start(context.steps, 0, { loss: '-', recon: '-', kl: '-' });
  }

  onBatchEnd(step: number, running: LossParts, context: TrainContext): void {
    this.bar?.update(step, { loss: fmt(running.loss), recon: fmt(running.recon), kl: fmt(running.kl) });
    if (this.bar === null && performance.now() - this.lastLine >= PLAIN_LINE_EVERY_MS) {
      this.lastLine = performance.now();
      const c = lossColumns(context.options.objective.loss);
      const recon = context.options.objective.loss === 'notebook-mse' ? '' : ` | ${c.recon} ${fmt(running.recon)}`;
      this.stream.write(`Epoch ${this.epoch}/${context.options.epochs}: step ${step}/${context.steps} | ${c.loss} ${fmt(running.loss)}${recon} | ${c.kl} ${fmt(running.kl)}\n`);
    }
  }

  onEpochEnd(record: EpochRecord, context: TrainContext): void {
    this.stopBar();
    this.stream.write(`${formatEpoch(record, context.options.epochs, context.options.objective.loss)}\n`);
  }

  onTrainEnd(): void {
    this.stopBar();
  }

  onWarning(message: string): void {
    this.stopBar();
    process.stderr.write(`note: ${inFlagText(message)}\n`);
  }

  private stopBar(): void {
    if (this.bar !== null) {
      this.bar.stop();
      this.bar = null;
    }
  }
}

/** Progress of one long task (evaluation passes): a bar on a terminal, a line at the end otherwise. */
export class TerminalTaskProgress implements TaskProgress {
  private bar: SingleBar | null = null;
  private label = '';
  private started = 0;
  private total = 0;
  private lastLine = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  start(label: string, total: number): void {
    this.label = label;
    this.started = performance.now();
    this.lastLine = this.started;
    this.total = total;
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
    if (this.bar === null && performance.now() - this.lastLine >= PLAIN_LINE_EVERY_MS) {
      this.lastLine = performance.now();
      this.stream.write(`${this.label}: ${done}/${this.total}\n`);
    }
  }

  stop(): void {
    if (this.bar !== null) {
      this.bar.stop();
      this.bar = null;
    }
    this.stream.write(`${this.label}: done in ${((performance.now() - this.started) / 1000).toFixed(1)}s\n`);
  }
}
