// What training's test evaluation costs on the js backend: the 10,000 MNIST test images scored as
// `vaekit train` scores them there now (one posterior sample each), and the ten-sample ELBO it
// took before, alone. An untrained seed-preset model: the cost does not depend on the weights.
//   node --import tsx bench/js-eval.ts
import { cpus } from 'node:os';
import { loadMnist } from '../src/data/sources/mnist.js';
import { JsBackend, setBackend } from '../src/engine/index.js';
import { evalBatches } from '../src/data/inference.js';
import { ELBO_SAMPLES, elboParts, evalSampleRng, evaluateDenoising } from '../src/eval/evaluate.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';

setBackend(new JsBackend());
const test = loadMnist('test');
const vae = new Vae(presetConfig('seed'), { seed: 0 });
const noise = { kind: 'gaussian', factor: 0.2 } as const;
console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores)`);
let start = performance.now();
const m = evaluateDenoising(vae, test, { noise, seed: 0 });
console.log(`js: training's test evaluation (${m.elboSamples} posterior sample each), ${test.count} images: ${((performance.now() - start) / 1000).toFixed(1)} s`);
start = performance.now();
const rng = evalSampleRng(0);
for (const b of evalBatches(test, { noise, seed: 0 }, 500, vae.backend)) elboParts(vae, b.input, b.target, b.rows, rng, null, ELBO_SAMPLES);
console.log(`js: the ${ELBO_SAMPLES}-sample ELBO alone, ${test.count} images: ${((performance.now() - start) / 1000).toFixed(1)} s`);
