// Series models: the conv1d architecture, Donut's masked likelihood and missing-point injection,
// per-value reconstruction scores, the imputation of missing values, and per-point scores of a
// series; each against finite differences, closed forms computed here, or a planted anomaly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../src/engine/backend.js';
import { JsBackend } from '../src/engine/js-backend.js';
import { loadNativeBackend } from '../src/engine/native-backend.js';
import { Random } from '../src/engine/random.js';
import { VaekitError } from '../src/errors.js';
import { arrayDataset, type Dataset } from '../src/data/dataset.js';
import { Batcher } from '../src/data/batches.js';
import { injectMissing } from '../src/data/transforms/missing.js';
import { seriesWindows } from '../src/data/transforms/windows.js';
import { exportFiles } from '../src/export/index.js';
import { seriesPointScores } from '../src/pipelines/series-scores.js';
import { missingRateFor, modelConfigForData } from '../src/run/data.js';
import { modelChoicesOf, validateRunSpec } from '../src/run/spec.js';
import { fit } from '../src/train/fit.js';
import type { Checkpoint } from '../src/train/checkpoint.js';
import { presetConfig, type VaeOverrides } from '../src/vae/config.js';
import { PixelLikelihood } from '../src/vae/likelihood.js';
import { Vae } from '../src/vae/model.js';
import { resolveObjective } from '../src/vae/objective.js';
import { ParameterSet } from '../src/nn/parameters.js';
import { assertGradient, numericGradient } from './helpers/gradient-check.js';
import { makeSeries, windowRows } from './helpers/series.js';

const backends: Backend[] = [new JsBackend(), loadNativeBackend()];
const LOG_2PI = Math.log(2 * Math.PI);

/** -log N(x; m, exp(lv)) in float64, written out here (the oracle). */
function gaussNll(x: number, m: number, lv: number): number {
  return 0.5 * (LOG_2PI + lv + (x - m) ** 2 / Math.exp(lv));
}

/** A small conv1d series model of W points of C channels. */
function convSeriesVae(backend: Backend, W: number, C: number, extra: VaeOverrides = {}): Vae {
  const config = presetConfig('series-conv', {
    inputShape: [W * C], sequence: { length: W, channels: C }, convChannels: [3, 4], encoderHidden: [5], decoderHidden: [5],
    latent: 2, activation: 'tanh', ...extra,
  });
  return new Vae(config, { backend, seed: 3 });
}

/** Random values, and a mask with about a quarter missing (their values 0, as a window dataset holds them). */
function maskedRows(rows: number, D: number, seed: number): { values: Float32Array; mask: Uint8Array } {
  const rng = new Random(seed);
  const values = new Float32Array(rows * D);
  rng.fillNormal(values);
  const mask = new Uint8Array(rows * D).fill(1);
  for (let i = 0; i < mask.length; i++) {
    if (rng.uniform() < 0.25) {
      mask[i] = 0;
      values[i] = 0;
    }
  }
  return { values, mask };
}

for (const backend of backends) {
  for (const [label, extra] of [
    ['gaussian learned variance', {}],
    ['fixed sigma 0.7', { gaussianLearnedVariance: false, gaussianSigma: 0.7 }],
    ['conditional on 3 classes', { classes: 3 }],
  ] as const) {
    test(`${backend.name}: conv1d series model gradient with missing values (${label}) matches finite differences`, () => {
      const W = 8;
      const C = 2;
      const vae = convSeriesVae(backend, W, C, extra);
      const rows = 3;
      const { values, mask } = maskedRows(rows, W * C, 4);
      const target = values.slice();
      const labels = vae.classes > 0 ? [2, 0, 1] : null;
      const objective = resolveObjective({ loss: 'elbo' });
      const loss = (train: boolean): number => vae.run(values, target, rows, objective, new Random(5), train, labels, mask).loss;
      loss(true);
      const analytic = Float64Array.from(vae.params.grads);
      assertGradient(analytic, numericGradient(vae.params.values, () => loss(false), 1e-3), 'parameters');
      assert.ok(analytic.some((g) => Math.abs(g) > 1e-2));
    });
  }

  test(`${backend.name}: iwae with missing values: gradient matches finite differences`, () => {
    const vae = convSeriesVae(backend, 8, 1);
    const rows = 2;
    const { values, mask } = maskedRows(rows, 8, 9);
    const objective = resolveObjective({ loss: 'iwae', samples: 3 });
    const loss = (train: boolean): number => vae.run(values, values, rows, objective, new Random(5), train, null, mask).loss;
    loss(true);
    const analytic = Float64Array.from(vae.params.grads);
    assertGradient(analytic, numericGradient(vae.params.values, () => loss(false), 1e-3), 'parameters');
  });

  test(`${backend.name}: a mask of all ones gives the same bits as no mask`, () => {
    for (const loss of ['elbo', 'iwae'] as const) {
      const vae = convSeriesVae(backend, 8, 2);
      const rows = 4;
      const { values } = maskedRows(rows, 16, 2);
      const objective = resolveObjective({ loss, samples: loss === 'iwae' ? 3 : 1 });
      const without = vae.run(values, values, rows, objective, new Random(1), true, null, null);
      const gradsWithout = vae.params.grads.slice();
      const withOnes = vae.run(values, values, rows, objective, new Random(1), true, null, new Uint8Array(rows * 16).fill(1));
      assert.deepEqual(withOnes, without);
      assert.deepEqual(vae.params.grads, gradsWithout);
      const scores = [new Float64Array(rows), new Float64Array(rows)];
      vae.negElboPerImage(values, values, rows, new Random(2), scores[0]!, null, null);
      vae.negElboPerImage(values, values, rows, new Random(2), scores[1]!, null, new Uint8Array(rows * 16).fill(1));
      assert.deepEqual(scores[1], scores[0]);
    }
  });

  test(`${backend.name}: the masked Gaussian NLL sums the observed values only, and its gradients are 0 at missing ones`, () => {
    const D = 6;
    const rows = 3;
    const config = presetConfig('series', { inputShape: [D], sequence: { length: 3, channels: 2 }, encoderHidden: [4], decoderHidden: [4], latent: 2 });
    const likelihood = new PixelLikelihood(config);
    const params = new ParameterSet(likelihood.parameterSpecs());
    likelihood.bind(params);
    likelihood.initialize();
    const logvar = params.get('likelihood.logvar').value;
    const rng = new Random(8);
    for (let j = 0; j < D; j++) logvar[j] = rng.normal() * 0.5;
    const logits = new Float32Array(rows * D);
    const target = new Float32Array(rows * D);
    rng.fillNormal(logits);
    rng.fillNormal(target);
    // Column 1 is missing in every row (its log-variance then has no gradient), row 2 has no missing value.
    const mask = Uint8Array.from([1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1]);
    const rowNll = new Float32Array(rows);
    const dLogits = new Float32Array(rows * D);
    likelihood.nll(backend, logits, target, rows, rowNll, dLogits, 1 / rows, null, mask);
    const dLogvar = params.get('likelihood.logvar').grad;
    for (let r = 0; r < rows; r++) {
      let expected = 0;
      for (let j = 0; j < D; j++) if (mask[r * D + j] === 1) expected += gaussNll(target[r * D + j]!, logits[r * D + j]!, logvar[j]!);
      assert.ok(Math.abs(rowNll[r]! - expected) < 1e-5 * Math.max(1, Math.abs(expected)), `row ${r}: ${rowNll[r]} vs ${expected}`);
    }
    for (let i = 0; i < rows * D; i++) {
      const j = i % D;
      const expected = mask[i] === 1 ? (logits[i]! - target[i]!) / Math.exp(logvar[j]!) / rows : 0;
      assert.ok(Math.abs(dLogits[i]! - expected) < 1e-5, `dLogits[${i}]: ${dLogits[i]} vs ${expected}`);
    }
    for (let j = 0; j < D; j++) {
      let expected = 0;
      for (let r = 0; r < rows; r++) {
        const i = r * D + j;
        if (mask[i] === 1) expected += 0.5 * (1 - (target[i]! - logits[i]!) ** 2 / Math.exp(logvar[j]!)) / rows;
      }
      assert.ok(Math.abs(dLogvar[j]! - expected) < 1e-5, `dLogvar[${j}]: ${dLogvar[j]} vs ${expected}`);
    }
    assert.equal(dLogvar[1], 0);
  });

  test(`${backend.name}: what a missing value holds changes neither the masked loss nor its gradient`, () => {
    const vae = convSeriesVae(backend, 8, 2);
    const rows = 3;
    const { values, mask } = maskedRows(rows, 16, 6);
    const objective = resolveObjective({ loss: 'elbo' });
    const a = vae.run(values, values, rows, objective, new Random(1), true, null, mask);
    const gradsA = vae.params.grads.slice();
    const other = values.slice();
    for (let i = 0; i < other.length; i++) if (mask[i] === 0) other[i] = 100 + i;
    const b = vae.run(values, other, rows, objective, new Random(1), true, null, mask);
    assert.deepEqual(b, a);
    assert.deepEqual(vae.params.grads, gradsA);
  });
}

/** A 'series' model whose latent is one value, with weights set so every quantity has a closed form. */
function handMadeVae(D: number, posteriorLogvar: number): { vae: Vae; w: Float32Array; b: Float32Array; u: Float32Array } {
  const config = presetConfig('series', { inputShape: [D], sequence: { length: D, channels: 1 }, encoderHidden: [], decoderHidden: [], latent: 1 });
  const vae = new Vae(config, { backend: new JsBackend(), seed: 1 });
  const rng = new Random(21);
  // Encoder: mean = u . x, logvar = posteriorLogvar. Decoder: mean_j = w_j z + b_j. Likelihood log-variances lv_j.
  const u = new Float32Array(D);
  const w = new Float32Array(D);
  const b = new Float32Array(D);
  for (let j = 0; j < D; j++) {
    u[j] = 0.3 * rng.normal();
    w[j] = rng.normal();
    b[j] = 0.5 * rng.normal();
  }
  const encKernel = vae.params.get('encoder.dense_0.kernel').value; // [D, 2]
  encKernel.fill(0);
  for (let j = 0; j < D; j++) encKernel[j * 2] = u[j]!;
  vae.params.get('encoder.dense_0.bias').value.set([0, posteriorLogvar]);
  vae.params.get('decoder.dense_0.kernel').value.set(w); // [1, D]
  vae.params.get('decoder.dense_0.bias').value.set(b);
  const lv = vae.params.get('likelihood.logvar').value;
  for (let j = 0; j < D; j++) lv[j] = 0.4 * rng.normal();
  return { vae, w, b, u };
}

test('reconstructionNll is the expected Gaussian NLL per value under q(z|x), NaN where missing', () => {
  const D = 5;
  const rows = 2;
  const logvarQ = Math.log(0.3);
  const { vae, w, b, u } = handMadeVae(D, logvarQ);
  const lv = vae.params.get('likelihood.logvar').value;
  const values = Float32Array.from([0.5, -1, 2, 0, 0.3, 1.5, 0.2, -0.7, 1, -2]);
  const mask = Uint8Array.from([1, 1, 1, 0, 1, 1, 1, 1, 1, 1]);
  const samples = 40000;
  const out = new Float64Array(rows * D);
  vae.reconstructionNll(values, mask, rows, samples, new Random(3), out);
  for (let r = 0; r < rows; r++) {
    let mu = 0;
    for (let j = 0; j < D; j++) mu += u[j]! * values[r * D + j]!;
    for (let j = 0; j < D; j++) {
      const i = r * D + j;
      if (mask[i] === 0) {
        assert.ok(Number.isNaN(out[i]!));
        continue;
      }
      // E_z[(x - w z - b)^2] = (x - w mu - b)^2 + w^2 s^2 with z ~ N(mu, s^2).
      const x = values[i]!;
      const expected = 0.5 * (LOG_2PI + lv[j]!) + 0.5 * ((x - w[j]! * mu - b[j]!) ** 2 + w[j]! ** 2 * Math.exp(logvarQ)) / Math.exp(lv[j]!);
      // Monte Carlo error of 40,000 samples: well under 2%.
      assert.ok(Math.abs(out[i]! - expected) < 0.02 * Math.abs(expected) + 0.01, `value ${i}: ${out[i]} vs ${expected}`);
    }
  }
  // With a near-deterministic posterior one sample is the closed form at z = mu.
  const sharp = handMadeVae(D, -40);
  const one = new Float64Array(rows * D);
  sharp.vae.reconstructionNll(values, null, rows, 1, new Random(3), one);
  const lvSharp = sharp.vae.params.get('likelihood.logvar').value;
  for (let r = 0; r < rows; r++) {
    let mu = 0;
    for (let j = 0; j < D; j++) mu += sharp.u[j]! * values[r * D + j]!;
    for (let j = 0; j < D; j++) {
      const expected = gaussNll(values[r * D + j]!, sharp.w[j]! * mu + sharp.b[j]!, lvSharp[j]!);
      assert.ok(Math.abs(one[r * D + j]! - expected) < 1e-4 * Math.max(1, Math.abs(expected)));
    }
  }
});

test('imputeMissing leaves observed values alone and moves missing ones to the decoder mean', () => {
  const D = 6;
  const rows = 2;
  const { vae, w, b, u } = handMadeVae(D, -40);
  const values = Float32Array.from([0.5, 0, 2, 0, 0.3, 1.5, 0.2, -0.7, 0, -2, 1, 0.4]);
  const mask = Uint8Array.from([1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1]);
  const decoded = (x: Float32Array, r: number): number[] => {
    let mu = 0;
    for (let j = 0; j < D; j++) mu += u[j]! * x[r * D + j]!;
    return Array.from({ length: D }, (_, j) => w[j]! * mu + b[j]!);
  };
  // Two iterations by hand: each fills the missing values with the decoder mean at z = mu(x as it stands).
  const expected = values.slice();
  for (let it = 0; it < 2; it++) {
    for (let r = 0; r < rows; r++) {
      const m = decoded(expected, r);
      for (let j = 0; j < D; j++) if (mask[r * D + j] === 0) expected[r * D + j] = m[j]!;
    }
  }
  const imputed = values.slice();
  vae.imputeMissing(imputed, mask, rows, 2, new Random(1));
  for (let i = 0; i < rows * D; i++) {
    if (mask[i] === 1) assert.equal(imputed[i], values[i]);
    else assert.ok(Math.abs(imputed[i]! - expected[i]!) < 1e-4, `value ${i}: ${imputed[i]} vs ${expected[i]}`);
  }
  assert.ok(Array.from(mask).some((m, i) => m === 0 && Math.abs(imputed[i]!) > 1e-3));
});

test('missing-point injection honours its rate, and the same seed, key and examples draw the same values', () => {
  const rows = 200;
  const size = 100;
  const indices = Uint32Array.from({ length: rows }, (_, i) => i);
  const draw = (seed: number, key: number): { input: Float32Array; mask: Uint8Array } => {
    const input = new Float32Array(rows * size).fill(1);
    const mask = new Uint8Array(rows * size).fill(1);
    for (let i = 0; i < mask.length; i += 7) mask[i] = 0; // already missing: stays so, counts nothing
    injectMissing({ rate: 0.1, seed, key }, input, mask, rows, size, indices);
    return { input, mask };
  };
  const a = draw(5, 1);
  let observed = 0;
  let made = 0;
  for (let i = 0; i < a.mask.length; i++) {
    if (i % 7 === 0) {
      assert.equal(a.mask[i], 0);
      continue;
    }
    observed++;
    if (a.mask[i] === 0) {
      made++;
      assert.equal(a.input[i], 0);
    } else assert.equal(a.input[i], 1);
  }
  // Binomial(observed, 0.1): within 5 standard deviations.
  const sd = Math.sqrt(observed * 0.1 * 0.9);
  assert.ok(Math.abs(made - 0.1 * observed) < 5 * sd, `${made} of ${observed} made missing`);
  assert.deepEqual(draw(5, 1), a);
  assert.notDeepEqual(draw(5, 2).mask, a.mask);
  assert.notDeepEqual(draw(6, 1).mask, a.mask);
});

/** Windows of a two-channel sine series with a few missing values. */
function sineWindows(T = 240, W = 16): { train: Dataset; all: Dataset } {
  const s = makeSeries(T, 2, (t, c) => (t % 37 === 5 && c === 1 ? Number.NaN : Math.sin(t / (4 + c)) + 0.05 * Math.cos(3 * t)));
  return seriesWindows([s], { window: W });
}

test('batches of a set with a mask carry it, and injection draws missing values into input and mask alone', () => {
  const { train } = sineWindows();
  const batcher = new Batcher(train, 32);
  const transforms = { binarize: false, noise: { kind: 'gaussian', factor: 0.3 } as const, seed: 1, binarizeKey: 1, noiseKey: 1 };
  const plain = batcher.pass(null, transforms).next().value!;
  assert.ok(plain.mask !== null);
  const mask = plain.mask.slice();
  assert.deepEqual(mask, windowRows(train).mask.subarray(0, 32 * train.size));
  for (let i = 0; i < mask.length; i++) if (mask[i] === 0) assert.equal(plain.input[i], 0);
  const injected = batcher.pass(null, { ...transforms, missing: { rate: 0.2, seed: 3, key: 1 } }).next().value!;
  let added = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0) assert.equal(injected.mask![i], 0);
    if (injected.mask![i] === 0) assert.equal(injected.input[i], 0);
    if (mask[i] === 1 && injected.mask![i] === 0) added++;
  }
  assert.ok(added > 0.1 * mask.length && added < 0.3 * mask.length, `${added} added`);
});

test('training with missing-point injection is reproducible from the seed, and the injection changes it', async () => {
  const { train } = sineWindows();
  const config = modelConfigForData({ preset: 'series', overrides: { encoderHidden: [16], decoderHidden: [16], latent: 3 }, conditional: false }, train);
  const trained = async (missingRate: number): Promise<Float32Array> => {
    const vae = new Vae(config, { seed: 2 });
    await fit(vae, train, { epochs: 2, batchSize: 32, seed: 4, noise: { kind: 'none' }, missingRate });
    return vae.params.values.slice();
  };
  const a = await trained(0.05);
  assert.deepEqual(await trained(0.05), a);
  assert.notDeepEqual(await trained(0), a);
});

test('a series run with missing-point injection resumed from any checkpoint gives the bits of the run never stopped', async () => {
  const { train } = sineWindows();
  const config = modelConfigForData({ preset: 'series-conv', overrides: { encoderHidden: [8], decoderHidden: [8], convChannels: [4, 4], latent: 2 }, conditional: false }, train);
  const options = { epochs: 2, batchSize: 64, seed: 7, noise: { kind: 'gaussian', factor: 0.1 } as const, missingRate: 0.05 };
  const saved: Checkpoint[] = [];
  const whole = new Vae(config, { seed: 1 });
  await fit(whole, train, { ...options, checkpoint: { everySteps: 2, save: (c) => { saved.push(structuredClone(c)); } } });
  assert.ok(saved.length >= 4);
  for (const c of saved) {
    const resumed = new Vae(config, { seed: 2 });
    await fit(resumed, train, { ...options, resumeFrom: c });
    assert.deepEqual(Buffer.from(resumed.params.values.buffer), Buffer.from(whole.params.values.buffer), `resumed at ${c.state.epoch}:${c.state.stepInEpoch}`);
  }
});

test('seriesPointScores gives a planted spike the highest score, and NaN to a point with every channel missing', async () => {
  const T = 400;
  const spike = 300;
  const gone = 150;
  const s = makeSeries(T, 1, (t) => (t === gone ? Number.NaN : Math.sin((2 * Math.PI * t) / 25) + (t === spike ? 4 : 0)));
  const { train, all } = seriesWindows([s], { window: 20, trainUntil: 0.6 });
  const config = modelConfigForData({ preset: 'series', overrides: { encoderHidden: [32, 32], decoderHidden: [32, 32], latent: 4 }, conditional: false }, train);
  const vae = new Vae(config, { seed: 1 });
  await fit(vae, train, { epochs: 40, batchSize: 32, learningRate: 3e-3, seed: 1, noise: { kind: 'none' }, missingRate: 0.01 });
  for (const impute of [0, 3]) {
    const [scores] = seriesPointScores(vae, all, { samples: 4, seed: 0, impute });
    assert.equal(scores!.length, T);
    assert.ok(Number.isNaN(scores![gone]!));
    let best = -1;
    for (let t = 0; t < T; t++) if (!Number.isNaN(scores![t]!) && (best < 0 || scores![t]! > scores![best]!)) best = t;
    assert.equal(best, spike, `impute ${impute}: the highest score is at ${best} (${scores![best]}), the spike's is ${scores![spike]}`);
  }
  // Every other point is scored.
  const [scores] = seriesPointScores(vae, all, { samples: 1, seed: 0, impute: 0 });
  assert.equal(Array.from(scores!).filter(Number.isNaN).length, 1);
});

test('seriesPointScores sums a point\'s channels and skips only its missing ones', () => {
  const T = 40;
  const s = makeSeries(T, 2, (t, c) => (t === 10 && c === 0 ? Number.NaN : Math.sin(t / 3 + c)));
  const { all } = seriesWindows([s], { window: 8, stride: 4 });
  const vae = convSeriesVae(loadNativeBackend(), 8, 2);
  const [scores] = seriesPointScores(vae, all, { samples: 2, seed: 1, impute: 0 });
  // The same scores by hand: per value, averaged over the covering windows, summed over the channels observed.
  const D = all.size;
  const perValue = new Float64Array(all.count * D);
  const rng = new Random((1 ^ 0x5e41e5) >>> 0);
  const rows = windowRows(all);
  vae.reconstructionNll(rows.values, rows.mask, all.count, 2, rng, perValue);
  for (const t of [0, 10, 13, 39]) {
    let sum = 0;
    for (let c = 0; c < 2; c++) {
      if (t === 10 && c === 0) continue;
      let total = 0;
      let n = 0;
      for (let k = 0; k < all.count; k++) {
        const start = all.series!.starts[k]!;
        if (t >= start && t < start + 8) {
          total += perValue[k * D + (t - start) * 2 + c]!;
          n++;
        }
      }
      sum += total / n;
    }
    assert.ok(Math.abs(scores![t]! - sum) < 1e-9 * Math.max(1, Math.abs(sum)), `point ${t}: ${scores![t]} vs ${sum}`);
  }
});

test('seriesPointScores by window: each point the mean over its covering windows of their observed values\' mean score', () => {
  const T = 40;
  const s = makeSeries(T, 2, (t, c) => (t === 10 && c === 0 ? Number.NaN : Math.sin(t / 3 + c)));
  const { all } = seriesWindows([s], { window: 8, stride: 3 });
  const vae = convSeriesVae(loadNativeBackend(), 8, 2);
  const [scores] = seriesPointScores(vae, all, { samples: 2, seed: 1, impute: 0, scoreBy: 'window' });
  // The same scores by hand from the per-value scores.
  const D = all.size;
  const perValue = new Float64Array(all.count * D);
  const rows = windowRows(all);
  vae.reconstructionNll(rows.values, rows.mask, all.count, 2, new Random((1 ^ 0x5e41e5) >>> 0), perValue);
  const windowMean = (k: number): number => {
    const observed = Array.from(perValue.subarray(k * D, (k + 1) * D)).filter((v) => !Number.isNaN(v));
    return observed.reduce((a, b) => a + b, 0) / observed.length;
  };
  assert.equal(scores!.length, T);
  for (let t = 0; t < T; t++) {
    const covering = Array.from(all.series!.starts).map((start, k) => ({ start, k })).filter(({ start }) => t >= start && t < start + 8);
    if (covering.length === 0) {
      assert.ok(Number.isNaN(scores![t]!), `point ${t} is covered by no window`);
      continue;
    }
    const expected = covering.reduce((sum, { k }) => sum + windowMean(k), 0) / covering.length;
    assert.ok(Math.abs(scores![t]! - expected) < 1e-9 * Math.max(1, Math.abs(expected)), `point ${t}: ${scores![t]} vs ${expected}`);
  }
  // Point 10's missing channel does not make it NaN; the last point (39), which stride 3 skips, is.
  assert.ok(Number.isFinite(scores![10]!) && Number.isNaN(scores![39]!));
  assert.throws(() => seriesPointScores(vae, all, { samples: 1, seed: 0, impute: 0, scoreBy: 'row' as 'point' }),
    (err: unknown) => err instanceof VaekitError && err.message === 'Points are scored by "point" or "window", not "row".');
});

test('the series presets take series only, and series take no image preset', () => {
  const { train } = sineWindows(120, 16);
  const config = modelConfigForData({ preset: 'series-conv', overrides: {}, conditional: false }, train);
  assert.deepEqual(config.sequence, { length: 16, channels: 2 });
  assert.deepEqual(config.inputShape, [32]);
  assert.equal(config.architecture, 'conv1d');
  assert.equal(modelConfigForData({ preset: 'series', overrides: {}, conditional: false }, train).architecture, 'dense');
  const table = arrayDataset({ values: new Float32Array(40), shape: [4], source: 'table.csv' });
  assert.throws(() => modelConfigForData({ preset: 'series', overrides: {}, conditional: false }, table),
    /^VaekitError: The series preset models time series windows, and table\.csv is not a time series/);
  assert.throws(() => modelConfigForData({ preset: 'conv', overrides: {}, conditional: false }, train),
    /The conv preset is convolutional over images, and .* holds time series windows: use model.preset series, series-conv or series-rnn\.$/);
  const odd = sineWindows(120, 18).train;
  assert.throws(() => modelConfigForData({ preset: 'series-conv', overrides: {}, conditional: false }, odd),
    (err: unknown) => err instanceof VaekitError && err.message === '2 stride-2 convs need a window divisible by 4 points, not 18: change data.window or use fewer convs.');
  assert.equal(missingRateFor(null, train), 0.01);
  assert.equal(missingRateFor(0.2, train), 0.2);
  assert.equal(missingRateFor(null, table), 0);
  assert.throws(() => missingRateFor(0.1, table), /^VaekitError: objective.missingRate injects missing points into time series windows, and table\.csv is not a time series\.$/);
  assert.throws(() => validateRunSpec({ objective: { missingRate: 1 } }), /^SpecFieldError: objective.missingRate must be a number from 0 up to \(not including\) 1, not 1\.$/);
  assert.equal(validateRunSpec({ objective: { missingRate: 0.05 } }).objective.missingRate, 0.05);
  assert.equal(validateRunSpec({}).objective.missingRate, null);
});

test('fit refuses missing-point injection on data without a mask', async () => {
  const table = arrayDataset({ values: new Float32Array(40), shape: [4], source: 'table.csv' });
  const vae = new Vae(presetConfig('seed', { inputShape: [4], likelihood: 'gaussian', encoderHidden: [3], decoderHidden: [3], latent: 2 }));
  await assert.rejects(fit(vae, table, { epochs: 1, missingRate: 0.1 }),
    /^VaekitError: Missing-point injection \(objective.missingRate\) applies to time series \(data with a mask of missing values\), and table\.csv has none\.$/);
});

test('the summary shows a conv1d model\'s window and layers, and its parameters add up', () => {
  const vae = convSeriesVae(new JsBackend(), 8, 2);
  const text = vae.summary();
  assert.match(text, /input \(Input\)\s+\(None, 16\)\s+0\s+window: 8 points x 2 channels/);
  assert.match(text, /encoder\.conv_0 \(Conv1d\)\s+\(None, 4, 3\)\s+27\s+tanh/); // 4 * 2 * 3 + 3
  assert.match(text, /encoder\.conv_1 \(Conv1d\)\s+\(None, 2, 4\)\s+52/); // 4 * 3 * 4 + 4
  assert.match(text, /decoder\.deconv_0 \(ConvTranspose1d\)\s+\(None, 4, 3\)\s+51/); // 4 * 4 * 3 + 3
  assert.match(text, /decoder\.deconv_1 \(ConvTranspose1d\)\s+\(None, 8, 2\)\s+26\s+linear \(gaussian likelihood\)/); // 4 * 3 * 2 + 2
  assert.match(text, /likelihood\.logvar \(Parameter\)\s+\(16,\)\s+16\s+learned log-variance per value/);
  assert.match(text, new RegExp(`Total params: ${vae.params.count}`));
});

test('a dense series model exports as a table model; a conv1d one is refused in one sentence', () => {
  const { train } = sineWindows(120, 16);
  const dense = new Vae(modelConfigForData({ preset: 'series', overrides: { encoderHidden: [8], decoderHidden: [8] }, conditional: false }, train));
  const files = exportFiles(dense, 'onnx');
  assert.deepEqual(files.map((f) => f.name), ['encoder.onnx', 'decoder.onnx', 'README.md']);
  assert.ok(exportFiles(dense, 'pytorch').some((f) => f.name === 'model.py'));
  const conv = new Vae(modelConfigForData({ preset: 'series-conv', overrides: {}, conditional: false }, train));
  for (const format of ['onnx', 'tfjs', 'pytorch'] as const) {
    assert.throws(() => exportFiles(conv, format), (err: unknown) => err instanceof VaekitError && /export does not take conv1d \(series-conv\) models yet: only dense series models \(the series preset\) export\.$/.test(err.message));
  }
});

// ---- the recurrent series model (the series-rnn preset) ----

/** A small recurrent series model of W points of C channels. */
function rnnSeriesVae(backend: Backend, W: number, C: number, extra: VaeOverrides = {}): Vae {
  const config = presetConfig('series-rnn', {
    inputShape: [W * C], sequence: { length: W, channels: C }, encoderHidden: [4], decoderHidden: [3], latent: 2, ...extra,
  });
  return new Vae(config, { backend, seed: 3 });
}

for (const backend of backends) {
  for (const [label, extra] of [
    ['lstm, learned variance', {}],
    ['gru, fixed sigma 0.7', { cell: 'gru', gaussianLearnedVariance: false, gaussianSigma: 0.7 }],
    ['lstm, conditional on 3 classes', { classes: 3 }],
  ] as const) {
    test(`${backend.name}: recurrent series model gradient with missing values (${label}) matches finite differences`, () => {
      const W = 6;
      const C = 2;
      const vae = rnnSeriesVae(backend, W, C, extra);
      const rows = 3;
      const { values, mask } = maskedRows(rows, W * C, 4);
      const labels = vae.classes > 0 ? [2, 0, 1] : null;
      const objective = resolveObjective({ loss: 'elbo' });
      const loss = (train: boolean): number => vae.run(values, values.slice(), rows, objective, new Random(5), train, labels, mask).loss;
      loss(true);
      const analytic = Float64Array.from(vae.params.grads);
      assertGradient(analytic, numericGradient(vae.params.values, () => loss(false), 1e-3), 'parameters');
      // Every layer learns: the encoder's and decoder's recurrent weights and the per-point output layer.
      for (const name of ['encoder.rnn.weight_ih', 'encoder.rnn.weight_hh', 'decoder.rnn.weight_ih', 'decoder.rnn.weight_hh', 'decoder.dense_0.kernel']) {
        assert.ok(vae.params.get(name).grad.some((g) => Math.abs(g) > 1e-4), `${name} has a gradient`);
      }
    });
  }
}

test('native and js agree on a recurrent series model: loss and every gradient', () => {
  const [js, native] = backends as [Backend, Backend];
  const results = [js, native].map((backend) => {
    const vae = rnnSeriesVae(backend, 24, 3, { encoderHidden: [16], decoderHidden: [12], latent: 4 });
    const rows = 32;
    const { values, mask } = maskedRows(rows, 24 * 3, 11);
    const loss = vae.run(values, values.slice(), rows, resolveObjective({ loss: 'elbo' }), new Random(5), true, null, mask).loss;
    return { loss, grads: vae.params.grads.slice() };
  });
  const [a, b] = results as [typeof results[0], typeof results[0]];
  assert.ok(Math.abs(a.loss - b.loss) < 1e-4 * Math.abs(a.loss), `loss ${a.loss} vs ${b.loss}`);
  let worst = 0;
  for (let i = 0; i < a.grads.length; i++) worst = Math.max(worst, Math.abs(a.grads[i]! - b.grads[i]!) / (1e-3 + Math.abs(a.grads[i]!)));
  assert.ok(worst < 1e-2, `largest relative gradient difference ${worst}`);
});

test('the series-rnn preset: its layers in the summary, the cell from the spec, refusals in one sentence', () => {
  const vae = rnnSeriesVae(new JsBackend(), 8, 2);
  const text = vae.summary();
  assert.match(text, /encoder\.rnn \(LSTM\)\s+\(None, 4\)\s+128\s+tanh/); // 4 * 4 * (2 + 4 + 2)
  assert.match(text, /decoder\.repeat \(RepeatVector\)\s+\(None, 8, 2\)\s+0/);
  assert.match(text, /decoder\.rnn \(LSTM\)\s+\(None, 8, 3\)\s+84/); // 4 * 3 * (2 + 3 + 2)
  assert.match(text, /decoder\.dense_0 \(TimeDistributed\(Dense\)\)\s+\(None, 8, 2\)\s+8\s+linear \(gaussian likelihood\)/); // 3 * 2 + 2
  assert.match(text, new RegExp(`Total params: ${vae.params.count}`));
  const { train } = sineWindows(120, 16);
  const spec = validateRunSpec({ model: { preset: 'series-rnn', cell: 'gru', encoderHidden: [8], decoderHidden: [8] } });
  const gru = modelConfigForData(modelChoicesOf(spec.model), train);
  assert.deepEqual([gru.architecture, gru.cell, gru.sequence], ['recurrent', 'gru', { length: 16, channels: 2 }]);
  assert.equal(new Vae(gru).encoder.layers[0]!.kind, 'GRU');
  assert.throws(() => validateRunSpec({ model: { preset: 'series', cell: 'gru' } }), /^SpecFieldError: model.cell applies to text models/);
  assert.throws(() => modelConfigForData({ preset: 'series-rnn', overrides: { encoderHidden: [8, 8] }, conditional: false }, train),
    (err: unknown) => err instanceof VaekitError && err.message === 'The recurrent architecture\'s encoder is one LSTM: give one encoder hidden size (its state\'s), not 2.');
  const table = arrayDataset({ values: new Float32Array(40), shape: [4], source: 'table.csv' });
  assert.throws(() => modelConfigForData({ preset: 'series-rnn', overrides: {}, conditional: false }, table), /^VaekitError: The series-rnn preset models time series windows/);
  for (const format of ['onnx', 'tfjs', 'pytorch'] as const) {
    assert.throws(() => exportFiles(vae, format), (err: unknown) => err instanceof VaekitError && /export does not take recurrent \(series-rnn\) models yet/.test(err.message));
  }
});

test('a recurrent series model learns a sine and gives a planted spike the highest score', async () => {
  const T = 400;
  const spike = 300;
  const s = makeSeries(T, 1, (t) => Math.sin((2 * Math.PI * t) / 25) + (t === spike ? 4 : 0));
  const { train, all } = seriesWindows([s], { window: 20, trainUntil: 0.6 });
  const config = modelConfigForData({ preset: 'series-rnn', overrides: { encoderHidden: [16], decoderHidden: [16], latent: 4 }, conditional: false }, train);
  const vae = new Vae(config, { seed: 1 });
  // An LSTM-VAE sits on a plateau (the mean of the window, KL near 0) for its first 40 or so epochs here before it uses z.
  const history = await fit(vae, train, { epochs: 80, batchSize: 32, learningRate: 1e-2, seed: 1, noise: { kind: 'none' } });
  const losses = history.epochs.map((e) => e.loss);
  assert.ok(losses.at(-1)! < losses[0]! - 10, `the loss falls: ${losses[0]} -> ${losses.at(-1)}`);
  const [scores] = seriesPointScores(vae, all, { samples: 4, seed: 0, impute: 0 });
  let best = 0;
  for (let t = 1; t < T; t++) if (scores![t]! > scores![best]!) best = t;
  assert.equal(best, spike, `the highest score is at ${best} (${scores![best]}), the spike's is ${scores![spike]}`);
});
