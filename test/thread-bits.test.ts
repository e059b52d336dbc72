/**
 * A training run gives the same bits on any number of threads (issue 22): every kernel splits its
 * work into units fixed by the shapes alone, never by the pool's size, and sums partial results in
 * a fixed order. Each case trains in child processes started with VAEKIT_THREADS 1, 2 and 5 (more
 * threads than this machine's cores) and compares a hash of the weights, Adam's moments and the
 * loss history.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { loadNativeAddon } from '../src/engine/native-backend.js';

function nativeState(): { skip: string | false; bf16: boolean } {
  try {
    const info = loadNativeAddon().info();
    return { skip: false, bf16: info.dnnl.available && info.dnnl.nativeBf16 === true };
  } catch (err) {
    return { skip: `the native addon is not built (${(err as Error).message})`, bf16: false };
  }
}
const native = nativeState();

/** The child: trains `preset` (with overrides) on made-up data for one epoch of 3 steps (the last one short) and prints a hash. */
const CHILD = `
  const { fit } = await import(${JSON.stringify(new URL('../src/train/fit.ts', import.meta.url).href)});
  const { Vae } = await import(${JSON.stringify(new URL('../src/vae/model.ts', import.meta.url).href)});
  const { presetConfig } = await import(${JSON.stringify(new URL('../src/vae/config.ts', import.meta.url).href)});
  const { arrayDataset } = await import(${JSON.stringify(new URL('../src/data/dataset.ts', import.meta.url).href)});
  const { Random } = await import(${JSON.stringify(new URL('../src/engine/random.ts', import.meta.url).href)});
  const { getBackend } = await import(${JSON.stringify(new URL('../src/engine/index.ts', import.meta.url).href)});
  const { loadNativeAddon } = await import(${JSON.stringify(new URL('../src/engine/native-backend.ts', import.meta.url).href)});
  const { withGemm } = await import(${JSON.stringify(new URL('../src/engine/backend.ts', import.meta.url).href)});
  const spec = JSON.parse(process.env.CASE);
  const config = presetConfig(spec.preset, spec.overrides);
  // products 'portable': the bundled kernel in place of oneDNN's (what a machine without oneDNN and OpenBLAS runs).
  const base = getBackend();
  const portable = loadNativeAddon().gemmPortable;
  const backend = spec.products === 'portable' ? withGemm(base, portable) : base;
  const vae = new Vae(config, { seed: 7, backend });
  const size = vae.pixels;
  const rows = 300;
  const rng = new Random(11);
  const image = config.inputShape.length === 3;
  const values = image ? new Uint8Array(rows * size) : new Float32Array(rows * size);
  for (let i = 0; i < values.length; i++) values[i] = image ? rng.int(256) : rng.normal();
  const labels = config.classes > 0 ? Int32Array.from({ length: rows }, (_, i) => i % config.classes) : null;
  const names = labels === null ? null : Array.from({ length: config.classes }, (_, i) => String(i));
  const set = arrayDataset({ values, shape: config.inputShape, labels, labelNames: names, source: 'made-up' });
  const history = await fit(vae, set, { epochs: 1, batchSize: 128, seed: 3, precision: spec.precision ?? 'fp32', ...(spec.fit ?? {}) });
  let hash = 2166136261;
  const mix = (a) => { const u = new Uint32Array(a.buffer, a.byteOffset, a.length); for (let i = 0; i < u.length; i++) hash = Math.imul(hash ^ u[i], 16777619) >>> 0; };
  mix(vae.params.values);
  mix(Float64Array.from(history.epochs.flatMap((e) => [e.loss, e.recon, e.kl])));
  console.log(hash.toString(16), history.epochs[0].loss);
`;

function digest(threads: number, spec: object, env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', CHILD], {
    encoding: 'utf8', env: { ...process.env, VAEKIT_THREADS: String(threads), VAEKIT_BACKEND: 'native', CASE: JSON.stringify(spec), ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

const CASES: { name: string; spec: object; bf16?: boolean; env?: Record<string, string> }[] = [
  { name: 'the seed preset', spec: { preset: 'seed' } },
  { name: 'the seed preset through OpenBLAS', spec: { preset: 'seed' }, env: { VAEKIT_DNNL: 'off' } },
  { name: 'the seed preset through the bundled kernel', spec: { preset: 'seed', products: 'portable' } },
  { name: 'the seed preset in bf16', spec: { preset: 'seed', precision: 'bf16' }, bf16: true },
  { name: 'the conv preset', spec: { preset: 'conv', overrides: { convChannels: [8, 16], encoderHidden: [64], decoderHidden: [64] } } },
  { name: 'a conditional model with the mixture prior', spec: { preset: 'mlp', overrides: { prior: 'mog', priorComponents: 20, latent: 16, classes: 3 } } },
  { name: 'the seed preset on 4 shards', spec: { preset: 'seed', fit: { shards: 4 } } },
  { name: 'the seed preset on 3 shards in bf16', spec: { preset: 'seed', precision: 'bf16', fit: { shards: 3 } }, bf16: true },
  { name: 'a conditional model with the mixture prior on 4 shards', spec: { preset: 'mlp', overrides: { prior: 'mog', priorComponents: 20, latent: 16, classes: 3 }, fit: { shards: 4 } } },
  { name: 'the series-rnn preset', spec: { preset: 'series-rnn', overrides: { inputShape: [48], sequence: { length: 48, channels: 1 } } } },
];

for (const c of CASES) {
  const skip = native.skip !== false ? native.skip : c.bf16 === true && !native.bf16 ? 'this machine runs no native bf16 products' : false;
  test(`${c.name} trains to the same bits on 1, 2 and 5 threads`, { skip }, () => {
    const one = digest(1, c.spec, c.env);
    assert.match(one, /^[0-9a-f]+ \d/, 'a hash and a finite loss');
    assert.equal(digest(2, c.spec, c.env), one, '2 threads');
    assert.equal(digest(5, c.spec, c.env), one, '5 threads');
  });
}
