import type { Command } from 'commander';
import { loadModel } from '../../io/bundle.js';
import { modelConfigForData } from '../../pipelines/data.js';
import { Vae } from '../../vae/model.js';
import { addDataOptions, addModelOptions, loadDataFrom, modelChoicesFrom, say, type DataFlags, type ModelFlags } from '../options.js';

export function register(program: Command): void {
  addDataOptions(addModelOptions(program.command('summary')), 'the data whose shape and classes the model takes', 'its training split')
    .description('print the layers, output shapes and parameter counts of a preset (for --data) or a saved model')
    .option('--model <dir>', 'a saved model folder (instead of a preset)')
    .action(async (flags: ModelFlags & DataFlags & { model?: string }) => {
      const vae = flags.model !== undefined ? loadModel(flags.model) : new Vae(modelConfigForData(modelChoicesFrom(flags), await loadDataFrom(flags, 'train')));
      say(vae.summary());
    });
}
