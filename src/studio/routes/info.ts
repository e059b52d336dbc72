/** GET /api/info (the studio, its backend, the running training), GET /api/events (every run's changes, pushed) and POST /api/data/describe (what a data spec holds). */
import { Hono } from 'hono';
import { getBackend } from '../../engine/index.js';
import { PRESETS } from '../../vae/config.js';
import type { ApiContext } from '../api.js';
import type { DataDescription, DescribeRequest, Info, RunChange } from '../messages.js';
import { describeRequest, jsonBody } from './requests.js';
import { eventStream } from './stream.js';

export function infoRoutes(ctx: ApiContext): Hono {
  const { runs } = ctx;
  return new Hono()
    .get('/info', (c) => {
      const b = getBackend().info();
      // The Train form trains images and tables: the series presets (which need series data) are not offered there.
      return c.json<Info>({
        version: ctx.version, backend: { backend: b.backend, blas: b.blas, threads: b.threads, bf16: b.bf16.available, bf16Reason: b.bf16.reason ?? null },
        runsDir: runs.runsDir, dataRoots: ctx.dataRoots, presets: Object.keys(PRESETS).filter((name) => PRESETS[name]!.sequence === null), training: runs.training, jobs: ctx.jobs.count, inference: ctx.inference.count,
      });
    })
    .get('/events', (c) => eventStream<{ event: 'run'; data: RunChange }>(c, ctx, (push) => runs.watch((change) => push({ event: 'run', data: change }))))
    .post('/data/describe', async (c) => {
      const request = describeRequest(await jsonBody<DescribeRequest>(c), ctx.readRoots);
      return c.json<DataDescription>(await ctx.jobs.run({ kind: 'describe', request }, c.req.raw.signal));
    });
}
