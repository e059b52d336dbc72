/**
 * The posterior q(z|x) = N(mean, diag(exp(logvar))), a diagonal Gaussian per row, as functions over
 * the encoder's output meanLogvar [rows, 2L] (each row: L means, then L log-variances). Each
 * forward has its backward beside it; a backward adds its term's gradient into dMeanLogvar
 * [rows, 2L], except reparameterizeBackward, which writes it (call it first).
 *
 * With k samples per row (the importance-weighted bound), the forward passes run on each row
 * repeated k times, sample r*k + i being row r's i-th, and reparameterizeBackward sums the samples'
 * gradients back onto their row.
 */
import type { Backend } from '../engine/backend.js';

export const LOG_2PI = Math.log(2 * Math.PI);

/** z [rows, L] = mean + exp(0.5 logvar) * eps, eps [rows, L] ~ N(0, I): the reparameterized sample. */
export function reparameterize(b: Backend, meanLogvar: Float32Array, eps: Float32Array, z: Float32Array, rows: number, L: number): void {
  b.reparameterize(meanLogvar, eps, z, rows, L);
}

/**
 * The one backward of the posterior's sample, written to dMeanLogvar [rows, 2L]: the gradient of
 *   sum_{r,i} dz[r*k+i] . z[r*k+i]  +  klScale * sum_r KL(q_r || N(0, I))  +  negEntropyScale * sum_r -H[q_r]
 * in (mean, logvar), with z = mean + exp(0.5 logvar) * eps for the k samples of each row
 * (eps, dz [rows*k, L]):
 *   dmean   = sum_i dz_i + klScale * mean
 *   dlogvar = sum_i dz_i * eps_i * 0.5 exp(0.5 logvar) + klScale * 0.5 (exp(logvar) - 1) - 0.5 negEntropyScale.
 * The KL and entropy terms are klToStandardNormal's and negativeEntropy's backward. k = 1 runs the
 * backend's fused kernel (dz and KL in one pass), then negativeEntropyBackward; k > 1 sums each
 * row's samples and terms in double before the one rounding to float32.
 */
export function reparameterizeBackward(b: Backend, meanLogvar: Float32Array, eps: Float32Array, dz: Float32Array,
  dMeanLogvar: Float32Array, rows: number, k: number, L: number, klScale: number, negEntropyScale: number): void {
  if (k === 1) {
    b.reparameterizeBackward(meanLogvar, eps, dz, dMeanLogvar, rows, L, klScale);
    if (negEntropyScale !== 0) negativeEntropyBackward(dMeanLogvar, rows, L, negEntropyScale);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const o = r * 2 * L;
    for (let d = 0; d < L; d++) {
      const mu = meanLogvar[o + d]!;
      const lv = meanLogvar[o + L + d]!;
      const sigma = Math.exp(0.5 * lv);
      let dMean = 0;
      let dLogvar = -0.5 * negEntropyScale;
      for (let i = 0; i < k; i++) {
        const s = (r * k + i) * L + d;
        const g = dz[s]!;
        dMean += g;
        dLogvar += g * 0.5 * sigma * eps[s]!;
      }
      dMeanLogvar[o + d] = dMean + klScale * mu;
      dMeanLogvar[o + L + d] = dLogvar + klScale * 0.5 * (Math.exp(lv) - 1);
    }
  }
}

/**
 * out[s] = log q(z_s | x) for z_s = mean + exp(0.5 logvar) * eps_s: -0.5 sum_d (log 2 pi + logvar_d + eps_d^2)
 * [rows] (rows of meanLogvar and eps paired). At fixed eps its gradient is -0.5 per log-variance
 * and 0 per mean, the same as negativeEntropy's: its backward is negativeEntropyBackward.
 */
export function logDensity(meanLogvar: Float32Array, eps: Float32Array, rows: number, L: number, out: Float64Array): void {
  for (let s = 0; s < rows; s++) {
    const o = s * 2 * L;
    let logq = 0;
    for (let d = 0; d < L; d++) {
      const e = eps[s * L + d]!;
      logq -= 0.5 * (LOG_2PI + meanLogvar[o + L + d]! + e * e);
    }
    out[s] = logq;
  }
}

/** -H[q(z|x)] = -0.5 sum_d (1 + log 2 pi + logvar_d): minus the entropy of row `row`'s posterior, nats. */
export function negativeEntropy(meanLogvar: Float32Array, row: number, L: number): number {
  let s = 0;
  const o = row * 2 * L + L;
  for (let d = 0; d < L; d++) s += meanLogvar[o + d]!;
  return -0.5 * (L * (1 + LOG_2PI) + s);
}

/** Adds scale * d(-H[q_r])/d(mean, logvar) = (0, -0.5 scale) to each of the rows of dMeanLogvar [rows, 2L]. */
export function negativeEntropyBackward(dMeanLogvar: Float32Array, rows: number, L: number, scale: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * 2 * L + L;
    for (let d = 0; d < L; d++) dMeanLogvar[o + d] = dMeanLogvar[o + d]! - 0.5 * scale;
  }
}

/**
 * klRow[r] = KL(q_r || N(0, I)) = 0.5 sum_d (mean^2 + exp(logvar) - 1 - logvar) [rows]; returns
 * their mean. Its backward is fused into reparameterizeBackward (klScale): one pass, as the
 * backend's kernel does it.
 */
export function klToStandardNormal(b: Backend, meanLogvar: Float32Array, rows: number, L: number, klRow: Float32Array): number {
  b.klDiagonalGaussian(meanLogvar, rows, L, klRow);
  return b.sum(klRow, rows) / rows;
}

/** klDim[d] = (1/rows) sum_r 0.5 (mean_rd^2 + exp(logvar_rd) - 1 - logvar_rd): each dimension's batch-mean KL to N(0, 1) [L]. */
export function klPerDimension(meanLogvar: Float32Array, rows: number, L: number, klDim: Float64Array): void {
  klDim.fill(0, 0, L);
  for (let r = 0; r < rows; r++) {
    const o = r * 2 * L;
    for (let d = 0; d < L; d++) {
      const mu = meanLogvar[o + d]!;
      const lv = meanLogvar[o + L + d]!;
      klDim[d] = klDim[d]! + 0.5 * (mu * mu + Math.exp(lv) - 1 - lv);
    }
  }
  for (let d = 0; d < L; d++) klDim[d] = klDim[d]! / rows;
}

/**
 * Adds sum_d dKlDim[d] * d klDim[d]/d(mean, logvar) to dMeanLogvar [rows, 2L], where
 * d klDim[d]/d mean_rd = mean_rd / rows and d klDim[d]/d logvar_rd = 0.5 (exp(logvar_rd) - 1) / rows;
 * dimensions with dKlDim[d] = 0 are left alone.
 */
export function klPerDimensionBackward(meanLogvar: Float32Array, dKlDim: Float64Array, dMeanLogvar: Float32Array, rows: number, L: number): void {
  for (let d = 0; d < L; d++) {
    if (dKlDim[d] === 0) continue;
    const scale = dKlDim[d]! / rows;
    for (let r = 0; r < rows; r++) {
      const o = r * 2 * L;
      dMeanLogvar[o + d] = dMeanLogvar[o + d]! + scale * meanLogvar[o + d]!;
      dMeanLogvar[o + L + d] = dMeanLogvar[o + L + d]! + scale * 0.5 * (Math.exp(meanLogvar[o + L + d]!) - 1);
    }
  }
}
