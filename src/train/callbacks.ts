/**
 * Callbacks that come with the library (fit.ts defines the interface): the metrics log, one JSON
 * line per epoch, appended after each epoch; and a plain epoch logger for scripts. The CLI's
 * progress bar is a callback too (src/cli/progress.ts).
 */
import { existsSync } from 'node:fs';
import { appendText, syncFile, writeFileAtomic } from '../io/atomic-write.js';
import { formatEpoch, type Callback, type EpochRecord } from './fit.js';

/**
 * Writes each epoch's numbers to `paths.metrics` as a JSON line, and its wall-clock time to
 * `paths.timing`: the metrics are a function of the seed (a resumed run writes the same bytes as one
 * never stopped), the times are not. `earlier` are the epochs of a resumed run before this call
 * (its checkpoint's history). At the start both files are rewritten once to hold exactly those
 * (a killed run may have appended epochs after its last checkpoint, or half a line); then each
 * epoch appends one line, and the end flushes both to disk.
 */
export function metricsLog(paths: { metrics: string; timing: string }, earlier: readonly EpochRecord[] = []): Callback {
  const { metrics: path, timing: timingPath } = paths;
  const timing = (r: EpochRecord): string => `${JSON.stringify({ epoch: r.epoch, seconds: r.seconds, imagesPerSecond: r.imagesPerSecond })}\n`;
  const numbers = ({ seconds: _s, imagesPerSecond: _i, ...rest }: EpochRecord): string => `${JSON.stringify(rest)}\n`;
  return {
    onTrainBegin() {
      if (earlier.length === 0 && !existsSync(path) && !existsSync(timingPath)) return;
      writeFileAtomic(timingPath, earlier.map(timing).join(''));
      writeFileAtomic(path, earlier.map(numbers).join(''));
    },
    onEpochEnd(record) {
      appendText(timingPath, timing(record));
      appendText(path, numbers(record));
    },
    onTrainEnd() {
      for (const p of [timingPath, path]) if (existsSync(p)) syncFile(p);
    },
  };
}

/** Calls `write` with each epoch's summary line ("Epoch 3/10 | 2.1s | loss ..."). */
export function epochLogger(write: (line: string) => void): Callback {
  return {
    onEpochEnd(record, context) {
      write(formatEpoch(record, context.options.epochs, context.options.objective.loss));
    },
  };
}
