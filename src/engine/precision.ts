/**
 * Training precision. 'fp32' (the default, bit-reproducible) runs every product in float32; 'bf16'
 * is mixed precision: the layers' matrix products take bfloat16 operands with float32 accumulation
 * (Backend.gemmBf16, oneDNN on AMX or AVX512-BF16), while the weights (the master copy), Adam, the
 * losses and every reduction stay in float32, as in PyTorch's CPU autocast.
 */
import type { Backend, Bf16Support } from './backend.js';
import { VaekitError } from '../errors.js';

export type Precision = 'fp32' | 'bf16';
export const PRECISIONS: readonly Precision[] = ['fp32', 'bf16'];

export function parsePrecision(text: string): Precision {
  if (text === 'fp32' || text === 'bf16') return text;
  throw new VaekitError(`Unknown precision "${text}": use "fp32" or "bf16" (bfloat16 products with float32 accumulation, where the CPU has AMX or AVX512-BF16).`);
}

/**
 * The precision a training asked for and the one it gets on this backend: bf16 only where the
 * backend runs bf16 products natively; otherwise fp32, with one line that says why.
 */
export function resolvePrecision(backend: Backend, requested: Precision): { precision: Precision; note: string | null } {
  if (requested === 'fp32') return { precision: 'fp32', note: null };
  const bf16 = backend.info().bf16;
  if (bf16.available) return { precision: 'bf16', note: null };
  return { precision: 'fp32', note: `training.precision bf16 is not available here (${bf16.reason ?? 'no bf16 kernels'}); training in fp32.` };
}

/**
 * Runs one small bf16 product so that oneDNN picks (and reports) its kernel, and returns the
 * backend's bf16 support after it; without bf16 support it just returns it.
 */
export function probeBf16(backend: Backend): Bf16Support {
  const before = backend.info().bf16;
  if (!before.available) return before;
  const m = 128;
  const n = 256;
  const k = 256;
  backend.gemmBf16(false, false, m, n, k, 1, new Uint16Array(m * k), new Uint16Array(k * n), 0, new Float32Array(m * n));
  return backend.info().bf16;
}
