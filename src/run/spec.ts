/**
 * The run spec: one typed, versioned description of a training run (its data and how to read it,
 * the model, the objective, the schedule, the noise, the seed, the outputs). The CLI makes one from
 * its flags, the studio from its form, a library user writes one; planRun (plan.ts) takes it, and
 * every run folder keeps it as run.json. Validation is here, once, and its messages name the
 * field ("model.latent must be a whole number from 1 to 4096"); callers translate field names to
 * their own words (flags, form fields) with SpecFieldError.field.
 *
 * Values that have a text form users write (noise "gaussian:0.2", prior "mog:50", warm-up
 * "linear:5") are kept as that text, parsed when the run is planned. Every field is present (null
 * where the preset or the data decides), so a printed spec shows everything a run depends on.
 */
import { ACTIVATIONS, type Activation } from '../engine/backend.js';
import { PRECISIONS, type Precision } from '../engine/precision.js';
import { MAX_SHARDS } from '../train/shards.js';
import { clip, VaekitError } from '../errors.js';
import { parseNoise } from '../data/transforms/noise.js';
import { parseByteSize, parseImageSize, type DataOptions } from '../data/load.js';
import { parseDate } from '../data/sources/series.js';
import type { FitOptionsInput, NoiseRedraw } from '../train/fit.js';
import { formatKlSchedule, parseKlSchedule } from '../train/kl-schedule.js';
import { LIKELIHOODS, PRESETS, type Likelihood } from '../vae/config.js';
import { TOKEN_KINDS, type TokenKind } from '../data/text/tokenize.js';
import { MAX_TEXT_LENGTH } from '../data/sources/text.js';
import { TEXT_PRESETS, type Cell } from '../vae/text/config.js';
import { LOSSES, type LossName } from '../vae/objective.js';
import { parsePrior } from '../vae/prior.js';
import type { ModelChoices } from './data.js';

export const RUN_SPEC_FORMAT = 'vaekit-run';
export const RUN_SPEC_VERSION = 1;

export interface DataSpec {
  /** "mnist" (its training split), "mnist:train", "mnist:test", an image folder, a .npy, .csv or IDX file. */
  source: string;
  /** Labels for NPY or IDX data (a file of class numbers). */
  labels: string | null;
  /** The CSV column that holds the label. */
  labelColumn: string | null;
  /** Image folders: 1 (greyscale) or 3 (RGB); null: the reader's default. */
  channels: 1 | 3 | null;
  /** Image folders: resize every image to [height, width]. */
  imageSize: [number, number] | null;
  /** Use only the first N training examples, in stored order. */
  limit: number | null;
  /** Bytes the examples may take in memory; an image folder, NPY or CSV file that needs more streams from disk. null: a quarter of the machine's memory. */
  memoryBudget: number | null;
  /** Validate on a seeded share of the data, or on other data; null: MNIST's test split for MNIST, else a share of 0.1. */
  validation: { fraction: number } | { source: string } | null;
  /** Text in a CSV/TSV table: the column that holds it. */
  textColumn: string | null;
  /** Text: how it becomes tokens; null: word (text models only). */
  tokens: TokenKind | null;
  /** Text: keep the N most frequent tokens (plus <pad>, <unk>, <bos>, <eos>); null: every token. */
  vocab: number | null;
  /** Text: lower-case it first; null: no. */
  lowercase: boolean | null;
  /** Text: tokens kept of each example (longer ones are cut); null: the longest example's. */
  maxLength: number | null;
  /** Series (CSV): the column of each point's time; null: a point's time is its row's index. */
  timeColumn: string | null;
  /** Series (CSV): the columns of the values; null: every column but the time and label columns. */
  valueColumns: string[] | null;
  /** Series: points per window; set, the run reads data.source as time series and trains on windows of them. */
  window: number | null;
  /** Series: points between the starts of consecutive windows; null: 1. */
  stride: number | null;
  /** Series: where each series' training part ends: a fraction 0 < f < 1 of its points, or a time (a number, or a date); null: the whole series. */
  trainUntil: number | string | null;
  /** Series: put each series on the regular grid of its most common step, the added points missing; null: no. */
  resample: boolean | null;
}

export interface ModelSpec {
  preset: string;
  latent: number | null;
  encoderHidden: number[] | null;
  decoderHidden: number[] | null;
  activation: Activation | null;
  /** null: bernoulli for images, gaussian for features. */
  likelihood: Likelihood | null;
  /** The gaussian likelihood's standard deviation (the initial one when learned); null: the preset's. */
  sigma: number | null;
  /** Learn the gaussian likelihood's standard deviations; null: learned for features unless sigma is given, fixed for images. */
  learnedVariance: boolean | null;
  convChannels: number[] | null;
  conditional: boolean;
  /** "standard" or "mog:K"; null: the preset's (standard). */
  prior: string | null;
  /** Text models and the series-rnn preset: the recurrent cell of encoder and decoder; null: the preset's (lstm). */
  cell: Cell | null;
  /** Text models: a bidirectional encoder; null: the preset's (no). */
  bidirectional: boolean | null;
  /** Text models: the token embedding's width; null: the preset's. */
  embedding: number | null;
}

export interface ObjectiveSpec {
  loss: LossName;
  beta: number;
  freeBits: number;
  /** Importance samples per example (iwae; 1 for the others). */
  samples: number;
  /** "none", "linear:EPOCHS", "logistic:EPOCHS" or "cyclical:PERIOD[:RAMP]". */
  klWarmup: string;
  /** Text models: the chance that each decoder input token is replaced by <unk> in training (Bowman et al. 2016); 0: off. */
  wordDropout: number;
  /** He et al. 2019's aggressive inference-network training (train/aggressive.ts) until the validation mutual information stops rising. */
  aggressive: boolean;
  /**
   * Time series: the chance that each observed value of a training window is made missing (Donut's
   * missing-point injection, 0 <= r < 1); null: 0.01 for series data, 0 for other data (run/data.ts, missingRateFor).
   */
  missingRate: number | null;
}

export interface TrainingSpec {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Decay the learning rate exponentially to this by the last epoch. */
  learningRateFinal: number | null;
  /** Early-stopping patience in epochs. */
  earlyStopping: number | null;
  precision: Precision;
  /**
   * Each batch cut into this many shards, run on the machine's threads at once and their gradients
   * summed in shard order (train/shards.ts): the same bits on any number of threads. 1: the whole
   * batch in one pass, its products over the threads.
   */
  shards: number;
  /** When to write checkpoints into the run folder; null: never. */
  /** Every N epochs, every N steps, but at most once in `everySeconds` (null: 30 s, or no limit with everySteps) and always at the end and when stopped. */
  checkpoint: { everyEpochs: number; everySteps: number | null; everySeconds: number | null } | null;
}

export interface NoiseSpecText {
  /** "gaussian:S", "salt-and-pepper:P", "masking:P" or "none". */
  input: string;
  redraw: NoiseRedraw;
  /** Dynamic binarization (each epoch, before the noise). */
  binarize: boolean;
}

export interface OutputsSpec {
  /** The run folder. */
  dir: string;
  /** Also write the notebook's figures and the HTML report (vaekit demo). */
  figures: boolean;
}

export interface RunSpec {
  format: typeof RUN_SPEC_FORMAT;
  version: typeof RUN_SPEC_VERSION;
  data: DataSpec;
  model: ModelSpec;
  objective: ObjectiveSpec;
  training: TrainingSpec;
  noise: NoiseSpecText;
  /** Drives every random number: weights, shuffling, noise, samples, the validation split. */
  seed: number;
  outputs: OutputsSpec;
}

/** A spec as a caller writes it: any field may be left out, and takes its default. */
export type RunSpecInput = {
  [K in keyof Omit<RunSpec, 'format' | 'version'>]?: RunSpec[K] extends object ? Partial<RunSpec[K]> : RunSpec[K];
} & { format?: string; version?: number };

/** An invalid field of a run spec: `field` is its dotted path ("model.latent"), `detail` the rest of the sentence. */
export class SpecFieldError extends VaekitError {
  constructor(readonly field: string, readonly detail: string) {
    super(`${field} ${detail}`);
    this.name = 'SpecFieldError';
  }
}

/** The defaults: the notebook's denoising VAE on MNIST (the seed preset, ELBO, Gaussian noise 0.2, 10 epochs). */
export function defaultRunSpec(): RunSpec {
  return {
    format: RUN_SPEC_FORMAT,
    version: RUN_SPEC_VERSION,
    data: {
      source: 'mnist', labels: null, labelColumn: null, channels: null, imageSize: null, limit: null, memoryBudget: null, validation: null,
      textColumn: null, tokens: null, vocab: null, lowercase: null, maxLength: null,
      timeColumn: null, valueColumns: null, window: null, stride: null, trainUntil: null, resample: null,
    },
    model: {
      preset: 'seed', latent: null, encoderHidden: null, decoderHidden: null, activation: null, likelihood: null,
      sigma: null, learnedVariance: null, convChannels: null, conditional: false, prior: null, cell: null, bidirectional: null, embedding: null,
    },
    objective: { loss: 'elbo', beta: 1, freeBits: 0, samples: 1, klWarmup: 'none', wordDropout: 0, aggressive: false, missingRate: null },
    training: { epochs: 10, batchSize: 128, learningRate: 1e-3, learningRateFinal: null, earlyStopping: null, precision: 'fp32', shards: 1, checkpoint: { everyEpochs: 1, everySteps: null, everySeconds: null } },
    noise: { input: 'gaussian:0.2', redraw: 'epoch', binarize: false },
    seed: 0,
    outputs: { dir: 'runs/train', figures: false },
  };
}

// ---- validation -----------------------------------------------------------------------------

type Json = Record<string, unknown>;

function isRecord(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Reads the fields of one section, refusing the ones it does not know (a misspelt field would otherwise do nothing). */
class Section {
  constructor(private readonly raw: Json, private readonly path: string) {}

  static of(raw: unknown, path: string): Section {
    if (!isRecord(raw)) throw new SpecFieldError(path, 'must be an object.');
    return new Section(raw, path);
  }

  field(name: string): string {
    return this.path === '' ? name : `${this.path}.${name}`;
  }

  value(name: string): unknown {
    return this.raw[name];
  }

  onlyKnown(names: readonly string[]): void {
    for (const key of Object.keys(this.raw)) {
      if (!names.includes(key)) throw new SpecFieldError(this.field(clip(key, 40)), `is not a field of a vaekit run spec (the fields here are ${names.join(', ')}).`);
    }
  }

  int(name: string, min: number, max: number): number {
    const v = this.raw[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new SpecFieldError(this.field(name), `must be a whole number from ${min} to ${max}, not ${show(v)}.`);
    }
    return v;
  }

  intOrNull(name: string, min: number, max: number): number | null {
    return this.raw[name] === null ? null : this.int(name, min, max);
  }

  number(name: string, min: number, max: number, open: 'min-open' | 'closed' = 'closed'): number {
    const v = this.raw[name];
    const low = open === 'min-open' ? (x: number): boolean => x > min : (x: number): boolean => x >= min;
    if (typeof v !== 'number' || !Number.isFinite(v) || !low(v) || v > max) {
      const range = open === 'min-open' ? `greater than ${min} and at most ${max}` : `from ${min} to ${max}`;
      throw new SpecFieldError(this.field(name), `must be a number ${range}, not ${show(v)}.`);
    }
    return v;
  }

  bool(name: string): boolean {
    const v = this.raw[name];
    if (typeof v !== 'boolean') throw new SpecFieldError(this.field(name), `must be true or false, not ${show(v)}.`);
    return v;
  }

  text(name: string): string {
    const v = this.raw[name];
    if (typeof v !== 'string' || v.length === 0 || v.length > 4096) throw new SpecFieldError(this.field(name), `must be a non-empty text, not ${show(v)}.`);
    return v;
  }

  textOrNull(name: string): string | null {
    return this.raw[name] === null ? null : this.text(name);
  }

  choice<T extends string>(name: string, choices: readonly T[]): T {
    const v = this.raw[name];
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
      throw new SpecFieldError(this.field(name), `must be one of ${choices.map((c) => `"${c}"`).join(', ')}, not ${show(v)}.`);
    }
    return v as T;
  }

  /** A list of distinct non-empty texts (column names), or null. */
  names(name: string): string[] | null {
    const v = this.raw[name];
    if (v === null) return null;
    if (!Array.isArray(v) || v.length === 0 || v.length > 65536 || v.some((x) => typeof x !== 'string' || x.trim() === '' || x.length > 4096)) {
      throw new SpecFieldError(this.field(name), `must be a list of column names (or null), not ${show(v)}.`);
    }
    const names = v as string[];
    const twice = names.find((x, i) => names.indexOf(x) !== i);
    if (twice !== undefined) throw new SpecFieldError(this.field(name), `names the column "${clip(twice)}" twice.`);
    return [...names];
  }

  sizes(name: string): number[] | null {
    const v = this.raw[name];
    if (v === null) return null;
    // Sizes too large for memory are refused with the model's parameter count (vae/config.ts), not here.
    if (!Array.isArray(v) || v.length > 64 || v.some((x) => typeof x !== 'number' || !Number.isSafeInteger(x) || x < 1)) {
      throw new SpecFieldError(this.field(name), `must be a list of at most 64 whole numbers of at least 1 (or null), not ${show(v)}.`);
    }
    return [...v as number[]];
  }

  /** A text another parser reads (noise, prior, warm-up); its message becomes the field's. */
  parsed<T>(name: string, parse: (text: string) => T): string {
    const text = this.text(name);
    try {
      parse(text);
    } catch (err) {
      throw new SpecFieldError(this.field(name), `is invalid: ${err instanceof Error ? err.message : String(err)}`);
    }
    return text;
  }
}

function show(v: unknown): string {
  return v === undefined ? 'missing' : clip(JSON.stringify(v) ?? String(v), 40);
}

const MAX_EPOCHS = 1_000_000;

function validateData(s: Section): DataSpec {
  s.onlyKnown([
    'source', 'labels', 'labelColumn', 'channels', 'imageSize', 'limit', 'memoryBudget', 'validation', 'textColumn', 'tokens', 'vocab', 'lowercase', 'maxLength',
    'timeColumn', 'valueColumns', 'window', 'stride', 'trainUntil', 'resample',
  ]);
  const channels = s.value('channels');
  if (channels !== null && channels !== 1 && channels !== 3) throw new SpecFieldError(s.field('channels'), `must be 1 (greyscale), 3 (RGB) or null, not ${show(channels)}.`);
  const size = s.value('imageSize');
  let imageSize: [number, number] | null = null;
  if (size !== null) {
    if (!Array.isArray(size) || size.length !== 2) throw new SpecFieldError(s.field('imageSize'), `must be [height, width] or null, not ${show(size)}.`);
    try {
      imageSize = parseImageSize(`${String(size[0])}x${String(size[1])}`);
    } catch (err) {
      throw new SpecFieldError(s.field('imageSize'), `is invalid: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const budget = s.value('memoryBudget');
  let memoryBudget: number | null = null;
  if (budget !== null) {
    if (typeof budget === 'number' && Number.isSafeInteger(budget) && budget >= 0) memoryBudget = budget;
    else if (typeof budget === 'string') {
      try {
        memoryBudget = parseByteSize(budget);
      } catch (err) {
        throw new SpecFieldError(s.field('memoryBudget'), `is invalid: ${err instanceof Error ? err.message : String(err)}`);
      }
    } else throw new SpecFieldError(s.field('memoryBudget'), `must be a number of bytes, a size such as "2GB", or null, not ${show(budget)}.`);
  }
  const v = s.value('validation');
  let validation: DataSpec['validation'] = null;
  if (v !== null) {
    const vs = Section.of(v, s.field('validation'));
    if ('fraction' in (v as Json)) {
      vs.onlyKnown(['fraction']);
      const fraction = vs.number('fraction', 0, 1, 'min-open');
      if (fraction >= 1) throw new SpecFieldError(vs.field('fraction'), `must be a number between 0 and 1, not ${fraction}.`);
      validation = { fraction };
    } else {
      vs.onlyKnown(['source']);
      validation = { source: vs.text('source') };
    }
  }
  return {
    source: s.text('source'), labels: s.textOrNull('labels'), labelColumn: s.textOrNull('labelColumn'),
    channels: channels as 1 | 3 | null, imageSize, limit: s.intOrNull('limit', 1, Number.MAX_SAFE_INTEGER), memoryBudget, validation,
    textColumn: s.textOrNull('textColumn'),
    tokens: s.value('tokens') === null ? null : s.choice('tokens', TOKEN_KINDS),
    vocab: s.intOrNull('vocab', 1, 1 << 22),
    lowercase: s.value('lowercase') === null ? null : s.bool('lowercase'),
    maxLength: s.intOrNull('maxLength', 1, MAX_TEXT_LENGTH),
    timeColumn: s.textOrNull('timeColumn'),
    valueColumns: s.names('valueColumns'),
    window: s.intOrNull('window', 1, MAX_WINDOW),
    stride: s.intOrNull('stride', 1, MAX_WINDOW),
    trainUntil: trainUntilOf(s),
    resample: s.value('resample') === null ? null : s.bool('resample'),
  };
}

/** The most points a series window (or stride) may span. */
const MAX_WINDOW = 1 << 20;

/** data.trainUntil: null, a finite number (a fraction 0 < f < 1, else a time) or a date. */
function trainUntilOf(s: Section): number | string | null {
  const v = s.value('trainUntil');
  if (v === null) return null;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && !NUMBER_TEXT.test(v) && Number.isFinite(parseDate(v))) return v;
  throw new SpecFieldError(s.field('trainUntil'), `must be a fraction between 0 and 1, a time (a number) or a date ("2014-04-01"), not ${show(v)}.`);
}

const NUMBER_TEXT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

function validateModel(s: Section): ModelSpec {
  s.onlyKnown(['preset', 'latent', 'encoderHidden', 'decoderHidden', 'activation', 'likelihood', 'sigma', 'learnedVariance', 'convChannels', 'conditional', 'prior', 'cell', 'bidirectional', 'embedding']);
  const activation = s.value('activation') === null ? null : s.choice('activation', ACTIVATIONS);
  const likelihood = s.value('likelihood') === null ? null : s.choice('likelihood', LIKELIHOODS);
  return {
    preset: s.choice('preset', [...Object.keys(PRESETS), ...Object.keys(TEXT_PRESETS)]),
    latent: s.intOrNull('latent', 1, 4096),
    encoderHidden: s.sizes('encoderHidden'),
    decoderHidden: s.sizes('decoderHidden'),
    activation, likelihood,
    sigma: s.value('sigma') === null ? null : s.number('sigma', 0, 1e6, 'min-open'),
    learnedVariance: s.value('learnedVariance') === null ? null : s.bool('learnedVariance'),
    convChannels: s.sizes('convChannels'),
    conditional: s.bool('conditional'),
    prior: s.value('prior') === null ? null : s.parsed('prior', parsePrior),
    cell: s.value('cell') === null ? null : s.choice('cell', ['lstm', 'gru'] as const),
    bidirectional: s.value('bidirectional') === null ? null : s.bool('bidirectional'),
    embedding: s.intOrNull('embedding', 1, 65536),
  };
}

function validateObjective(s: Section): ObjectiveSpec {
  s.onlyKnown(['loss', 'beta', 'freeBits', 'samples', 'klWarmup', 'wordDropout', 'aggressive', 'missingRate']);
  const loss = s.choice('loss', LOSSES);
  // Too many for memory is refused with the buffer they would need (vae/objectives/iwae.ts).
  const samples = s.int('samples', 1, Number.MAX_SAFE_INTEGER);
  if (loss !== 'iwae' && samples !== 1) throw new SpecFieldError(s.field('samples'), `sets the importance samples of the iwae loss, and this run's loss is ${loss}: it must be 1.`);
  return {
    loss, beta: s.number('beta', 0, 1e6), freeBits: s.number('freeBits', 0, 1e6), samples,
    klWarmup: formatKlSchedule(parseKlSchedule(s.parsed('klWarmup', parseKlSchedule))),
    wordDropout: s.number('wordDropout', 0, 1),
    aggressive: s.bool('aggressive'),
    missingRate: s.value('missingRate') === null ? null : missingRate(s),
  };
}

/** objective.missingRate: a chance from 0 up to (not including) 1. */
function missingRate(s: Section): number {
  const rate = s.number('missingRate', 0, 1);
  if (rate >= 1) throw new SpecFieldError(s.field('missingRate'), `must be a number from 0 up to (not including) 1, not ${rate}.`);
  return rate;
}

function validateTraining(s: Section): TrainingSpec {
  s.onlyKnown(['epochs', 'batchSize', 'learningRate', 'learningRateFinal', 'earlyStopping', 'precision', 'shards', 'checkpoint']);
  const c = s.value('checkpoint');
  let checkpoint: TrainingSpec['checkpoint'] = null;
  if (c !== null) {
    const cs = Section.of(c, s.field('checkpoint'));
    cs.onlyKnown(['everyEpochs', 'everySteps', 'everySeconds']);
    checkpoint = {
      everyEpochs: cs.int('everyEpochs', 1, MAX_EPOCHS), everySteps: cs.intOrNull('everySteps', 1, Number.MAX_SAFE_INTEGER),
      everySeconds: cs.value('everySeconds') === null ? null : cs.number('everySeconds', 0, 1e9),
    };
  }
  const batchSize = s.int('batchSize', 1, 1 << 24);
  const shards = s.int('shards', 1, MAX_SHARDS);
  if (shards > batchSize) throw new SpecFieldError(s.field('shards'), `must be at most the batch size (${batchSize}), not ${shards}.`);
  return {
    epochs: s.int('epochs', 1, MAX_EPOCHS),
    batchSize,
    learningRate: s.number('learningRate', 0, 10, 'min-open'),
    learningRateFinal: s.value('learningRateFinal') === null ? null : s.number('learningRateFinal', 0, 10, 'min-open'),
    earlyStopping: s.intOrNull('earlyStopping', 1, MAX_EPOCHS),
    precision: s.choice('precision', PRECISIONS),
    shards,
    checkpoint,
  };
}

function validateNoise(s: Section): NoiseSpecText {
  s.onlyKnown(['input', 'redraw', 'binarize']);
  return { input: s.parsed('input', parseNoise), redraw: s.choice('redraw', ['epoch', 'once'] as const), binarize: s.bool('binarize') };
}

/**
 * A complete, checked run spec from what a caller gives (a parsed run.json, the studio's form, a
 * library user's object): every missing field takes its default, and every field is checked.
 */
export function validateRunSpec(input: unknown): RunSpec {
  const top = Section.of(input, 'the run spec');
  const raw = input as Json;
  top.onlyKnown(['format', 'version', 'data', 'model', 'objective', 'training', 'noise', 'seed', 'outputs']);
  if (raw['format'] !== undefined && raw['format'] !== RUN_SPEC_FORMAT) throw new SpecFieldError('format', `must be "${RUN_SPEC_FORMAT}", not ${show(raw['format'])}.`);
  if (raw['version'] !== undefined && raw['version'] !== RUN_SPEC_VERSION) {
    throw new SpecFieldError('version', `is ${show(raw['version'])}, and this vaekit reads run specs of version ${RUN_SPEC_VERSION}.`);
  }
  const d = defaultRunSpec();
  const section = <K extends 'data' | 'model' | 'objective' | 'training' | 'noise' | 'outputs'>(key: K): Section => {
    const given = raw[key];
    if (given !== undefined && !isRecord(given)) throw new SpecFieldError(key, 'must be an object.');
    return new Section({ ...d[key], ...(given ?? {}) }, key);
  };
  const outputs = section('outputs');
  outputs.onlyKnown(['dir', 'figures']);
  const spec: RunSpec = {
    format: RUN_SPEC_FORMAT,
    version: RUN_SPEC_VERSION,
    data: validateData(section('data')),
    model: validateModel(section('model')),
    objective: validateObjective(section('objective')),
    training: validateTraining(section('training')),
    noise: validateNoise(section('noise')),
    seed: new Section({ seed: raw['seed'] ?? d.seed }, '').int('seed', 0, 0xffffffff),
    outputs: { dir: outputs.text('dir'), figures: outputs.bool('figures') },
  };
  if (spec.objective.loss !== 'elbo' && spec.objective.klWarmup !== 'none') {
    throw new SpecFieldError('objective.klWarmup', `scales the elbo objective's KL term, and ${spec.objective.loss} has none to warm up.`);
  }
  const givenNoise = isRecord(raw['noise']) && raw['noise']['input'] !== undefined;
  checkSeriesFields(spec);
  return isTextSpec(spec) ? checkTextSpec(spec, givenNoise) : checkNotTextSpec(spec);
}

/** Whether a spec trains on windows of time series (data.window set). */
export function isSeriesSpec(spec: Pick<RunSpec, 'data'>): boolean {
  return spec.data.window !== null;
}

/** Refuses the series settings without data.window, and with it the image, text and class settings a series run would ignore. */
function checkSeriesFields(spec: RunSpec): void {
  const d = spec.data;
  if (!isSeriesSpec(spec)) {
    const seriesFields: [string, unknown][] = [
      ['data.timeColumn', d.timeColumn], ['data.valueColumns', d.valueColumns], ['data.stride', d.stride], ['data.trainUntil', d.trainUntil], ['data.resample', d.resample],
    ];
    for (const [field, value] of seriesFields) {
      if (value !== null) throw new SpecFieldError(field, 'applies to time series, and this run reads none: give data.window, the points of each window, to train on series.');
    }
    return;
  }
  const notSeries: [string, boolean, string][] = [
    ['model.preset', spec.model.preset in TEXT_PRESETS, `${spec.model.preset} is a text model`],
    ['data.labels', d.labels !== null, 'gives labels of NPY or IDX examples (a series takes point labels from data.labelColumn)'],
    ['data.channels', d.channels !== null, 'applies to image folders'],
    ['data.imageSize', d.imageSize !== null, 'applies to image folders'],
    ['data.limit', d.limit !== null, 'takes the first examples of a table (a series run takes data.trainUntil)'],
    ['data.textColumn', d.textColumn !== null, 'applies to text'], ['data.tokens', d.tokens !== null, 'applies to text'],
    ['data.vocab', d.vocab !== null, 'applies to text'], ['data.lowercase', d.lowercase !== null, 'applies to text'],
    ['data.maxLength', d.maxLength !== null, 'applies to text'],
    ['model.conditional', spec.model.conditional, 'conditions on class labels (a series\' point labels never train it)'],
    ['noise.binarize', spec.noise.binarize, 'applies to images'],
  ];
  for (const [field, given, why] of notSeries) {
    if (given) throw new SpecFieldError(field, `${why}, and this run reads time series (data.window).`);
  }
}

/** Whether a spec trains a text model (model.preset text or text-lm). */
export function isTextSpec(spec: Pick<RunSpec, 'model'>): boolean {
  return spec.model.preset in TEXT_PRESETS;
}

/** A text run's spec: its defaults filled in (no input noise unless given) and the image and table settings it would ignore refused. */
function checkTextSpec(spec: RunSpec, givenNoise: boolean): RunSpec {
  const refuse = (field: string, what: string): never => {
    throw new SpecFieldError(field, `${what}, and model.preset ${spec.model.preset} is a text model.`);
  };
  const d = spec.data;
  if (d.labels !== null) refuse('data.labels', 'gives labels of NPY or IDX data (text takes data.labelColumn or class folders)');
  if (d.channels !== null) refuse('data.channels', 'applies to image folders');
  if (d.imageSize !== null) refuse('data.imageSize', 'applies to image folders');
  const m = spec.model;
  if (m.activation !== null) refuse('model.activation', 'sets dense layers\' activation (text models are recurrent)');
  if (m.likelihood !== null) refuse('model.likelihood', 'applies to images and tables (text is scored by a softmax over the vocabulary)');
  if (m.sigma !== null || m.learnedVariance !== null) refuse(m.sigma !== null ? 'model.sigma' : 'model.learnedVariance', 'belongs to the gaussian likelihood');
  if (m.convChannels !== null) refuse('model.convChannels', 'belongs to a convolutional model');
  if (m.prior !== null && m.prior !== 'standard') refuse('model.prior', 'can only be standard');
  for (const [field, sizes] of [['model.encoderHidden', m.encoderHidden], ['model.decoderHidden', m.decoderHidden]] as const) {
    if (sizes !== null && sizes.length !== 1) refuse(field, `must be one size (the recurrent state's), not ${sizes.length}`);
  }
  if (m.preset === 'text-lm') {
    if (m.latent !== null) refuse('model.latent', 'sets a latent size, and the text-lm preset is a language model without one');
    if (m.encoderHidden !== null || m.bidirectional !== null) refuse(m.encoderHidden !== null ? 'model.encoderHidden' : 'model.bidirectional', 'sets the encoder, and the text-lm preset has none');
    if (spec.objective.beta !== 1 || spec.objective.freeBits !== 0 || spec.objective.klWarmup !== 'none') {
      refuse(spec.objective.beta !== 1 ? 'objective.beta' : spec.objective.freeBits !== 0 ? 'objective.freeBits' : 'objective.klWarmup', 'weighs a KL term, and the text-lm preset (a language model) has none');
    }
  }
  if (spec.objective.loss !== 'elbo') throw new SpecFieldError('objective.loss', `must be elbo for a text model, not ${spec.objective.loss}.`);
  if (m.preset === 'text-lm' && spec.objective.aggressive) refuse('objective.aggressive', 'trains an encoder, and the text-lm preset has none');
  if (spec.objective.missingRate !== null && spec.objective.missingRate > 0) refuse('objective.missingRate', 'injects missing points into time series windows');
  if (spec.noise.binarize) refuse('noise.binarize', 'applies to images');
  if (givenNoise && spec.noise.input !== 'none') refuse('noise.input', 'corrupts pixel or feature values (text models take objective.wordDropout)');
  return { ...spec, noise: { ...spec.noise, input: 'none' } };
}

/** An image or table run's spec: the text settings it would ignore refused. */
function checkNotTextSpec(spec: RunSpec): RunSpec {
  const textFields: [string, unknown][] = [
    ['data.textColumn', spec.data.textColumn], ['data.tokens', spec.data.tokens], ['data.vocab', spec.data.vocab],
    ['data.lowercase', spec.data.lowercase], ['data.maxLength', spec.data.maxLength],
    // A recurrent series model (the series-rnn preset) takes model.cell too.
    ...(PRESETS[spec.model.preset]?.architecture === 'recurrent' ? [] : [['model.cell', spec.model.cell] as [string, unknown]]),
    ['model.bidirectional', spec.model.bidirectional], ['model.embedding', spec.model.embedding],
  ];
  for (const [field, value] of textFields) {
    if (value !== null) throw new SpecFieldError(field, `applies to text models (model.preset ${Object.keys(TEXT_PRESETS).join(' or ')}), and this run's preset is ${spec.model.preset}.`);
  }
  if (spec.objective.aggressive) throw new SpecFieldError('objective.aggressive', `is for text models (model.preset text), and this run's preset is ${spec.model.preset}.`);
  if (spec.objective.wordDropout !== 0) throw new SpecFieldError('objective.wordDropout', `applies to text models (model.preset ${Object.keys(TEXT_PRESETS).join(' or ')}), and this run's preset is ${spec.model.preset}.`);
  return spec;
}

// ---- what the spec asks of the stages ---------------------------------------------------------

/** How to read the spec's data (the readers' options); `text`: read it as text (a text model's run). */
export function dataOptionsOf(data: DataSpec, text = false): DataOptions {
  return {
    ...(data.labels !== null ? { labels: data.labels } : {}),
    ...(data.labelColumn !== null ? { labelColumn: data.labelColumn } : {}),
    ...(data.channels !== null ? { channels: data.channels } : {}),
    ...(data.imageSize !== null ? { imageSize: data.imageSize } : {}),
    ...(data.memoryBudget !== null ? { memoryBudget: data.memoryBudget } : {}),
    ...(text ? {
      text: {
        tokens: data.tokens ?? 'word', lowercase: data.lowercase ?? false,
        ...(data.textColumn !== null ? { textColumn: data.textColumn } : {}),
        ...(data.vocab !== null ? { vocab: data.vocab } : {}),
        ...(data.maxLength !== null ? { maxLength: data.maxLength } : {}),
      },
    } : {}),
  };
}

/** The user's model choices (the data fills in its shape and classes). */
export function modelChoicesOf(m: ModelSpec): ModelChoices {
  const c: ModelChoices = { preset: m.preset, overrides: {}, conditional: m.conditional };
  const o = c.overrides;
  if (m.latent !== null) o.latent = m.latent;
  if (m.encoderHidden !== null) o.encoderHidden = m.encoderHidden;
  if (m.decoderHidden !== null) o.decoderHidden = m.decoderHidden;
  if (m.activation !== null) o.activation = m.activation;
  if (m.likelihood !== null) o.likelihood = m.likelihood;
  if (m.sigma !== null) o.gaussianSigma = m.sigma;
  if (m.learnedVariance !== null) o.gaussianLearnedVariance = m.learnedVariance;
  if (m.convChannels !== null) o.convChannels = m.convChannels;
  if (m.cell !== null) o.cell = m.cell;
  if (m.prior !== null) Object.assign(o, parsePrior(m.prior));
  return c;
}

/** The trainer's options (fit's), without the callbacks, signal and checkpoints a run adds. */
export function fitOptionsOf(spec: RunSpec): FitOptionsInput {
  const t = spec.training;
  return {
    epochs: t.epochs,
    batchSize: t.batchSize,
    learningRate: t.learningRate,
    ...(t.learningRateFinal !== null ? { learningRateFinal: t.learningRateFinal } : {}),
    objective: { loss: spec.objective.loss, beta: spec.objective.beta, freeBits: spec.objective.freeBits, samples: spec.objective.samples, wordDropout: spec.objective.wordDropout },
    klWarmup: parseKlSchedule(spec.objective.klWarmup),
    binarize: spec.noise.binarize,
    noise: parseNoise(spec.noise.input),
    // null: the data decides (planRun, with run/data.ts' missingRateFor).
    missingRate: spec.objective.missingRate ?? 0,
    noiseRedraw: spec.noise.redraw,
    seed: spec.seed,
    precision: t.precision,
    shards: t.shards,
    ...(t.earlyStopping !== null ? { earlyStopping: { patience: t.earlyStopping } } : {}),
    ...(spec.objective.aggressive ? { aggressive: true } : {}),
  };
}

/** The value at a dotted path of a spec ("model.latent"). */
export function specField(spec: RunSpec, path: string): unknown {
  let at: unknown = spec;
  for (const key of path.split('.')) at = isRecord(at) ? at[key] : undefined;
  return at;
}

/** A copy of `spec` with the value at a dotted path replaced (not validated: validate the result). */
export function withSpecField(spec: RunSpec, path: string, value: unknown): RunSpec {
  const copy = JSON.parse(JSON.stringify(spec)) as Json;
  const keys = path.split('.');
  let at: Json = copy;
  for (const key of keys.slice(0, -1)) {
    if (!isRecord(at[key])) at[key] = {};
    at = at[key] as Json;
  }
  at[keys.at(-1)!] = value;
  return copy as unknown as RunSpec;
}
