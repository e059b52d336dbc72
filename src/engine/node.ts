/**
 * Node's built-in modules for the library's core, fetched at run time rather than imported: the
 * core must bundle for a browser, where neither the native addon nor worker threads exist and
 * nothing here is called. process.getBuiltinModule needs Node 20.16.
 */
import type * as NodeFs from 'node:fs';
import type * as NodeModule from 'node:module';
import type * as NodePath from 'node:path';
import type * as NodeUrl from 'node:url';
import type * as NodeWorkers from 'node:worker_threads';

export interface NodeBuiltins {
  fs: typeof NodeFs;
  module: typeof NodeModule;
  path: typeof NodePath;
  url: typeof NodeUrl;
  workers: typeof NodeWorkers;
}

/** Node's modules, or null outside Node (a browser) and before Node 20.16. */
export function nodeBuiltins(): NodeBuiltins | null {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof get !== 'function') return null;
  return {
    fs: get('node:fs') as typeof NodeFs,
    module: get('node:module') as typeof NodeModule,
    path: get('node:path') as typeof NodePath,
    url: get('node:url') as typeof NodeUrl,
    workers: get('node:worker_threads') as typeof NodeWorkers,
  };
}

/**
 * Starts the module `name` beside `base` (the caller's import.meta.url) on a worker thread: the
 * built .js where there is one (dist/), else (tsx: tests, development) the .ts with tsx registered
 * in the worker.
 */
export function startModuleWorker(node: NodeBuiltins, base: string, name: string, workerData: unknown): NodeWorkers.Worker {
  const js = new URL(`./${name}.js`, base);
  if (node.fs.existsSync(node.url.fileURLToPath(js))) return new node.workers.Worker(js, { workerData });
  const ts = new URL(`./${name}.ts`, base).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(ts)});`;
  return new node.workers.Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { workerData });
}
