/**
 * KL warm-up: a factor in [0, 1] on the KL weight beta, per training step.
 * - none: always 1.
 * - linear:E — rises linearly from 0 to 1 over the first E epochs.
 * - logistic:E — rises along a logistic curve over the first E epochs, 1 / (1 + exp(-12 (e / E - 0.5))):
 *   0.0025 at the start, 0.5 at E / 2, then 1 from epoch E on (Bowman et al. 2016's schedule for text).
 * - cyclical:P[:R] — cycles of P epochs; in each, rises linearly from 0 to 1 over the first
 *   fraction R (default 0.5) of the cycle, then stays at 1 (Fu et al. 2019).
 */
import { VaekitError } from '../errors.js';

export type KlSchedule =
  | { kind: 'none' }
  | { kind: 'linear'; epochs: number }
  | { kind: 'logistic'; epochs: number }
  | { kind: 'cyclical'; period: number; ramp: number };

export const NO_WARMUP: KlSchedule = { kind: 'none' };

export function parseKlSchedule(text: string): KlSchedule {
  const [kind, a, b, ...rest] = text.split(':');
  const num = (v: string | undefined, what: string, ok: (x: number) => boolean): number => {
    const x = Number(v);
    if (v === undefined || v.trim() === '' || !Number.isFinite(x) || !ok(x)) {
      throw new VaekitError(`Invalid KL warm-up "${text}": ${what}.`);
    }
    return x;
  };
  if (rest.length === 0 && kind === 'none' && a === undefined) return NO_WARMUP;
  if (rest.length === 0 && kind === 'linear' && b === undefined) {
    return { kind: 'linear', epochs: num(a, 'the epochs must be a positive number, e.g. "linear:10"', (x) => x > 0) };
  }
  if (rest.length === 0 && kind === 'logistic' && b === undefined) {
    return { kind: 'logistic', epochs: num(a, 'the epochs must be a positive number, e.g. "logistic:10"', (x) => x > 0) };
  }
  if (rest.length === 0 && kind === 'cyclical') {
    return {
      kind: 'cyclical',
      period: num(a, 'the period must be a positive number of epochs, e.g. "cyclical:4"', (x) => x > 0),
      ramp: b === undefined ? 0.5 : num(b, 'the ramp must be a fraction in (0, 1], e.g. "cyclical:4:0.5"', (x) => x > 0 && x <= 1),
    };
  }
  throw new VaekitError(`Unknown KL warm-up "${text}": use "none", "linear:EPOCHS", "logistic:EPOCHS" or "cyclical:PERIOD[:RAMP]".`);
}

export function formatKlSchedule(s: KlSchedule): string {
  return s.kind === 'none' ? 'none' : s.kind === 'cyclical' ? `cyclical:${s.period}:${s.ramp}` : `${s.kind}:${s.epochs}`;
}

/** The factor on beta after `epochsDone` epochs (fractional: steps / steps per epoch). */
export function klFactor(s: KlSchedule, epochsDone: number): number {
  switch (s.kind) {
    case 'none':
      return 1;
    case 'linear':
      return Math.min(1, epochsDone / s.epochs);
    case 'logistic':
      return epochsDone >= s.epochs ? 1 : 1 / (1 + Math.exp(-12 * (epochsDone / s.epochs - 0.5)));
    case 'cyclical': {
      const phase = (epochsDone % s.period) / s.period;
      return Math.min(1, phase / s.ramp);
    }
  }
}
