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
 * The mixture's log density and its backward pass are backend kernels (mixtureLogDensity,
 * mixtureBackward: rows x K x L multiply-adds, in float64); the standard prior's run here.
 */
import type { Backend } from '../engine/backend.js';
import { getBackend } from '../engine/index.js';
import { logSoftmax } from '../engine/js-backend.js';
import type { Random } from '../engine/random.js';
import { VaekitError } from '../errors.js';
import type { Parameter, ParameterSet, ParameterSpec } from '../nn/parameters.js';
import type { VaeConfig } from './config.js';
import { LOG_2PI } from './posterior.js';

export type PriorKind = 'standard' | 'mog';
export const PRIOR_KINDS: readonly PriorKind[] = ['standard', 'mog'];

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
  private readonly backend: Backend;
  private means: Parameter | null = null;
  private logvars: Parameter | null = null;
  private logits: Parameter | null = null;
  /** Responsibilities gamma[r * K + k] of the last logDensity call (mixture only). */
  private gamma = new Float64Array(0);
  /** log pi, for sample(). */
  private readonly logPi: Float64Array;

  /** The parameters a config's prior has (known before its buffers are made): K means, K log-variances, K logits. */
  static parameterCount(config: VaeConfig): number {
    return config.prior === 'mog' ? config.priorComponents * (2 * config.latent + 1) : 0;
  }

  /** The mixture's density and gradients run on `backend` (the Vae passes its own). */
  constructor(config: VaeConfig, backend: Backend = getBackend()) {
    this.kind = config.prior;
    this.components = config.prior === 'mog' ? config.priorComponents : 0;
    this.latent = config.latent;
    this.backend = backend;
    this.logPi = new Float64Array(this.components);
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
    this.backend.mixtureLogDensity(z, rows, L, K, this.means!.value, this.logvars!.value, this.logits!.value, out, this.gamma);
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
    this.backend.mixtureBackward(
      z, rows, L, this.components, this.means!.value, this.logvars!.value, this.logits!.value, this.gamma,
      scale, rowScale, dz, this.means!.grad, this.logvars!.grad, this.logits!.grad,
    );
  }

  /** n latent vectors drawn from the prior into out (n x L). */
  sample(n: number, rng: Random, out: Float32Array): void {
    const L = this.latent;
    if (this.standard) {
      rng.fillNormal(out, n * L);
      return;
    }
    const K = this.components;
    const logPi = logSoftmax(this.logits!.value, K, this.logPi);
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
}
