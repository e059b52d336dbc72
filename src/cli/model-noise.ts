/**
 * The --noise of the commands that take a saved model (eval, denoise, figures): the flag when it is
 * given, else the noise the model was trained with, else (a bundle that does not record it) the
 * default; with a line that says which, so no number is read at a noise the user did not expect.
 */
import type { Command } from 'commander';
import { DEFAULT_NOISE, formatNoise, type NoiseSpec } from '../data/transforms/noise.js';
import type { Bundle } from '../run/bundle.js';
import { trainedNoise } from '../run/training-record.js';
import { addNoiseOption } from './options.js';
import { RUN_FILES } from '../run/names.js';

export interface ModelNoise {
  noise: NoiseSpec;
  /** "noise none (the noise the model was trained with; --noise to change it)", or the like. */
  words: string;
}

export function noiseForModel(command: Command, flags: { noise: NoiseSpec }, bundle: Bundle): ModelNoise {
  if (command.getOptionValueSource('noise') === 'cli') return { noise: flags.noise, words: `noise ${formatNoise(flags.noise)} (--noise)` };
  const trained = trainedNoise(bundle.training);
  if (trained !== null) return { noise: trained, words: `noise ${formatNoise(trained)} (the noise the model was trained with; --noise to change it)` };
  return { noise: flags.noise, words: `noise ${formatNoise(flags.noise)} (the default: the model's ${RUN_FILES.config} does not record its training noise)` };
}

/** --noise for a command that takes a saved model: its help says the default is the model's own noise. */
export function addModelNoiseOption(cmd: Command, description: string): Command {
  addNoiseOption(cmd, description);
  cmd.options.find((o) => o.long === '--noise')
    ?.default(DEFAULT_NOISE, `the noise the model was trained with; ${formatNoise(DEFAULT_NOISE)} for a model whose ${RUN_FILES.config} does not record it`);
  return cmd;
}
