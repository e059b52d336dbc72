// Text training speed against PyTorch on the same machine, sentences, batches and threads:
// tokens per second (<eos> included) of vaekit's text-preset training steps and of the same model
// in PyTorch (bench/text_peer.py, Debian's python3-torch), and the time of the step's matrix
// products alone (vaekit's backend, each product of a step timed), so the ratio says what is left
// outside the products.
// Run: npx tsx bench/text-speed.ts FILE.txt [steps=40] [batch=32] [threads=all] [vocab=10000]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../src/engine/backend.js';
import { getBackend } from '../src/engine/index.js';
import { Random } from '../src/engine/random.js';
import { bucketedOrder } from '../src/data/batches.js';
import { loadText } from '../src/data/sources/text.js';
import { Adam } from '../src/nn/adam.js';
import { resolveObjective } from '../src/vae/objective.js';
import { textPresetConfig } from '../src/vae/text/config.js';
import { TextVae } from '../src/vae/text/model.js';

export interface TextSpeed {
  cpu: string;
  threads: number;
  vaekitTokensPerSecond: number;
  /** The share of vaekit's step time spent in matrix products. */
  productShare: number;
  pytorchTokensPerSecond: number | null;
  pytorchLine: string;
}

/** Times `steps` training steps of batch B on the text preset for vaekit and PyTorch (see the top of this file). */
export async function measureTextSpeed(file: string, steps: number, B: number, threads: number, vocab: number): Promise<TextSpeed> {
  const set = await loadText(file, { tokens: 'word', lowercase: true, vocab });
  const order = bucketedOrder(set.text!.lengths, B, new Random(1));
  let gemmMs = 0;
  const inner = getBackend();
  const backend: Backend = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if ((prop !== 'gemm' && prop !== 'gemmBiasActivation') || typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const t = performance.now();
        const r = fn.apply(target, args);
        gemmMs += performance.now() - t;
        return r;
      };
    },
  });
  const vae = new TextVae(textPresetConfig('text', { vocab: set.text!.vocabulary.size, maxLength: set.shape[0]! }), { backend, seed: 0 });
  const opt = new Adam(vae.params, { learningRate: 1e-3 });
  const rows = new Float32Array(B * set.size);
  const rng = new Random(2);
  const objective = resolveObjective({ loss: 'elbo', beta: 1 });
  const step = (s: number): number => {
    set.gather(order, s * B, B, rows);
    vae.run(rows, rows, B, objective, rng, true, null);
    opt.update(backend);
    let tokens = 0;
    for (let r = 0; r < B; r++) tokens += set.text!.lengths[order[s * B + r]!]! + 1;
    return tokens;
  };
  step(0);
  step(1);
  gemmMs = 0;
  let tokens = 0;
  const t0 = performance.now();
  for (let s = 2; s < steps + 2; s++) tokens += step(s);
  const ms = performance.now() - t0;
  // The same sentences, in the same batches, for PyTorch.
  const dir = mkdtempSync(join(tmpdir(), 'vaekit-text-speed-'));
  const idsFile = join(dir, 'batches.ids');
  const lines: string[] = [];
  for (let i = 0; i < (steps + 2) * B; i++) {
    const e = order[i]!;
    lines.push(Array.from(set.values!.subarray(e * set.size, e * set.size + set.text!.lengths[e]!)).join(' '));
  }
  writeFileSync(idsFile, `${lines.join('\n')}\n`);
  const peer = spawnSync('/usr/bin/python3', [join(dirname(fileURLToPath(import.meta.url)), 'text_peer.py'), idsFile, String(threads), String(steps), String(B)], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  const pytorchLine = peer.status === 0 ? peer.stdout.trim() : `PyTorch did not run: ${(peer.stderr || peer.error?.message || '').trim().split('\n').pop()}`;
  const m = /([\d.]+) tokens\/s/.exec(pytorchLine);
  return {
    cpu: cpus()[0]?.model ?? 'unknown', threads,
    vaekitTokensPerSecond: tokens / (ms / 1000), productShare: gemmMs / ms,
    pytorchTokensPerSecond: m === null ? null : Number(m[1]), pytorchLine,
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, steps, batch, threads, vocab] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: bench/text-speed.ts FILE.txt [steps] [batch] [threads] [vocab]');
  const r = await measureTextSpeed(file, Number(steps ?? 40), Number(batch ?? 32), Number(threads ?? getBackend().info().threads), Number(vocab ?? 10000));
  console.log(`${r.cpu}, ${r.threads} threads`);
  console.log(`vaekit: ${r.vaekitTokensPerSecond.toFixed(0)} tokens/s (${(100 * r.productShare).toFixed(0)}% of the step in matrix products)`);
  console.log(r.pytorchLine);
  if (r.pytorchTokensPerSecond !== null) console.log(`vaekit / PyTorch: ${(r.vaekitTokensPerSecond / r.pytorchTokensPerSecond).toFixed(2)}x`);
}
