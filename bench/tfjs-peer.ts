/**
 * The peer benchmark: vaekit's seed training step written the way a TensorFlow.js user would write it,
 * trained and timed on tfjs' wasm or cpu backend (tfjs-node needs a binary download, so it is not
 * a peer here). The model, loss, optimizer and batch match vaekit's seed step exactly:
 *
 *   noisy  = clip(x + 0.2 * N(0, 1), 0, 1)                 (drawn with tf ops inside the timed step)
 *   h      = relu(noisy W1 + b1)          784 -> 512
 *   stats  = h W2 + b2                    512 -> 80       (first 40 = mean, last 40 = log-variance)
 *   z      = mean + exp(0.5 logvar) * eps, eps ~ N(0, 1) drawn each step
 *   logits = relu(z W3 + b3) W4 + b4      40 -> 512 -> 784
 *   loss   = mean over the batch of [ sum over pixels BCE-with-logits(logits, x)
 *                                     + 0.5 sum(mean^2 + exp(logvar) - 1 - logvar) ]
 *   Adam(1e-3, 0.9, 0.999, 1e-7), Glorot-uniform kernels, zero biases.
 *
 * The wasm binaries are read from the installed @tensorflow/tfjs-backend-wasm package, never fetched.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export type PeerBackend = 'wasm' | 'cpu';

/** Which wasm binary tfjs chose: plain, SIMD, or SIMD with threads (tfjs disables threads in Node). */
export type WasmVariant = 'plain' | 'simd' | 'threaded-simd';

export interface PeerResult {
  backend: PeerBackend;
  /** Threads the backend computes with: XNNPACK's thread count on wasm; 1 on cpu (kernels run on the calling thread). */
  threads: number | null;
  steps: number;
  batchSize: number;
  seconds: number;
  samplesPerSecond: number;
  finalLoss: number;
  /** On wasm, the binary tfjs loaded; absent on cpu. */
  wasmVariant?: WasmVariant;
}

export interface PeerOptions {
  backend: PeerBackend;
  steps: number;
  warmup?: number;
  batchSize?: number;
  /** n*784 pixel values in [0, 1]. */
  images: Float32Array;
  count: number;
  seed?: number;
}

const PIXELS = 784;
const HIDDEN = 512;
const LATENT = 40;
const NOISE_FACTOR = 0.2;

interface SeedVariables {
  encoderHiddenKernel: tf.Variable;
  encoderHiddenBias: tf.Variable;
  encoderStatsKernel: tf.Variable;
  encoderStatsBias: tf.Variable;
  decoderHiddenKernel: tf.Variable;
  decoderHiddenBias: tf.Variable;
  decoderOutputKernel: tf.Variable;
  decoderOutputBias: tf.Variable;
}

let wasmPathsSet = false;

/** The folder holding the installed package's .wasm files (with a trailing slash, as tfjs expects). */
function wasmDirectory(): string {
  const require = createRequire(import.meta.url);
  return `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`;
}

async function activateBackend(backend: PeerBackend): Promise<void> {
  if (backend === 'wasm' && !wasmPathsSet) {
    setWasmPaths(wasmDirectory());
    wasmPathsSet = true;
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js could not start its ${backend} backend.`);
  await tf.ready();
}

async function wasmVariant(): Promise<WasmVariant> {
  const [simd, threads] = await Promise.all([
    tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
  ]);
  if (simd === true && threads === true) return 'threaded-simd';
  return simd === true ? 'simd' : 'plain';
}

/** A Glorot-uniform kernel, as Keras' Dense and vaekit's Dense initialize it. */
function glorotKernel(inputs: number, outputs: number, seed: number, name: string): tf.Variable {
  const limit = Math.sqrt(6 / (inputs + outputs));
  return tf.variable(tf.randomUniform([inputs, outputs], -limit, limit, 'float32', seed), true, name);
}

function zeroBias(outputs: number, name: string): tf.Variable {
  return tf.variable(tf.zeros([outputs]), true, name);
}

function createSeedVariables(seed: number): SeedVariables {
  // Unique names: tfjs refuses two live variables with the same name.
  const tag = `vaekit_peer_${seed}_${Date.now()}_${Math.floor(Math.random() * 1e9)}`;
  return tf.tidy(() => ({
    encoderHiddenKernel: glorotKernel(PIXELS, HIDDEN, seed + 1, `${tag}_enc_w1`),
    encoderHiddenBias: zeroBias(HIDDEN, `${tag}_enc_b1`),
    encoderStatsKernel: glorotKernel(HIDDEN, 2 * LATENT, seed + 2, `${tag}_enc_w2`),
    encoderStatsBias: zeroBias(2 * LATENT, `${tag}_enc_b2`),
    decoderHiddenKernel: glorotKernel(LATENT, HIDDEN, seed + 3, `${tag}_dec_w1`),
    decoderHiddenBias: zeroBias(HIDDEN, `${tag}_dec_b1`),
    decoderOutputKernel: glorotKernel(HIDDEN, PIXELS, seed + 4, `${tag}_dec_w2`),
    decoderOutputBias: zeroBias(PIXELS, `${tag}_dec_b2`),
  }));
}

/** The seed VAE's negative ELBO (Bernoulli likelihood, beta 1), averaged over the batch. */
function seedLoss(v: SeedVariables, clean: tf.Tensor2D, noiseSeed: number, epsSeed: number): tf.Scalar {
  const batch = clean.shape[0];
  const noisy = tf.clipByValue(tf.add(clean, tf.mul(tf.randomNormal([batch, PIXELS], 0, 1, 'float32', noiseSeed), NOISE_FACTOR)), 0, 1);
  const hidden = tf.relu(tf.add(tf.matMul(noisy, v.encoderHiddenKernel), v.encoderHiddenBias));
  const stats = tf.add(tf.matMul(hidden, v.encoderStatsKernel), v.encoderStatsBias);
  const [mean, logvar] = tf.split(stats, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  const eps = tf.randomNormal([batch, LATENT], 0, 1, 'float32', epsSeed);
  const z = tf.add(mean, tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps));
  const decoded = tf.relu(tf.add(tf.matMul(z, v.decoderHiddenKernel), v.decoderHiddenBias));
  const logits = tf.add(tf.matMul(decoded, v.decoderOutputKernel), v.decoderOutputBias);
  const crossEntropy = tf.losses.sigmoidCrossEntropy(clean, logits, undefined, 0, tf.Reduction.NONE);
  const reconstruction = tf.sum(crossEntropy, 1);
  const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(tf.square(mean), tf.exp(logvar)), 1), logvar), 1), 0.5);
  return tf.mean(tf.add(reconstruction, kl));
}

/** Copies batch number `index` (images taken in order, wrapping around) into `out`. */
function fillBatch(out: Float32Array, images: Float32Array, count: number, batchSize: number, index: number): void {
  let image = (index * batchSize) % count;
  for (let row = 0; row < batchSize; row++) {
    out.set(images.subarray(image * PIXELS, (image + 1) * PIXELS), row * PIXELS);
    image = image + 1 === count ? 0 : image + 1;
  }
}

function validate(options: PeerOptions, batchSize: number, warmup: number): void {
  const { steps, images, count } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}.`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`warmup must be a non-negative integer, got ${warmup}.`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}.`);
  if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a positive integer, got ${count}.`);
  if (images.length < count * PIXELS) throw new Error(`images holds ${images.length} values, fewer than count * 784 = ${count * PIXELS}.`);
}

/** Trains the seed VAE with tfjs on `backend` for `steps` steps (after `warmup` untimed steps) and times it. */
export async function runTfjsPeer(options: PeerOptions): Promise<PeerResult> {
  const batchSize = options.batchSize ?? 128;
  const warmup = options.warmup ?? 1;
  const seed = options.seed ?? 0;
  validate(options, batchSize, warmup);
  const { backend, steps, images, count } = options;

  // PROD only silences tfjs' console hints (the cpu backend's "install tfjs-node" banner); restored after.
  const wasProd = tf.env().getBool('PROD');
  tf.env().set('PROD', true);
  try {
    await activateBackend(backend);
    const threads = backend === 'wasm' ? getThreadsCount() : 1;
    const variant = backend === 'wasm' ? await wasmVariant() : undefined;

    const variables = createSeedVariables(seed);
    const varList = Object.values(variables);
    const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-7);
    const batchPixels = new Float32Array(batchSize * PIXELS);
    let stepIndex = 0;

    /** One full training step; returns the loss after reading it back (so the work is done). */
    const step = (): number => {
      const index = stepIndex++;
      fillBatch(batchPixels, images, count, batchSize, index);
      const loss = tf.tidy(() => {
        const clean = tf.tensor2d(batchPixels, [batchSize, PIXELS]);
        const noiseSeed = seed * 1_000_003 + 2 * index + 1;
        const cost = optimizer.minimize(() => seedLoss(variables, clean, noiseSeed, noiseSeed + 1), true, varList);
        if (cost === null) throw new Error('tfjs returned no loss from optimizer.minimize.');
        return cost;
      });
      const value = loss.dataSync()[0]!;
      loss.dispose();
      return value;
    };

    try {
      for (let i = 0; i < warmup; i++) step();
      let finalLoss = Number.NaN;
      const start = performance.now();
      for (let i = 0; i < steps; i++) finalLoss = step();
      const seconds = (performance.now() - start) / 1000;
      const result: PeerResult = {
        backend,
        threads,
        steps,
        batchSize,
        seconds,
        samplesPerSecond: (steps * batchSize) / seconds,
        finalLoss,
      };
      if (variant !== undefined) result.wasmVariant = variant;
      return result;
    } finally {
      optimizer.dispose();
      tf.dispose(varList);
    }
  } finally {
    tf.env().set('PROD', wasProd);
  }
}
