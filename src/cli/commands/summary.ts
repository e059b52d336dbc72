import type { Command } from 'commander';
import { loadBundle } from '../../run/bundle.js';
import { parseLoss } from '../../vae/objective.js';
import { modelConfigForData } from '../../run/data.js';
import { Vae } from '../../vae/model.js';
import { describeVocabulary, textModelAt } from '../../pipelines/text-model.js';
import { addDataOptions, addModelOptions, loadDataFrom, modelChoicesFrom, say, type DataFlags, type ModelFlags } from '../options.js';

export function register(program: Command): void {
  addDataOptions(addModelOptions(program.command('summary')), 'the data whose shape and classes the model takes', 'its training split')
    .description('print the layers, output shapes and parameter counts of a preset (for --data) or a saved model (a text model\'s with its vocabulary settings)')
    .option('--model <dir>', 'a saved model folder (instead of a preset)')
    .action(async (flags: ModelFlags & DataFlags & { model?: string }) => {
      const text = textModelAt(flags.model);
      if (text !== null) {
        say(text.vae.summary());
        for (const line of describeVocabulary(text)) say(line);
        return;
      }
      if (flags.model !== undefined) {
        // A saved model's summary names the loss it was trained with (the notebook's uses no likelihood).
        const bundle = loadBundle(flags.model);
        const loss = bundle.training.loss;
        say(bundle.vae.summary(typeof loss === 'string' ? { loss: parseLoss(loss) } : {}));
        return;
      }
      const vae = new Vae(modelConfigForData(modelChoicesFrom(flags), await loadDataFrom(flags, 'train')));
      say(vae.summary());
    });
}
