import type { Command } from 'commander';
import { VaekitError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { loadBundle } from '../../io/bundle.js';
import { prepareOutputFile } from '../../io/output.js';
import { classIndex } from '../../pipelines/data.js';
import { samplesPng } from '../../viz/figures.js';
import { addModelDirOption, addSeedOption, positiveInt, say } from '../options.js';

export function register(program: Command): void {
  const cmd = addModelDirOption(program.command('sample'))
    .description('decode images from z ~ p(z), the model\'s prior, into a PNG grid')
    .option('--count <n>', 'number of samples', positiveInt, 64)
    .option('--label <class>', 'the class to draw, by name or index (conditional models; without it, one row per class)');
  addSeedOption(cmd, 'seed of the latent draws')
    .requiredOption('--out <file>', 'output PNG file')
    .action((flags: { model: string; count: number; label?: string; seed: number; out: string }) => {
      const { vae, data } = loadBundle(flags.model);
      if (vae.classes === 0 && flags.label !== undefined) throw new VaekitError(`${flags.model} is not a conditional model: it takes no --label.`);
      const label = flags.label === undefined ? undefined : classIndex(data, vae.classes, flags.label);
      const png = samplesPng(vae, flags.count, flags.seed, label);
      prepareOutputFile(flags.out);
      writeFileAtomic(flags.out, png);
      const what = label === undefined ? (vae.classes > 0 ? ', one row per class' : '') : ` of class ${data.classNames?.[label] ?? label}`;
      say(`wrote ${flags.out} (${flags.count} samples${what})`);
    });
}
