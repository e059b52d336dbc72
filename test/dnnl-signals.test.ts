/**
 * Signals while oneDNN runs (native/dnnl.cc, SignalsHeld). oneDNN 2.x's jit sgemm kernel, which its
 * fp32 matmul picks for the seed preset's shapes, points rsp at a heap buffer while it runs, so a
 * signal delivered to that thread wrote its frame into the heap: under `node --cpu-prof` (a SIGPROF
 * to the main thread every sampling interval) the products aborted with "corrupted size vs.
 * prev_size" within a second. A child process runs those products under the profiler at a 50 us
 * interval and must exit cleanly. Skips, saying why, where the addon has no oneDNN (OpenBLAS and
 * the portable kernel keep rsp on the stack).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadNativeBackend } from '../src/engine/native-backend.js';

function oneDnnSkip(): string | false {
  try {
    const blas = loadNativeBackend().info().blas;
    return blas === 'onednn' ? false : `fp32 products run on ${blas} here, not oneDNN`;
  } catch {
    return 'the native addon is not built';
  }
}

test('fp32 products through oneDNN survive a sampling profiler\'s signals (node --cpu-prof)', { skip: oneDnnSkip() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vaekit-signals-'));
  try {
    const engine = pathToFileURL(join(import.meta.dirname, '..', 'src', 'engine', 'index.ts')).href;
    // The seed preset's largest forward, input-gradient and weight-gradient products, for 1.5 s.
    const script = `
      const { getBackend } = await import(${JSON.stringify(engine)});
      const b = getBackend();
      const a = new Float32Array(784 * 512).fill(0.01), w = new Float32Array(784 * 512).fill(0.02), c = new Float32Array(784 * 512);
      let calls = 0;
      for (const end = performance.now() + 1500; performance.now() < end; calls += 3) {
        b.gemm(false, false, 128, 512, 784, 1, a, w, 0, c);
        b.gemm(false, true, 128, 784, 512, 1, a, w, 0, c);
        b.gemm(true, false, 784, 512, 128, 1, a, w, 0, c);
      }
      console.log('calls', calls, c[0]);
    `;
    const r = spawnSync(process.execPath, [
      '--cpu-prof', '--cpu-prof-interval', '50', '--cpu-prof-dir', dir, '--import', 'tsx', '--input-type=module', '-e', script,
    ], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.signal, null, `the child died of ${String(r.signal)}: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const [, calls, first] = /calls (\d+) (\S+)/.exec(r.stdout) ?? [];
    assert.ok(Number(calls) > 30, r.stdout);
    // c's first element of the last (weight-gradient) product: 128 terms of 0.01 * 0.02.
    assert.ok(Math.abs(Number(first) - 128 * 0.01 * 0.02) < 1e-6, r.stdout);
    // One profile per isolate: the script's, and tsx's loader thread's.
    assert.ok(readdirSync(dir).some((f) => f.endsWith('.cpuprofile')), 'the profiler wrote its profile');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
