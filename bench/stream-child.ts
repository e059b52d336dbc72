// Run by bench/stream.ts in a fresh process: opens an image folder with a memory budget, plans and
// trains the seed preset on it for one epoch, and prints one JSON line of timings and peak memory.
// Args: folder, memory budget.
import { readFileSync } from 'node:fs';
import { loadData, parseByteSize } from '../src/data/load.js';
import { readingThreads, streamWaits } from '../src/data/stream/pool.js';
import { planRun } from '../src/run/plan.js';
import { trainRun } from '../src/run/train-run.js';

const [dir, budget] = [process.argv[2]!, process.argv[3]!];
const memoryBudget = parseByteSize(budget);
let started = performance.now();
const set = await loadData(dir, 'train', { memoryBudget });
const openSeconds = (performance.now() - started) / 1000;
if (set.values !== null) throw new Error(`${dir} did not stream`);
started = performance.now();
const plan = await planRun({ data: { source: dir, memoryBudget }, model: { preset: 'seed' }, training: { epochs: 1 }, seed: 0 }, { train: set });
const planSeconds = (performance.now() - started) / 1000;
const before = { ...streamWaits };
started = performance.now();
let steps = 0;
let epochSeconds = 0;
await trainRun(plan, { folder: null, callbacks: [{ onBatchEnd: () => { steps++; }, onEpochEnd: () => { epochSeconds = (performance.now() - started) / 1000; } }] });
const status = readFileSync('/proc/self/status', 'utf8');
const peakRssMb = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)![1]) / 1024;
process.stdout.write(`${JSON.stringify({
  images: set.count, trained: plan.train.count, validated: plan.test.count, openSeconds, planSeconds, epochSeconds,
  waitedSeconds: (streamWaits.ms - before.ms) / 1000, waits: streamWaits.count - before.count, steps, peakRssMb, threads: readingThreads(),
})}\n`);
