import { readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { VaekitError } from '../../errors.js';
import { exportRunData } from '../../run/export-data.js';
import { planRun } from '../../run/plan.js';
import { validateRunSpec, type RunSpec } from '../../run/spec.js';
import { addModelOptions, addTrainOptions, checkGivenFlags, optionGiven, positiveInt, say } from '../options.js';
import { givenSpecFlags, inFlagWords, overrideSpec, specFromFlags, type RunFlags } from '../spec-flags.js';
import { readSpecFile } from './train.js';

export function register(program: Command): void {
  addTrainOptions(addModelOptions(program.command('export-data')), 'data-export')
    .description('write a run\'s training and validation data (as vaekit train reads and splits it from the same flags or --config) as sharded NPY files with an index.json, for the torchrun trainer (train.py of the PyTorch export)')
    .option('--config <file>', 'the run spec whose data to write (a run folder\'s run.json); flags given beside it change its fields')
    .option('--files <n>', 'NPY files (shards) of the training split (default: one per 65,536 examples or 256 MiB of values, whichever is fewer rows); the validation split gets as many', positiveInt)
    .action(async (flags: RunFlags & { config?: string; files?: number }, command: Command) => {
      if (!optionGiven(command, 'out')) throw new VaekitError('--out is required: the folder (new or empty) to write the data into.');
      checkGivenFlags(command, flags);
      const existing = statSync(flags.out, { throwIfNoEntry: false });
      if (existing?.isDirectory() === true && readdirSync(flags.out).length > 0 && flags.overwrite !== true) {
        throw new VaekitError(`${flags.out} is not empty; pass --overwrite to replace the data export it holds, or choose another --out.`);
      }
      let spec: RunSpec;
      try {
        const fromFlags = specFromFlags(flags, { figures: false, checkpoints: false });
        spec = flags.config !== undefined
          ? validateRunSpec(overrideSpec(readSpecFile(resolve(flags.config)), fromFlags, givenSpecFlags(command, ['overwrite', 'out', 'files'])).spec)
          : validateRunSpec(fromFlags);
      } catch (err) {
        throw inFlagWords(err);
      }
      const plan = await planRun(spec, { report: say });
      const index = exportRunData(plan, flags.out, { overwrite: flags.overwrite === true, ...(flags.files !== undefined ? { shards: flags.files } : {}) });
      const { train, validation } = index.splits;
      say(`Wrote ${flags.out}: ${train.rows} training examples in ${train.shards.length} shard${train.shards.length === 1 ? '' : 's'} and ${validation.rows} validation examples in ${validation.shards.length}, `
        + `float32 [N, ${index.shape.join(', ')}] (${index.layout === 'NCHW' ? 'images channels-first, values in [0, 1]' : 'features, standardized'})${index.labels ? ' with int64 labels' : ''}, listed in index.json.`);
    });
}
