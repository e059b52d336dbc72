/**
 * The prior p(z) over the latent space:
 * - 'standard': N(0, I), the classic VAE's. Its KL to the diagonal Gaussian posterior has a closed
 *   form (the backend's klDiagonalGaussian).
 * - 'mog': a learned mixture of K diagonal Gaussians, p(z) = sum_k pi_k N(z; m_k, diag(exp(s_k))),
 *   pi = softmax(a), with means m, log-variances s and logits a trained with the rest of the model
 *   (parameters `prior.means` [K, L], `prior.logvars` [K, L], `prior.logits` [K]). A prior that
 *   learns the shape of the aggregate posterior leaves no "holes" where the decoder never trained,
 *   so samples from it look like the data even when the posterior carries many nats (Tomczak &
 *   Welling 2018 study mixture priors). Its KL has no closed form; the ELBO uses
 *   KL(q || p) ~ -H[q(z|x)] - log p(z) at the posterior sample z, the entropy in closed form.
 *
 * Sizes are tiny next to the networks (rows x K x L multiply-adds), so this runs in TypeScript on
 * either backend, in float64.
 */
import type { Random } from '../engine/random.js';
import { VaekitError } from '../errors.js';
import type { Parameter, ParameterSet, ParameterSpec } from '../nn/parameters.js';
import type { VaeConfig } from './config.js';
import { LOG_2PI } from './posterior.js';

export type PriorKind = 'standard' | 'mog';
export const PRIOR_KINDS: readonly PriorKind[] = ['standard', 'mog'];

/** Responsibilities below this are skipped in the backward pass (their terms are below float32 resolution). */
const NEGLIGIBLE_RESPONSIBILITY = 1e-12;

/** "standard" or "mog:K" as config fields. */
export function parsePrior(text: string): { prior: PriorKind; priorComponents: number } {
  if (text === 'standard') return { prior: 'standard', priorComponents: 0 };
  const m = /^mog:(\d+)$/.exec(text);
  if (m !== null && Number(m[1]) >= 1) return { prior: 'mog', priorComponents: Number(m[1]) };
  throw new VaekitError(`Unknown prior "${text}": use "standard" (N(0, I)) or "mog:K" (a learned mixture of K Gaussians, K >= 1, e.g. mog:50).`);
}

export function formatPrior(config: Pick<VaeConfig, 'prior' | 'priorComponents'>): string {
  return config.prior === 'mog' ? `mog:${config.priorComponents}` : 'standard';
}

export class Prior {
  readonly kind: PriorKind;
  /** Mixture components (0 for the standard prior). */
  readonly components: number;
  private readonly latent: number;
  private means: Parameter | null = null;
  private logvars: Parameter | null = null;
  private logits: Parameter | null = null;
  /** Responsibilities gamma[r * K + k] of the last logDensity call (mixture only). */
  private gamma = new Float64Array(0);
  // Work buffers, allocated once: log pi, per-component constants, pi, precisions exp(-s), gradients.
  private readonly logPi: Float64Array;
  private readonly constant: Float64Array;
  private readonly pi: Float64Array;
  private readonly precision: Float64Array;
  private readonly acc: Float64Array;

  /** The parameters a config's prior has (known before its buffers are made): K means, K log-variances, K logits. */
  static parameterCount(config: VaeConfig): number {
    return config.prior === 'mog' ? config.priorComponents * (2 * config.latent + 1) : 0;
  }

  constructor(config: VaeConfig) {
    this.kind = config.prior;
    this.components = config.prior === 'mog' ? config.priorComponents : 0;
    this.latent = config.latent;
    const K = this.components;
    this.logPi = new Float64Array(K);
    this.constant = new Float64Array(K);
    this.pi = new Float64Array(K);
    this.precision = new Float64Array(K * config.latent);
    this.acc = new Float64Array(K * (2 * config.latent + 1));
  }

  /** Whether KL(q || p) has a closed form per latent dimension (the standard prior). */
  get standard(): boolean {
    return this.kind === 'standard';
  }

  parameterSpecs(): ParameterSpec[] {
    if (this.standard) return [];
    const K = this.components;
    const L = this.latent;
    return [
      { name: 'prior.means', shape: [K, L] },
      { name: 'prior.logvars', shape: [K, L] },
      { name: 'prior.logits', shape: [K] },
    ];
  }

  bind(params: ParameterSet): void {
    if (this.standard) return;
    this.means = params.get('prior.means');
    this.logvars = params.get('prior.logvars');
    this.logits = params.get('prior.logits');
  }

  /** Component means ~ N(0, I), unit variances, equal weights. */
  initialize(rng: Random): void {
    if (this.means === null) return;
    rng.fillNormal(this.means.value);
    this.logvars!.value.fill(0);
    this.logits!.value.fill(0);
  }

  /**
   * out[r] = log p(z_r) for `rows` latent vectors. For the mixture it also keeps each row's
   * component responsibilities, which backward() uses: call backward with the same z.
   */
  logDensity(z: Float32Array, rows: number, out: Float64Array): void {
    const L = this.latent;
    if (this.standard) {
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let d = 0; d < L; d++) s += z[r * L + d]! ** 2;
        out[r] = -0.5 * (s + L * LOG_2PI);
      }
      return;
    }
    const K = this.components;
    if (this.gamma.length < rows * K) this.gamma = new Float64Array(rows * K);
    const m = this.means!.value;
    const s = this.logvars!.value;
    const logPi = this.logWeights();
    // The per-component constant log pi_k - 0.5 (L log 2 pi + sum_d s_kd).
    const constant = this.constant;
    for (let k = 0; k < K; k++) {
      let sum = 0;
      for (let d = 0; d < L; d++) sum += s[k * L + d]!;
      constant[k] = logPi[k]! - 0.5 * (L * LOG_2PI + sum);
    }
    const precision = this.precision;
    for (let i = 0; i < K * L; i++) precision[i] = Math.exp(-s[i]!);
    const g = this.gamma;
    for (let r = 0; r < rows; r++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        let q = 0;
        for (let d = 0; d < L; d++) {
          const diff = z[r * L + d]! - m[k * L + d]!;
          q += diff * diff * precision[k * L + d]!;
        }
        const lk = constant[k]! - 0.5 * q;
        g[r * K + k] = lk;
        if (lk > max) max = lk;
      }
      let total = 0;
      for (let k = 0; k < K; k++) total += Math.exp(g[r * K + k]! - max);
      const logp = max + Math.log(total);
      out[r] = logp;
      for (let k = 0; k < K; k++) g[r * K + k] = Math.exp(g[r * K + k]! - logp);
    }
  }

  /**
   * The gradient of sum_r c_r * (-log p(z_r)), c_r = scale * (rowScale[r] or 1): added to dz, and
   * (mixture) written to the prior's parameter gradients, overwriting them. The z must be those of
   * the last logDensity call.
   */
  backward(z: Float32Array, rows: number, scale: number, rowScale: Float32Array | null, dz: Float32Array): void {
    const L = this.latent;
    if (this.standard) {
      for (let r = 0; r < rows; r++) {
        const c = rowScale === null ? scale : scale * rowScale[r]!;
        for (let d = 0; d < L; d++) dz[r * L + d] = dz[r * L + d]! + c * z[r * L + d]!;
      }
      return;
    }
    const K = this.components;
    const m = this.means!.value;
    const dMeans = this.means!.grad;
    const dLogvars = this.logvars!.grad;
    const dLogits = this.logits!.grad;
    dMeans.fill(0);
    dLogvars.fill(0);
    dLogits.fill(0);
    const logPi = this.logWeights();
    const pi = this.pi;
    for (let k = 0; k < K; k++) pi[k] = Math.exp(logPi[k]!);
    const precision = this.precision; // exp(-s), from logDensity (same parameters)
    const acc = this.acc.fill(0);
    for (let r = 0; r < rows; r++) {
      const c = rowScale === null ? scale : scale * rowScale[r]!;
      if (c === 0) continue;
      for (let k = 0; k < K; k++) {
        const gamma = this.gamma[r * K + k]!;
        // -d log p / d a_k = pi_k - gamma_k (summed with weights c_r).
        acc[2 * K * L + k] = acc[2 * K * L + k]! + c * (pi[k]! - gamma);
        // Components this far from z (most of them) add nothing measurable.
        if (gamma < NEGLIGIBLE_RESPONSIBILITY) continue;
        const w = c * gamma;
        for (let d = 0; d < L; d++) {
          const i = k * L + d;
          const diff = z[r * L + d]! - m[i]!;
          const t = diff * precision[i]!;
          // -d log N_k / dz = (z - m) / v;  / dm = -(z - m) / v;  / ds = 0.5 (1 - (z - m)^2 / v).
          dz[r * L + d] = dz[r * L + d]! + w * t;
          acc[i] = acc[i]! - w * t;
          acc[K * L + i] = acc[K * L + i]! + w * 0.5 * (1 - t * diff);
        }
      }
    }
    for (let i = 0; i < K * L; i++) {
      dMeans[i] = acc[i]!;
      dLogvars[i] = acc[K * L + i]!;
    }
    for (let k = 0; k < K; k++) dLogits[k] = acc[2 * K * L + k]!;
  }

  /** n latent vectors drawn from the prior into out (n x L). */
  sample(n: number, rng: Random, out: Float32Array): void {
    const L = this.latent;
    if (this.standard) {
      rng.fillNormal(out, n * L);
      return;
    }
    const K = this.components;
    const logPi = this.logWeights();
    const m = this.means!.value;
    const s = this.logvars!.value;
    for (let r = 0; r < n; r++) {
      let u = rng.uniform();
      let k = 0;
      while (k < K - 1 && u >= Math.exp(logPi[k]!)) {
        u -= Math.exp(logPi[k]!);
        k++;
      }
      for (let d = 0; d < L; d++) out[r * L + d] = m[k * L + d]! + Math.exp(0.5 * s[k * L + d]!) * rng.normal();
    }
  }

  /** log pi = log softmax(logits). */
  private logWeights(): Float64Array {
    const a = this.logits!.value;
    const K = this.components;
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, a[k]!);
    let total = 0;
    for (let k = 0; k < K; k++) total += Math.exp(a[k]! - max);
    const lse = max + Math.log(total);
    for (let k = 0; k < K; k++) this.logPi[k] = a[k]! - lse;
    return this.logPi;
  }
}
