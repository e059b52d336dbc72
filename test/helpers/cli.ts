// Running the vaekit command in tests, and the small labelled image data the CLI tests train on.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Random } from '../../src/engine/random.js';
import { encodeNpy } from '../../src/io/npy.js';

export interface CliResult { status: number | null; stdout: string; stderr: string }

const CLI = pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts')).href;

/** The vaekit command run from the sources (the same main as bin/vaekit.js runs from dist/, so no build is needed). */
export function vaekitFromSources(args: string[], timeoutMs = 300_000): CliResult {
  const run = `const { main } = await import(${JSON.stringify(CLI)}); await main(['node', 'vaekit', ...process.argv.slice(1)]);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', run, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** ok (exit 0, returns stdout) and refused (one line on stderr matching `pattern`, exit 1, none of `outputs` written) over a runner. */
export function cliChecks(vaekit: (args: string[]) => CliResult): { ok(args: string[]): string; refused(args: string[], pattern: RegExp, outputs: string[]): void } {
  return {
    ok(args) {
      const r = vaekit(args);
      assert.equal(r.status, 0, `vaekit ${args.join(' ')}\n${r.stderr}`);
      return r.stdout;
    },
    refused(args, pattern, outputs) {
      const r = vaekit(args);
      assert.equal(r.status, 1, `vaekit ${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
      assert.match(lines[0]!, pattern);
      for (const o of outputs) assert.ok(!existsSync(o), `${o} was written`);
    },
  };
}

/**
 * `n` 8x8 greyscale images of two classes (bright left half, bright top half) plus uniform noise
 * below `noise` grey levels, and their labels, as x.npy and y.npy in `dir`.
 */
export function twoClassNpy(dir: string, n: number, seed = 7, noise = 40): { x: string; y: string } {
  const rng = new Random(seed);
  const images = new Uint8Array(n * 64);
  const labels = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    labels[i] = BigInt(c);
    for (let p = 0; p < 64; p++) images[i * 64 + p] = ((c === 0 ? p % 8 < 4 : Math.floor(p / 8) < 4) ? 200 : 20) + rng.int(noise);
  }
  const x = join(dir, 'x.npy');
  const y = join(dir, 'y.npy');
  writeFileSync(x, encodeNpy({ dtype: 'uint8', shape: [n, 8, 8], data: images }));
  writeFileSync(y, encodeNpy({ dtype: 'int64', shape: [n], data: labels }));
  return { x, y };
}
