/**
 * Scoring a time series with a series run's model, for the Series page: a series file (or folder) on
 * this machine, inside the studio's data folders, or an upload. The inference worker reads and
 * scores it (series-inference.ts computes; its answer, JSON text, is sent as it comes), as the text
 * models' requests are (routes/text.ts).
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { ApiContext } from '../api.js';
import type { SeriesScoreRequest } from '../messages.js';
import type { SeriesInferenceRequest } from '../series-inference.js';
import { uploadedFile } from '../uploads.js';
import { jsonBody, seriesScoreRequest, seriesUpload } from './requests.js';

/** The path of the upload route (the server lets multipart bodies, up to its upload limit, through to it). */
export const SERIES_UPLOAD_PATH = /\/series\/upload$/;

export function seriesRoutes(ctx: ApiContext): Hono {
  const { runs, inference, readRoots } = ctx;
  const answer = async (c: Context, request: SeriesInferenceRequest): Promise<Response> => {
    return c.body(await inference.run(request, c.req.raw.signal), 200, { 'Content-Type': 'application/json; charset=UTF-8' });
  };
  return new Hono()
    .post('/:id/series/score', async (c) => {
      const id = c.req.param('id');
      runs.runDir(id);
      const { path, labelColumn } = seriesScoreRequest(await jsonBody<SeriesScoreRequest>(c), readRoots);
      return answer(c, { kind: 'series-score', id, source: { path }, ...(labelColumn !== undefined ? { labelColumn } : {}) });
    })
    .post('/:id/series/upload', async (c) => {
      const id = c.req.param('id');
      runs.runDir(id);
      const { file, labelColumn } = await seriesUpload(c);
      return answer(c, { kind: 'series-score', id, source: { file: await uploadedFile(file) }, ...(labelColumn !== undefined ? { labelColumn } : {}) });
    });
}
