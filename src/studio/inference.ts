/**
 * Inference with a run's model, as the inference worker (inference-worker.ts) computes it: its
 * validation examples, prior samples, encode, decode, denoise and the KL ranking of its latent
 * dimensions; a text model's requests are text-inference.ts's, a series model's series-inference.ts's. Each takes the request as it arrived (its body or query, still unchecked: checking
 * needs the model) and answers the response's JSON text, so the thread that answers requests only
 * passes text along. The routes (routes/model.ts) say which; this computes.
 */
import { arrayDataset } from '../data/dataset.js';
import { Tensor } from '../engine/tensor.js';
import { rankLatentDimensions } from '../latent/traverse.js';
import { denoiseDataset } from '../pipelines/denoise.js';
import { classIndex } from '../run/data.js';
import type { Vae } from '../vae/model.js';
import type {
  DecodeRequest, Denoised, DenoiseRequest, Encoded, EncodeRequest, Examples, ExamplesQuery, Images, KlRanking, SamplesQuery,
} from './messages.js';
import type { Models } from './models.js';
import { decodeRequest, denoiseRequest, encodeRequest, parseBody, queryNumber, type Query } from './routes/requests.js';
import { HttpError, MAX_ROWS } from './security.js';
import { seriesInferenceOf, type SeriesInferenceRequest } from './series-inference.js';
import { textInferenceOf, type TextInferenceRequest } from './text-inference.js';

export type InferenceRequest =
  | { kind: 'examples'; id: string; query: Query<ExamplesQuery> }
  | { kind: 'samples'; id: string; query: Query<SamplesQuery> }
  // Bodies as sent (JSON text), parsed here: a large one is parsed off the request thread.
  | { kind: 'encode'; id: string; body: string }
  | { kind: 'decode'; id: string; body: string }
  | { kind: 'denoise'; id: string; body: string }
  | { kind: 'kl-ranking'; id: string }
  | TextInferenceRequest
  | SeriesInferenceRequest;

function rowsOf(values: Float32Array, rows: number, width: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from(values.subarray(r * width, (r + 1) * width)));
}

/** The shape images travel with: [H, W, C] for images, [D] for features. */
function shapeOf(vae: Vae): number[] {
  return [...vae.config.inputShape];
}

/** The response body (JSON text) of one inference request. */
export async function inferenceOf(models: Models, r: InferenceRequest): Promise<string> {
  switch (r.kind) {
    case 'examples': {
      const { set, bundle } = await models.testSet(r.id);
      const start = queryNumber(r.query, 'start', 0, Math.max(0, set.count - 1), 0);
      const count = Math.min(queryNumber(r.query, 'count', 1, MAX_ROWS, 16), set.count - start);
      const values = new Float32Array(count * set.size);
      set.gather(null, start, count, values);
      return JSON.stringify({
        images: rowsOf(values, count, set.size),
        labels: set.labels === null ? null : Array.from(set.labels.subarray(start, start + count)),
        labelNames: set.labelNames === null ? null : [...set.labelNames],
        shape: shapeOf(bundle.vae),
      } satisfies Examples);
    }
    case 'samples': {
      const { bundle } = models.bundle(r.id);
      const vae = bundle.vae;
      const count = queryNumber(r.query, 'count', 1, MAX_ROWS, 16);
      const seed = queryNumber(r.query, 'seed', 0, 0xffffffff, 0);
      const name = r.query.label;
      if (name !== undefined && name !== '' && vae.classes === 0) throw new HttpError(400, 'This model is not conditional: it takes no label.');
      const label = name === undefined || name === '' ? undefined : classIndex(bundle.data, vae.classes, name);
      const images = vae.sample(count, seed, label);
      return JSON.stringify({ images: rowsOf(images.data, count, vae.pixels), shape: shapeOf(vae) } satisfies Images);
    }
    case 'encode': {
      const vae = models.bundle(r.id).bundle.vae;
      const { values, rows, labels } = encodeRequest(parseBody<EncodeRequest>(r.body), vae);
      const { mean, logvar } = vae.encode(new Tensor(values, [rows, vae.pixels]), labels);
      return JSON.stringify({ mean: rowsOf(mean.data, rows, vae.latent), logvar: rowsOf(logvar.data, rows, vae.latent) } satisfies Encoded);
    }
    case 'decode': {
      const vae = models.bundle(r.id).bundle.vae;
      const { values, rows, labels } = decodeRequest(parseBody<DecodeRequest>(r.body), vae);
      const images = vae.decode(new Tensor(values, [rows, vae.latent]), labels);
      return JSON.stringify({ images: rowsOf(images.data, rows, vae.pixels), shape: shapeOf(vae) } satisfies Images);
    }
    case 'denoise': {
      const vae = models.bundle(r.id).bundle.vae;
      const { values, rows, labels, noise, seed } = denoiseRequest(parseBody<DenoiseRequest>(r.body), vae);
      const classes = Math.max(vae.classes, 1);
      const set = arrayDataset({
        values, shape: vae.config.inputShape, source: 'the request',
        ...(labels !== null ? { labels, labelNames: Array.from({ length: classes }, (_, i) => String(i)) } : {}),
      });
      const out = denoiseDataset(vae, set, { noise, seed });
      return JSON.stringify({ noisy: rowsOf(out.noisy, rows, vae.pixels), denoised: rowsOf(out.denoised, rows, vae.pixels), shape: shapeOf(vae) } satisfies Denoised);
    }
    case 'kl-ranking': {
      const { set, bundle } = await models.testSet(r.id);
      const ranking = rankLatentDimensions(bundle.vae, set, { binarize: bundle.training['binarize'] === true, seed: Number(bundle.training['seed'] ?? 0) || 0 });
      return JSON.stringify({
        dims: ranking.dimensions.map((d) => ({ dim: d.dim, kl: d.kl, inactive: !d.active })),
        examples: ranking.examples, klToPrior: ranking.klToPrior,
      } satisfies KlRanking);
    }
    case 'text-reconstruct':
    case 'text-nearest':
    case 'text-samples':
    case 'text-interpolate':
      return textInferenceOf(models, r);
    case 'series-score':
      return seriesInferenceOf(models, r);
  }
}
