// The fused kernels of issue 22 (2026-12-07) against the calls they replace, alone, and the byte
// gather of a shuffled batch after other work has taken the caches (BENCHMARKS.md, "Fusions that
// keep the bits"), and bceWithLogits beside them. Run with VAEKIT_THREADS=1 and 2:
// npx tsx bench/fused-kernels.ts
import { getBackend } from '../src/engine/index.js';
import type { Activation } from '../src/engine/backend.js';
import { Random } from '../src/engine/random.js';
import { shuffledOrder } from '../src/data/batches.js';
import { valuesInMemory } from '../src/data/dataset.js';
import { loadMnist } from '../src/data/sources/mnist.js';

const backend = getBackend();
const rng = new Random(1);
const normals = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
const perCall = (calls: number, run: () => void): number => {
  const t = performance.now();
  for (let i = 0; i < calls; i++) run();
  return ((performance.now() - t) / calls) * 1000;
};
console.log(`${backend.info().threads} threads`);

// The gather: 128 rows of MNIST in a shuffled order, each after two seed-sized products and 32 MB of writes.
const train = loadMnist('train');
const bytes = valuesInMemory(train, 'the benchmark') as Uint8Array;
const order = shuffledOrder(train.count, new Random(1));
const batch = new Float32Array(128 * 784);
const w = normals(784 * 512);
const y = new Float32Array(128 * 512);
const junk = new Float32Array(8 << 20);
for (let round = 0; round < 3; round++) {
  let total = 0;
  for (let s = 0; s < 200; s++) {
    backend.gemm(false, false, 128, 512, 784, 1, batch, w, 0, y);
    backend.gemm(false, false, 128, 512, 784, 1, batch, w, 0, y);
    for (let i = 0; i < junk.length; i += 16) junk[i] += 1;
    const t = performance.now();
    backend.gatherBytes(bytes, order, s * 128, 128, 784, 255, batch);
    total += performance.now() - t;
  }
  console.log(`gather 128 shuffled rows after other work: ${((total / 200) * 1000).toFixed(1)} us`);
}

for (const [rows, cols, act] of [[128, 512, 'relu'], [128, 784, 'linear']] as [number, number, Activation][]) {
  const dy = normals(rows * cols);
  const out = normals(rows * cols).map((v) => Math.max(0, v));
  const [dx1, dx2] = [new Float32Array(rows * cols), new Float32Array(rows * cols)];
  const [g1, g2] = [new Float32Array(cols), new Float32Array(cols)];
  for (let round = 0; round < 3; round++) {
    const separate = perCall(4000, () => { backend.activationBackward(dy, out, dx1, rows * cols, act, 0); backend.sumRows(dx1, rows, cols, g1); });
    const fused = perCall(4000, () => backend.activationBiasBackward(dy, out, dx2, rows, cols, act, 0, g2));
    console.log(`activation backward and bias gradient ${rows}x${cols} ${act}: separate ${separate.toFixed(1)} us, fused ${fused.toFixed(1)} us, same bits ${same(g1, g2) && same(dx1, dx2)}`);
  }
}

for (const [m, n, k, act] of [[128, 512, 784, 'relu'], [128, 784, 512, 'linear']] as [number, number, number, Activation][]) {
  const x = normals(m * k);
  const weights = normals(k * n).map((v) => v * 0.05);
  const bias = normals(n);
  const [y1, y2] = [new Float32Array(m * n), new Float32Array(m * n)];
  for (let round = 0; round < 3; round++) {
    const separate = perCall(1000, () => { backend.gemm(false, false, m, n, k, 1, x, weights, 0, y1); backend.biasActivation(y1, bias, y1, m, n, act, 0); });
    const fused = perCall(1000, () => backend.gemmBiasActivation(m, n, k, x, weights, bias, act, 0, y2));
    console.log(`dense forward ${m}x${n}x${k} ${act}: separate ${separate.toFixed(1)} us, fused ${fused.toFixed(1)} us, same bits ${same(y1, y2)}`);
  }
}

// The loss beside them: bceWithLogits on the decoder's 128 x 784 logits (its row sums are one double chain).
{
  const [rows, cols] = [128, 784];
  const logits = normals(rows * cols).map((v) => 4 * v);
  const target = Float32Array.from({ length: rows * cols }, () => rng.uniform());
  const rowLoss = new Float32Array(rows);
  const grad = new Float32Array(rows * cols);
  for (let round = 0; round < 3; round++) {
    const withGrad = perCall(3000, () => backend.bceWithLogits(logits, target, rows, cols, rowLoss, grad, 1));
    const lossOnly = perCall(3000, () => backend.bceWithLogits(logits, target, rows, cols, rowLoss, null, 1));
    console.log(`bceWithLogits ${rows}x${cols}: ${withGrad.toFixed(1)} us, without the gradient ${lossOnly.toFixed(1)} us`);
  }
}
