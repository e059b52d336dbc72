/**
 * Starts one of the studio's worker modules (train-worker, job-worker, inference-worker) on a thread:
 * the built .js beside this file (dist/studio), else (tsx: tests, development) the .ts file
 * (engine/node.ts' startModuleWorker).
 */
import type { Worker } from 'node:worker_threads';
import { nodeBuiltins, startModuleWorker } from '../engine/node.js';

export function startWorker(name: 'train-worker' | 'job-worker' | 'inference-worker', workerData: unknown): Worker {
  return startModuleWorker(nodeBuiltins()!, import.meta.url, name, workerData);
}
