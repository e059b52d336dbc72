/**
 * The variational autoencoder, composed: an encoder to the posterior's mean and log-variance
 * (posterior.ts), reparameterized samples z = mean + exp(0.5 logvar) * eps, a decoder to pixel
 * logits, the pixel likelihood that scores them (likelihood.ts), the prior (prior.ts) and the
 * objectives (objectives/), each with its forward and backward passes. Images are sigmoid(logits).
 *
 * Batch-level methods (run, encodeBatch, reconstructBatch, logImportanceWeights) work on raw
 * Float32Array rows and reuse buffers; the Tensor-level methods (encode/decode/reconstruct/sample)
 * split any number of images into chunks. A conditional model (config.classes > 0) takes a label
 * per image everywhere (conditioning.ts).
 */
import type { Backend } from '../engine/backend.js';
import { getBackend } from '../engine/index.js';
import { Random } from '../engine/random.js';
import { Tensor } from '../engine/tensor.js';
import { VaekitError } from '../errors.js';
import { ParameterSet } from '../nn/parameters.js';
import { Sequential } from '../nn/sequential.js';
import { buildDecoder, buildEncoder, encoderInputSize } from './architecture.js';
import { decoderInput, decoderInputGradToLatent, encoderInput, sliceLabels, type Labels } from './conditioning.js';
import { canonicalConfig, imageSides, inputSize, validateConfig, type VaeConfig } from './config.js';
import { PixelLikelihood } from './likelihood.js';
import { checkObjectiveFits, type LossParts, type Objective } from './objective.js';
import { negElboPerRow, sampleLatent } from './objectives/elbo.js';
import { runObjective, type Mask, type ObjectiveContext } from './objectives/index.js';
import { sampleLogWeights } from './objectives/iwae.js';
import { reparameterize } from './posterior.js';
import { Prior } from './prior.js';
import type { Precision } from '../engine/precision.js';
import { formatSummary, type SummaryOptions } from './summary.js';

export type { Labels } from './conditioning.js';
export type { Mask } from './objectives/index.js';
export { logSumExp } from './objectives/iwae.js';

/** The labels a model needs: the batch's for a conditional model, none otherwise. */
export function labelsFor(vae: Vae, labels: Labels): Labels {
  return vae.classes > 0 ? labels : null;
}

/**
 * The most values vaekit puts in one buffer: 2^28 float32s (1 GiB). A model's parameters, their
 * gradients and Adam's two moments are four such buffers; so are a batch's largest activations.
 */
export const MAX_VALUES = 2 ** 28;

/**
 * Throws, before anything is allocated, when a validated config's examples or parameters are more
 * than vaekit holds; returns its parameter count (counted from the layers' specs).
 */
export function checkModelSize(config: VaeConfig): number {
  const values = inputSize(config);
  if (values > MAX_VALUES) {
    throw new VaekitError(`An example of shape [${config.inputShape.join(', ')}] would hold ${values.toLocaleString('en-US')} values, more than vaekit's limit of ${MAX_VALUES.toLocaleString('en-US')}: use smaller images or fewer features.`);
  }
  const specs = [...buildEncoder(config), ...buildDecoder(config)].flatMap((layer) => layer.parameterSpecs());
  const parameters = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0) + PixelLikelihood.parameterCount(config) + Prior.parameterCount(config);
  if (parameters > MAX_VALUES) {
    const gb = (parameters * 16 / 2 ** 30).toFixed(1);
    throw new VaekitError(`This model would have ${parameters.toLocaleString('en-US')} parameters (${gb} GiB with their gradients and Adam's moments), more than vaekit's limit of ${MAX_VALUES.toLocaleString('en-US')}: use a smaller latent, fewer or smaller layers, or fewer mixture components.`);
  }
  return parameters;
}

/** Throws when `count` examples of `size` values would not fit in one buffer (`what` names them, `fix` says what to lower). */
export function checkBufferSize(count: number, size: number, what: string, fix: string): void {
  if (count * size > MAX_VALUES) {
    throw new VaekitError(`${what} would need ${(count * size * 4 / 2 ** 30).toFixed(1)} GiB in one buffer, more than vaekit's limit of 1 GiB: ${fix}.`);
  }
}

/** Rows processed at once by the Tensor-level methods. */
const INFERENCE_CHUNK = 1000;

export interface VaeOptions {
  backend?: Backend;
  /** Seed for the initial weights (default 0). */
  seed?: number;
}

/**
 * The buffers the batch-level methods reuse, grown (never shrunk) to the largest batch: per image
 * [rows, ...] by reserve, per sampled row [n, ...] (n = images * samples per image) by
 * reserveSamples. Read a field after reserving: growing replaces it.
 */
export class VaeBuffers {
  /** A conditional model's encoder input [rows, encoderInputSize] (conditioning.ts). */
  encoderInput = new Float32Array(0);
  /** The objective's gradient in the posterior's parameters [rows, 2L]. */
  dMeanLogvar = new Float32Array(0);
  /** Each image's KL(q(z|x) || p(z)) [rows]. */
  rowKl = new Float32Array(0);
  /** Posterior noise and samples [n, L]. */
  eps = new Float32Array(0);
  z = new Float32Array(0);
  /** A conditional model's decoder input [n, L + classes]. */
  decoderInput = new Float32Array(0);
  /** Each image's posterior and target repeated per sample [n, 2L], [n, D] (iwae). */
  repeatedPosterior = new Float32Array(0);
  repeatedTarget = new Float32Array(0);
  /** dL/dz of a conditional model [n, L] (the decoder's input gradient without the label columns). */
  dz = new Float32Array(0);
  /** Images sigmoid(logits) [n, D] (notebook-mse). */
  mean = new Float32Array(0);
  /** The objective's gradient in the decoder's logits [n, D]. */
  dLogits = new Float32Array(0);
  /** -log p(x | z) per sampled row [n]. */
  rowRecon = new Float32Array(0);
  /** log w, log p(z) and normalized importance weights per sampled row [n] (iwae; logPrior also for a learned prior's KL). */
  logWeights = new Float64Array(0);
  logPrior = new Float64Array(0);
  sampleWeights = new Float32Array(0);
  /** Each latent dimension's batch-mean KL and the free-bits term's gradient in it [L]. */
  readonly klPerDim: Float64Array;
  readonly dKlPerDim: Float64Array;

  private capacity = 0;
  private sampleCapacity = 0;
  /** A batch's mask repeated per sample [n, D] (iwae on data with missing values); made when first asked for. */
  private maskRows = new Uint8Array(0);

  constructor(private readonly config: VaeConfig) {
    this.klPerDim = new Float64Array(config.latent);
    this.dKlPerDim = new Float64Array(config.latent);
  }

  /** Makes every per-row buffer large enough for `rows` rows (allocates only when it grows). */
  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = rows;
    const c = this.config;
    this.encoderInput = new Float32Array(c.classes > 0 ? rows * encoderInputSize(c) : 0);
    this.dMeanLogvar = new Float32Array(rows * 2 * c.latent);
    this.rowKl = new Float32Array(rows);
    this.reserveSamples(rows);
  }

  /** A buffer for the mask of `n` sampled rows, [n, D] (grown when asked for more). */
  repeatedMask(n: number): Uint8Array {
    const size = n * inputSize(this.config);
    if (this.maskRows.length < size) this.maskRows = new Uint8Array(size);
    return this.maskRows;
  }

  /** Buffers for `n` sampled rows (images times samples per image). */
  reserveSamples(n: number): void {
    if (n <= this.sampleCapacity) return;
    this.sampleCapacity = n;
    const L = this.config.latent;
    const D = inputSize(this.config);
    this.eps = new Float32Array(n * L);
    this.z = new Float32Array(n * L);
    this.decoderInput = new Float32Array(this.config.classes > 0 ? n * (L + this.config.classes) : 0);
    this.repeatedPosterior = new Float32Array(n * 2 * L);
    this.repeatedTarget = new Float32Array(n * D);
    this.dz = new Float32Array(n * L);
    this.mean = new Float32Array(n * D);
    this.dLogits = new Float32Array(n * D);
    this.rowRecon = new Float32Array(n);
    this.logWeights = new Float64Array(n);
    this.logPrior = new Float64Array(n);
    this.sampleWeights = new Float32Array(n);
  }
}

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

  private readonly buffers: VaeBuffers;
  /** What the objectives see of this model. */
  private readonly context: ObjectiveContext;

  constructor(config: VaeConfig, options: VaeOptions = {}) {
    this.config = canonicalConfig(validateConfig(structuredClone(config)));
    checkModelSize(this.config);
    this.backend = options.backend ?? getBackend();
    this.pixels = inputSize(config);
    this.latent = config.latent;
    this.classes = config.classes;
    this.encoder = new Sequential(buildEncoder(this.config));
    this.decoder = new Sequential(buildDecoder(this.config));
    this.likelihood = new PixelLikelihood(this.config);
    this.prior = new Prior(this.config, this.backend);
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
    this.buffers = new VaeBuffers(this.config);
    this.context = {
      backend: this.backend, latent: this.latent, pixels: this.pixels, likelihood: this.likelihood, prior: this.prior,
      buffers: this.buffers,
      decodeLogits: (z, rows, labels) => this.decodeLogitsBatch(z, rows, labels),
      decoderBackward: (dLogits, rows) => this.decoderBackward(dLogits, rows),
    };
  }

  /**
   * The precision of the encoder's and decoder's matrix products: 'bf16' (mixed precision: bf16
   * operands, fp32 accumulation; the backend must run bf16 products, see resolvePrecision) or 'fp32'
   * (the default). fit sets it for the length of a training and puts back fp32 after.
   */
  setPrecision(precision: Precision): void {
    this.encoder.setPrecision(precision);
    this.decoder.setPrecision(precision);
    // bf16: the weights' bf16 copy, which Adam then keeps current (nn/parameters.ts).
    if (precision === 'bf16') this.params.keepHalf(this.backend);
    else this.params.dropHalf();
  }

  /** The shape of one example: [height, width, channels] or [features]. */
  get inputShape(): readonly number[] {
    return this.config.inputShape;
  }

  /** Throws when the objective needs what this model lacks, or more memory than one buffer at this batch size (fit's check). */
  checkObjective(objective: Objective, batchSize: number): void {
    checkObjectiveFits(objective, this.config, batchSize);
  }

  /** A Keras-like table of layers, output shapes and parameter counts. */
  summary(options: SummaryOptions = {}): string {
    return formatSummary(this, options);
  }

  /** Makes every per-row buffer large enough for `rows` rows (allocates only when it grows). */
  reserve(rows: number): void {
    this.buffers.reserve(rows);
  }

  // ---- batch level -------------------------------------------------------------------------

  /** Posterior parameters for `rows` images: rows x 2L, mean then log-variance (a view; reused). */
  encodeBatch(x: Float32Array, rows: number, labels: Labels = null): Float32Array {
    this.reserve(rows);
    return this.encoder.forward(this.backend, encoderInput(this.config, x, rows, labels, this.buffers.encoderInput), rows);
  }

  /** Decoder logits for `rows` latent vectors (a view; reused). */
  decodeLogitsBatch(z: Float32Array, rows: number, labels: Labels = null): Float32Array {
    this.buffers.reserveSamples(rows);
    const input = decoderInput(z, rows, this.latent, labels, this.classes, this.buffers.decoderInput);
    return this.decoder.forward(this.backend, input, rows);
  }

  /** dL/dz [rows, L] from dL/dlogits [rows, D]: the decoder's backward pass (its parameter gradients overwritten). */
  private decoderBackward(dLogits: Float32Array, rows: number): Float32Array {
    const dInput = this.decoder.backward(this.backend, dLogits, rows, true)!;
    return decoderInputGradToLatent(dInput, rows, this.latent, this.classes, this.buffers.dz);
  }

  /** Images sigmoid(logits) written to out. */
  logitsToImages(logits: Float32Array, rows: number, out: Float32Array): void {
    this.likelihood.images(this.backend, logits, rows, out);
  }

  /**
   * Forward pass and the objective on a batch; when `train` is set, also the backward pass: the
   * gradients of the batch-mean objective overwrite params.grads. `input` is what the encoder sees
   * (noisy), `target` what the decoder is scored against (clean). rng draws the posterior samples
   * (null: the posterior mean, for deterministic scoring). A mask [rows, D] (1 observed, 0 missing;
   * the input's missing values hold 0) scores the observed values only (Donut's modified ELBO).
   */
  run(input: Float32Array, target: Float32Array, rows: number, objective: Objective, rng: Random | null,
    train: boolean, labels: Labels = null, mask: Mask = null): LossParts {
    this.reserve(rows);
    checkObjectiveFits(objective, this.config);
    const meanLogvar = this.encodeBatch(input, rows, labels);
    const parts = runObjective(this.context, meanLogvar, target, rows, objective, rng, train, labels, mask);
    if (train) this.encoder.backward(this.backend, this.buffers.dMeanLogvar, rows, false);
    return parts;
  }

  /**
   * log w = log p(x, z_i) - log q(z_i | x) for `samples` posterior samples of each of `rows` images,
   * written to out[r * samples + i] (what the importance-sampled log-likelihood estimate averages).
   */
  logImportanceWeights(input: Float32Array, target: Float32Array, rows: number, samples: number, rng: Random,
    out: Float64Array, labels: Labels = null, mask: Mask = null): void {
    const meanLogvar = this.encodeBatch(input, rows, labels);
    sampleLogWeights(this.context, meanLogvar, target, rows, samples, rng, labels, null, null, mask);
    out.set(this.buffers.logWeights.subarray(0, rows * samples));
  }

  /**
   * Per-image negative ELBO in nats (-log p(target | z) with one posterior sample z, plus the KL:
   * closed form for N(0, I), -H[q] - log p(z) at the same sample for a learned prior) of `rows`
   * images, written to out.
   */
  negElboPerImage(input: Float32Array, target: Float32Array, rows: number, rng: Random, out: Float64Array, labels: Labels = null,
    mask: Mask = null): void {
    this.reserve(rows);
    const meanLogvar = this.encodeBatch(input, rows, labels);
    negElboPerRow(this.context, meanLogvar, target, rows, rng, labels, out, mask);
  }

  /**
   * out[r * D + j] = the mean over `samples` draws z ~ q(z | x_r) of -log p(x_rj | z) in nats (the
   * Gaussian likelihood's), NaN where the mask is 0: Donut's negative log "reconstruction
   * probability" per value (Xu et al. 2018) of `rows` rows of values (missing ones holding 0, or
   * imputed; imputeMissing).
   */
  reconstructionNll(values: Float32Array, mask: Mask, rows: number, samples: number, rng: Random, out: Float64Array, labels: Labels = null): void {
    this.reserve(rows);
    const meanLogvar = this.encodeBatch(values, rows, labels);
    out.fill(0, 0, rows * this.pixels);
    for (let s = 0; s < samples; s++) {
      const z = sampleLatent(this.context, meanLogvar, rows, rng);
      this.likelihood.addValueNll(this.backend, this.decodeLogitsBatch(z, rows, labels), values, rows, mask, 1 / samples, out);
    }
  }

  /**
   * Donut's imputation of missing values for scoring (Xu et al. 2018, sec. 3.4; an MCMC): `iterations`
   * times, each missing value of `values` (where the mask is 0) becomes the mean of p(x | z) at a
   * z ~ q(z | x) of the row as it stands. Observed values never change. In place.
   */
  imputeMissing(values: Float32Array, mask: Uint8Array, rows: number, iterations: number, rng: Random, labels: Labels = null): void {
    this.reserve(rows);
    const n = rows * this.pixels;
    const { mean } = this.buffers;
    for (let it = 0; it < iterations; it++) {
      const z = sampleLatent(this.context, this.encodeBatch(values, rows, labels), rows, rng);
      this.logitsToImages(this.decodeLogitsBatch(z, rows, labels), rows, mean);
      for (let i = 0; i < n; i++) if (mask[i] === 0) values[i] = mean[i]!;
    }
  }

  /** Decodes the posterior mean of each of `rows` inputs (or a sample, given rng) into out. */
  reconstructBatch(x: Float32Array, rows: number, rng: Random | null, out: Float32Array, labels: Labels = null): void {
    this.reserve(rows);
    const L = this.latent;
    const { eps, z } = this.buffers;
    const meanLogvar = this.encodeBatch(x, rows, labels);
    if (rng === null) {
      for (let r = 0; r < rows; r++) z.set(meanLogvar.subarray(r * 2 * L, r * 2 * L + L), r * L);
    } else {
      rng.fillNormal(eps, rows * L);
      reparameterize(this.backend, meanLogvar, eps, z, rows, L);
    }
    this.logitsToImages(this.decodeLogitsBatch(z, rows, labels), rows, out);
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
    checkBufferSize(n, Math.max(this.pixels, this.latent), `${n} samples`, 'draw fewer at a time');
    const z = new Float32Array(n * this.latent);
    this.prior.sample(n, new Random(seed), z);
    const labels = label === undefined ? null : new Uint8Array(n).fill(label);
    if (label !== undefined && this.classes === 0) throw new VaekitError('This model is not conditional: it takes no label.');
    return this.decode(new Tensor(z, [n, this.latent]), labels);
  }

  /** [n, h, w] for greyscale images, [n, h, w, c] for colour, [n, features] for tables. */
  private imageShape(n: number): number[] {
    const image = imageSides(this.config);
    if (image === null) return [n, this.pixels];
    const { height: h, width: w, channels: c } = image;
    return c === 1 ? [n, h, w] : [n, h, w, c];
  }

  private imageCount(images: Tensor): number {
    const s = images.shape;
    const image = imageSides(this.config);
    const ok = (s.length === 2 && s[1] === this.pixels) || (image !== null && (
      (s.length === 3 && image.channels === 1 && s[1] === image.height && s[2] === image.width)
      || (s.length === 4 && s[1] === image.height && s[2] === image.width && s[3] === image.channels)));
    if (!ok) {
      const takes = image === null ? `rows of ${this.pixels} features` : `${image.height}x${image.width}${image.channels > 1 ? `x${image.channels}` : ''} images`;
      throw new VaekitError(`This model takes ${takes}, but got a tensor of shape [${s.join(', ')}].`);
    }
    return images.rows;
  }

  private chunks(n: number, body: (start: number, rows: number) => void): void {
    this.reserve(Math.min(n, INFERENCE_CHUNK));
    for (let start = 0; start < n; start += INFERENCE_CHUNK) body(start, Math.min(INFERENCE_CHUNK, n - start));
  }
}
