/** Model configuration, the presets, and validation of user-given sizes. */
import { ACTIVATIONS, type Activation } from '../engine/backend.js';
import { VaekitError } from '../errors.js';

export type Likelihood = 'bernoulli' | 'gaussian';
export const LIKELIHOODS: readonly Likelihood[] = ['bernoulli', 'gaussian'];

export interface VaeConfig {
  /** The preset the config started from (informational). */
  preset: string;
  imageHeight: number;
  imageWidth: number;
  latent: number;
  encoderHidden: number[];
  decoderHidden: number[];
  /** Activation of the hidden layers. */
  activation: Activation;
  /** Pixel likelihood p(x|z): Bernoulli on greyscale intensities, or Gaussian with a fixed standard deviation. */
  likelihood: Likelihood;
  /** Standard deviation of the Gaussian likelihood (used only when likelihood is 'gaussian'). */
  gaussianSigma: number;
}

/** The notebook's network: 784 -> 512 relu -> 2*40; 40 -> 512 relu -> 784 sigmoid. */
export const SEED_PRESET: Readonly<VaeConfig> = Object.freeze({
  preset: 'seed',
  imageHeight: 28,
  imageWidth: 28,
  latent: 40,
  encoderHidden: [512],
  decoderHidden: [512],
  activation: 'relu',
  likelihood: 'bernoulli',
  gaussianSigma: 0.1,
});

export const PRESETS: Readonly<Record<string, Readonly<VaeConfig>>> = { seed: SEED_PRESET };

export type VaeOverrides = Partial<Omit<VaeConfig, 'preset'>>;

/** A preset with overrides applied, validated. */
export function presetConfig(name: string, overrides: VaeOverrides = {}): VaeConfig {
  const base = PRESETS[name];
  if (base === undefined) {
    throw new VaekitError(`Unknown preset "${name}": available presets are ${Object.keys(PRESETS).join(', ')}.`);
  }
  const config: VaeConfig = {
    ...base,
    encoderHidden: [...base.encoderHidden],
    decoderHidden: [...base.decoderHidden],
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  return validateConfig(config);
}

export function validateConfig(config: VaeConfig): VaeConfig {
  const positiveInt = (v: unknown, what: string): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new VaekitError(`${what} must be a positive integer, not ${JSON.stringify(v)}.`);
    }
  };
  positiveInt(config.imageHeight, 'The image height');
  positiveInt(config.imageWidth, 'The image width');
  positiveInt(config.latent, 'The latent size');
  for (const [list, what] of [[config.encoderHidden, 'encoder'], [config.decoderHidden, 'decoder']] as const) {
    if (!Array.isArray(list)) throw new VaekitError(`The ${what} hidden sizes must be a list of positive integers.`);
    for (const h of list) positiveInt(h, `Each ${what} hidden size`);
  }
  if (!ACTIVATIONS.includes(config.activation)) {
    throw new VaekitError(`Unknown activation "${String(config.activation)}": use one of ${ACTIVATIONS.join(', ')}.`);
  }
  if (!LIKELIHOODS.includes(config.likelihood)) {
    throw new VaekitError(`Unknown likelihood "${String(config.likelihood)}": use one of ${LIKELIHOODS.join(', ')}.`);
  }
  if (typeof config.gaussianSigma !== 'number' || !(config.gaussianSigma > 0) || !Number.isFinite(config.gaussianSigma)) {
    throw new VaekitError(`The Gaussian likelihood's sigma must be a positive number, not ${JSON.stringify(config.gaussianSigma)}.`);
  }
  return config;
}
