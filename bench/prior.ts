// The learned mixture prior's cost per training step (src/vae/prior.ts runs in TypeScript): the
// log density and its backward pass for a batch of 128 latent vectors, with the mixture of the
// conv denoising recipe (K = 200, latent 64). Components start as N(m_k, I) with m_k ~ N(0, I),
// which makes every component matter for every z (the backward pass's worst case); a trained
// mixture is sharper and its backward pass skips the components far from z.
// Run: npx tsx bench/prior.ts [K=200] [latent=64]
import { Random } from '../src/engine/random.js';
import { ParameterSet } from '../src/nn/parameters.js';
import { presetConfig } from '../src/vae/config.js';
import { Prior } from '../src/vae/prior.js';

const K = Number(process.argv[2] ?? 200);
const latent = Number(process.argv[3] ?? 64);
const rows = 128;
const prior = new Prior(presetConfig('conv', { latent, prior: 'mog', priorComponents: K }));
const params = new ParameterSet(prior.parameterSpecs());
prior.bind(params);
prior.initialize(new Random(1));
const z = new Float32Array(rows * latent);
new Random(2).fillNormal(z);
const logp = new Float64Array(rows);
const dz = new Float32Array(rows * latent);

function time(what: string, body: () => void, repeats = 200): void {
  for (let i = 0; i < 20; i++) body();
  const t = performance.now();
  for (let i = 0; i < repeats; i++) body();
  console.log(`${what}: ${((performance.now() - t) / repeats).toFixed(2)} ms per batch of ${rows}`);
}

console.log(`mixture of ${K} Gaussians, latent ${latent}`);
time('log density (forward)', () => prior.logDensity(z, rows, logp));
time('backward', () => prior.backward(z, rows, 1, null, dz));
// Sharper components (variance 0.05, as training makes them): most responsibilities vanish.
params.get('prior.logvars').value.fill(Math.log(0.05));
prior.logDensity(z, rows, logp);
time('backward, sharp components', () => prior.backward(z, rows, 1, null, dz));
