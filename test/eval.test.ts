// The evaluation metrics against independent oracles (brute-force SSIM, pairwise AUROC, brute-force
// kNN), and the evaluation suite on a small trained model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsBackend } from '../src/engine/js-backend.js';
import { getBackend } from '../src/engine/index.js';
import { Random } from '../src/engine/random.js';
import { arrayDataset, takeFirst } from '../src/data/dataset.js';
import { loadMnist } from '../src/data/sources/mnist.js';
import { binarize } from '../src/data/transforms/binarize.js';
import { auroc } from '../src/eval/auroc.js';
import { knnAccuracy } from '../src/eval/knn.js';
import { nearestTrainingLabels } from '../src/eval/sample-quality.js';
import { imageSsim, GAUSSIAN_TAPS } from '../src/eval/ssim.js';
import { evaluateSuite, importanceSampledNll, reportMarkdown } from '../src/eval/suite.js';
import { anomalyScores, classSubset, oneClassAuroc } from '../src/eval/anomaly.js';
import { fit } from '../src/train/fit.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';

/** SSIM with the 2-D window summed directly (no separable filter): the oracle. */
function bruteSsim(a: Float32Array, b: Float32Array, h: number, w: number): number {
  let total = 0;
  let count = 0;
  for (let y = 0; y + 11 <= h; y++) {
    for (let x = 0; x + 11 <= w; x++) {
      let mx = 0, my = 0, mxx = 0, myy = 0, mxy = 0;
      for (let i = 0; i < 11; i++) {
        for (let j = 0; j < 11; j++) {
          const g = GAUSSIAN_TAPS[i]! * GAUSSIAN_TAPS[j]!;
          const p = a[(y + i) * w + x + j]!;
          const q = b[(y + i) * w + x + j]!;
          mx += g * p; my += g * q; mxx += g * p * p; myy += g * q * q; mxy += g * p * q;
        }
      }
      const c1 = 1e-4, c2 = 9e-4;
      total += ((2 * mx * my + c1) * (2 * (mxy - mx * my) + c2)) / ((mx * mx + my * my + c1) * (mxx - mx * mx + myy - my * my + c2));
      count++;
    }
  }
  return total / count;
}

test('SSIM equals the brute-force windowed formula, is 1 for identical images and falls with noise', () => {
  const rng = new Random(1);
  const [h, w] = [16, 13];
  const a = new Float32Array(h * w);
  rng.fillUniform(a);
  const b = a.map((v) => Math.min(1, Math.max(0, v + 0.1 * rng.normal())));
  assert.ok(Math.abs(imageSsim(a, b, 0, h, w) - bruteSsim(a, b, h, w)) < 1e-9);
  assert.ok(Math.abs(imageSsim(a, a, 0, h, w) - 1) < 1e-12);
  const c = a.map((v) => Math.min(1, Math.max(0, v + 0.3 * rng.normal())));
  assert.ok(imageSsim(a, c, 0, h, w) < imageSsim(a, b, 0, h, w));
});

test('AUROC equals the pairwise count, with ties as one half', () => {
  const rng = new Random(2);
  const scores = Array.from({ length: 300 }, () => Math.round(rng.uniform() * 20));
  const positive = scores.map((s) => rng.uniform() < 0.3 + s / 40);
  let wins = 0;
  let pairs = 0;
  scores.forEach((s, i) => scores.forEach((t, j) => {
    if (positive[i] && !positive[j]) {
      pairs++;
      wins += s > t ? 1 : s === t ? 0.5 : 0;
    }
  }));
  assert.ok(Math.abs(auroc(scores, positive) - wins / pairs) < 1e-12);
  assert.equal(auroc([1, 2, 3, 4], [false, false, true, true]), 1);
  assert.equal(auroc([1, 2, 3, 4], [true, true, false, false]), 0);
  assert.equal(auroc([5, 5, 5, 5], [true, false, true, false]), 0.5);
});

test('kNN accuracy equals a brute-force majority vote', () => {
  const rng = new Random(3);
  const dims = 3;
  const ref = new Float32Array(400 * dims);
  const refLabels = new Uint8Array(400);
  for (let i = 0; i < 400; i++) {
    refLabels[i] = i % 4;
    for (let d = 0; d < dims; d++) ref[i * dims + d] = (d === refLabels[i]! % dims ? 1.5 : 0) + rng.normal();
  }
  const queries = new Float32Array(300 * dims);
  const queryLabels = new Uint8Array(300);
  for (let i = 0; i < 300; i++) {
    queryLabels[i] = (i * 7) % 4;
    for (let d = 0; d < dims; d++) queries[i * dims + d] = (d === queryLabels[i]! % dims ? 1.5 : 0) + rng.normal();
  }
  const k = 5;
  let correct = 0;
  for (let q = 0; q < 300; q++) {
    const dist = Array.from({ length: 400 }, (_, r) => {
      let s = 0;
      for (let d = 0; d < dims; d++) s += (queries[q * dims + d]! - ref[r * dims + d]!) ** 2;
      return [s, refLabels[r]!] as const;
    }).sort((x, y) => x[0] - y[0]).slice(0, k);
    const counts = new Map<number, number>();
    for (const [, y] of dist) counts.set(y, (counts.get(y) ?? 0) + 1);
    const top = Math.max(...counts.values());
    const winner = dist.find(([, y]) => counts.get(y) === top)![1];
    if (winner === queryLabels[q]) correct++;
  }
  for (const backend of [new JsBackend(), getBackend()]) {
    assert.ok(Math.abs(knnAccuracy(backend, ref, refLabels, queries, queryLabels, dims, k) - correct / 300) < 1e-12);
  }
});

test('the nearest training labels in pixel space equal a brute-force sort, across reference blocks', () => {
  const rng = new Random(5);
  const count = 23;
  const images = new Uint8Array(count * 9);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = rng.int(10);
  const train = arrayDataset({ values: images, shape: [3, 3, 1], labels, source: 'train' });
  const n = 4;
  const k = 5;
  const queries = new Float32Array(n * 9);
  rng.fillUniform(queries);
  for (const block of [7, 5000]) {
    const got = nearestTrainingLabels(new JsBackend(), train, queries, n, k, block);
    for (let q = 0; q < n; q++) {
      const order = Array.from({ length: count }, (_, r) => {
        let d = 0;
        for (let j = 0; j < 9; j++) d += (queries[q * 9 + j]! - images[r * 9 + j]! / 255) ** 2;
        return { d, label: labels[r]! };
      }).sort((a, b) => a.d - b.d);
      assert.deepEqual(Array.from(got.subarray(q * k, (q + 1) * k)), order.slice(0, k).map((o) => o.label), `query ${q}, block ${block}`);
    }
  }
});

test('dynamic binarization gives 0/1 pixels with the intensity as probability, fixed per (seed, epoch, image)', () => {
  const n = 20000;
  const clean = new Float32Array(n).fill(0.3);
  const out = new Float32Array(n);
  binarize(clean, out, 10, n / 10, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 7, 1);
  assert.ok(out.every((v) => v === 0 || v === 1));
  const mean = out.reduce((a, b) => a + b, 0) / n;
  assert.ok(Math.abs(mean - 0.3) < 0.015, `mean ${mean}`);
  const again = new Float32Array(n);
  binarize(clean, again, 10, n / 10, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 7, 1);
  assert.deepEqual(again, out);
  binarize(clean, again, 10, n / 10, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 7, 2);
  assert.notDeepEqual(again, out);
});

test('the evaluation suite on a small trained model: bounds in order, metrics in range', async () => {
  const train = takeFirst(loadMnist('train'), 6000);
  const test = takeFirst(loadMnist('test'), 300);
  const vae = new Vae(presetConfig('seed', { latent: 8, encoderHidden: [128], decoderHidden: [128] }), { seed: 0 });
  await fit(vae, train, { epochs: 3, batchSize: 64, noise: { kind: 'none' }, binarize: true });
  const report = evaluateSuite(vae, test, { noise: { kind: 'gaussian', factor: 0.2 }, binarize: true, seed: 0, samples: 200, knnK: 5, train });
  // log p(x) >= ELBO, and the importance-sampled estimate is tighter.
  assert.ok(report.nllNats! < report.negElboNats, `NLL ${report.nllNats} vs -ELBO ${report.negElboNats}`);
  assert.ok(report.nllNats! > report.negElboNats - 30);
  assert.ok(report.activeUnits >= 1 && report.activeUnits <= 8);
  assert.equal(report.klPerDimension!.length, 8);
  assert.ok(Math.abs(report.klPerDimension!.reduce((a, b) => a + b, 0) - report.klNats) < 1e-3 * report.klNats + 1e-6);
  assert.ok(report.knn!.accuracy > 0.7 && report.knn!.accuracy <= 1, `kNN ${report.knn!.accuracy}`);
  assert.ok(report.denoising.ssimNoisy! > 0 && report.denoising.ssimNoisy! < 1);
  assert.ok(report.reconstructionMse > 0 && report.reconstructionMse < 0.25);
  assert.match(reportMarkdown(report), /\| negative log-likelihood, importance-sampled, k = 200 \(nats\) \| \d+\.\d\d \|/);
  // Prior samples judged by their nearest training images; real test digits pass far more often than not.
  const quality = report.priorSamples!;
  assert.equal(quality.count, 1000);
  assert.ok(quality.referenceDigitLike > 0.75 && quality.referenceDigitLike <= 1, `test images ${quality.referenceDigitLike}`);
  assert.ok(quality.digitLike >= 0 && quality.digitLike <= 1);
  assert.equal(quality.classCounts.reduce((a, b) => a + b, 0), Math.round(quality.digitLike * quality.count));
  assert.match(reportMarkdown(report), /\| prior samples that look like digits .* \| \d+\.\d% of 1000 \(test images: \d+\.\d%/);
  // More samples never loosen the estimate by more than noise: k = 1 is the (sampled-KL) ELBO.
  const one = importanceSampledNll(vae, test, 1, true, 0);
  assert.ok(one > report.nllNats!, `k=1 ${one} vs k=200 ${report.nllNats}`);
});

test('one-class anomaly detection: a model of one digit scores the other digits as more anomalous', async () => {
  const train = loadMnist('train');
  const test = takeFirst(loadMnist('test'), 1000);
  const ones = classSubset(train, 1);
  assert.ok(ones.count > 6000 && ones.labels!.every((y) => y === 1));
  const vae = new Vae(presetConfig('seed', { latent: 8, encoderHidden: [64], decoderHidden: [64] }), { seed: 0 });
  await fit(vae, takeFirst(ones, 3000), { epochs: 2, noise: { kind: 'none' } });
  const scores = anomalyScores(vae, test, 2, 0);
  const value = oneClassAuroc(scores, test.labels!, 1);
  assert.ok(value > 0.9, `AUROC ${value}`);
});
