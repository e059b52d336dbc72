/**
 * Callbacks that come with the library (fit.ts defines the interface): the metrics log, one JSON
 * line per epoch, rewritten atomically after each epoch so a crash never leaves half a line; and a
 * plain epoch logger for scripts. The CLI's progress bar is a callback too (src/cli/progress.ts).
 */
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import { formatEpoch, type Callback, type EpochRecord } from './fit.js';

/**
 * Writes every epoch's numbers so far to `path` as JSON lines after each epoch, and their
 * wall-clock times to timing.jsonl beside it: the metrics are a function of the seed (a resumed run
 * writes the same bytes as one never stopped), the times are not. `earlier` are the epochs of a
 * resumed run before this call.
 */
export function metricsLog(path: string, earlier: readonly EpochRecord[] = []): Callback {
  const records: EpochRecord[] = [...earlier];
  const timingPath = join(dirname(path), TIMING_FILE);
  return {
    onEpochEnd(record) {
      records.push(record);
      const lines = (f: (r: EpochRecord) => object): string => records.map((r) => JSON.stringify(f(r))).join('\n') + '\n';
      writeFileAtomic(timingPath, lines((r) => ({ epoch: r.epoch, seconds: r.seconds, imagesPerSecond: r.imagesPerSecond })));
      writeFileAtomic(path, lines(({ seconds: _s, imagesPerSecond: _i, ...numbers }) => numbers));
    },
  };
}

export const TIMING_FILE = 'timing.jsonl';

/** Calls `write` with each epoch's summary line ("Epoch 3/10 | 2.1s | loss ..."). */
export function epochLogger(write: (line: string) => void): Callback {
  return {
    onEpochEnd(record, context) {
      write(formatEpoch(record, context.options.epochs, context.options.objective.loss));
    },
  };
}
