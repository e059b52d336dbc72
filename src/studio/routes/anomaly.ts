/** Anomaly scores of an uploaded CSV or NPY file under a run's model, and the scores as CSV. */
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { RUN_FILES } from '../../run/names.js';
import type { ApiContext } from '../api.js';
import type { AnomalyResult } from '../messages.js';
import { fileInFolder, HttpError } from '../security.js';
import { uploadedFile } from '../uploads.js';
import { anomalyUpload } from './requests.js';

export function anomalyRoutes(ctx: ApiContext): Hono {
  const { runs, jobs } = ctx;
  return new Hono()
    .post('/:id/anomaly', async (c) => {
      const id = c.req.param('id');
      runs.runDir(id);
      const { file, labels, labelColumn, normalClass } = await anomalyUpload(c);
      return c.json<AnomalyResult>(await jobs.run({
        kind: 'anomaly', id, file: await uploadedFile(file),
        ...(labels !== undefined ? { labels: await uploadedFile(labels) } : {}),
        ...(labelColumn !== undefined ? { labelColumn } : {}),
        ...(normalClass !== undefined ? { normalClass } : {}),
      }, c.req.raw.signal));
    })
    .get('/:id/anomaly/scores.csv', (c) => {
      const dir = runs.runDir(c.req.param('id'));
      const path = fileInFolder(dir, RUN_FILES.studioScores);
      if (path === null) throw new HttpError(404, 'This run has scored no data yet: POST a file to its anomaly endpoint first.');
      const text = readFileSync(path, 'utf8');
      c.header('Content-Type', 'text/csv; charset=utf-8');
      c.header('Content-Disposition', `attachment; filename="${c.req.param('id')}-scores.csv"`);
      return c.body(text);
    });
}
