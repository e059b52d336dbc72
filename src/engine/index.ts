/**
 * Backend selection. The native addon is used when it is built; VAEKIT_BACKEND=js forces the js
 * backend and VAEKIT_BACKEND=native makes a missing addon an error instead of a fallback.
 */
import type { Backend } from './backend.js';
import { JsBackend } from './js-backend.js';
import { loadNativeBackend } from './native-backend.js';
import { VaekitError } from '../errors.js';

let current: Backend | undefined;

/**
 * What the js backend is for, said when a command runs on it: it is the reference the native kernels
 * are tested against and the path the studio's browser code takes, not a fast path.
 */
export const JS_BACKEND_NOTE = 'the js backend is the reference implementation and the browser\'s path: plain TypeScript on one thread, '
  + 'many times slower than the native addon (unset VAEKIT_BACKEND to use it); training\'s test evaluation scores one posterior sample per example on it, not ten';

export function getBackend(): Backend {
  if (current === undefined) current = selectBackend((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['VAEKIT_BACKEND']);
  return current;
}

/** Replaces the process-wide backend (tests and benchmarks compare the two). */
export function setBackend(backend: Backend): void {
  current = backend;
}

export function selectBackend(requested: string | undefined): Backend {
  const choice = requested === undefined || requested === '' ? 'auto' : requested;
  const threads = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['VAEKIT_THREADS'];
  if (threads !== undefined && threads !== '' && !(/^\d+$/.test(threads) && Number(threads) >= 1 && Number(threads) <= 256)) {
    throw new VaekitError(`VAEKIT_THREADS must be a whole number from 1 to 256, not "${threads}".`);
  }
  if (choice === 'js') return new JsBackend(JS_BACKEND_NOTE);
  if (choice !== 'native' && choice !== 'auto') {
    throw new VaekitError(`VAEKIT_BACKEND must be "js", "native" or "auto", not "${choice}".`);
  }
  try {
    return loadNativeBackend();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (choice === 'native') {
      throw new VaekitError(`The native backend was requested but could not be loaded (${reason}); run "npm run build" to build it.`);
    }
    return new JsBackend(`native addon not loaded (${reason}); ${JS_BACKEND_NOTE}`);
  }
}

export { JsBackend } from './js-backend.js';
export { Random } from './random.js';
export { Tensor } from './tensor.js';
export type { Activation, Backend, BackendInfo } from './backend.js';
