// The learned mixture prior's cost per training step on each backend (the mixtureLogDensity and
// mixtureBackward kernels): the log density and its backward pass for a batch of 128 latent
// vectors, with the mixture of the conv denoising recipe (K = 200, latent 64). Components start as
// N(m_k, I) with m_k ~ N(0, I), which makes every component matter for every z (the backward pass's
// worst case); a trained mixture is sharper and its backward pass skips the components far from z.
// Run: npx tsx bench/prior.ts [K=200] [latent=64]
import type { Backend } from '../src/engine/backend.js';
import { JsBackend } from '../src/engine/js-backend.js';
import { loadNativeBackend } from '../src/engine/native-backend.js';
import { Random } from '../src/engine/random.js';
import { ParameterSet } from '../src/nn/parameters.js';
import { presetConfig } from '../src/vae/config.js';
import { Prior } from '../src/vae/prior.js';

const K = Number(process.argv[2] ?? 200);
const latent = Number(process.argv[3] ?? 64);
const rows = 128;

function nativeBackend(): Backend | string {
  try {
    return loadNativeBackend();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Milliseconds per call of body (after a warm-up). */
function time(body: () => void, repeats: number): number {
  for (let i = 0; i < Math.max(5, repeats / 10); i++) body();
  const t = performance.now();
  for (let i = 0; i < repeats; i++) body();
  return (performance.now() - t) / repeats;
}

/**
 * The timings for one backend: forward, backward, and both (a training step's share) with broad
 * components; backward and both with sharp ones. In training the parameters change between steps,
 * and the native kernels keep exp(-logvar) from the forward pass for the backward pass when the
 * log-variances are the same bits; so each forward pass here sees a log-variance changed by an ulp.
 */
function measure(backend: Backend): number[] {
  const prior = new Prior(presetConfig('conv', { latent, prior: 'mog', priorComponents: K }), backend);
  const params = new ParameterSet(prior.parameterSpecs());
  prior.bind(params);
  prior.initialize(new Random(1));
  const z = new Float32Array(rows * latent);
  new Random(2).fillNormal(z);
  const logp = new Float64Array(rows);
  const dz = new Float32Array(rows * latent);
  const logvars = params.get('prior.logvars').value;
  let flip = 0;
  const forward = (): void => {
    logvars[0] = logvars[0]! + (flip++ % 2 === 0 ? 1e-6 : -1e-6);
    prior.logDensity(z, rows, logp);
  };
  const backward = (): void => prior.backward(z, rows, 1, null, dz);
  const step = (): void => {
    forward();
    backward();
  };
  const repeats = backend.name === 'js' ? 100 : 2000;
  const results = [time(forward, repeats), time(backward, repeats), time(step, repeats)];
  // Sharper components (variance 0.05, as training makes them): most responsibilities vanish.
  logvars.fill(Math.log(0.05));
  forward();
  results.push(time(backward, repeats), time(step, repeats));
  return results;
}

const native = nativeBackend();
const backends: Backend[] = typeof native === 'string' ? [new JsBackend()] : [new JsBackend(), native];
console.log(`mixture of ${K} Gaussians, latent ${latent}: ms per batch of ${rows}` +
  (typeof native === 'string' ? ` (native backend not available: ${native})` : ` (native: ${native.info().threads} threads)`));
const results = backends.map(measure);
const labels = ['log density (forward)', 'backward', 'forward + backward', 'backward, sharp components', 'forward + backward, sharp'];
console.log(`${''.padEnd(30)}${backends.map((b) => b.name.padStart(10)).join('')}`);
labels.forEach((label, i) => console.log(`${label.padEnd(30)}${results.map((r) => r[i]!.toFixed(3).padStart(10)).join('')}`));
