// The learned mixture-of-Gaussians prior against independent oracles: its density against the
// weighted sum of Gaussian densities written out directly, its KL estimate against the closed-form
// KL between two Gaussians, its samples against the mixture's weights and variances, and the
// importance-weighted bound's properties with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsBackend } from '../src/engine/js-backend.js';
import { Random } from '../src/engine/random.js';
import { ParameterSet } from '../src/nn/parameters.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';
import { resolveObjective } from '../src/vae/objective.js';
import { negativeEntropy } from '../src/vae/posterior.js';
import { parsePrior, Prior } from '../src/vae/prior.js';

function mixture(latent: number, components: number): { prior: Prior; params: ParameterSet } {
  const prior = new Prior(presetConfig('seed', { latent, prior: 'mog', priorComponents: components }), new JsBackend());
  const params = new ParameterSet(prior.parameterSpecs());
  prior.bind(params);
  prior.initialize(new Random(1));
  return { prior, params };
}

test('the mixture density is the weighted sum of its Gaussian densities', () => {
  const { prior, params } = mixture(2, 3);
  params.get('prior.means').value.set([0, 0, 1, -1, -2, 0.5]);
  params.get('prior.logvars').value.set([0, 0, Math.log(0.25), Math.log(4), Math.log(0.5), 0]);
  params.get('prior.logits').value.set([0.3, -1, 1.2]);
  const a = [0.3, -1, 1.2];
  const weights = a.map((x) => Math.exp(x) / a.reduce((s, y) => s + Math.exp(y), 0));
  const gauss = (x: number, m: number, v: number): number => Math.exp(-((x - m) ** 2) / (2 * v)) / Math.sqrt(2 * Math.PI * v);
  const z = new Float32Array([0.1, 0.2, 1.5, -2, -3, 1, 4, 4]);
  const out = new Float64Array(4);
  prior.logDensity(z, 4, out);
  const m = params.get('prior.means').value;
  const v = Array.from(params.get('prior.logvars').value, Math.exp);
  for (let r = 0; r < 4; r++) {
    let p = 0;
    for (let k = 0; k < 3; k++) p += weights[k]! * gauss(z[r * 2]!, m[k * 2]!, v[k * 2]!) * gauss(z[r * 2 + 1]!, m[k * 2 + 1]!, v[k * 2 + 1]!);
    assert.ok(Math.abs(out[r]! - Math.log(p)) < 1e-5, `row ${r}: ${out[r]} vs ${Math.log(p)}`);
  }
  // Far from every component the log-sum-exp stays finite where the direct sum underflows.
  prior.logDensity(new Float32Array([300, -300]), 1, out);
  assert.ok(Number.isFinite(out[0]!) && out[0]! < -1e4);
});

test('the standard prior is the log density of N(0, I)', () => {
  const prior = new Prior(presetConfig('seed', { latent: 3 }), new JsBackend());
  const out = new Float64Array(1);
  prior.logDensity(new Float32Array([1, -2, 0.5]), 1, out);
  assert.ok(Math.abs(out[0]! - (-0.5 * (1 + 4 + 0.25) - 1.5 * Math.log(2 * Math.PI))) < 1e-12);
});

test('the KL estimate -H[q] - log p(z), averaged over posterior samples, is the closed-form KL between Gaussians', () => {
  // One component N(m, diag(v)) against q = N(mu, diag(s2)): KL = 0.5 sum (log(v/s2) + (s2 + (mu - m)^2) / v - 1).
  const { prior, params } = mixture(3, 1);
  const m = [0.5, -1, 2];
  const logv = [0.2, -0.7, 1.1];
  params.get('prior.means').value.set(m);
  params.get('prior.logvars').value.set(logv);
  const mu = [1, 0, -0.5];
  const logs2 = [-1, 0.3, -0.2];
  const meanLogvar = new Float32Array([...mu, ...logs2]);
  let closed = 0;
  for (let d = 0; d < 3; d++) {
    const v = Math.exp(logv[d]!);
    const s2 = Math.exp(logs2[d]!);
    closed += 0.5 * (Math.log(v / s2) + (s2 + (mu[d]! - m[d]!) ** 2) / v - 1);
  }
  const n = 200_000;
  const z = new Float32Array(n * 3);
  const rng = new Random(7);
  for (let i = 0; i < n; i++) for (let d = 0; d < 3; d++) z[i * 3 + d] = mu[d]! + Math.exp(0.5 * logs2[d]!) * rng.normal();
  const logp = new Float64Array(n);
  prior.logDensity(z, n, logp);
  const negH = negativeEntropy(meanLogvar, 0, 3);
  let estimate = 0;
  for (let i = 0; i < n; i++) estimate += negH - logp[i]!;
  estimate /= n;
  assert.ok(Math.abs(estimate - closed) < 0.01 * closed + 0.01, `estimate ${estimate} vs closed form ${closed}`);
});

test('samples follow the mixture: components in proportion to their weights, each with its own spread', () => {
  const { prior, params } = mixture(1, 2);
  params.get('prior.means').value.set([-10, 10]);
  params.get('prior.logvars').value.set([Math.log(0.25), Math.log(4)]);
  params.get('prior.logits').value.set([Math.log(0.2), Math.log(0.8)]);
  const n = 50_000;
  const z = new Float32Array(n);
  prior.sample(n, new Random(3), z);
  const left = Array.from(z).filter((x) => x < 0);
  const right = Array.from(z).filter((x) => x >= 0);
  assert.ok(Math.abs(left.length / n - 0.2) < 0.01, `left share ${left.length / n}`);
  const sd = (xs: number[], m: number): number => Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length);
  assert.ok(Math.abs(sd(left, -10) - 0.5) < 0.02 && Math.abs(sd(right, 10) - 2) < 0.05);
});

test('priors parse from "standard" and "mog:K"', () => {
  assert.deepEqual(parsePrior('standard'), { prior: 'standard', priorComponents: 0 });
  assert.deepEqual(parsePrior('mog:50'), { prior: 'mog', priorComponents: 50 });
  for (const bad of ['mog', 'mog:0', 'mog:2.5', 'vamp', 'mog:-1']) assert.throws(() => parsePrior(bad), /Unknown prior/);
});

test('with a mixture prior the importance-weighted bound equals the ELBO at k = 1 and does not decrease with k', () => {
  const config = presetConfig('seed', { inputShape: [4, 4, 1], latent: 3, encoderHidden: [8], decoderHidden: [8], prior: 'mog', priorComponents: 3 });
  const vae = new Vae(config, { backend: new JsBackend(), seed: 1 });
  const rows = 6;
  const x = new Float32Array(rows * 16);
  new Random(2).fillUniform(x);
  const rng = new Random(3);
  const average = (k: number, repeats: number): number => {
    let s = 0;
    const objective = resolveObjective(k === 0 ? { loss: 'elbo' } : { loss: 'iwae', samples: k });
    for (let i = 0; i < repeats; i++) s += vae.run(x, x, rows, objective, rng, false).loss;
    return s / repeats;
  };
  const elbo = average(0, 4000);
  const iwae1 = average(1, 4000);
  assert.ok(Math.abs(elbo - iwae1) < 0.05 * Math.max(1, Math.abs(elbo)) && Math.abs(elbo - iwae1) < 0.5, `ELBO ${elbo} vs IWAE k=1 ${iwae1}`);
  const bounds = [1, 5, 50].map((k) => average(k, 400));
  assert.ok(bounds[1]! <= bounds[0]! + 0.05 && bounds[2]! <= bounds[1]! + 0.05, `bounds ${bounds.join(', ')}`);
  assert.ok(bounds[2]! < bounds[0]!, `bounds ${bounds.join(', ')}`);
});

test('training moves the mixture prior: its gradients are not zero and follow the KL term', () => {
  const config = presetConfig('seed', { inputShape: [4, 4, 1], latent: 3, encoderHidden: [8], decoderHidden: [8], prior: 'mog', priorComponents: 3 });
  const vae = new Vae(config, { backend: new JsBackend(), seed: 1 });
  const x = new Float32Array(5 * 16);
  new Random(2).fillUniform(x);
  const priorGrads = (): number[] => ['prior.means', 'prior.logvars', 'prior.logits'].flatMap((n) => Array.from(vae.params.get(n).grad));
  vae.run(x, x, 5, resolveObjective({ loss: 'elbo', beta: 1 }), new Random(4), true);
  const full = priorGrads();
  assert.ok(full.some((g) => Math.abs(g) > 1e-3));
  vae.run(x, x, 5, resolveObjective({ loss: 'elbo', beta: 0.5 }), new Random(4), true);
  const half = priorGrads();
  for (let i = 0; i < full.length; i++) assert.ok(Math.abs(half[i]! - 0.5 * full[i]!) < 1e-9);
  vae.run(x, x, 5, resolveObjective({ loss: 'elbo', beta: 0 }), new Random(4), true);
  assert.ok(priorGrads().every((g) => g === 0));
});
