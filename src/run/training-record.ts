/**
 * What a bundle's training record (config.json's "training", written by describeTraining in
 * train/fit.ts) says about settings later commands default to.
 */
import { parseNoise, type NoiseSpec } from '../data/transforms/noise.js';
import { LOSSES, type LossName } from '../vae/objective.js';

/** The noise the model was trained with, or null when its record has none (bundles from before it was recorded) or one vaekit cannot read. */
export function trainedNoise(training: Record<string, unknown>): NoiseSpec | null {
  const text = training['noise'];
  if (typeof text !== 'string') return null;
  try {
    return parseNoise(text);
  } catch {
    return null;
  }
}

/** The objective a bundle's training settings name (its `loss`), if they name a known one. */
export function lossOf(training: Record<string, unknown>): LossName | undefined {
  const loss = training['loss'];
  return typeof loss === 'string' && (LOSSES as readonly string[]).includes(loss) ? loss as LossName : undefined;
}
