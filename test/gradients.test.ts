// Finite-difference gradient checks: every activation of the Dense layer, and the full objective of
// the VAE (ELBO with both likelihoods and a beta, and the notebook's MSE), on both backends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Activation, Backend } from '../src/engine/backend.js';
import { JsBackend } from '../src/engine/js-backend.js';
import { loadNativeBackend } from '../src/engine/native-backend.js';
import { Random } from '../src/engine/random.js';
import { Dense } from '../src/nn/dense.js';
import { ParameterSet } from '../src/nn/parameters.js';
import { presetConfig, type VaeOverrides } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';
import { resolveObjective, type Objective } from '../src/vae/objective.js';
import { assertGradient, numericGradient } from './helpers/gradient-check.js';

const backends: Backend[] = [new JsBackend(), loadNativeBackend()];


for (const backend of backends) {
  for (const act of ['linear', 'relu', 'leaky_relu', 'tanh', 'sigmoid'] as Activation[]) {
    test(`${backend.name}: Dense(${act}) kernel, bias and input gradients match finite differences`, () => {
      const rng = new Random(7);
      const rows = 4;
      const layer = new Dense({ name: 'd', inputs: 5, outputs: 3, activation: act });
      const params = new ParameterSet(layer.parameterSpecs());
      layer.bind(params);
      layer.initialize(rng);
      rng.fillNormal(params.get('d.bias').value); // non-zero bias exercises the bias path
      const x = new Float32Array(rows * 5);
      rng.fillNormal(x);
      const w = new Float32Array(rows * 3);
      rng.fillNormal(w);
      // Scalar loss L = sum(y * w); dL/dy = w.
      const loss = (): number => {
        const y = layer.forward(backend, x, rows);
        let s = 0;
        for (let i = 0; i < y.length; i++) s += y[i]! * w[i]!;
        return s;
      };
      loss();
      const dx = layer.backward(backend, w.slice(), rows, true)!;
      const dxCopy = Float64Array.from(dx);
      const dKernel = Float64Array.from(params.get('d.kernel').grad);
      const dBias = Float64Array.from(params.get('d.bias').grad);
      assertGradient(dKernel, numericGradient(params.get('d.kernel').value, loss, 1e-3), 'kernel');
      assertGradient(dBias, numericGradient(params.get('d.bias').value, loss, 1e-3), 'bias');
      assertGradient(dxCopy, numericGradient(x, loss, 1e-3), 'input');
    });
  }

  const cases: Array<[string, Partial<Objective>, VaeOverrides]> = [
    ['ELBO, Bernoulli, beta 1', { loss: 'elbo', beta: 1 }, {}],
    ['ELBO, Bernoulli, beta 0.3', { loss: 'elbo', beta: 0.3 }, {}],
    ['ELBO, free bits 0.3 nats', { loss: 'elbo', beta: 1, freeBits: 0.3 }, {}],
    ['ELBO, Gaussian sigma 0.5', { loss: 'elbo', beta: 1 }, { likelihood: 'gaussian' }],
    ['ELBO, Gaussian, learned variance', { loss: 'elbo', beta: 1 }, { likelihood: 'gaussian', gaussianLearnedVariance: true }],
    ['ELBO, continuous Bernoulli', { loss: 'elbo', beta: 1 }, { likelihood: 'continuous-bernoulli' }],
    ['ELBO, conditional on 3 classes', { loss: 'elbo', beta: 1 }, { classes: 3 }],
    ['IWAE, k = 4', { loss: 'iwae', samples: 4 }, {}],
    ['IWAE, k = 3, conditional, Gaussian learned variance', { loss: 'iwae', samples: 3 }, { classes: 3, likelihood: 'gaussian', gaussianLearnedVariance: true }],
    ['notebook MSE', { loss: 'notebook-mse', beta: 1 }, {}],
    ['ELBO, learned mixture prior (3 components)', { loss: 'elbo', beta: 1 }, { prior: 'mog', priorComponents: 3 }],
    ['ELBO, mixture prior, beta 0.4, Gaussian, conditional', { loss: 'elbo', beta: 0.4 }, { prior: 'mog', priorComponents: 2, likelihood: 'gaussian', classes: 3 }],
    ['IWAE, k = 3, mixture prior', { loss: 'iwae', samples: 3 }, { prior: 'mog', priorComponents: 4 }],
    ['notebook MSE, mixture prior (no KL: its gradients are zero)', { loss: 'notebook-mse', beta: 1 }, { prior: 'mog', priorComponents: 2 }],
  ];
  for (const [label, objectiveInput, overrides] of cases) {
    test(`${backend.name}: full VAE gradient (${label}) matches finite differences`, () => {
      const objective = resolveObjective(objectiveInput);
      const config = presetConfig('seed', {
        inputShape: [2, 3, 1], latent: 2, encoderHidden: [4], decoderHidden: [5],
        activation: 'tanh', gaussianSigma: 0.5, ...overrides,
      });
      const vae = new Vae(config, { backend, seed: 3 });
      const rows = 3;
      const rng = new Random(11);
      const target = new Float32Array(rows * 6);
      rng.fillUniform(target);
      const input = new Float32Array(rows * 6);
      rng.fillUniform(input);
      const labels = config.classes > 0 ? [2, 0, 1] : null;
      // The same posterior noise eps for every evaluation, so the objective is a deterministic function.
      const loss = (train: boolean): number => vae.run(input, target, rows, objective, new Random(5), train, labels).loss;
      loss(true);
      const analytic = Float64Array.from(vae.params.grads);
      const numeric = numericGradient(vae.params.values, () => loss(false), 1e-3);
      assertGradient(analytic, numeric, 'parameters');
      // The gradient is not trivially zero: the check has something to check.
      assert.ok(analytic.some((g) => Math.abs(g) > 1e-2));
    });
  }
}
