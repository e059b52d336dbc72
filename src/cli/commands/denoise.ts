import { extname, resolve } from 'node:path';
import { VaekitError } from '../../errors.js';
import type { Command } from 'commander';
import { addModelNoiseOption, noiseForModel } from '../model-noise.js';
import { takeFirst } from '../../data/dataset.js';
import { unstandardize } from '../../data/transforms/standardize.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { loadBundle } from '../../run/bundle.js';
import { prepareOutputFile } from '../../io/output.js';
import { rowsFormat, writeRows } from '../../io/rows.js';
import { denoiseDataset } from '../../pipelines/denoise.js';
import { describeModel, describeNoise, imageDims } from '../../viz/figures.js';
import { lossOf } from '../../run/training-record.js';
import { gridFigurePng } from '../../viz/labelled-grid.js';
import {
  addDataOptions, addModelDirOption, addSeedOption, loadDataForModel, positiveInt, say, type DataFlags,
} from '../options.js';
import type { NoiseSpec } from '../../data/transforms/noise.js';

interface DenoiseFlags extends DataFlags {
  model: string;
  limit?: number;
  noise: NoiseSpec;
  seed: number;
  out: string;
  grid?: string;
  overwrite?: boolean;
}

export function register(program: Command): void {
  const cmd = addModelDirOption(program.command('denoise'))
    .description('denoise examples with a saved model; writes them as IDX, NPY or CSV (and a PNG grid of images)');
  addDataOptions(cmd, 'the examples to denoise', 'its test split');
  cmd.option('--limit <n>', 'denoise only the first N examples', positiveInt);
  addModelNoiseOption(cmd, 'noise to add first ("none" for inputs that are already noisy)');
  addSeedOption(cmd, 'seed of the added noise');
  cmd
    .requiredOption('--out <file>', 'output file: .idx (uint8 images), .npy (float32) or .csv')
    .option('--grid <file>', 'PNG grid of the first 16 inputs above their outputs, labelled, for images (default: --out with .png)')
    .option('--overwrite', 'replace an existing file at the default --grid')
    .action(async (flags: DenoiseFlags, command: Command) => {
      const bundle = loadBundle(flags.model);
      const { noise, words } = noiseForModel(command, flags, bundle);
      const format = rowsFormat(flags.out, ['idx', 'npy', 'csv']);
      const images = bundle.data.shape.length === 3;
      if (format === 'idx' && !images) throw new VaekitError(`Cannot write ${flags.out}: IDX holds images, and this model's examples are features; use .npy or .csv.`);
      const grid = images ? flags.grid ?? `${extname(flags.out) === '' ? flags.out : flags.out.slice(0, -extname(flags.out).length)}.png` : null;
      if (grid !== null && resolve(grid) === resolve(flags.out)) throw new VaekitError(`--grid and --out are both ${flags.out}: the grid would replace the denoised examples; give the grid another name.`);
      const inputs = [flags.data, flags.labels];
      prepareOutputFile(flags.out, { inputs });
      if (grid !== null) prepareOutputFile(grid, { inputs, ...(flags.grid === undefined ? { unnamed: '--overwrite', overwrite: flags.overwrite === true } : {}) });
      say(`vaekit denoise: ${words}`);
      let set = await loadDataForModel(flags, bundle, 'test');
      if (flags.limit !== undefined) set = takeFirst(set, flags.limit);
      const { noisy, denoised, count } = denoiseDataset(bundle.vae, set, { noise, seed: flags.seed });
      let png: Uint8Array | null = null;
      if (grid !== null) {
        const dims = imageDims(set.shape, set.source);
        const shown = Math.min(count, 16);
        const cells = [noisy, denoised].map((values) => Array.from({ length: shown }, (_, i) => values.subarray(i * set.size, (i + 1) * set.size)));
        const added = noise.kind !== 'none';
        png = gridFigurePng({
          ...dims,
          title: added ? `Denoising ${set.source} with ${describeNoise(noise)}` : `Denoising ${set.source}`,
          subtitle: `${describeModel(bundle.vae.config, lossOf(bundle.training))} · ${flags.model}`,
          cells,
          rowLabels: [added ? 'Noisy input' : 'Input', 'Denoised'],
          columnLabels: cells[0]!.map((_, i) => `Example ${i}`),
        });
      }
      const standardization = bundle.data.standardization;
      if (standardization !== null) unstandardize(denoised, count, standardization);
      writeRows(flags.out, { values: denoised, count, shape: set.shape, ...(bundle.data.featureNames ? { columns: bundle.data.featureNames } : {}) }, [format]);
      if (grid !== null && png !== null) {
        writeFileAtomic(grid, png);
      }
      say(`Denoised ${count} examples: ${flags.out} (${format} [${count}, ${set.shape.join(', ')}])${grid !== null ? `, ${grid} (inputs above outputs)` : ''}`);
    });
  cmd.option('--input <file>', 'the same as --data (older name)').hook('preAction', (command) => {
    const o = command.opts<{ input?: string; data: string }>();
    if (o.input !== undefined) command.setOptionValue('data', o.input);
  });
}
