/**
 * Callbacks that come with the library (fit.ts defines the interface): the metrics log, one JSON
 * line per epoch, rewritten atomically after each epoch so a crash never leaves half a line; and a
 * plain epoch logger for scripts. The CLI's progress bar is a callback too (src/cli/progress.ts).
 */
import { writeFileAtomic } from '../io/atomic-write.js';
import { formatEpoch, type Callback, type EpochRecord } from './fit.js';

/** Writes every epoch's record so far to `path` as JSON lines after each epoch. */
export function metricsLog(path: string): Callback {
  const records: EpochRecord[] = [];
  return {
    onEpochEnd(record) {
      records.push(record);
      writeFileAtomic(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    },
  };
}

/** Calls `write` with each epoch's summary line ("Epoch 3/10 | 2.1s | loss ..."). */
export function epochLogger(write: (line: string) => void): Callback {
  return {
    onEpochEnd(record, context) {
      write(formatEpoch(record, context.options.epochs));
    },
  };
}
