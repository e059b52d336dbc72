/**
 * Starts one of the studio's worker modules (train-worker, job-worker, inference-worker) on a thread: the built .js
 * beside this file (dist/studio), else (tsx: tests, development) the .ts file with tsx registered in
 * the worker.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export function startWorker(name: 'train-worker' | 'job-worker' | 'inference-worker', workerData: unknown): Worker {
  const js = new URL(`./${name}.js`, import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData });
  const ts = new URL(`./${name}.ts`, import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(ts)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { workerData });
}
