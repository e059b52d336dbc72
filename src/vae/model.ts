/**
 * The variational autoencoder: a dense encoder to the posterior's mean and log-variance, the
 * reparameterized sample, a dense decoder to pixel logits, and the likelihood that scores them.
 * The decoder's last layer computes logits; images are sigmoid(logits), and the Bernoulli
 * likelihood works on the logits directly (stable, and its gradient is sigmoid(l) - x).
 *
 * Batch-level methods (forward/trainStep/evaluateBatch) work on raw Float32Array rows and reuse
 * buffers; the Tensor-level methods (encode/decode/reconstruct/sample) split any number of images
 * into chunks of the batch capacity.
 */
import type { Backend } from '../engine/backend.js';
import { getBackend } from '../engine/index.js';
import { Random } from '../engine/random.js';
import { Tensor } from '../engine/tensor.js';
import { VaekitError } from '../errors.js';
import { denseLayers, Sequential } from '../nn/sequential.js';
import { ParameterSet } from '../nn/parameters.js';
import { validateConfig, type VaeConfig } from './config.js';
import type { LossParts, Objective } from './objective.js';
import { formatSummary } from './summary.js';

/** Rows processed at once by the Tensor-level methods. */
const INFERENCE_CHUNK = 1000;

export interface VaeOptions {
  backend?: Backend;
  /** Seed for the initial weights (default 0). */
  seed?: number;
}

export class Vae {
  readonly config: VaeConfig;
  readonly backend: Backend;
  readonly encoder: Sequential;
  readonly decoder: Sequential;
  readonly params: ParameterSet;
  readonly pixels: number;
  readonly latent: number;

  private capacity = 0;
  private eps = new Float32Array(0);
  private z = new Float32Array(0);
  private dMeanLogvar = new Float32Array(0);
  private mean = new Float32Array(0);
  private dLogits = new Float32Array(0);
  private rowRecon = new Float32Array(0);
  private rowKl = new Float32Array(0);
  private readonly zeroBias: Float32Array;
  private readonly gaussianLogvar: Float32Array;

  constructor(config: VaeConfig, options: VaeOptions = {}) {
    this.config = validateConfig({ ...config, encoderHidden: [...config.encoderHidden], decoderHidden: [...config.decoderHidden] });
    this.backend = options.backend ?? getBackend();
    this.pixels = config.imageHeight * config.imageWidth;
    this.latent = config.latent;
    this.encoder = new Sequential(denseLayers('encoder', [this.pixels, ...config.encoderHidden, 2 * config.latent], config.activation, 'linear'));
    this.decoder = new Sequential(denseLayers('decoder', [config.latent, ...config.decoderHidden, this.pixels], config.activation, 'linear'));
    this.params = new ParameterSet([...this.encoder.parameterSpecs(), ...this.decoder.parameterSpecs()]);
    this.encoder.bind(this.params);
    this.decoder.bind(this.params);
    const rng = new Random(options.seed ?? 0);
    this.encoder.initialize(rng);
    this.decoder.initialize(rng);
    this.zeroBias = new Float32Array(this.pixels);
    this.gaussianLogvar = new Float32Array([2 * Math.log(config.gaussianSigma)]);
  }

  /** A Keras-like table of layers, output shapes and parameter counts. */
  summary(): string {
    return formatSummary(this);
  }

  /** Makes every buffer large enough for `rows` rows (allocates only when it grows). */
  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = rows;
    const L = this.latent;
    this.eps = new Float32Array(rows * L);
    this.z = new Float32Array(rows * L);
    this.dMeanLogvar = new Float32Array(rows * 2 * L);
    this.mean = new Float32Array(rows * this.pixels);
    this.dLogits = new Float32Array(rows * this.pixels);
    this.rowRecon = new Float32Array(rows);
    this.rowKl = new Float32Array(rows);
  }

  // ---- batch level -------------------------------------------------------------------------

  /** Posterior parameters for `rows` images: rows x 2L, mean then log-variance (a view; reused). */
  encodeBatch(x: Float32Array, rows: number): Float32Array {
    return this.encoder.forward(this.backend, x, rows);
  }

  /** Decoder logits for `rows` latent vectors (a view; reused). */
  decodeLogitsBatch(z: Float32Array, rows: number): Float32Array {
    return this.decoder.forward(this.backend, z, rows);
  }

  /** Images sigmoid(logits) written to out. */
  logitsToImages(logits: Float32Array, rows: number, out: Float32Array): void {
    this.backend.biasActivation(logits, this.zeroBias, out, rows, this.pixels, 'sigmoid', 0);
  }

  /**
   * Forward pass with one reparameterized sample per row (or the posterior mean when rng is null),
   * then the objective. When `train` is set, also the backward pass: gradients of the batch-mean
   * objective overwrite params.grads. `input` is what the encoder sees (noisy), `target` what the
   * decoder is scored against (clean).
   */
  run(input: Float32Array, target: Float32Array, rows: number, objective: Objective, rng: Random | null, train: boolean): LossParts {
    this.reserve(rows);
    const b = this.backend;
    const L = this.latent;
    const meanLogvar = this.encodeBatch(input, rows);
    if (rng === null) {
      this.eps.fill(0, 0, rows * L);
    } else {
      rng.fillNormal(this.eps, rows * L);
    }
    b.reparameterize(meanLogvar, this.eps, this.z, rows, L);
    const logits = this.decodeLogitsBatch(this.z, rows);
    const recon = this.reconstructionTerm(logits, target, rows, objective, train ? 1 / rows : 0, train);
    b.klDiagonalGaussian(meanLogvar, rows, L, this.rowKl);
    const kl = b.sum(this.rowKl, rows) / rows;
    const loss = objective.loss === 'elbo' ? recon + objective.beta * kl : recon;
    if (train) {
      const dz = this.decoder.backward(b, this.dLogits, rows, true);
      const klScale = objective.loss === 'elbo' ? objective.beta / rows : 0;
      b.reparameterizeBackward(meanLogvar, this.eps, dz, this.dMeanLogvar, rows, L, klScale);
      this.encoder.backward(b, this.dMeanLogvar, rows, false);
    }
    return { loss, recon, kl };
  }

  /** Mean reconstruction term over the batch; writes its gradient w.r.t. the logits to dLogits when `grad`. */
  private reconstructionTerm(logits: Float32Array, target: Float32Array, rows: number, objective: Objective, gradScale: number, grad: boolean): number {
    const b = this.backend;
    const D = this.pixels;
    const dLogits = grad ? this.dLogits : null;
    if (objective.loss === 'notebook-mse') {
      this.logitsToImages(logits, rows, this.mean);
      b.squaredError(this.mean, target, rows, D, this.rowRecon, dLogits, gradScale / D);
      if (dLogits !== null) b.activationBackward(dLogits, this.mean, dLogits, rows * D, 'sigmoid', 0);
      return b.sum(this.rowRecon, rows) / (rows * D);
    }
    if (this.config.likelihood === 'bernoulli') {
      b.bceWithLogits(logits, target, rows, D, this.rowRecon, dLogits, gradScale);
    } else {
      this.logitsToImages(logits, rows, this.mean);
      b.gaussianNll(this.mean, this.gaussianLogvar, target, rows, D, this.rowRecon, dLogits, null, gradScale);
      if (dLogits !== null) b.activationBackward(dLogits, this.mean, dLogits, rows * D, 'sigmoid', 0);
    }
    return b.sum(this.rowRecon, rows) / rows;
  }

  /** Per-image reconstruction negative log-likelihood and KL of the last `run` (views). */
  lastRowTerms(rows: number): { recon: Float32Array; kl: Float32Array } {
    return { recon: this.rowRecon.subarray(0, rows), kl: this.rowKl.subarray(0, rows) };
  }

  // ---- tensor level ------------------------------------------------------------------------

  /** Posterior means and log-variances of images ([n, h, w] or [n, h*w], values in [0,1]). */
  encode(images: Tensor): { mean: Tensor; logvar: Tensor } {
    const n = this.imageCount(images);
    const L = this.latent;
    const mean = new Float32Array(n * L);
    const logvar = new Float32Array(n * L);
    this.chunks(n, (start, rows) => {
      const ml = this.encodeBatch(images.data.subarray(start * this.pixels, (start + rows) * this.pixels), rows);
      for (let r = 0; r < rows; r++) {
        mean.set(ml.subarray(r * 2 * L, r * 2 * L + L), (start + r) * L);
        logvar.set(ml.subarray(r * 2 * L + L, (r + 1) * 2 * L), (start + r) * L);
      }
    });
    return { mean: new Tensor(mean, [n, L]), logvar: new Tensor(logvar, [n, L]) };
  }

  /** Images (the likelihood's mean, sigmoid of the logits) for latent vectors z: [n, L] -> [n, h, w]. */
  decode(z: Tensor): Tensor {
    if (z.shape.length !== 2 || z.shape[1] !== this.latent) {
      throw new VaekitError(`Latent vectors must have shape [n, ${this.latent}], not [${z.shape.join(', ')}].`);
    }
    const n = z.rows;
    const out = new Float32Array(n * this.pixels);
    this.chunks(n, (start, rows) => {
      const logits = this.decodeLogitsBatch(z.data.subarray(start * this.latent, (start + rows) * this.latent), rows);
      this.logitsToImages(logits, rows, out.subarray(start * this.pixels, (start + rows) * this.pixels));
    });
    return new Tensor(out, [n, this.config.imageHeight, this.config.imageWidth]);
  }

  /**
   * Reconstructions: decode the posterior mean (deterministic; what `denoise` uses), or with
   * `sampleSeed` one reparameterized sample per image.
   */
  reconstruct(images: Tensor, sampleSeed?: number): Tensor {
    const n = this.imageCount(images);
    const out = new Float32Array(n * this.pixels);
    const rng = sampleSeed === undefined ? null : new Random(sampleSeed);
    this.chunks(n, (start, rows) => {
      const span = [start * this.pixels, (start + rows) * this.pixels] as const;
      this.reconstructBatch(images.data.subarray(...span), rows, rng, out.subarray(...span));
    });
    return new Tensor(out, [n, this.config.imageHeight, this.config.imageWidth]);
  }

  /** Decodes the posterior mean of each of `rows` inputs (or a sample, given rng) into out. */
  reconstructBatch(x: Float32Array, rows: number, rng: Random | null, out: Float32Array): void {
    this.reserve(rows);
    const L = this.latent;
    const meanLogvar = this.encodeBatch(x, rows);
    if (rng === null) {
      for (let r = 0; r < rows; r++) this.z.set(meanLogvar.subarray(r * 2 * L, r * 2 * L + L), r * L);
    } else {
      rng.fillNormal(this.eps, rows * L);
      this.backend.reparameterize(meanLogvar, this.eps, this.z, rows, L);
    }
    this.logitsToImages(this.decodeLogitsBatch(this.z, rows), rows, out);
  }

  /** Denoising is reconstruction from the posterior mean of the (noisy) input. */
  denoise(noisy: Tensor): Tensor {
    return this.reconstruct(noisy);
  }

  /** n images decoded from z ~ N(0, I). */
  sample(n: number, seed: number): Tensor {
    const z = new Float32Array(n * this.latent);
    new Random(seed).fillNormal(z);
    return this.decode(new Tensor(z, [n, this.latent]));
  }

  private imageCount(images: Tensor): number {
    const { imageHeight: h, imageWidth: w } = this.config;
    const ok = (images.shape.length === 3 && images.shape[1] === h && images.shape[2] === w)
      || (images.shape.length === 2 && images.shape[1] === h * w);
    if (!ok) {
      throw new VaekitError(`This model takes ${h}x${w} images, but got a tensor of shape [${images.shape.join(', ')}].`);
    }
    return images.rows;
  }

  private chunks(n: number, body: (start: number, rows: number) => void): void {
    this.reserve(Math.min(n, INFERENCE_CHUNK));
    for (let start = 0; start < n; start += INFERENCE_CHUNK) body(start, Math.min(INFERENCE_CHUNK, n - start));
  }
}
