/**
 * The CLI's progress display: a bar per epoch with the running loss, reconstruction, KL and ETA
 * when the output is a terminal (cli-progress), one plain line per epoch otherwise (logs, CI,
 * pipes); and a bar for long evaluation passes. Training's bar is a fit callback; the evaluation's
 * is the library's TaskProgress.
 */
import { SingleBar } from 'cli-progress';
import { fmt, type TaskProgress } from '../progress.js';
import { formatEpoch, type Callback } from '../train/fit.js';

export class TerminalProgress implements Callback {
  private bar: SingleBar | null = null;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {}

  onEpochBegin(epoch: number, context: { options: { epochs: number }; steps: number }): void {
    if (!this.stream.isTTY) return;
    this.bar = new SingleBar({
      stream: this.stream,
      format: `Epoch ${epoch}/${context.options.epochs} [{bar}] {value}/{total} | loss {loss} | recon {recon} | kl {kl} | ETA {eta_formatted}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 10,
    });
    this.bar.start(context.steps, 0, { loss: '-', recon: '-', kl: '-' });
  }

  onBatchEnd(step: number, running: { loss: number; recon: number; kl: number }): void {
    this.bar?.update(step, { loss: fmt(running.loss), recon: fmt(running.recon), kl: fmt(running.kl) });
  }

  onEpochEnd(record: Parameters<typeof formatEpoch>[0], context: { options: { epochs: number } }): void {
    this.stopBar();
    this.stream.write(`${formatEpoch(record, context.options.epochs)}\n`);
  }

  onTrainEnd(): void {
    this.stopBar();
  }

  onWarning(message: string): void {
    this.stopBar();
    process.stderr.write(`note: ${message}\n`);
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
