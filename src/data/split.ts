/** Seeded splits of a dataset: a training part and a validation part, or a part held out to score. */
import { Random } from '../engine/random.js';
import { VaekitError } from '../errors.js';
import { shuffledOrder } from './batches.js';
import { subset, type Dataset } from './dataset.js';

/**
 * `fraction` of a set's examples (at least one, and at least one left) drawn at random from the
 * seed and its salt, and the rest; each part keeps the examples in their stored order, and their ids.
 */
function seededSplit(set: Dataset, fraction: number, seed: number, salt: number, what: string): { rest: Dataset; drawn: Dataset } {
  if (!(fraction > 0 && fraction < 1)) throw new VaekitError(`The ${what} fraction must be between 0 and 1, not ${fraction}.`);
  const n = Math.min(set.count - 1, Math.max(1, Math.round(set.count * fraction)));
  if (set.count < 2 || n < 1) throw new VaekitError(`${set.source} has ${set.count} examples: too few to split off a ${what} set.`);
  const order = shuffledOrder(set.count, new Random((seed ^ salt) >>> 0));
  const drawn = Uint32Array.from(order.subarray(0, n)).sort();
  const rest = Uint32Array.from(order.subarray(n)).sort();
  return { rest: subset(set, rest, `${set.source} (training part)`), drawn: subset(set, drawn, `${set.source} (${what} part)`) };
}

/**
 * A seeded split of a set into training and validation examples: `fraction` of them (at least one,
 * and at least one left to train on) go to validation, drawn at random from the seed.
 */
export function splitValidation(set: Dataset, fraction: number, seed: number): { train: Dataset; validation: Dataset } {
  const { rest, drawn } = seededSplit(set, fraction, seed, 0x5711, 'validation');
  return { train: rest, validation: drawn };
}

/** A seeded split into examples to train on and `fraction` held out to score, which no model trains on. */
export function holdOut(set: Dataset, fraction: number, seed: number): { train: Dataset; heldOut: Dataset } {
  const { rest, drawn } = seededSplit(set, fraction, seed, 0x4e1d, 'held-out');
  return { train: rest, heldOut: drawn };
}

/**
 * Series windows (a dataset with `series` info) split in time: of each series' windows, the last
 * `fraction` (at least one, where it has two or more) validate, and the windows before them that share
 * no point with them train; the windows in between are dropped, so that no point is both trained on and
 * held out (a random share of overlapping windows would put most validation points in training too).
 */
export function splitSeriesValidation(set: Dataset, fraction: number): { train: Dataset; validation: Dataset; dropped: number } {
  const info = set.series;
  if (info === undefined) throw new VaekitError(`${set.source} holds no series windows to split in time.`);
  if (!(fraction > 0 && fraction < 1)) throw new VaekitError(`The validation fraction must be between 0 and 1, not ${fraction}.`);
  const bySeries = info.names.map(() => [] as number[]);
  for (let k = 0; k < set.count; k++) bySeries[info.seriesIndex[k]!]!.push(k);
  const train: number[] = [];
  const validation: number[] = [];
  for (const windows of bySeries) {
    if (windows.length < 2) continue;
    const held = Math.min(windows.length - 1, Math.max(1, Math.round(fraction * windows.length)));
    const first = windows.length - held;
    const firstStart = info.starts[windows[first]!]!;
    for (let n = 0; n < windows.length; n++) {
      if (n >= first) validation.push(windows[n]!);
      else if (info.starts[windows[n]!]! + info.window <= firstStart) train.push(windows[n]!);
    }
  }
  if (train.length === 0 || validation.length === 0) {
    throw new VaekitError(
      `${set.source} gives ${set.count} training windows, too few to validate on the last ${+(100 * fraction).toPrecision(3)}% of each series and train on windows before them that share no point with those; give more of each series to train on (data.trainUntil), a shorter data.window, or data.validation.source.`,
    );
  }
  return {
    train: subset(set, train, set.source),
    validation: subset(set, validation, `${set.source.replace(/ \(training part\)$/, '')} (validation part)`),
    dropped: set.count - train.length - validation.length,
  };
}
