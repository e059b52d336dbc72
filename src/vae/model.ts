/**
 * The variational autoencoder: an encoder to the posterior's mean and log-variance, reparameterized
 * samples z = mean + exp(0.5 logvar) * eps, a decoder to pixel logits, and the pixel likelihood
 * that scores them (likelihood.ts). Images are sigmoid(logits).
 *
 * Batch-level methods (run, encodeBatch, reconstructBatch, logImportanceWeights) work on raw
 * Float32Array rows and reuse buffers; the Tensor-level methods (encode/decode/reconstruct/sample)
 * split any number of images into chunks. A conditional model (config.classes > 0) takes a label
 * per image everywhere.
 */
import type { Backend } from '../engine/backend.js';
import { getBackend } from '../engine/index.js';
import { Random } from '../engine/random.js';
import { Tensor } from '../engine/tensor.js';
import { VaekitError } from '../errors.js';
import { ParameterSet } from '../nn/parameters.js';
import { Sequential } from '../nn/sequential.js';
import { buildDecoder, buildEncoder, encoderInputSize } from './architecture.js';
import { validateConfig, type VaeConfig } from './config.js';
import { PixelLikelihood } from './likelihood.js';
import { checkObjectiveFits, type LossParts, type Objective } from './objective.js';
import { LOG_2PI, negativeEntropy, Prior } from './prior.js';
import { formatSummary } from './summary.js';

/** Rows processed at once by the Tensor-level methods. */
const INFERENCE_CHUNK = 1000;

export interface VaeOptions {
  backend?: Backend;
  /** Seed for the initial weights (default 0). */
  seed?: number;
}

/** Labels of a batch's rows (class indices), or null for an unconditional model. */
export type Labels = ArrayLike<number> | null;

export class Vae {
  readonly config: VaeConfig;
  readonly backend: Backend;
  readonly encoder: Sequential;
  readonly decoder: Sequential;
  readonly likelihood: PixelLikelihood;
  readonly prior: Prior;
  readonly params: ParameterSet;
  /** Values per image (height * width * channels). */
  readonly pixels: number;
  readonly latent: number;
  readonly classes: number;

  private capacity = 0;
  private sampleCapacity = 0;
  private encoderInput = new Float32Array(0);
  private decoderInput = new Float32Array(0);
  private eps = new Float32Array(0);
  private z = new Float32Array(0);
  private repeatedPosterior = new Float32Array(0);
  private repeatedTarget = new Float32Array(0);
  private dMeanLogvar = new Float32Array(0);
  private dz = new Float32Array(0);
  private mean = new Float32Array(0);
  private dLogits = new Float32Array(0);
  private rowRecon = new Float32Array(0);
  private rowKl = new Float32Array(0);
  private logWeights = new Float64Array(0);
  private logPrior = new Float64Array(0);
  private sampleWeights = new Float32Array(0);
  private klPerDim = new Float64Array(0);

  constructor(config: VaeConfig, options: VaeOptions = {}) {
    this.config = validateConfig(structuredClone(config));
    this.backend = options.backend ?? getBackend();
    this.pixels = config.imageHeight * config.imageWidth * config.imageChannels;
    this.latent = config.latent;
    this.classes = config.classes;
    this.encoder = new Sequential(buildEncoder(this.config));
    this.decoder = new Sequential(buildDecoder(this.config));
    this.likelihood = new PixelLikelihood(this.config);
    this.prior = new Prior(this.config);
    this.params = new ParameterSet([
      ...this.encoder.parameterSpecs(), ...this.decoder.parameterSpecs(), ...this.likelihood.parameterSpecs(), ...this.prior.parameterSpecs(),
    ]);
    this.encoder.bind(this.params);
    this.decoder.bind(this.params);
    this.likelihood.bind(this.params);
    this.prior.bind(this.params);
    const rng = new Random(options.seed ?? 0);
    this.encoder.initialize(rng);
    this.decoder.initialize(rng);
    this.likelihood.initialize();
    this.prior.initialize(rng);
    this.klPerDim = new Float64Array(this.latent);
  }

  /** A Keras-like table of layers, output shapes and parameter counts. */
  summary(): string {
    return formatSummary(this);
  }

  /** Makes every per-row buffer large enough for `rows` rows (allocates only when it grows). */
  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = rows;
    const L = this.latent;
    this.encoderInput = new Float32Array(this.classes > 0 ? rows * encoderInputSize(this.config) : 0);
    this.dMeanLogvar = new Float32Array(rows * 2 * L);
    this.rowKl = new Float32Array(rows);
    this.reserveSamples(rows);
  }

  /** Buffers for `n` sampled rows (images times samples per image). */
  private reserveSamples(n: number): void {
    if (n <= this.sampleCapacity) return;
    this.sampleCapacity = n;
    const L = this.latent;
    this.eps = new Float32Array(n * L);
    this.z = new Float32Array(n * L);
    this.decoderInput = new Float32Array(this.classes > 0 ? n * (L + this.classes) : 0);
    this.repeatedPosterior = new Float32Array(n * 2 * L);
    this.repeatedTarget = new Float32Array(n * this.pixels);
    this.dz = new Float32Array(n * L);
    this.mean = new Float32Array(n * this.pixels);
    this.dLogits = new Float32Array(n * this.pixels);
    this.rowRecon = new Float32Array(n);
    this.logWeights = new Float64Array(n);
    this.logPrior = new Float64Array(n);
    this.sampleWeights = new Float32Array(n);
  }

  // ---- batch level -------------------------------------------------------------------------

  /** Posterior parameters for `rows` images: rows x 2L, mean then log-variance (a view; reused). */
  encodeBatch(x: Float32Array, rows: number, labels: Labels = null): Float32Array {
    this.reserve(rows);
    return this.encoder.forward(this.backend, this.withEncoderLabels(x, rows, labels), rows);
  }

  /** Decoder logits for `rows` latent vectors (a view; reused). */
  decodeLogitsBatch(z: Float32Array, rows: number, labels: Labels = null): Float32Array {
    this.reserveSamples(rows);
    return this.decoder.forward(this.backend, this.withDecoderLabels(z, rows, labels), rows);
  }

  /** Images sigmoid(logits) written to out. */
  logitsToImages(logits: Float32Array, rows: number, out: Float32Array): void {
    this.likelihood.images(this.backend, logits, rows, out);
  }

  /**
   * Forward pass and the objective on a batch; when `train` is set, also the backward pass: the
   * gradients of the batch-mean objective overwrite params.grads. `input` is what the encoder sees
   * (noisy), `target` what the decoder is scored against (clean). rng draws the posterior samples
   * (null: the posterior mean, for deterministic scoring).
   */
  run(input: Float32Array, target: Float32Array, rows: number, objective: Objective, rng: Random | null,
    train: boolean, labels: Labels = null): LossParts {
    this.reserve(rows);
    const b = this.backend;
    const L = this.latent;
    checkObjectiveFits(objective, this.config);
    const meanLogvar = this.encodeBatch(input, rows, labels);
    if (objective.loss === 'iwae') return this.runImportanceWeighted(meanLogvar, target, rows, objective.samples, rng, train, labels);

    this.reserveSamples(rows);
    if (rng === null) this.eps.fill(0, 0, rows * L);
    else rng.fillNormal(this.eps, rows * L);
    b.reparameterize(meanLogvar, this.eps, this.z, rows, L);
    const kl = this.klRows(meanLogvar, rows);
    const logits = this.decodeLogitsBatch(this.z, rows, labels);
    const dLogits = train ? this.dLogits : null;
    let recon: number;
    if (objective.loss === 'notebook-mse') {
      recon = this.meanSquaredError(logits, target, rows, dLogits);
    } else {
      this.likelihood.nll(b, logits, target, rows, this.rowRecon, dLogits, 1 / rows);
      recon = b.sum(this.rowRecon, rows) / rows;
    }
    const isElbo = objective.loss === 'elbo';
    const klTerm = isElbo && objective.freeBits > 0 ? this.freeBitsKl(meanLogvar, rows, objective.freeBits) : kl;
    const loss = isElbo ? recon + objective.beta * klTerm : recon;
    if (train) {
      const dz = this.decoderInputGrad(this.decoder.backward(b, this.dLogits, rows, true)!, rows);
      if (!this.prior.standard) {
        // KL ~ -H[q] - log p(z): -log p(z) through z (and into the prior's parameters), and the
        // entropy's -0.5 per log-variance. Scale 0 (no KL term) still clears the prior's gradients.
        const klScale = isElbo ? objective.beta / rows : 0;
        this.prior.backward(this.z, rows, klScale, null, dz);
        b.reparameterizeBackward(meanLogvar, this.eps, dz, this.dMeanLogvar, rows, L, 0);
        if (klScale !== 0) {
          for (let r = 0; r < rows; r++) {
            for (let d = 0; d < L; d++) this.dMeanLogvar[r * 2 * L + L + d] = this.dMeanLogvar[r * 2 * L + L + d]! - 0.5 * klScale;
          }
        }
      } else if (isElbo && objective.freeBits > 0) {
        b.reparameterizeBackward(meanLogvar, this.eps, dz, this.dMeanLogvar, rows, L, 0);
        this.addFreeBitsKlGrad(meanLogvar, rows, objective.beta / rows, objective.freeBits);
      } else {
        b.reparameterizeBackward(meanLogvar, this.eps, dz, this.dMeanLogvar, rows, L, isElbo ? objective.beta / rows : 0);
      }
      this.encoder.backward(b, this.dMeanLogvar, rows, false);
    }
    return { loss, recon, kl };
  }

  /**
   * Each row's KL(q(z|x) || p(z)) into rowKl, and their mean: the closed form for N(0, I); for a
   * learned prior -H[q] - log p(z) at the current samples this.z (and the prior keeps what its
   * backward pass needs).
   */
  private klRows(meanLogvar: Float32Array, rows: number): number {
    const L = this.latent;
    if (this.prior.standard) {
      this.backend.klDiagonalGaussian(meanLogvar, rows, L, this.rowKl);
    } else {
      this.prior.logDensity(this.z, rows, this.logPrior);
      for (let r = 0; r < rows; r++) this.rowKl[r] = negativeEntropy(meanLogvar, r, L) - this.logPrior[r]!;
    }
    return this.backend.sum(this.rowKl, rows) / rows;
  }

  /** The notebook's loss: mean squared error per pixel of sigmoid(logits), with its gradient. */
  private meanSquaredError(logits: Float32Array, target: Float32Array, rows: number, dLogits: Float32Array | null): number {
    const b = this.backend;
    const D = this.pixels;
    this.logitsToImages(logits, rows, this.mean);
    b.squaredError(this.mean, target, rows, D, this.rowRecon, dLogits, 1 / (rows * D));
    if (dLogits !== null) b.activationBackward(dLogits, this.mean, dLogits, rows * D, 'sigmoid', 0);
    return b.sum(this.rowRecon, rows) / (rows * D);
  }

  /** sum_d max(lambda, KL_d) with KL_d the batch mean of dimension d's KL (fills klPerDim). */
  private freeBitsKl(meanLogvar: Float32Array, rows: number, lambda: number): number {
    const L = this.latent;
    this.klPerDim.fill(0);
    for (let r = 0; r < rows; r++) {
      const o = r * 2 * L;
      for (let d = 0; d < L; d++) {
        const mu = meanLogvar[o + d]!;
        const lv = meanLogvar[o + L + d]!;
        this.klPerDim[d] = this.klPerDim[d]! + 0.5 * (mu * mu + Math.exp(lv) - 1 - lv);
      }
    }
    let s = 0;
    for (let d = 0; d < L; d++) {
      this.klPerDim[d] = this.klPerDim[d]! / rows;
      s += Math.max(lambda, this.klPerDim[d]!);
    }
    return s;
  }

  /** Adds scale * dKL/d(mean, logvar) for the dimensions above the free-bits floor (klPerDim from freeBitsKl). */
  private addFreeBitsKlGrad(meanLogvar: Float32Array, rows: number, scale: number, lambda: number): void {
    const L = this.latent;
    for (let d = 0; d < L; d++) {
      if (this.klPerDim[d]! <= lambda) continue;
      for (let r = 0; r < rows; r++) {
        const o = r * 2 * L;
        this.dMeanLogvar[o + d] = this.dMeanLogvar[o + d]! + scale * meanLogvar[o + d]!;
        this.dMeanLogvar[o + L + d] = this.dMeanLogvar[o + L + d]! + scale * 0.5 * (Math.exp(meanLogvar[o + L + d]!) - 1);
      }
    }
  }

  /**
   * Draws k samples per image, decodes them and writes log w = log p(x | z) + log p(z) - log q(z | x)
   * for each (image, sample) to logWeights[r * k + i]; returns the logits (rows * k rows).
   */
  private sampleLogWeights(meanLogvar: Float32Array, target: Float32Array, rows: number, k: number, rng: Random,
    labels: Labels, dLogits: Float32Array | null, rowScale: Float32Array | null): Float32Array {
    const b = this.backend;
    const L = this.latent;
    const D = this.pixels;
    const n = rows * k;
    this.reserveSamples(n);
    for (let r = 0; r < rows; r++) {
      const posterior = meanLogvar.subarray(r * 2 * L, (r + 1) * 2 * L);
      const image = target.subarray(r * D, (r + 1) * D);
      for (let i = 0; i < k; i++) {
        this.repeatedPosterior.set(posterior, (r * k + i) * 2 * L);
        this.repeatedTarget.set(image, (r * k + i) * D);
      }
    }
    rng.fillNormal(this.eps, n * L);
    b.reparameterize(this.repeatedPosterior, this.eps, this.z, n, L);
    const logits = this.decodeLogitsBatch(this.z, n, repeatLabels(labels, rows, k));
    this.likelihood.nll(b, logits, this.repeatedTarget, n, this.rowRecon, dLogits, 1 / rows, rowScale);
    this.prior.logDensity(this.z, n, this.logPrior);
    for (let s = 0; s < n; s++) {
      // log q(z|x) = -0.5 sum_d (log 2 pi + logvar_d + eps_d^2).
      let logq = 0;
      const o = s * 2 * L;
      for (let d = 0; d < L; d++) {
        const e = this.eps[s * L + d]!;
        logq -= 0.5 * (LOG_2PI + this.repeatedPosterior[o + L + d]! + e * e);
      }
      this.logWeights[s] = -this.rowRecon[s]! + this.logPrior[s]! - logq;
    }
    return logits;
  }

  /** The IWAE objective with k samples per image (see objective.ts), and its gradient. */
  private runImportanceWeighted(meanLogvar: Float32Array, target: Float32Array, rows: number, k: number,
    rng: Random | null, train: boolean, labels: Labels): LossParts {
    if (rng === null) throw new VaekitError('The importance-weighted objective needs random samples (a generator).');
    const b = this.backend;
    const L = this.latent;
    const n = rows * k;
    this.reserveSamples(n);
    // The gradient of each sample's term is needed times its normalized weight, known only after
    // the forward pass. The logits' gradient is scaled by the weights afterwards; a learned
    // variance's gradient is summed over the samples inside nll(), so with one the forward pass
    // runs twice on the same samples (a generator seeded from rng, twice), the second with weights.
    const seed = rng.nextUint32();
    const twoPasses = train && this.likelihood.learnedVariance;
    this.sampleLogWeights(meanLogvar, target, rows, k, new Random(seed), labels, train && !twoPasses ? this.dLogits : null, null);
    let bound = 0;
    let recon = 0;
    let kl = 0;
    for (let r = 0; r < rows; r++) {
      const lse = logSumExp(this.logWeights, r * k, k);
      bound += lse - Math.log(k);
      for (let i = 0; i < k; i++) {
        this.sampleWeights[r * k + i] = Math.exp(this.logWeights[r * k + i]! - lse);
        recon += this.rowRecon[r * k + i]!;
      }
      if (!this.prior.standard) {
        // The learned prior's KL: -H[q] - log p(z), averaged over the k samples.
        const negEntropy = negativeEntropy(meanLogvar, r, L);
        for (let i = 0; i < k; i++) kl += (negEntropy - this.logPrior[r * k + i]!) / n;
      }
    }
    if (this.prior.standard) {
      b.klDiagonalGaussian(meanLogvar, rows, L, this.rowKl);
      kl = b.sum(this.rowKl, rows) / rows;
    }
    const parts = { loss: -bound / rows, recon: recon / n, kl };
    if (!train) return parts;
    if (twoPasses) {
      this.sampleLogWeights(meanLogvar, target, rows, k, new Random(seed), labels, this.dLogits, this.sampleWeights);
    } else {
      const D = this.pixels;
      for (let s = 0; s < n; s++) {
        const row = this.dLogits.subarray(s * D, (s + 1) * D);
        b.scale(row, this.sampleWeights[s]!, row, D);
      }
    }
    const dz = this.decoderInputGrad(this.decoder.backward(b, this.dLogits, n, true)!, n);
    // The gradient of -sum_i w_i log w_i: -log p(z_i) adds w_i * its gradient to dz_i (and to the
    // prior's parameters); then through z = mean + sigma eps, and -0.5 per dimension on logvar
    // directly (from log q), summed over the samples.
    this.prior.backward(this.z, n, 1 / rows, this.sampleWeights, dz);
    this.dMeanLogvar.fill(0, 0, rows * 2 * L);
    for (let r = 0; r < rows; r++) {
      const o = r * 2 * L;
      for (let d = 0; d < L; d++) {
        const sigma = Math.exp(0.5 * meanLogvar[o + L + d]!);
        let dMean = 0;
        let dLogvar = -0.5 / rows;
        for (let i = 0; i < k; i++) {
          const s = r * k + i;
          const g = dz[s * L + d]!;
          dMean += g;
          dLogvar += g * 0.5 * sigma * this.eps[s * L + d]!;
        }
        this.dMeanLogvar[o + d] = dMean;
        this.dMeanLogvar[o + L + d] = dLogvar;
      }
    }
    this.encoder.backward(b, this.dMeanLogvar, rows, false);
    return parts;
  }

  /**
   * log w = log p(x, z_i) - log q(z_i | x) for `samples` posterior samples of each of `rows` images,
   * written to out[r * samples + i] (what the importance-sampled log-likelihood estimate averages).
   */
  logImportanceWeights(input: Float32Array, target: Float32Array, rows: number, samples: number, rng: Random,
    out: Float64Array, labels: Labels = null): void {
    const meanLogvar = this.encodeBatch(input, rows, labels);
    this.sampleLogWeights(meanLogvar, target, rows, samples, rng, labels, null, null);
    out.set(this.logWeights.subarray(0, rows * samples));
  }

  /**
   * Per-image negative ELBO in nats (-log p(target | z) with one posterior sample z, plus the KL:
   * closed form for N(0, I), -H[q] - log p(z) at the same sample for a learned prior) of `rows`
   * images, written to out.
   */
  negElboPerImage(input: Float32Array, target: Float32Array, rows: number, rng: Random, out: Float64Array, labels: Labels = null): void {
    this.reserve(rows);
    const L = this.latent;
    const meanLogvar = this.encodeBatch(input, rows, labels);
    rng.fillNormal(this.eps, rows * L);
    this.backend.reparameterize(meanLogvar, this.eps, this.z, rows, L);
    this.klRows(meanLogvar, rows);
    const logits = this.decodeLogitsBatch(this.z, rows, labels);
    this.likelihood.nll(this.backend, logits, target, rows, this.rowRecon, null, 0);
    for (let r = 0; r < rows; r++) out[r] = this.rowRecon[r]! + this.rowKl[r]!;
  }

  /** Decodes the posterior mean of each of `rows` inputs (or a sample, given rng) into out. */
  reconstructBatch(x: Float32Array, rows: number, rng: Random | null, out: Float32Array, labels: Labels = null): void {
    this.reserve(rows);
    const L = this.latent;
    const meanLogvar = this.encodeBatch(x, rows, labels);
    if (rng === null) {
      for (let r = 0; r < rows; r++) this.z.set(meanLogvar.subarray(r * 2 * L, r * 2 * L + L), r * L);
    } else {
      rng.fillNormal(this.eps, rows * L);
      this.backend.reparameterize(meanLogvar, this.eps, this.z, rows, L);
    }
    this.logitsToImages(this.decodeLogitsBatch(this.z, rows, labels), rows, out);
  }

  /** The encoder's input: the images, with the labels' one-hot appended (as channels for conv). */
  private withEncoderLabels(x: Float32Array, rows: number, labels: Labels): Float32Array {
    if (this.classes === 0) return x;
    const C = this.classes;
    const out = this.encoderInput;
    if (this.config.architecture === 'dense') {
      const width = this.pixels + C;
      for (let r = 0; r < rows; r++) {
        out.set(x.subarray(r * this.pixels, (r + 1) * this.pixels), r * width);
        out.fill(0, r * width + this.pixels, (r + 1) * width);
        out[r * width + this.pixels + this.label(labels, r)] = 1;
      }
      return out;
    }
    const ch = this.config.imageChannels;
    const positions = this.config.imageHeight * this.config.imageWidth;
    const width = ch + C;
    out.fill(0, 0, rows * positions * width);
    for (let r = 0; r < rows; r++) {
      const label = this.label(labels, r);
      for (let p = 0; p < positions; p++) {
        const o = (r * positions + p) * width;
        for (let c = 0; c < ch; c++) out[o + c] = x[(r * positions + p) * ch + c]!;
        out[o + ch + label] = 1;
      }
    }
    return out;
  }

  /** The decoder's input: z, with the labels' one-hot appended. */
  private withDecoderLabels(z: Float32Array, rows: number, labels: Labels): Float32Array {
    if (this.classes === 0) return z;
    const L = this.latent;
    const width = L + this.classes;
    const out = this.decoderInput;
    for (let r = 0; r < rows; r++) {
      out.set(z.subarray(r * L, (r + 1) * L), r * width);
      out.fill(0, r * width + L, (r + 1) * width);
      out[r * width + L + this.label(labels, r)] = 1;
    }
    return out;
  }

  /** dL/dz from the decoder's input gradient (dropping the label columns of a conditional model). */
  private decoderInputGrad(dInput: Float32Array, rows: number): Float32Array {
    if (this.classes === 0) return dInput;
    const L = this.latent;
    const width = L + this.classes;
    for (let r = 0; r < rows; r++) this.dz.set(dInput.subarray(r * width, r * width + L), r * L);
    return this.dz;
  }

  private label(labels: Labels, r: number): number {
    if (labels === null) throw new VaekitError(`This is a conditional model: give a label (0 to ${this.classes - 1}) with every image.`);
    const y = labels[r]!;
    if (!Number.isInteger(y) || y < 0 || y >= this.classes) {
      throw new VaekitError(`Label ${y} is out of range: this model's labels are 0 to ${this.classes - 1}.`);
    }
    return y;
  }

  // ---- tensor level ------------------------------------------------------------------------

  /** Posterior means and log-variances of images ([n, h, w] or [n, h*w] (or with channels), values in [0,1]). */
  encode(images: Tensor, labels: Labels = null): { mean: Tensor; logvar: Tensor } {
    const n = this.imageCount(images);
    const L = this.latent;
    const mean = new Float32Array(n * L);
    const logvar = new Float32Array(n * L);
    this.chunks(n, (start, rows) => {
      const ml = this.encodeBatch(images.data.subarray(start * this.pixels, (start + rows) * this.pixels), rows, sliceLabels(labels, start, rows));
      for (let r = 0; r < rows; r++) {
        mean.set(ml.subarray(r * 2 * L, r * 2 * L + L), (start + r) * L);
        logvar.set(ml.subarray(r * 2 * L + L, (r + 1) * 2 * L), (start + r) * L);
      }
    });
    return { mean: new Tensor(mean, [n, L]), logvar: new Tensor(logvar, [n, L]) };
  }

  /** Images (sigmoid of the logits) for latent vectors z: [n, L] -> [n, h, w] (or [n, h, w, c]). */
  decode(z: Tensor, labels: Labels = null): Tensor {
    if (z.shape.length !== 2 || z.shape[1] !== this.latent) {
      throw new VaekitError(`Latent vectors must have shape [n, ${this.latent}], not [${z.shape.join(', ')}].`);
    }
    const n = z.rows;
    const out = new Float32Array(n * this.pixels);
    this.chunks(n, (start, rows) => {
      const logits = this.decodeLogitsBatch(z.data.subarray(start * this.latent, (start + rows) * this.latent), rows, sliceLabels(labels, start, rows));
      this.logitsToImages(logits, rows, out.subarray(start * this.pixels, (start + rows) * this.pixels));
    });
    return new Tensor(out, this.imageShape(n));
  }

  /**
   * Reconstructions: decode the posterior mean (deterministic; what `denoise` uses), or with
   * `sampleSeed` one reparameterized sample per image.
   */
  reconstruct(images: Tensor, sampleSeed?: number, labels: Labels = null): Tensor {
    const n = this.imageCount(images);
    const out = new Float32Array(n * this.pixels);
    const rng = sampleSeed === undefined ? null : new Random(sampleSeed);
    this.chunks(n, (start, rows) => {
      const span = [start * this.pixels, (start + rows) * this.pixels] as const;
      this.reconstructBatch(images.data.subarray(...span), rows, rng, out.subarray(...span), sliceLabels(labels, start, rows));
    });
    return new Tensor(out, this.imageShape(n));
  }

  /** Denoising is reconstruction from the posterior mean of the (noisy) input. */
  denoise(noisy: Tensor, labels: Labels = null): Tensor {
    return this.reconstruct(noisy, undefined, labels);
  }

  /** n images decoded from z ~ p(z), the model's prior (with a conditional model, all of class `label`). */
  sample(n: number, seed: number, label?: number): Tensor {
    const z = new Float32Array(n * this.latent);
    this.prior.sample(n, new Random(seed), z);
    const labels = label === undefined ? null : new Uint8Array(n).fill(label);
    if (label !== undefined && this.classes === 0) throw new VaekitError('This model is not conditional: it takes no label.');
    return this.decode(new Tensor(z, [n, this.latent]), labels);
  }

  private imageShape(n: number): number[] {
    const { imageHeight: h, imageWidth: w, imageChannels: c } = this.config;
    return c === 1 ? [n, h, w] : [n, h, w, c];
  }

  private imageCount(images: Tensor): number {
    const { imageHeight: h, imageWidth: w, imageChannels: c } = this.config;
    const s = images.shape;
    const ok = (s.length === 3 && c === 1 && s[1] === h && s[2] === w)
      || (s.length === 4 && s[1] === h && s[2] === w && s[3] === c)
      || (s.length === 2 && s[1] === h * w * c);
    if (!ok) {
      throw new VaekitError(`This model takes ${h}x${w}${c > 1 ? `x${c}` : ''} images, but got a tensor of shape [${s.join(', ')}].`);
    }
    return images.rows;
  }

  private chunks(n: number, body: (start: number, rows: number) => void): void {
    this.reserve(Math.min(n, INFERENCE_CHUNK));
    for (let start = 0; start < n; start += INFERENCE_CHUNK) body(start, Math.min(INFERENCE_CHUNK, n - start));
  }
}

function sliceLabels(labels: Labels, start: number, rows: number): Labels {
  if (labels === null) return null;
  return Array.prototype.slice.call(labels, start, start + rows) as number[];
}

/** Each row's label k times in a row (for k samples per image), or null. */
function repeatLabels(labels: Labels, rows: number, k: number): Labels {
  if (labels === null || k === 1) return labels;
  const out = new Uint8Array(rows * k);
  for (let r = 0; r < rows; r++) out.fill(labels[r]!, r * k, (r + 1) * k);
  return out;
}

/** log sum_i exp(x[start + i]) for i < n, stable. */
export function logSumExp(x: Float64Array, start: number, n: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, x[start + i]!);
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(x[start + i]! - max);
  return max + Math.log(s);
}
