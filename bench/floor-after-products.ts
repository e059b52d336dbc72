// The floor (Adam's update and the input noise, bench/workload.ts) alone, as `npm run bench` times
// it, and right after the step's matrix products (the limit's loop), as a training step runs it:
// what the products' traffic through the caches costs the floor (issue 22, BENCHMARKS.md). Also the
// data-parallel step's gradient sum (sumShards) over the seed preset's parameters.
// Run with VAEKIT_THREADS=1 and 2: npx tsx bench/floor-after-products.ts
import { getBackend } from '../src/engine/index.js';
import { presetConfig } from '../src/vae/config.js';
import { floorRunner, productRunner, recordProducts } from './workload.js';

const backend = getBackend();
const config = presetConfig('seed');
const rows = 128;
const steps = 469;
const products = productRunner(backend, recordProducts(backend, config, 'fp32', rows));
const floor = floorRunner(backend, config, 'fp32', rows);
const parts: Record<string, () => void> = { products: products.run, adam: floor.adam, noise: floor.noise };

/** Seconds an epoch (469 steps) of each part, run in this order every step; the fastest of 5 rounds. */
function epoch(names: string[]): string {
  const best = names.map(() => Infinity);
  for (let round = 0; round < 5; round++) {
    const sums = names.map(() => 0);
    for (let s = 0; s < steps; s++) {
      names.forEach((name, i) => {
        const t = performance.now();
        parts[name]!();
        sums[i]! += performance.now() - t;
      });
    }
    sums.forEach((ms, i) => { best[i] = Math.min(best[i]!, ms / 1000); });
  }
  return names.map((name, i) => `${name} ${best[i]!.toFixed(3)} s`).join(', ');
}

console.log(`${backend.info().threads} threads, seed preset fp32, s an epoch`);
console.log(`  alone:             ${epoch(['adam'])}; ${epoch(['noise'])}`);
console.log(`  floor as bench:    ${epoch(['adam', 'noise'])}`);
console.log(`  after the products: ${epoch(['products', 'adam', 'noise'])}`);
console.log(`  noise first:       ${epoch(['noise', 'products', 'adam'])}`);

const n = floor.parameters;
for (const shards of [2, 8]) {
  const stacked = new Float32Array(shards * n).fill(1e-3);
  const weights = new Float64Array(shards).fill(1 / shards);
  const out = new Float32Array(n);
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t = performance.now();
    for (let i = 0; i < 100; i++) backend.sumShards(stacked, weights, shards, n, out);
    best = Math.min(best, (performance.now() - t) / 100);
  }
  console.log(`  sumShards of ${shards} shards of ${n} parameters: ${best.toFixed(3)} ms a step`);
}
