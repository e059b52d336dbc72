// Driving vaekit studio from a test: the web UI built, the studio's API called from the test's own
// process (with the session token as a Bearer token), a run waited for, a condition polled.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Studio } from '../../src/studio/server.js';

const ROOT = join(import.meta.dirname, '..', '..');
const WEB_INDEX = join(ROOT, 'dist', 'web', 'index.html');

/** The UI as `npm test` builds it before the tests; built here with vite's API when a test runs alone on a fresh checkout. */
export async function ensureWebBuilt(): Promise<void> {
  if (existsSync(WEB_INDEX)) return;
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'web', 'vite.config.ts'), logLevel: 'warn' });
  assert.ok(existsSync(WEB_INDEX), 'vite built dist/web/index.html');
}

/** Polls `read` until `done` holds for its value (or fails after `ms`). */
export async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > end) assert.fail(`${what}: still ${JSON.stringify(value)?.slice(0, 300)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

/** A GET (or, with a body, a JSON POST) to the studio's API; fails the test on a refusal. */
export async function apiCall<T>(studio: Studio, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${studio.port}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { Authorization: `Bearer ${studio.token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as T & { error?: string };
  assert.ok(response.ok, `${path}: ${response.status} ${json.error ?? ''}`);
  return json;
}

/** Waits for run `id` to end, and checks it ended done. */
export async function waitForRun(studio: Studio, id: string): Promise<void> {
  const run = await until(() => apiCall<{ status: string; error?: string }>(studio, `/api/runs/${id}`), (r) => r.status !== 'running', `run ${id} finishing`, 120_000);
  assert.equal(run.status, 'done', `run ${id}: ${run.error ?? ''}`);
}
