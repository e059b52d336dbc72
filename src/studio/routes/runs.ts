/**
 * The runs: list, start (a run spec, checked by the library's validateRunSpec alone), details,
 * the event stream, stop and resume.
 */
import { join } from 'node:path';
import { Hono } from 'hono';
import { SpecFieldError, validateRunSpec, type RunSpec } from '../../run/spec.js';
import type { ApiContext } from '../api.js';
import type { NewRun, RunDetail, RunEvent, RunList, RunStarted, RunStopped } from '../messages.js';
import { confineRunData, HttpError } from '../security.js';
import { formFieldOf } from '../words.js';
import { isObject, jsonBody, optString, type Unchecked } from './requests.js';
import { eventStream } from './stream.js';

/**
 * The run spec of a NewRun, checked by the library's one validation, with the studio's own
 * settings: data paths confined to the data folders, the run folder its own, a checkpoint every
 * epoch. A refused field is named as the form names it.
 */
export function runSpecOf(b: Unchecked<NewRun>, roots: readonly string[], runDir: string): RunSpec {
  const given = b.spec;
  if (!isObject(given)) throw new HttpError(400, '"spec" must be a run spec (an object with data, model, objective, training, noise and seed).');
  let spec: RunSpec;
  try {
    spec = validateRunSpec({ ...given, outputs: { dir: runDir, figures: false } });
  } catch (err) {
    if (err instanceof SpecFieldError) throw new HttpError(400, `${formFieldOf(err.field) ?? err.field} ${err.detail}`);
    throw err;
  }
  return {
    ...spec,
    data: confineRunData(spec.data, roots),
    training: { ...spec.training, checkpoint: { everyEpochs: 1, everySteps: null, everySeconds: null } },
  };
}

export function runRoutes(ctx: ApiContext): Hono {
  const { runs } = ctx;
  return new Hono()
    .get('/', (c) => c.json<RunList>({ runs: runs.list() }))
    .post('/', async (c) => {
      const body = await jsonBody<NewRun>(c);
      const id = runs.newId(optString(body, 'name'));
      await runs.start(runSpecOf(body, ctx.readRoots, join(runs.runsDir, id)), id);
      return c.json<RunStarted>({ id }, 201);
    })
    .get('/:id', (c) => c.json<RunDetail>(runs.details(c.req.param('id'))))
    .get('/:id/events', (c) => {
      const id = c.req.param('id');
      runs.runDir(id);
      return eventStream<RunEvent>(c, ctx, (push) => runs.subscribe(id, push), (e) => e.event === 'end');
    })
    .post('/:id/stop', async (c) => {
      const status = await runs.stop(c.req.param('id'));
      return c.json<RunStopped>({ status }, 202);
    })
    .post('/:id/resume', async (c) => {
      const id = await runs.resume(c.req.param('id'));
      return c.json<RunStarted>({ id }, 202);
    });
}
