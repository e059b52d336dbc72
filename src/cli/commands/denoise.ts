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
import { parseNoise, type NoiseSpec } from '../../data/transforms/noise.js';
import { InvalidArgumentError } from 'commander';
import { exampleId } from '../../data/dataset.js';
import type { TextBundle } from '../../run/bundle.js';
import { trainedNoise } from '../../run/training-record.js';
import { classesForModel, readTextForModel, reconstructSet, setSentences, textCsv } from '../../pipelines/text.js';
import { textModelAt } from '../../pipelines/text-model.js';
import { formatTextNoise, isTextOnlyNoise, noisyTextSet, parseTextNoise, TEXT_NOISE_HELP, textNoiseOf, type TextNoise } from '../../pipelines/text-noise.js';
import {
  addTextColumnOption, notForText, textSourceFrom, onlyForText, optionGiven, prepareNewOutputFile, refuseGivenOptions, refuseOptionsOutside,
} from '../options.js';

interface DenoiseFlags extends DataFlags {
  model: string;
  limit?: number;
  noise: NoiseSpec | TextNoise;
  input?: string;
  seed: number;
  out: string;
  grid?: string;
  overwrite?: boolean;
}

/** --noise of either kind: word-dropout for text models, the rest as the image and table noise parser reads it. */
function anyNoise(text: string): NoiseSpec | TextNoise {
  try {
    return isTextOnlyNoise(text) ? parseTextNoise(text) : parseNoise(text);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

/** Examples the text path prints. */
const SHOWN = 5;

/**
 * A text model denoising sentences: each sentence of --data with its tokens turned to <unk> by the
 * noise (seeded), encoded, and decoded greedily from its posterior mean; a CSV of id, input (the
 * noisy sentence) and output.
 */
async function denoiseText(model: TextBundle, flags: DenoiseFlags, command: Command): Promise<void> {
  refuseOptionsOutside(command, ['model', 'data', 'memoryBudget', 'input', 'textColumn', 'labelColumn', 'limit', 'noise', 'seed', 'out', 'overwrite'], notForText(flags.model));
  if (model.vae.latent === 0) throw new VaekitError(`${flags.model} holds a language model (latent 0): it has no latent code to decode a sentence from, so it cannot denoise.`);
  if (!optionGiven(command, 'data') && flags.input === undefined) throw new VaekitError('Give --data, the sentences to denoise: a .txt file (one a line), a .csv file with --text-column, or a folder of .txt files.');
  let noise: TextNoise;
  let words: string;
  if (optionGiven(command, 'noise')) {
    noise = textNoiseOf(flags.noise);
    words = `noise ${formatTextNoise(noise)} (--noise)`;
  } else {
    const trained = trainedNoise(model.training);
    noise = textNoiseOf(trained ?? { kind: 'none' });
    words = `noise ${formatTextNoise(noise)} (${trained === null ? 'the default for a text model' : 'the noise the model was trained with'}; --noise word-dropout:P to corrupt the input)`;
  }
  if (extname(flags.out).toLowerCase() !== '.csv') throw new VaekitError(`Cannot write ${flags.out}: a text model's denoised sentences go in a CSV table (id, input, output), so its name must end in .csv.`);
  prepareNewOutputFile(flags.out, flags.overwrite, [flags.data]);
  say(`vaekit denoise: ${words}; greedy decoding from each noisy sentence's posterior mean`);
  let set = await readTextForModel(model, flags.data, textSourceFrom(flags));
  if (flags.limit !== undefined) set = takeFirst(set, flags.limit);
  const labels = classesForModel(model, set);
  const noisy = noisyTextSet(set, noise, flags.seed);
  const inputs = setSentences(noisy);
  const clean = setSentences(set);
  const outputs = reconstructSet(model, noisy, { mode: 'greedy' }, labels);
  writeFileAtomic(flags.out, textCsv(['id', 'input', 'output'], outputs.map((output, r) => [exampleId(set, r), inputs[r]!, output])));
  for (let r = 0; r < Math.min(SHOWN, set.count); r++) say(`${exampleId(set, r)}: ${inputs[r]!}  ->  ${outputs[r]!}`);
  const same = outputs.filter((output, r) => output === clean[r]).length;
  say(`Denoised ${set.count} sentences: ${flags.out} (id, input, output); ${same} of ${set.count} outputs (${(100 * same / set.count).toFixed(1)}%) are the clean sentence${noise.kind === 'none' ? '' : ' before the noise'} as the model's vocabulary writes it`);
}

export function register(program: Command): void {
  const cmd = addModelDirOption(program.command('denoise'))
    .description('denoise examples with a saved model; writes them as IDX, NPY or CSV (and a PNG grid of images)');
  addDataOptions(cmd, 'the examples to denoise', 'its test split');
  cmd.option('--limit <n>', 'denoise only the first N examples', positiveInt);
  addModelNoiseOption(cmd, 'noise to add first ("none" for inputs that are already noisy)');
  const noiseOption = cmd.options.find((o) => o.long === '--noise')!;
  noiseOption.argParser(anyNoise);
  noiseOption.description = `${noiseOption.description}; text models: ${TEXT_NOISE_HELP}`;
  addTextColumnOption(cmd);
  addSeedOption(cmd, 'seed of the added noise');
  cmd
    .requiredOption('--out <file>', 'output file: .idx (uint8 images), .npy (float32) or .csv; text models: .csv (id, input, output)')
    .option('--grid <file>', 'PNG grid of the first 16 inputs above their outputs, labelled, for images (default: --out with .png)')
    .option('--overwrite', 'replace an existing file at the default --grid; text models: an existing --out')
    .action(async (flags: DenoiseFlags, command: Command) => {
      const text = textModelAt(flags.model);
      if (text !== null) {
        await denoiseText(text, flags, command);
        return;
      }
      refuseGivenOptions(command, ['textColumn'], onlyForText(flags.model));
      const given = flags.noise;
      if (given.kind === 'word-dropout') throw new VaekitError(`--noise ${formatTextNoise(given)} ${onlyForText(flags.model)}.`);
      const bundle = loadBundle(flags.model);
      const { noise, words } = noiseForModel(command, { noise: given }, bundle);
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
