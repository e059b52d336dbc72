/**
 * A job worker (jobs.ts): one heavy request's work, on its own thread, from the run folder's files.
 * It answers { result } or { error: { status, message } } and is ended when done, when it runs past
 * its time, when its client goes away or when the studio stops.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { VaekitError } from '../errors.js';
import { runJob, type Job } from './heavy.js';
import { Models } from './models.js';
import { RunStore } from './runs.js';
import { HttpError, type HttpStatus } from './security.js';

export interface JobInput {
  job: Job;
  runsDir: string;
  readRoots: string[];
}

export type JobOutput = { result: unknown } | { error: { status: HttpStatus; message: string } };

const input = workerData as JobInput;
const runs = new RunStore(input.runsDir, input.readRoots, () => undefined);
const models = new Models(runs, input.readRoots);
let output: JobOutput;
try {
  output = { result: await runJob(models, input.job) };
} catch (err) {
  if (err instanceof HttpError) output = { error: { status: err.status, message: err.message } };
  else if (err instanceof VaekitError) output = { error: { status: 400, message: err.message } };
  else output = { error: { status: 500, message: `The studio failed on this request: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}` } };
}
parentPort!.postMessage(output);
