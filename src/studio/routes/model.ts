/**
 * Inference with a run's model: its validation examples, prior samples, encode, decode, denoise
 * and the KL ranking of its latent dimensions, in the inference worker (inference.ts computes;
 * its answer, JSON text, is sent as it comes); the 2-D map of its latent space, in a job worker.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { PROJECTION_METHODS, UMAP_MAX_POINTS, type ProjectionMethod } from '../../latent/map.js';
import type { ApiContext } from '../api.js';
import type { InferenceRequest } from '../inference.js';
import type { LatentMap, LatentMapQuery } from '../messages.js';
import { HttpError } from '../security.js';
import { queryInt, queryText } from './requests.js';

export function modelRoutes(ctx: ApiContext): Hono {
  const { runs, jobs, inference } = ctx;
  const answer = async (c: Context, request: InferenceRequest): Promise<Response> => {
    runs.runDir(request.id);
    return c.body(await inference.run(request, c.req.raw.signal), 200, { 'Content-Type': 'application/json; charset=UTF-8' });
  };
  return new Hono()
    .get('/:id/examples', (c) => answer(c, { kind: 'examples', id: c.req.param('id'), query: c.req.query() }))
    .get('/:id/samples', (c) => answer(c, { kind: 'samples', id: c.req.param('id'), query: c.req.query() }))
    .post('/:id/encode', async (c) => answer(c, { kind: 'encode', id: c.req.param('id'), body: await c.req.text() }))
    .post('/:id/decode', async (c) => answer(c, { kind: 'decode', id: c.req.param('id'), body: await c.req.text() }))
    .post('/:id/denoise', async (c) => answer(c, { kind: 'denoise', id: c.req.param('id'), body: await c.req.text() }))
    .get('/:id/kl-ranking', (c) => answer(c, { kind: 'kl-ranking', id: c.req.param('id') }))
    .get('/:id/latent-map', async (c) => {
      const id = c.req.param('id');
      runs.runDir(id);
      const method = queryText<LatentMapQuery>(c, 'method') ?? 'pca';
      if (!(PROJECTION_METHODS as readonly string[]).includes(method)) throw new HttpError(400, `"method" must be ${PROJECTION_METHODS.join(' or ')}.`);
      const limit = queryInt<LatentMapQuery>(c, 'limit', 2, UMAP_MAX_POINTS, 2000);
      return c.json<LatentMap>(await jobs.run({ kind: 'latent-map', id, method: method as ProjectionMethod, limit }, c.req.raw.signal));
    });
}
