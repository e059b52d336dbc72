/**
 * Inference with a text run's model, as the inference worker (inference-worker.ts) computes it for
 * the Text page: a typed sentence reconstructed (greedy from its posterior mean), the training
 * sentences nearest it by code, sentences drawn from the prior, and the sentences between two typed
 * ones. Each is the library's pipeline (pipelines/text.ts, pipelines/text-nearest.ts) on the request
 * as it arrived (checked here: checking needs the model), answered as JSON text.
 */
import { rowIds } from '../data/sources/text.js';
import { UNK } from '../data/text/vocab.js';
import { nearestSentences } from '../pipelines/text-nearest.js';
import { interpolateSentences, reconstructSentences, sampleSentences, textsForModel } from '../pipelines/text.js';
import type { TextInterpolateRequest, TextInterpolation, TextNearest, TextNearestRequest, TextReconstruction, TextReconstructRequest, TextSamples, TextSamplesQuery } from './messages.js';
import type { Models } from './models.js';
import {
  parseBody, requireLatent, textInterpolateRequest, textNearestRequest, textReconstructRequest, textSamplesQuery, type Query,
} from './routes/requests.js';

export type TextInferenceRequest =
  | { kind: 'text-reconstruct'; id: string; body: string }
  | { kind: 'text-nearest'; id: string; body: string }
  | { kind: 'text-samples'; id: string; query: Query<TextSamplesQuery> }
  | { kind: 'text-interpolate'; id: string; body: string };

/** `label` as the library's DecodeOptions take it (absent for a model that is not conditional). */
function labelled(label: number | undefined): { label?: number } {
  return label === undefined ? {} : { label };
}

/** The response body (JSON text) of one text inference request. */
export async function textInferenceOf(models: Models, r: TextInferenceRequest): Promise<string> {
  switch (r.kind) {
    case 'text-reconstruct': {
      const model = models.textBundle(r.id).bundle;
      requireLatent(model, r.id, 'reconstruct a sentence');
      const { sentence, label } = textReconstructRequest(parseBody<TextReconstructRequest>(r.body), model);
      const read = textsForModel(model, [sentence], 'the sentence');
      const ids = rowIds(read, 0);
      const [reconstruction] = reconstructSentences(model, [sentence], { mode: 'greedy', ...labelled(label) });
      return JSON.stringify({
        sentence, read: model.vocabulary.decode(ids), tokens: ids.length, unknown: ids.filter((id) => id === UNK).length,
        cut: (read.text?.cut ?? 0) > 0, reconstruction: reconstruction!,
      } satisfies TextReconstruction);
    }
    case 'text-nearest': {
      const model = models.textBundle(r.id).bundle;
      requireLatent(model, r.id, 'find sentences near one by code');
      const { sentence, label, metric, count } = textNearestRequest(parseBody<TextNearestRequest>(r.body), model);
      const { codes, total } = await models.textTrainingCodes(r.id);
      const sentences = nearestSentences(model, codes, sentence, Math.min(count, codes.count), metric, label);
      return JSON.stringify({ metric, sentences, searched: codes.count, total, source: codes.source } satisfies TextNearest);
    }
    case 'text-samples': {
      const model = models.textBundle(r.id).bundle;
      const { count, seed, mode, temperature, beamWidth, label } = textSamplesQuery(r.query, model);
      const sentences = sampleSentences(model, count, seed, { mode, temperature, beamWidth, ...labelled(label) });
      return JSON.stringify({ sentences, mode, temperature, beamWidth, seed } satisfies TextSamples);
    }
    case 'text-interpolate': {
      const model = models.textBundle(r.id).bundle;
      requireLatent(model, r.id, 'interpolate between sentences');
      const { from, to, steps, label } = textInterpolateRequest(parseBody<TextInterpolateRequest>(r.body), model);
      return JSON.stringify({ steps: interpolateSentences(model, from, to, steps, { mode: 'greedy', ...labelled(label) }) } satisfies TextInterpolation);
    }
  }
}
