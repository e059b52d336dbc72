/**
 * Data meets model: the model config a dataset asks for (its shape, its classes, a likelihood that
 * fits its values), the data description a bundle keeps (class names, the features'
 * standardization), and the preparation every later command applies to new data so the model
 * sees it in the units it was trained in.
 */
import { classCount, classNames, isImageShape, relabel, type Dataset } from '../data/dataset.js';
import { DEFAULT_MISSING_RATE } from '../data/transforms/missing.js';
import { fitStandardization, standardize } from '../data/transforms/standardize.js';
import { VaekitError } from '../errors.js';
import type { DataInfo, SeriesDataInfo } from './bundle-format.js';
import { FEATURE_GAUSSIAN_SIGMA, presetConfig, type VaeConfig, type VaeOverrides } from '../vae/config.js';
import { textPresetConfig, type TextVaeConfig } from '../vae/text/config.js';
import type { ModelSpec } from './spec.js';

/** What the user chose about the model; the data fills in the rest. */
export interface ModelChoices {
  preset: string;
  overrides: VaeOverrides;
  /** Condition encoder and decoder on the data's class labels. */
  conditional: boolean;
}

/**
 * The model config for training on `train`: its example shape (and a series' window), its classes,
 * a likelihood that fits its values. The series presets take time series only, and time series
 * take no image preset.
 */
export function modelConfigForData(choices: ModelChoices, train: Dataset): VaeConfig {
  const overrides: VaeOverrides = { ...choices.overrides, inputShape: [...train.shape] };
  const series = train.series;
  const preset = presetConfig(choices.preset);
  if (preset.sequence !== null && series === undefined) {
    throw new VaekitError(`The ${choices.preset} preset models time series windows, and ${train.source} is not a time series: give time series (data.window) or use model.preset ${isImageShape(train.shape) ? 'seed, mlp or conv' : 'seed or mlp'}.`);
  }
  if (series !== undefined) {
    if (preset.architecture === 'conv') {
      throw new VaekitError(`The ${choices.preset} preset is convolutional over images, and ${train.source} holds time series windows: use model.preset series, series-conv or series-rnn.`);
    }
    overrides.sequence = { length: series.window, channels: series.channels.length };
  }
  if (choices.conditional) {
    if (train.labels === null) throw new VaekitError(`A conditional model needs labels, and ${train.source} has none (give data.labels or data.labelColumn, or class subfolders).`);
    overrides.classes = classCount(train);
  }
  if (!isImageShape(train.shape)) {
    const likelihood = overrides.likelihood ?? 'gaussian';
    if (likelihood !== 'gaussian') {
      throw new VaekitError(`The ${likelihood} likelihood needs values in [0, 1] (images), but ${train.source} holds features: use model.likelihood gaussian.`);
    }
    overrides.likelihood = likelihood;
    // Learned standard deviations from FEATURE_GAUSSIAN_SIGMA, unless --sigma fixes one.
    if (overrides.gaussianSigma === undefined && overrides.gaussianLearnedVariance === undefined) overrides.gaussianLearnedVariance = true;
    overrides.gaussianSigma ??= FEATURE_GAUSSIAN_SIGMA;
    if (preset.architecture === 'conv') {
      throw new VaekitError(`The ${choices.preset} preset is convolutional and needs images, but ${train.source} holds features: use model.preset seed or mlp.`);
    }
  }
  const config = presetConfig(choices.preset, overrides);
  // Settings that this model would silently ignore are refused.
  if (config.likelihood !== 'gaussian' && (choices.overrides.gaussianSigma !== undefined || choices.overrides.gaussianLearnedVariance === true)) {
    throw new VaekitError(`A standard deviation (model.sigma, model.learnedVariance) belongs to the gaussian likelihood, and this model's is ${config.likelihood}: add model.likelihood gaussian or drop it.`);
  }
  if (config.architecture === 'dense' && choices.overrides.convChannels !== undefined) {
    throw new VaekitError(`Conv channels (model.convChannels) belong to a convolutional model, and the ${choices.preset} preset is dense: use model.preset ${series === undefined ? 'conv' : 'series-conv'} or drop them.`);
  }
  return config;
}

/**
 * The missing-point injection rate of a run on `train` (objective.missingRate): the given one, or by
 * default DEFAULT_MISSING_RATE for time series and 0 for other data, which refuses a nonzero one.
 */
export function missingRateFor(rate: number | null, train: Dataset): number {
  if (train.series === undefined) {
    if (rate !== null && rate > 0) throw new VaekitError(`objective.missingRate injects missing points into time series windows, and ${train.source} is not a time series.`);
    return 0;
  }
  return rate ?? DEFAULT_MISSING_RATE;
}

/**
 * The data description a bundle keeps: shape, class names, (features) the training split's
 * standardization, and (series windows) how the series were read and cut (run/series.ts).
 */
export function dataInfoFor(train: Dataset, standardization: DataInfo['standardization'], series: SeriesDataInfo | null = null): DataInfo {
  return {
    shape: [...train.shape],
    classNames: train.labels === null ? null : [...classNames(train)],
    standardization,
    featureNames: train.featureNames === null ? null : [...train.featureNames],
    source: train.source,
    series,
  };
}

/**
 * Features are standardized with the training split's statistics; images are used as they are, and
 * so are series windows (windows.ts standardized them per channel by the series' training parts).
 */
export function standardizationFor(train: Dataset): DataInfo['standardization'] {
  return isImageShape(train.shape) || train.series !== undefined ? null : fitStandardization(train);
}

/**
 * New data in the model's units: its shape checked against the model's data, its features
 * standardized with the training statistics; for a conditional model, its labels renumbered to the
 * model's classes by name (a CSV label column or class folders may list other classes or fewer).
 */
export function prepareForModel(info: DataInfo, set: Dataset, conditional: boolean): Dataset {
  if (set.shape.length !== info.shape.length || set.shape.some((d, i) => d !== info.shape[i])) {
    throw new VaekitError(`${set.source} holds examples of shape [${set.shape.join(', ')}] but the model takes [${info.shape.join(', ')}].`);
  }
  let out = info.standardization === null ? set : standardize(set, info.standardization);
  if (conditional) {
    if (out.labels === null) throw new VaekitError(`This is a conditional model: it needs labels, and ${set.source} has none.`);
    const names = out.labelNames;
    if (names !== null && info.classNames !== null && names.some((n, i) => info.classNames![i] !== n)) {
      const index = names.map((n) => info.classNames!.indexOf(n));
      const labels = Int32Array.from(out.labels, (y) => {
        if (index[y]! < 0) throw new VaekitError(`${set.source} has the class "${names[y]}", which the model was not trained on.`);
        return index[y]!;
      });
      out = relabel(out, labels, info.classNames);
    }
  }
  return out;
}

/** The class index a label names: a class name of the model, or an index. */
export function classIndex(info: DataInfo, classes: number, label: string): number {
  const names = info.classNames;
  if (names !== null) {
    const i = names.indexOf(label);
    if (i >= 0 && i < classes) return i;
  }
  if (/^\d+$/.test(label) && Number(label) < classes) return Number(label);
  const known = names === null ? `0 to ${classes - 1}` : names.slice(0, 20).map((n) => `"${n}"`).join(', ') + (names.length > 20 ? ', ...' : '');
  throw new VaekitError(`This model has no class "${label}": use one of ${known}.`);
}

/** A text model's config for training on `train` (rows of token ids): its vocabulary, length and classes, and the user's sizes. */
export function textConfigForData(m: ModelSpec, train: Dataset): TextVaeConfig {
  const text = train.text;
  if (text === undefined) throw new VaekitError(`A text model needs text data, and ${train.source} is not text.`);
  if (m.conditional && train.labels === null) throw new VaekitError(`A conditional model needs labels, and ${train.source} has none (give data.labelColumn, or class subfolders).`);
  return textPresetConfig(m.preset, {
    vocab: text.vocabulary.size,
    maxLength: train.shape[0]!,
    classes: m.conditional ? classCount(train) : 0,
    ...(m.latent !== null ? { latent: m.latent } : {}),
    ...(m.embedding !== null ? { embedding: m.embedding } : {}),
    ...(m.encoderHidden !== null ? { encoderHidden: m.encoderHidden[0]! } : {}),
    ...(m.decoderHidden !== null ? { decoderHidden: m.decoderHidden[0]! } : {}),
    ...(m.cell !== null ? { cell: m.cell } : {}),
    ...(m.bidirectional !== null ? { bidirectional: m.bidirectional } : {}),
  });
}

/** The data description a text model's bundle keeps: its length, classes and vocabulary (tokenizer included). */
export function textDataInfo(train: Dataset): DataInfo {
  return { ...dataInfoFor(train, null), text: { vocabulary: train.text!.vocabulary.toJSON() } };
}
