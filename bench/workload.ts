// The matrix products of a training step, for the benchmark's "limit": one real training step is
// run through a recording backend, which notes every product it asks for (fp32 gemm, gemmBf16, or
// the product of gemmBiasActivation or gemmBf16BiasActivation, with its shape and transposes); the limit is the time to run exactly those products, through the
// same backend calls, for every step of an epoch, on buffers of the right sizes and nothing else.
// This works for any preset and precision: for the seed preset it is the 4 forward, 4 weight-
// gradient and 3 input-gradient products of its dense layers; for the conv preset it adds the
// convolutions' patch products.
import type { Backend } from '../src/engine/backend.js';
import type { Precision } from '../src/engine/precision.js';
import { Random } from '../src/engine/random.js';
import { Adam } from '../src/nn/adam.js';
import { resolveObjective } from '../src/vae/objective.js';
import { Vae } from '../src/vae/model.js';
import type { VaeConfig } from '../src/vae/config.js';

export interface Product {
  bf16: boolean;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
}

/** The products one training step on `rows` examples makes, in order. */
export function recordProducts(backend: Backend, config: VaeConfig, precision: Precision, rows: number): Product[] {
  const products: Product[] = [];
  const recording = new Proxy(backend, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        if (prop === 'gemm' || prop === 'gemmBf16') {
          products.push({
            bf16: prop === 'gemmBf16', transA: args[0] as boolean, transB: args[1] as boolean,
            m: args[2] as number, n: args[3] as number, k: args[4] as number,
          });
        }
        // A dense layer's forward: its product (the bias and activation are not the limit's).
        if (prop === 'gemmBiasActivation' || prop === 'gemmBf16BiasActivation') {
          products.push({ bf16: prop === 'gemmBf16BiasActivation', transA: false, transB: false, m: args[0] as number, n: args[1] as number, k: args[2] as number });
        }
        return fn.apply(target, args);
      };
    },
  });
  const vae = new Vae(config, { backend: recording, seed: 0 });
  vae.setPrecision(precision);
  const x = new Float32Array(rows * vae.pixels);
  new Random(1).fillUniform(x);
  vae.run(x, x, rows, resolveObjective(), new Random(2), true);
  return products;
}

/** FLOPs (2 per multiply-add) of a list of products. */
export function productFlops(products: readonly Product[]): number {
  return products.reduce((sum, p) => sum + 2 * p.m * p.n * p.k, 0);
}

/** Runs a list of products on operand buffers of their own (fp32 or bf16, as each takes them), filled once. */
export interface ProductRunner {
  run(): void;
}

export function productRunner(backend: Backend, products: readonly Product[]): ProductRunner {
  const fill = (n: number): Float32Array => new Float32Array(n).fill(0.01);
  const calls = products.map((p) => {
    const c = new Float32Array(p.m * p.n);
    if (p.bf16) {
      const a = new Uint16Array(p.m * p.k);
      const b = new Uint16Array(p.k * p.n);
      backend.toBf16(fill(a.length), a, a.length);
      backend.toBf16(fill(b.length), b, b.length);
      return () => backend.gemmBf16(p.transA, p.transB, p.m, p.n, p.k, 1, a, b, 0, c);
    }
    const a = fill(p.m * p.k);
    const b = fill(p.k * p.n);
    return () => backend.gemm(p.transA, p.transB, p.m, p.n, p.k, 1, a, b, 0, c);
  });
  return { run: () => { for (const call of calls) call(); } };
}

/** The floor's parts (floorRunner), to time alone or among other work (bench/floor-after-products.ts). */
export interface FloorRunner {
  /** Adam's update of every parameter. */
  adam(): void;
  /** The batch's gaussian input noise. */
  noise(): void;
  /** Both, as one step's floor. */
  run(): void;
  /** The model's parameter count. */
  parameters: number;
}

/**
 * The work of a training step besides its products that no implementation can skip, each part at
 * its own best speed: one Adam update of every parameter (fp32 master weights, moments, and in
 * bf16 the weights' bf16 copy; memory-bound: 7 floats move per parameter) and the batch's gaussian
 * input noise. With the limit, it bounds the ratio an epoch can reach on this machine from below:
 * (limit + floor) / limit.
 */
export function floorRunner(backend: Backend, config: VaeConfig, precision: Precision, rows: number): FloorRunner {
  const vae = new Vae(config, { backend, seed: 0 });
  vae.setPrecision(precision);
  vae.params.grads.fill(1e-3);
  const optimizer = new Adam(vae.params, { learningRate: 1e-3 });
  const clean = new Float32Array(rows * vae.pixels);
  new Random(1).fillUniform(clean);
  const noisy = new Float32Array(clean.length);
  const seeds = Uint32Array.from({ length: rows }, (_, r) => r);
  const adam = (): void => { optimizer.update(backend); };
  const noise = (): void => backend.gaussianNoise(clean, noisy, rows, vae.pixels, seeds, 0.2);
  return { adam, noise, run: () => { adam(); noise(); }, parameters: vae.params.count };
}
