import { loadNativeAddon } from '../src/engine/native-backend.js';
import { getBackend } from '../src/engine/index.js';
import type { Backend } from '../src/engine/backend.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';
import { layerShapes, productBuffers, runProducts } from './workload.js';

const addon = loadNativeAddon() as unknown as Record<string, (...a: unknown[]) => unknown>;
const base = getBackend();
function withGemm(name: string): Backend {
  const b = Object.create(base) as Backend;
  (b as { gemm: unknown }).gemm = (...a: unknown[]) => addon[name]!(...a);
  return b;
}
const vae = new Vae(presetConfig('seed'), { backend: base, seed: 0 });
const layers = layerShapes(vae);
const buffers = productBuffers(layers, 128);
for (const name of ['gemm', 'gemmDnnlF32', 'gemmBf16', 'gemm', 'gemmDnnlF32', 'gemmBf16']) {
  const be = withGemm(name);
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    for (let s = 0; s < 60000; s += 128) runProducts(be, layers, buffers, Math.min(128, 60000 - s));
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  console.log(name, best.toFixed(3), 's');
}
console.log(JSON.stringify((addon['info'] as () => unknown)()));
