/**
 * The text VAE (Bowman et al. 2016; trained as He et al. 2019 do): sentences as rows of token ids,
 * an RNN encoder to a diagonal Gaussian posterior, and an RNN decoder teacher-forced on the
 * sentence with z fed at every step, scored by a categorical likelihood over the vocabulary.
 * With latent 0 it is the same decoder alone: a recurrent language model (the text-lm preset).
 *
 *   encoder  w_1..w_n -> Embedding 'enc.embed' [n, E] -> LSTM/GRU/BiRNN 'enc.rnn' -> final state
 *            hFinal [Hf] (both directions' for a BiRNN) [+ one-hot label] -> Dense 'enc.out' [2L]
 *            (mean, then log-variance)
 *   sample   z = mean + exp(0.5 logvar) * eps                                     (posterior.ts)
 *   decoder  cond = [z; one-hot label] [K = L + classes]
 *            Dense 'dec.init' cond -> pre [Hd]; LSTM: c0 = pre, h0 = tanh(pre); GRU: h0 = tanh(pre)
 *            (K = 0, the language model: h0 = c0 = 0)
 *            step t = 0..n: input [Embedding 'dec.embed'(y_t); cond] with y_0 = <bos>, y_t = w_t
 *            (a word-dropped y_t is <unk>) -> LSTM/GRU 'dec.rnn' -> h_t [Hd]
 *            -> Dense 'dec.out' -> logits [V] scored against y_{t+1} (y_{n+1} = <eos>)
 *   loss     sum over the n + 1 targets of -log p (nats per sentence) + beta * KL, batch mean
 *
 * The decoder's Dense 'dec.out' and the likelihood run on the packed real steps only (a batch's
 * padded steps are never projected onto the vocabulary). Each stage's forward pass has its
 * backward pass beside it, and run's backward makes the forward's calls in reverse order. Buffers
 * grow to the largest batch seen and are reused; one flat ParameterSet holds every weight.
 *
 * Examples are Float32Array rows of maxLength token ids stored as floats (exact integers): words
 * 4..vocab-1 or <unk> (1), padded with <pad> (0) after the tokens. A row's length is the index of
 * its first 0 (maxLength when it has none); what follows it is never read.
 */
import { BOS, EOS, PAD, UNK } from '../../data/text/vocab.js';
import type { Backend } from '../../engine/backend.js';
import { getBackend } from '../../engine/index.js';
import type { Precision } from '../../engine/precision.js';
import { Random } from '../../engine/random.js';
import { VaekitError } from '../../errors.js';
import { Bidirectional } from '../../nn/bidirectional.js';
import { Dense } from '../../nn/dense.js';
import { Embedding } from '../../nn/embedding.js';
import { Gru } from '../../nn/gru.js';
import { Lstm } from '../../nn/lstm.js';
import { ParameterSet, type ParameterSpec } from '../../nn/parameters.js';
import type { RecurrentLayer } from '../../nn/recurrent.js';
import { labelOf, type Labels } from '../conditioning.js';
import { checkBufferSize, MAX_VALUES } from '../model.js';
import type { LossParts, Objective } from '../objective.js';
import {
  klPerDimension, klPerDimensionBackward, klToStandardNormal, LOG_2PI, logDensity, reparameterize, reparameterizeBackward,
} from '../posterior.js';
import { softmaxCrossEntropy } from '../softmax-cross-entropy.js';
import { canonicalTextConfig, validateTextConfig, type TextVaeConfig } from './config.js';

export type { Labels } from '../conditioning.js';

/**
 * The objective of TextVae.run: src/vae/objective.ts's Objective (the 'elbo' loss only), plus word
 * dropout (Bowman et al. 2016): while training, each decoder input token y_1..y_n (never <bos>) is
 * replaced by <unk> with this probability (0: off).
 */
export type TextObjective = Objective & { wordDropout?: number };

export interface TextVaeOptions {
  backend?: Backend;
  /** Seed for the initial weights (default 0). */
  seed?: number;
}

export type DecodeMode = 'greedy' | 'sample' | 'beam';
export const DECODE_MODES: readonly DecodeMode[] = ['greedy', 'sample', 'beam'];

export interface GenerateOptions {
  /** 'greedy': the most likely token at each step; 'sample': drawn at `temperature`; 'beam': beam search. */
  mode: DecodeMode;
  /** Sampling temperature (> 0; default 1): logits are divided by it. */
  temperature?: number;
  /** Hypotheses kept per sentence by beam search (default 5). */
  beamWidth?: number;
  /** The most tokens a sentence gets (default the model's maxLength). */
  maxLength?: number;
}

/** Values in one chunk's largest decoder buffer for logImportanceWeights (16 MiB of float32). */
const IMPORTANCE_CHUNK_VALUES = 2 ** 22;

/** Whether a token may be generated: anything but <pad> and <bos>, which are never targets. */
function isOutputToken(v: number): boolean {
  return v !== PAD && v !== BOS;
}

const f32 = (n: number): Float32Array => new Float32Array(n);
const f64 = (n: number): Float64Array => new Float64Array(n);
const i32 = (n: number): Int32Array => new Int32Array(n);

/** dst[r, 0 : width] = src[r, offset : offset + width] for r < rows, src rows `stride` wide. */
function columns(src: Float32Array, rows: number, stride: number, offset: number, width: number, dst: Float32Array): Float32Array {
  for (let r = 0; r < rows; r++) dst.set(src.subarray(r * stride + offset, r * stride + offset + width), r * width);
  return dst.subarray(0, rows * width);
}

export class TextVae {
  readonly config: TextVaeConfig;
  readonly backend: Backend;
  readonly params: ParameterSet;
  readonly latent: number;
  readonly classes: number;
  readonly vocab: number;
  readonly maxLength: number;
  /** Values per example (maxLength token ids): the name fit uses. */
  readonly pixels: number;

  /** The encoder (null for a language model). */
  readonly encoderEmbedding: Embedding | null;
  readonly encoderRnn: RecurrentLayer | null;
  readonly encoderOut: Dense | null;
  /** The decoder's initial state from [z; label] (null when both are empty: the unconditional language model). */
  readonly decoderInit: Dense | null;
  readonly decoderEmbedding: Embedding;
  readonly decoderRnn: RecurrentLayer;
  readonly decoderOut: Dense;

  /** Width of cond = [z; one-hot label]. */
  private readonly K: number;
  private readonly E: number;
  private readonly Hd: number;
  /** The most decoder steps a sentence takes: maxLength + 1 (the last predicts <eos>); buffers are sized for it. */
  private readonly maxT: number;
  /**
   * Decoder steps of the current batch: its longest target + 1 (decoderTokens sets it). The
   * recurrences run this many steps, not maxLength + 1: a batch of short sentences costs what they do.
   */
  private T = 1;
  /** Encoder steps of the current batch: its longest input (readTokens sets it). */
  private encTime = 1;
  /** Target ids per row in tgtIds: the current batch's longest target (readTokens sets it). */
  private tgtTime = 1;
  private readonly lstm: boolean;

  // ---- per-example buffers [rows, ...] (reserve)
  private capacity = 0;
  /** The encoder's input ids [rows, encTime] and lengths [rows]. */
  private encIds = i32(0);
  private encLengths = i32(0);
  /** The target's ids [rows, tgtTime] and lengths [rows]. */
  private tgtIds = i32(0);
  private tgtLengths = i32(0);
  /** [rows, Hf + classes]: the encoder's final state with the label's one-hot. */
  private encFeature = f32(0);
  /** [rows, Hf]: dL/dhFinal. */
  private dhFinal = f32(0);
  /** [rows, 2L]: the objective's gradient in the posterior's parameters. */
  private dMeanLogvar = f32(0);
  /** [rows]: each example's KL to N(0, I). */
  private rowKl = f32(0);
  private readonly klDim: Float64Array;
  private readonly dKlDim: Float64Array;

  // ---- per-decoder-row buffers [n, ...] (reserveDecoder; n = examples, or examples x samples)
  private decoderCapacity = 0;
  /** Posterior noise and samples [n, L]; each decoder row's posterior [n, 2L] and log q(z|x) [n] (importance sampling). */
  private eps = f32(0);
  private z = f32(0);
  private repeatedPosterior = f32(0);
  private logq = f64(0);
  /** [n, K] */
  private cond = f32(0);
  /** [n, Hd]: tanh(dec.init's output), the initial state h0. */
  private h0 = f32(0);
  /** [n, T]: the decoder's input ids (<bos>, y_1..y_n, then <pad>), and lengths n + 1 [n]. */
  private decIds = i32(0);
  private decLengths = i32(0);
  /** [n + 1]: where each decoder row's steps start among the packed steps. */
  private rowStart = i32(0);
  /** [n, T, E + K]: the decoder RNN's input when K > 0. */
  private decX = f32(0);
  /** [steps]: the target of each packed step; [steps, Hd] its hidden state; [steps] its -log p. */
  private packedTargets = i32(0);
  private packedHidden = f32(0);
  private stepNll = f32(0);
  /** [n]: each decoder row's -log p(target | z), summed in float64. */
  private rowNll = f64(0);
  /** The last decoderForward's logits (dec.out's buffer), turned into their gradient when training. */
  private logits: Float32Array | null = null;
  private lastSteps = 0;
  // The decoder's backward buffers.
  private dDecOutputs = f32(0);
  private dDecEmbed = f32(0);
  private dCond = f32(0);
  private dPre = f32(0);
  private dz = f32(0);

  constructor(config: TextVaeConfig, options: TextVaeOptions = {}) {
    this.config = canonicalTextConfig(validateTextConfig(structuredClone(config)));
    const c = this.config;
    this.backend = options.backend ?? getBackend();
    this.latent = c.latent;
    this.classes = c.classes;
    this.vocab = c.vocab;
    this.maxLength = c.maxLength;
    this.pixels = c.maxLength;
    this.E = c.embedding;
    this.Hd = c.decoderHidden;
    this.maxT = c.maxLength + 1;
    this.K = c.latent + c.classes;
    this.lstm = c.cell === 'lstm';

    const rnn = (name: string, inputs: number, hidden: number, bidirectional: boolean): RecurrentLayer => {
      if (bidirectional) return new Bidirectional({ name, cell: c.cell, inputs, hidden });
      return this.lstm ? new Lstm({ name, inputs, hidden }) : new Gru({ name, inputs, hidden });
    };
    if (c.latent > 0) {
      this.encoderEmbedding = new Embedding({ name: 'enc.embed', vocab: c.vocab, dim: c.embedding });
      this.encoderRnn = rnn('enc.rnn', c.embedding, c.encoderHidden, c.bidirectional);
      this.encoderOut = new Dense({ name: 'enc.out', inputs: this.encoderRnn.hiddenSize + c.classes, outputs: 2 * c.latent, activation: 'linear' });
    } else {
      this.encoderEmbedding = null;
      this.encoderRnn = null;
      this.encoderOut = null;
    }
    this.decoderInit = this.K > 0 ? new Dense({ name: 'dec.init', inputs: this.K, outputs: c.decoderHidden, activation: 'linear' }) : null;
    this.decoderEmbedding = new Embedding({ name: 'dec.embed', vocab: c.vocab, dim: c.embedding });
    this.decoderRnn = rnn('dec.rnn', c.embedding + this.K, c.decoderHidden, false);
    this.decoderOut = new Dense({ name: 'dec.out', inputs: c.decoderHidden, outputs: c.vocab, activation: 'linear' });

    const layers = this.layers();
    const specs = layers.flatMap((l) => l.parameterSpecs());
    const count = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
    if (count > MAX_VALUES) {
      throw new VaekitError(`This text model would have ${count.toLocaleString('en-US')} parameters, more than vaekit's limit of ${MAX_VALUES.toLocaleString('en-US')}: use a smaller vocabulary, embedding or state width.`);
    }
    this.params = new ParameterSet(specs);
    const rng = new Random(options.seed ?? 0);
    for (const l of layers) {
      l.bind(this.params);
      l.initialize(rng);
    }
    this.klDim = f64(c.latent);
    this.dKlDim = f64(c.latent);
  }

  /** The shape of one example: [maxLength] token ids. */
  get inputShape(): number[] {
    return [this.maxLength];
  }

  /** The parameters a config's model has, counted without building it (a bundle's config is checked against its weights file first). */
  static parameterCount(config: TextVaeConfig): number {
    const c = validateTextConfig(structuredClone(config));
    const K = c.latent + c.classes;
    const gates = c.cell === 'lstm' ? 4 : 3;
    const rnn = (inputs: number, hidden: number): number => gates * hidden * (inputs + hidden + 2);
    const directions = c.bidirectional ? 2 : 1;
    const encoder = c.latent === 0 ? 0
      : c.vocab * c.embedding + directions * rnn(c.embedding, c.encoderHidden) + (directions * c.encoderHidden + c.classes + 1) * 2 * c.latent;
    const decoder = (K > 0 ? (K + 1) * c.decoderHidden : 0) + c.vocab * c.embedding + rnn(c.embedding + K, c.decoderHidden) + (c.decoderHidden + 1) * c.vocab;
    return encoder + decoder;
  }

  /** fit's check: a text model trains the elbo objective (with word dropout, free bits, beta), on batches that fit in memory. */
  checkObjective(objective: TextObjective, batchSize: number): void {
    if (objective.loss !== 'elbo') throw new VaekitError(`A text model trains the elbo objective, not ${objective.loss}.`);
    if (this.latent === 0 && (objective.freeBits > 0 || objective.beta !== 1)) {
      throw new VaekitError('A language model (latent 0) has no KL term for beta or free bits to weigh.');
    }
    checkBufferSize(batchSize * this.maxT, this.decoderRowWidth(), `A batch of ${batchSize} sentences of up to ${this.maxT} decoder steps`, 'lower training.batchSize, data.maxLength or data.vocab');
  }

  /** Every layer, in the order of the parameters. */
  private layers(): { parameterSpecs(): ParameterSpec[]; bind(p: ParameterSet): void; initialize(r: Random): void }[] {
    return [this.encoderEmbedding, this.encoderRnn, this.encoderOut, this.decoderInit, this.decoderEmbedding, this.decoderRnn, this.decoderOut]
      .filter((l) => l !== null);
  }

  private denseLayers(): Dense[] {
    return [this.encoderOut, this.decoderInit, this.decoderOut].filter((l) => l !== null);
  }

  /**
   * The precision of the Dense layers' products ('bf16': bf16 operands, fp32 accumulation; see
   * Vae.setPrecision); the recurrent layers stay in fp32.
   */
  setPrecision(precision: Precision): void {
    for (const d of this.denseLayers()) d.precision = precision;
    if (precision === 'bf16') this.params.keepHalf(this.backend);
    else this.params.dropHalf();
  }

  /** The widest per-step row a decoder buffer holds (logits, LSTM gates, the RNN's input). */
  private decoderRowWidth(): number {
    return Math.max(this.vocab, 4 * this.Hd, this.E + this.K);
  }

  /** Makes every per-example buffer large enough for `rows` sentences (allocates only when it grows). */
  reserve(rows: number): void {
    if (!(Number.isInteger(rows) && rows >= 1)) throw new Error(`TextVae: rows must be a whole number >= 1, not ${rows}.`);
    this.reserveDecoder(rows);
    if (rows <= this.capacity) return;
    this.capacity = rows;
    const N = this.maxLength;
    const L = this.latent;
    this.encIds = i32(rows * N);
    this.encLengths = i32(rows);
    this.tgtIds = i32(rows * N);
    this.tgtLengths = i32(rows);
    if (L > 0) {
      const hf = this.encoderRnn!.hiddenSize;
      this.encFeature = f32(rows * (hf + this.classes));
      this.dhFinal = f32(rows * hf);
      this.dMeanLogvar = f32(rows * 2 * L);
      this.rowKl = f32(rows);
    }
  }

  /** Buffers for `n` decoder rows. */
  private reserveDecoder(n: number): void {
    if (n <= this.decoderCapacity) return;
    checkBufferSize(n * this.maxT, this.decoderRowWidth(), `${n} sentences of up to ${this.maxT} decoder steps`,
      'use fewer sentences at a time, a shorter maxLength or a smaller vocabulary');
    this.decoderCapacity = n;
    const { maxT: T, K, E, Hd } = this;
    const L = this.latent;
    this.eps = f32(n * L);
    this.z = f32(n * L);
    this.repeatedPosterior = f32(n * 2 * L);
    this.logq = f64(n);
    this.cond = f32(n * K);
    this.h0 = f32(n * Hd);
    this.decIds = i32(n * T);
    this.decLengths = i32(n);
    this.rowStart = i32(n + 1);
    this.decX = f32(K > 0 ? n * T * (E + K) : 0);
    this.packedTargets = i32(n * T);
    this.packedHidden = f32(n * T * Hd);
    this.stepNll = f32(n * T);
    this.rowNll = f64(n);
    this.dDecOutputs = f32(n * T * Hd);
    this.dDecEmbed = f32(K > 0 ? n * T * E : 0);
    this.dCond = f32(n * K);
    this.dPre = f32(n * Hd);
    this.dz = f32(n * L);
  }

  // ---- tokens --------------------------------------------------------------------------------

  /**
   * Reads `rows` rows of token ids stored as floats (rows of maxLength) into lengths [rows] and ids
   * [rows, m] (0 past each length), m the longest length (at least 1), checking each id; returns m.
   */
  private readTokens(x: Float32Array, rows: number, ids: Int32Array, lengths: Int32Array, what: 'input' | 'target'): number {
    const N = this.maxLength;
    const V = this.vocab;
    if (x.length < rows * N) throw new Error(`TextVae: ${rows} ${what} rows of ${N} token ids need ${rows * N} values, got ${x.length}.`);
    let m = 1;
    for (let r = 0; r < rows; r++) {
      let n = N;
      for (let t = 0; t < N; t++) {
        const v = x[r * N + t]!;
        if (v === PAD) {
          n = t;
          break;
        }
        if (!(Number.isInteger(v) && (v === UNK || (v >= 4 && v < V)))) {
          throw new VaekitError(`Token id ${v} at ${what} row ${r}, position ${t} is not one of this model's: words are ids 4 to ${V - 1} and <unk> is 1, with <pad> (0) after a sentence's tokens (<bos> 2 and <eos> 3 are the model's own).`);
        }
      }
      lengths[r] = n;
      if (n > m) m = n;
    }
    for (let r = 0; r < rows; r++) {
      const n = lengths[r]!;
      for (let t = 0; t < n; t++) ids[r * m + t] = x[r * N + t]!;
      ids.fill(PAD, r * m + n, (r + 1) * m);
    }
    return m;
  }

  /** out[r] = the number of tokens the decoder predicts for target row r: its length + 1 (<eos> included). */
  tokenCounts(target: Float32Array, rows: number, out: Int32Array): void {
    this.reserve(rows);
    this.tgtTime = this.readTokens(target, rows, this.tgtIds, this.tgtLengths, 'target');
    for (let r = 0; r < rows; r++) out[r] = this.tgtLengths[r]! + 1;
  }

  /**
   * The decoder's input and target ids for decoder rows j < n, row j teacher-forced on target
   * example floor((first + j) / samples): decIds [n, T] = <bos>, y_1..y_len, <pad>...; the packed
   * targets y_1..y_len, <eos>; rowStart. With dropout p > 0, each y_t of the input is <unk> with
   * probability p (one rng.uniform() per y_t, row by row, in order).
   */
  private decoderTokens(n: number, first: number, samples: number, dropout: number, rng: Random | null): void {
    this.T = this.tgtTime + 1;
    const { T, decIds, decLengths, rowStart, packedTargets, tgtIds, tgtLengths } = this;
    const N = this.tgtTime;
    let p = 0;
    for (let j = 0; j < n; j++) {
      const e = Math.floor((first + j) / samples);
      const len = tgtLengths[e]!;
      const row = j * T;
      decIds[row] = BOS;
      for (let t = 0; t < len; t++) {
        const y = tgtIds[e * N + t]!;
        decIds[row + t + 1] = dropout > 0 && rng!.uniform() < dropout ? UNK : y;
        packedTargets[p + t] = y;
      }
      decIds.fill(PAD, row + len + 1, row + T);
      packedTargets[p + len] = EOS;
      decLengths[j] = len + 1;
      rowStart[j] = p;
      p += len + 1;
    }
    rowStart[n] = p;
  }

  // ---- encoder -------------------------------------------------------------------------------

  /** meanLogvar [rows, 2L] (enc.out's buffer) from the ids in encIds/encLengths (readTokens). */
  private encoderForward(rows: number, labels: Labels): Float32Array {
    const N = this.encTime;
    const C = this.classes;
    const rnn = this.encoderRnn!;
    const hf = rnn.hiddenSize;
    const x = this.encoderEmbedding!.forward(this.encIds, this.encLengths, rows, N, this.backend); // [rows, encTime, E]
    const { hFinal } = rnn.forward(this.backend, x, this.encLengths, rows, N, null, null); // [rows, Hf]
    const feature = this.encFeature;
    const width = hf + C;
    for (let r = 0; r < rows; r++) {
      feature.set(hFinal.subarray(r * hf, (r + 1) * hf), r * width);
      if (C > 0) {
        feature.fill(0, r * width + hf, (r + 1) * width);
        feature[r * width + hf + labelOf(labels, r, C)] = 1;
      }
    }
    return this.encoderOut!.forward(this.backend, feature, rows);
  }

  /** From dMeanLogvar [rows, 2L] back through enc.out, enc.rnn and enc.embed (their gradients overwritten). */
  private encoderBackward(rows: number): void {
    const rnn = this.encoderRnn!;
    const hf = rnn.hiddenSize;
    const dFeature = this.encoderOut!.backward(this.backend, this.dMeanLogvar, rows, true)!;
    const dh = this.classes === 0 ? dFeature : columns(dFeature, rows, hf + this.classes, 0, hf, this.dhFinal);
    const g = rnn.backward(this.backend, null, dh, null, true);
    this.encoderEmbedding!.backward(this.backend, g.dx!);
  }

  /** Posterior parameters of `rows` input sentences: [rows, 2L], means then log-variances (a view, reused). */
  encodeBatch(x: Float32Array, rows: number, labels: Labels = null): Float32Array {
    if (this.latent === 0) throw new VaekitError('A language model (latent 0) has no encoder and no posterior to encode into.');
    this.reserve(rows);
    this.encTime = this.readTokens(x, rows, this.encIds, this.encLengths, 'input');
    return this.encoderForward(rows, labels);
  }

  // ---- posterior -----------------------------------------------------------------------------

  /** z [n, L] = mean + exp(0.5 logvar) * eps, eps [n, L] ~ N(0, I) from rng (n * L normals), or 0 (the mean) without. */
  private sampleLatent(meanLogvar: Float32Array, n: number, rng: Random | null): Float32Array {
    const L = this.latent;
    if (rng === null) this.eps.fill(0, 0, n * L);
    else rng.fillNormal(this.eps, n * L);
    reparameterize(this.backend, meanLogvar, this.eps, this.z, n, L);
    return this.z;
  }

  /** The KL term: the mean KL(q || N(0, I)), or with free bits lambda > 0, sum_d max(lambda, KL_d) (KL_d: dimension d's batch mean). */
  private klTerm(meanLogvar: Float32Array, rows: number, freeBits: number): { kl: number; term: number } {
    const L = this.latent;
    const kl = klToStandardNormal(this.backend, meanLogvar, rows, L, this.rowKl);
    if (freeBits <= 0) return { kl, term: kl };
    klPerDimension(meanLogvar, rows, L, this.klDim);
    let term = 0;
    for (let d = 0; d < L; d++) term += Math.max(freeBits, this.klDim[d]!);
    return { kl, term };
  }

  /** dMeanLogvar from dz [rows, L] (the sample's backward) and beta * the KL term's gradient. */
  private posteriorBackward(meanLogvar: Float32Array, dz: Float32Array, rows: number, beta: number, freeBits: number): void {
    const L = this.latent;
    if (freeBits <= 0) {
      reparameterizeBackward(this.backend, meanLogvar, this.eps, dz, this.dMeanLogvar, rows, 1, L, beta / rows, 0);
      return;
    }
    reparameterizeBackward(this.backend, meanLogvar, this.eps, dz, this.dMeanLogvar, rows, 1, L, 0, 0);
    for (let d = 0; d < L; d++) this.dKlDim[d] = this.klDim[d]! > freeBits ? beta : 0;
    klPerDimensionBackward(meanLogvar, this.dKlDim, this.dMeanLogvar, rows, L);
  }

  // ---- decoder -------------------------------------------------------------------------------

  /** cond [n, K] = [z_j; one-hot(label of example floor((first + j) / samples))] (z: [n, L] per decoder row, or null when L = 0). */
  private conditionForward(z: Float32Array | null, n: number, labels: Labels, first: number, samples: number): void {
    const { K, cond } = this;
    const L = this.latent;
    const C = this.classes;
    if (K === 0) return;
    for (let j = 0; j < n; j++) {
      if (L > 0) cond.set(z!.subarray(j * L, (j + 1) * L), j * K);
      if (C > 0) {
        cond.fill(0, j * K + L, (j + 1) * K);
        cond[j * K + L + labelOf(labels, Math.floor((first + j) / samples), C)] = 1;
      }
    }
  }

  /** The initial state from cond: h0 = tanh(pre) into this.h0, and c0 = pre (dec.init's buffer) for an LSTM; null, null for K = 0. */
  private initialState(n: number): { h0: Float32Array | null; c0: Float32Array | null } {
    if (this.decoderInit === null) return { h0: null, c0: null };
    const pre = this.decoderInit.forward(this.backend, this.cond, n); // [n, Hd]
    const h0 = this.h0;
    for (let i = 0; i < n * this.Hd; i++) h0[i] = Math.tanh(pre[i]!);
    return { h0, c0: this.lstm ? pre : null };
  }

  /** [n, T, E + K] = each step's embedding with the row's cond appended (or the embeddings themselves when K = 0). */
  private decoderInput(emb: Float32Array, n: number, T: number): Float32Array {
    const { K, E, cond, decX } = this;
    if (K === 0) return emb;
    const W = E + K;
    for (let j = 0; j < n; j++) {
      const c = cond.subarray(j * K, (j + 1) * K);
      for (let t = 0; t < T; t++) {
        const p = j * T + t;
        decX.set(emb.subarray(p * E, (p + 1) * E), p * W);
        decX.set(c, p * W + E);
      }
    }
    return decX.subarray(0, n * T * W);
  }

  /**
   * Runs the decoder on n rows (decoderTokens and conditionForward first) and scores every real
   * step: rowNll[j] = -log p(row j's targets | cond_j). Returns their sum. With train, the logits'
   * gradient times gradScale replaces the logits (for decoderBackward).
   */
  private decoderForward(n: number, train: boolean, gradScale: number): number {
    const { T, Hd, rowStart, decLengths } = this;
    const { h0, c0 } = this.initialState(n);
    const emb = this.decoderEmbedding.forward(this.decIds, decLengths, n, T, this.backend); // [n, T, E]
    const x = this.decoderInput(emb, n, T);
    const { outputs } = this.decoderRnn.forward(this.backend, x, decLengths, n, T, h0, c0); // [n, T, Hd]
    const steps = rowStart[n]!;
    for (let j = 0; j < n; j++) {
      const from = j * T * Hd;
      this.packedHidden.set(outputs.subarray(from, from + decLengths[j]! * Hd), rowStart[j]! * Hd);
    }
    const logits = this.decoderOut.forward(this.backend, this.packedHidden, steps); // [steps, V]
    const total = softmaxCrossEntropy({ backend: this.backend,
      logits, targets: this.packedTargets, rows: steps, vocab: this.vocab, mask: null, rowNll: this.stepNll,
      dLogits: train ? logits : null, gradScale,
    });
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = rowStart[j]!; p < rowStart[j + 1]!; p++) s += this.stepNll[p]!;
      this.rowNll[j] = s;
    }
    this.logits = logits;
    this.lastSteps = steps;
    return total;
  }

  /**
   * The decoder's backward pass for the last decoderForward(train): dec.out, dec.rnn, dec.embed and
   * dec.init's gradients (overwritten); returns dL/dz [n, L], or null for a language model.
   */
  private decoderBackward(n: number): Float32Array | null {
    const { T, Hd, E, K, rowStart, decLengths, dDecOutputs } = this;
    const L = this.latent;
    const b = this.backend;
    const dPacked = this.decoderOut.backward(b, this.logits!, this.lastSteps, true)!; // [steps, Hd]
    dDecOutputs.fill(0, 0, n * T * Hd);
    for (let j = 0; j < n; j++) {
      const from = rowStart[j]! * Hd;
      dDecOutputs.set(dPacked.subarray(from, from + decLengths[j]! * Hd), j * T * Hd);
    }
    const g = this.decoderRnn.backward(b, dDecOutputs, null, null, true);
    const dx = g.dx!; // [n, T, E + K]
    if (K === 0) {
      this.decoderEmbedding.backward(b, dx);
      return null;
    }
    const W = E + K;
    this.decoderEmbedding.backward(b, columns(dx, n * T, W, 0, E, this.dDecEmbed));
    // cond is an input at every real step, and dec.init's input.
    const { dCond, dPre, h0 } = this;
    for (let j = 0; j < n; j++) {
      const o = j * K;
      dCond.fill(0, o, o + K);
      for (let t = 0; t < decLengths[j]!; t++) {
        const s = (j * T + t) * W + E;
        for (let k = 0; k < K; k++) dCond[o + k] = dCond[o + k]! + dx[s + k]!;
      }
    }
    const dh0 = g.dh0!;
    const dc0 = g.dc0;
    for (let i = 0; i < n * Hd; i++) {
      const h = h0[i]!;
      dPre[i] = dh0[i]! * (1 - h * h) + (dc0 === null ? 0 : dc0[i]!);
    }
    const dInit = this.decoderInit!.backward(b, dPre, n, L > 0);
    if (L === 0) return null;
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < L; k++) this.dz[j * L + k] = dCond[j * K + k]! + dInit![j * K + k]!;
    }
    return this.dz;
  }

  // ---- the objective -------------------------------------------------------------------------

  /**
   * Forward pass and the objective on a batch, and with `train` the backward pass: the gradients of
   * the batch-mean loss overwrite params.grads. The encoder reads `input`, the decoder is
   * teacher-forced on and scored against `target` (they differ for denoising). Loss = per-example
   * sum over the n + 1 target tokens of -log p (nats per sentence) + beta * KL (free bits: sum_d
   * max(lambda, KL_d)), averaged over the batch; the 'elbo' loss only. `rng` draws, in this order,
   * the posterior noise eps [rows, L] (null: eps = 0, the posterior mean) and, when training with
   * objective.wordDropout p > 0, one uniform per decoder input token y_1..y_n, row by row (y_t
   * becomes <unk> when it is below p). A language model (latent 0) ignores `input`; its KL is 0.
   */
  run(input: Float32Array, target: Float32Array, rows: number, objective: TextObjective, rng: Random | null,
    train: boolean, labels: Labels = null): LossParts {
    if (objective.loss !== 'elbo') {
      throw new VaekitError(`The text model trains the elbo objective only, not ${objective.loss}; its importance-sampled likelihood is an evaluation (logImportanceWeights).`);
    }
    const dropout = train ? objective.wordDropout ?? 0 : 0;
    if (!(dropout >= 0 && dropout <= 1)) throw new VaekitError(`Word dropout must be a probability from 0 to 1, not ${dropout}.`);
    if (dropout > 0 && rng === null) throw new VaekitError('Word dropout needs random numbers: give run a generator.');
    this.reserve(rows);
    this.tgtTime = this.readTokens(target, rows, this.tgtIds, this.tgtLengths, 'target');
    const L = this.latent;
    let meanLogvar: Float32Array | null = null;
    let kl = { kl: 0, term: 0 };
    if (L > 0) {
      this.encTime = this.readTokens(input, rows, this.encIds, this.encLengths, 'input');
      meanLogvar = this.encoderForward(rows, labels);
      this.sampleLatent(meanLogvar, rows, rng);
      kl = this.klTerm(meanLogvar, rows, objective.freeBits);
    }
    this.decoderTokens(rows, 0, 1, dropout, rng);
    this.conditionForward(L > 0 ? this.z : null, rows, labels, 0, 1);
    const recon = this.decoderForward(rows, train, 1 / rows) / rows;
    if (train) {
      const dz = this.decoderBackward(rows);
      if (meanLogvar !== null) {
        this.posteriorBackward(meanLogvar, dz!, rows, objective.beta, objective.freeBits);
        this.encoderBackward(rows);
      }
    }
    return { loss: recon + objective.beta * kl.term, recon, kl: kl.kl };
  }

  // ---- scoring -------------------------------------------------------------------------------

  /**
   * out[r] = -log p(target_r | z_r) in nats, the sum over its n + 1 tokens, with one z per example:
   * a posterior sample drawn from rng, or the posterior mean (rng null). A language model ignores
   * `input` and rng.
   */
  tokenNllPerExample(input: Float32Array, target: Float32Array, rows: number, rng: Random | null, labels: Labels,
    out: Float64Array): void {
    this.reserve(rows);
    this.tgtTime = this.readTokens(target, rows, this.tgtIds, this.tgtLengths, 'target');
    if (this.latent > 0) {
      const meanLogvar = this.encodeBatch(input, rows, labels);
      this.sampleLatent(meanLogvar, rows, rng);
    }
    this.decoderTokens(rows, 0, 1, 0, null);
    this.conditionForward(this.latent > 0 ? this.z : null, rows, labels, 0, 1);
    this.decoderForward(rows, false, 0);
    for (let r = 0; r < rows; r++) out[r] = this.rowNll[r]!;
  }

  /**
   * out[r * samples + i] = log p(target_r | z_i) + log N(z_i; 0, I) - log q(z_i | input_r), z_i drawn
   * from q (rng: rows * samples * L normals, sample (r, i) the (r * samples + i)-th L of them):
   * what the importance-sampled log-likelihood log (1/k) sum_i exp(w_i) averages (k = 500 in He
   * et al. 2019). The rows * samples decoder rows run chunkRows at a time (default: as many as keep
   * the largest buffer near 16 MiB); the result does not depend on the chunking. For a language
   * model each entry is the exact log p(target_r), `samples` times, and rng is not used.
   */
  logImportanceWeights(input: Float32Array, target: Float32Array, rows: number, samples: number, rng: Random,
    out: Float64Array, labels: Labels = null, chunkRows?: number): void {
    if (!(Number.isInteger(samples) && samples >= 1)) throw new VaekitError(`The number of importance samples must be a whole number >= 1, not ${samples}.`);
    if (out.length < rows * samples) throw new Error(`TextVae.logImportanceWeights: out holds ${out.length} values, not ${rows} x ${samples}.`);
    const L = this.latent;
    if (L === 0) {
      this.reserve(rows); // before reading this.logq: growing replaces it
      this.tokenNllPerExample(input, target, rows, null, labels, this.logq);
      for (let r = 0; r < rows; r++) out.fill(-this.logq[r]!, r * samples, (r + 1) * samples);
      return;
    }
    this.reserve(rows);
    this.tgtTime = this.readTokens(target, rows, this.tgtIds, this.tgtLengths, 'target');
    const meanLogvar = this.encodeBatch(input, rows, labels);
    const total = rows * samples;
    const fit = Math.max(1, Math.floor(IMPORTANCE_CHUNK_VALUES / ((this.tgtTime + 1) * this.decoderRowWidth())));
    const chunk = Math.min(total, chunkRows ?? fit);
    if (!(Number.isInteger(chunk) && chunk >= 1)) throw new Error(`TextVae.logImportanceWeights: chunkRows must be a whole number >= 1, not ${chunkRows}.`);
    this.reserveDecoder(chunk);
    const { eps, z, repeatedPosterior, logq, rowNll } = this;
    for (let first = 0; first < total; first += chunk) {
      const n = Math.min(chunk, total - first);
      for (let j = 0; j < n; j++) {
        const e = Math.floor((first + j) / samples);
        repeatedPosterior.set(meanLogvar.subarray(e * 2 * L, (e + 1) * 2 * L), j * 2 * L);
      }
      rng.fillNormal(eps, n * L);
      reparameterize(this.backend, repeatedPosterior, eps, z, n, L);
      logDensity(repeatedPosterior, eps, n, L, logq);
      this.decoderTokens(n, first, samples, 0, null);
      this.conditionForward(z, n, labels, first, samples);
      this.decoderForward(n, false, 0);
      for (let j = 0; j < n; j++) {
        let logPrior = 0;
        for (let d = 0; d < L; d++) logPrior -= 0.5 * (z[j * L + d]! ** 2 + LOG_2PI);
        out[first + j] = -rowNll[j]! + logPrior - logq[j]!;
      }
    }
  }

  // ---- generation ----------------------------------------------------------------------------

  /**
   * The token ids of `rows` decoded sentences, without <bos> and <eos>: each stops at <eos> or at
   * options.maxLength tokens. z [rows, L] conditions the decoder; null draws it from the prior
   * N(0, I) with rng (a language model takes null). 'greedy' takes the most likely token at each
   * step; 'sample' draws it from rng at options.temperature; 'beam' keeps beamWidth hypotheses by
   * total log-probability (a hypothesis is finished when <eos> is among the beamWidth best
   * continuations) and returns the best finished one. <pad> and <bos> are never generated (the
   * distribution is renormalized over the other tokens).
   */
  generate(z: Float32Array | null, rows: number, options: GenerateOptions, rng: Random | null, labels: Labels = null): Int32Array[] {
    const L = this.latent;
    if (!(Number.isInteger(rows) && rows >= 1)) throw new Error(`TextVae.generate: rows must be a whole number >= 1, not ${rows}.`);
    if (!DECODE_MODES.includes(options.mode)) throw new VaekitError(`Unknown decoding mode "${String(options.mode)}": use one of ${DECODE_MODES.join(', ')}.`);
    const temperature = options.temperature ?? 1;
    if (!(temperature > 0 && Number.isFinite(temperature))) throw new VaekitError(`The sampling temperature must be a number > 0, not ${temperature}.`);
    const beamWidth = options.beamWidth ?? 5;
    if (!(Number.isInteger(beamWidth) && beamWidth >= 1)) throw new VaekitError(`The beam width must be a whole number >= 1, not ${beamWidth}.`);
    const maxLength = options.maxLength ?? this.maxLength;
    if (!(Number.isInteger(maxLength) && maxLength >= 1)) throw new VaekitError(`The generated length must be a whole number of tokens >= 1, not ${maxLength}.`);
    if (options.mode === 'sample' && rng === null) throw new VaekitError('Sampling needs random numbers: give generate a generator.');
    if (L === 0 && z !== null) throw new VaekitError('A language model (latent 0) has no latent vector: pass null for z.');
    if (z !== null && z.length < rows * L) throw new Error(`TextVae.generate: ${rows} latent vectors of ${L} values need ${rows * L}, got ${z.length}.`);
    if (L > 0 && z === null) {
      if (rng === null) throw new VaekitError('Generating from the prior needs random numbers: give generate a generator, or latent vectors.');
      z = new Float32Array(rows * L);
      rng.fillNormal(z);
    }
    const width = options.mode === 'beam' ? beamWidth : 1;
    const n = rows * width;
    this.reserveDecoder(n);
    // Each decoder row's z: its sentence's, repeated over the beam.
    for (let j = 0; j < n; j++) if (L > 0) this.z.set(z!.subarray(Math.floor(j / width) * L, (Math.floor(j / width) + 1) * L), j * L);
    this.conditionForward(L > 0 ? this.z : null, n, labels, 0, width);
    const state = new DecoderState(n, this.Hd, this.lstm);
    const { h0, c0 } = this.initialState(n);
    if (h0 !== null) state.h.set(h0.subarray(0, n * this.Hd));
    if (c0 !== null) state.c!.set(c0.subarray(0, n * this.Hd));
    return options.mode === 'beam'
      ? this.beamSearch(state, rows, beamWidth, maxLength)
      : this.decodeOneByOne(state, rows, maxLength, options.mode === 'sample' ? rng : null, temperature);
  }

  /** One decoder step for n rows from `prev` ids and the state (updated): the logits [n, V] (dec.out's buffer). */
  private decodeStep(state: DecoderState, prev: Int32Array, n: number): Float32Array {
    const emb = this.decoderEmbedding.forward(prev, null, n, 1, this.backend); // [n, E]
    const x = this.decoderInput(emb, n, 1);
    const out = this.decoderRnn.forward(this.backend, x, state.ones, n, 1, state.h, state.c);
    state.h.set(out.hFinal);
    if (state.c !== null) state.c.set(out.cFinal!);
    return this.decoderOut.forward(this.backend, state.h, n);
  }

  /** Greedy decoding (rng null) or sampling at `temperature`: one hypothesis per sentence. */
  private decodeOneByOne(state: DecoderState, rows: number, maxLength: number, rng: Random | null, temperature: number): Int32Array[] {
    const V = this.vocab;
    const prev = new Int32Array(rows).fill(BOS);
    const tokens = new Int32Array(rows * maxLength);
    const counts = new Int32Array(rows);
    const done = new Uint8Array(rows);
    let remaining = rows;
    for (let step = 0; step < maxLength && remaining > 0; step++) {
      const logits = this.decodeStep(state, prev, rows);
      for (let r = 0; r < rows; r++) {
        if (done[r] === 1) continue;
        const l = logits.subarray(r * V, (r + 1) * V);
        const token = rng === null ? argmaxToken(l) : sampleToken(l, temperature, rng);
        if (token === EOS) {
          done[r] = 1;
          remaining--;
          continue;
        }
        tokens[r * maxLength + counts[r]!] = token;
        counts[r] = counts[r]! + 1;
        prev[r] = token;
        if (counts[r] === maxLength) {
          done[r] = 1;
          remaining--;
        }
      }
    }
    return Array.from({ length: rows }, (_, r) => tokens.slice(r * maxLength, r * maxLength + counts[r]!));
  }

  /**
   * Beam search, width beams per sentence (decoder row r * width + i is its i-th hypothesis). Each
   * step ranks every live hypothesis' continuations by total log-probability: a continuation by
   * <eos> ranked among the best `width` finishes its hypothesis; the best `width` others are the
   * next live ones. A sentence is done when no live hypothesis scores above its best finished one
   * (scores only fall), or at maxLength tokens (the live ones finish there).
   */
  private beamSearch(state: DecoderState, rows: number, width: number, maxLength: number): Int32Array[] {
    const V = this.vocab;
    const n = rows * width;
    const prev = new Int32Array(n).fill(BOS);
    let hyp = new Int32Array(n * maxLength);
    let nextHyp = new Int32Array(n * maxLength);
    const score = new Float64Array(n).fill(-Infinity);
    const nextScore = new Float64Array(n);
    const parent = new Int32Array(n);
    for (let r = 0; r < rows; r++) score[r * width] = 0; // one live hypothesis (<bos>) per sentence at first
    const bestScore = new Float64Array(rows).fill(-Infinity);
    const best: Int32Array[] = Array.from({ length: rows }, () => new Int32Array(0));
    const done = new Uint8Array(rows);
    const logp = new Float64Array(V);
    const top = new TopK(2 * width);
    const stateCopy = new DecoderState(n, this.Hd, this.lstm);
    let remaining = rows;
    for (let step = 0; step < maxLength && remaining > 0; step++) {
      const logits = this.decodeStep(state, prev, n);
      for (let r = 0; r < rows; r++) {
        if (done[r] === 1) continue;
        top.clear();
        for (let i = 0; i < width; i++) {
          const s = r * width + i;
          if (score[s] === -Infinity) continue;
          logSoftmaxOutputs(logits.subarray(s * V, (s + 1) * V), logp);
          for (let v = 0; v < V; v++) if (isOutputToken(v)) top.offer(score[s]! + logp[v]!, i, v);
        }
        let live = 0;
        for (let k = 0; k < top.size; k++) {
          const i = top.slot[k]!;
          const v = top.token[k]!;
          const s = r * width + i;
          if (v === EOS) {
            if (k < width && top.score[k]! > bestScore[r]!) {
              bestScore[r] = top.score[k]!;
              best[r] = hyp.slice(s * maxLength, s * maxLength + step);
            }
            continue;
          }
          if (live === width) continue;
          const d = r * width + live;
          nextHyp.set(hyp.subarray(s * maxLength, s * maxLength + step), d * maxLength);
          nextHyp[d * maxLength + step] = v;
          nextScore[d] = top.score[k]!;
          parent[d] = s;
          live++;
        }
        for (let i = live; i < width; i++) {
          nextScore[r * width + i] = -Infinity;
          parent[r * width + i] = r * width;
        }
        let bestLive = -Infinity;
        for (let i = 0; i < live; i++) bestLive = Math.max(bestLive, nextScore[r * width + i]!);
        if (step + 1 === maxLength) {
          // Out of room: the live hypotheses finish here, without <eos>.
          for (let i = 0; i < live; i++) {
            const d = r * width + i;
            if (nextScore[d]! > bestScore[r]!) {
              bestScore[r] = nextScore[d]!;
              best[r] = nextHyp.slice(d * maxLength, d * maxLength + maxLength);
            }
          }
          bestLive = -Infinity;
        }
        if (bestLive === -Infinity || bestScore[r]! >= bestLive) {
          done[r] = 1;
          remaining--;
          for (let i = 0; i < width; i++) nextScore[r * width + i] = -Infinity;
        }
      }
      // The live hypotheses take their parents' states.
      stateCopy.h.set(state.h);
      if (state.c !== null) stateCopy.c!.set(state.c);
      const Hd = this.Hd;
      for (let d = 0; d < n; d++) {
        const s = parent[d]!;
        state.h.set(stateCopy.h.subarray(s * Hd, (s + 1) * Hd), d * Hd);
        if (state.c !== null) state.c.set(stateCopy.c!.subarray(s * Hd, (s + 1) * Hd), d * Hd);
        score[d] = nextScore[d]!;
        prev[d] = score[d] === -Infinity ? EOS : nextHyp[d * maxLength + step]!;
      }
      [hyp, nextHyp] = [nextHyp, hyp];
    }
    return best;
  }

  // ---- summary -------------------------------------------------------------------------------

  /** A Keras-like table of the layers, their output shapes and parameter counts. */
  summary(): string {
    const c = this.config;
    const N = this.maxLength;
    const T = this.maxT;
    const L = this.latent;
    const C = this.classes;
    const rows: [string, string, number, string][] = [];
    const label = C > 0 ? ` + label (${C} classes)` : '';
    rows.push(['tokens (Input)', `(None, ${N})`, 0, `token ids, <pad> after each sentence${label}`]);
    if (L > 0) {
      const rnn = this.encoderRnn!;
      rows.push([`enc.embed (Embedding)`, `(None, ${N}, ${c.embedding})`, this.encoderEmbedding!.parameterCount, '']);
      rows.push([`enc.rnn (${rnn.kind})`, `(None, ${rnn.hiddenSize})`, rnn.parameterCount, 'final state']);
      rows.push([`enc.out (Dense)`, `(None, ${2 * L})`, this.encoderOut!.parameterCount, `linear: mean ${L} | log-variance ${L}`]);
      rows.push(['z (Reparameterize)', `(None, ${L})`, 0, 'mean + exp(0.5 logvar) * eps']);
    }
    if (this.decoderInit !== null) {
      const from = [L > 0 ? 'z' : '', C > 0 ? 'label' : ''].filter((s) => s !== '').join(' + ');
      rows.push(['dec.init (Dense)', `(None, ${this.Hd})`, this.decoderInit.parameterCount, this.lstm ? `c0 from ${from}; h0 = tanh(c0)` : `h0 = tanh(dense(${from}))`]);
    }
    rows.push(['dec.embed (Embedding)', `(None, ${T}, ${c.embedding})`, this.decoderEmbedding.parameterCount, '<bos>, then the sentence']);
    const inputs = this.K > 0 ? `input [embedding; ${[L > 0 ? 'z' : '', C > 0 ? 'label' : ''].filter((s) => s !== '').join('; ')}]` : 'input: embedding';
    rows.push([`dec.rnn (${this.decoderRnn.kind})`, `(None, ${T}, ${this.Hd})`, this.decoderRnn.parameterCount, inputs]);
    rows.push(['dec.out (Dense)', `(None, ${T}, ${this.vocab})`, this.decoderOut.parameterCount, 'linear (categorical likelihood: softmax over the vocabulary)']);
    const header: [string, string, string, string] = ['Layer (type)', 'Output Shape', 'Param #', 'Notes'];
    const all = [header, ...rows.map(([a, b, p, d]) => [a, b, p.toLocaleString('en-US'), d] as [string, string, string, string])];
    const widths = [0, 1, 2, 3].map((k) => Math.max(...all.map((r) => r[k]!.length)));
    const line = (r: [string, string, string, string]): string =>
      [r[0].padEnd(widths[0]!), r[1].padEnd(widths[1]!), r[2].padStart(widths[2]!), r[3]].join('   ').trimEnd();
    const rule = '='.repeat(widths.reduce((a, b) => a + b, 0) + 9);
    const total = this.params.count.toLocaleString('en-US');
    const what = L > 0 ? `text VAE, latent ${L}` : 'language model, no latent';
    return [
      `Model: "text-vae" (preset ${c.preset}, ${what}, ${c.cell.toUpperCase()}${c.bidirectional ? ' bidirectional encoder' : ''}, vocabulary ${this.vocab.toLocaleString('en-US')}, up to ${N} tokens)`,
      rule, line(header), rule, ...all.slice(1).map(line), rule,
      `Total params: ${total}`, `Trainable params: ${total}`, 'Non-trainable params: 0',
    ].join('\n');
  }
}

/** The decoder's recurrent state while generating: h (and c for an LSTM) [n, Hd], and every row's length of 1. */
class DecoderState {
  readonly h: Float32Array;
  readonly c: Float32Array | null;
  readonly ones: Int32Array;

  constructor(n: number, hidden: number, lstm: boolean) {
    this.h = new Float32Array(n * hidden);
    this.c = lstm ? new Float32Array(n * hidden) : null;
    this.ones = new Int32Array(n).fill(1);
  }
}

/** The output token with the largest logit (the first of equals). */
function argmaxToken(l: Float32Array): number {
  let best = -1;
  for (let v = 0; v < l.length; v++) if (isOutputToken(v) && (best < 0 || l[v]! > l[best]!)) best = v;
  return best;
}

/** A token drawn from softmax(l / temperature) over the output tokens (one rng.uniform()). */
function sampleToken(l: Float32Array, temperature: number, rng: Random): number {
  const best = argmaxToken(l);
  const max = l[best]!;
  let sum = 0;
  for (let v = 0; v < l.length; v++) if (isOutputToken(v)) sum += Math.exp((l[v]! - max) / temperature);
  let u = rng.uniform() * sum;
  for (let v = 0; v < l.length; v++) {
    if (!isOutputToken(v)) continue;
    u -= Math.exp((l[v]! - max) / temperature);
    if (u < 0) return v;
  }
  return best; // rounding left u at or just above 0: the mode
}

/** out[v] = log softmax over the output tokens of l, at v (-Infinity for <pad> and <bos>). */
function logSoftmaxOutputs(l: Float32Array, out: Float64Array): void {
  const max = l[argmaxToken(l)]!;
  let sum = 0;
  for (let v = 0; v < l.length; v++) if (isOutputToken(v)) sum += Math.exp(l[v]! - max);
  const lse = max + Math.log(sum);
  for (let v = 0; v < l.length; v++) out[v] = isOutputToken(v) ? l[v]! - lse : -Infinity;
}

/** The k best (score, slot, token) offered, best first; of equal scores the one offered first ranks first. */
class TopK {
  readonly score: Float64Array;
  readonly slot: Int32Array;
  readonly token: Int32Array;
  size = 0;

  constructor(readonly k: number) {
    this.score = new Float64Array(k);
    this.slot = new Int32Array(k);
    this.token = new Int32Array(k);
  }

  clear(): void {
    this.size = 0;
  }

  offer(score: number, slot: number, token: number): void {
    if (this.size === this.k && !(score > this.score[this.k - 1]!)) return;
    let i = this.size < this.k ? this.size++ : this.k - 1;
    while (i > 0 && score > this.score[i - 1]!) {
      this.score[i] = this.score[i - 1]!;
      this.slot[i] = this.slot[i - 1]!;
      this.token[i] = this.token[i - 1]!;
      i--;
    }
    this.score[i] = score;
    this.slot[i] = slot;
    this.token[i] = token;
  }
}
