import { Option, type Command } from 'commander';
import { EXPORT_FORMAT_NAMES, EXPORT_FORMATS, type ExportFormat } from '../../export/index.js';
import { writeExport } from '../../export/write.js';
import { loadAnyBundle } from '../../run/bundle.js';
import { addModelDirOption, say } from '../options.js';

export function register(program: Command): void {
  addModelDirOption(program.command('export'))
    .description('export a model for other runtimes: ONNX graphs, the TF.js layers format or a PyTorch module (with a README on using them); a text model also gets its vocabulary and a step-by-step decoder')
    .addOption(new Option('--format <name>', 'export format').choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .requiredOption('--out <dir>', 'output folder (new or empty)')
    .option('--overwrite', 'replace an earlier export in --out')
    .action((flags: { model: string; format: ExportFormat; out: string; overwrite?: boolean }) => {
      const bundle = loadAnyBundle(flags.model);
      const paths = writeExport(bundle.vae, flags.format, flags.out, bundle.data, { overwrite: flags.overwrite === true, training: bundle.training });
      say(`Exported ${flags.model} (${EXPORT_FORMAT_NAMES[flags.format]}) into ${flags.out}:`);
      for (const path of paths) say(`  ${path}`);
    });
}
