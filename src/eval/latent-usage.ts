/**
 * How much a model's latent code is used, from the posterior parameters q(z|x) = N(mean, exp(logvar))
 * of a set of examples ([n, 2L] rows: mean then log-variance), for any kind of data:
 *
 * - Mutual information I(x; z) under the model's aggregate posterior (He et al. 2019's estimator):
 *     I = E_x[ E_q(z|x) log q(z|x) ] - E_x E_q(z|x)[ log q(z) ],
 *   the first term in closed form (-L/2 log 2 pi - 1/2 sum_d (1 + logvar_d)), the second with one
 *   sample z_i ~ q(z|x_i) per example and q(z_i) = 1/n sum_j q(z_i | x_j) over the whole set (He et
 *   al. average it over batches of 50; over the whole set it is less biased, and at most log n).
 * - Active units (Burda et al. 2016): latent dimensions whose posterior mean varies across the set,
 *   Cov_x(E_q[z_d]) > 0.01.
 */
import type { Random } from '../engine/random.js';
import { LOG_2PI } from '../vae/posterior.js';
import { logSumExp } from '../vae/objectives/iwae.js';

/** A dimension is active when the variance of its posterior mean over the set is above this (Burda et al.). */
export const ACTIVE_UNIT_THRESHOLD = 0.01;

/** The most examples the mutual information is estimated over (its cost is n^2 L); more are subsampled by the caller. */
export const MI_MAX_EXAMPLES = 10_000;

/** The number of latent dimensions whose posterior mean's variance over the n rows is above ACTIVE_UNIT_THRESHOLD. */
export function activeUnits(meanLogvar: Float32Array, n: number, L: number): number {
  let active = 0;
  for (let d = 0; d < L; d++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += meanLogvar[i * 2 * L + d]!;
    const mean = sum / n;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += (meanLogvar[i * 2 * L + d]! - mean) ** 2;
    if (n > 1 && sq / (n - 1) > ACTIVE_UNIT_THRESHOLD) active++;
  }
  return active;
}

/** He et al.'s estimate of I(x; z) in nats over n rows of posterior parameters (see the top of this file); 0 when L is 0. */
export function mutualInformation(meanLogvar: Float32Array, n: number, L: number, rng: Random): number {
  if (L === 0 || n === 0) return 0;
  const W = 2 * L;
  let negEntropy = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < L; d++) s += 1 + meanLogvar[i * W + L + d]!;
    negEntropy += -0.5 * L * LOG_2PI - 0.5 * s;
  }
  negEntropy /= n;
  const eps = new Float32Array(L);
  const z = new Float64Array(L);
  const logDensity = new Float64Array(n);
  // log q(z_i | x_j) = -1/2 sum_d ((z_d - mean_jd)^2 / var_jd + logvar_jd + log 2 pi)
  const invVar = new Float64Array(n * L);
  const constant = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let c = -0.5 * L * LOG_2PI;
    for (let d = 0; d < L; d++) {
      const lv = meanLogvar[j * W + L + d]!;
      invVar[j * L + d] = Math.exp(-lv);
      c -= 0.5 * lv;
    }
    constant[j] = c;
  }
  let logQz = 0;
  for (let i = 0; i < n; i++) {
    rng.fillNormal(eps, L);
    for (let d = 0; d < L; d++) z[d] = meanLogvar[i * W + d]! + Math.exp(0.5 * meanLogvar[i * W + L + d]!) * eps[d]!;
    for (let j = 0; j < n; j++) {
      let q = 0;
      for (let d = 0; d < L; d++) {
        const dev = z[d]! - meanLogvar[j * W + d]!;
        q += dev * dev * invVar[j * L + d]!;
      }
      logDensity[j] = constant[j]! - 0.5 * q;
    }
    logQz += logSumExp(logDensity, 0, n) - Math.log(n);
  }
  return negEntropy - logQz / n;
}
