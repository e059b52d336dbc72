/**
 * Work off the thread that answers requests and event streams, so that no request blocks it:
 * - Heavy requests (a latent map, a report, an upload's anomaly scores, describing data) run in a
 *   job worker each (job-worker.ts). A job is ended, its worker terminated, when it runs past its
 *   time limit (503), when its client goes away, or when the studio stops (close: within a second,
 *   whatever the job is doing).
 * - Light requests (inference with a run's model: decode, denoise, ...) go to one long-lived
 *   inference worker (inference-worker.ts) that keeps the models loaded, one at a time in the
 *   order they came; one whose client went away before its turn is dropped, and one that runs past
 *   its limit ends the worker (the next request starts another).
 */
import type { Worker } from 'node:worker_threads';
import type { Job, JobResult } from './heavy.js';
import type { InferenceRequest } from './inference.js';
import type { InferenceAnswer, InferenceCall, InferenceInput } from './inference-worker.js';
import type { JobInput, JobOutput } from './job-worker.js';
import { HttpError } from './security.js';
import { startWorker } from './worker-start.js';

/** The longest a heavy request may take. */
export const JOB_LIMIT_MS = 120_000;

export class Jobs {
  private readonly running = new Set<Worker>();

  /** `training`: the run that trains now (RunStore.training). */
  constructor(private readonly runsDir: string, private readonly readRoots: readonly string[], private readonly training: () => string | null, private readonly limitMs = JOB_LIMIT_MS) {}

  /** How many jobs are running now. */
  get count(): number {
    return this.running.size;
  }

  run<J extends Job>(job: J, signal?: AbortSignal): Promise<JobResult<J>> {
    if (signal?.aborted === true) return Promise.reject(new HttpError(503, 'The request was cancelled.'));
    const input: JobInput = { job, runsDir: this.runsDir, readRoots: [...this.readRoots], training: this.training() };
    const worker = startWorker('job-worker', input);
    this.running.add(worker);
    return new Promise<JobResult<J>>((resolve, reject) => {
      let settled = false;
      const finish = (then: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.running.delete(worker);
        void worker.terminate();
        then();
      };
      const timer = setTimeout(() => finish(() => reject(new HttpError(503, `This took longer than ${Math.round(this.limitMs / 1000)} s, so the studio stopped it: ask for less (fewer points, PCA instead of UMAP).`))), this.limitMs);
      const onAbort = (): void => finish(() => reject(new HttpError(503, 'The request was cancelled.')));
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.once('message', (out: JobOutput) => finish(() => {
        if ('result' in out) resolve(out.result as JobResult<J>);
        else reject(new HttpError(out.error.status, out.error.message));
      }));
      worker.once('error', (err) => finish(() => reject(new HttpError(500, `The studio failed on this request: ${err.message.split('\n')[0]}`))));
      worker.once('exit', () => finish(() => reject(new HttpError(503, 'The studio stopped this request.'))));
    });
  }

  /** Ends every running job (the studio is stopping). */
  async close(): Promise<void> {
    await Promise.all([...this.running].map((w) => w.terminate()));
    this.running.clear();
  }
}

/** The longest one inference request may take (it waits for the model's test set to load the first time). */
export const INFERENCE_LIMIT_MS = 60_000;

interface Pending {
  request: InferenceRequest;
  signal: AbortSignal | undefined;
  resolve(body: string): void;
  reject(err: HttpError): void;
}

export class Inference {
  private worker: Worker | null = null;
  private readonly queue: Pending[] = [];
  private current: { seq: number; pending: Pending; timer: NodeJS.Timeout } | null = null;
  private seq = 0;
  private closed = false;

  /** `training`: the run that trains now (RunStore.training), whose model is not served. */
  constructor(private readonly runsDir: string, private readonly readRoots: readonly string[], private readonly training: () => string | null, private readonly limitMs = INFERENCE_LIMIT_MS) {}

  /** How many requests wait or run. */
  get count(): number {
    return this.queue.length + (this.current !== null ? 1 : 0);
  }

  /** The response body (JSON text) of `request`. */
  run(request: InferenceRequest, signal?: AbortSignal): Promise<string> {
    if (this.closed) return Promise.reject(new HttpError(503, 'The studio is stopping.'));
    return new Promise<string>((resolve, reject) => {
      this.queue.push({ request, signal, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    while (this.current === null && this.queue.length > 0) {
      const pending = this.queue.shift()!;
      if (pending.signal?.aborted === true) {
        pending.reject(new HttpError(503, 'The request was cancelled.'));
        continue;
      }
      const worker = this.worker ?? this.start();
      const seq = ++this.seq;
      const timer = setTimeout(() => {
        this.fail(new HttpError(503, `This took longer than ${Math.round(this.limitMs / 1000)} s, so the studio stopped it.`));
      }, this.limitMs);
      this.current = { seq, pending, timer };
      worker.postMessage({ seq, request: pending.request, training: this.training() } satisfies InferenceCall);
    }
  }

  private start(): Worker {
    const worker = startWorker('inference-worker', { runsDir: this.runsDir, readRoots: [...this.readRoots] } satisfies InferenceInput);
    worker.on('message', (answer: InferenceAnswer) => {
      const current = this.current;
      if (current === null || current.seq !== answer.seq) return;
      clearTimeout(current.timer);
      this.current = null;
      if ('body' in answer) current.pending.resolve(answer.body);
      else current.pending.reject(new HttpError(answer.error.status, answer.error.message));
      this.next();
    });
    worker.on('error', (err) => {
      if (this.worker === worker) this.fail(new HttpError(500, `The studio failed on this request: ${err.message.split('\n')[0]}`));
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.fail(new HttpError(503, 'The studio stopped this request.'));
    });
    this.worker = worker;
    return worker;
  }

  /** The running request fails with `err` and its worker is ended; the queue goes on with a new one. */
  private fail(err: HttpError): void {
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) void worker.terminate();
    const current = this.current;
    this.current = null;
    if (current !== null) {
      clearTimeout(current.timer);
      current.pending.reject(err);
    }
    if (!this.closed) this.next();
  }

  /** Ends the worker and every waiting request (the studio is stopping). */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    const stopped = new HttpError(503, 'The studio stopped this request.');
    if (this.current !== null) {
      clearTimeout(this.current.timer);
      this.current.pending.reject(stopped);
      this.current = null;
    }
    for (const p of this.queue.splice(0)) p.reject(stopped);
    if (worker !== null) await worker.terminate();
  }
}
