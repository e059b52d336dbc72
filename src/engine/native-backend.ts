/**
 * The native backend: the Node-API addon built from native/ by scripts/build-native.mjs into
 * build/Release/vaekit.node. Each Backend method passes its arguments straight to the addon's
 * kernel of the same name (activations as ACTIVATION_CODE integers); the addon checks every size
 * against the arrays' lengths and throws a RangeError instead of writing out of bounds. A kernel's
 * signature is written once, in Backend: the addon's types (NativeAddon) and this file's methods
 * are derived from it.
 */
import { ACTIVATION_CODE } from './backend.js';
import { nodeBuiltins as nodeBuiltinsOrNull, type NodeBuiltins } from './node.js';
import type { Activation, Backend, BackendInfo, Bf16Support } from './backend.js';

/** Backend's kernels: each of its methods but info. */
type Kernel = Exclude<keyof Backend, 'name' | 'info'>;

/** A kernel as the addon takes it: an Activation argument as its ACTIVATION_CODE integer, the rest as Backend declares it. */
type WithActivationCodes<F> = F extends (...args: infer A) => infer R
  ? (...args: { [I in keyof A]: A[I] extends Activation ? number : A[I] }) => R
  : never;

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

/**
 * The raw addon: each Backend kernel under its name with Backend's signature (activations as
 * integer codes), its own info, and the other fp32 matrix products it exports for tests and bench.
 */
export type NativeAddon = { [K in Kernel]: WithActivationCodes<Backend[K]> } & {
  info(): { backend: 'native'; blas: 'onednn' | 'openblas' | 'portable'; fallbackBlas: 'openblas' | 'portable'; threads: number; dnnl: NativeDnnlInfo };
  /** The bundled cache-blocked kernel, exported even when gemm uses OpenBLAS. */
  gemmPortable: Backend['gemm'];
  /** OpenBLAS (or the portable kernel without it), exported even when gemm uses oneDNN. */
  gemmBlas: Backend['gemm'];
  /** oneDNN's fp32 matmul, for comparison with OpenBLAS (bench); throws where oneDNN is unavailable. */
  gemmDnnlF32: Backend['gemm'];
  /**
   * Not a kernel: the first `bytes` bytes of the open file `fd` reserved on disk and mapped into
   * memory, shared with the file (native/mapped.cc; src/io/mapped.ts); throws an Error with the
   * system's reason.
   */
  mapFile(fd: number, bytes: number): ArrayBuffer;
  /** Not a kernel: advice about bytes [offset, offset + bytes) of a mapped buffer (madvise): 0 normal, 1 random, 2 will need. */
  adviseMapped(buffer: ArrayBuffer, offset: number, bytes: number, advice: 0 | 1 | 2): void;
};

/** Every function the addon must export (a record, so that the compiler checks that none is left out). */
const ADDON_FUNCTIONS = Object.keys({
  info: true, gemm: true, gemmPortable: true, gemmBlas: true, gemmDnnlF32: true, gemmBf16: true, toBf16: true,
  biasActivation: true, activationBackward: true, gemmBiasActivation: true, gemmBf16BiasActivation: true, activationBiasBackward: true, sumRows: true, sumCols: true, sum: true, countNonFinite: true,
  add: true, sub: true, mul: true, scale: true, axpy: true, sumShards: true, serialKernels: true, bceWithLogits: true, squaredError: true, gaussianNll: true,
  reparameterize: true, klDiagonalGaussian: true, reparameterizeBackward: true, mixtureLogDensity: true, mixtureBackward: true, adam: true,
  gaussianNoise: true, binarize: true, gatherBytes: true, im2col: true, im2colBf16: true, col2im: true,
  softmaxCrossEntropy: true, lstmForward: true, lstmBackward: true, gruForward: true, gruBackward: true,
  embeddingGather: true, embeddingScatterAdd: true, swapAxes: true, mapFile: true, adviseMapped: true,
} satisfies Record<keyof NativeAddon, true>);

/** Node's modules (node.ts); the addon needs them. */
function nodeBuiltins(): NodeBuiltins {
  const node = nodeBuiltinsOrNull();
  if (node === null) throw new Error('the native addon needs Node.js 20.16 or later');
  return node;
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

/** A kernel's arguments, as Backend declares them. */
type Args<K extends Kernel> = Parameters<Backend[K]>;

/**
 * The Backend over the addon; thin on purpose, since these calls sit on every training step's path.
 * Each kernel hands its arguments to the addon's as they come, but for an activation (its
 * ACTIVATION_CODE) and adam's absent bf16 copy and layout (null) and check (false).
 */
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

  toBf16(...args: Args<'toBf16'>): void { this.addon.toBf16(...args); }
  gemmBf16(...args: Args<'gemmBf16'>): void { this.addon.gemmBf16(...args); }
  gemm(...args: Args<'gemm'>): void { this.addon.gemm(...args); }

  biasActivation(...[x, bias, y, rows, cols, act, slope]: Args<'biasActivation'>): void {
    this.addon.biasActivation(x, bias, y, rows, cols, ACTIVATION_CODE[act], slope);
  }

  activationBackward(...[dy, y, dx, n, act, slope]: Args<'activationBackward'>): void {
    this.addon.activationBackward(dy, y, dx, n, ACTIVATION_CODE[act], slope);
  }

  gemmBiasActivation(...[m, n, k, x, w, bias, act, slope, y]: Args<'gemmBiasActivation'>): void {
    this.addon.gemmBiasActivation(m, n, k, x, w, bias, ACTIVATION_CODE[act], slope, y);
  }

  gemmBf16BiasActivation(...[m, n, k, x, w, bias, act, slope, y]: Args<'gemmBf16BiasActivation'>): void {
    this.addon.gemmBf16BiasActivation(m, n, k, x, w, bias, ACTIVATION_CODE[act], slope, y);
  }

  activationBiasBackward(...[dy, y, dx, rows, cols, act, slope, biasGrad, dxHalf]: Args<'activationBiasBackward'>): void {
    this.addon.activationBiasBackward(dy, y, dx, rows, cols, ACTIVATION_CODE[act], slope, biasGrad, dxHalf ?? null);
  }

  sumRows(...args: Args<'sumRows'>): void { this.addon.sumRows(...args); }
  sumCols(...args: Args<'sumCols'>): void { this.addon.sumCols(...args); }
  sum(...args: Args<'sum'>): number { return this.addon.sum(...args); }
  countNonFinite(...args: Args<'countNonFinite'>): number { return this.addon.countNonFinite(...args); }
  add(...args: Args<'add'>): void { this.addon.add(...args); }
  sub(...args: Args<'sub'>): void { this.addon.sub(...args); }
  mul(...args: Args<'mul'>): void { this.addon.mul(...args); }
  scale(...args: Args<'scale'>): void { this.addon.scale(...args); }
  axpy(...args: Args<'axpy'>): void { this.addon.axpy(...args); }
  sumShards(...args: Args<'sumShards'>): void { this.addon.sumShards(...args); }
  serialKernels(...args: Args<'serialKernels'>): void { this.addon.serialKernels(...args); }
  bceWithLogits(...args: Args<'bceWithLogits'>): void { this.addon.bceWithLogits(...args); }
  squaredError(...args: Args<'squaredError'>): void { this.addon.squaredError(...args); }
  gaussianNll(...args: Args<'gaussianNll'>): void { this.addon.gaussianNll(...args); }
  reparameterize(...args: Args<'reparameterize'>): void { this.addon.reparameterize(...args); }
  klDiagonalGaussian(...args: Args<'klDiagonalGaussian'>): void { this.addon.klDiagonalGaussian(...args); }
  reparameterizeBackward(...args: Args<'reparameterizeBackward'>): void { this.addon.reparameterizeBackward(...args); }
  mixtureLogDensity(...args: Args<'mixtureLogDensity'>): void { this.addon.mixtureLogDensity(...args); }
  mixtureBackward(...args: Args<'mixtureBackward'>): void { this.addon.mixtureBackward(...args); }

  adam(...[params, grads, m, v, n, lr, beta1, beta2, eps, step, half, layout, onlyIfFinite]: Args<'adam'>): number {
    return this.addon.adam(params, grads, m, v, n, lr, beta1, beta2, eps, step, half ?? null, layout ?? null, onlyIfFinite ?? false);
  }

  gaussianNoise(...args: Args<'gaussianNoise'>): void { this.addon.gaussianNoise(...args); }
  binarize(...args: Args<'binarize'>): void { this.addon.binarize(...args); }
  gatherBytes(...args: Args<'gatherBytes'>): void { this.addon.gatherBytes(...args); }
  im2col(...args: Args<'im2col'>): void { this.addon.im2col(...args); }
  im2colBf16(...args: Args<'im2colBf16'>): void { this.addon.im2colBf16(...args); }
  col2im(...args: Args<'col2im'>): void { this.addon.col2im(...args); }
  softmaxCrossEntropy(...args: Args<'softmaxCrossEntropy'>): number { return this.addon.softmaxCrossEntropy(...args); }
  lstmForward(...args: Args<'lstmForward'>): void { this.addon.lstmForward(...args); }
  lstmBackward(...args: Args<'lstmBackward'>): void { this.addon.lstmBackward(...args); }
  gruForward(...args: Args<'gruForward'>): void { this.addon.gruForward(...args); }
  gruBackward(...args: Args<'gruBackward'>): void { this.addon.gruBackward(...args); }
  swapAxes(...args: Args<'swapAxes'>): void { this.addon.swapAxes(...args); }
  embeddingGather(...args: Args<'embeddingGather'>): void { this.addon.embeddingGather(...args); }
  embeddingScatterAdd(...args: Args<'embeddingScatterAdd'>): void { this.addon.embeddingScatterAdd(...args); }
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
