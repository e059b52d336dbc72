/**
 * The text VAE's configuration, its presets and validation: a sentence VAE (Bowman et al. 2016, as
 * He et al. 2019 train it) over rows of token ids, or with latent 0 the same decoder alone, a
 * recurrent language model. What each field builds: model.ts.
 */
import { clip, VaekitError } from '../../errors.js';

export type Cell = 'lstm' | 'gru';
export const CELLS: readonly Cell[] = ['lstm', 'gru'];

export interface TextVaeConfig {
  /** The preset the config started from, 'text' or 'text-lm' (informational). */
  preset: string;
  kind: 'text';
  /** Vocabulary size, the 4 special tokens (<pad>, <unk>, <bos>, <eos>) included (>= 5). */
  vocab: number;
  /** Tokens per example, not counting <bos>/<eos>. */
  maxLength: number;
  /** Latent size; 0 is a language model (no encoder, no z): the text-lm preset. */
  latent: number;
  /** Token embedding width (the encoder and the decoder each have their own table). */
  embedding: number;
  /** The encoder RNN's state width, per direction; 0 for a language model, which has no encoder. */
  encoderHidden: number;
  /** The decoder RNN's state width. */
  decoderHidden: number;
  cell: Cell;
  /** Whether the encoder reads each sentence in both directions (false for a language model). */
  bidirectional: boolean;
  /**
   * 0, or a conditional model's class count: the label's one-hot vector is appended to z for the
   * decoder and to the encoder's final state before its Dense.
   */
  classes: number;
}

/** The sentence VAE: a one-layer LSTM encoder and decoder of 256 units, embeddings of 256, latent 32. */
export const TEXT_PRESET: Readonly<TextVaeConfig> = Object.freeze({
  preset: 'text',
  kind: 'text',
  vocab: 10000,
  maxLength: 40,
  latent: 32,
  embedding: 256,
  encoderHidden: 256,
  decoderHidden: 256,
  cell: 'lstm',
  bidirectional: false,
  classes: 0,
});

/** The same decoder as a language model: latent 0, no encoder (the baseline a text VAE's likelihood is compared with). */
export const TEXT_LM_PRESET: Readonly<TextVaeConfig> = Object.freeze({
  ...TEXT_PRESET,
  preset: 'text-lm',
  latent: 0,
  encoderHidden: 0,
});

export const TEXT_PRESETS: Readonly<Record<string, Readonly<TextVaeConfig>>> = { text: TEXT_PRESET, 'text-lm': TEXT_LM_PRESET };

export type TextOverrides = Partial<Omit<TextVaeConfig, 'preset' | 'kind'>>;

/** Whether a model config is a text VAE's (kind 'text'). */
export function isTextConfig(x: unknown): x is TextVaeConfig {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'text';
}

/** A text preset with overrides applied, validated. */
export function textPresetConfig(name: string, overrides: TextOverrides = {}): TextVaeConfig {
  const base = TEXT_PRESETS[name];
  if (base === undefined) {
    throw new VaekitError(`Unknown text preset "${clip(name)}": available text presets are ${Object.keys(TEXT_PRESETS).join(', ')}.`);
  }
  const config: TextVaeConfig = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  return validateTextConfig(config);
}

/** The config with its fields in the order TextVaeConfig declares them (then any others): the same bytes however it was made. */
export function canonicalTextConfig(c: TextVaeConfig): TextVaeConfig {
  const order: (keyof TextVaeConfig)[] = [
    'preset', 'kind', 'vocab', 'maxLength', 'latent', 'embedding', 'encoderHidden', 'decoderHidden', 'cell', 'bidirectional', 'classes',
  ];
  const out: Record<string, unknown> = {};
  for (const key of order) out[key] = c[key];
  for (const [key, value] of Object.entries(c)) if (!(key in out)) out[key] = value;
  return out as unknown as TextVaeConfig;
}

/** A value for a message: its JSON (one line), cut short. */
function shown(v: unknown): string {
  const json = JSON.stringify(v) ?? String(v);
  return json.length > 60 ? `${json.slice(0, 60)}...` : json;
}

/** Throws a VaekitError naming the first field that is wrong; returns the config. */
export function validateTextConfig(c: TextVaeConfig): TextVaeConfig {
  const integer = (v: unknown, min: number, what: string): void => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new VaekitError(`${what} must be a whole number >= ${min}, not ${shown(v)}.`);
    }
  };
  if (typeof c !== 'object' || c === null) throw new VaekitError('A text model config must be an object.');
  if (typeof c.preset !== 'string') throw new VaekitError(`The preset name (preset) must be a string, not ${shown(c.preset)}.`);
  if (c.kind !== 'text') throw new VaekitError(`A text model config's kind must be "text", not ${shown(c.kind)}.`);
  integer(c.vocab, 5, 'The vocabulary size (vocab), the 4 special tokens included,');
  integer(c.maxLength, 1, 'The maximum length in tokens (maxLength)');
  integer(c.latent, 0, 'The latent size (latent)');
  integer(c.embedding, 1, 'The embedding width (embedding)');
  integer(c.decoderHidden, 1, 'The decoder state width (decoderHidden)');
  integer(c.classes, 0, 'The number of classes (classes)');
  if (!CELLS.includes(c.cell)) throw new VaekitError(`Unknown recurrent cell (cell) "${clip(String(c.cell))}": use one of ${CELLS.join(', ')}.`);
  if (typeof c.bidirectional !== 'boolean') throw new VaekitError(`Whether the encoder is bidirectional (bidirectional) must be true or false, not ${shown(c.bidirectional)}.`);
  if (c.latent === 0) {
    // A language model has no encoder: settings for one would be silently ignored, so refuse them.
    if (c.encoderHidden !== 0) throw new VaekitError(`A language model (latent 0) has no encoder: set encoderHidden to 0, not ${shown(c.encoderHidden)}.`);
    if (c.bidirectional) throw new VaekitError('A language model (latent 0) has no encoder to make bidirectional: set bidirectional to false.');
  } else {
    integer(c.encoderHidden, 1, 'The encoder state width (encoderHidden)');
  }
  return c;
}
