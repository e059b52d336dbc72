// Adam alone on the seed preset's 866,144 parameters, 300 updates: with its operands warm, and after
// 64 MB of other writes each time (cold), on the pool's threads (VAEKIT_THREADS). BENCHMARKS.md,
// Scaling: Adam does not speed up on 2 threads inside a training step, though it does alone.
// Run: VAEKIT_THREADS=1 node --import tsx bench/adam-cache.ts; then VAEKIT_THREADS=2
import { getBackend } from '../src/engine/index.js';
const b = getBackend();
const n = 866144;
const p = new Float32Array(n).fill(0.1), g = new Float32Array(n).fill(0.01), m = new Float32Array(n), v = new Float32Array(n);
const junk = new Float32Array(16 << 20);
for (const flush of [false, true]) {
  let best = Infinity, tot = 0;
  for (let i = 0; i < 300; i++) {
    if (flush) for (let j = 0; j < junk.length; j += 16) junk[j]! += 1;
    const t = performance.now();
    b.adam(p, g, m, v, n, 1e-3, 0.9, 0.999, 1e-8, i + 1);
    const d = performance.now() - t; best = Math.min(best, d); tot += d;
  }
  console.log(`threads ${b.info().threads} flush ${flush}: best ${best.toFixed(3)} ms mean ${(tot / 300).toFixed(3)} ms`);
}
