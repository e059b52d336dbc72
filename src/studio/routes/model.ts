/**
 * Inference with a run's model: its validation examples, prior samples, encode, decode, denoise,
 * the KL ranking of its latent dimensions and the 2-D map of its latent space.
 */
import { Hono } from 'hono';
import { arrayDataset } from '../../data/dataset.js';
import { Tensor } from '../../engine/tensor.js';
import { PROJECTION_METHODS, UMAP_MAX_POINTS, type ProjectionMethod } from '../../latent/map.js';
import { rankLatentDimensions } from '../../latent/traverse.js';
import { denoiseDataset } from '../../pipelines/denoise.js';
import { classIndex } from '../../run/data.js';
import type { Vae } from '../../vae/model.js';
import type { ApiContext } from '../api.js';
import type {
  DecodeRequest, Denoised, DenoiseRequest, Encoded, EncodeRequest, Examples, ExamplesQuery, Images, KlRanking, LatentMap, LatentMapQuery, SamplesQuery,
} from '../messages.js';
import { HttpError, MAX_ROWS } from '../security.js';
import { decodeRequest, denoiseRequest, encodeRequest, jsonBody, queryInt, queryText } from './requests.js';

function rowsOf(values: Float32Array, rows: number, width: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from(values.subarray(r * width, (r + 1) * width)));
}

/** The shape images travel with: [H, W, C] for images, [D] for features. */
function shapeOf(vae: Vae): number[] {
  return [...vae.config.inputShape];
}

export function modelRoutes(ctx: ApiContext): Hono {
  const { models, runs, jobs } = ctx;
  return new Hono()
    .get('/:id/examples', async (c) => {
      const { set, bundle } = await models.testSet(c.req.param('id'));
      const start = queryInt<ExamplesQuery>(c, 'start', 0, Math.max(0, set.count - 1), 0);
      const count = Math.min(queryInt<ExamplesQuery>(c, 'count', 1, MAX_ROWS, 16), set.count - start);
      const values = new Float32Array(count * set.size);
      set.gather(null, start, count, values);
      return c.json<Examples>({
        images: rowsOf(values, count, set.size),
        labels: set.labels === null ? null : Array.from(set.labels.subarray(start, start + count)),
        labelNames: set.labelNames === null ? null : [...set.labelNames],
        shape: shapeOf(bundle.vae),
      });
    })
    .get('/:id/samples', (c) => {
      const { bundle } = models.bundle(c.req.param('id'));
      const vae = bundle.vae;
      const count = queryInt<SamplesQuery>(c, 'count', 1, MAX_ROWS, 16);
      const seed = queryInt<SamplesQuery>(c, 'seed', 0, 0xffffffff, 0);
      const name = queryText<SamplesQuery>(c, 'label');
      if (name !== undefined && name !== '' && vae.classes === 0) throw new HttpError(400, 'This model is not conditional: it takes no label.');
      const label = name === undefined || name === '' ? undefined : classIndex(bundle.data, vae.classes, name);
      const images = vae.sample(count, seed, label);
      return c.json<Images>({ images: rowsOf(images.data, count, vae.pixels), shape: shapeOf(vae) });
    })
    .post('/:id/encode', async (c) => {
      const b = await jsonBody<EncodeRequest>(c);
      const vae = models.bundle(c.req.param('id')).bundle.vae;
      const { values, rows, labels } = encodeRequest(b, vae);
      const { mean, logvar } = vae.encode(new Tensor(values, [rows, vae.pixels]), labels);
      return c.json<Encoded>({ mean: rowsOf(mean.data, rows, vae.latent), logvar: rowsOf(logvar.data, rows, vae.latent) });
    })
    .post('/:id/decode', async (c) => {
      const b = await jsonBody<DecodeRequest>(c);
      const vae = models.bundle(c.req.param('id')).bundle.vae;
      const { values, rows, labels } = decodeRequest(b, vae);
      const images = vae.decode(new Tensor(values, [rows, vae.latent]), labels);
      return c.json<Images>({ images: rowsOf(images.data, rows, vae.pixels), shape: shapeOf(vae) });
    })
    .post('/:id/denoise', async (c) => {
      const b = await jsonBody<DenoiseRequest>(c);
      const vae = models.bundle(c.req.param('id')).bundle.vae;
      const { values, rows, labels, noise, seed } = denoiseRequest(b, vae);
      const classes = Math.max(vae.classes, 1);
      const set = arrayDataset({
        values, shape: vae.config.inputShape, source: 'the request',
        ...(labels !== null ? { labels, labelNames: Array.from({ length: classes }, (_, i) => String(i)) } : {}),
      });
      const out = denoiseDataset(vae, set, { noise, seed });
      return c.json<Denoised>({ noisy: rowsOf(out.noisy, rows, vae.pixels), denoised: rowsOf(out.denoised, rows, vae.pixels), shape: shapeOf(vae) });
    })
    .get('/:id/kl-ranking', async (c) => {
      const { set, bundle } = await models.testSet(c.req.param('id'));
      const ranking = rankLatentDimensions(bundle.vae, set, { binarize: bundle.training['binarize'] === true, seed: Number(bundle.training['seed'] ?? 0) || 0 });
      return c.json<KlRanking>({
        dims: ranking.dimensions.map((d) => ({ dim: d.dim, kl: d.kl, inactive: !d.active })),
        examples: ranking.examples, klToPrior: ranking.klToPrior,
      });
    })
    .get('/:id/latent-map', async (c) => {
      const id = c.req.param('id');
      runs.runDir(id);
      const method = queryText<LatentMapQuery>(c, 'method') ?? 'pca';
      if (!(PROJECTION_METHODS as readonly string[]).includes(method)) throw new HttpError(400, `"method" must be ${PROJECTION_METHODS.join(' or ')}.`);
      const limit = queryInt<LatentMapQuery>(c, 'limit', 2, UMAP_MAX_POINTS, 2000);
      return c.json<LatentMap>(await jobs.run({ kind: 'latent-map', id, method: method as ProjectionMethod, limit }, c.req.raw.signal));
    });
}
