/**
 * The bag-of-words baseline for sentences, where PCA or an isolation forest on token ids would
 * mean nothing: a unigram model of the training sentences' tokens over the whole vocabulary, with
 * add-one (Laplace) smoothing, p(w) = (count(w) + 1) / (tokens + vocabulary size). A sentence's
 * score is its negative log-likelihood per token, -(1/T) sum_t log p(w_t) in nats over its T tokens
 * (0 for an empty one): word order plays no part, so it finds odd words and not odd sentences made
 * of ordinary words.
 */
import type { Dataset } from '../../data/dataset.js';
import { everyRowIds } from '../../data/sources/text.js';
import { VaekitError } from '../../errors.js';

export class UnigramModel {
  constructor(
    /** log p(w) for each token id of the vocabulary. */
    readonly logProbability: Float64Array,
  ) {}

  /** Each sentence's negative log-likelihood per token [n], in nats. */
  score(set: Dataset): Float64Array {
    checkText(set, this.logProbability.length);
    const scores = new Float64Array(set.count);
    let r = 0;
    for (const ids of everyRowIds(set)) {
      let nll = 0;
      for (const id of ids) nll -= this.logProbability[id]!;
      scores[r++] = ids.length === 0 ? 0 : nll / ids.length;
    }
    return scores;
  }
}

function checkText(set: Dataset, vocabulary?: number): void {
  if (set.text === undefined) throw new VaekitError(`The unigram baseline reads sentences, and ${set.source} is not text.`);
  if (vocabulary !== undefined && set.text.vocabulary.size !== vocabulary) {
    throw new VaekitError(`${set.source} was read with a vocabulary of ${set.text.vocabulary.size} tokens, and the unigram model has ${vocabulary}: read both with the same one.`);
  }
}

/** The unigram model of the training sentences' tokens, add-one smoothed over their vocabulary. */
export function fitUnigram(train: Dataset): UnigramModel {
  checkText(train);
  const size = train.text!.vocabulary.size;
  const counts = new Float64Array(size).fill(1);
  let total = size;
  for (const ids of everyRowIds(train)) {
    for (const id of ids) {
      counts[id] = counts[id]! + 1;
      total++;
    }
  }
  return new UnigramModel(counts.map((c) => Math.log(c / total)));
}
