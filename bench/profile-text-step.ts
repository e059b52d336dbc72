// Where the time of a text-VAE training step goes: every backend kernel wrapped with a timer, the
// rest (the recurrences' JavaScript, the softmax, batching) as "other"; tokens per second.
// Run: npx tsx bench/profile-text-step.ts FILE.txt [steps=40] [batch=32] [preset=text] [vocab=10000]
// (FILE.txt: e.g. bench/data/brown/train.txt from bench/text-corpora.ts)
import type { Backend } from '../src/engine/backend.js';
import { getBackend } from '../src/engine/index.js';
import { Random } from '../src/engine/random.js';
import { bucketedOrder } from '../src/data/batches.js';
import { loadText } from '../src/data/sources/text.js';
import { Adam } from '../src/nn/adam.js';
import { resolveObjective } from '../src/vae/objective.js';
import { textPresetConfig } from '../src/vae/text/config.js';
import { TextVae } from '../src/vae/text/model.js';

const [file, stepsText, batchText, preset, vocabText] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: bench/profile-text-step.ts FILE.txt [steps] [batch] [preset] [vocab]');
const steps = Number(stepsText ?? 40);
const B = Number(batchText ?? 32);
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
        const name = prop === 'gemm' ? `gemm ${args[0] ? 'T' : 'N'}${args[1] ? 'T' : 'N'}` : String(prop);
        add(name, performance.now() - t);
        return r;
      };
    },
  });
}

const set = await loadText(file, { tokens: 'word', lowercase: true, vocab: Number(vocabText ?? 10000) });
const backend = timed(getBackend());
const vae = new TextVae(textPresetConfig(preset ?? 'text', { vocab: set.text!.vocabulary.size, maxLength: set.shape[0]! }), { backend, seed: 0 });
const opt = new Adam(vae.params, { learningRate: 1e-3 });
const order = bucketedOrder(set.text!.lengths, B, new Random(1));
const rows = new Float32Array(B * set.size);
const rng = new Random(2);
const objective = resolveObjective({ loss: 'elbo', beta: 1 });
let tokens = 0;
const t0 = performance.now();
for (let s = 0; s < steps; s++) {
  set.gather(order, s * B, B, rows);
  for (let r = 0; r < B; r++) tokens += set.text!.lengths[order[s * B + r]!]! + 1;
  vae.run(rows, rows, B, objective, rng, true, null);
  opt.update(backend);
}
const ms = performance.now() - t0;
const kernels = [...totals.values()].reduce((a, b) => a + b, 0);
console.log(`${backend.info().backend} (${backend.info().blas}), preset ${preset ?? 'text'}, vocab ${vae.vocab}, batch ${B}, ${steps} steps: ${(ms / steps).toFixed(1)} ms/step, ${(tokens / (ms / 1000)).toFixed(0)} tokens/s (<eos> included)`);
for (const [name, t] of [...totals.entries()].sort((a, b) => b[1] - a[1])) console.log(`  ${name.padEnd(24)} ${(t / steps).toFixed(2).padStart(8)} ms/step  ${(100 * t / ms).toFixed(1).padStart(5)}%`);
console.log(`  ${'other (JavaScript)'.padEnd(24)} ${((ms - kernels) / steps).toFixed(2).padStart(8)} ms/step  ${(100 * (ms - kernels) / ms).toFixed(1).padStart(5)}%`);
