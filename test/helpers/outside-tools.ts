// The programs outside Node that some tests check vaekit against: Debian's python3-torch (the
// PyTorch export) and Debian's chromium (pages in a real browser). `.ci/run` installs both. Where
// one is missing a test skips with the reason, except under CI (CI=true), where a missing tool is a
// failure: the checks must really run there.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

let python: string | null | undefined;

/** A python3 that imports torch (VAEKIT_PYTHON, then Debian's /usr/bin/python3, then python3 on the PATH), or null. */
export function pythonWithTorch(): string | null {
  if (python !== undefined) return python;
  const candidates = [process.env.VAEKIT_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => c !== undefined && c !== '');
  python = candidates.find((c) => spawnSync(c, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) ?? null;
  return python;
}

/** Debian's chromium (or CHROMIUM_PATH), or null. */
export function chromiumPath(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].filter((c): c is string => c !== undefined && c !== '');
  return candidates.find((c) => existsSync(c)) ?? null;
}

/** The flags a headless chromium needs on these machines (as root, no GPU, a closed network). */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * The tool's path, or null after marking the test skipped (outside CI) with why; under CI a missing
 * tool throws, so the check cannot pass by not running.
 */
export function requireTool<T>(t: TestContext, found: T | null, what: string): T | null {
  if (found !== null) return found;
  const why = `${what} is not installed (.ci/run installs it)`;
  if (process.env.CI === 'true') throw new Error(`${why}; under CI this check must run.`);
  t.skip(why);
  return null;
}
