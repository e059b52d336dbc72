/**
 * Anomaly scores of sentences under a text model: each sentence's negative log-likelihood per
 * token, -log p(x) / (its tokens + <eos>), in nats. For a text VAE -log p(x) is importance-sampled,
 * -log (1/k) sum_i p(x, z_i) / q(z_i | x) with k posterior samples (eval/text.ts measures the same
 * with He et al.'s k = 500); a language model's is exact. Per token, so a long normal sentence does
 * not look stranger than a short odd one. With labels, the AUROC of finding the classes other than
 * the normal one (pipelines/anomaly.ts chooses it as for images).
 */
import type { Dataset } from '../data/dataset.js';
import { EVAL_BATCH, evalBatches } from '../data/inference.js';
import { oneClassAuroc } from '../eval/anomaly.js';
import { evalSampleRng } from '../eval/evaluate.js';
import type { Random } from '../engine/random.js';
import { VaekitError } from '../errors.js';
import type { TextVae } from '../vae/text/model.js';
import { logSumExp } from '../vae/objectives/iwae.js';
import { scoredNormalClass } from './anomaly.js';

/** Importance samples per sentence for a text anomaly score unless asked otherwise (a tenth of eval's 500: scoring is a pass over every sentence). */
export const TEXT_ANOMALY_SAMPLES = 50;

export interface TextAnomalyScores {
  /** -log p(x) / tokens per sentence, nats. */
  scores: Float64Array;
  /** -log p(x) per sentence, nats. */
  nll: Float64Array;
  /** Tokens per sentence, its <eos> included. */
  tokens: Int32Array;
  /** Importance samples per sentence (1 for a language model: exact). */
  samples: number;
  /** The class index that counts as normal, or null when the set has no labels. */
  normalClass: number | null;
  /** AUROC of the scores for finding the other classes, or null without labels. */
  auroc: number | null;
}

/** The scores above for every sentence of a text set, with `samples` importance samples each (a VAE). */
/**
 * `options.rng` (default evalSampleRng(seed)) carries on from where a previous call left it: a
 * stream scored one sentence at a time draws what one pass over all of them would.
 */
export function scoreTextAnomalies(vae: TextVae, set: Dataset, options: { samples: number; seed: number; normalClass?: string; rng?: Random }): TextAnomalyScores {
  if (set.text === undefined) throw new VaekitError(`${set.source} is not text, and a text model scores text.`);
  if (vae.classes > 0) throw new VaekitError('A conditional text model scores a sentence given its class, and anomaly scores take none: score with a model that is not conditional.');
  const k = vae.latent === 0 ? 1 : options.samples;
  if (!(Number.isInteger(k) && k >= 1)) throw new VaekitError(`The number of importance samples must be a whole number >= 1, not ${k}.`);
  // Checked before the scoring pass: a set without anomalies to find is refused at once.
  const normalClass = set.labels === null ? null : scoredNormalClass(set, options.normalClass);
  const rng = options.rng ?? evalSampleRng(options.seed);
  const n = set.count;
  const scores = new Float64Array(n);
  const nll = new Float64Array(n);
  const tokens = new Int32Array(n);
  const counts = new Int32Array(Math.min(n, EVAL_BATCH));
  let weights = new Float64Array(0);
  for (const b of evalBatches(set, { noise: { kind: 'none' }, seed: options.seed }, EVAL_BATCH, vae.backend)) {
    vae.tokenCounts(b.target, b.rows, counts);
    if (weights.length < b.rows * k) weights = new Float64Array(b.rows * k);
    vae.logImportanceWeights(b.input, b.target, b.rows, k, rng, weights);
    for (let r = 0; r < b.rows; r++) {
      const i = b.start + r;
      nll[i] = -(logSumExp(weights, r * k, k) - Math.log(k));
      tokens[i] = counts[r]!;
      scores[i] = nll[i]! / tokens[i]!;
    }
  }
  const auroc = set.labels === null || normalClass === null ? null : oneClassAuroc(scores, set.labels, normalClass);
  return { scores, nll, tokens, samples: k, normalClass, auroc };
}
