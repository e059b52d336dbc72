import type { Command } from 'commander';
import { exampleId } from '../../data/dataset.js';
import { VaekitError } from '../../errors.js';
import { loadBundle } from '../../run/bundle.js';
import { prepareOutputFile } from '../../io/output.js';
import { labelsFileOf, rowsFormat, writeRows } from '../../io/rows.js';
import { encodeDataset } from '../../latent/encode.js';
import {
  addDataOptions, addModelDirOption, addTextColumnOption, loadDataForModel, notForText, textSourceFrom, onlyForText, optionGiven, prepareNewOutputFile,
  refuseGivenOptions, refuseOptionsOutside, say, type DataFlags,
} from '../options.js';
import type { TextBundle } from '../../run/bundle.js';
import { classesForModel, posteriorParameters, readTextForModel } from '../../pipelines/text.js';
import { textModelAt } from '../../pipelines/text-model.js';

interface EncodeFlags extends DataFlags {
  model: string;
  out: string;
  withLogvar?: boolean;
  binarize?: boolean;
  overwrite?: boolean;
}

/** A text model's posterior means (and log-variances) of every sentence of --data, read with its vocabulary, in the data's order with their ids. */
async function encodeText(model: TextBundle, flags: EncodeFlags, command: Command): Promise<void> {
  refuseOptionsOutside(command, ['model', 'data', 'memoryBudget', 'textColumn', 'labelColumn', 'out', 'withLogvar', 'overwrite'], notForText(flags.model));
  if (model.vae.latent === 0) throw new VaekitError(`${flags.model} holds a language model (latent 0): it has no latent code to encode sentences to.`);
  if (!optionGiven(command, 'data')) throw new VaekitError('Give --data, the text to encode: a .txt file (one sentence a line), a .csv file with --text-column, or a folder of .txt files.');
  const format = rowsFormat(flags.out, ['npy', 'csv']);
  const inputs = [flags.data];
  prepareNewOutputFile(flags.out, flags.overwrite, inputs);
  const set = await readTextForModel(model, flags.data, textSourceFrom(flags));
  if (format === 'npy' && set.labels !== null) prepareNewOutputFile(labelsFileOf(flags.out), flags.overwrite, inputs, '');
  const { mean, logvar } = posteriorParameters(model, set, classesForModel(model, set));
  const L = model.vae.latent;
  const withLogvar = flags.withLogvar === true;
  const width = withLogvar ? 2 * L : L;
  const values = new Float32Array(set.count * width);
  for (let r = 0; r < set.count; r++) {
    values.set(mean.subarray(r * L, (r + 1) * L), r * width);
    if (withLogvar) values.set(logvar.subarray(r * L, (r + 1) * L), r * width + L);
  }
  const columns = [...Array.from({ length: L }, (_, d) => `z${d}`), ...(withLogvar ? Array.from({ length: L }, (_, d) => `logvar${d}`) : [])];
  const files = writeRows(flags.out, { values, count: set.count, shape: [width], columns, labels: set.labels, labelNames: set.labelNames, ids: (r) => exampleId(set, r) }, [format]);
  const cut = set.text?.cut ?? 0;
  say(`Encoded ${set.count} sentences of ${set.source} into ${L} latent dimensions${withLogvar ? ' (means, then log-variances)' : ''}: ${files.join(', ')}${cut > 0 ? ` (${cut} cut to the model's ${model.vae.maxLength} tokens)` : ''}`);
}

export function register(program: Command): void {
  const cmd = addModelDirOption(program.command('encode'))
    .description('write the latent means (dimensionality reduction) of every example, with their labels, as NPY or CSV');
  addDataOptions(cmd, 'the examples to encode (text models: a .txt file, one sentence a line; a .csv file with --text-column; a folder of .txt files)', 'its test split');
  addTextColumnOption(cmd)
    .requiredOption('--out <file>', 'output file, one row per example in the data\'s order: .npy ([N, latent] float32; labels beside it as NAME.labels.npy) or .csv (id, z0.., label; a text line\'s id is its line number, a CSV row\'s its row, a file\'s its path)')
    .option('--with-logvar', 'also write the posterior log-variances (after the means)')
    .option('--binarize', 'binarize the inputs (one fixed draw each), for a model trained on binarized data')
    .option('--overwrite', 'replace an existing NAME.labels.npy beside an .npy --out; text models: also an existing --out')
    .action(async (flags: EncodeFlags, command: Command) => {
      const text = textModelAt(flags.model);
      if (text !== null) {
        await encodeText(text, flags, command);
        return;
      }
      refuseGivenOptions(command, ['textColumn'], onlyForText(flags.model));
      const bundle = loadBundle(flags.model);
      const format = rowsFormat(flags.out, ['npy', 'csv']);
      const inputs = [flags.data, flags.labels];
      prepareOutputFile(flags.out, { inputs });
      const set = await loadDataForModel(flags, bundle, 'test');
      if (set.count === 0) throw new VaekitError(`${set.source} has no examples to encode.`);
      if (format === 'npy' && set.labels !== null) prepareOutputFile(labelsFileOf(flags.out), { inputs, unnamed: '--overwrite', overwrite: flags.overwrite === true });
      const codes = encodeDataset(bundle.vae, set, { withLogvar: flags.withLogvar === true, binarize: flags.binarize === true });
      const L = codes.latent;
      const width = codes.logvar === null ? L : 2 * L;
      const values = new Float32Array(codes.count * width);
      for (let r = 0; r < codes.count; r++) {
        values.set(codes.mean.subarray(r * L, (r + 1) * L), r * width);
        if (codes.logvar !== null) values.set(codes.logvar.subarray(r * L, (r + 1) * L), r * width + L);
      }
      const columns = [...Array.from({ length: L }, (_, d) => `z${d}`), ...(codes.logvar === null ? [] : Array.from({ length: L }, (_, d) => `logvar${d}`))];
      const files = writeRows(flags.out, { values, count: codes.count, shape: [width], columns, labels: set.labels, labelNames: set.labelNames, ids: (r) => exampleId(set, r) }, [format]);
      say(`Encoded ${codes.count} examples into ${L} latent dimensions: ${files.join(', ')}`);
    });
}
