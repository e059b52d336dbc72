/**
 * The studio's JSON API (docs/studio.md), composed of its routers (routes/): info and data,
 * runs, a run's files, inference with a run's model (an image or table model's, a text model's,
 * a series model's),
 * anomaly scores. Their request and response
 * bodies are the types of messages.ts; a refusal is an HttpError, which the server's one error
 * handler answers with its status and { error } (server.ts).
 */
import { Hono } from 'hono';
import type { Inference, Jobs } from './jobs.js';
import type { Models } from './models.js';
import { anomalyRoutes } from './routes/anomaly.js';
import { fileRoutes } from './routes/files.js';
import { infoRoutes } from './routes/info.js';
import { modelRoutes } from './routes/model.js';
import { runRoutes } from './routes/runs.js';
import { seriesRoutes } from './routes/series.js';
import { textRoutes } from './routes/text.js';
import type { RunStore } from './runs.js';

/** What every router needs. */
export interface ApiContext {
  runs: RunStore;
  models: Models;
  /** Heavy work (maps, reports), each in a worker of its own. */
  jobs: Jobs;
  /** Inference with a run's model, in the inference worker, one request at a time. */
  inference: Inference;
  /** Real paths of the folders data may come from (the data roots and the runs folder). */
  readRoots: string[];
  dataRoots: string[];
  version: string;
  /** Called with a closer for each open event stream (the server ends them on close). */
  track(close: () => void): () => void;
}

export function apiRoutes(ctx: ApiContext): Hono {
  return new Hono()
    .route('/', infoRoutes(ctx))
    .route('/runs', runRoutes(ctx))
    .route('/runs', fileRoutes(ctx))
    .route('/runs', modelRoutes(ctx))
    .route('/runs', textRoutes(ctx))
    .route('/runs', seriesRoutes(ctx))
    .route('/runs', anomalyRoutes(ctx));
}
