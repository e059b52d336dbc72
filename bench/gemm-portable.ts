// The bundled matrix kernel (gemmPortable) beside OpenBLAS (gemmBlas) and oneDNN (the addon's gemm)
// on the products of one seed-preset training step, one product at a time, all on one thread: the
// batch of 128 rows and the 16-row shard. `node --import tsx bench/gemm-portable.ts [--rounds N]`.
// Each product runs on its own operands (seeded normals) until about 20 ms have passed; the best of
// the rounds is reported. A library the addon was built without shows as "-".
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

// The pool reads VAEKIT_THREADS when it starts, so set it before the addon is loaded.
process.env['VAEKIT_THREADS'] = '1';
const { loadNativeAddon, loadNativeBackend } = await import('../src/engine/native-backend.js');
const { presetConfig } = await import('../src/vae/config.js');
const { Random } = await import('../src/engine/random.js');
const { recordProducts } = await import('./workload.js');
type Product = import('./workload.js').Product;

const roundsFlag = process.argv.indexOf('--rounds');
const ROUNDS = roundsFlag >= 0 ? Number(process.argv[roundsFlag + 1]) : 7;

type Gemm = (transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: Float32Array, b: Float32Array, beta: number, c: Float32Array) => void;

function cpuName(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line !== undefined) return line.split(':')[1]!.trim();
  } catch { /* not Linux */ }
  return cpus()[0]?.model ?? 'unknown CPU';
}

function normals(seed: number, n: number): Float32Array {
  const rng = new Random(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

/** Seconds per call of `gemm` on product `p`: the best of ROUNDS rounds of about 20 ms each. */
function timeProduct(gemm: Gemm, p: Product): number {
  const a = normals(1, p.m * p.k);
  const b = normals(2, p.k * p.n);
  const c = new Float32Array(p.m * p.n);
  const call = (): void => gemm(p.transA, p.transB, p.m, p.n, p.k, 1, a, b, 0, c);
  call();
  let calls = 1;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < calls; i++) call();
    if (performance.now() - t > 20) break;
    calls *= 2;
  }
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    for (let i = 0; i < calls; i++) call();
    best = Math.min(best, (performance.now() - t) / 1000 / calls);
  }
  return best;
}

const raw = loadNativeAddon();
const info = raw.info();
const kernels: [string, Gemm | null][] = [
  ['portable', raw.gemmPortable],
  ['OpenBLAS', info.fallbackBlas === 'openblas' ? raw.gemmBlas : null],
  ['oneDNN', info.dnnl.available ? raw.gemm : null],
];

const role = (p: Product, i: number): string => (i < 4 ? 'forward' : p.transA ? 'weight grad' : 'input grad');
const us = (s: number | null): string => (s === null ? '-' : (s * 1e6).toFixed(1));

console.log(`gemm on one thread, ${cpuName()}; best of ${ROUNDS} rounds; microseconds per product`);
const width = process.env['VAEKIT_SIMD_WIDTH'];
console.log(`addon: blas ${info.blas}, fallback ${info.fallbackBlas}, oneDNN ${info.dnnl.available ? info.dnnl.version : 'no'}` +
  `; portable microkernel: the widest this CPU has${width !== undefined ? ` (VAEKIT_SIMD_WIDTH=${width}: 4 caps it at AVX2, 2 at plain C++)` : ''}`);
const sums: string[] = [];
for (const rows of [128, 16]) {
  const products = recordProducts(loadNativeBackend(), presetConfig('seed'), 'fp32', rows).filter((p) => !p.bf16);
  console.log(`\nseed step, ${rows} rows (${products.length} products)`);
  console.log(['product', 'transA', 'transB', 'm', 'n', 'k', ...kernels.map(([name]) => name), 'portable/OpenBLAS'].join('\t'));
  const totals = kernels.map(() => 0 as number | null);
  products.forEach((p, i) => {
    const times = kernels.map(([, gemm]) => (gemm === null ? null : timeProduct(gemm, p)));
    times.forEach((t, j) => { totals[j] = t === null || totals[j] === null ? null : totals[j]! + t; });
    const ratio = times[0] !== null && times[1] !== null ? (times[0] / times[1]).toFixed(2) : '-';
    console.log([role(p, i), p.transA, p.transB, p.m, p.n, p.k, ...times.map(us), ratio].join('\t'));
  });
  const ratio = totals[0] !== null && totals[1] !== null ? (totals[0] / totals[1]).toFixed(2) : '-';
  console.log(['sum', '', '', '', '', '', ...totals.map(us), ratio].join('\t'));
  sums.push(`seed step products (${rows} rows), portable / OpenBLAS: ${ratio} (${us(totals[0]!)} / ${us(totals[1]!)} us)`);
}
console.log('');
for (const line of sums) console.log(line);
