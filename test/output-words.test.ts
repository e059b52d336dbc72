// Every number the CLI prints says what it measures: no "PSNR noisy" without noise, no likelihood
// or trained KL for the notebook's loss, and the test ELBO names what it scores given what.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testMetricsLine } from '../src/cli/commands/train.js';
import type { TestMetrics } from '../src/eval/evaluate.js';
import { formatEpoch, type EpochRecord } from '../src/train/fit.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';

const metrics: TestMetrics = {
  images: 100, noise: 'gaussian:0.2', psnrNoisyDb: 16.7, psnrDenoisedDb: 20.4, mseNoisy: 0.02, mseDenoised: 0.01,
  negElboNats: 108.5, elboSamples: 10, reconNats: 82.9, klNats: 25.6,
};

test('the test line names the noise, the denoising and what the ELBO scores', () => {
  const line = testMetricsLine(metrics);
  assert.match(line, /noise gaussian:0\.2/);
  assert.match(line, /denoising PSNR 16\.70 dB \(noisy input\) -> 20\.40 dB \(denoised\)/);
  assert.match(line, /negative ELBO of clean examples given noisy ones 108\.50 nats per example \(reconstruction 82\.90 \+ KL 25\.60; mean of 10 posterior samples each\)/);
});

test('without noise there is no noisy PSNR (it would read 100 dB) and the ELBO scores examples given themselves', () => {
  const line = testMetricsLine({ ...metrics, noise: 'none', psnrNoisyDb: 100, mseNoisy: 0 });
  assert.doesNotMatch(line, /noisy|100\.00/);
  assert.match(line, /reconstruction PSNR 20\.40 dB/);
  assert.match(line, /negative ELBO of examples given themselves/);
  const features = testMetricsLine({ ...metrics, noise: 'none', psnrNoisyDb: null, psnrDenoisedDb: null, mseNoisy: 0 });
  assert.match(features, /reconstruction MSE per value 0\.01000/);
});

test('the notebook\'s loss is shown as a squared error, its KL as not trained, and its summary names no likelihood', () => {
  const r: EpochRecord = { epoch: 2, seconds: 1.5, imagesPerSecond: 1000, loss: 0.03, recon: 0.03, kl: 12, valLoss: 0.031, valRecon: 0.031, valKl: 12.5 } as EpochRecord;
  const line = formatEpoch(r, 5, 'notebook-mse');
  assert.match(line, /\| mse 0\.03\d* \| kl \(not trained\) 12/);
  assert.doesNotMatch(line, /recon/);
  assert.match(line, /val_mse .* \| val_kl \(not trained\)/);
  assert.match(formatEpoch(r, 5, 'elbo'), /\| loss .* \| recon .* \| kl /);
  const vae = new Vae(presetConfig('seed', { latent: 2, encoderHidden: [8], decoderHidden: [8] }));
  assert.match(vae.summary({ loss: 'notebook-mse' }), /no likelihood/);
  assert.doesNotMatch(vae.summary({ loss: 'notebook-mse' }), /bernoulli/);
  assert.match(vae.summary(), /bernoulli likelihood/);
});
