import { join } from 'node:path';
import type { Command } from 'commander';
import { addModelNoiseOption, noiseForModel } from '../model-noise.js';
import type { NoiseSpec } from '../../data/transforms/noise.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { loadBundle } from '../../run/bundle.js';
import { prepareOutputFile } from '../../io/output.js';
import { modelFigures } from '../../pipelines/figures.js';
import { addDataOptions, addModelDirOption, addSeedOption, inLockedFolder, loadDataForModel, say, type DataFlags } from '../options.js';
import { RUN_FILES } from '../../run/names.js';

export function register(program: Command): void {
  const cmd = addModelDirOption(program.command('figures'))
    .description(`write the notebook's figures (and 64 prior samples) for a saved model, and its training curves from ${RUN_FILES.metrics}`)
    .option('--out <dir>', 'output folder (default: the model folder)');
  addDataOptions(cmd, 'the examples shown', 'its test split');
  addModelNoiseOption(cmd, 'noise of the examples');
  addSeedOption(cmd, 'seed of the noise and the samples')
    .action(async (flags: DataFlags & { model: string; out?: string; noise: NoiseSpec; seed: number }, command: Command) => {
      const bundle = loadBundle(flags.model);
      const { noise, words } = noiseForModel(command, flags, bundle);
      say(`vaekit figures: ${words}`);
      const set = await loadDataForModel(flags, bundle, 'test');
      const figures = await modelFigures(flags.model, bundle, set, noise, flags.seed);
      const out = flags.out ?? flags.model;
      for (const [name] of figures) prepareOutputFile(join(out, name));
      await inLockedFolder(out, () => {
        for (const [name, bytes] of figures) {
          const path = join(out, name);
          writeFileAtomic(path, bytes);
          say(`wrote ${path}`);
        }
      });
    });
}
