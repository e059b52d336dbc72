import { extname } from 'node:path';
import type { Command } from 'commander';
import { unstandardize } from '../../data/transforms/standardize.js';
import { VaekitError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { loadBundle } from '../../run/bundle.js';
import { prepareOutputFile } from '../../io/output.js';
import { rowsFormat, writeRows } from '../../io/rows.js';
import { classIndex } from '../../run/data.js';
import { samplesPng } from '../../viz/figures.js';
import { lossOf } from '../../run/training-record.js';
import { addModelDirOption, addSeedOption, positiveInt, say } from '../options.js';

export function register(program: Command): void {
  const cmd = addModelDirOption(program.command('sample'))
    .description('decode examples from z ~ p(z), the model\'s prior: a PNG grid of images, or the values as NPY or CSV (tables too)')
    .option('--count <n>', 'number of samples', positiveInt, 64)
    .option('--label <class>', 'the class to draw, by name or index (conditional models; without it, a PNG has one row per class)');
  addSeedOption(cmd, 'seed of the latent draws')
    .requiredOption('--out <file>', 'output file: .png (a grid of images), .npy or .csv (the values, in the data\'s own units)')
    .action((flags: { model: string; count: number; label?: string; seed: number; out: string }) => {
      const { vae, data, training } = loadBundle(flags.model);
      if (vae.classes === 0 && flags.label !== undefined) throw new VaekitError(`${flags.model} is not a conditional model: it takes no --label.`);
      const label = flags.label === undefined ? undefined : classIndex(data, vae.classes, flags.label);
      const what = label === undefined ? '' : ` of class ${data.classNames?.[label] ?? label}`;
      const ext = extname(flags.out).toLowerCase();
      if (ext !== '.png' && ext !== '.npy' && ext !== '.csv') throw new VaekitError(`Cannot write ${flags.out}: its name must end in .png, .npy or .csv.`);
      if (ext === '.png') {
        const png = samplesPng(vae, flags.count, flags.seed, label, { classNames: data.classNames, model: flags.model, loss: lossOf(training) });
        prepareOutputFile(flags.out);
        writeFileAtomic(flags.out, png);
        say(`wrote ${flags.out} (${flags.count} samples${label === undefined && vae.classes > 0 ? ', one row per class' : what})`);
        return;
      }
      const format = rowsFormat(flags.out, ['npy', 'csv']);
      if (vae.classes > 0 && label === undefined) throw new VaekitError(`${flags.model} is a conditional model: give --label to write samples of one class.`);
      const samples = vae.sample(flags.count, flags.seed, label).data;
      if (data.standardization !== null) unstandardize(samples, flags.count, data.standardization);
      prepareOutputFile(flags.out);
      writeRows(flags.out, { values: samples, count: flags.count, shape: data.shape, ...(data.featureNames ? { columns: data.featureNames } : {}) }, [format]);
      say(`wrote ${flags.out} (${flags.count} samples${what}, ${format} [${flags.count}, ${data.shape.join(', ')}])`);
    });
}
