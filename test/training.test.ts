// The training loop on real MNIST (small slices, small models, so the suite stays fast).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arrayDataset, takeFirst } from '../src/data/dataset.js';
import { loadMnist } from '../src/data/sources/mnist.js';
import { evaluateDenoising, validator } from '../src/eval/evaluate.js';
import { fit, resolveFitOptions, type Callback, type EpochRecord, type FitOptionsInput } from '../src/train/fit.js';
import { resolveObjective } from '../src/vae/objective.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';
import { VaekitError } from '../src/errors.js';
import { getBackend } from '../src/engine/index.js';
import type { Backend } from '../src/engine/backend.js';

const train = takeFirst(loadMnist('train'), 20000);
const test500 = takeFirst(loadMnist('test'), 500);
const small = presetConfig('seed', { latent: 10, encoderHidden: [128], decoderHidden: [128] });

async function trained(options: FitOptionsInput, images = train, seed = 0): Promise<Vae> {
  const vae = new Vae(small, { seed });
  await fit(vae, images, options);
  return vae;
}

/** fit's epoch records. */
async function epochs(vae: Vae, images: typeof train, options: FitOptionsInput): Promise<EpochRecord[]> {
  return (await fit(vae, images, options)).epochs;
}

const noise02 = { kind: 'gaussian', factor: 0.2 } as const;

test('ELBO training lowers the loss, validates every epoch, and learns to reconstruct', async () => {
  const vae = new Vae(small, { seed: 0 });
  const untrained = evaluateDenoising(vae, test500, { noise: noise02, seed: 0 });
  const history = await epochs(vae, train, { epochs: 3, batchSize: 64, validate: validator(test500, resolveObjective(), { noise: noise02, seed: 0 }) });
  assert.equal(history.length, 3);
  assert.ok(history[2]!.loss < history[0]!.loss, `loss ${history[0]!.loss} -> ${history[2]!.loss}`);
  assert.ok(history[2]!.valLoss! < history[0]!.valLoss!);
  for (const r of history) {
    assert.ok(Math.abs(r.loss - (r.recon + r.kl)) < 1e-6 * Math.abs(r.loss) + 1e-9, 'beta 1: loss = recon + kl');
    assert.ok(r.kl > 0);
  }
  const m = evaluateDenoising(vae, test500, { noise: noise02, seed: 0 });
  assert.ok(m.psnrNoisyDb! > 15.5 && m.psnrNoisyDb! < 18, `noisy PSNR ${m.psnrNoisyDb}`);
  assert.equal(m.psnrNoisyDb, untrained.psnrNoisyDb, 'the test noise is fixed by the seed');
  assert.ok(m.psnrDenoisedDb! > untrained.psnrDenoisedDb! + 5, `denoised ${untrained.psnrDenoisedDb} -> ${m.psnrDenoisedDb} dB`);
  assert.ok(m.negElboNats < untrained.negElboNats - 200, `negative ELBO ${untrained.negElboNats} -> ${m.negElboNats}`);
  assert.ok(Math.abs(m.negElboNats - (m.reconNats + m.klNats)) < 1e-6 * m.negElboNats);
});

test('the same seed gives the same bits; another seed or noise schedule does not', async () => {
  const images = takeFirst(train, 600);
  const a = (await trained({ epochs: 2, seed: 5 }, images, 5)).params.values;
  const b = (await trained({ epochs: 2, seed: 5 }, images, 5)).params.values;
  assert.deepEqual(a, b);
  const c = (await trained({ epochs: 2, seed: 6 }, images, 6)).params.values;
  assert.notDeepEqual(a, c);
  const once = (await trained({ epochs: 2, seed: 5, noiseRedraw: 'once' }, images, 5)).params.values;
  assert.notDeepEqual(a, once);
});

test('the notebook MSE objective trains and ignores the KL term', async () => {
  const vae = new Vae(small, { seed: 0 });
  const untrained = evaluateDenoising(vae, test500, { noise: noise02, seed: 0 });
  const history = await epochs(vae, train, { epochs: 2, batchSize: 64, objective: { loss: 'notebook-mse' } });
  assert.ok(history[1]!.loss < history[0]!.loss);
  // Per-pixel MSE of images in [0,1] is below 1; the loss is the reconstruction term alone.
  assert.ok(history[1]!.loss < 0.1);
  assert.equal(history[1]!.loss, history[1]!.recon);
  const m = evaluateDenoising(vae, test500, { noise: noise02, seed: 0 });
  assert.ok(m.psnrDenoisedDb! > untrained.psnrDenoisedDb! + 5, `denoised ${untrained.psnrDenoisedDb} -> ${m.psnrDenoisedDb} dB`);
});

test('bad training options fail with one sentence', async () => {
  assert.throws(() => resolveFitOptions({ epochs: 0 }), (e: unknown) => e instanceof VaekitError && /epochs must be a positive integer/.test(e.message));
  assert.throws(() => resolveFitOptions({ learningRate: -1 }), /learning rate must be a positive number/);
  assert.throws(() => resolveFitOptions({ objective: { beta: Number.NaN } }), /Beta must be/);
  const wrongSize = arrayDataset({ values: new Uint8Array(3 * 14 * 14), shape: [14, 14, 1], source: 'small.idx' });
  await assert.rejects(fit(new Vae(small), wrongSize, { epochs: 1 }), /The model takes examples of shape \[28, 28, 1\] but small\.idx has \[14, 14, 1\]/);
  const unlabelled = arrayDataset({ values: new Uint8Array(784), shape: [28, 28, 1], source: 'x.npy' });
  await assert.rejects(fit(new Vae({ ...small, classes: 3 }), unlabelled, { epochs: 1 }), /A conditional model needs labels, and x\.npy has none/);
});

test('the conv preset trains: its loss falls', async () => {
  const vae = new Vae(presetConfig('conv', { latent: 8, convChannels: [8, 16], encoderHidden: [64], decoderHidden: [64] }), { seed: 0 });
  const history = await epochs(vae, takeFirst(train, 2000), { epochs: 3, batchSize: 64 });
  assert.ok(history[2]!.loss < history[0]!.loss - 10, `loss ${history.map((h) => h.loss.toFixed(1)).join(' -> ')}`);
});

test('a conditional VAE draws the class it is given, and needs labels', async () => {
  const vae = new Vae(presetConfig('seed', { latent: 4, encoderHidden: [128], decoderHidden: [128], classes: 10 }), { seed: 0 });
  await fit(vae, train, { epochs: 2, batchSize: 64, noise: { kind: 'none' } });
  // The mean image of samples of a class is closer to that class's training mean than to another's.
  const classMean = (digit: number): Float64Array => {
    const m = new Float64Array(784);
    let n = 0;
    for (let i = 0; i < train.count; i++) {
      if (train.labels![i] !== digit) continue;
      n++;
      for (let j = 0; j < 784; j++) m[j] = m[j]! + train.values![i * 784 + j]! / 255;
    }
    return m.map((v) => v / n);
  };
  const distance = (a: Float32Array, b: Float64Array): number => {
    const mean = new Float64Array(784);
    for (let i = 0; i < a.length; i++) mean[i % 784] = mean[i % 784]! + a[i]! / (a.length / 784);
    return mean.reduce((s, v, j) => s + (v - b[j]!) ** 2, 0);
  };
  const [one, seven] = [classMean(1), classMean(7)];
  const ones = vae.sample(32, 1, 1).data;
  const sevens = vae.sample(32, 1, 7).data;
  assert.ok(distance(ones, one) < distance(ones, seven));
  assert.ok(distance(sevens, seven) < distance(sevens, one));
  assert.throws(() => vae.sample(2, 1), /conditional model: give a label/);
  assert.throws(() => vae.sample(2, 1, 12), /Label 12 is out of range/);
});

test('IWAE training and KL warm-up: the bound improves, beta rises to its value', async () => {
  const vae = new Vae(small, { seed: 0 });
  const history = await epochs(vae, takeFirst(train, 3000), { epochs: 3, batchSize: 64, objective: { loss: 'iwae', samples: 3 }, noise: { kind: 'none' } });
  assert.ok(history[2]!.loss < history[0]!.loss);
  const warm = new Vae(small, { seed: 0 });
  const ramp = await epochs(warm, takeFirst(train, 1000), { epochs: 4, batchSize: 100, klWarmup: { kind: 'linear', epochs: 2 }, objective: { beta: 0.5 } });
  assert.deepEqual(ramp.map((r) => r.beta), [0.25, 0.5, 0.5, 0.5]);
});

test('callbacks see every epoch and batch in order; an AbortSignal stops after the current step; fit yields to the event loop', async () => {
  const images = takeFirst(train, 640);
  const events: string[] = [];
  const controller = new AbortController();
  let timers = 0;
  const timer = setInterval(() => { timers++; }, 1);
  const history = await fit(new Vae(small, { seed: 0 }), images, {
    epochs: 3, batchSize: 64, yieldEveryMs: 0,
    callbacks: [{
      onTrainBegin: (c) => { events.push(`begin ${c.steps}`); },
      onEpochBegin: (e) => { events.push(`epoch ${e}`); },
      onBatchEnd: async (step, running) => {
        assert.ok(Number.isFinite(running.loss));
        events.push(`step ${step}`);
        await new Promise((r) => setTimeout(r, 2));
        if (events.filter((e) => e.startsWith('step')).length === 13) controller.abort();
      },
      onEpochEnd: (r) => { events.push(`end ${r.epoch}`); },
      onTrainEnd: (h) => { events.push(`done ${h.aborted}`); },
    }],
    signal: controller.signal,
  });
  clearInterval(timer);
  assert.equal(history.aborted, true);
  assert.equal(history.steps, 13);
  assert.equal(history.epochs.length, 1);
  assert.deepEqual(events, ['begin 10', 'epoch 1', ...Array.from({ length: 10 }, (_, i) => `step ${i + 1}`), 'end 1', 'epoch 2', 'step 1', 'step 2', 'step 3', 'done true']);
  assert.ok(timers > 0, 'timers ran while it trained');
});

test('training on features: a dense model with a gaussian likelihood learns standardized tables', async () => {
  const n = 2000;
  const D = 8;
  const values = new Float32Array(n * D);
  let seed = 1;
  const rand = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 - 0.5; };
  for (let i = 0; i < n; i++) {
    const a = rand() * 3;
    const b = rand() * 3;
    for (let j = 0; j < D; j++) values[i * D + j] = (j % 2 === 0 ? a : b) * (1 + j / 4) + 0.05 * rand();
  }
  const table = arrayDataset({ values, shape: [D], source: 'table' });
  const vae = new Vae(presetConfig('seed', { inputShape: [D], latent: 2, encoderHidden: [32], decoderHidden: [32], likelihood: 'gaussian', gaussianSigma: 0.3 }), { seed: 0 });
  const history = await epochs(vae, table, { epochs: 8, batchSize: 64, noise: { kind: 'gaussian', factor: 0.1 } });
  assert.ok(history[7]!.recon < history[0]!.recon - 1, `recon ${history.map((h) => h.recon.toFixed(2)).join(' -> ')}`);
  const m = evaluateDenoising(vae, table, { noise: { kind: 'gaussian', factor: 0.5 }, seed: 0 });
  assert.equal(m.psnrNoisyDb, null);
  assert.ok(m.mseDenoised < m.mseNoisy, `MSE ${m.mseNoisy} -> ${m.mseDenoised}`);
});

/** The warnings a fit gives, and how many of them came with the weights as they were after the step before. */
function skipWatcher(vae: Vae): { warnings: string[]; unchanged: number; callback: Callback } {
  let before: Float32Array | null = null;
  const watch = {
    warnings: [] as string[],
    unchanged: 0,
    callback: {
      onWarning: (m: string): void => {
        watch.warnings.push(m);
        if (before !== null && Buffer.from(before.buffer).equals(Buffer.from(vae.params.values.buffer))) watch.unchanged++;
      },
      onBatchEnd: (): void => { before = vae.params.values.slice(); },
    },
  };
  return watch;
}

test('the health guard skips a step whose loss is not finite, halves the learning rate, and stops after 3 in an epoch', async () => {
  // 640 rows of 8 features; row 5 holds a NaN: one batch of ten per epoch is poisoned.
  const D = 8;
  const values = Float32Array.from({ length: 640 * D }, (_, i) => Math.sin(i));
  values[5 * D + 2] = Number.NaN;
  const table = arrayDataset({ values, shape: [D], source: 'poisoned' });
  const config = presetConfig('seed', { inputShape: [D], latent: 2, encoderHidden: [16], decoderHidden: [16], likelihood: 'gaussian' });
  const vae = new Vae(config, { seed: 0 });
  const skips = skipWatcher(vae);
  const history = await fit(vae, table, { epochs: 2, batchSize: 64, noise: { kind: 'none' }, callbacks: [skips.callback] });
  const { warnings, unchanged } = skips;
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings[0]!, /^Epoch 1, step \d+: the loss or a gradient is not finite; the step was skipped and the learning rate halved to 0\.000500/);
  assert.match(warnings[1]!, /^Epoch 2, step \d+: .* halved to 0\.000250/);
  assert.equal(unchanged, 2, 'a skipped step leaves the weights as they were');
  assert.ok(vae.params.values.every(Number.isFinite));
  assert.ok(history.epochs.every((r) => Number.isFinite(r.loss)));

  // Most rows poisoned: the third refused step of epoch 1 ends training in one sentence.
  for (let r = 0; r < 640; r += 20) values[r * D] = Number.NaN;
  await assert.rejects(fit(new Vae(config, { seed: 0 }), table, { epochs: 2, batchSize: 64, noise: { kind: 'none' } }),
    (e: unknown) => e instanceof VaekitError && /^Training diverged: 3 steps of epoch 1 had a non-finite loss or gradient/.test(e.message));
});

test('the health guard skips a step whose loss is finite but a gradient is not: Adam\'s check leaves the weights as they were', async () => {
  const D = 8;
  const values = Float32Array.from({ length: 640 * D }, (_, i) => Math.cos(i));
  const table = arrayDataset({ values, shape: [D], source: 'table' });
  const config = presetConfig('seed', { inputShape: [D], latent: 2, encoderHidden: [16], decoderHidden: [16], likelihood: 'gaussian' });
  // A backend whose 10th bias gradient (step 3 of 10, four dense layers a step) holds an infinity.
  const base = getBackend();
  let calls = 0;
  const backend = new Proxy(base, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'activationBiasBackward') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      return (...args: Parameters<Backend['activationBiasBackward']>) => {
        target.activationBiasBackward(...args);
        if (++calls === 10) args[7][0] = Infinity;
      };
    },
  });
  const vae = new Vae(config, { seed: 0, backend });
  const skips = skipWatcher(vae);
  const history = await fit(vae, table, { epochs: 1, batchSize: 64, noise: { kind: 'none' }, callbacks: [skips.callback] });
  const { warnings, unchanged } = skips;
  assert.ok(calls >= 40, `${calls} bias gradients`);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /^Epoch 1, step 3: the loss or a gradient is not finite; the step was skipped and the learning rate halved to 0\.000500/);
  assert.equal(unchanged, 1, 'the skipped step left the weights as they were');
  assert.ok(vae.params.values.every(Number.isFinite));
  assert.ok(Number.isFinite(history.epochs[0]!.loss));
});

test('a collapsed posterior (KL near 0 after the warm-up) gets one note at the end, naming the epochs', async () => {
  const warnings: string[] = [];
  // A huge beta pushes the KL to zero.
  await fit(new Vae(small, { seed: 0 }), takeFirst(train, 2000), {
    epochs: 4, batchSize: 64, objective: { beta: 200 }, noise: { kind: 'none' },
    callbacks: [{ onWarning: (m) => { warnings.push(m); } }],
  });
  // Epoch 1's KL is still above 0.1; epochs 2 to 4 are below it.
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /^The trained model's posterior has collapsed onto the prior: the KL is [\d.e-]+ nats, below 0\.1 for its last epochs 2 to 4, .* try free bits/);
});

/** The notes of a short run whose validation KL per epoch is `kls` (the validation numbers are made up; the training is real). */
async function collapseNotes(kls: number[], options: FitOptionsInput = {}): Promise<string[]> {
  const warnings: string[] = [];
  let epoch = 0;
  await fit(new Vae(small, { seed: 0 }), takeFirst(train, 64), {
    epochs: kls.length, batchSize: 64, noise: { kind: 'none' }, ...options,
    validate: () => { const kl = kls[epoch++]!; return { loss: 100 + kl, recon: 100, kl }; },
    callbacks: [{ onWarning: (m) => { warnings.push(m); } }],
  });
  return warnings;
}

test('the collapse note judges the final epochs: a dip that recovers gets none; a collapse names its epochs, and is said again at the end only if it holds', async () => {
  // The KL dips below 0.1 for two epochs, then recovers to 3.3 nats: no note.
  assert.deepEqual(await collapseNotes([5, 4, 0.05, 0.04, 2, 3.3]), []);
  // Collapsed from epoch 3 to the end: a note when three epochs are collapsed, and one at the end.
  const collapsed = await collapseNotes([5, 4, 0.05, 0.04, 0.03, 0.02]);
  assert.equal(collapsed.length, 2, collapsed.join('\n'));
  assert.match(collapsed[0]!, /^The KL has stayed below 0\.1 nats for epochs 3 to 5 \(0\.030 at the last\): the posterior has collapsed/);
  assert.match(collapsed[1]!, /^The trained model's posterior has collapsed onto the prior: the KL is 0\.020 nats, below 0\.1 for its last epochs 3 to 6,/);
  // Collapsed for three epochs mid-run, then recovered: the note then, none at the end.
  const recovered = await collapseNotes([5, 0.05, 0.04, 0.03, 1, 3.3]);
  assert.equal(recovered.length, 1, recovered.join('\n'));
  assert.match(recovered[0]!, /for epochs 2 to 4 /);
  // Epochs under a KL warm-up do not count: with a warm-up of 3 epochs (the factor reaches 1 at epoch 3's end), collapsed epochs 1 to 5 make a collapse of epochs 3 to 5.
  const warm = await collapseNotes([0.01, 0.01, 0.01, 0.01, 0.01], { klWarmup: { kind: 'linear', epochs: 3 } });
  assert.equal(warm.length, 1, warm.join('\n'));
  assert.match(warm[0]!, /below 0\.1 for its last epochs 3 to 5,/);
  // The notebook's loss trains no KL: never a note.
  assert.deepEqual(await collapseNotes([0.01, 0.01, 0.01], { objective: { loss: 'notebook-mse' } }), []);
});
