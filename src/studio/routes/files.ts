/** A run's files (a stopped run's model files made from its newest checkpoint), its HTML report and its exports as zips. */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Hono } from 'hono';
import { EXPORT_FORMATS, type ExportFormat } from '../../export/index.js';
import { encodeBundle } from '../../run/bundle-format.js';
import { RUN_FILES } from '../../run/names.js';
import type { ApiContext } from '../api.js';
import type { Models, RunModel } from '../models.js';
import { checkFileName, fileInFolder, HttpError } from '../security.js';

const FILE_TYPES: Record<string, string> = {
  '.json': 'application/json', '.jsonl': 'application/x-ndjson', '.png': 'image/png', '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8', '.md': 'text/markdown; charset=utf-8', '.csv': 'text/csv; charset=utf-8',
  '.safetensors': 'application/octet-stream', '.txt': 'text/plain; charset=utf-8',
};

/** Pages and files of a run are shown as they are, never run: no scripts, no requests elsewhere. */
const SANDBOX = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'";

/** A stopped run's bundle files, made from its newest checkpoint (the folder gets a bundle only when training completes). */
function checkpointFile(models: Models, id: string, name: string): Uint8Array<ArrayBuffer> {
  const missing = new HttpError(404, `The run has no file "${name}".`);
  if (name !== RUN_FILES.config && name !== RUN_FILES.weights) throw missing;
  let model: RunModel;
  try {
    model = models.bundle(id);
  } catch {
    throw missing;
  }
  if (model.checkpoint === null) throw missing;
  const files = encodeBundle(model.bundle.vae, model.bundle.training, model.bundle.data);
  return new Uint8Array(name === RUN_FILES.config ? new TextEncoder().encode(files.config) : files.weights);
}

export function fileRoutes(ctx: ApiContext): Hono {
  const { runs, models, jobs } = ctx;
  return new Hono()
    .get('/:id/files/:name', (c) => {
      const dir = runs.runDir(c.req.param('id'));
      const name = checkFileName(c.req.param('name'));
      const path = fileInFolder(dir, name);
      const bytes = path !== null ? new Uint8Array(readFileSync(path)) : checkpointFile(models, c.req.param('id'), name);
      c.header('Content-Type', FILE_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream');
      c.header('Content-Security-Policy', SANDBOX);
      if (!(extname(name).toLowerCase() in FILE_TYPES)) c.header('Content-Disposition', `attachment; filename="${name}"`);
      return c.body(bytes);
    })
    .get('/:id/report', async (c) => {
      const id = c.req.param('id');
      runs.runDir(id);
      const html = await jobs.run({ kind: 'report', id }, c.req.raw.signal);
      c.header('Content-Security-Policy', SANDBOX);
      return c.html(html);
    })
    .get('/:id/export/:format', async (c) => {
      const id = c.req.param('id');
      const format = c.req.param('format');
      if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new HttpError(404, `There is no export format "${format}": use ${EXPORT_FORMATS.join(', ')}.`);
      // Checked here (a training run's model is not served: 409), made in a job worker.
      models.bundle(id);
      const zip = await jobs.run({ kind: 'export', id, format: format as ExportFormat }, c.req.raw.signal);
      c.header('Content-Type', 'application/zip');
      c.header('Content-Disposition', `attachment; filename="${id}-${format}.zip"`);
      return c.body(new Uint8Array(zip));
    });
}
