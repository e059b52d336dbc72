/** Model configuration, the presets, and validation of user-given sizes. */
import { ACTIVATIONS, type Activation } from '../engine/backend.js';
import { clip, VaekitError } from '../errors.js';
import { PRIOR_KINDS, type PriorKind } from './prior.js';
import { CELLS, type Cell } from './text/config.js';

export type Likelihood = 'bernoulli' | 'gaussian' | 'continuous-bernoulli';
export const LIKELIHOODS: readonly Likelihood[] = ['bernoulli', 'gaussian', 'continuous-bernoulli'];

export type Architecture = 'dense' | 'conv' | 'conv1d' | 'recurrent';
export const ARCHITECTURES: readonly Architecture[] = ['dense', 'conv', 'conv1d', 'recurrent'];

/** A window of a time series: `length` points of `channels` values, a row of length * channels values, channels-last. */
export interface SequenceShape {
  length: number;
  channels: number;
}

export interface VaeConfig {
  /** The preset the config started from (informational). */
  preset: string;
  /**
   * Shape of one example: [height, width, channels] for images (channels-last; 1 channel for
   * greyscale), [features] for a row of a table (standardized; dense architecture and a Gaussian
   * likelihood whose mean is the decoder's output itself).
   */
  inputShape: number[];
  /**
   * A time series model's window: its rows are `length` points of `channels` values (value (t, c) at
   * t * channels + c; inputShape [length * channels]). null for images and tables.
   */
  sequence: SequenceShape | null;
  latent: number;
  /**
   * 'dense': encoder image -> Dense hidden... -> 2L; decoder L -> Dense hidden... -> image.
   * 'conv': encoder Conv2d(k4, s2, p1) per entry of convChannels, then the dense hidden layers;
   * decoder dense hidden layers, a Dense to the last conv feature map, then ConvTranspose2d(k4,
   * s2, p1) back up to the image. Each conv halves the height and width (which must divide).
   * 'conv1d': the same over a series window (`sequence`): Conv1d(k4, s2, p1) per entry of
   * convChannels, each halving the length, and ConvTranspose1d back up. A conditional model's label
   * enters its encoder as extra channels at every point.
   * 'recurrent': over a series window as well (an LSTM-VAE, as Keras' LSTM autoencoder): encoder
   * LSTM/GRU (`cell`) of encoderHidden[0] units over the window's points -> its last state -> Dense
   * 2L; decoder z -> RepeatVector (z at every point) -> LSTM/GRU of decoderHidden[0] units ->
   * TimeDistributed(Dense to the channels). A conditional model's label enters both as for conv1d
   * (encoder: extra channels at every point; decoder: appended to z).
   */
  architecture: Architecture;
  /** The recurrent architecture's cell ('lstm' or 'gru'); null for every other architecture. */
  cell: Cell | null;
  convChannels: number[];
  encoderHidden: number[];
  decoderHidden: number[];
  /** Activation of the hidden layers. */
  activation: Activation;
  /** Pixel likelihood p(x|z): Bernoulli on greyscale intensities, or Gaussian with a fixed standard deviation. */
  likelihood: Likelihood;
  /** Standard deviation of the Gaussian likelihood (used only when likelihood is 'gaussian'); the initial value when learned. */
  gaussianSigma: number;
  /** Learn one standard deviation per pixel instead of fixing it. */
  gaussianLearnedVariance: boolean;
  /** Number of classes of a conditional VAE (its label goes to encoder and decoder); 0 for an unconditional one. */
  classes: number;
  /** The prior p(z): N(0, I), or a learned mixture of priorComponents diagonal Gaussians (prior.ts). */
  prior: PriorKind;
  /** Mixture components of the 'mog' prior (0 for 'standard'). */
  priorComponents: number;
}

/**
 * A table of standardized features learns its Gaussian likelihood's standard deviations (one per
 * feature), starting at this value, unless --sigma fixes one (images keep a fixed 0.1). Chosen with
 * bench/tables.ts (BENCHMARKS.md): on the Wisconsin breast-cancer table's one-class task a learned
 * variance from 1 scored a mean AUROC of 96.0% over five seeds (the old fixed 0.1: 93.9%; fixed 2, the
 * best there: 96.3%), and 99.7% over three seeds on test/own-data.test.ts's planted-outlier table,
 * where fixed 2 fell to 91.9%.
 */
export const FEATURE_GAUSSIAN_SIGMA = 1;

const MNIST_BASE = {
  inputShape: [28, 28, 1] as number[],
  sequence: null,
  cell: null,
  architecture: 'dense',
  convChannels: [],
  likelihood: 'bernoulli',
  gaussianSigma: 0.1,
  gaussianLearnedVariance: false,
  classes: 0,
  prior: 'standard',
  priorComponents: 0,
} as const;

/** The notebook's network: 784 -> 512 relu -> 2*40; 40 -> 512 relu -> 784 sigmoid. */
export const SEED_PRESET: Readonly<VaeConfig> = Object.freeze({
  ...MNIST_BASE,
  convChannels: [],
  preset: 'seed',
  latent: 40,
  encoderHidden: [512],
  decoderHidden: [512],
  activation: 'relu',
});

/** The one-stochastic-layer model of the importance-weighted autoencoder paper (Burda et al. 2015): two hidden layers of 200 tanh units, latent 50. */
export const MLP_PRESET: Readonly<VaeConfig> = Object.freeze({
  ...MNIST_BASE,
  convChannels: [],
  preset: 'mlp',
  latent: 50,
  encoderHidden: [200, 200],
  decoderHidden: [200, 200],
  activation: 'tanh',
});

/** A small convolutional VAE for 28x28 images: 28 -> 14 -> 7 with 32 and 64 channels, a 256-unit dense layer, latent 32. */
export const CONV_PRESET: Readonly<VaeConfig> = Object.freeze({
  ...MNIST_BASE,
  preset: 'conv',
  architecture: 'conv',
  convChannels: [32, 64],
  latent: 32,
  encoderHidden: [256],
  decoderHidden: [256],
  activation: 'relu',
});

/**
 * What the series presets share: a window of 120 points of one channel until the data gives its own
 * (run/data.ts, modelConfigForData), standardized values under a Gaussian likelihood that learns one
 * standard deviation per value from FEATURE_GAUSSIAN_SIGMA.
 */
const SERIES_BASE = {
  inputShape: [120] as number[],
  sequence: { length: 120, channels: 1 },
  likelihood: 'gaussian',
  gaussianSigma: 1,
  gaussianLearnedVariance: true,
  classes: 0,
  prior: 'standard',
  priorComponents: 0,
  activation: 'relu',
  latent: 8,
  cell: null,
} as const;

/** Donut's network (Xu et al. 2018): a window -> 100 relu -> 100 relu -> 2*8; 8 -> 100 -> 100 -> the window's means. */
export const SERIES_PRESET: Readonly<VaeConfig> = Object.freeze({
  ...SERIES_BASE,
  preset: 'series',
  architecture: 'dense',
  convChannels: [],
  encoderHidden: [100, 100],
  decoderHidden: [100, 100],
});

/** A convolutional series model: W -> W/2 -> W/4 points with 16 and 32 channels, a 64-unit dense layer, latent 8. */
export const SERIES_CONV_PRESET: Readonly<VaeConfig> = Object.freeze({
  ...SERIES_BASE,
  preset: 'series-conv',
  architecture: 'conv1d',
  convChannels: [16, 32],
  encoderHidden: [64],
  decoderHidden: [64],
});

/**
 * A recurrent series model (an LSTM-VAE): an LSTM of 64 units reads the window, its last state gives
 * the posterior (latent 8); the decoder's LSTM of 64 units reads z at every point and a Dense per
 * point gives the channels' means.
 */
export const SERIES_RNN_PRESET: Readonly<VaeConfig> = Object.freeze({
  ...SERIES_BASE,
  preset: 'series-rnn',
  architecture: 'recurrent',
  cell: 'lstm',
  convChannels: [],
  encoderHidden: [64],
  decoderHidden: [64],
});

export const PRESETS: Readonly<Record<string, Readonly<VaeConfig>>> = {
  seed: SEED_PRESET, mlp: MLP_PRESET, conv: CONV_PRESET, series: SERIES_PRESET, 'series-conv': SERIES_CONV_PRESET, 'series-rnn': SERIES_RNN_PRESET,
};

export type VaeOverrides = Partial<Omit<VaeConfig, 'preset'>>;

/** A config from a model bundle, with the fields that older bundles lack filled in. */
export function configFromBundle(raw: Partial<VaeConfig> & { imageHeight?: number; imageWidth?: number; imageChannels?: number }): VaeConfig {
  const { imageHeight, imageWidth, imageChannels, ...rest } = raw;
  const c = {
    // Bundles from before inputShape kept the image's sides as three fields.
    ...(rest.inputShape === undefined ? { inputShape: [imageHeight, imageWidth, imageChannels ?? 1] } : {}),
    architecture: 'dense',
    convChannels: [],
    sequence: null,
    cell: null,
    gaussianLearnedVariance: false,
    classes: 0,
    prior: 'standard',
    priorComponents: 0,
    ...rest,
  } as VaeConfig;
  return validateConfig(c);
}

/** A preset with overrides applied, validated. */
export function presetConfig(name: string, overrides: VaeOverrides = {}): VaeConfig {
  const base = PRESETS[name];
  if (base === undefined) {
    throw new VaekitError(`Unknown preset "${name}": available presets are ${Object.keys(PRESETS).join(', ')}.`);
  }
  const config: VaeConfig = {
    ...base,
    inputShape: [...base.inputShape],
    sequence: base.sequence === null ? null : { ...base.sequence },
    convChannels: [...base.convChannels],
    encoderHidden: [...base.encoderHidden],
    decoderHidden: [...base.decoderHidden],
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  return validateConfig(config);
}

/** A value of a config for a message: its JSON (one line), cut short. */
function shown(v: unknown): string {
  const json = JSON.stringify(v) ?? String(v);
  return json.length > 60 ? `${json.slice(0, 60)}...` : json;
}

/**
 * The config with its fields in the order VaeConfig declares them (then any others), so every file
 * written from it (the bundle's config.json, the exports) has the same bytes whether the model was
 * made in this process or loaded from a bundle.
 */
export function canonicalConfig(c: VaeConfig): VaeConfig {
  const order: (keyof VaeConfig)[] = [
    'preset', 'inputShape', 'latent', 'architecture', 'convChannels', 'encoderHidden', 'decoderHidden', 'activation',
    'likelihood', 'gaussianSigma', 'gaussianLearnedVariance', 'classes', 'prior', 'priorComponents', 'sequence', 'cell',
  ];
  const out: Record<string, unknown> = {};
  for (const key of order) out[key] = c[key];
  for (const [key, value] of Object.entries(c)) if (!(key in out)) out[key] = value;
  return out as unknown as VaeConfig;
}

export function validateConfig(config: VaeConfig): VaeConfig {
  // Safe integers only: 1e308 is an integer too, and sizes multiplied from it overflow to Infinity.
  const positiveInt = (v: unknown, what: string): void => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
      throw new VaekitError(`${what} must be a positive integer, not ${shown(v)}.`);
    }
  };
  if (typeof config.preset !== 'string') throw new VaekitError(`The preset name must be a string, not ${shown(config.preset)}.`);
  const shape = config.inputShape;
  if (!Array.isArray(shape) || (shape.length !== 3 && shape.length !== 1)) {
    throw new VaekitError(`The input shape must be [height, width, channels] for images or [features] for tables, not ${shown(shape)}.`);
  }
  shape.forEach((d, i) => positiveInt(d, shape.length === 1 ? 'The number of features' : ['The image height', 'The image width', 'The number of image channels'][i]!));
  positiveInt(config.latent, 'The latent size');
  for (const [list, what] of [[config.encoderHidden, 'encoder hidden size'], [config.decoderHidden, 'decoder hidden size'], [config.convChannels, 'conv channel count']] as const) {
    if (!Array.isArray(list)) throw new VaekitError(`The ${what}s must be a list of positive integers.`);
    for (const h of list) positiveInt(h, `Each ${what}`);
  }
  if (!ARCHITECTURES.includes(config.architecture)) {
    throw new VaekitError(`Unknown architecture "${clip(String(config.architecture))}": use one of ${ARCHITECTURES.join(', ')}.`);
  }
  if (config.architecture === 'conv') {
    if (config.convChannels.length === 0) throw new VaekitError('A conv architecture needs at least one conv channel count.');
    if (shape.length !== 3) throw new VaekitError('A conv architecture needs images ([height, width, channels]); a table of features needs the dense one.');
    const factor = 2 ** config.convChannels.length;
    if (shape[0]! % factor !== 0 || shape[1]! % factor !== 0) {
      throw new VaekitError(`${config.convChannels.length} stride-2 convs need image sides divisible by ${factor}, not ${shape[0]}x${shape[1]}: resize the images (data.imageSize) or use fewer convs.`);
    }
  }
  checkSequence(config);
  checkCell(config);
  if (!Number.isSafeInteger(config.classes) || config.classes < 0) {
    throw new VaekitError(`The number of classes must be an integer >= 0, not ${shown(config.classes)}.`);
  }
  if (!PRIOR_KINDS.includes(config.prior)) {
    throw new VaekitError(`Unknown prior "${clip(String(config.prior))}": use one of ${PRIOR_KINDS.join(', ')}.`);
  }
  if (config.prior === 'mog' ? !(Number.isSafeInteger(config.priorComponents) && config.priorComponents >= 1) : config.priorComponents !== 0) {
    throw new VaekitError(`A ${config.prior} prior needs ${config.prior === 'mog' ? 'a whole number of mixture components >= 1' : '0 mixture components'}, not ${shown(config.priorComponents)}.`);
  }
  if (typeof config.gaussianLearnedVariance !== 'boolean') {
    throw new VaekitError('gaussianLearnedVariance must be true or false.');
  }
  if (!ACTIVATIONS.includes(config.activation)) {
    throw new VaekitError(`Unknown activation "${clip(String(config.activation))}": use one of ${ACTIVATIONS.join(', ')}.`);
  }
  if (!LIKELIHOODS.includes(config.likelihood)) {
    throw new VaekitError(`Unknown likelihood "${clip(String(config.likelihood))}": use one of ${LIKELIHOODS.join(', ')}.`);
  }
  if (shape.length === 1 && config.likelihood !== 'gaussian') {
    throw new VaekitError(`The ${config.likelihood} likelihood needs values in [0, 1] (images); a table of features needs the gaussian likelihood.`);
  }
  if (typeof config.gaussianSigma !== 'number' || !(config.gaussianSigma > 0) || !Number.isFinite(config.gaussianSigma)) {
    throw new VaekitError(`The Gaussian likelihood's sigma must be a positive number, not ${shown(config.gaussianSigma)}.`);
  }
  return config;
}

/** Throws when a config's `sequence` does not describe its rows, or its conv1d layers do not fit the window. */
function checkSequence(config: VaeConfig): void {
  const q = config.sequence;
  if (q === null) {
    if (config.architecture === 'conv1d' || config.architecture === 'recurrent') {
      throw new VaekitError(`A ${config.architecture} architecture needs time series windows (a sequence of points and channels); images take conv and tables dense.`);
    }
    return;
  }
  if (typeof q !== 'object' || !Number.isSafeInteger(q.length) || q.length < 1 || !Number.isSafeInteger(q.channels) || q.channels < 1) {
    throw new VaekitError(`A series window must be a whole number of points and of channels, each at least 1, not ${shown(q)}.`);
  }
  if (config.inputShape.length !== 1 || config.inputShape[0] !== q.length * q.channels) {
    throw new VaekitError(`A series window of ${q.length} points of ${q.channels} channels holds ${q.length * q.channels} values, but the input shape is [${config.inputShape.join(', ')}].`);
  }
  if (config.architecture === 'conv') throw new VaekitError('The conv architecture takes images; a time series takes conv1d or dense.');
  if (config.architecture === 'conv1d') {
    if (config.convChannels.length === 0) throw new VaekitError('A conv1d architecture needs at least one conv channel count.');
    const factor = 2 ** config.convChannels.length;
    if (q.length % factor !== 0) {
      throw new VaekitError(`${config.convChannels.length} stride-2 convs need a window divisible by ${factor} points, not ${q.length}: change data.window or use fewer convs.`);
    }
  }
}

/** Throws unless a recurrent architecture has a cell and one recurrent size on each side, and the others no cell. */
function checkCell(config: VaeConfig): void {
  if (config.architecture !== 'recurrent') {
    if (config.cell !== null) throw new VaekitError(`A recurrent cell (${shown(config.cell)}) belongs to the recurrent architecture, not ${config.architecture}.`);
    return;
  }
  if (!CELLS.includes(config.cell as Cell)) throw new VaekitError(`The recurrent architecture's cell must be one of ${CELLS.join(', ')}, not ${shown(config.cell)}.`);
  for (const [list, side] of [[config.encoderHidden, 'encoder'], [config.decoderHidden, 'decoder']] as const) {
    if (list.length !== 1) throw new VaekitError(`The recurrent architecture's ${side} is one ${config.cell!.toUpperCase()}: give one ${side} hidden size (its state's), not ${list.length}.`);
  }
  if (config.convChannels.length > 0) throw new VaekitError('Conv channels belong to a convolutional architecture, not the recurrent one.');
}

/** Values per example: the product of the input shape. */
export function inputSize(c: Pick<VaeConfig, 'inputShape'>): number {
  return c.inputShape.reduce((a, b) => a * b, 1);
}

/** The image sides of an image model, or null for a model of features. */
export function imageSides(c: Pick<VaeConfig, 'inputShape'>): { height: number; width: number; channels: number } | null {
  const s = c.inputShape;
  return s.length === 3 ? { height: s[0]!, width: s[1]!, channels: s[2]! } : null;
}
