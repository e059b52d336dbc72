// CI runs the benchmark only as a smoke: every part on tiny sizes, checking that it runs and
// reports well-formed numbers. No timing is asserted (speed is measured by `npm run bench`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('npm run bench -- --smoke runs every part and writes its JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vaekit-bench-'));
  try {
    const json = join(dir, 'bench.json');
    const bench = join(import.meta.dirname, '..', 'bench', 'bench.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', bench, '--smoke', '--json', json], { encoding: 'utf8', timeout: 180_000 });
    assert.equal(r.status, 0, r.stderr);
    for (const tag of ['seed fp32', 'conv fp32']) assert.match(r.stdout, new RegExp(`\\| ${tag}: ratio to the limit +\\| \\d+\\.\\d+x \\|`));
    const results = JSON.parse(readFileSync(json, 'utf8')) as {
      smoke: boolean;
      limit: { seconds: number };
      training: Record<string, { limitSeconds: number; floorSeconds: number; floorRatio: number; secondsPerEpoch: number; samplesPerSecond: number }>;
      tfjsWasm: { samplesPerSecond: number };
      inference: { denoise: number };
      memory: { peakRssMb: number; rssAfterEpochMb: number[] };
      jsBackend: { samplesPerSecond: number };
      tfjsCpu: { samplesPerSecond: number };
    };
    assert.equal(results.smoke, true);
    // bf16 rows too where this machine runs bf16 (oneDNN with AMX or AVX512-BF16).
    assert.ok(Object.keys(results.training).includes('conv fp32'));
    for (const t of Object.values(results.training)) {
      assert.ok(t.limitSeconds > 0 && t.secondsPerEpoch > 0 && t.samplesPerSecond > 0 && t.floorSeconds > 0, JSON.stringify(t));
      assert.ok(Math.abs(t.floorRatio - (t.limitSeconds + t.floorSeconds) / t.limitSeconds) < 1e-9, JSON.stringify(t));
    }
    for (const v of [results.limit.seconds, results.tfjsWasm.samplesPerSecond,
      results.inference.denoise, results.memory.peakRssMb, results.jsBackend.samplesPerSecond, results.tfjsCpu.samplesPerSecond]) {
      assert.ok(Number.isFinite(v) && v > 0, String(v));
    }
    assert.equal(results.memory.rssAfterEpochMb.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
