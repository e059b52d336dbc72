/**
 * Export: a trained model as files other runtimes load (ONNX graphs, the TF.js layers format, a
 * PyTorch module with its weights). Each format's module turns a model into named files in memory
 * (browser-safe: no fs), so the CLI writes them to a folder (write.ts) and the studio offers them
 * as downloads. Every export also gets a README.md that says, for this model, what goes in and
 * comes out, how to prepare the data and how to load the files. A text model (TextVae) goes through
 * text/: its encoder, the decoder's first state and one decoder step, with vocab.json.
 */
import { VaekitError } from '../errors.js';
import type { DataInfo } from '../run/bundle-format.js';
import { imageSides, inputSize, type VaeConfig } from '../vae/config.js';
import type { Vae } from '../vae/model.js';
import { TextVae } from '../vae/text/model.js';
import { onnxFiles } from './onnx.js';
import { pytorchFiles } from './pytorch.js';
import { tfjsFiles } from './tfjs.js';
import { textExportFiles } from './text/index.js';

export type ExportFormat = 'onnx' | 'tfjs' | 'pytorch';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['onnx', 'tfjs', 'pytorch'];

/** The formats' names for people. */
export const EXPORT_FORMAT_NAMES: Readonly<Record<ExportFormat, string>> = {
  onnx: 'ONNX (opset 17)',
  tfjs: 'TF.js layers format',
  pytorch: 'PyTorch module and weights',
};

export const EXPORT_README = 'README.md';

/** One file of an export: its name inside the export folder and its bytes. */
export interface ExportFile {
  name: string;
  bytes: Uint8Array;
}

/**
 * The files of `format` for a model, README.md last (data: the bundle's data description, when it
 * has one; training: the bundle's training record, which the PyTorch export's objective reads).
 * A text model's export (text/index.ts) has vocab.json before README.md, and needs data (its vocabulary).
 */
export function exportFiles(vae: Vae | TextVae, format: ExportFormat, data?: DataInfo, training?: Record<string, unknown>): ExportFile[] {
  if (vae instanceof TextVae) return textExportFiles(vae, format, EXPORT_README, data, training);
  const files = formatFiles(vae, format, data, training);
  const readme = exportReadme(vae, format, files.map((f) => f.name), data);
  return [...files, { name: EXPORT_README, bytes: new TextEncoder().encode(readme) }];
}

function formatFiles(vae: Vae, format: ExportFormat, data: DataInfo | undefined, training: Record<string, unknown> | undefined): ExportFile[] {
  if (vae.config.architecture === 'conv1d' || vae.config.architecture === 'recurrent') {
    throw new VaekitError(`The ${EXPORT_FORMAT_NAMES[format]} export does not take ${vae.config.architecture} (${vae.config.preset}) models yet: only dense series models (the series preset) export.`);
  }
  switch (format) {
    case 'onnx': return onnxFiles(vae, data);
    case 'tfjs': return tfjsFiles(vae, data);
    case 'pytorch': return pytorchFiles(vae, data, training);
  }
}

// ---- README.md -----------------------------------------------------------------------------

/** `[N, a, b]`: a shape with its symbolic batch dimension. */
function shape(...dims: number[]): string {
  return `[${['N', ...dims].join(', ')}]`;
}

/** The tensor names and shapes of one format's encoder and decoder, for this model. */
interface Io {
  encoderIn: string[];
  encoderOut: string[];
  decoderIn: string[];
  decoderOut: string[];
}

function ioOf(c: VaeConfig, format: ExportFormat): Io {
  const image = imageSides(c);
  const D = inputSize(c);
  const L = c.latent;
  const K = c.classes;
  const posterior = [
    `\`mean\` ${shape(L)}: the posterior q(z|x)'s mean (the latent code)`,
    `\`logvar\` ${shape(L)}: the posterior's log-variance`,
  ];
  if (format === 'pytorch') {
    const x = image === null ? `\`x\` ${shape(D)}: standardized features` : `\`x\` ${shape(image.channels, image.height, image.width)}: images channels-first (C, H, W), values in [0, 1]`;
    const label = K > 0 ? [`\`label\` [N]: each row's class index (0 to ${K - 1}), int64`] : [];
    const out = image === null ? `${shape(D)}: standardized features (the decoder's logits)` : `${shape(image.channels, image.height, image.width)}: images channels-first, values in (0, 1)`;
    return {
      encoderIn: [x, ...label],
      encoderOut: ['a tuple (mean, logvar), each ' + shape(L)],
      decoderIn: [`\`z\` ${shape(L)}`, ...label],
      decoderOut: [out],
    };
  }
  const label = K > 0 ? [`\`label\` ${shape(K)}: each row's class, one-hot, float32`] : [];
  const data = image === null
    ? `${shape(D)}: standardized features, float32`
    : `${shape(image.height, image.width, image.channels)}: images channels-last (H, W, C), float32 values in [0, 1]`;
  const dataOut = image === null
    ? `${shape(D)}: standardized features (the decoder's logits, no activation)`
    : `${shape(image.height, image.width, image.channels)}: images channels-last, values in (0, 1) (sigmoid of the decoder's logits)`;
  if (format === 'onnx') {
    return {
      encoderIn: [`\`x\` ${data}`, ...label],
      encoderOut: posterior,
      decoderIn: [`\`z\` ${shape(L)}: latent vectors, float32`, ...label],
      decoderOut: [`\`x\` ${dataOut}`],
    };
  }
  const name = image === null ? 'features' : 'image';
  return {
    encoderIn: [`\`${name}\` ${data}`, ...label],
    encoderOut: posterior,
    decoderIn: [`\`z\` ${shape(L)}: latent vectors, float32`, ...label],
    decoderOut: [`\`${name}\` ${dataOut}`],
  };
}

function fileLine(name: string, format: ExportFormat): string {
  const what: Record<string, string> = {
    'encoder.onnx': 'the encoder graph: data (and label) to the posterior\'s mean and log-variance',
    'decoder.onnx': 'the decoder graph: latent vectors (and label) to data',
    'encoder/model.json': 'the encoder\'s topology and weights manifest (TF.js layers format)',
    'encoder/weights.bin': 'the encoder\'s weights, float32',
    'decoder/model.json': 'the decoder\'s topology and weights manifest (TF.js layers format)',
    'decoder/weights.bin': 'the decoder\'s weights, float32',
    'model.py': 'the PyTorch modules (Encoder, Decoder, VAE with vaekit\'s training objective) and loading helpers; its docstring has the details',
    'model.safetensors': 'the weights under PyTorch\'s names and layouts',
    'train.py': 'a DistributedDataParallel trainer for torchrun with vaekit\'s objective and schedule, over data that `vaekit export-data` wrote; it ends with a vaekit model folder and metrics.jsonl (its docstring has the details)',
    [EXPORT_README]: 'this file',
  };
  return `- \`${name}\`: ${what[name] ?? `part of the ${EXPORT_FORMAT_NAMES[format]} export`}`;
}

function standardizationSection(data: DataInfo | undefined, format: ExportFormat): string[] {
  const s = data?.standardization;
  if (s == null) return [];
  const names = data?.featureNames ?? null;
  const lines = [
    '',
    '## Standardizing features',
    '',
    'The model works in standardized units. Standardize each input row with the training split\'s numbers,',
    '`x_model = (x - mean) / std` per feature, and bring the decoder\'s output back with `x = x_model * std + mean`.',
    ...(format === 'pytorch' ? ['`model.standardize()` and `model.unstandardize()` in model.py do both.'] : []),
    '',
  ];
  if (s.mean.length <= 64) {
    lines.push('| feature | mean | std |', '| --- | --- | --- |');
    s.mean.forEach((m, i) => lines.push(`| ${names?.[i] ?? i} | ${m} | ${s.std[i]} |`));
  } else {
    lines.push('```json', JSON.stringify({ ...(names !== null ? { features: names } : {}), mean: s.mean, std: s.std }), '```');
  }
  return lines;
}

function loadingSection(c: VaeConfig, format: ExportFormat): string[] {
  const image = imageSides(c);
  const conditional = c.classes > 0;
  const dims = image === null ? `${inputSize(c)}` : `${image.height}, ${image.width}, ${image.channels}`;
  if (format === 'onnx') {
    const label = conditional ? `, label: new ort.Tensor('float32', oneHot, [n, ${c.classes}])` : '';
    const pyLabel = conditional ? ', "label": one_hot' : '';
    return [
      'Node (onnxruntime-node):',
      '',
      '```js',
      'import * as ort from \'onnxruntime-node\';',
      'const encoder = await ort.InferenceSession.create(\'encoder.onnx\');',
      `const { mean, logvar } = await encoder.run({ x: new ort.Tensor('float32', pixels, [n, ${dims}])${label} });`,
      'const decoder = await ort.InferenceSession.create(\'decoder.onnx\');',
      `const { x } = await decoder.run({ z: mean${label} });`,
      '```',
      '',
      'Python (onnxruntime):',
      '',
      '```python',
      'import onnxruntime as ort',
      'encoder = ort.InferenceSession("encoder.onnx")',
      `mean, logvar = encoder.run(None, {"x": x.astype("float32")${pyLabel}})`,
      `x_decoded = ort.InferenceSession("decoder.onnx").run(None, {"z": mean${pyLabel}})[0]`,
      '```',
    ];
  }
  if (format === 'tfjs') {
    const input = image === null ? 'features' : 'images';
    const args = conditional ? `[${input}, oneHot]` : input;
    const zArgs = conditional ? '[mean, oneHot]' : 'mean';
    return [
      'In a browser, serve the folder and load it by URL (in Node, `@tensorflow/tfjs-node` adds `file://` URLs):',
      '',
      '```js',
      'import * as tf from \'@tensorflow/tfjs\';',
      'const encoder = await tf.loadLayersModel(\'/export/encoder/model.json\');',
      'const decoder = await tf.loadLayersModel(\'/export/decoder/model.json\');',
      `const [mean, logvar] = encoder.predict(${args});   // ${input}: tf.tensor of shape [n, ${dims}]`,
      `const decoded = decoder.predict(${zArgs});`,
      '```',
    ];
  }
  const label = conditional ? ', label' : '';
  return [
    '```python',
    'import sys, torch',
    'sys.path.insert(0, "EXPORT_FOLDER")   # this folder',
    'import model',
    'encoder, decoder = model.load()',
    `mean, logvar = encoder(x${label})${image === null ? '' : '   # x: [n, C, H, W]; from channels-last data, x.permute(0, 3, 1, 2)'}`,
    `decoded = decoder(mean${label})`,
    '```',
  ];
}

/** README.md of an export: the files, the tensors with this model's shapes, preprocessing, sampling and loading. */
export function exportReadme(vae: Vae, format: ExportFormat, files: readonly string[], data?: DataInfo): string {
  const c = vae.config;
  const image = imageSides(c);
  const io = ioOf(c, format);
  const what = image === null ? `rows of ${inputSize(c)} features` : `${image.height}x${image.width} images with ${image.channels} channel${image.channels === 1 ? '' : 's'}`;
  const lines = [
    `# vaekit export: ${EXPORT_FORMAT_NAMES[format]}`,
    '',
    `A variational autoencoder trained with vaekit on ${what}${data !== undefined ? ` (${data.source})` : ''}: ${c.architecture} architecture, `
      + `latent size ${c.latent}, ${c.likelihood} likelihood${c.classes > 0 ? `, conditional on ${c.classes} classes` : ''}.`,
    '',
    '## Files',
    '',
    ...[...files, EXPORT_README].map((name) => fileLine(name, format)),
    '',
    '## Inputs and outputs',
    '',
    'N is the batch size (any).',
    '',
    'Encoder',
    '',
    ...io.encoderIn.map((l) => `- in: ${l}`),
    ...io.encoderOut.map((l) => `- out: ${l}`),
    '',
    'Decoder',
    '',
    ...io.decoderIn.map((l) => `- in: ${l}`),
    ...io.decoderOut.map((l) => `- out: ${l}`),
  ];
  if (image !== null) {
    lines.push('', `Images are float32 pixel values divided by 255 (in [0, 1])${format === 'pytorch' ? ', channels-first as PyTorch takes them (vaekit itself stores them channels-last)' : ', channels-last, the layout vaekit stores them in'}.`);
  }
  if (c.classes > 0 && data?.classNames != null) {
    lines.push('', `Classes: ${data.classNames.map((n, i) => `${i} = ${n}`).join(', ')}.`);
  }
  lines.push(...standardizationSection(data, format));
  lines.push(
    '',
    '## Sampling',
    '',
    'The files are deterministic; sampling is up to the caller. A posterior sample is',
    '`z = mean + exp(logvar / 2) * eps` with `eps ~ N(0, I)`; a reconstruction decodes `mean` (what vaekit\'s denoise does).',
  );
  if (c.prior === 'mog') {
    const where = format === 'onnx' ? 'its parameters are in the `vaekit.prior` metadata of decoder.onnx (JSON: logits, means, logvars)'
      : format === 'pytorch' ? '`vae = model.load_vae(); vae.sample(n)` draws from it'
        : 'its parameters are not in these files (the ONNX export\'s metadata and the PyTorch export have them)';
    lines.push(`New examples decode z drawn from the prior, here a learned mixture of ${c.priorComponents} Gaussians: ${where}.`);
  } else {
    lines.push('New examples decode z drawn from the prior N(0, I).');
  }
  lines.push('', '## Loading', '', ...loadingSection(c, format), '', 'More in vaekit\'s docs/export.md.', '');
  return lines.join('\n');
}
