/**
 * `vaekit interpolate`: the decoded path between two examples' posterior means, as a labelled strip
 * (the first original, the path from t = 0 to t = 1, the second original). Also the helpers the
 * other latent-space commands share: an example named by its index in the data or by an image file.
 *
 * A conditional model encodes each endpoint with its own class (the data's label; --label for an
 * image file) and decodes the whole path as one class: --label, or else the first endpoint's. The
 * path then varies what the code holds (the style) at a fixed class, which is what a conditional
 * model's latent space is for; a class cannot be interpolated, as the decoder takes it as a one-hot.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Option, InvalidArgumentError, type Command } from 'commander';
import type { Dataset } from '../../data/dataset.js';
import { Tensor } from '../../engine/tensor.js';
import { VaekitError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import type { Bundle } from '../../run/bundle.js';
import { loadBundle } from '../../run/bundle.js';
import { describeFsError } from '../../io/fs-errors.js';
import { loadImageFile } from '../../data/sources/image-folder.js';
import { prepareOutputFile } from '../../io/output.js';
import { interpolate, INTERPOLATION_METHODS, type InterpolationMethod } from '../../latent/interpolate.js';
import { classIndex } from '../../run/data.js';
import type { Vae } from '../../vae/model.js';
import { gridFigurePng } from '../../viz/labelled-grid.js';
import { describeModel, imageDims } from '../../viz/figures.js';
import { lossOf } from '../../run/training-record.js';
import {
  addDataOptions, addDecodeOptions, addModelDirOption, decodeOptionsFrom, loadDataForModel, notForText, onlyForText, optionGiven, prepareNewOutputFile,
  refuseGivenOptions, refuseOptionsOutside, say, writeStdout, type DataFlags, type DecodeFlags,
} from '../options.js';
import type { TextBundle } from '../../run/bundle.js';
import { interpolateSentences } from '../../pipelines/text.js';
import { textModelAt } from '../../pipelines/text-model.js';

// ---- shared by interpolate, traverse and map ---------------------------------------------------

/** An example named on the command line: an index into the data, or an image file. */
export type ExampleRef = { kind: 'index'; index: number } | { kind: 'file'; path: string };

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp']);

/** "12" is an index into the data; anything else must be a PNG, JPEG or WebP file. */
export function parseExampleRef(text: string, flag: string): ExampleRef {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const index = Number(t);
    if (!Number.isSafeInteger(index)) throw new VaekitError(`${flag} ${text} is not an index vaekit can use.`);
    return { kind: 'index', index };
  }
  if (/^-\d+$/.test(t)) throw new VaekitError(`${flag} ${text} is not an example: indices start at 0.`);
  if (!IMAGE_EXTENSIONS.has(extname(t).toLowerCase())) {
    throw new VaekitError(`${flag} ${text} is neither an example index nor a PNG, JPEG or WebP image file.`);
  }
  if (!existsSync(t)) throw new VaekitError(`${flag} ${text}: there is no image file there.`);
  if (!statSync(t).isFile()) throw new VaekitError(`${flag} ${text} is a folder, not an image file.`);
  return { kind: 'file', path: t };
}

/** One example in the model's units, ready to encode and to draw. */
export interface Example {
  /** Its values (images in [0, 1], channels-last). */
  values: Float32Array;
  /** Its class index in the model's classes, or null (unlabelled, or an image file). */
  label: number | null;
  /** "test image 3 (digit 7)", "seven.png". */
  name: string;
  /** The same without the kind of example: "3 (digit 7)", "seven.png". */
  short: string;
}

/** "digit" for MNIST, "class" otherwise. */
export function classWord(source: string): string {
  return source.startsWith('MNIST') ? 'digit' : 'class';
}

/** The name of the model's class `label` (what a conditional model decodes): its class names, or the index. */
export function className(bundle: Bundle, label: number): string {
  return bundle.data.classNames?.[label] ?? String(label);
}

/** The name of an example's label `label` in `set`: the data's class names, else the model's, else the index. */
export function dataClassName(bundle: Bundle, set: Dataset, label: number): string {
  return set.labelNames?.[label] ?? className(bundle, label);
}

/** Example `index` of `set` (a one-sentence error past its end). */
export function exampleFromData(bundle: Bundle, set: Dataset, index: number, flag: string): Example {
  if (index >= set.count) {
    throw new VaekitError(`${flag} ${index} is past the end of ${set.source}, which has ${set.count} example${set.count === 1 ? '' : 's'} (0 to ${set.count - 1}).`);
  }
  const values = new Float32Array(set.size);
  set.gather(Uint32Array.of(index), 0, 1, values, bundle.vae.backend);
  const label = set.labels === null ? null : set.labels[index]!;
  const kind = set.source === 'MNIST test' ? 'test image' : set.source === 'MNIST train' ? 'training image' : 'example';
  const short = `${index}${label === null ? '' : ` (${classWord(set.source)} ${dataClassName(bundle, set, label)})`}`;
  return { values, label, name: `${kind} ${short}`, short };
}

/** An image file read as an image folder's images are (loadImageFile: checked, in the model's channels, stretched to its size), values / 255. */
export async function exampleFromFile(shape: readonly number[], path: string, flag: string): Promise<Example> {
  const { height, width, channels } = imageDims(shape, 'This model');
  try {
    statSync(path);
  } catch (err) {
    throw new VaekitError(`${flag} ${path} cannot be read: ${describeFsError(err)}.`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await loadImageFile(path, channels, height, width);
  } catch (err) {
    throw err instanceof VaekitError ? new VaekitError(`${flag}: ${err.message}`) : err;
  }
  const values = Float32Array.from(bytes, (v) => v / 255);
  const name = basename(path);
  return { values, label: null, name, short: name };
}

/** The example a reference names: loads the data (once, through `data`) only for an index. */
export async function resolveExample(bundle: Bundle, ref: ExampleRef, data: () => Promise<Dataset>, flag: string): Promise<Example> {
  return ref.kind === 'index' ? exampleFromData(bundle, await data(), ref.index, flag) : exampleFromFile(bundle.vae.config.inputShape, ref.path, flag);
}

/** The data of the flags in the model's units, loaded at most once. */
export function lazyData(flags: DataFlags, bundle: Bundle): () => Promise<Dataset> {
  let loading: Promise<Dataset> | null = null;
  return () => (loading ??= loadDataForModel(flags, bundle, 'test'));
}

/** The posterior mean of one example (a conditional model encodes it with its class). */
export function posteriorMean(vae: Vae, values: Float32Array, label: number | null): Float32Array {
  if (vae.classes > 0 && label === null) throw new VaekitError('This is a conditional model: give --label, the class of the image file, to encode it.');
  const { mean } = vae.encode(new Tensor(values, [1, vae.pixels]), vae.classes > 0 ? [label!] : null);
  return mean.data;
}

/** --label's class index: refused for an unconditional model, checked against the model's classes. */
export function labelFlag(bundle: Bundle, label: string | undefined, model: string): number | undefined {
  if (label === undefined) return undefined;
  if (bundle.vae.classes === 0) throw new VaekitError(`${model} is not a conditional model: it takes no --label.`);
  return classIndex(bundle.data, bundle.vae.classes, label);
}

/** --out must name a PNG. */
export function checkPngName(path: string, flag = '--out'): void {
  if (extname(path).toLowerCase() !== '.png') throw new VaekitError(`Cannot write ${flag} ${path}: its name must end in .png.`);
}

/** "0.11", "0.5", "1.0": a short decimal (2 places at most, at least 1). */
export function shortNumber(v: number): string {
  const text = String(Number(v.toFixed(2)));
  return Number.isInteger(Number(text)) ? Number(text).toFixed(1) : text;
}

export function stepsValue(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 2 || n > 100) throw new InvalidArgumentError('It must be a whole number from 2 to 100.');
  return n;
}

// ---- the command -------------------------------------------------------------------------------

interface InterpolateFlags extends DataFlags, DecodeFlags {
  model: string;
  from: string;
  to: string;
  steps: number;
  method: InterpolationMethod;
  label?: string;
  out: string;
  overwrite?: boolean;
}

/** Points on a text model's path unless --steps says otherwise (images: 10). */
const TEXT_STEPS = 5;

/**
 * A text model's homotopy (Bowman et al. 2016): the sentences decoded (greedy by default) at evenly
 * spaced points from --from's posterior mean to --to's, one line per point with its t, to stdout
 * or a .txt file.
 */
function interpolateText(model: TextBundle, flags: InterpolateFlags, command: Command): void {
  refuseOptionsOutside(command, ['model', 'from', 'to', 'steps', 'method', 'label', 'out', 'overwrite', 'decode', 'temperature', 'beamWidth'], notForText(flags.model));
  if (model.vae.latent === 0) throw new VaekitError(`${flags.model} holds a language model (latent 0): it has no latent space to interpolate in.`);
  for (const [flag, sentence] of [['--from', flags.from], ['--to', flags.to]] as const) {
    if (sentence.trim() === '') throw new VaekitError(`${flag} is blank: give a sentence in quotes, e.g. ${flag} "the cat sat on the mat".`);
  }
  if (model.vae.classes === 0 && flags.label !== undefined) throw new VaekitError(`${flags.model} is not a conditional model: it takes no --label.`);
  if (model.vae.classes > 0 && flags.label === undefined) throw new VaekitError(`${flags.model} is a conditional text model: give --label, the class the path is encoded and decoded as.`);
  const label = flags.label === undefined ? undefined : classIndex(model.data, model.vae.classes, flags.label);
  const steps = optionGiven(command, 'steps') ? flags.steps : TEXT_STEPS;
  const options = decodeOptionsFrom(flags, 'greedy');
  const out = optionGiven(command, 'out') ? flags.out : undefined;
  if (out !== undefined) {
    if (extname(out).toLowerCase() !== '.txt') throw new VaekitError(`Cannot write ${out}: a text model's path is sentences, so its name must end in .txt (or leave --out out to print them).`);
    prepareNewOutputFile(out, flags.overwrite);
  }
  const path = interpolateSentences(model, flags.from, flags.to, steps, { ...options, ...(label !== undefined ? { label } : {}) }, flags.method);
  const text = path.map((p) => `t=${p.t.toFixed(2)}\t${p.text}\n`).join('');
  if (out === undefined) {
    writeStdout(text);
    return;
  }
  writeFileAtomic(out, text);
  say(`wrote ${out} (${flags.method} interpolation, ${steps} steps, ${options.mode} decoding)`);
}

export function register(program: Command): void {
  const cmd = addModelDirOption(program.command('interpolate'))
    .description('decode the path between two examples\' posterior means (linear or spherical) as a labelled strip of images; between two sentences\' (Bowman et al.\'s homotopy) for a text model, one line per step')
    .requiredOption('--from <example>', 'the first endpoint: an index into --data, or a PNG/JPEG image file; text models: a sentence, in quotes')
    .requiredOption('--to <example>', 'the second endpoint: an index into --data, or a PNG/JPEG image file; text models: a sentence, in quotes');
  addDataOptions(cmd, 'the examples --from and --to index', 'its test split')
    .addOption(new Option('--steps <n>', 'points on the path, both endpoints included').argParser(stepsValue).default(10, '10; text models: 5'))
    .addOption(new Option('--method <name>', 'the path: "linear", or "spherical" (slerp: keeps the norm, where the prior\'s mass lies)').choices([...INTERPOLATION_METHODS]).default('linear'))
    .option('--label <class>', 'conditional models: the class the whole path is decoded as, and that of an image-file endpoint (default: the first endpoint\'s class)');
  addDecodeOptions(cmd, 'greedy')
    .addOption(new Option('--out <file>', 'the figure (PNG); text models: a .txt file of the lines').default('interpolation.png', 'interpolation.png; text models: stdout'))
    .option('--overwrite', 'text models: replace an existing --out (an image model\'s figure is replaced as named)')
    .action(async (flags: InterpolateFlags, command: Command) => {
      const text = textModelAt(flags.model);
      if (text !== null) {
        interpolateText(text, flags, command);
        return;
      }
      refuseGivenOptions(command, ['decode', 'temperature', 'beamWidth'], onlyForText(flags.model));
      const bundle = loadBundle(flags.model);
      const { vae } = bundle;
      const dims = imageDims(vae.config.inputShape, `${flags.model}'s model`);
      checkPngName(flags.out);
      const label = labelFlag(bundle, flags.label, flags.model);
      const refs = [parseExampleRef(flags.from, '--from'), parseExampleRef(flags.to, '--to')] as const;
      prepareOutputFile(flags.out);
      const data = lazyData(flags, bundle);
      const ends = [await resolveExample(bundle, refs[0], data, '--from'), await resolveExample(bundle, refs[1], data, '--to')];
      const encodeLabel = (e: Example): number | null => (vae.classes === 0 ? null : e.label ?? label ?? null);
      const [zFrom, zTo] = ends.map((e) => posteriorMean(vae, e.values, encodeLabel(e))) as [Float32Array, Float32Array];
      const decodeAs = vae.classes === 0 ? undefined : label ?? encodeLabel(ends[0]!)!;
      const path = interpolate(vae, zFrom, zTo, flags.steps, flags.method, decodeAs);
      const size = vae.pixels;
      const cells = [ends[0]!.values, ...Array.from({ length: flags.steps }, (_, i) => path.images.data.subarray(i * size, (i + 1) * size)), ends[1]!.values];
      const sameKind = refs[0].kind === 'index' && refs[1].kind === 'index';
      const method = flags.method === 'linear' ? 'Linear' : 'Spherical';
      const details = [
        describeModel(vae.config, lossOf(bundle.training)),
        'endpoints at their posterior means',
        ...(decodeAs === undefined ? [] : [`decoded as ${classWord(bundle.data.source)} ${className(bundle, decodeAs)}`]),
        ...(refs.some((r) => r.kind === 'index') ? [(await data()).source] : []),
        flags.model,
      ];
      const png = gridFigurePng({
        ...dims,
        title: `${method} interpolation from ${ends[0]!.name} to ${sameKind ? ends[1]!.short : ends[1]!.name}`,
        subtitle: details.join(' · '),
        cells: [cells],
        columnLabels: ['original', ...path.t.map((t) => `t=${shortNumber(t)}`), 'original'],
        marks: [{ row: 0, column: 0, color: '#1f77b4' }, { row: 0, column: cells.length - 1, color: '#1f77b4' }],
      });
      writeFileAtomic(flags.out, png);
      say(`wrote ${flags.out} (${flags.method} interpolation, ${flags.steps} steps from ${ends[0]!.name} to ${ends[1]!.name})`);
    });
}
