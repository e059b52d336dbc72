import { extname } from 'node:path';
import { Option, type Command } from 'commander';
import { unstandardize } from '../../data/transforms/standardize.js';
import { VaekitError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { loadBundle } from '../../run/bundle.js';
import { prepareOutputFile } from '../../io/output.js';
import { rowsFormat, writeRows } from '../../io/rows.js';
import { classIndex } from '../../run/data.js';
import { samplesPng } from '../../viz/figures.js';
import { lossOf } from '../../run/training-record.js';
import type { TextBundle } from '../../run/bundle.js';
import { sampleSentences } from '../../pipelines/text.js';
import { textModelAt } from '../../pipelines/text-model.js';
import {
  addDecodeOptions, addModelDirOption, addSeedOption, decodeOptionsFrom, notForText, onlyForText, optionGiven, positiveInt, prepareNewOutputFile,
  refuseGivenOptions, refuseOptionsOutside, say, writeStdout, type DecodeFlags,
} from '../options.js';

interface SampleFlags extends DecodeFlags {
  model: string;
  count: number;
  label?: string;
  seed: number;
  out?: string;
  overwrite?: boolean;
}

/** Sentences a text model writes from z ~ N(0, I) (a language model: from its start), one per line: to stdout, or to a .txt file. */
function sampleText(model: TextBundle, flags: SampleFlags, command: Command): void {
  refuseOptionsOutside(command, ['model', 'count', 'label', 'seed', 'out', 'overwrite', 'decode', 'temperature', 'beamWidth'], notForText(flags.model));
  const count = optionGiven(command, 'count') ? flags.count : TEXT_SAMPLES;
  if (model.vae.classes === 0 && flags.label !== undefined) throw new VaekitError(`${flags.model} is not a conditional model: it takes no --label.`);
  if (model.vae.classes > 0 && flags.label === undefined) throw new VaekitError(`${flags.model} is a conditional text model: give --label, the class of the sentences to write.`);
  const label = flags.label === undefined ? undefined : classIndex(model.data, model.vae.classes, flags.label);
  const options = decodeOptionsFrom(flags, 'sample');
  if (flags.out !== undefined) {
    if (extname(flags.out).toLowerCase() !== '.txt') throw new VaekitError(`Cannot write ${flags.out}: a text model's samples are sentences, so its name must end in .txt (or leave --out out to print them).`);
    prepareNewOutputFile(flags.out, flags.overwrite);
  }
  const sentences = sampleSentences(model, count, flags.seed, { ...options, ...(label !== undefined ? { label } : {}) });
  const text = sentences.map((line) => `${line}\n`).join('');
  if (flags.out === undefined) {
    writeStdout(text);
    return;
  }
  writeFileAtomic(flags.out, text);
  const how = options.mode === 'sample' ? `sampled at temperature ${options.temperature ?? 1}` : options.mode === 'beam' ? `beam search of width ${options.beamWidth ?? 5}` : 'greedy';
  say(`wrote ${flags.out} (${count} sentences, ${how}, seed ${flags.seed}${model.vae.latent === 0 ? ', from the language model' : ', z ~ N(0, I)'})`);
}

/** Sentences written by default (images: 64). */
const TEXT_SAMPLES = 10;

export function register(program: Command): void {
  const cmd = addModelDirOption(program.command('sample'))
    .description('decode examples from z ~ p(z), the model\'s prior: a PNG grid of images, or the values as NPY or CSV (tables too); a text model\'s sentences, one per line')
    .addOption(new Option('--count <n>', 'number of samples').argParser(positiveInt).default(64, '64; text models: 10'))
    .option('--label <class>', 'the class to draw, by name or index (conditional models; without it, a PNG has one row per class)');
  addDecodeOptions(cmd, 'sample');
  addSeedOption(cmd, 'seed of the latent draws (and of a text model\'s sampled tokens)')
    .option('--out <file>', 'output file: .png (a grid of images), .npy or .csv (the values, in the data\'s own units); text models: .txt (one sentence a line; without --out they go to stdout)')
    .option('--overwrite', 'text models: replace an existing --out (an image or table model\'s --out is replaced as named)')
    .action((flags: SampleFlags, command: Command) => {
      const text = textModelAt(flags.model);
      if (text !== null) {
        sampleText(text, flags, command);
        return;
      }
      refuseGivenOptions(command, ['decode', 'temperature', 'beamWidth'], onlyForText(flags.model));
      if (flags.out === undefined) {
        loadBundle(flags.model); // a folder that holds no model says so first
        throw new VaekitError(`${flags.model} holds an image or table model: give --out, a .png, .npy or .csv file to write its samples to.`);
      }
      const out = flags.out;
      const { vae, data, training } = loadBundle(flags.model);
      if (vae.classes === 0 && flags.label !== undefined) throw new VaekitError(`${flags.model} is not a conditional model: it takes no --label.`);
      const label = flags.label === undefined ? undefined : classIndex(data, vae.classes, flags.label);
      const what = label === undefined ? '' : ` of class ${data.classNames?.[label] ?? label}`;
      const ext = extname(out).toLowerCase();
      if (ext !== '.png' && ext !== '.npy' && ext !== '.csv') throw new VaekitError(`Cannot write ${out}: its name must end in .png, .npy or .csv.`);
      if (ext === '.png') {
        const png = samplesPng(vae, flags.count, flags.seed, label, { classNames: data.classNames, model: flags.model, loss: lossOf(training) });
        prepareOutputFile(out);
        writeFileAtomic(out, png);
        say(`wrote ${out} (${flags.count} samples${label === undefined && vae.classes > 0 ? ', one row per class' : what})`);
        return;
      }
      const format = rowsFormat(out, ['npy', 'csv']);
      if (vae.classes > 0 && label === undefined) throw new VaekitError(`${flags.model} is a conditional model: give --label to write samples of one class.`);
      const samples = vae.sample(flags.count, flags.seed, label).data;
      if (data.standardization !== null) unstandardize(samples, flags.count, data.standardization);
      prepareOutputFile(out);
      writeRows(out, { values: samples, count: flags.count, shape: data.shape, ...(data.featureNames ? { columns: data.featureNames } : {}) }, [format]);
      say(`wrote ${out} (${flags.count} samples${what}, ${format} [${flags.count}, ${data.shape.join(', ')}])`);
    });
}
