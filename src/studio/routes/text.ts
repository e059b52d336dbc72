/**
 * Inference with a text run's model, for the Text page: reconstruct a typed sentence, the training
 * sentences nearest it by code, samples from the prior, and an interpolation between two
 * sentences. Each goes to the inference worker (text-inference.ts computes; its answer, JSON text,
 * is sent as it comes), as the image models' requests do (routes/model.ts).
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { ApiContext } from '../api.js';
import type { TextInferenceRequest } from '../text-inference.js';

export function textRoutes(ctx: ApiContext): Hono {
  const { runs, inference } = ctx;
  const answer = async (c: Context, request: TextInferenceRequest): Promise<Response> => {
    runs.runDir(request.id);
    return c.body(await inference.run(request, c.req.raw.signal), 200, { 'Content-Type': 'application/json; charset=UTF-8' });
  };
  return new Hono()
    .post('/:id/text/reconstruct', async (c) => answer(c, { kind: 'text-reconstruct', id: c.req.param('id'), body: await c.req.text() }))
    .post('/:id/text/nearest', async (c) => answer(c, { kind: 'text-nearest', id: c.req.param('id'), body: await c.req.text() }))
    .get('/:id/text/samples', (c) => answer(c, { kind: 'text-samples', id: c.req.param('id'), query: c.req.query() }))
    .post('/:id/text/interpolate', async (c) => answer(c, { kind: 'text-interpolate', id: c.req.param('id'), body: await c.req.text() }));
}
