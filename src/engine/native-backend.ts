/**
 * The native backend: the Node-API addon built from native/ by scripts/build-native.mjs into
 * build/Release/vaekit.node. Each Backend method passes its arguments straight to the addon's
 * kernel of the same name (activations as ACTIVATION_CODE integers); the addon checks every size
 * against the arrays' lengths and throws a RangeError instead of writing out of bounds.
 */
import type * as NodeFs from 'node:fs';
import type * as NodeModule from 'node:module';
import type * as NodePath from 'node:path';
import type * as NodeUrl from 'node:url';
import { ACTIVATION_CODE } from './backend.js';
import type { Activation, Backend, BackendInfo, Bf16Support } from './backend.js';

type Gemm = (
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array,
) => void;

type RowLoss = (
  input: Float32Array, target: Float32Array, rows: number, cols: number,
  rowLoss: Float32Array, grad: Float32Array | null, gradScale: number,
) => void;

type Elementwise = (a: Float32Array, b: Float32Array, out: Float32Array, n: number) => void;

/** im2col and col2im: the source array, the geometry, then the array written. */
type Patches = (
  from: Float32Array, rows: number, height: number, width: number, channels: number,
  kernel: number, stride: number, pad: number, outH: number, outW: number, to: Float32Array,
) => void;

/** What the addon says about oneDNN (native/addon.cc). */
export interface NativeDnnlInfo {
  /** Whether this build of the addon has oneDNN in it. */
  compiled: boolean;
  /** Whether its products can run (compiled, an engine made, and not turned off by VAEKIT_DNNL=off). */
  available: boolean;
  reason?: string;
  version?: string;
  isa?: string;
  /** Whether the CPU has AMX or AVX512-BF16 (oneDNN would emulate bf16 elsewhere). */
  nativeBf16?: boolean;
  bf16Kernel?: string;
  f32Kernel?: string;
}

/** The raw addon: the Backend kernels with activations as integer codes, plus the portable gemm. */
export interface NativeAddon {
  info(): { backend: 'native'; blas: 'onednn' | 'openblas' | 'portable'; fallbackBlas: 'openblas' | 'portable'; threads: number; dnnl: NativeDnnlInfo };
  gemm: Gemm;
  /** The bundled cache-blocked kernel, exported even when gemm uses OpenBLAS. */
  gemmPortable: Gemm;
  /** OpenBLAS (or the portable kernel without it), exported even when gemm uses oneDNN. */
  gemmBlas: Gemm;
  /** oneDNN's fp32 matmul, for comparison with OpenBLAS (bench); throws where oneDNN is unavailable. */
  gemmDnnlF32: Gemm;
  gemmBf16(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Uint16Array, b: Uint16Array, beta: number, c: Float32Array,
  ): void;
  toBf16(x: Float32Array, out: Uint16Array, n: number): void;
  biasActivation(
    x: Float32Array, bias: Float32Array, y: Float32Array, rows: number, cols: number, act: number, slope: number,
  ): void;
  activationBackward(dy: Float32Array, y: Float32Array, dx: Float32Array, n: number, act: number, slope: number): void;
  sumRows(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
  sumCols(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
  sum(x: Float32Array, n: number): number;
  countNonFinite(x: Float32Array, n: number): number;
  add: Elementwise;
  sub: Elementwise;
  mul: Elementwise;
  scale(a: Float32Array, s: number, out: Float32Array, n: number): void;
  axpy(alpha: number, x: Float32Array, y: Float32Array, n: number): void;
  bceWithLogits: RowLoss;
  squaredError: RowLoss;
  gaussianNll(
    mean: Float32Array, logvar: Float32Array, target: Float32Array, rows: number, cols: number,
    rowLoss: Float32Array, gradMean: Float32Array | null, gradLogvar: Float32Array | null, gradScale: number,
  ): void;
  reparameterize(meanLogvar: Float32Array, eps: Float32Array, z: Float32Array, rows: number, latent: number): void;
  klDiagonalGaussian(meanLogvar: Float32Array, rows: number, latent: number, klRow: Float32Array): void;
  reparameterizeBackward(
    meanLogvar: Float32Array, eps: Float32Array, dz: Float32Array | null, dMeanLogvar: Float32Array,
    rows: number, latent: number, klScale: number,
  ): void;
  mixtureLogDensity: Backend['mixtureLogDensity'];
  mixtureBackward: Backend['mixtureBackward'];
  adam(
    params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, n: number,
    lr: number, beta1: number, beta2: number, eps: number, step: number, half?: Uint16Array | null,
  ): void;
  gaussianNoise(clean: Float32Array, out: Float32Array, rows: number, cols: number, rowSeeds: Uint32Array, factor: number): void;
  binarize: Backend['binarize'];
  gatherBytes(bytes: Uint8Array, rowIndex: Uint32Array | null, start: number, rows: number, cols: number, divisor: number, out: Float32Array): void;
  im2col: Patches;
  im2colBf16(
    x: Float32Array, rows: number, height: number, width: number, channels: number,
    kernel: number, stride: number, pad: number, outH: number, outW: number, cols: Uint16Array,
  ): void;
  col2im: Patches;
}

const ADDON_FUNCTIONS: readonly (keyof NativeAddon)[] = [
  'info', 'gemm', 'gemmPortable', 'gemmBlas', 'gemmDnnlF32', 'gemmBf16', 'toBf16', 'biasActivation', 'activationBackward', 'sumRows', 'sumCols', 'sum', 'countNonFinite',
  'add', 'sub', 'mul', 'scale', 'axpy', 'bceWithLogits', 'squaredError', 'gaussianNll',
  'reparameterize', 'klDiagonalGaussian', 'reparameterizeBackward', 'mixtureLogDensity', 'mixtureBackward', 'adam',
  'gaussianNoise', 'binarize', 'gatherBytes', 'im2col', 'im2colBf16', 'col2im',
];

/**
 * Node's built-in modules, fetched when the addon is loaded rather than imported: this file is part
 * of the library's core, which must bundle for a browser (where the js backend runs and nothing
 * here is called). process.getBuiltinModule needs Node 20.16.
 */
interface NodeBuiltins {
  fs: typeof NodeFs;
  module: typeof NodeModule;
  path: typeof NodePath;
  url: typeof NodeUrl;
}

function nodeBuiltins(): NodeBuiltins {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof get !== 'function') throw new Error('the native addon needs Node.js 20.16 or later');
  return {
    fs: get('node:fs') as typeof NodeFs,
    module: get('node:module') as typeof NodeModule,
    path: get('node:path') as typeof NodePath,
    url: get('node:url') as typeof NodeUrl,
  };
}

/** Where the build puts the addon: <package root>/build/Release/vaekit.node (from src/engine or dist/engine). */
export function nativeAddonPath(): string {
  const { path, url } = nodeBuiltins();
  const here = path.dirname(url.fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', 'build', 'Release', 'vaekit.node');
}

let addon: NativeAddon | undefined;

/** Loads the addon once per process; throws an Error with a short reason when it is missing or broken. */
export function loadNativeAddon(): NativeAddon {
  if (addon !== undefined) return addon;
  const node = nodeBuiltins();
  const file = nativeAddonPath();
  if (!node.fs.existsSync(file)) throw new Error(`${file} is missing (the native build did not run or failed)`);
  let loaded: unknown;
  try {
    loaded = node.module.createRequire(import.meta.url)(file);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`${file} failed to load: ${message.split('\n')[0]}`);
  }
  const missing = ADDON_FUNCTIONS.filter((name) => !hasFunction(loaded, name));
  if (missing.length > 0) throw new Error(`${file} is out of date (no ${missing.join(', ')}); rebuild it`);
  addon = loaded as NativeAddon;
  return addon;
}

function hasFunction(value: unknown, name: string): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[name] === 'function';
}

/** The Backend over the addon; thin on purpose, since these calls sit on every training step's path. */
export class NativeBackend implements Backend {
  readonly name = 'native' as const;
  private readonly addon: NativeAddon;

  constructor(nativeAddon: NativeAddon) {
    this.addon = nativeAddon;
  }

  info(): BackendInfo {
    const raw = this.addon.info();
    return { backend: 'native', blas: raw.blas, threads: raw.threads, bf16: bf16Support(raw.dnnl) };
  }

  toBf16(x: Float32Array, out: Uint16Array, n: number): void {
    this.addon.toBf16(x, out, n);
  }

  gemmBf16(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Uint16Array, b: Uint16Array, beta: number, c: Float32Array,
  ): void {
    this.addon.gemmBf16(transA, transB, m, n, k, alpha, a, b, beta, c);
  }

  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array,
  ): void {
    this.addon.gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
  }

  biasActivation(
    x: Float32Array, bias: Float32Array, y: Float32Array, rows: number, cols: number,
    act: Activation, slope: number,
  ): void {
    this.addon.biasActivation(x, bias, y, rows, cols, ACTIVATION_CODE[act], slope);
  }

  activationBackward(
    dy: Float32Array, y: Float32Array, dx: Float32Array, n: number, act: Activation, slope: number,
  ): void {
    this.addon.activationBackward(dy, y, dx, n, ACTIVATION_CODE[act], slope);
  }

  sumRows(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
    this.addon.sumRows(x, rows, cols, out);
  }

  sumCols(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
    this.addon.sumCols(x, rows, cols, out);
  }

  sum(x: Float32Array, n: number): number {
    return this.addon.sum(x, n);
  }

  countNonFinite(x: Float32Array, n: number): number {
    return this.addon.countNonFinite(x, n);
  }

  add(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void {
    this.addon.add(a, b, out, n);
  }

  sub(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void {
    this.addon.sub(a, b, out, n);
  }

  mul(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void {
    this.addon.mul(a, b, out, n);
  }

  scale(a: Float32Array, s: number, out: Float32Array, n: number): void {
    this.addon.scale(a, s, out, n);
  }

  axpy(alpha: number, x: Float32Array, y: Float32Array, n: number): void {
    this.addon.axpy(alpha, x, y, n);
  }

  bceWithLogits(
    logits: Float32Array, target: Float32Array, rows: number, cols: number,
    rowLoss: Float32Array, grad: Float32Array | null, gradScale: number,
  ): void {
    this.addon.bceWithLogits(logits, target, rows, cols, rowLoss, grad, gradScale);
  }

  squaredError(
    pred: Float32Array, target: Float32Array, rows: number, cols: number,
    rowLoss: Float32Array, grad: Float32Array | null, gradScale: number,
  ): void {
    this.addon.squaredError(pred, target, rows, cols, rowLoss, grad, gradScale);
  }

  gaussianNll(
    mean: Float32Array, logvar: Float32Array, target: Float32Array, rows: number, cols: number,
    rowLoss: Float32Array, gradMean: Float32Array | null, gradLogvar: Float32Array | null, gradScale: number,
  ): void {
    this.addon.gaussianNll(mean, logvar, target, rows, cols, rowLoss, gradMean, gradLogvar, gradScale);
  }

  reparameterize(meanLogvar: Float32Array, eps: Float32Array, z: Float32Array, rows: number, latent: number): void {
    this.addon.reparameterize(meanLogvar, eps, z, rows, latent);
  }

  klDiagonalGaussian(meanLogvar: Float32Array, rows: number, latent: number, klRow: Float32Array): void {
    this.addon.klDiagonalGaussian(meanLogvar, rows, latent, klRow);
  }

  reparameterizeBackward(
    meanLogvar: Float32Array, eps: Float32Array, dz: Float32Array | null, dMeanLogvar: Float32Array,
    rows: number, latent: number, klScale: number,
  ): void {
    this.addon.reparameterizeBackward(meanLogvar, eps, dz, dMeanLogvar, rows, latent, klScale);
  }

  mixtureLogDensity(
    z: Float32Array, rows: number, latent: number, components: number,
    means: Float32Array, logvars: Float32Array, logits: Float32Array, out: Float64Array, gamma: Float64Array,
  ): void {
    this.addon.mixtureLogDensity(z, rows, latent, components, means, logvars, logits, out, gamma);
  }

  mixtureBackward(
    z: Float32Array, rows: number, latent: number, components: number,
    means: Float32Array, logvars: Float32Array, logits: Float32Array, gamma: Float64Array,
    scale: number, rowScale: Float32Array | null,
    dz: Float32Array, dMeans: Float32Array, dLogvars: Float32Array, dLogits: Float32Array,
  ): void {
    this.addon.mixtureBackward(z, rows, latent, components, means, logvars, logits, gamma, scale, rowScale, dz, dMeans, dLogvars, dLogits);
  }

  adam(
    params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, n: number,
    lr: number, beta1: number, beta2: number, eps: number, step: number, half?: Uint16Array | null,
  ): void {
    this.addon.adam(params, grads, m, v, n, lr, beta1, beta2, eps, step, half ?? null);
  }

  gaussianNoise(clean: Float32Array, out: Float32Array, rows: number, cols: number, rowSeeds: Uint32Array, factor: number): void {
    this.addon.gaussianNoise(clean, out, rows, cols, rowSeeds, factor);
  }

  binarize(clean: Float32Array, out: Float32Array, rows: number, cols: number, rowSeeds: Uint32Array): void {
    this.addon.binarize(clean, out, rows, cols, rowSeeds);
  }

  gatherBytes(bytes: Uint8Array, rowIndex: Uint32Array | null, start: number, rows: number, cols: number, divisor: number, out: Float32Array): void {
    this.addon.gatherBytes(bytes, rowIndex, start, rows, cols, divisor, out);
  }

  im2col(
    x: Float32Array, rows: number, height: number, width: number, channels: number,
    kernel: number, stride: number, pad: number, outH: number, outW: number, cols: Float32Array,
  ): void {
    this.addon.im2col(x, rows, height, width, channels, kernel, stride, pad, outH, outW, cols);
  }

  im2colBf16(
    x: Float32Array, rows: number, height: number, width: number, channels: number,
    kernel: number, stride: number, pad: number, outH: number, outW: number, cols: Uint16Array,
  ): void {
    this.addon.im2colBf16(x, rows, height, width, channels, kernel, stride, pad, outH, outW, cols);
  }

  col2im(
    cols: Float32Array, rows: number, height: number, width: number, channels: number,
    kernel: number, stride: number, pad: number, outH: number, outW: number, x: Float32Array,
  ): void {
    this.addon.col2im(cols, rows, height, width, channels, kernel, stride, pad, outH, outW, x);
  }
}

/** bf16 support from the addon's oneDNN report: it needs oneDNN and a CPU with AMX or AVX512-BF16. */
export function bf16Support(dnnl: NativeDnnlInfo): Bf16Support {
  const facts: Bf16Support = { available: false };
  if (dnnl.version !== undefined) facts.oneDnn = dnnl.version;
  if (dnnl.isa !== undefined) facts.isa = dnnl.isa;
  if (dnnl.bf16Kernel !== undefined && dnnl.bf16Kernel !== '') facts.kernel = dnnl.bf16Kernel;
  if (!dnnl.available) return { ...facts, reason: dnnl.reason ?? 'oneDNN is not available' };
  if (dnnl.nativeBf16 !== true) {
    return { ...facts, reason: `this CPU has neither AMX nor AVX512-BF16 (oneDNN dispatches to ${dnnl.isa ?? 'an older instruction set'})` };
  }
  return { ...facts, available: true };
}

/** The native Backend; throws an Error with a short reason when the addon is missing or fails to load. */
export function loadNativeBackend(): Backend {
  return new NativeBackend(loadNativeAddon());
}
