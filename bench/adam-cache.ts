// Adam alone on the seed preset's 866,144 parameters, 300 updates each way, on the pool's threads
// (VAEKIT_THREADS): with its operands warm; after 64 MB of other writes (cold); and after the seed
// step's forward and input-gradient products over the weights themselves or over another array of
// their size. BENCHMARKS.md, Scaling: on 2 threads Adam was slow inside a training step because the
// products had read every line of the weights on both cores (0.51 ms against 0.29 ms over another
// array, before the products cut the weights by their rows, native/dnnl.cc). The layout is Adam's
// (src/nn/adam.ts): each tensor's size and rows.
// Run: VAEKIT_THREADS=1 node --import tsx bench/adam-cache.ts; then VAEKIT_THREADS=2
import { getBackend } from '../src/engine/index.js';
const b = getBackend();
// The seed's tensors: [offset, rows, columns] (a bias is one column).
const tensors: [number, number, number][] = [[0, 784, 512], [401408, 512, 1], [401920, 512, 80], [442880, 80, 1], [442960, 40, 512], [463440, 512, 1], [463952, 512, 784], [865360, 784, 1]];
const n = 866144;
const layout = Int32Array.from(tensors.flatMap(([, rows, cols]) => [rows * cols, rows]));
const p = new Float32Array(n).fill(0.1), g = new Float32Array(n).fill(0.01), m = new Float32Array(n), v = new Float32Array(n);
const other = new Float32Array(n).fill(0.1);
const junk = new Float32Array(16 << 20);
const x = new Float32Array(128 * 784).fill(0.5), y = new Float32Array(128 * 784);
/** The step's products with each layer's weights in `w`: the forward product and the input gradient's. */
function products(w: Float32Array): void {
  for (const [offset, rows, cols] of tensors) {
    if (cols === 1) continue;
    const weights = w.subarray(offset, offset + rows * cols);
    b.gemm(false, false, 128, cols, rows, 1, x, weights, 0, y);
    b.gemm(false, true, 128, rows, cols, 1, y, weights, 0, x);
  }
}
const before: Record<string, () => void> = {
  warm: () => {},
  'after 64 MB of other writes': () => { for (let j = 0; j < junk.length; j += 16) junk[j]! += 1; },
  'after products over the weights': () => products(p),
  'after products over another array': () => products(other),
};
for (const [name, prepare] of Object.entries(before)) {
  let best = Infinity, tot = 0;
  for (let i = 0; i < 300; i++) {
    prepare();
    const t = performance.now();
    b.adam(p, g, m, v, n, 1e-9, 0.9, 0.999, 1e-8, i + 1, null, layout);
    const d = performance.now() - t; best = Math.min(best, d); tot += d;
  }
  console.log(`threads ${b.info().threads}, ${name}: best ${best.toFixed(3)} ms, mean ${(tot / 300).toFixed(3)} ms`);
}
