/**
 * Paths through the latent space between two codes, and the images decoded along them.
 *
 * - linear:    z(t) = (1 - t) a + t b.
 * - spherical: z(t) = sin((1 - t) w) / sin w * a + sin(t w) / sin w * b, w the angle between a and b
 *              (Shoemake's slerp, applied to the vectors as they are, not normalized).
 *
 * Why spherical: under the prior N(0, I) in L dimensions, almost all of the mass lies near the
 * shell |z| ~ sqrt(L) (the norm of a standard normal vector concentrates there), and the
 * posterior means of real data sit near it too. The straight line between two codes on that shell
 * cuts through its inside, where |z| is smaller than almost any code the decoder was trained on
 * (half-way between two orthogonal codes of norm r it has norm r / sqrt 2); the arc of slerp keeps
 * the norm of equal-norm endpoints all the way (and for others moves smoothly between them), so the
 * path stays where the prior puts its mass (White 2016, "Sampling generative networks").
 *
 * When a and b are parallel or antiparallel (sin w ~ 0) or one is the zero vector, the arc is not
 * defined (antiparallel: every great circle through them is one) or is the line itself, and slerp
 * falls back to the linear path.
 *
 * Pure arithmetic over Float32Arrays and the model's decoder: no file system (safe in a browser).
 */
import { Tensor } from '../engine/tensor.js';
import { VaekitError } from '../errors.js';
import type { Labels, Vae } from '../vae/model.js';

export type InterpolationMethod = 'linear' | 'spherical';
export const INTERPOLATION_METHODS: readonly InterpolationMethod[] = ['linear', 'spherical'];

/** Below this |sin w| (w the angle between the endpoints) slerp is the linear path. */
const PARALLEL_SIN = 1e-6;

/** The point at t (0..1) of the linear path from a to b: (1 - t) a + t b, computed in double. */
export function lerp(a: ArrayLike<number>, b: ArrayLike<number>, t: number, out: Float32Array = new Float32Array(a.length)): Float32Array {
  checkPair(a, b);
  for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i]! + t * b[i]!;
  return out;
}

/**
 * The point at t (0..1) of the spherical path from a to b (the standard slerp formula on the
 * vectors; the linear path when they are parallel, antiparallel or one is zero). Computed in double.
 */
export function slerp(a: ArrayLike<number>, b: ArrayLike<number>, t: number, out: Float32Array = new Float32Array(a.length)): Float32Array {
  checkPair(a, b);
  const angle = angleBetween(a, b);
  if (angle === null || Math.abs(Math.sin(angle)) < PARALLEL_SIN) return lerp(a, b, t, out);
  const s = Math.sin(angle);
  const wa = Math.sin((1 - t) * angle) / s;
  const wb = Math.sin(t * angle) / s;
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i]! + wb * b[i]!;
  return out;
}

/** The angle between a and b in radians (0..pi), or null when either is the zero vector. */
export function angleBetween(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  checkPair(a, b);
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  if (aa === 0 || bb === 0) return null;
  return Math.acos(Math.min(1, Math.max(-1, dot / Math.sqrt(aa * bb))));
}

/** `steps` evenly spaced t from 0 to 1, both included (steps >= 2). */
export function interpolationTimes(steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 2) throw new VaekitError(`An interpolation needs at least 2 steps (its two endpoints), not ${steps}.`);
  return Array.from({ length: steps }, (_, i) => (i === steps - 1 ? 1 : i / (steps - 1)));
}

/** The latent vectors [steps, L] of the path from a to b at interpolationTimes(steps). */
export function interpolationPath(a: ArrayLike<number>, b: ArrayLike<number>, steps: number, method: InterpolationMethod): Float32Array {
  checkPair(a, b);
  if (!INTERPOLATION_METHODS.includes(method)) throw new VaekitError(`Unknown interpolation method "${String(method)}": use "linear" or "spherical".`);
  const times = interpolationTimes(steps);
  const L = a.length;
  const z = new Float32Array(steps * L);
  const at = method === 'linear' ? lerp : slerp;
  times.forEach((t, i) => at(a, b, t, z.subarray(i * L, (i + 1) * L)));
  return z;
}

export interface Interpolation {
  method: InterpolationMethod;
  /** The path's times, 0 to 1. */
  t: number[];
  /** The latent vectors [steps, L]. */
  z: Tensor;
  /** The decoded images [steps, h, w(, c)] (or [steps, features] for a table model). */
  images: Tensor;
}

/**
 * The path from zFrom to zTo in `steps` points (endpoints included) and the decoder's images of
 * them. A conditional model decodes every point as class `label` (required for it, refused without).
 */
export function interpolate(vae: Vae, zFrom: ArrayLike<number>, zTo: ArrayLike<number>, steps: number, method: InterpolationMethod,
  label?: number): Interpolation {
  const L = vae.latent;
  if (zFrom.length !== L || zTo.length !== L) {
    throw new VaekitError(`Both endpoints must be latent vectors of ${L} values (this model's latent size), not ${zFrom.length} and ${zTo.length}.`);
  }
  const z = new Tensor(interpolationPath(zFrom, zTo, steps, method), [steps, L]);
  return { method, t: interpolationTimes(steps), z, images: vae.decode(z, decodeLabels(vae, steps, label)) };
}

/** The labels a decode of `rows` latent vectors needs: null for an unconditional model, `label` repeated otherwise. */
export function decodeLabels(vae: Vae, rows: number, label: number | undefined): Labels {
  if (vae.classes === 0) {
    if (label !== undefined) throw new VaekitError('This model is not conditional: it takes no label.');
    return null;
  }
  if (label === undefined) throw new VaekitError(`This is a conditional model: give the class (0 to ${vae.classes - 1}) to decode.`);
  if (!Number.isInteger(label) || label < 0 || label >= vae.classes) {
    throw new VaekitError(`Class ${label} is not one of this model's classes (0 to ${vae.classes - 1}).`);
  }
  return new Int32Array(rows).fill(label);
}

function checkPair(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new VaekitError(`Cannot interpolate between vectors of ${a.length} and ${b.length} values: they must have the same length.`);
}
