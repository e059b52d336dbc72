// The training loop on real MNIST (small slices, small models, so the suite stays fast).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadMnist, takeFirst } from '../src/data/dataset.js';
import { evaluateDenoising } from '../src/eval/evaluate.js';
import { fit, resolveFitOptions, type FitOptionsInput } from '../src/train/fit.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';
import { VaekitError } from '../src/errors.js';

const train = takeFirst(loadMnist('train'), 20000);
const test500 = takeFirst(loadMnist('test'), 500);
const small = presetConfig('seed', { latent: 10, encoderHidden: [128], decoderHidden: [128] });

function trained(options: FitOptionsInput, images = train, seed = 0): Vae {
  const vae = new Vae(small, { seed });
  fit(vae, images, options);
  return vae;
}

const noise02 = { kind: 'gaussian', factor: 0.2 } as const;

test('ELBO training lowers the loss, validates every epoch, and learns to reconstruct', () => {
  const vae = new Vae(small, { seed: 0 });
  const untrained = evaluateDenoising(vae, test500, { noise: noise02, seed: 0 });
  const history = fit(vae, train, { epochs: 3, batchSize: 64, validation: test500 });
  assert.equal(history.length, 3);
  assert.ok(history[2]!.loss < history[0]!.loss, `loss ${history[0]!.loss} -> ${history[2]!.loss}`);
  assert.ok(history[2]!.valLoss! < history[0]!.valLoss!);
  for (const r of history) {
    assert.ok(Math.abs(r.loss - (r.recon + r.kl)) < 1e-6 * Math.abs(r.loss) + 1e-9, 'beta 1: loss = recon + kl');
    assert.ok(r.kl > 0);
  }
  const m = evaluateDenoising(vae, test500, { noise: noise02, seed: 0 });
  assert.ok(m.psnrNoisyDb > 15.5 && m.psnrNoisyDb < 18, `noisy PSNR ${m.psnrNoisyDb}`);
  assert.equal(m.psnrNoisyDb, untrained.psnrNoisyDb, 'the test noise is fixed by the seed');
  assert.ok(m.psnrDenoisedDb > untrained.psnrDenoisedDb + 5, `denoised ${untrained.psnrDenoisedDb} -> ${m.psnrDenoisedDb} dB`);
  assert.ok(m.negElboNats < untrained.negElboNats - 200, `negative ELBO ${untrained.negElboNats} -> ${m.negElboNats}`);
  assert.ok(Math.abs(m.negElboNats - (m.reconNats + m.klNats)) < 1e-6 * m.negElboNats);
});

test('the same seed gives the same bits; another seed or noise schedule does not', () => {
  const images = takeFirst(train, 600);
  const a = trained({ epochs: 2, seed: 5 }, images, 5).params.values;
  const b = trained({ epochs: 2, seed: 5 }, images, 5).params.values;
  assert.deepEqual(a, b);
  const c = trained({ epochs: 2, seed: 6 }, images, 6).params.values;
  assert.notDeepEqual(a, c);
  const once = trained({ epochs: 2, seed: 5, noiseRedraw: 'once' }, images, 5).params.values;
  assert.notDeepEqual(a, once);
});

test('the notebook MSE objective trains and ignores the KL term', () => {
  const vae = new Vae(small, { seed: 0 });
  const untrained = evaluateDenoising(vae, test500, { noise: noise02, seed: 0 });
  const history = fit(vae, train, { epochs: 2, batchSize: 64, objective: { loss: 'notebook-mse' } });
  assert.ok(history[1]!.loss < history[0]!.loss);
  // Per-pixel MSE of images in [0,1] is below 1; the loss is the reconstruction term alone.
  assert.ok(history[1]!.loss < 0.1);
  assert.equal(history[1]!.loss, history[1]!.recon);
  const m = evaluateDenoising(vae, test500, { noise: noise02, seed: 0 });
  assert.ok(m.psnrDenoisedDb > untrained.psnrDenoisedDb + 5, `denoised ${untrained.psnrDenoisedDb} -> ${m.psnrDenoisedDb} dB`);
});

test('bad training options fail with one sentence', () => {
  assert.throws(() => resolveFitOptions({ epochs: 0 }), (e: unknown) => e instanceof VaekitError && /epochs must be a positive integer/.test(e.message));
  assert.throws(() => resolveFitOptions({ learningRate: -1 }), /learning rate must be a positive number/);
  assert.throws(() => resolveFitOptions({ objective: { beta: Number.NaN } }), /Beta must be/);
  const wrongSize = { ...train, height: 14, width: 14 };
  assert.throws(() => fit(new Vae(small), wrongSize, { epochs: 1 }), /takes 28x28 images but the training images are 14x14/);
});

test('the conv preset trains: its loss falls', () => {
  const vae = new Vae(presetConfig('conv', { latent: 8, convChannels: [8, 16], encoderHidden: [64], decoderHidden: [64] }), { seed: 0 });
  const history = fit(vae, takeFirst(train, 2000), { epochs: 3, batchSize: 64 });
  assert.ok(history[2]!.loss < history[0]!.loss - 10, `loss ${history.map((h) => h.loss.toFixed(1)).join(' -> ')}`);
});

test('a conditional VAE draws the class it is given, and needs labels', () => {
  const vae = new Vae(presetConfig('seed', { latent: 4, encoderHidden: [128], decoderHidden: [128], classes: 10 }), { seed: 0 });
  fit(vae, train, { epochs: 2, batchSize: 64, noise: { kind: 'none' } });
  // The mean image of samples of a class is closer to that class's training mean than to another's.
  const classMean = (digit: number): Float64Array => {
    const m = new Float64Array(784);
    let n = 0;
    for (let i = 0; i < train.count; i++) {
      if (train.labels![i] !== digit) continue;
      n++;
      for (let j = 0; j < 784; j++) m[j] = m[j]! + train.images[i * 784 + j]! / 255;
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

test('IWAE training and KL warm-up: the bound improves, beta rises to its value', () => {
  const vae = new Vae(small, { seed: 0 });
  const history = fit(vae, takeFirst(train, 3000), { epochs: 3, batchSize: 64, objective: { loss: 'iwae', samples: 3 }, noise: { kind: 'none' } });
  assert.ok(history[2]!.loss < history[0]!.loss);
  const warm = new Vae(small, { seed: 0 });
  const ramp = fit(warm, takeFirst(train, 1000), { epochs: 4, batchSize: 100, klWarmup: { kind: 'linear', epochs: 2 }, objective: { beta: 0.5 } });
  assert.deepEqual(ramp.map((r) => r.beta), [0.25, 0.5, 0.5, 0.5]);
});
