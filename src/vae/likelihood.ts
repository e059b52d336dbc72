/**
 * Pixel likelihoods p(x | z), all parameterized by the decoder's logits l (one per pixel):
 * - bernoulli: p = sigmoid(l); -log p(x) = softplus(l) - l x (greyscale x in [0,1] as in the
 *   classic VAE papers; for binarized x it is the exact Bernoulli likelihood).
 * - continuous-bernoulli: the correctly normalized density on [0,1] (Loaiza-Ganem & Cunningham
 *   2019): p(x) = C(l) sigmoid(l)^x (1 - sigmoid(l))^(1-x) with C(l) = l / tanh(l / 2) (2 at l = 0),
 *   so -log p(x) = bernoulli - log C(l).
 * - gaussian: mean sigmoid(l) for images (l itself for a table's standardized features) and a
 *   fixed standard deviation, or a learned one per value
 *   (a parameter vector `likelihood.logvar`, floored at sigma = 0.01 so the density stays bounded).
 * Images (what reconstruct/decode/sample return) are sigmoid(l) for all three; features are l.
 */
import type { Backend } from '../engine/backend.js';
import { VaekitError } from '../errors.js';
import type { Parameter, ParameterSet, ParameterSpec } from '../nn/parameters.js';
import { imageSides, inputSize, type VaeConfig } from './config.js';

/** The learned log-variance may not go below 2 ln(0.01). */
export const MIN_LOGVAR = 2 * Math.log(0.01);

export class PixelLikelihood {
  readonly kind: VaeConfig['likelihood'];
  readonly learnedVariance: boolean;
  private readonly pixels: number;
  /** How logits become the mean: sigmoid for values in [0, 1], none for standardized features. */
  private readonly meanActivation: 'sigmoid' | 'linear';
  private readonly initialLogvar: number;
  private readonly zeroBias: Float32Array;
  private readonly sharedLogvar: Float32Array;
  private logvarParam: Parameter | null = null;
  private capacity = 0;
  private mean = new Float32Array(0);
  private logvarRows = new Float32Array(0);
  private dLogvarRows = new Float32Array(0);

  /** The parameters a config's likelihood has (known before its buffers are made): a learned log-variance per value, or none. */
  static parameterCount(config: VaeConfig): number {
    return config.likelihood === 'gaussian' && config.gaussianLearnedVariance ? inputSize(config) : 0;
  }

  constructor(config: VaeConfig) {
    this.kind = config.likelihood;
    this.learnedVariance = config.likelihood === 'gaussian' && config.gaussianLearnedVariance;
    this.pixels = inputSize(config);
    this.meanActivation = imageSides(config) === null ? 'linear' : 'sigmoid';
    this.initialLogvar = 2 * Math.log(config.gaussianSigma);
    this.zeroBias = new Float32Array(this.pixels);
    this.sharedLogvar = new Float32Array([this.initialLogvar]);
  }

  parameterSpecs(): ParameterSpec[] {
    return this.learnedVariance ? [{ name: 'likelihood.logvar', shape: [this.pixels] }] : [];
  }

  bind(params: ParameterSet): void {
    this.logvarParam = this.learnedVariance ? params.get('likelihood.logvar') : null;
  }

  initialize(): void {
    this.logvarParam?.value.fill(this.initialLogvar);
  }

  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = rows;
    this.mean = new Float32Array(rows * this.pixels);
    if (this.learnedVariance) {
      this.logvarRows = new Float32Array(rows * this.pixels);
      this.dLogvarRows = new Float32Array(rows * this.pixels);
    }
  }

  /** The mean of p(x|z) written to out: sigmoid(logits) for images, the logits themselves for features. */
  images(backend: Backend, logits: Float32Array, rows: number, out: Float32Array): void {
    backend.biasActivation(logits, this.zeroBias, out, rows, this.pixels, this.meanActivation, 0);
  }

  /**
   * rowNll[r] = -log p(target_r | logits_r) in nats. With dLogits, also its gradient times
   * gradScale, and times rowScale[r] when given (importance weights for IWAE); the learned
   * variance's gradient is then written to its parameter's gradient (overwritten).
   *
   * With a mask [rows, D] (1 observed, 0 missing; Donut's modified ELBO, Xu et al. 2018) the sum
   * runs over the observed values only, and the gradients (the learned variance's too) are 0 at the
   * missing ones. Gaussian likelihood only (series); a mask of all ones gives the same bits as none.
   */
  nll(backend: Backend, logits: Float32Array, target: Float32Array, rows: number, rowNll: Float32Array,
    dLogits: Float32Array | null, gradScale: number, rowScale: Float32Array | null = null, mask: Uint8Array | null = null): void {
    const D = this.pixels;
    if (mask !== null && this.kind !== 'gaussian') {
      throw new VaekitError(`Missing values (a mask) need the gaussian likelihood, not ${this.kind}.`);
    }
    if (this.kind === 'bernoulli' || this.kind === 'continuous-bernoulli') {
      backend.bceWithLogits(logits, target, rows, D, rowNll, dLogits, gradScale);
      if (this.kind === 'continuous-bernoulli') subtractLogNormalizer(logits, rows, D, rowNll, dLogits, gradScale);
      if (dLogits !== null && rowScale !== null) scaleRows(backend, dLogits, rows, D, rowScale);
      return;
    }
    const logvar = this.gaussianLogvar(backend, logits, rows);
    const dLogvar = dLogits === null || this.logvarParam === null ? null : this.dLogvarRows;
    backend.gaussianNll(this.mean, logvar, target, rows, D, rowNll, dLogits, dLogvar, gradScale);
    if (mask !== null) this.maskMissing(logvar, target, rows, mask, rowNll, dLogits, dLogvar);
    if (dLogvar !== null) {
      if (rowScale !== null) scaleRows(backend, dLogvar, rows, D, rowScale);
      backend.sumRows(dLogvar, rows, D, this.logvarParam!.grad);
    }
    if (dLogits !== null) {
      if (rowScale !== null) scaleRows(backend, dLogits, rows, D, rowScale);
      if (this.meanActivation === 'sigmoid') backend.activationBackward(dLogits, this.mean, dLogits, rows * D, 'sigmoid', 0);
    }
  }

  /**
   * The Gaussian's means into this.mean [rows, D] and its log-variances: the fixed one [1], or the
   * learned ones (floored at MIN_LOGVAR) repeated per row [rows, D].
   */
  private gaussianLogvar(backend: Backend, logits: Float32Array, rows: number): Float32Array {
    const D = this.pixels;
    this.reserve(rows);
    this.images(backend, logits, rows, this.mean);
    if (this.logvarParam === null) return this.sharedLogvar;
    const logvar = this.logvarParam.value;
    for (let j = 0; j < D; j++) if (logvar[j]! < MIN_LOGVAR) logvar[j] = MIN_LOGVAR;
    for (let r = 0; r < rows; r++) this.logvarRows.set(logvar, r * D);
    return this.logvarRows;
  }

  /**
   * The mask's part of nll: each row with a missing value gets its sum over the observed values alone
   * (in float64, as gaussianValueNll gives them), and the gradients of its missing values become 0.
   * Rows without a missing value keep the kernel's bits.
   */
  private maskMissing(logvar: Float32Array, target: Float32Array, rows: number, mask: Uint8Array, rowNll: Float32Array,
    dMean: Float32Array | null, dLogvar: Float32Array | null): void {
    const D = this.pixels;
    const shared = logvar.length === 1;
    for (let r = 0; r < rows; r++) {
      const o = r * D;
      let complete = true;
      for (let j = 0; j < D && complete; j++) complete = mask[o + j] !== 0;
      if (complete) continue;
      let s = 0;
      for (let j = 0; j < D; j++) {
        if (mask[o + j] !== 0) {
          s += gaussianValueNll(this.mean[o + j]!, shared ? logvar[0]! : logvar[o + j]!, target[o + j]!);
          continue;
        }
        if (dMean !== null) dMean[o + j] = 0;
        if (dLogvar !== null) dLogvar[o + j] = 0;
      }
      rowNll[r] = s;
    }
  }

  /**
   * out[r * D + j] += weight * -log p(target_rj | logits_r) in nats, per value (Gaussian likelihood
   * only); out becomes NaN where a mask is given and is 0.
   */
  addValueNll(backend: Backend, logits: Float32Array, target: Float32Array, rows: number, mask: Uint8Array | null, weight: number,
    out: Float64Array): void {
    if (this.kind !== 'gaussian') throw new VaekitError(`Per-value scores need the gaussian likelihood, not ${this.kind}.`);
    const D = this.pixels;
    const logvar = this.gaussianLogvar(backend, logits, rows);
    const shared = logvar.length === 1;
    for (let i = 0; i < rows * D; i++) {
      out[i] = mask !== null && mask[i] === 0 ? Number.NaN : out[i]! + weight * gaussianValueNll(this.mean[i]!, shared ? logvar[0]! : logvar[i]!, target[i]!);
    }
  }
}

const LOG_2PI = Math.log(2 * Math.PI);

/** -log N(x; mean, exp(logvar)) = 0.5 (log 2 pi + logvar + (x - mean)^2 exp(-logvar)), the Backend's gaussianNll per value. */
export function gaussianValueNll(mean: number, logvar: number, x: number): number {
  const d = mean - x;
  return 0.5 * (LOG_2PI + logvar + d * d * Math.exp(-logvar));
}

function scaleRows(backend: Backend, x: Float32Array, rows: number, cols: number, rowScale: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * cols, (r + 1) * cols);
    backend.scale(row, rowScale[r]!, row, cols);
  }
}

/**
 * log C(l) for the continuous Bernoulli, C(l) = l / tanh(l / 2): even in l, 2 at 0, about |l| for
 * large |l|. Near 0 its series 2 + l^2/6 avoids 0/0.
 */
export function continuousBernoulliLogNormalizer(l: number): number {
  const a = Math.abs(l);
  if (a < 1e-3) return Math.log(2 + (l * l) / 6);
  return Math.log(a / Math.tanh(a / 2));
}

/** d/dl log C(l) = 1/l - 1/sinh(l) (odd; about l/6 near 0; 0 at 0). */
export function continuousBernoulliLogNormalizerGrad(l: number): number {
  const a = Math.abs(l);
  if (a < 1e-3) return l / 6;
  if (a > 40) return 1 / l; // 1/sinh underflows harmlessly
  return 1 / l - 1 / Math.sinh(l);
}

/** rowNll -= sum_j log C(l); dLogits -= gradScale * d log C / dl. */
function subtractLogNormalizer(logits: Float32Array, rows: number, cols: number, rowNll: Float32Array,
  dLogits: Float32Array | null, gradScale: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) {
      const l = logits[o + j]!;
      s += continuousBernoulliLogNormalizer(l);
      if (dLogits !== null) dLogits[o + j] = dLogits[o + j]! - gradScale * continuousBernoulliLogNormalizerGrad(l);
    }
    rowNll[r] = rowNll[r]! - s;
  }
}
