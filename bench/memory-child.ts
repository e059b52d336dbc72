// Run by bench.ts in a fresh process: trains the seed preset (with per-epoch validation, as
// `vaekit train` does) and prints, as one JSON line, the resident memory after each epoch and the
// process's peak resident memory. Args: epochs, training images.
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
// maxRSS is in kilobytes.
const peakRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ peakRssMb, rssAfterEpochMb })}\n`);
