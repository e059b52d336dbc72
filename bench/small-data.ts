// Small data, many epochs: how much of a run is training and how much is writing. A table of 150
// rows of 4 random features (iris-sized) written as CSV, trained through the CLI
// (bin/vaekit.js, so dist/ must be built: npx tsc -p tsconfig.build.json) for 3,000 epochs of one
// batch each. Prints the wall-clock time of the whole command, the seconds of the epochs themselves
// (the sum of timing.jsonl, validation included) and the checkpoints left in the run folder.
// Run: npx tsx bench/small-data.ts [epochs=3000] [rows=150]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const epochs = Number(process.argv[2] ?? 3000);
const rows = Number(process.argv[3] ?? 150);
const FEATURES = 4;
const BIN = join(import.meta.dirname, '..', 'bin', 'vaekit.js');

const work = mkdtempSync(join(tmpdir(), 'vaekit-small-data-'));
try {
  // A fixed table: a small linear congruential generator, so every run trains on the same numbers.
  let seed = 12345;
  const rand = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const lines = [Array.from({ length: FEATURES }, (_, j) => `f${j}`).join(',')];
  for (let i = 0; i < rows; i++) lines.push(Array.from({ length: FEATURES }, () => (rand() * 10).toFixed(3)).join(','));
  const csv = join(work, 'table.csv');
  writeFileSync(csv, `${lines.join('\n')}\n`);

  const out = join(work, 'run');
  const args = [BIN, 'train', '--data', csv, '--epochs', String(epochs), '--batch-size', String(rows), '--hidden', '8', '--latent', '2', '--out', out];
  console.log(`vaekit ${args.slice(1).join(' ').replace(work, '$TMP').replace(work, '$TMP')}`);
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`vaekit failed (${r.status}): ${r.stderr}`);
  const timing = readFileSync(join(out, 'timing.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seconds: number });
  const compute = timing.reduce((s, t) => s + t.seconds, 0);
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length;
  const checkpoints = readdirSync(join(out, 'checkpoints')).length;
  console.log(`${epochs} epochs of ${rows} rows x ${FEATURES} features: ${wall.toFixed(1)} s in all, ${compute.toFixed(1)} s in the epochs (timing.jsonl), `
    + `${(wall - compute).toFixed(1)} s elsewhere (start, writing, test); ${metrics} metrics lines, ${checkpoints} checkpoints kept`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
