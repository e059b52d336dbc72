/**
 * A text model on a set of sentences, the measures of He et al. 2019, all in nats per sentence
 * unless named per token:
 *
 * - negative ELBO and its parts (reconstruction -log p(x|z) with one posterior sample, and the KL),
 * - the importance-sampled negative log-likelihood -log (1/k) sum_i p(x, z_i) / q(z_i | x) with k
 *   samples (He et al. use k = 500; a language model's likelihood is exact) and the perplexity per
 *   token it gives, exp(sum NLL / tokens), every sentence's tokens counted with its <eos>,
 * - the mutual information I(x; z) and the active units (latent-usage.ts).
 */
import type { Dataset } from '../data/dataset.js';
import { evalBatches } from '../data/inference.js';

import { VaekitError } from '../errors.js';
import { resolveObjective, type Objective } from '../vae/objective.js';
import type { Trainable, ValidationParts } from '../vae/trainable.js';
import { logSumExp } from '../vae/objectives/iwae.js';
import { TextVae } from '../vae/text/model.js';
import { Random } from '../engine/random.js';
import { evalSampleRng } from './evaluate.js';
import { activeUnits, MI_MAX_EXAMPLES, mutualInformation } from './latent-usage.js';

/**
 * Sentences per batch when scoring text: a batch's logits hold sentences x steps x vocabulary
 * floats (64 x 181 x 10,000 is 463 MB at Brown's longest sentence), so fewer than images' 500.
 */
export const TEXT_EVAL_BATCH = 64;

/** He et al. 2019's importance samples per sentence for the log-likelihood. */
export const TEXT_IMPORTANCE_SAMPLES = 500;

export interface TextMetrics {
  kind: 'text';
  /** Sentences scored. */
  examples: number;
  /** Tokens scored, each sentence's <eos> included. */
  tokens: number;
  /** Negative ELBO (beta 1) in nats per sentence, one posterior sample each, and its parts. */
  negElboNats: number;
  reconNats: number;
  klNats: number;
  /** Importance samples per sentence in nllNats (1 for a language model: exact). */
  importanceSamples: number;
  /** -log p(x) in nats per sentence: importance-sampled for a VAE (an estimate, below the negative ELBO), exact for a language model. */
  nllNats: number;
  /** exp(total NLL / tokens). */
  perplexity: number;
  /** Mutual information I(x; z) in nats (He et al.'s estimator over up to MI_MAX_EXAMPLES sentences); 0 for a language model. */
  mutualInformation: number;
  /** Latent dimensions with Cov_x(E_q[z_d]) > 0.01, and the latent size. */
  activeUnits: number;
  latent: number;
}

export interface TextEvalOptions {
  /** Importance samples per sentence for the NLL (default TEXT_IMPORTANCE_SAMPLES). */
  importanceSamples?: number;
  /** Seed of the posterior samples. */
  seed: number;
  batchSize?: number;
}

/** The measures above on every sentence of a text set. */
export function evaluateText(vae: TextVae, set: Dataset, options: TextEvalOptions): TextMetrics {
  if (set.text === undefined) throw new VaekitError(`${set.source} is not text, and a text model scores text.`);
  const k = vae.latent === 0 ? 1 : options.importanceSamples ?? TEXT_IMPORTANCE_SAMPLES;
  if (!(Number.isInteger(k) && k >= 1)) throw new VaekitError(`The number of importance samples must be a whole number >= 1, not ${k}.`);
  const rng = evalSampleRng(options.seed);
  const L = vae.latent;
  const elbo = resolveObjective({ loss: 'elbo', beta: 1 });
  const keep = Math.min(set.count, MI_MAX_EXAMPLES);
  const posterior = new Float32Array(keep * 2 * L);
  const counts = new Int32Array(Math.min(set.count, options.batchSize ?? TEXT_EVAL_BATCH));
  let weights = new Float64Array(0);
  const sums = { loss: 0, recon: 0, kl: 0, nll: 0, tokens: 0 };
  for (const b of evalBatches(set, { noise: { kind: 'none' }, seed: options.seed }, options.batchSize ?? TEXT_EVAL_BATCH, vae.backend)) {
    const labels = vae.classes > 0 ? b.labels : null;
    const parts = vae.run(b.input, b.target, b.rows, elbo, rng, false, labels);
    sums.loss += parts.loss * b.rows;
    sums.recon += parts.recon * b.rows;
    sums.kl += parts.kl * b.rows;
    vae.tokenCounts(b.target, b.rows, counts);
    for (let r = 0; r < b.rows; r++) sums.tokens += counts[r]!;
    if (weights.length < b.rows * k) weights = new Float64Array(b.rows * k);
    vae.logImportanceWeights(b.input, b.target, b.rows, k, rng, weights, labels);
    for (let r = 0; r < b.rows; r++) sums.nll -= logSumExp(weights, r * k, k) - Math.log(k);
    if (L > 0 && b.start < keep) {
      const ml = vae.encodeBatch(b.input, b.rows, labels);
      const rows = Math.min(b.rows, keep - b.start);
      posterior.set(ml.subarray(0, rows * 2 * L), b.start * 2 * L);
    }
  }
  const n = set.count;
  return {
    kind: 'text',
    examples: n,
    tokens: sums.tokens,
    negElboNats: sums.loss / n,
    reconNats: sums.recon / n,
    klNats: sums.kl / n,
    importanceSamples: k,
    nllNats: sums.nll / n,
    perplexity: Math.exp(sums.nll / sums.tokens),
    mutualInformation: mutualInformation(posterior, keep, L, rng),
    activeUnits: activeUnits(posterior, keep, L),
    latent: L,
  };
}

/** The metrics as one line: "Test (N sentences, T tokens): NLL ... nats (k = 500) | perplexity ... | -ELBO ... (recon + KL) | MI ... | active units a/L". */
export function textMetricsLine(m: TextMetrics): string {
  const nll = m.latent === 0 ? `NLL ${m.nllNats.toFixed(2)} nats per sentence (exact)` : `NLL ${m.nllNats.toFixed(2)} nats per sentence (importance-sampled, k = ${m.importanceSamples})`;
  const latent = m.latent === 0 ? 'no latent code (a language model)' : `KL ${m.klNats.toFixed(2)} nats | mutual information ${m.mutualInformation.toFixed(2)} nats | active units ${m.activeUnits}/${m.latent}`;
  return `Test (${m.examples} sentences, ${m.tokens} tokens with <eos>): ${nll} | perplexity ${m.perplexity.toFixed(2)} per token | negative ELBO ${m.negElboNats.toFixed(2)} (reconstruction ${m.reconNats.toFixed(2)} + KL ${m.klNats.toFixed(2)}) | ${latent}`;
}

/** Sentences the validation's mutual information and active units are measured on (the first of the set). */
export const VALIDATION_MI_EXAMPLES = 2000;

/**
 * fit's `validate` for a text model: the training objective's parts on the set (one posterior sample
 * each), the perplexity bound exp(negative ELBO at beta 1 / tokens), and the mutual information
 * and active units of its first VALIDATION_MI_EXAMPLES sentences. The same numbers every call for
 * the same weights (its own generators, from the seed).
 */
export function textValidator(set: Dataset, objective: Objective, seed: number): (vae: Trainable) => ValidationParts {
  return (model) => {
    if (!(model instanceof TextVae)) throw new VaekitError('The text validator scores text models.');
    const vae = model;
    const rng = evalSampleRng(seed);
    const elbo = resolveObjective({ loss: 'elbo', beta: 1 });
    const L = vae.latent;
    const keep = Math.min(set.count, VALIDATION_MI_EXAMPLES);
    const posterior = new Float32Array(keep * 2 * L);
    const counts = new Int32Array(Math.min(set.count, TEXT_EVAL_BATCH));
    const sums = { loss: 0, recon: 0, kl: 0, bound: 0, tokens: 0 };
    for (const b of evalBatches(set, { noise: { kind: 'none' }, seed }, TEXT_EVAL_BATCH, vae.backend)) {
      const labels = vae.classes > 0 ? b.labels : null;
      const parts = vae.run(b.input, b.target, b.rows, objective, rng, false, labels);
      sums.loss += parts.loss * b.rows;
      sums.recon += parts.recon * b.rows;
      sums.kl += parts.kl * b.rows;
      sums.bound += (objective.beta === 1 && objective.freeBits === 0 ? parts.loss : vae.run(b.input, b.target, b.rows, elbo, rng, false, labels).loss) * b.rows;
      vae.tokenCounts(b.target, b.rows, counts);
      for (let r = 0; r < b.rows; r++) sums.tokens += counts[r]!;
      if (L > 0 && b.start < keep) {
        const ml = vae.encodeBatch(b.input, b.rows, labels);
        posterior.set(ml.subarray(0, Math.min(b.rows, keep - b.start) * 2 * L), b.start * 2 * L);
      }
    }
    const n = set.count;
    return {
      loss: sums.loss / n, recon: sums.recon / n, kl: sums.kl / n,
      perplexity: Math.exp(sums.bound / sums.tokens),
      ...(L > 0 ? { mi: mutualInformation(posterior, keep, L, new Random((seed ^ 0x4d49) >>> 0)), activeUnits: activeUnits(posterior, keep, L) } : {}),
    };
  };
}
