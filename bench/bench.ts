// `npm run bench`: vaekit's speed and memory on this machine, in one run, printed as a table and
// written as JSON. `npm run bench -- --smoke` runs every part on tiny sizes (CI uses it; no timing
// is asserted anywhere). See BENCHMARKS.md for recorded runs and what each line means.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import type { Backend } from '../src/engine/backend.js';
import { JsBackend } from '../src/engine/js-backend.js';
import { getBackend } from '../src/engine/index.js';
import { Tensor } from '../src/engine/tensor.js';
import { takeFirst, type Dataset } from '../src/data/dataset.js';
import { loadMnist } from '../src/data/sources/mnist.js';
import { measureImageFolder } from './image-folder.js';
import { writeFileAtomic } from '../src/io/atomic-write.js';
import { fit } from '../src/train/fit.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';
import { runTfjsPeer } from './tfjs-peer.js';
import { epochFlops, layerShapes, productBuffers, runProducts } from './workload.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Sizes {
  /** Training images per measured epoch. */
  trainImages: number;
  /** Epochs of the timed training run (the fastest is reported). */
  epochs: number;
  /** Repeats of the limit's products (the fastest is reported). */
  limitRepeats: number;
  peerWasmSteps: number;
  peerCpuSteps: number;
  jsSteps: number;
  inferenceImages: number;
  memoryEpochs: number;
  /** MNIST digits written out as PNG files and loaded back as an image folder. */
  folderImages: number;
}

const FULL: Sizes = {
  trainImages: 60_000, epochs: 3, limitRepeats: 3, peerWasmSteps: 30, peerCpuSteps: 8, jsSteps: 8,
  inferenceImages: 10_000, memoryEpochs: 4, folderImages: 60_000,
};
const SMOKE: Sizes = {
  trainImages: 512, epochs: 1, limitRepeats: 1, peerWasmSteps: 2, peerCpuSteps: 1, jsSteps: 1,
  inferenceImages: 200, memoryEpochs: 2, folderImages: 300,
};

const BATCH = 128;

function seconds(f: () => void): number {
  const t = performance.now();
  f();
  return (performance.now() - t) / 1000;
}

function best(repeats: number, f: () => void): number {
  let b = Infinity;
  for (let i = 0; i < repeats; i++) b = Math.min(b, seconds(f));
  return b;
}

/** The matrix products of one epoch through the engine's sgemm, nothing else. */
function measureLimit(backend: Backend, vae: Vae, count: number, repeats: number): number {
  const layers = layerShapes(vae);
  const buffers = productBuffers(layers, BATCH);
  return best(repeats, () => {
    for (let start = 0; start < count; start += BATCH) runProducts(backend, layers, buffers, Math.min(BATCH, count - start));
  });
}

/** Seconds per epoch of the real training loop (fit), fastest of `epochs`. */
async function measureTraining(backend: Backend, train: Dataset, epochs: number): Promise<number> {
  const vae = new Vae(presetConfig('seed'), { backend, seed: 0 });
  const history = await fit(vae, train, { epochs });
  return Math.min(...history.epochs.map((h) => h.seconds));
}

/** Seconds per training step of the seed preset on the js backend (after one untimed step). */
async function measureJsStep(train: Dataset, steps: number): Promise<number> {
  const vae = new Vae(presetConfig('seed'), { backend: new JsBackend(), seed: 0 });
  const images = takeFirst(train, BATCH * (steps + 1));
  const history = await fit(vae, images, { epochs: 1, batchSize: BATCH });
  return history.epochs[0]!.seconds / (steps + 1);
}

function measureInference(vae: Vae, test: Dataset): { denoise: number; encode: number; decode: number } {
  const n = test.count;
  const pixels = 784;
  const images = new Float32Array(n * pixels);
  test.gather(null, 0, n, images);
  const input = new Tensor(images, [n, 28, 28]);
  vae.denoise(input); // warm the buffers
  const denoise = best(3, () => vae.denoise(input));
  let mean = vae.encode(input).mean;
  const encode = best(3, () => { mean = vae.encode(input).mean; });
  const decode = best(3, () => vae.decode(mean));
  return { denoise, encode, decode };
}

interface MemoryReport {
  peakRssMb: number;
  rssAfterEpochMb: number[];
}

/** Trains in a fresh process (so nothing else is in its heap) and reads its resident memory. */
function measureMemory(epochs: number, images: number): MemoryReport {
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'memory-child.ts'), String(epochs), String(images)], {
    encoding: 'utf8',
    env: process.env,
  });
  if (child.status !== 0) throw new Error(`memory run failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as MemoryReport;
}

function machine(backend: Backend): Record<string, unknown> {
  const info = backend.info();
  let blasVersion = 'n/a';
  try {
    const version = spawnSync('pkg-config', ['--modversion', 'openblas'], { encoding: 'utf8' });
    if (version.status === 0) blasVersion = `OpenBLAS ${version.stdout.trim()}`;
  } catch {
    // no pkg-config: leave n/a
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    backend: info.backend,
    blas: info.blas === 'openblas' ? blasVersion : info.blas,
    threads: info.threads,
  };
}

async function main(): Promise<void> {
  const program = new Command()
    .option('--smoke', 'tiny sizes: checks that every part runs (CI)')
    .option('--json <file>', 'where to write the results', join('runs', 'bench', 'latest.json'))
    .parse(process.argv);
  const opts = program.opts<{ smoke?: boolean; json: string }>();
  const sizes = opts.smoke === true ? SMOKE : FULL;
  const backend = getBackend();
  const train = takeFirst(loadMnist('train'), sizes.trainImages);
  const test = takeFirst(loadMnist('test'), sizes.inferenceImages);
  const seedVae = new Vae(presetConfig('seed'), { backend, seed: 0 });
  const flops = epochFlops(layerShapes(seedVae), train.count, BATCH);
  const rows: Array<[string, string]> = [];
  const say = (what: string, value: string): void => {
    rows.push([what, value]);
    process.stderr.write(`  ${what}: ${value}\n`);
  };
  const m = machine(backend);
  process.stderr.write(`vaekit bench (${opts.smoke === true ? 'smoke' : 'full'}) on ${String(m['cpu'])}, ${String(m['cores'])} cores, ${String(m['blas'])}\n`);

  const limit = measureLimit(backend, seedVae, train.count, sizes.limitRepeats);
  say('limit: matrix products of one epoch', `${limit.toFixed(3)} s, ${(flops / limit / 1e9).toFixed(1)} GFLOP/s`);

  const epoch = await measureTraining(backend, train, sizes.epochs);
  const samplesPerSecond = train.count / epoch;
  say('training: seconds per epoch', `${epoch.toFixed(3)} s (${train.count} images)`);
  say('training: samples per second', samplesPerSecond.toFixed(0));
  say('training: achieved GFLOP/s', (flops / epoch / 1e9).toFixed(1));
  say('training: ratio to the limit', `${(epoch / limit).toFixed(3)}x`);

  const peerImages = new Float32Array(Math.min(train.count, 4096) * 784);
  train.gather(null, 0, peerImages.length / 784, peerImages);
  const wasm = await runTfjsPeer({ backend: 'wasm', steps: sizes.peerWasmSteps, warmup: 2, batchSize: BATCH, images: peerImages, count: peerImages.length / 784 });
  say('tfjs wasm: samples per second', `${wasm.samplesPerSecond.toFixed(1)} (${wasm.steps} steps, ${wasm.wasmVariant ?? '?'}, threads ${String(wasm.threads)})`);
  say('speed-up over tfjs wasm', `${(samplesPerSecond / wasm.samplesPerSecond).toFixed(1)}x`);

  // The health guard's check over the gradients, once per step: its share of a training step.
  const stepsPerEpoch = Math.ceil(train.count / BATCH);
  const check = best(3, () => { for (let s = 0; s < stepsPerEpoch; s++) backend.countNonFinite(seedVae.params.grads, seedVae.params.count); });
  say('health check: non-finite gradients, per epoch', `${check.toFixed(4)} s (${(100 * check / epoch).toFixed(2)}% of the training epoch)`);

  const inference = measureInference(seedVae, test);
  say(`inference: denoise ${test.count} test images`, `${inference.denoise.toFixed(3)} s (${(test.count / inference.denoise).toFixed(0)} images/s)`);
  say(`inference: encode ${test.count}`, `${inference.encode.toFixed(3)} s (${(test.count / inference.encode).toFixed(0)} images/s)`);
  say(`inference: decode ${test.count}`, `${inference.decode.toFixed(3)} s (${(test.count / inference.decode).toFixed(0)} images/s)`);

  const memory = measureMemory(sizes.memoryEpochs, train.count);
  const growth = memory.rssAfterEpochMb.at(-1)! - memory.rssAfterEpochMb[0]!;
  say('memory: peak RSS of training', `${memory.peakRssMb.toFixed(0)} MB`);
  say('memory: RSS after each epoch', `${memory.rssAfterEpochMb.map((r) => r.toFixed(0)).join(', ')} MB (growth ${growth.toFixed(1)} MB)`);

  const jsStep = await measureJsStep(train, sizes.jsSteps);
  const cpu = await runTfjsPeer({ backend: 'cpu', steps: sizes.peerCpuSteps, warmup: 1, batchSize: BATCH, images: peerImages, count: peerImages.length / 784 });
  say('js backend: samples per second', `${(BATCH / jsStep).toFixed(1)} (${jsStep.toFixed(3)} s per step)`);
  say('tfjs cpu: samples per second', cpu.samplesPerSecond.toFixed(1));
  say('js backend over tfjs cpu', `${(BATCH / jsStep / cpu.samplesPerSecond).toFixed(2)}x`);

  const folder = await measureImageFolder(sizes.folderImages);
  say(`data: load ${folder.images} PNG files (28x28) from an image folder`, `${folder.loadSeconds.toFixed(2)} s (${(folder.images / folder.loadSeconds).toFixed(0)} images/s; cached again: ${folder.cachedLoadMs.toFixed(0)} ms)`);

  const results = {
    date: new Date().toISOString(),
    smoke: opts.smoke === true,
    machine: m,
    sizes,
    limit: { seconds: limit, gflops: flops / limit / 1e9 },
    healthCheck: { secondsPerEpoch: check, shareOfEpoch: check / epoch },
    training: { secondsPerEpoch: epoch, samplesPerSecond, gflops: flops / epoch / 1e9, ratioToLimit: epoch / limit, images: train.count },
    tfjsWasm: wasm,
    speedUpOverTfjsWasm: samplesPerSecond / wasm.samplesPerSecond,
    inference: { images: test.count, ...inference },
    memory: { ...memory, growthMb: growth },
    jsBackend: { secondsPerStep: jsStep, samplesPerSecond: BATCH / jsStep },
    tfjsCpu: cpu,
    jsOverTfjsCpu: BATCH / jsStep / cpu.samplesPerSecond,
    imageFolder: folder,
  };
  mkdirSync(dirname(opts.json), { recursive: true });
  writeFileAtomic(opts.json, `${JSON.stringify(results, null, 2)}\n`);
  const width = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(`\n| measure | value |\n| --- | --- |\n${rows.map(([a, b]) => `| ${a.padEnd(width)} | ${b} |`).join('\n')}\n\nJSON: ${opts.json}\n`);
}

await main();
