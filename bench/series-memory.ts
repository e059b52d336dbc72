// The memory of a long time series cut into windows (issue 22). Run alone:
//   node --import tsx bench/series-memory.ts
//     200,000 points of 4 channels (a CSV file written once to the system's temporary folder),
//     window 128, stride 1, read in memory
//   node --import tsx bench/series-memory.ts --npy POINTS CHANNELS [--budget SIZE]
//     POINTS x CHANNELS float32 values (an NPY file written once), window 16, stride 16; with
//     --budget (e.g. 0B) the series past it is held in scratch files mapped into memory; with
//     --train, then planned and trained for one epoch of the mlp preset (its time printed)
// Prints the windows' count, the time to read, cut and fingerprint them, and the process's peak
// memory: VmHWM (every resident page, a mapped file's too, which the system may drop when memory is
// short) and the peak of RssAnon (the process's own memory, sampled every 20 ms by a worker thread).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseByteSize } from '../src/data/load.js';
import { encodeNpy } from '../src/io/npy.js';
import { isMapped } from '../src/io/mapped.js';
import { dataFingerprint, planRun } from '../src/run/plan.js';
import { trainRun } from '../src/run/train-run.js';
import { readSeriesRun } from '../src/run/series.js';
import { validateRunSpec } from '../src/run/spec.js';

const args = process.argv.slice(2);
const npy = args.includes('--npy');
const train = args.includes('--train');
const budgetAt = args.indexOf('--budget');
const memoryBudget = budgetAt >= 0 ? parseByteSize(args[budgetAt + 1]!) : null;
const numbers = args.filter((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--budget').map(Number);
const POINTS = numbers[0] ?? 200_000;
const CHANNELS = npy ? numbers[1] ?? 64 : 4;

const status = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
// A worker reads this process's /proc/self/status while the main thread is busy.
const sampler = new Worker(
  `const { readFileSync } = require('node:fs'); const { parentPort } = require('node:worker_threads'); let peak = 0;
   const sample = () => { const m = /^RssAnon:\\s+(\\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8')); peak = Math.max(peak, Number(m[1]) / 1024); };
   const timer = setInterval(sample, 20); parentPort.on('message', () => { sample(); clearInterval(timer); parentPort.postMessage(peak); });`,
  { eval: true },
);
const peakAnon = (): Promise<number> => new Promise((done) => {
  sampler.once('message', (peak: number) => done(peak));
  sampler.postMessage('stop');
});

let path: string;
let data: Record<string, unknown>;
if (npy) {
  path = join(tmpdir(), `vaekit-bench-series-${POINTS}x${CHANNELS}.npy`);
  if (!existsSync(path)) {
    const values = new Float32Array(POINTS * CHANNELS);
    for (let i = 0; i < values.length; i++) values[i] = Math.sin(i / 97) + (i % CHANNELS) / CHANNELS;
    writeFileSync(path, encodeNpy({ dtype: 'float32', shape: [POINTS, CHANNELS], data: values }));
  }
  data = { source: path, window: 16, stride: 16 };
} else {
  path = join(tmpdir(), `vaekit-bench-series-${POINTS}.csv`);
  if (!existsSync(path)) {
    const lines = ['t,a,b,c,d'];
    for (let t = 0; t < POINTS; t++) lines.push(`${t},${Math.sin(t / 50).toFixed(4)},${Math.cos(t / 70).toFixed(4)},${((t % 100) / 100).toFixed(3)},${Math.sin(t / 13).toFixed(4)}`);
    writeFileSync(path, `${lines.join('\n')}\n`);
  }
  data = { source: path, timeColumn: 't', window: 128 };
}
await new Promise((done) => setTimeout(done, 100)); // the sampler's first reading
const started = performance.now();
const run = readSeriesRun(validateRunSpec({ data: { ...data, memoryBudget }, model: { preset: 'series' } }).data, (line) => console.log(line));
const read = (performance.now() - started) / 1000;
const fingerprint = dataFingerprint(run.train);
const seconds = (performance.now() - started) / 1000;
let trained = '';
if (train) {
  const plan = await planRun({ data: { ...data, memoryBudget }, model: { preset: 'mlp', encoderHidden: [256], decoderHidden: [256], latent: 8 }, training: { epochs: 1 } });
  const result = await trainRun(plan, { folder: null });
  const epoch = result.history.epochs[0]!;
  trained = `; then planned and trained 1 epoch of ${plan.train.count} windows (mlp 256-8) in ${epoch.seconds.toFixed(2)} s (${epoch.imagesPerSecond.toFixed(0)} windows/s)`;
}
const anon = await peakAnon();
const asRows = ((run.train.count + run.windows.all.count) * run.train.size * 5) / 2 ** 20;
console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores)`);
console.log(`series of ${POINTS} points x ${CHANNELS} channels, ${isMapped(run.series[0]!.values) ? 'held on disk (mapped)' : 'in memory'}: read in ${read.toFixed(2)} s`);
console.log(`${run.train.count} training windows of ${run.train.size} values (${run.windows.all.count} in all) read, cut and fingerprinted in ${seconds.toFixed(2)} s (fingerprint ${fingerprint.slice(0, 16)})${trained}`);
console.log(`peak memory: VmHWM ${status('VmHWM').toFixed(0)} MB, RssAnon ${anon.toFixed(0)} MB; held as rows, the windows' values and masks would take ${asRows.toFixed(0)} MB`);
await sampler.terminate();
