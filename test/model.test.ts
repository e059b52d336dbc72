// The model: the seed preset's shape and parameter counts, closed forms of the objective's parts,
// the Tensor-level API, and the model bundle round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsBackend } from '../src/engine/js-backend.js';
import { Random } from '../src/engine/random.js';
import { Tensor } from '../src/engine/tensor.js';
import { VaekitError } from '../src/errors.js';
import { loadModel, saveModel } from '../src/run/bundle.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';

test('the seed preset has the notebook\'s layers and 866,144 parameters', () => {
  const vae = new Vae(presetConfig('seed'));
  const counts = [...vae.encoder.layers, ...vae.decoder.layers].map((l) => l.parameterCount);
  assert.deepEqual(counts, [401_920, 41_040, 20_992, 402_192]);
  assert.equal(vae.params.count, 866_144);
  const summary = vae.summary();
  assert.match(summary, /Total params: 866,144/);
  assert.match(summary, /encoder\.dense_0 \(Dense\)\s+\(None, 512\)\s+401,920\s+relu/);
  assert.match(summary, /encoder\.dense_1 \(Dense\)\s+\(None, 80\)\s+41,040/);
  assert.match(summary, /decoder\.dense_1 \(Dense\)\s+\(None, 784\)\s+402,192\s+sigmoid/);
});

test('overrides change the architecture and bad sizes are rejected in one sentence', () => {
  const vae = new Vae(presetConfig('seed', { latent: 8, encoderHidden: [64, 32], decoderHidden: [32] }));
  assert.equal(vae.params.count, (784 * 64 + 64) + (64 * 32 + 32) + (32 * 16 + 16) + (8 * 32 + 32) + (32 * 784 + 784));
  assert.throws(() => presetConfig('seed', { latent: 0 }), (e: unknown) => e instanceof VaekitError && /latent size must be a positive integer/.test(e.message));
  assert.throws(() => presetConfig('nope'), /Unknown preset "nope"/);
});

test('KL and reconstruction terms equal their closed forms (js backend)', () => {
  const b = new JsBackend();
  // KL(N(mu, e^lv) || N(0,1)) = 0.5 (mu^2 + e^lv - 1 - lv)
  const ml = new Float32Array([0, 1, 0, Math.log(2)]); // latent 2: mu = [0, 1], logvar = [0, ln 2]
  const kl = new Float32Array(1);
  b.klDiagonalGaussian(ml, 1, 2, kl);
  assert.ok(Math.abs(kl[0]! - 0.5 * (0 + 1 - 1 - 0 + 1 + 2 - 1 - Math.log(2))) < 1e-6);
  // Bernoulli NLL at logit 0 is ln 2 for any target; at logit l with target 1 it is log(1 + e^-l).
  const loss = new Float32Array(1);
  b.bceWithLogits(new Float32Array([0, 0, 3]), new Float32Array([0.3, 1, 1]), 1, 3, loss, null, 1);
  assert.ok(Math.abs(loss[0]! - (2 * Math.LN2 + Math.log1p(Math.exp(-3)))) < 1e-6);
  // Gaussian NLL with sigma 0.5 at distance 1: 0.5 log(2 pi) + log 0.5 + 0.5 / 0.25.
  b.gaussianNll(new Float32Array([0.2]), new Float32Array([2 * Math.log(0.5)]), new Float32Array([1.2]), 1, 1, loss, null, null, 1);
  assert.ok(Math.abs(loss[0]! - (0.5 * Math.log(2 * Math.PI) + Math.log(0.5) + 2)) < 1e-5);
});

test('encode, decode, reconstruct and sample have the documented shapes and ranges', () => {
  const vae = new Vae(presetConfig('seed', { latent: 4, encoderHidden: [16], decoderHidden: [16] }), { seed: 1 });
  const images = new Tensor(new Float32Array(3 * 784).fill(0.5), [3, 28, 28]);
  const { mean, logvar } = vae.encode(images);
  assert.deepEqual(mean.shape, [3, 4]);
  assert.deepEqual(logvar.shape, [3, 4]);
  const rec = vae.reconstruct(images);
  assert.deepEqual(rec.shape, [3, 28, 28]);
  assert.ok(rec.data.every((v) => v > 0 && v < 1));
  // The posterior-mean reconstruction is decode(mean).
  assert.deepEqual(rec.data, vae.decode(mean).data);
  // A sampled reconstruction differs from it, and is reproducible from its seed.
  const s1 = vae.reconstruct(images, 9);
  assert.notDeepEqual(s1.data, rec.data);
  assert.deepEqual(s1.data, vae.reconstruct(images, 9).data);
  assert.deepEqual(vae.sample(5, 2).shape, [5, 28, 28]);
  assert.throws(() => vae.encode(new Tensor(new Float32Array(2 * 100), [2, 10, 10])), /takes 28x28 images/);
});

test('inference over more images than one chunk matches image-by-image inference', () => {
  const vae = new Vae(presetConfig('seed', { latent: 3, encoderHidden: [8], decoderHidden: [8] }), { seed: 4 });
  const n = 1203;
  const data = new Float32Array(n * 784);
  new Random(1).fillUniform(data);
  const all = vae.denoise(new Tensor(data, [n, 784]));
  for (const i of [0, 999, 1000, 1202]) {
    const one = vae.denoise(new Tensor(data.slice(i * 784, (i + 1) * 784), [1, 784]));
    // BLAS may block a 1-row product differently from a 1000-row one: equal up to float rounding.
    const chunk = all.data.subarray(i * 784, (i + 1) * 784);
    const worst = Math.max(...chunk.map((v, j) => Math.abs(v - one.data[j]!)));
    assert.ok(worst < 1e-5, `image ${i}: largest difference ${worst}`);
  }
});

test('a learned mixture prior: its parameters in the summary, saved and loaded, and samples drawn from it', () => {
  const vae = new Vae(presetConfig('seed', { latent: 3, encoderHidden: [12], decoderHidden: [10], prior: 'mog', priorComponents: 4 }), { seed: 2 });
  const plain = new Vae(presetConfig('seed', { latent: 3, encoderHidden: [12], decoderHidden: [10] }), { seed: 2 });
  assert.equal(vae.params.count - plain.params.count, 4 * (2 * 3 + 1));
  assert.match(vae.summary(), /prior \(MixtureOfGaussians\)\s+\(4, 3\)\s+28\s/);
  // Adding the prior leaves the networks' initial weights as they were.
  assert.deepEqual(vae.params.values.subarray(0, plain.params.count), plain.params.values);
  const dir = mkdtempSync(join(tmpdir(), 'vaekit-mog-'));
  try {
    vae.params.get('prior.logits').value.set([0, 1, 2, 3]);
    saveModel(vae, dir);
    const back = loadModel(dir);
    assert.deepEqual(back.config, vae.config);
    assert.deepEqual(back.params.values, vae.params.values);
    assert.deepEqual(back.sample(5, 9).data, vae.sample(5, 9).data);
    // An older bundle (no prior fields) loads with the standard prior.
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model: Record<string, unknown> };
    delete config.model.prior;
    delete config.model.priorComponents;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    assert.throws(() => loadModel(dir), (e: unknown) => e instanceof VaekitError && /has tensors this model's config does not use: prior\.logits, prior\.logvars, prior\.means/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => presetConfig('seed', { prior: 'mog', priorComponents: 0 }), /A mog prior needs a whole number of mixture components >= 1/);
});

test('a saved bundle loads back to the same outputs; corrupt bundles fail with one sentence', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vaekit-bundle-'));
  try {
    const vae = new Vae(presetConfig('seed', { latent: 5, encoderHidden: [12], decoderHidden: [10], likelihood: 'gaussian', gaussianSigma: 0.2 }), { seed: 8 });
    saveModel(vae, dir, { epochs: 1 });
    const back = loadModel(dir);
    assert.deepEqual(back.config, vae.config);
    assert.deepEqual(back.params.values, vae.params.values);
    const z = new Tensor(new Float32Array(2 * 5).fill(0.3), [2, 5]);
    assert.deepEqual(back.decode(z).data, vae.decode(z).data);

    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model: { latent: number } };
    config.model.latent = 6;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    assert.throws(() => loadModel(dir), (e: unknown) => e instanceof VaekitError && /has shape \[12, 10\] but the config needs \[12, 12\]/.test(e.message));
    writeFileSync(join(dir, 'config.json'), '{not json');
    assert.throws(() => loadModel(dir), /is not valid JSON/);
    assert.throws(() => loadModel(join(dir, 'missing')), /No model folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
