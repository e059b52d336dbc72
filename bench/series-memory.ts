// The memory of a long time series cut into windows (issue 22): 200,000 points of 4 channels
// (written once to a CSV file in the system's temporary folder), window 128, stride 1. Run alone:
//   node --import tsx bench/series-memory.ts
// Prints the windows' count, the time to read, cut and fingerprint them, the process's peak memory,
// and what the windows would take held as rows (values and mask of the training and all windows).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataFingerprint } from '../src/run/plan.js';
import { readSeriesRun } from '../src/run/series.js';
import { validateRunSpec } from '../src/run/spec.js';

const POINTS = 200_000;
const path = join(tmpdir(), `vaekit-bench-series-${POINTS}.csv`);
if (!existsSync(path)) {
  const lines = ['t,a,b,c,d'];
  for (let t = 0; t < POINTS; t++) lines.push(`${t},${Math.sin(t / 50).toFixed(4)},${Math.cos(t / 70).toFixed(4)},${((t % 100) / 100).toFixed(3)},${Math.sin(t / 13).toFixed(4)}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
}
const started = performance.now();
const run = readSeriesRun(validateRunSpec({ data: { source: path, timeColumn: 't', window: 128 }, model: { preset: 'series' } }).data);
const fingerprint = dataFingerprint(run.train);
const seconds = (performance.now() - started) / 1000;
const peak = Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
const asRows = ((run.train.count + run.windows.all.count) * run.train.size * 5) / 2 ** 20;
console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores)`);
console.log(`${run.train.count} training windows of ${run.train.size} values (${run.windows.all.count} in all) read, cut and fingerprinted in ${seconds.toFixed(2)} s (fingerprint ${fingerprint.slice(0, 16)})`);
console.log(`peak memory (VmHWM): ${peak.toFixed(0)} MB; held as rows, the windows' values and masks would take ${asRows.toFixed(0)} MB`);
