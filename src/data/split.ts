/** A seeded split of a dataset into a training part and a validation part. */
import { Random } from '../engine/random.js';
import { VaekitError } from '../errors.js';
import { shuffledOrder } from './batches.js';
import { subset, type Dataset } from './dataset.js';

/**
 * A seeded split of a set into training and validation examples: `fraction` of them (at least one,
 * and at least one left to train on) go to validation, drawn at random from the seed.
 */
export function splitValidation(set: Dataset, fraction: number, seed: number): { train: Dataset; validation: Dataset } {
  if (!(fraction > 0 && fraction < 1)) throw new VaekitError(`The validation fraction must be between 0 and 1, not ${fraction}.`);
  const n = Math.min(set.count - 1, Math.max(1, Math.round(set.count * fraction)));
  if (set.count < 2 || n < 1) throw new VaekitError(`${set.source} has ${set.count} examples: too few to split off a validation set.`);
  const order = shuffledOrder(set.count, new Random((seed ^ 0x5711) >>> 0));
  // Each part keeps the examples in their stored order.
  const validation = Uint32Array.from(order.subarray(0, n)).sort();
  const train = Uint32Array.from(order.subarray(n)).sort();
  return {
    train: subset(set, train, `${set.source} (training part)`),
    validation: subset(set, validation, `${set.source} (validation part)`),
  };
}

