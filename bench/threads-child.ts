// Run by bench.ts (and on the device machine by bench/device/run.sh) in a fresh process started
// with VAEKIT_THREADS (the pool takes its size when it starts): trains a preset (seed unless given)
// on the first N MNIST training digits, `rounds` epochs each from
// the same weights and seed, and prints as one JSON line the fastest epoch's seconds and a hash of
// the weights after one epoch (the same on every thread count: test/thread-bits.test.ts).
// Args: precision (fp32 | bf16), products (native: what gemm uses | openblas | portable: the
// bundled kernel), images, rounds, shards (training.shards, default 1), preset (default seed).
import { takeFirst } from '../src/data/dataset.js';
import { loadMnist } from '../src/data/sources/mnist.js';
import { getBackend } from '../src/engine/index.js';
import { loadNativeAddon } from '../src/engine/native-backend.js';
import { withGemm, type Backend } from '../src/engine/backend.js';
import { parsePrecision } from '../src/engine/precision.js';
import { fit } from '../src/train/fit.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';

const [precisionArg = 'fp32', products = 'native', imagesArg = '60000', roundsArg = '2', shardsArg = '1', preset = 'seed'] = process.argv.slice(2);
const precision = parsePrecision(precisionArg);
const base = getBackend();
const raw = loadNativeAddon();
const gemm = products === 'openblas' ? raw.gemmBlas : products === 'portable' ? raw.gemmPortable : null;
if (products !== 'native' && gemm === null) throw new Error(`products must be native, openblas or portable, not ${products}`);
const backend: Backend = gemm === null ? base : withGemm(base, gemm);
const train = takeFirst(loadMnist('train'), Number(imagesArg));
let seconds = Infinity;
let hash = 2166136261;
for (let r = 0; r < Number(roundsArg); r++) {
  const vae = new Vae(presetConfig(preset), { backend, seed: 0 });
  const history = await fit(vae, train, { epochs: 1, precision, shards: Number(shardsArg) });
  seconds = Math.min(seconds, history.epochs[0]!.seconds);
  if (r === 0) {
    const words = new Uint32Array(vae.params.values.buffer, vae.params.values.byteOffset, vae.params.count);
    for (const w of words) hash = Math.imul(hash ^ w, 16777619) >>> 0;
  }
}
process.stdout.write(`${JSON.stringify({ seconds, hash: hash.toString(16), threads: backend.info().threads })}\n`);
