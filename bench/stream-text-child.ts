// Run by bench/stream-text.ts in a fresh process: opens a .txt corpus with a memory budget (Infinity:
// in memory), plans a text run on it (the vocabulary from the training part, both parts read in it),
// trains `steps` steps, and prints one JSON line of timings and peak memory (VmHWM) after opening,
// after planning and at the end.
// Args: file, memory budget, steps.
import { readFileSync } from 'node:fs';
import { loadData, parseByteSize } from '../src/data/load.js';
import { streamWaits } from '../src/data/stream/pool.js';
import { planRun } from '../src/run/plan.js';
import { trainRun } from '../src/run/train-run.js';

const [file, budget, stepsArg] = [process.argv[2]!, process.argv[3]!, process.argv[4] ?? '300'];
const memoryBudget = budget === 'Infinity' ? Infinity : parseByteSize(budget);
// As a text run loads its corpus (loadRunData): texts alone, split into tokens by the plan.
const text = { tokens: 'word' as const, lowercase: true, vocab: 10_000, maxLength: 64, textsOnly: true };
let started = performance.now();
const set = await loadData(file, 'train', { memoryBudget, text });
const openSeconds = (performance.now() - started) / 1000;
const peakMb = (): number => Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
const peakOpenMb = peakMb();
started = performance.now();
const spec = { data: { source: file, memoryBudget: null, lowercase: true, vocab: 10_000, maxLength: 64 }, model: { preset: 'text' }, training: { epochs: 1, batchSize: 32, checkpoint: null }, seed: 0, outputs: { figures: false } };
const plan = await planRun(spec, { train: set });
const planSeconds = (performance.now() - started) / 1000;
const peakPlanMb = peakMb();
const steps = Number(stepsArg);
const stop = new AbortController();
let done = 0;
let trainStarted = 0;
const before = { ...streamWaits };
await trainRun(plan, {
  folder: null, signal: stop.signal,
  callbacks: [{ onBatchEnd: () => { if (done++ === 0) trainStarted = performance.now(); if (done > steps) stop.abort(); } }],
});
const stepMs = (performance.now() - trainStarted) / (done - 1);
const peakRssMb = peakMb();
process.stdout.write(`${JSON.stringify({
  streamed: plan.train.values === null, examples: set.count, trained: plan.train.count, validated: plan.test.count, openSeconds, planSeconds, stepMs,
  waitedSeconds: (streamWaits.ms - before.ms) / 1000, waits: streamWaits.count - before.count, peakOpenMb, peakPlanMb, peakRssMb,
})}\n`);
