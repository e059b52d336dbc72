/**
 * The model bundle's format, without files (so it bundles for a browser): config.json (the
 * architecture, the data's description and how it was trained: data and a schema, never code) and
 * weights.safetensors (every parameter by name, float32). Parsing checks the schema and every
 * tensor's name and shape. bundle.ts reads and writes the folder.
 */
import type { Backend } from '../engine/backend.js';
import type { Standardization } from '../data/transforms/standardize.js';
import type { TimeKind } from '../data/sources/series.js';
import { clip, VaekitError } from '../errors.js';
import { configFromBundle, inputSize, type VaeConfig } from '../vae/config.js';
import { checkModelSize, Vae } from '../vae/model.js';
import { canonicalTextConfig, isTextConfig, validateTextConfig, type TextVaeConfig } from '../vae/text/config.js';
import { TextVae } from '../vae/text/model.js';
import { vocabularyFromJson, type Vocabulary, type VocabularyJson } from '../data/text/vocab.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../io/safetensors.js';

export const BUNDLE_FORMAT = 'vaekit-model';
export const BUNDLE_VERSION = 1;

export interface BundleConfig {
  format: typeof BUNDLE_FORMAT;
  formatVersion: number;
  model: VaeConfig | TextVaeConfig;
  /** What the model's data looks like (absent in bundles from before vaekit read a user's own data: MNIST). */
  data?: DataInfo;
  /** How the model was trained (informational). */
  training?: Record<string, unknown>;
}

/** What every later command needs to know about the data a model was trained on. */
export interface DataInfo {
  /** Shape of one example: [height, width, channels] or [features]. */
  shape: number[];
  /** The name of each class index (labels of a conditional model, or of the data), or null. */
  classNames: string[] | null;
  /** The training split's per-feature mean and standard deviation (features only), applied to all later data. */
  standardization: Standardization | null;
  /** The features' names (a CSV file's columns), for the tables vaekit writes; null for images or unnamed features. */
  featureNames?: string[] | null;
  /** Where the training data came from (informational). */
  source: string;
  /** Text models: how text becomes the model's token ids (the tokenizer and the tokens by id). */
  text?: { vocabulary: VocabularyJson };
  /** Series models: how a series becomes the model's windows (null for other models and old bundles). */
  series?: SeriesDataInfo | null;
}

/**
 * How a series model reads a series (src/run/series.ts seriesForModel): the windows it takes, the
 * columns it reads and the per-channel standardization of its training parts. An example is a
 * window of `window` points of `channels.length` channels, channels-last, standardized.
 */
export interface SeriesDataInfo {
  window: number;
  stride: number;
  /** The channels, in the order of a window's values. */
  channels: string[];
  /** CSV: the time column, or null (times are the rows' indices). */
  timeColumn: string | null;
  /** CSV: the value columns read (the channels); null for NPY arrays. */
  valueColumns: string[] | null;
  /** The training data's point-label column (informational: labels never train a model), or null. */
  labelColumn: string | null;
  /** How the training data's times were given. */
  timeKind: TimeKind;
  /** Per channel: x' = (x - mean[c]) / std[c], fitted on the training parts. */
  standardization: Standardization;
  /** Whether series are put on the regular grid of their most common step before windows are cut. */
  resample: boolean;
}

export interface Bundle {
  vae: Vae;
  data: DataInfo;
  training: Record<string, unknown>;
}

/** A saved text model: its TextVae, and the vocabulary every later command reads text with. */
export interface TextBundle {
  vae: TextVae;
  data: DataInfo;
  vocabulary: Vocabulary;
  training: Record<string, unknown>;
}

/** The two files of a bundle as bytes and text. */
export function encodeBundle(vae: Vae | TextVae, training?: Record<string, unknown>, data?: DataInfo): { config: string; weights: Uint8Array } {
  const tensors: Record<string, NamedTensor> = {};
  for (const p of vae.params.list) tensors[p.name] = { shape: [...p.shape], data: p.value };
  const config: BundleConfig = { format: BUNDLE_FORMAT, formatVersion: BUNDLE_VERSION, model: vae.config };
  if (data !== undefined) config.data = data;
  if (training !== undefined) config.training = training;
  return {
    config: `${JSON.stringify(config, null, 2)}\n`,
    weights: encodeSafetensors(tensors, { format: 'vaekit', preset: vae.config.preset }),
  };
}

/** An image or table model from its bundle's config text and weights bytes; a text model is refused (decodeAnyBundle takes both). */
export function decodeBundle(configText: string, weights: Uint8Array, names: { config: string; weights: string },
  options: { backend?: Backend } = {}): Bundle {
  const bundle = decodeAnyBundle(configText, weights, names, options);
  if (bundle.vae instanceof TextVae) {
    throw new VaekitError(`${names.config} describes a text model, and this takes image and table models (text models: vaekit sample, encode, interpolate, eval).`);
  }
  return bundle as Bundle;
}

/** A text model from its bundle's files; an image or table model is refused. */
export function decodeTextBundle(configText: string, weights: Uint8Array, names: { config: string; weights: string },
  options: { backend?: Backend } = {}): TextBundle {
  const bundle = decodeAnyBundle(configText, weights, names, options);
  if (!(bundle.vae instanceof TextVae)) throw new VaekitError(`${names.config} describes an image or table model, and this takes text models.`);
  return bundle as TextBundle;
}

/** A model of any kind from its bundle's config text and weights bytes; the names say where they came from in messages. */
export function decodeAnyBundle(configText: string, weights: Uint8Array, names: { config: string; weights: string },
  options: { backend?: Backend } = {}): Bundle | TextBundle {
  const config = parseBundleConfig(configText, names.config);
  const weightsPath = names.weights;
  const m = config.model;
  // The model is made only when the weights file could hold it: a config claiming a huge model is refused unallocated.
  const parameters = isTextConfig(m) ? TextVae.parameterCount(m) : checkModelSize(m);
  if (4 * parameters > weights.length) {
    throw new VaekitError(`${weightsPath} holds ${weights.length} bytes, too few for the ${parameters.toLocaleString('en-US')} float32 parameters of the model ${names.config} describes.`);
  }
  const backend = options.backend ? { backend: options.backend } : {};
  const vae = isTextConfig(m) ? new TextVae(m, backend) : new Vae(m, backend);
  const { tensors } = decodeSafetensors(weights, weightsPath);
  const unused = new Set(Object.keys(tensors));
  for (const p of vae.params.list) {
    const t = tensors[p.name];
    if (t === undefined) throw new VaekitError(`${weightsPath} has no tensor ${p.name}, which this model's config needs.`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new VaekitError(`${weightsPath}: tensor ${p.name} has shape [${clip(t.shape.join(', '))}] but the config needs [${p.shape.join(', ')}].`);
    }
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i]!)) throw new VaekitError(`${weightsPath}: tensor ${p.name} holds ${t.data[i]} at index ${i}; a model with non-finite weights is broken, so retrain it.`);
    }
    p.value.set(t.data);
    unused.delete(p.name);
  }
  if (unused.size > 0) {
    throw new VaekitError(`${weightsPath} has tensors this model's config does not use: ${[...unused].slice(0, 3).map((name) => clip(name)).join(', ')}.`);
  }
  const data = checkDataInfo(config, names.config);
  if (vae instanceof TextVae) {
    const vocabulary = vocabularyFromJson(data.text?.vocabulary, `${names.config}'s data.text.vocabulary`);
    if (vocabulary.size !== vae.vocab) throw new VaekitError(`${names.config} has a vocabulary of ${vocabulary.size} tokens but a model of ${vae.vocab}.`);
    return { vae, data, vocabulary, training: config.training ?? {} };
  }
  return { vae, data, training: config.training ?? {} };
}

/** The bundle's data section, checked against the model; MNIST's for old bundles. */
function checkDataInfo(c: BundleConfig, path: string): DataInfo {
  const m = c.model;
  const shape = isTextConfig(m) ? [m.maxLength] : [...m.inputShape];
  if (c.data === undefined) {
    const digits = m.classes > 0 ? Array.from({ length: m.classes }, (_, i) => String(i)) : null;
    return { shape, classNames: digits, standardization: null, source: 'MNIST train', series: null };
  }
  const d = c.data;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw new VaekitError(`${path} has a "data" section that is not an object.`);
  const bad = (what: string): never => {
    throw new VaekitError(`${path} has a "data" section whose ${what}.`);
  };
  if (!Array.isArray(d.shape) || d.shape.length !== shape.length || d.shape.some((x, i) => x !== shape[i])) bad(`shape is not the model's input shape [${shape.join(', ')}]`);
  if (d.classNames !== null && (!Array.isArray(d.classNames) || d.classNames.some((x) => typeof x !== 'string'))) bad('class names are not a list of strings');
  if (d.classNames !== null && m.classes > 0 && d.classNames.length !== m.classes) bad(`class names (${d.classNames.length}) do not match the model's ${m.classes} classes`);
  const s = d.standardization;
  if (s !== null && (typeof s !== 'object' || !Array.isArray(s.mean) || !Array.isArray(s.std)
    || s.mean.length !== s.std.length || [...s.mean, ...s.std].some((x) => typeof x !== 'number' || !Number.isFinite(x))
    || s.std.some((x) => x <= 0) || s.mean.length !== inputSize({ inputShape: shape }))) {
    bad(`standardization is not lists of ${inputSize({ inputShape: shape })} finite means and positive standard deviations`);
  }
  const names = d.featureNames ?? null;
  if (names !== null && (!Array.isArray(names) || names.some((x) => typeof x !== 'string') || names.length !== inputSize({ inputShape: shape }))) {
    bad('feature names are not one string per feature');
  }
  if (isTextConfig(m) !== (d.text !== undefined)) bad(isTextConfig(m) ? 'text section (the vocabulary) is missing' : 'text section belongs to a text model');
  const series = d.series === undefined || d.series === null ? null : checkSeriesInfo(d.series, shape, bad);
  return {
    shape: [...d.shape], classNames: d.classNames === null ? null : [...d.classNames], standardization: s, featureNames: names === null ? null : [...names], source: String(d.source),
    ...(d.text !== undefined ? { text: d.text } : {}),
    series,
  };
}

const TIME_KINDS: readonly TimeKind[] = ['date', 'number', 'index'];

/** A bundle's data.series, checked field by field and against the model's input size (window x channels). */
function checkSeriesInfo(raw: unknown, shape: readonly number[], bad: (what: string) => never): SeriesDataInfo {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('series section is not an object');
  const r = raw as Record<string, unknown>;
  const whole = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 1;
  const texts = (x: unknown): x is string[] => Array.isArray(x) && x.every((y) => typeof y === 'string');
  const textOrNull = (x: unknown): x is string | null => x === null || typeof x === 'string';
  const numbers = (x: unknown, n: number): x is number[] => Array.isArray(x) && x.length === n && x.every((y) => typeof y === 'number' && Number.isFinite(y));
  if (!whole(r['window']) || !whole(r['stride'])) bad('series window and stride are not whole numbers >= 1');
  const window = r['window'] as number;
  const channels = r['channels'];
  if (!texts(channels) || channels.length === 0 || window * channels.length !== inputSize({ inputShape: [...shape] })) {
    bad(`series channels are not names whose count times the window (${window}) is the model's input size`);
  }
  const C = (channels as string[]).length;
  const st = r['standardization'] as Record<string, unknown> | null | undefined;
  if (typeof st !== 'object' || st === null || !numbers(st['mean'], C) || !numbers(st['std'], C) || (st['std'] as number[]).some((x) => x <= 0)) {
    bad(`series standardization is not ${C} finite means and positive standard deviations`);
  }
  if (!textOrNull(r['timeColumn']) || !textOrNull(r['labelColumn']) || !(r['valueColumns'] === null || texts(r['valueColumns']))) bad('series columns are not names (or null)');
  if (!TIME_KINDS.includes(r['timeKind'] as TimeKind)) bad(`series timeKind is not one of ${TIME_KINDS.join(', ')}`);
  if (typeof r['resample'] !== 'boolean') bad('series resample is not true or false');
  const s = st as { mean: number[]; std: number[] };
  return {
    window, stride: r['stride'] as number, channels: [...channels as string[]],
    timeColumn: r['timeColumn'] as string | null, valueColumns: r['valueColumns'] === null ? null : [...r['valueColumns'] as string[]],
    labelColumn: r['labelColumn'] as string | null, timeKind: r['timeKind'] as TimeKind,
    standardization: { mean: [...s.mean], std: [...s.std] }, resample: r['resample'] as boolean,
  };
}

function parseBundleConfig(text: string, path: string): BundleConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new VaekitError(`${path} is not valid JSON.`);
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { format?: unknown }).format !== BUNDLE_FORMAT) {
    throw new VaekitError(`${path} is not a vaekit model config (its "format" is not "${BUNDLE_FORMAT}").`);
  }
  const c = parsed as BundleConfig;
  if (c.formatVersion !== BUNDLE_VERSION) {
    throw new VaekitError(`${path} has format version ${clip(String(c.formatVersion))}; this vaekit reads version ${BUNDLE_VERSION}.`);
  }
  if (typeof c.model !== 'object' || c.model === null || Array.isArray(c.model)) throw new VaekitError(`${path} has no "model" section.`);
  const t = c.training;
  if (t !== undefined && (typeof t !== 'object' || t === null || Array.isArray(t))) throw new VaekitError(`${path} has a "training" section that is not an object.`);
  return { ...c, model: isTextConfig(c.model) ? canonicalTextConfig(validateTextConfig(c.model)) : configFromBundle(c.model) };
}
