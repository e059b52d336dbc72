// Where the time of a seed-preset training epoch goes: wraps every backend kernel with a timer and
// times the JavaScript stages (batching, noise, sampling) around them.
// Run: npx tsx bench/profile-step.ts [steps=200] [preset=seed] [precision=fp32] [--shapes]
// (--shapes: one line per matrix-product shape instead of one per transpose case)
import type { Backend } from '../src/engine/backend.js';
import { getBackend } from '../src/engine/index.js';
import { Random } from '../src/engine/random.js';
import { shuffledOrder } from '../src/data/batches.js';
import { loadMnist } from '../src/data/sources/mnist.js';
import { applyNoise } from '../src/data/transforms/noise.js';
import { Adam } from '../src/nn/adam.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';
import { parsePrecision, resolvePrecision } from '../src/engine/precision.js';
import { resolveObjective } from '../src/vae/objective.js';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const steps = Number(positional[0] ?? 200);
const preset = positional[1] ?? 'seed';
const precision = parsePrecision(positional[2] ?? 'fp32');
const byShape = process.argv.includes('--shapes');
const totals = new Map<string, number>();
const add = (name: string, ms: number): void => { totals.set(name, (totals.get(name) ?? 0) + ms); };

function timed(inner: Backend): Backend {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'info') return value;
      const fn = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const t = performance.now();
        const r = fn.apply(target, args);
        let name = String(prop);
        if (prop === 'gemm' || prop === 'gemmBf16') {
          name = `${String(prop)} ${args[0] ? 'T' : 'N'}${args[1] ? 'T' : 'N'}${byShape ? ` ${String(args[2])}x${String(args[3])}x${String(args[4])}` : ''}`;
        }
        if (prop === 'biasActivation' || prop === 'activationBackward') name = `${name} ${String(args[5] ?? args[4])}`;
        if (prop === 'gemmBiasActivation' || prop === 'gemmBf16BiasActivation') name = `${name} ${String(args[6])}${byShape ? ` ${String(args[0])}x${String(args[1])}x${String(args[2])}` : ''}`;
        add(name, performance.now() - t);
        return r;
      };
    },
  });
}

const backend = timed(getBackend());
const train = loadMnist('train');
const vae = new Vae(presetConfig(preset), { backend, seed: 0 });
const resolved = resolvePrecision(backend, precision);
if (resolved.note !== null) console.log(resolved.note);
vae.setPrecision(resolved.precision);
const opt = new Adam(vae.params, { learningRate: 1e-3 });
const B = 128;
const clean = new Float32Array(B * 784);
const noisy = new Float32Array(B * 784);
const order = shuffledOrder(train.count, new Random(1));
const rng = new Random(2);
const objective = resolveObjective({ loss: 'elbo', beta: 1 });
const t0 = performance.now();
for (let s = 0; s < steps; s++) {
  const start = (s * B) % (train.count - B);
  let t = performance.now();
  train.gather(order, start, B, clean, backend);
  add('js: gather', performance.now() - t);
  t = performance.now();
  applyNoise({ kind: 'gaussian', factor: 0.2 }, clean, noisy, B, 784, order.subarray(start, start + B), 3, 1);
  add('js: applyNoise', performance.now() - t);
  t = performance.now();
  vae.run(noisy, clean, B, objective, rng, true);
  add('vae.run (all)', performance.now() - t);
  t = performance.now();
  opt.update(backend);
  add('optimizer.update (all)', performance.now() - t);
}
const total = performance.now() - t0;
const perEpoch = (ms: number): string => ((ms / steps) * Math.ceil(60000 / B) / 1000).toFixed(3);
console.log(`backend ${getBackend().info().backend} (${getBackend().info().blas}), preset ${preset}, ${resolved.precision}, ${steps} steps of batch ${B}`);
console.log(`total ${perEpoch(total)} s per 60k epoch`);
for (const [name, ms] of [...totals].sort((a, b) => b[1] - a[1])) {
  console.log(`${name.padEnd(32)} ${(ms / steps).toFixed(3).padStart(8)} ms/step ${perEpoch(ms).padStart(7)} s/epoch`);
}
