/**
 * `vaekit report`: one self-contained HTML page about a saved model. writeReport gathers what the
 * model folder holds (the bundle, metrics.jsonl, test-metrics.json, eval.md, the figures) and
 * draws what is cheap to draw from the model itself (the training curves, prior samples);
 * renderReport turns those parts into the page, and knows nothing of files. Every image is a data
 * URI, so the page needs no other file and no network.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { describeShape, isImageShape, type Dataset } from '../data/dataset.js';
import { DEFAULT_NOISE, formatNoise, type NoiseSpec } from '../data/transforms/noise.js';
import { trainedNoise } from '../run/training-record.js';
import { unstandardize } from '../data/transforms/standardize.js';
import { VaekitError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { loadBundle, type Bundle } from '../run/bundle.js';
import { prepareOutputFile } from '../io/output.js';
import { readJsonLines, trainingCurves } from '../pipelines/figures.js';
import { RUN_FILES } from '../run/names.js';
import type { Chart } from '../viz/charts.js';
import type { Vae } from '../vae/model.js';
import { LOSS_DESCRIPTIONS, type LossName } from '../vae/objective.js';
import { formatSummary, summaryRows } from '../vae/summary.js';
import { notebookFigures, samplesPng } from '../viz/figures.js';
import { dataUri, escapeHtml, figure, IMAGE_TYPES, missing, page, pngSize, section, table, type Cell } from './html.js';

/** The report's default file name, in the model folder. */
/** Prior samples drawn for the page. */
export const REPORT_SAMPLES = 64;
/** Images larger than this are listed but not inlined (the page would grow past what a browser opens comfortably). */
const MAX_INLINE_IMAGE_BYTES = 16 * 1024 * 1024;

// ---- the parts of a report --------------------------------------------------------------

/** A part the folder did not have, with why and how to get it. */
export interface Missing {
  missing: string;
}

export type Part<T> = T | Missing;

export function isMissing<T>(part: Part<T>): part is Missing {
  return typeof part === 'object' && part !== null && 'missing' in part;
}

/** A setting or a number: its name, its value as text, and what it means in words. */
export interface Entry {
  name: string;
  value: string;
  words: string;
}

export interface ReportImage {
  /** A file name (for the folder's figures) or a name for a drawn one. */
  name: string;
  mime: string;
  bytes: Uint8Array;
  alt: string;
  caption: string;
  /** Drawn at this many pixels per CSS pixel (a chart's PNG is drawn at 2 for sharp lines); default 1. */
  density?: number;
}

export interface SampleTable {
  caption: string;
  headers: string[];
  rows: string[][];
}

export interface ReportParts {
  /** The model folder, absolute. */
  modelDir: string;
  /** When the report was written (ISO 8601). */
  generated: string;
  /** When the model was saved (config.json's modification time, ISO 8601), when known. */
  trainedAt: string | null;
  summary: { heading: string; rows: Array<{ layer: string; shape: string; activation: string; params: number }>; totalParams: number; text: string };
  model: Entry[];
  data: Entry[];
  training: Part<Entry[]>;
  curves: Part<{ chart: ReportImage; epochs: Array<Record<string, unknown>>; timing: string | null }>;
  testMetrics: Part<{ intro: string; rows: Entry[] }>;
  evaluation: Part<{ rows: Array<[string, string]>; text: string | null }>;
  /** The figures, and notes on files left out. */
  figures: Part<{ images: ReportImage[]; notes: string[] }>;
  samples: Part<ReportImage | SampleTable>;
  files: Array<{ name: string; size: string; words: string }>;
}

// ---- words --------------------------------------------------------------------------------

const MODEL_WORDS: Readonly<Record<string, string>> = {
  preset: 'the preset the architecture started from',
  inputShape: 'shape of one example: [height, width, channels] for images, [features] for a table row',
  latent: 'dimensions of the latent space z',
  architecture: 'dense (fully connected), conv (Conv2d encoder, ConvTranspose2d decoder), conv1d (the same in 1-D over a series window) or recurrent (an LSTM or GRU over a series window, encoder and decoder)',
  cell: 'the recurrent architecture\'s cell (lstm or gru)',
  convChannels: 'channels of the stride-2 convolutions (conv and conv1d architectures)',
  encoderHidden: 'sizes of the encoder\'s hidden layers',
  decoderHidden: 'sizes of the decoder\'s hidden layers',
  activation: 'activation of the hidden layers',
  likelihood: 'the likelihood p(x | z) that scores an example given a latent code',
  gaussianSigma: 'standard deviation of the Gaussian likelihood (the initial one when learned)',
  gaussianLearnedVariance: 'whether the Gaussian likelihood learns one standard deviation per value',
  classes: 'classes of a conditional VAE (the label goes to encoder and decoder); 0: unconditional',
  prior: 'the prior p(z): standard is N(0, I), mog a learned mixture of Gaussians',
  priorComponents: 'components of the mixture prior (0 for the standard prior)',
  sequence: 'a time series model\'s window: points (length) and channels per row',
};

const TRAINING_WORDS: Readonly<Record<string, string>> = {
  epochs: 'epochs asked for',
  epochsTrained: 'epochs actually trained',
  weightsOfEpoch: 'the epoch whose weights were kept (early stopping: the best validation loss)',
  batchSize: 'examples per training step',
  learningRate: 'Adam\'s learning rate at the start',
  learningRateFinal: 'the learning rate at the end (decayed exponentially from the first)',
  loss: 'the training objective',
  beta: 'weight of the KL term in the ELBO',
  freeBits: 'floor on each latent dimension\'s KL, nats (0: none)',
  samples: 'posterior samples per example (k of the importance-weighted bound)',
  klWarmup: 'schedule of the KL weight over the first epochs',
  binarize: 'dynamic binarization: every pixel redrawn as Bernoulli(intensity) each epoch',
  noise: 'the corruption of the inputs (the model learns to reconstruct the clean example)',
  noiseRedraw: 'when the input noise is drawn again: every epoch, or once',
  seed: 'seed of the weights, the shuffling, the noise and the posterior samples',
  earlyStoppingPatience: 'epochs without a better validation loss before stopping (none: no early stopping)',
  trainImages: 'training examples',
  testImages: 'validation/test examples (scored after every epoch and for the test metrics)',
};

const FIGURE_CAPTIONS: Readonly<Record<string, string>> = {
  [RUN_FILES.noisyExamples]: 'The notebook\'s first figure: test images (top row) above their noisy versions (bottom row), the same noise as the test metrics.',
  [RUN_FILES.denoisedExamples]: 'The notebook\'s second figure: one test image a row: the original, its noisy version, and the model\'s denoised output.',
};

const FILE_WORDS: Readonly<Record<string, string>> = {
  [RUN_FILES.config]: 'the model\'s architecture, its data\'s description and how it was trained',
  [RUN_FILES.weights]: 'every parameter, float32, by name',
  [RUN_FILES.spec]: 'the run spec it was trained from, with the vaekit version and the data\'s fingerprint (training from it again gives the same model, bit for bit)',
  [RUN_FILES.studio]: 'the studio\'s record of the run it started',
  [RUN_FILES.metrics]: 'one JSON line per epoch: training and validation loss, reconstruction, KL, KL weight',
  [RUN_FILES.timing]: 'each epoch\'s seconds and examples per second',
  [RUN_FILES.testMetrics]: 'the test metrics written after training',
  [RUN_FILES.evalJson]: 'vaekit eval\'s full results',
  [RUN_FILES.evalMarkdown]: 'vaekit eval\'s results as a table',
  [`${RUN_FILES.checkpoints}/`]: 'training checkpoints (a stopped run resumes from the newest)',
  [RUN_FILES.noisyExamples]: 'the notebook\'s first figure (under Figures)',
  [RUN_FILES.denoisedExamples]: 'the notebook\'s second figure (under Figures)',
  [RUN_FILES.samples]: 'prior samples written by vaekit demo or vaekit figures (the same draw as under Prior samples, with the same seed)',
  [RUN_FILES.curvesPng]: 'the training curves written by vaekit figures (drawn afresh under Training curves)',
  [RUN_FILES.curvesSvg]: 'the same training curves as SVG',
  [RUN_FILES.scores]: 'vaekit anomaly\'s score of each example, with its id',
  [RUN_FILES.anomaly]: 'vaekit anomaly\'s summary (the examples scored, the normal class, the AUROC)',
  [RUN_FILES.anomalyMarkdown]: 'vaekit anomaly\'s one-class results (AUROC per class) as a table',
  [RUN_FILES.scoreHistogram]: 'vaekit anomaly\'s histogram of scores',
  [RUN_FILES.studioScores]: 'the studio\'s anomaly scores of the validation set',
};

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map((v) => formatValue(v)).join(', ');
  if (typeof value === 'number') return Number.isInteger(value) ? value.toLocaleString('en-US') : String(value);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function entries(record: Record<string, unknown>, words: Readonly<Record<string, string>>, extra: (key: string, value: unknown) => string = () => ''): Entry[] {
  const known = Object.keys(words).filter((k) => k in record);
  const other = Object.keys(record).filter((k) => !(k in words)).sort();
  return [...known, ...other].map((key) => ({ name: key, value: formatValue(record[key]), words: `${words[key] ?? ''}${extra(key, record[key])}` }));
}

function isLoss(text: unknown): text is LossName {
  return typeof text === 'string' && Object.hasOwn(LOSS_DESCRIPTIONS, text);
}

function modelEntries(vae: Vae): Entry[] {
  const config = vae.config as unknown as Record<string, unknown>;
  const shown = { ...config };
  if (vae.config.likelihood !== 'gaussian') delete shown['gaussianSigma'];
  if (vae.config.architecture !== 'conv' && vae.config.architecture !== 'conv1d') delete shown['convChannels'];
  if (vae.config.cell === null) delete shown['cell'];
  if (vae.config.sequence === null) delete shown['sequence'];
  return entries(shown, MODEL_WORDS);
}

function dataEntries(bundle: Bundle): Entry[] {
  const d = bundle.data;
  const list = (names: readonly string[], max = 20): string => names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')}, ... (${names.length} in all)`;
  const rows: Entry[] = [
    { name: 'source', value: d.source, words: 'where the training data came from' },
    { name: 'shape', value: `[${d.shape.join(', ')}]`, words: describeShape(d.shape) },
    { name: 'classNames', value: d.classNames === null ? 'none' : list(d.classNames), words: d.classNames === null ? 'the data had no labels' : `${d.classNames.length} classes, by index` },
    {
      name: 'standardization',
      value: d.standardization === null ? 'none' : `mean and standard deviation of ${d.standardization.mean.length} features`,
      words: d.standardization === null ? 'values are used as they are (images: intensities in [0, 1])' : 'the training split\'s per-feature statistics, applied to all later data',
    },
  ];
  if (d.featureNames !== undefined && d.featureNames !== null) rows.push({ name: 'featureNames', value: list(d.featureNames), words: 'the table\'s columns' });
  return rows;
}

function trainingEntries(training: Record<string, unknown>): Part<Entry[]> {
  if (Object.keys(training).length === 0) return { missing: `${RUN_FILES.config} does not say how this model was trained (a model saved by the library without a training record).` };
  return entries(training, TRAINING_WORDS, (key, value) => key === 'loss' && isLoss(value) ? `: ${LOSS_DESCRIPTIONS[value]}` : '');
}

// ---- the test metrics ---------------------------------------------------------------------

function num(value: unknown, format: (x: number) => string): string {
  if (typeof value === 'number' && Number.isFinite(value)) return format(value);
  if (value === null) return 'not defined';
  return formatValue(value);
}

const db = (x: number): string => `${x.toFixed(2)} dB`;
const nats = (x: number): string => `${x.toFixed(2)} nats`;
const mse = (x: number): string => x.toPrecision(4);

/** The rows of test-metrics.json (TestMetrics, eval/evaluate.ts), each with what it measures. */
export function testMetricEntries(m: Record<string, unknown>): { intro: string; rows: Entry[] } {
  const noise = typeof m['noise'] === 'string' ? m['noise'] : 'unknown';
  const noisy = noise !== 'none';
  const samples = typeof m['elboSamples'] === 'number' ? m['elboSamples'] : null;
  const given = noisy ? 'clean test examples scored given their noisy versions (the encoder sees the noisy one, the likelihood scores the clean one)' : 'test examples scored given themselves';
  const rows: Entry[] = [];
  const add = (key: string, format: (x: number) => string, words: string): void => {
    if (key in m) rows.push({ name: key, value: num(m[key], format), words });
  };
  add('images', (x) => x.toLocaleString('en-US'), 'test examples every number below is averaged over');
  if ('noise' in m) rows.push({ name: 'noise', value: noise, words: 'the corruption of the inputs, a fixed draw from the seed (every evaluation with the same seed sees the same noisy examples)' });
  add('psnrNoisyDb', db, noisy
    ? 'PSNR of the noisy inputs against the clean images: the mean over images of 10 log10(1 / MSE), pixels in [0, 1]; the baseline to beat'
    : 'PSNR of the inputs against themselves (no noise: not defined)');
  add('psnrDenoisedDb', db, 'PSNR of the model\'s outputs (the decoded posterior mean of each input) against the clean images; higher is better');
  add('mseNoisy', mse, 'mean squared error per value of the noisy inputs against the clean examples');
  add('mseDenoised', mse, 'mean squared error per value of the model\'s outputs against the clean examples; lower is better');
  add('negElboNats', nats, `negative ELBO (beta 1): ${given}, nats per example, averaged over ${samples ?? 'several'} posterior samples each; lower is better`);
  add('reconNats', nats, 'its reconstruction part: -log p(clean example | z), nats per example');
  add('klNats', nats, 'its KL part: KL(q(z | input) || p(z)), nats per example: what the code costs');
  add('elboSamples', (x) => String(x), 'posterior samples averaged per example in the negative ELBO');
  const shown = new Set(rows.map((r) => r.name));
  for (const key of Object.keys(m).filter((k) => !shown.has(k)).sort()) rows.push({ name: key, value: formatValue(m[key]), words: '' });
  const count = typeof m['images'] === 'number' ? m['images'].toLocaleString('en-US') : 'the';
  const intro = `Written by vaekit train after the last epoch: ${count} validation/test examples${noisy ? `, corrupted with ${noise} noise` : ', without noise'}.`;
  return { intro, rows };
}

// ---- reading the folder -------------------------------------------------------------------

function readJson(path: string): { value: unknown } | { error: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { error: `${basename(path)} could not be read (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { error: `${basename(path)} is not valid JSON` };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function timingText(dir: string): string | null {
  const path = join(dir, RUN_FILES.timing);
  if (!existsSync(path)) return null;
  let rows: Array<Record<string, unknown>>;
  try {
    rows = readJsonLines(path);
  } catch (err) {
    if (err instanceof VaekitError) return null;
    throw err;
  }
  if (rows.length === 0) return null;
  const seconds = rows.map((r) => r['seconds']).filter((s): s is number => typeof s === 'number');
  const rates = rows.map((r) => r['imagesPerSecond']).filter((s): s is number => typeof s === 'number');
  if (seconds.length === 0) return null;
  const total = seconds.reduce((a, b) => a + b, 0);
  const rate = rates.length > 0 ? `, ${Math.round(rates.reduce((a, b) => a + b, 0) / rates.length).toLocaleString('en-US')} training examples per second on average` : '';
  return `${seconds.length} epoch${seconds.length === 1 ? '' : 's'} in ${total < 10 ? total.toFixed(2) : total.toFixed(1)} s of training (validation included)${rate}, from ${RUN_FILES.timing}.`;
}

async function curvesPart(dir: string, bundle: Bundle): Promise<ReportParts['curves']> {
  if (!existsSync(join(dir, RUN_FILES.metrics))) return { missing: `The folder has no ${RUN_FILES.metrics} (vaekit train and vaekit demo write it, one line per epoch).` };
  let chart: Chart | null;
  let records: Array<Record<string, unknown>>;
  try {
    records = readJsonLines(join(dir, RUN_FILES.metrics));
    chart = await trainingCurves(dir, bundle);
  } catch (err) {
    if (err instanceof VaekitError) return { missing: `The training curves are left out: ${err.message}` };
    throw err;
  }
  if (chart === null) return { missing: `${RUN_FILES.metrics} holds no epochs yet.` };
  return {
    chart: {
      name: RUN_FILES.curvesPng,
      mime: 'image/png',
      bytes: chart.png,
      alt: 'Training curves: loss per epoch',
      density: 2,
      caption: `The loss per epoch, with its reconstruction and KL parts where the objective has them, on the training set (solid) and the validation set (dashed), from ${RUN_FILES.metrics}.`,
    },
    epochs: records,
    timing: timingText(dir),
  };
}

function testMetricsPart(dir: string): ReportParts['testMetrics'] {
  const path = join(dir, RUN_FILES.testMetrics);
  if (!existsSync(path)) return { missing: `The folder has no ${RUN_FILES.testMetrics} (vaekit train writes it after the last epoch).` };
  const read = readJson(path);
  if ('error' in read) return { missing: `The test metrics are left out: ${read.error}.` };
  if (!isRecord(read.value)) return { missing: `The test metrics are left out: ${RUN_FILES.testMetrics} is not a JSON object.` };
  return testMetricEntries(read.value);
}

/** The rows of a Markdown table of two columns (vaekit eval's eval.md). */
export function markdownTableRows(markdown: string): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  for (const raw of markdown.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('|') || !line.endsWith('|') || line.length < 2) continue;
    const cells = line.slice(1, -1).split(' | ').map((c) => c.trim());
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    rows.push([cells[0] ?? '', cells.slice(1).join(' | ')]);
  }
  // The first row is the header ("metric | value").
  return rows.slice(1);
}

function evaluationPart(dir: string, modelDir: string): ReportParts['evaluation'] {
  const md = join(dir, RUN_FILES.evalMarkdown);
  if (!existsSync(md)) {
    if (existsSync(join(dir, RUN_FILES.evalJson))) return { missing: `The folder has ${RUN_FILES.evalJson} but not ${RUN_FILES.evalMarkdown}, the table this page shows: vaekit eval on this model (${modelDir}) writes both again.` };
    return { missing: `No evaluation in the folder: vaekit eval on this model (${modelDir}) measures the importance-sampled log-likelihood, SSIM, active units and kNN accuracy (and writes ${RUN_FILES.evalJson} and ${RUN_FILES.evalMarkdown} here).` };
  }
  const text = readFileSync(md, 'utf8');
  const rows = markdownTableRows(text);
  return rows.length > 0 ? { rows, text: null } : { rows: [], text };
}

/** Pictures the report draws afresh in their own sections (from the model and metrics.jsonl), so not repeated under Figures. */
const DRAWN_BY_REPORT = new Set<string>([RUN_FILES.samples, RUN_FILES.curvesPng, RUN_FILES.curvesSvg]);

/** The folder's pictures, the notebook's first; of a PNG and an SVG of one name, the PNG only. */
function imageFiles(dir: string): string[] {
  const order = Object.keys(FIGURE_CAPTIONS);
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith('.') && IMAGE_TYPES[extname(e.name).toLowerCase()] !== undefined && !DRAWN_BY_REPORT.has(e.name))
    .map((e) => e.name);
  const stem = (n: string): string => n.slice(0, n.length - extname(n).length);
  const pngs = new Set(names.filter((n) => extname(n).toLowerCase() === '.png').map(stem));
  return names
    .filter((n) => extname(n).toLowerCase() !== '.svg' || !pngs.has(stem(n)))
    .sort((a, b) => {
      const ia = order.indexOf(a);
      const ib = order.indexOf(b);
      return (ia < 0 ? order.length : ia) - (ib < 0 ? order.length : ib) || a.localeCompare(b);
    });
}

function figuresPart(dir: string, bundle: Bundle, options: { data?: Dataset; noise: NoiseSpec; seed: number }): ReportParts['figures'] {
  const vae = bundle.vae;
  const images: ReportImage[] = [];
  const notes: string[] = [];
  const names = imageFiles(dir);
  for (const name of names) {
    const path = join(dir, name);
    const size = statSync(path).size;
    if (size > MAX_INLINE_IMAGE_BYTES) {
      notes.push(`${name} (${(size / 1024 / 1024).toFixed(1)} MB) is too large to inline; it is in the folder.`);
      continue;
    }
    images.push({
      name,
      mime: IMAGE_TYPES[extname(name).toLowerCase()]!,
      bytes: new Uint8Array(readFileSync(path)),
      alt: name,
      caption: FIGURE_CAPTIONS[name] ?? name,
    });
  }
  const hasNotebookFigures = Object.keys(FIGURE_CAPTIONS).some((n) => names.includes(n));
  if (!hasNotebookFigures && options.data !== undefined) {
    const set = options.data;
    for (const [figure, png] of notebookFigures(vae, set, options.noise, options.seed, { classNames: bundle.data.classNames ?? set.labelNames, model: dir })) {
      if (figure === 'samples') continue;
      const name = RUN_FILES[figure];
      images.push({
        name,
        mime: 'image/png',
        bytes: png,
        alt: name,
        caption: `${FIGURE_CAPTIONS[name] ?? name} Drawn for this report from ${set.source} with ${formatNoise(options.noise)} noise, seed ${options.seed}.`,
      });
    }
  }
  if (images.length > 0) return { images, notes };
  const why = isImageShape(vae.config.inputShape)
    ? 'The folder has no figures: vaekit figures writes the notebook\'s figures into it (or give the report data to draw them for this page alone).'
    : 'The folder has no figures (this model\'s examples are table rows, not images).';
  return { missing: [why, ...notes].join(' ') };
}

function samplesPart(dir: string, bundle: Bundle, seed: number): ReportParts['samples'] {
  const vae = bundle.vae;
  const priorWords = vae.prior.standard ? 'the prior N(0, I)' : `the learned prior, a mixture of ${vae.prior.components} Gaussians`;
  const classNames = bundle.data.classNames ?? Array.from({ length: vae.classes }, (_, i) => String(i));
  if (isImageShape(vae.config.inputShape) && (vae.config.inputShape[2] === 1 || vae.config.inputShape[2] === 3)) {
    const conditional = vae.classes > 0;
    const perClass = Math.max(1, Math.round(REPORT_SAMPLES / Math.max(1, vae.classes)));
    return {
      name: 'prior-samples.png',
      mime: 'image/png',
      bytes: samplesPng(vae, REPORT_SAMPLES, seed, undefined, { classNames, model: dir }),
      alt: `Images decoded from samples of ${priorWords}`,
      caption: conditional
        ? `${perClass} images per class decoded from z drawn from ${priorWords}, one row per class (${classNames.join(', ')}), seed ${seed}: the decoder's mean output.`
        : `${REPORT_SAMPLES} images decoded from z drawn from ${priorWords}, seed ${seed}: the decoder's mean output for each (the same draw as vaekit sample's ${REPORT_SAMPLES} samples with seed ${seed}).`,
    };
  }
  // Table rows: a few samples in the data's own units.
  const count = 8;
  const features = vae.pixels;
  const shownColumns = Math.min(features, 12);
  const names = bundle.data.featureNames ?? Array.from({ length: features }, (_, i) => `x${i + 1}`);
  const draws: Array<{ label: string | null; values: Float32Array }> = [];
  if (vae.classes > 0) {
    for (let c = 0; c < Math.min(vae.classes, 10); c++) draws.push({ label: classNames[c] ?? String(c), values: Float32Array.from(vae.sample(1, seed + c, c).data) });
  } else {
    const all = Float32Array.from(vae.sample(count, seed).data);
    for (let r = 0; r < count; r++) draws.push({ label: null, values: all.slice(r * features, (r + 1) * features) });
  }
  if (bundle.data.standardization !== null) for (const d of draws) unstandardize(d.values, 1, bundle.data.standardization);
  const headers = [...(vae.classes > 0 ? ['class'] : []), ...names.slice(0, shownColumns)];
  const rows = draws.map((d) => [...(d.label !== null ? [d.label] : []), ...Array.from(d.values.subarray(0, shownColumns), (v) => v.toPrecision(4))]);
  return {
    caption: `${draws.length} examples decoded from z drawn from ${priorWords}, seed ${seed}, in the data's own units${shownColumns < features ? ` (the first ${shownColumns} of ${features} features)` : ''}.`,
    headers,
    rows,
  };
}

function filesPart(dir: string): ReportParts['files'] {
  const out: ReportParts['files'] = [];
  // Not the page itself (an earlier one is about to be replaced), nor temporary and lock files.
  const entriesInDir = readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.') && e.name !== RUN_FILES.report).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entriesInDir) {
    const name = e.isDirectory() ? `${e.name}/` : e.name;
    const size = e.isDirectory() ? '' : formatBytes(statSync(join(dir, e.name)).size);
    out.push({ name, size, words: FILE_WORDS[name] ?? '' });
  }
  return out;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export interface ReportOptions {
  /** Where to write the page (default: report.html in the model folder). */
  out?: string;
  /**
   * Examples, prepared for the model (as prepareForModel makes them, e.g. trainJob's testSet), to
   * draw the notebook's figures from when the folder has none; without it no data is read.
   */
  data?: Dataset;
  /** Noise of those figures (default: the noise the model was trained with). */
  noise?: NoiseSpec;
  /** Seed of the prior samples and of the figures' noise (default: the seed the model was trained with, as vaekit demo draws them; else 0). */
  seed?: number;
  /** The model folder's bundle, when the caller has loaded it already. */
  bundle?: Bundle;
  /** The time the page says it was written (default: now). */
  now?: Date;
}

/** Everything the page shows about the model in `modelDir`, read from the folder and drawn from the model. */
export async function gatherReport(modelDir: string, options: Omit<ReportOptions, 'out'> = {}): Promise<ReportParts> {
  const bundle = options.bundle ?? loadBundle(modelDir);
  const dir = resolve(modelDir);
  const vae = bundle.vae;
  const trainedSeed = bundle.training['seed'];
  const seed = options.seed ?? (typeof trainedSeed === 'number' && Number.isInteger(trainedSeed) && trainedSeed >= 0 ? trainedSeed : 0);
  const noise = options.noise ?? trainedNoise(bundle.training) ?? DEFAULT_NOISE;
  const loss = isLoss(bundle.training['loss']) ? bundle.training['loss'] : undefined;
  const summaryOptions = loss !== undefined ? { loss } : {};
  const text = formatSummary(vae, summaryOptions);
  const parts: ReportParts = {
    modelDir: dir,
    generated: (options.now ?? new Date()).toISOString(),
    trainedAt: existsSync(join(dir, RUN_FILES.config)) ? statSync(join(dir, RUN_FILES.config)).mtime.toISOString() : null,
    summary: { heading: text.split('\n')[0]!, rows: summaryRows(vae, summaryOptions), totalParams: vae.params.count, text },
    model: modelEntries(vae),
    data: dataEntries(bundle),
    training: trainingEntries(bundle.training),
    curves: await curvesPart(dir, bundle),
    testMetrics: testMetricsPart(dir),
    evaluation: evaluationPart(dir, modelDir),
    figures: figuresPart(dir, bundle, { ...(options.data !== undefined ? { data: options.data } : {}), noise, seed }),
    samples: samplesPart(dir, bundle, seed),
    files: filesPart(dir),
  };
  return parts;
}

/**
 * Checks that the report can be written at `out` and that it writes over none of the files it is
 * made from: every file of the model folder but an earlier report.html, and `otherInputs` (its data).
 */
export function prepareReportFile(modelDir: string, out: string, otherInputs: ReadonlyArray<string | undefined> = []): void {
  const files = existsSync(modelDir) ? readdirSync(modelDir).filter((name) => name !== RUN_FILES.report).map((name) => join(modelDir, name)) : [];
  prepareOutputFile(out, { inputs: [...files, ...otherInputs] });
}

/**
 * Writes the report of the model in `modelDir` (atomically) and returns its path: the model
 * summary, its configuration, the training curves, the test metrics, vaekit eval's results when
 * present, the folder's figures and prior samples, all in one HTML file.
 */
export async function writeReport(modelDir: string, options: ReportOptions = {}): Promise<string> {
  const bundle = options.bundle ?? loadBundle(modelDir);
  const out = resolve(options.out ?? join(modelDir, RUN_FILES.report));
  prepareReportFile(modelDir, out);
  const { out: _out, ...rest } = options;
  const parts = await gatherReport(modelDir, { ...rest, bundle });
  writeFileAtomic(out, renderReport(parts));
  return out;
}

// ---- the page -----------------------------------------------------------------------------

function entryTable(rows: readonly Entry[]): string {
  return table(['setting', 'value', 'what it is'], rows.map((r) => [r.name, r.value, { html: `<span class="words">${escapeHtml(r.words)}</span>` }]), { className: 'kv' });
}

/** The width to show an image at in CSS pixels: a chart at its drawing's density; others as they are. */
function displayWidth(image: ReportImage): number | undefined {
  const size = image.density !== undefined && image.mime === 'image/png' ? pngSize(image.bytes) : null;
  return size === null ? undefined : size.width / image.density!;
}

function imageHtml(image: ReportImage, className?: string): string {
  const width = displayWidth(image);
  return figure(dataUri(image.mime, image.bytes), image.alt, escapeHtml(image.caption), { ...(className !== undefined ? { className } : {}), ...(width !== undefined ? { width } : {}) });
}

const EPOCH_COLUMNS: ReadonlyArray<[string, string]> = [
  ['epoch', 'epoch'], ['loss', 'loss'], ['recon', 'reconstruction'], ['kl', 'KL'], ['beta', 'KL weight'],
  ['valLoss', 'val loss'], ['valRecon', 'val reconstruction'], ['valKl', 'val KL'],
];

function epochTable(records: ReadonlyArray<Record<string, unknown>>): string {
  const columns = EPOCH_COLUMNS.filter(([key]) => records.some((r) => key in r));
  const cell = (v: unknown): Cell => typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : formatValue(v);
  const numeric = columns.map((_, i) => i);
  return table(columns.map(([, label]) => label), records.map((r) => columns.map(([key]) => cell(r[key]))), { numeric });
}

function orMissing<T>(part: Part<T>, render: (value: T) => string): string {
  return isMissing(part) ? missing(part.missing) : render(part);
}

const SECTIONS: ReadonlyArray<[string, string]> = [
  ['summary', 'Model summary'],
  ['config', 'Configuration'],
  ['curves', 'Training curves'],
  ['test-metrics', 'Test metrics'],
  ['evaluation', 'Evaluation'],
  ['figures', 'Figures'],
  ['samples', 'Prior samples'],
  ['files', 'Files in the folder'],
];

/** The page for a model's report parts (pure: the same parts give the same page). */
export function renderReport(parts: ReportParts): string {
  const name = basename(parts.modelDir);
  const html: string[] = [];
  html.push(`<h1>vaekit report: ${escapeHtml(name)}</h1>`);
  const trained = parts.trainedAt !== null ? ` The model was saved on ${escapeHtml(humanDate(parts.trainedAt))}.` : '';
  html.push(`<p class="meta">Written on ${escapeHtml(humanDate(parts.generated))} from the model folder <code>${escapeHtml(parts.modelDir)}</code>.${trained}</p>`);
  html.push(`<nav><strong>Contents</strong><ol>${SECTIONS.map(([id, title]) => `<li><a href="#${id}">${escapeHtml(title)}</a></li>`).join('')}</ol></nav>`);

  const s = parts.summary;
  const summaryRowsHtml = s.rows.map((r) => [r.layer, r.shape, r.params.toLocaleString('en-US'), r.activation] as Cell[]);
  html.push(section('summary', 'Model summary', [
    `<p>${escapeHtml(s.heading)}</p>`,
    table(['Layer (type)', 'Output shape', 'Param #', 'Activation'], summaryRowsHtml, { numeric: [2], className: 'summary' }),
    `<p>Total parameters: <strong>${s.totalParams.toLocaleString('en-US')}</strong>, all trainable.</p>`,
    `<details><summary>As vaekit summary prints it</summary><pre>${escapeHtml(s.text)}</pre></details>`,
  ].join('\n')));

  html.push(section('config', 'Configuration', [
    `<h3>Model</h3>\n<p>From the model section of <code>${RUN_FILES.config}</code>.</p>`,
    entryTable(parts.model),
    `<h3>Data</h3>\n<p>What the model knows about the data it was trained on.</p>`,
    entryTable(parts.data),
    '<h3>Training</h3>',
    orMissing(parts.training, (rows) => `<p>The training settings the model was saved with.</p>\n${entryTable(rows)}`),
  ].join('\n')));

  html.push(section('curves', 'Training curves', orMissing(parts.curves, (c) => [
    imageHtml(c.chart, 'chart'),
    c.timing !== null ? `<p>${escapeHtml(c.timing)}</p>` : '',
    `<details><summary>Every epoch's numbers (val: the validation set)</summary>\n${epochTable(c.epochs)}\n</details>`,
  ].join('\n'))));

  html.push(section('test-metrics', 'Test metrics', orMissing(parts.testMetrics, (t) => [
    `<p>${escapeHtml(t.intro)}</p>`,
    table(['metric', 'value', 'what it measures'], t.rows.map((r) => [{ html: `<code>${escapeHtml(r.name)}</code>` }, r.value, { html: `<span class="words">${escapeHtml(r.words)}</span>` }]), { numeric: [1], className: 'metrics' }),
  ].join('\n'))));

  html.push(section('evaluation', 'Evaluation', orMissing(parts.evaluation, (e) => [
    `<p>From <code>${RUN_FILES.evalMarkdown}</code>, written by <code>vaekit eval</code>: its negative ELBO scores clean examples given themselves, unlike the test metrics above (clean given noisy). The full numbers are in <code>${RUN_FILES.evalJson}</code>.</p>`,
    e.text !== null ? `<pre>${escapeHtml(e.text)}</pre>` : table(['metric', 'value'], e.rows.map(([a, b]) => [a, b])),
  ].join('\n'))));

  html.push(section('figures', 'Figures', orMissing(parts.figures, (f) => [
    ...f.images.map((i) => imageHtml(i)),
    ...f.notes.map((n) => `<p>${escapeHtml(n)}</p>`),
  ].join('\n'))));

  html.push(section('samples', 'Prior samples', orMissing(parts.samples, (sample) => 'bytes' in sample
    ? imageHtml(sample)
    : `<p>${escapeHtml(sample.caption)}</p>\n${table(sample.headers, sample.rows, { numeric: sample.headers.map((_, i) => i).filter((i) => sample.headers[0] !== 'class' || i > 0) })}`)));

  html.push(section('files', 'Files in the folder', table(['file', 'size', 'what it is'], parts.files.map((f) => [{ html: `<code>${escapeHtml(f.name)}</code>` }, f.size, f.words]), { numeric: [1], className: 'files' })));
  html.push(`<footer>Written by vaekit report. Everything on this page is in this one file: it needs no other file and no network.</footer>`);
  return page(`vaekit report: ${name}`, html.join('\n\n'));
}

/** "2025-01-31 14:05 UTC" from an ISO 8601 time. */
function humanDate(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m !== null ? `${m[1]} ${m[2]} UTC` : iso;
}
