import type { Command } from 'commander';
import { exampleId } from '../../data/dataset.js';
import { VaekitError } from '../../errors.js';
import { loadBundle } from '../../run/bundle.js';
import { prepareOutputFile } from '../../io/output.js';
import { labelsFileOf, rowsFormat, writeRows } from '../../io/rows.js';
import { encodeDataset } from '../../latent/encode.js';
import { addDataOptions, addModelDirOption, loadDataForModel, say, type DataFlags } from '../options.js';

export function register(program: Command): void {
  const cmd = addModelDirOption(program.command('encode'))
    .description('write the latent means (dimensionality reduction) of every example, with their labels, as NPY or CSV');
  addDataOptions(cmd, 'the examples to encode', 'its test split')
    .requiredOption('--out <file>', 'output file, one row per example in the data\'s order: .npy ([N, latent] float32; labels beside it as NAME.labels.npy) or .csv (id, z0.., label)')
    .option('--with-logvar', 'also write the posterior log-variances (after the means)')
    .option('--binarize', 'binarize the inputs (one fixed draw each), for a model trained on binarized data')
    .option('--overwrite', 'replace an existing NAME.labels.npy beside an .npy --out')
    .action(async (flags: DataFlags & { model: string; out: string; withLogvar?: boolean; binarize?: boolean; overwrite?: boolean }) => {
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
