// Closed forms and bounds: the continuous Bernoulli's normalizer integrates the density to 1, the
// importance-weighted bound equals the ELBO at k = 1 and does not decrease with k, free bits and
// KL warm-up behave as documented, and the learned-variance Gaussian matches its formula.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsBackend } from '../src/engine/js-backend.js';
import { Random } from '../src/engine/random.js';
import { continuousBernoulliLogNormalizer, continuousBernoulliLogNormalizerGrad, PixelLikelihood } from '../src/vae/likelihood.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';
import { resolveObjective } from '../src/vae/objective.js';
import { klFactor, parseKlSchedule, formatKlSchedule } from '../src/train/kl-schedule.js';
import { ParameterSet } from '../src/nn/parameters.js';
import { VaekitError } from '../src/errors.js';

test('the continuous Bernoulli density integrates to 1 over [0, 1] (Simpson quadrature) for any logit', () => {
  for (const l of [-30, -5, -0.7, -1e-4, 0, 2e-4, 0.3, 4, 25]) {
    const lambda = 1 / (1 + Math.exp(-l));
    const logC = continuousBernoulliLogNormalizer(l);
    const density = (x: number): number => Math.exp(logC + x * Math.log(lambda) + (1 - x) * Math.log(1 - lambda));
    const n = 2000;
    let s = density(0) + density(1);
    for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * density(i / n);
    const integral = s / (3 * n);
    assert.ok(Math.abs(integral - 1) < 1e-6, `logit ${l}: integral ${integral}`);
  }
});

test('the continuous Bernoulli normalizer gradient matches finite differences, also near 0', () => {
  for (const l of [-12, -2, -0.01, 0.0005, 0.002, 1.5, 9]) {
    const h = 1e-5;
    const numeric = (continuousBernoulliLogNormalizer(l + h) - continuousBernoulliLogNormalizer(l - h)) / (2 * h);
    assert.ok(Math.abs(numeric - continuousBernoulliLogNormalizerGrad(l)) < 1e-6, `logit ${l}`);
  }
});

test('the learned-variance Gaussian scores pixels with its per-pixel variance', () => {
  const config = presetConfig('seed', { inputShape: [1, 2, 1], likelihood: 'gaussian', gaussianLearnedVariance: true, gaussianSigma: 0.5 });
  const lik = new PixelLikelihood(config);
  const params = new ParameterSet(lik.parameterSpecs());
  lik.bind(params);
  lik.initialize();
  params.get('likelihood.logvar').value.set([Math.log(0.04), Math.log(0.25)]);
  const logits = new Float32Array([0, 2]);
  const target = new Float32Array([0.2, 0.9]);
  const nll = new Float32Array(1);
  lik.nll(new JsBackend(), logits, target, 1, nll, null, 1);
  const m1 = 1 / (1 + Math.exp(-2));
  const expected = 0.5 * (Math.log(2 * Math.PI * 0.04) + 0.09 / 0.04) + 0.5 * (Math.log(2 * Math.PI * 0.25) + (0.9 - m1) ** 2 / 0.25);
  assert.ok(Math.abs(nll[0]! - expected) < 1e-5);
});

function smallModel(): { vae: Vae; x: Float32Array; rows: number } {
  const vae = new Vae(presetConfig('seed', { inputShape: [4, 4, 1], latent: 3, encoderHidden: [8], decoderHidden: [8] }), { backend: new JsBackend(), seed: 1 });
  const rows = 6;
  const x = new Float32Array(rows * 16);
  new Random(2).fillUniform(x);
  return { vae, x, rows };
}

test('the importance-weighted bound equals the ELBO at k = 1 and does not decrease with k', () => {
  const { vae, x, rows } = smallModel();
  const rng = new Random(3);
  const average = (k: number, repeats: number): number => {
    let s = 0;
    const objective = resolveObjective(k === 0 ? { loss: 'elbo' } : { loss: 'iwae', samples: k });
    for (let i = 0; i < repeats; i++) s += vae.run(x, x, rows, objective, rng, false).loss;
    return s / repeats;
  };
  const elbo = average(0, 4000); // closed-form KL, one sample
  const iwae1 = average(1, 4000); // sampled KL, one sample: the same expectation
  assert.ok(Math.abs(elbo - iwae1) < 0.05 * Math.max(1, Math.abs(elbo)) && Math.abs(elbo - iwae1) < 0.5, `ELBO ${elbo} vs IWAE k=1 ${iwae1}`);
  const bounds = [1, 5, 50].map((k) => average(k, 400));
  // The negative bound: -L_1 >= -L_5 >= -L_50 (up to Monte Carlo error), and strictly lower at 50.
  assert.ok(bounds[1]! <= bounds[0]! + 0.05 && bounds[2]! <= bounds[1]! + 0.05, `bounds ${bounds.join(', ')}`);
  assert.ok(bounds[2]! < bounds[0]!, `bounds ${bounds.join(', ')}`);
});

test('free bits leave the loss alone above the floor and lift every dimension to it below', () => {
  const { vae, x, rows } = smallModel();
  const plain = vae.run(x, x, rows, resolveObjective({ loss: 'elbo' }), new Random(4), false);
  const floored = vae.run(x, x, rows, resolveObjective({ loss: 'elbo', freeBits: 100 }), new Random(4), false);
  // With a 100-nat floor every dimension sits at the floor: the KL term is 3 * 100.
  assert.ok(Math.abs(floored.loss - (floored.recon + 300)) < 1e-6);
  assert.equal(floored.kl, plain.kl, 'the reported KL is the true KL');
  const zeroFloor = vae.run(x, x, rows, resolveObjective({ loss: 'elbo', freeBits: 1e-12 }), new Random(4), false);
  assert.ok(Math.abs(zeroFloor.loss - plain.loss) < 1e-6);
  // With the floor above every dimension's KL, the KL part of the gradient vanishes: the gradient
  // of the encoder's log-variance outputs comes only through the samples.
  vae.run(x, x, rows, resolveObjective({ loss: 'elbo', freeBits: 100 }), new Random(4), true);
  const withFloor = Float64Array.from(vae.params.grads);
  vae.run(x, x, rows, resolveObjective({ loss: 'elbo', beta: 0 }), new Random(4), true);
  const noKl = Float64Array.from(vae.params.grads);
  for (let i = 0; i < noKl.length; i++) assert.ok(Math.abs(withFloor[i]! - noKl[i]!) < 1e-9);
});

test('KL warm-up schedules: parse, format and factor', () => {
  assert.equal(klFactor(parseKlSchedule('none'), 0.1), 1);
  const linear = parseKlSchedule('linear:4');
  assert.deepEqual([0, 1, 2, 4, 9].map((e) => klFactor(linear, e)), [0, 0.25, 0.5, 1, 1]);
  const cyclical = parseKlSchedule('cyclical:4');
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((e) => klFactor(cyclical, e)), [0, 0.5, 1, 1, 0, 0.5]);
  assert.equal(formatKlSchedule(parseKlSchedule('cyclical:2:0.25')), 'cyclical:2:0.25');
  for (const bad of ['linear', 'linear:0', 'cyclical:3:2', 'sigmoid:3', 'none:1']) {
    assert.throws(() => parseKlSchedule(bad), VaekitError, bad);
  }
});
