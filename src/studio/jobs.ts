/**
 * Heavy requests (a latent map, a report) run in a job worker each (job-worker.ts), so the thread
 * that answers requests and event streams is never blocked by one. A job is ended, its worker
 * terminated, when it runs past its time limit (503), when its client goes away, or when the studio
 * stops (close: within a second, whatever the job is doing).
 */
import type { Worker } from 'node:worker_threads';
import type { Job, JobResult } from './heavy.js';
import type { JobInput, JobOutput } from './job-worker.js';
import { HttpError } from './security.js';
import { startWorker } from './worker-start.js';

/** The longest a heavy request may take. */
export const JOB_LIMIT_MS = 120_000;

export class Jobs {
  private readonly running = new Set<Worker>();

  constructor(private readonly runsDir: string, private readonly readRoots: readonly string[], private readonly limitMs = JOB_LIMIT_MS) {}

  /** How many jobs are running now. */
  get count(): number {
    return this.running.size;
  }

  run<J extends Job>(job: J, signal?: AbortSignal): Promise<JobResult<J>> {
    if (signal?.aborted === true) return Promise.reject(new HttpError(503, 'The request was cancelled.'));
    const input: JobInput = { job, runsDir: this.runsDir, readRoots: [...this.readRoots] };
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
