import { dirname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { DATA_HELP } from '../../data/load.js';
import { NOISE_HELP, parseNoise, type NoiseSpec } from '../../data/transforms/noise.js';
import { loadBundle } from '../../run/bundle.js';
import { RUN_FILES } from '../../run/names.js';
import { prepareReportFile, writeReport } from '../../report/report.js';
import { addDataOptions, addModelDirOption, inLockedFolder, loadDataForModel, say, seedValue, type DataFlags } from '../options.js';

interface ReportFlags extends Omit<DataFlags, 'data'> {
  model: string;
  data?: string;
  out?: string;
  noise?: NoiseSpec;
  seed?: number;
}

function noiseValue(text: string): NoiseSpec {
  try {
    return parseNoise(text);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

export function register(program: Command): void {
  const cmd = addModelDirOption(program.command('report'))
    .description('write one self-contained HTML page about a saved model: summary, configuration, training curves, test metrics, evaluation, figures and prior samples')
    .option('--out <file>', `the HTML file (default: ${RUN_FILES.report} in the model folder)`);
  // --data has no default here (no data is read unless asked for); the options that say how to read it are the other commands'.
  cmd.option('--data <spec>', `examples to draw the notebook's figures from when the folder has none: ${DATA_HELP} (default: none, no data is read)`);
  for (const option of addDataOptions(new Command(), '', '').options) if (option.long !== '--data') cmd.addOption(option);
  cmd
    .option('--noise <spec>', `noise of those figures: ${NOISE_HELP} (default: the noise the model was trained with)`, noiseValue)
    .option('--seed <n>', 'seed of the prior samples and of the figures\' noise (default: the seed the model was trained with)', seedValue)
    .action(async (flags: ReportFlags) => {
      const bundle = loadBundle(flags.model);
      prepareReportFile(flags.model, flags.out ?? join(flags.model, RUN_FILES.report), [flags.data, flags.labels]);
      // No data is read unless the user names it: the page shows what the folder has, and draws only the curves and prior samples.
      const data = flags.data !== undefined ? await loadDataForModel({ ...flags, data: flags.data }, bundle, 'test') : undefined;
      const write = (): Promise<string> => writeReport(flags.model, {
        bundle,
        ...(flags.out !== undefined ? { out: flags.out } : {}),
        ...(data !== undefined ? { data } : {}),
        ...(flags.noise !== undefined ? { noise: flags.noise } : {}),
        ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
      });
      // A page written into the model folder takes the folder's lock, as every writer of a run folder does.
      const intoModel = flags.out === undefined || resolve(dirname(flags.out)) === resolve(flags.model);
      say(intoModel ? await inLockedFolder(flags.model, write) : await write());
    });
}
