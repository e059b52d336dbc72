// `npm run bench`: vaekit's speed and memory on this machine, in one run, printed as a table and
// written as JSON. `npm run bench -- --smoke` runs every part on tiny sizes (CI uses it; no timing
// is asserted anywhere). See BENCHMARKS.md for recorded runs and what each line means.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { withGemm, type Backend } from '../src/engine/backend.js';
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
import { floorRunner, productFlops, productRunner, recordProducts } from './workload.js';
import { loadNativeAddon } from '../src/engine/native-backend.js';
import { resolvePrecision, type Precision } from '../src/engine/precision.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Sizes {
  /** Training images per measured epoch. */
  trainImages: number;
  /** Rounds of (an epoch of the limit's products, of the floor, of training) for the seed preset; the fastest of each is reported. */
  epochs: number;
  /** Training images per measured conv-preset epoch, and its rounds. */
  convImages: number;
  convEpochs: number;
  /** Repeats of the OpenBLAS limit's products (the fastest is reported). */
  limitRepeats: number;
  peerWasmSteps: number;
  peerCpuSteps: number;
  jsSteps: number;
  inferenceImages: number;
  memoryEpochs: number;
  /** MNIST digits written out as PNG files and loaded back as an image folder. */
  folderImages: number;
  /** Training images and rounds of the seed epochs on 1, 2 and every thread (threads-child.ts). */
  threadImages: number;
  threadRounds: number;
}

const FULL: Sizes = {
  trainImages: 60_000, epochs: 4, convImages: 60_000, convEpochs: 2, limitRepeats: 3, peerWasmSteps: 30, peerCpuSteps: 8, jsSteps: 8,
  inferenceImages: 10_000, memoryEpochs: 4, folderImages: 60_000, threadImages: 60_000, threadRounds: 3,
};
const SMOKE: Sizes = {
  trainImages: 512, epochs: 1, convImages: 256, convEpochs: 1, limitRepeats: 1, peerWasmSteps: 2, peerCpuSteps: 1, jsSteps: 1,
  inferenceImages: 200, memoryEpochs: 2, folderImages: 300, threadImages: 512, threadRounds: 1,
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

/**
 * The matrix products of one epoch of `preset` in `precision` (those one real step makes, recorded,
 * then run for every step of the epoch with nothing else), through the backend's own gemm or
 * gemmBf16: the training's limit. `epoch()` runs them once and returns its seconds; `flops` is the
 * epoch's FLOPs.
 */
function productEpoch(backend: Backend, preset: string, precision: Precision, count: number): { epoch: () => number; flops: number } {
  const full = Math.floor(count / BATCH);
  const rest = count - full * BATCH;
  const config = presetConfig(preset);
  const fullStep = recordProducts(backend, config, precision, BATCH);
  const lastStep = rest > 0 ? recordProducts(backend, config, precision, rest) : [];
  const runFull = productRunner(backend, fullStep);
  const runLast = productRunner(backend, lastStep);
  runFull.run(); // primitives made, buffers touched
  const epoch = (): number => seconds(() => {
    for (let s = 0; s < full; s++) runFull.run();
    runLast.run();
  });
  return { epoch, flops: full * productFlops(fullStep) + productFlops(lastStep) };
}

/** The limit alone: the fastest of `repeats` epochs of products. */
function measureLimit(backend: Backend, preset: string, precision: Precision, count: number, repeats: number): { seconds: number; flops: number } {
  const products = productEpoch(backend, preset, precision, count);
  let fastest = Infinity;
  for (let r = 0; r < repeats; r++) fastest = Math.min(fastest, products.epoch());
  return { seconds: fastest, flops: products.flops };
}

/**
 * The limit, the floor (workload.ts' floorRunner, for every step of the epoch) and the real
 * training epoch (fit) of a preset, taken in turns: `rounds` times an epoch of the products, an
 * epoch of the floor, then one epoch of training. Each is the fastest of its rounds. Taken apart
 * (all the limits, then all the epochs), a shared machine's slow minutes would fall on one and not
 * the other and move their ratio; in turns, all three see the same minutes.
 */
async function measureTraining(backend: Backend, preset: string, precision: Precision, train: Dataset, rounds: number): Promise<{ limit: number; flops: number; floor: number; epoch: number }> {
  const products = productEpoch(backend, preset, precision, train.count);
  const floorStep = floorRunner(backend, presetConfig(preset), precision, BATCH);
  const steps = Math.ceil(train.count / BATCH);
  const vae = new Vae(presetConfig(preset), { backend, seed: 0 });
  let [limit, floor, epoch] = [Infinity, Infinity, Infinity];
  for (let r = 0; r < rounds; r++) {
    limit = Math.min(limit, products.epoch());
    floor = Math.min(floor, seconds(() => { for (let s = 0; s < steps; s++) floorStep.run(); }));
    const history = await fit(vae, train, { epochs: 1, precision });
    epoch = Math.min(epoch, history.epochs[0]!.seconds);
  }
  return { limit, flops: products.flops, floor, epoch };
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

interface ThreadRun {
  seconds: number;
  hash: string;
  threads: number;
}

/** A seed epoch in a fresh process with `threads` threads (threads-child.ts): the fastest of its rounds, and its weights' hash. */
function measureThreads(threads: number, precision: Precision, products: 'native' | 'openblas' | 'portable', sizes: Sizes, shards = 1): ThreadRun {
  const args = ['--import', 'tsx', join(here, 'threads-child.ts'), precision, products, String(sizes.threadImages), String(sizes.threadRounds), String(shards)];
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, VAEKIT_THREADS: String(threads) } });
  if (child.status !== 0) throw new Error(`the ${threads}-thread run failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as ThreadRun;
}

function machine(backend: Backend): Record<string, unknown> {
  const info = backend.info();
  const bf16 = info.bf16;
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
    openblas: blasVersion,
    onednn: bf16.oneDnn === undefined ? 'n/a' : `${bf16.oneDnn} (${bf16.isa ?? '?'})`,
    bf16: bf16.available ? 'yes' : `no: ${bf16.reason ?? '?'}`,
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
  const rows: Array<[string, string]> = [];
  const say = (what: string, value: string): void => {
    rows.push([what, value]);
    process.stderr.write(`  ${what}: ${value}\n`);
  };
  const m = machine(backend);
  process.stderr.write(`vaekit bench (${opts.smoke === true ? 'smoke' : 'full'}) on ${String(m['cpu'])}, ${String(m['cores'])} cores; fp32 products: ${String(m['blas'])}; oneDNN ${String(m['onednn'])}; bf16: ${String(m['bf16'])}\n`);

  // The seed and conv presets in fp32 and, where this machine runs it, bf16: the products alone
  // (the limit), Adam and the input noise alone (the floor), the real training epoch, and ratios.
  const precisions: Precision[] = resolvePrecision(backend, 'bf16').precision === 'bf16' ? ['fp32', 'bf16'] : ['fp32'];
  const training: Record<string, { limitSeconds: number; limitGflops: number; floorSeconds: number; secondsPerEpoch: number; samplesPerSecond: number; ratioToLimit: number; floorRatio: number; images: number }> = {};
  for (const preset of ['seed', 'conv']) {
    const images = preset === 'seed' ? train : takeFirst(train, sizes.convImages);
    for (const precision of precisions) {
      const t = await measureTraining(backend, preset, precision, images, preset === 'seed' ? sizes.epochs : sizes.convEpochs);
      const tag = `${preset} ${precision}`;
      const gflops = t.flops / t.limit / 1e9;
      say(`${tag}: limit (matrix products of one epoch)`, `${t.limit.toFixed(3)} s, ${gflops.toFixed(1)} GFLOP/s`);
      say(`${tag}: training seconds per epoch`, `${t.epoch.toFixed(3)} s (${images.count} images, ${(images.count / t.epoch).toFixed(0)} samples/s)`);
      say(`${tag}: ratio to the limit`, `${(t.epoch / t.limit).toFixed(3)}x`);
      say(`${tag}: floor (Adam and input noise alone, per epoch)`, `${t.floor.toFixed(3)} s; limit + floor: ${((t.limit + t.floor) / t.limit).toFixed(3)}x the limit`);
      training[tag] = {
        limitSeconds: t.limit, limitGflops: gflops, floorSeconds: t.floor, secondsPerEpoch: t.epoch, samplesPerSecond: images.count / t.epoch,
        ratioToLimit: t.epoch / t.limit, floorRatio: (t.limit + t.floor) / t.limit, images: images.count,
      };
    }
  }
  const seed = training['seed fp32']!;
  const limit = seed.limitSeconds;
  const epoch = seed.secondsPerEpoch;
  const samplesPerSecond = seed.samplesPerSecond;
  // OpenBLAS beside oneDNN's fp32 matmul on the same products (vaekit uses oneDNN's where it has it).
  const blasLimits: Record<string, number> = {};
  if (backend.info().blas === 'onednn') {
    const raw = loadNativeAddon();
    const viaBlas = withGemm(backend, raw.gemmBlas);
    for (const preset of ['seed', 'conv']) {
      const images = preset === 'seed' ? train.count : Math.min(train.count, sizes.convImages);
      const l = measureLimit(viaBlas, preset, 'fp32', images, sizes.limitRepeats);
      blasLimits[preset] = l.seconds;
      say(`${preset} fp32: limit through OpenBLAS instead of oneDNN`, `${l.seconds.toFixed(3)} s, ${(l.flops / l.seconds / 1e9).toFixed(1)} GFLOP/s`);
    }
  }

  // The seed epoch on 1 thread, 2 threads and (where there are more) every core, each in a fresh
  // process (the pool's size is fixed when it starts), with the weights' hash: the same bits on
  // every thread count. Then the bundled kernel against OpenBLAS, both on every core.
  const threadRuns: Record<string, ThreadRun> = {};
  const cores = cpus().length;
  for (const precision of precisions) {
    const counts = [...new Set([1, 2, cores])];
    for (const t of counts) threadRuns[`${precision} ${t}`] = measureThreads(t, precision, 'native', sizes);
    const one = threadRuns[`${precision} 1`]!;
    for (const t of counts.slice(1)) {
      const run = threadRuns[`${precision} ${t}`]!;
      say(`seed ${precision}: epoch on ${t} threads against 1`, `${run.seconds.toFixed(3)} s against ${one.seconds.toFixed(3)} s: ${(one.seconds / run.seconds).toFixed(2)}x; same bits: ${run.hash === one.hash ? 'yes' : 'NO'}`);
    }
  }
  // Data parallelism (training.shards 8): the batch as 8 shards, each thread running whole shards.
  for (const t of [1, cores]) threadRuns[`fp32 ${t} shards 8`] = measureThreads(t, 'fp32', 'native', sizes, 8);
  const [shardedOne, shardedAll] = [threadRuns['fp32 1 shards 8']!, threadRuns[`fp32 ${cores} shards 8`]!];
  say(`seed fp32 on 8 shards: epoch on ${cores} threads against 1`, `${shardedAll.seconds.toFixed(3)} s against ${shardedOne.seconds.toFixed(3)} s: ${(shardedOne.seconds / shardedAll.seconds).toFixed(2)}x; same bits: ${shardedAll.hash === shardedOne.hash ? 'yes' : 'NO'}; against 1 shard on ${cores} threads: ${(shardedAll.seconds / threadRuns[`fp32 ${cores}`]!.seconds).toFixed(2)}x the time`);
  if (backend.info().blas === 'onednn' || backend.info().blas === 'openblas') {
    for (const products of ['openblas', 'portable'] as const) threadRuns[`fp32 ${cores} ${products}`] = measureThreads(cores, 'fp32', products, sizes);
    const [blas, portable] = [threadRuns[`fp32 ${cores} openblas`]!, threadRuns[`fp32 ${cores} portable`]!];
    say(`seed fp32: epoch with the bundled kernel against OpenBLAS (${cores} threads)`, `${portable.seconds.toFixed(3)} s against ${blas.seconds.toFixed(3)} s: ${(portable.seconds / blas.seconds).toFixed(2)}x`);
  }

  const peerImages = new Float32Array(Math.min(train.count, 4096) * 784);
  train.gather(null, 0, peerImages.length / 784, peerImages);
  const wasm = await runTfjsPeer({ backend: 'wasm', steps: sizes.peerWasmSteps, warmup: 2, batchSize: BATCH, images: peerImages, count: peerImages.length / 784 });
  say('tfjs wasm: samples per second', `${wasm.samplesPerSecond.toFixed(1)} (${wasm.steps} steps, ${wasm.wasmVariant ?? '?'}, threads ${String(wasm.threads)})`);
  say('speed-up over tfjs wasm', `${(samplesPerSecond / wasm.samplesPerSecond).toFixed(1)}x`);

  // The health guard's check over the gradients, once per step: its share of a training step. In
  // training it is Adam's first pass (native/adam.cc), in the floor above; here it runs alone.
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
    limit: { seconds: limit, gflops: seed.limitGflops },
    openblasLimitSeconds: blasLimits,
    healthCheck: { secondsPerEpoch: check, shareOfEpoch: check / epoch },
    training,
    tfjsWasm: wasm,
    speedUpOverTfjsWasm: samplesPerSecond / wasm.samplesPerSecond,
    inference: { images: test.count, ...inference },
    memory: { ...memory, growthMb: growth },
    jsBackend: { secondsPerStep: jsStep, samplesPerSecond: BATCH / jsStep },
    tfjsCpu: cpu,
    jsOverTfjsCpu: BATCH / jsStep / cpu.samplesPerSecond,
    imageFolder: folder,
    threads: threadRuns,
  };
  mkdirSync(dirname(opts.json), { recursive: true });
  writeFileAtomic(opts.json, `${JSON.stringify(results, null, 2)}\n`);
  const width = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(`\n| measure | value |\n| --- | --- |\n${rows.map(([a, b]) => `| ${a.padEnd(width)} | ${b} |`).join('\n')}\n\nJSON: ${opts.json}\n`);
}

await main();
