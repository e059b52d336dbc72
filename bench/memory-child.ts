// Run by bench.ts in a fresh process: trains the seed preset (with per-epoch validation, as
// `vaekit train` does) and prints, as one JSON line, the resident memory after each epoch and the
// process's peak resident memory. Args: epochs, training images.
import { readFileSync } from 'node:fs';
import { takeFirst } from '../src/data/dataset.js';
import { loadMnist } from '../src/data/sources/mnist.js';
import { validator } from '../src/eval/evaluate.js';
import { fit, resolveFitOptions } from '../src/train/fit.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';

const epochs = Number(process.argv[2] ?? 3);
const images = Number(process.argv[3] ?? 60000);
const train = takeFirst(loadMnist('train'), images);
const test = loadMnist('test');
const vae = new Vae(presetConfig('seed'), { seed: 0 });
const rssAfterEpochMb: number[] = [];
const options = resolveFitOptions({ epochs });
await fit(vae, train, {
  ...options,
  validate: validator(test, options.objective, { noise: options.noise, seed: options.seed }),
  callbacks: [{ onEpochEnd: () => { rssAfterEpochMb.push(process.memoryUsage().rss / 2 ** 20); } }],
});
// The peak of this process's own memory: /proc/self/status' VmHWM where there is one. getrusage's
// maxRSS (the fallback, in kilobytes) also counts the parent's resident size at the fork before
// this process's exec, so a bench process that had grown to 360 MB reported that as this peak.
const status = (() => {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return '';
  }
})();
const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(status);
const peakRssMb = (hwm !== null ? Number(hwm[1]) : process.resourceUsage().maxRSS) / 1024;
process.stdout.write(`${JSON.stringify({ peakRssMb, rssAfterEpochMb })}\n`);
