// Model commands default --noise to the noise the model was trained with and say so; without noise
// nothing is reported about a "noisy input" (its PSNR would be 100 dB, the input against itself) and
// the numbers are named reconstruction, not denoising. The js backend says what it is for and keeps
// training's test evaluation to one posterior sample per example.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { testMetricsLine } from '../src/cli/commands/train.js';
import { arrayDataset } from '../src/data/dataset.js';
import { getBackend, JS_BACKEND_NOTE, JsBackend, selectBackend } from '../src/engine/index.js';
import { Random } from '../src/engine/random.js';
import { ELBO_SAMPLES, evaluateDenoising, type TestMetrics } from '../src/eval/evaluate.js';
import { evaluateSuite, reportMarkdown } from '../src/eval/suite.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';
import { cliChecks, twoClassNpy, vaekitFromSources } from './helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'vaekit-model-noise-'));
after(() => rmSync(work, { recursive: true, force: true }));
const { ok } = cliChecks(vaekitFromSources);

/** `n` 12x12 greyscale images (big enough for SSIM's 11x11 window) of random bright squares. */
function squares(n: number): ReturnType<typeof arrayDataset> {
  const rng = new Random(5);
  const values = new Uint8Array(n * 144);
  for (let i = 0; i < n; i++) {
    const y0 = rng.int(6), x0 = rng.int(6);
    for (let y = 0; y < 12; y++) for (let x = 0; x < 12; x++) values[i * 144 + y * 12 + x] = y >= y0 && y < y0 + 5 && x >= x0 && x < x0 + 5 ? 220 : 20;
  }
  return arrayDataset({ values, shape: [12, 12, 1], source: 'squares' });
}

function smallVae(backend = getBackend()): Vae {
  return new Vae(presetConfig('seed', { inputShape: [12, 12, 1], latent: 3, encoderHidden: [16], decoderHidden: [16] }), { seed: 1, backend });
}

test('without noise, the test metrics and the eval suite have no noisy-input numbers and name reconstruction', () => {
  const set = squares(40);
  const vae = smallVae();
  const none = evaluateDenoising(vae, set, { noise: { kind: 'none' }, seed: 0 });
  assert.equal(none.psnrNoisyDb, null);
  assert.ok(none.psnrDenoisedDb! > 0 && none.psnrDenoisedDb! < 60, `reconstruction PSNR ${none.psnrDenoisedDb}`);
  const noisy = evaluateDenoising(vae, set, { noise: { kind: 'gaussian', factor: 0.2 }, seed: 0 });
  assert.ok(noisy.psnrNoisyDb! > 10 && noisy.psnrNoisyDb! < 20, `noisy PSNR ${noisy.psnrNoisyDb}`);

  const report = evaluateSuite(vae, set, { noise: { kind: 'none' }, binarize: false, seed: 0, samples: 0, knnK: 5, priorSamples: 0 });
  const d = report.denoising;
  assert.deepEqual([d.noise, d.psnrNoisyDb, d.ssimNoisy, d.mseNoisy], ['none', null, null, null]);
  assert.ok(d.ssimDenoised! > 0 && d.ssimDenoised! < 1);
  // The reconstructions of clean inputs are pass 1's: their MSE is the reconstruction error.
  assert.ok(Math.abs(d.mseDenoised - report.reconstructionMse) < 1e-9 * Math.max(1, report.reconstructionMse));
  const md = reportMarkdown(report);
  assert.match(md, /\| reconstruction PSNR of clean inputs, no noise \(dB\) \| \d+\.\d\d \|/);
  assert.match(md, /\| reconstruction SSIM of clean inputs, no noise \| 0\.\d{4} \|/);
  for (const row of md.split('\n').filter((l) => /PSNR|SSIM|MSE/.test(l))) assert.doesNotMatch(row, /denois|noisy/);

  const withNoise = reportMarkdown(evaluateSuite(vae, set, { noise: { kind: 'gaussian', factor: 0.2 }, binarize: false, seed: 0, samples: 0, knnK: 5, priorSamples: 0 }));
  assert.match(withNoise, /\| denoising PSNR at gaussian:0\.2 \(dB\) \| \d+\.\d\d noisy -> \d+\.\d\d denoised \|/);
});

test('the test line without noise is a reconstruction PSNR, whether the file has null or an old 100 dB', () => {
  const m: TestMetrics = {
    images: 10, noise: 'none', psnrNoisyDb: null, psnrDenoisedDb: 21.5, mseNoisy: 0, mseDenoised: 0.01,
    negElboNats: 50, elboSamples: 1, reconNats: 40, klNats: 10,
  };
  for (const line of [testMetricsLine(m), testMetricsLine({ ...m, psnrNoisyDb: 100 })]) {
    assert.match(line, /reconstruction PSNR 21\.50 dB/);
    assert.doesNotMatch(line, /noisy|denois|100\.00/);
    assert.match(line, /one posterior sample each/);
  }
});

test('the js backend says what it is for and scores training\'s test ELBO with one posterior sample; native keeps ten', () => {
  const info = selectBackend('js').info();
  assert.equal(info.note, JS_BACKEND_NOTE);
  assert.match(JS_BACKEND_NOTE, /reference implementation and the browser's path.*many times slower than the native addon/);
  const set = squares(20);
  const js = evaluateDenoising(smallVae(new JsBackend()), set, { noise: { kind: 'gaussian', factor: 0.2 }, seed: 0 });
  assert.equal(js.elboSamples, 1);
  const native = evaluateDenoising(smallVae(), set, { noise: { kind: 'gaussian', factor: 0.2 }, seed: 0 });
  assert.equal(native.elboSamples, getBackend().name === 'js' ? 1 : ELBO_SAMPLES);
});

test('vaekit eval and denoise default to the model\'s training noise and say which noise they used', () => {
  const { x, y } = twoClassNpy(work, 300, 3, 30);
  const model = join(work, 'clean-model');
  const trained = ok(['train', '--data', x, '--labels', y, '--hidden', '16', '--latent', '2', '--epochs', '1', '--noise', 'none', '--validation', '0.2', '--out', model]);
  assert.match(trained, /Test \(60 examples\): reconstruction PSNR \d+\.\d\d dB \|/);
  assert.equal(JSON.parse(readFileSync(join(model, 'test-metrics.json'), 'utf8')).psnrNoisyDb, null);

  const evalArgs = ['eval', '--model', model, '--data', x, '--samples', '0', '--prior-samples', '0', '--limit', '50'];
  const evaluated = ok([...evalArgs, '--out', join(work, 'eval-default')]);
  assert.match(evaluated, /^vaekit eval: noise none \(the noise the model was trained with; --noise to change it\)$/m);
  assert.match(evaluated, /\| reconstruction PSNR of clean inputs, no noise \(dB\) \| \d+\.\d\d \|/);
  assert.doesNotMatch(evaluated, /denois|gaussian:0\.2/);
  const report = JSON.parse(readFileSync(join(work, 'eval-default', 'eval.json'), 'utf8'));
  assert.equal(report.denoising.noise, 'none');
  assert.equal(report.denoising.psnrNoisyDb, null);

  const given = ok([...evalArgs, '--noise', 'gaussian:0.3', '--out', join(work, 'eval-given')]);
  assert.match(given, /^vaekit eval: noise gaussian:0\.3 \(--noise\)$/m);
  assert.match(given, /\| denoising PSNR at gaussian:0\.3 \(dB\) \| \d+\.\d\d noisy -> \d+\.\d\d denoised \|/);

  const denoised = ok(['denoise', '--model', model, '--data', x, '--limit', '4', '--out', join(work, 'd.npy')]);
  assert.match(denoised, /^vaekit denoise: noise none \(the noise the model was trained with/m);

  // A bundle from before the training noise was recorded keeps the old default.
  const config = join(model, 'config.json');
  const bundle = JSON.parse(readFileSync(config, 'utf8'));
  delete bundle.training.noise;
  writeFileSync(config, JSON.stringify(bundle));
  const old = ok([...evalArgs, '--out', join(work, 'eval-old')]);
  assert.match(old, /^vaekit eval: noise gaussian:0\.2 \(the default: the model's config\.json does not record its training noise\)$/m);
  assert.match(old, /\| denoising PSNR at gaussian:0\.2 \(dB\) \| \d+\.\d\d noisy -> /);
});

test('training on the js backend says what the backend is for, in one line', () => {
  const { x, y } = twoClassNpy(work, 100, 4, 30);
  const before = process.env['VAEKIT_BACKEND'];
  process.env['VAEKIT_BACKEND'] = 'js';
  try {
    const out = ok(['train', '--data', x, '--labels', y, '--hidden', '8', '--latent', '2', '--epochs', '1', '--validation', '0.2', '--out', join(work, 'js-model')]);
    assert.equal(out.split('\n').filter((l) => l.startsWith('note: ')).length, 1);
    assert.match(out, /^note: the js backend is the reference implementation/m);
    assert.match(out, /one posterior sample each\)/);
  } finally {
    if (before === undefined) delete process.env['VAEKIT_BACKEND'];
    else process.env['VAEKIT_BACKEND'] = before;
  }
});
