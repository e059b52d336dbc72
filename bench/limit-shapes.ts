// Per product shape, 2 threads or as VAEKIT_THREADS says: the limit's loop (the products a recorded
// step asks for, back to back, bench/workload.ts) s an epoch. Beside `bench/profile-step.ts 469 seed
// fp32 --shapes` (the same products inside training steps) it shows where a step's products lose
// time against the limit (BENCHMARKS.md). Run: npx tsx bench/limit-shapes.ts [fp32|bf16]
import { getBackend } from '../src/engine/index.js';
import type { Backend } from '../src/engine/backend.js';
import { presetConfig } from '../src/vae/config.js';
import { productRunner, recordProducts } from '../bench/workload.js';
const precision = (process.argv[2] ?? 'fp32') as 'fp32' | 'bf16';
const totals = new Map<string, number>();
function timed(inner: Backend): Backend {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'gemm' && prop !== 'gemmBf16') return value;
      const fn = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const t = performance.now();
        const r = fn.apply(target, args);
        const name = `${String(prop)} ${args[0] ? 'T' : 'N'}${args[1] ? 'T' : 'N'} ${String(args[2])}x${String(args[3])}x${String(args[4])}`;
        totals.set(name, (totals.get(name) ?? 0) + performance.now() - t);
        return r;
      };
    },
  });
}
const backend = getBackend();
const products = recordProducts(backend, presetConfig('seed'), precision, 128);
const runner = productRunner(timed(backend), products);
for (let s = 0; s < 50; s++) runner.run();
totals.clear();
const t0 = performance.now();
for (let s = 0; s < 469; s++) runner.run();
console.log(`limit loop: ${((performance.now() - t0) / 1000).toFixed(3)} s an epoch`);
for (const [k, v] of [...totals].sort()) console.log(`${k.padEnd(32)} ${(v / 1000).toFixed(3)} s`);
