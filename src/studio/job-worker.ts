/**
 * A job worker (jobs.ts): one heavy request's work, on its own thread, from the run folder's files.
 * It answers { result } or { error: { status, message } } and is ended when done, when it runs past
 * its time, when its client goes away or when the studio stops.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runJob, type Job } from './heavy.js';
import { Models } from './models.js';
import { RunStore } from './runs.js';
import { workerError, type HttpStatus } from './security.js';

export interface JobInput {
  job: Job;
  runsDir: string;
  readRoots: string[];
  /** The run that trains now, as the server knew it when the job started. */
  training: string | null;
}

export type JobOutput = { result: unknown } | { error: { status: HttpStatus; message: string } };

const input = workerData as JobInput;
const runs = new RunStore(input.runsDir, input.readRoots, () => undefined);
const models = new Models(runs, input.readRoots, () => input.training);
let output: JobOutput;
try {
  output = { result: await runJob(models, input.job) };
} catch (err) {
  output = { error: workerError(err) };
}
parentPort!.postMessage(output);
