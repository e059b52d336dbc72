/**
 * The inference worker (jobs.ts, Inference): one long-lived thread that answers the light
 * requests with a run's model (inference.ts), one at a time, keeping the models it loaded. The
 * server sends { seq, request, training } and gets { seq, body } (the response's JSON text) or
 * { seq, error }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { inferenceOf, type InferenceRequest } from './inference.js';
import { Models } from './models.js';
import { RunStore } from './runs.js';
import { workerError, type HttpStatus } from './security.js';

export interface InferenceInput {
  runsDir: string;
  readRoots: string[];
}

export interface InferenceCall {
  seq: number;
  request: InferenceRequest;
  /** The run that trains now, as the server knows it (its model is not served until it ends). */
  training: string | null;
}

export type InferenceAnswer = { seq: number; body: string } | { seq: number; error: { status: HttpStatus; message: string } };

const input = workerData as InferenceInput;
let training: string | null = null;
const runs = new RunStore(input.runsDir, input.readRoots, () => undefined);
const models = new Models(runs, input.readRoots, () => training);
const port = parentPort!;
port.on('message', (call: InferenceCall) => {
  training = call.training;
  void inferenceOf(models, call.request).then(
    (body) => port.postMessage({ seq: call.seq, body } satisfies InferenceAnswer),
    (err: unknown) => port.postMessage({ seq: call.seq, error: workerError(err) } satisfies InferenceAnswer),
  );
});
