/**
 * Progress of a long task (an evaluation pass, loading a folder): the one interface the library
 * reports through. The CLI draws it as a bar (src/cli/progress.ts); the studio streams it; library
 * users pass nothing and see nothing. Training reports through fit's callbacks instead.
 */
export interface TaskProgress {
  start(label: string, total: number): void;
  update(done: number): void;
  stop(): void;
}

export const SILENT_TASK: TaskProgress = { start: () => undefined, update: () => undefined, stop: () => undefined };

/** A number as the logs show it: 2 decimals from 100, 3 from 1, else 4 significant digits. */
export function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(2) : Math.abs(x) >= 1 ? x.toFixed(3) : x.toPrecision(4);
}
