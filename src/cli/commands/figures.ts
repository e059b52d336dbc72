import { join } from 'node:path';
import type { Command } from 'commander';
import type { NoiseSpec } from '../../data/transforms/noise.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { loadBundle } from '../../io/bundle.js';
import { prepareOutputFile } from '../../io/output.js';
import { notebookFigures } from '../../viz/figures.js';
import { addDataOptions, addModelDirOption, addNoiseOption, addSeedOption, loadDataForModel, say, type DataFlags } from '../options.js';

export function register(program: Command): void {
  const cmd = addModelDirOption(program.command('figures'))
    .description("write the notebook's figures (and 64 prior samples) for a saved model")
    .option('--out <dir>', 'output folder (default: the model folder)');
  addDataOptions(cmd, 'the examples shown', 'its test split');
  addNoiseOption(cmd, 'noise of the examples');
  addSeedOption(cmd, 'seed of the noise and the samples')
    .action(async (flags: DataFlags & { model: string; out?: string; noise: NoiseSpec; seed: number }) => {
      const bundle = loadBundle(flags.model);
      const set = await loadDataForModel(flags, bundle, 'test');
      const figures = notebookFigures(bundle.vae, set, flags.noise, flags.seed);
      for (const [name, png] of figures) {
        const path = join(flags.out ?? flags.model, name);
        prepareOutputFile(path);
        writeFileAtomic(path, png);
        say(`wrote ${path}`);
      }
    });
}
