/**
 * The CLI's options, declared once: value parsers (commander turns InvalidArgumentError into one
 * line and exit 1), the option groups commands share (model, training, data, model folder, seed,
 * noise), and the translation of flags into library options. Defaults are shown in words.
 */
import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ACTIVATIONS, type Activation } from '../engine/backend.js';
import { PRECISIONS, type Precision } from '../engine/precision.js';
import type { Dataset } from '../data/dataset.js';
import { channelsLike, DATA_HELP, loadData, parseByteSize, parseImageSize, type DataOptions, type DataRole } from '../data/load.js';
import { DEFAULT_NOISE, formatNoise, NOISE_HELP, parseNoise, type NoiseSpec } from '../data/transforms/noise.js';
import type { FitOptionsInput, NoiseRedraw } from '../train/fit.js';
import { formatKlSchedule, NO_WARMUP, parseKlSchedule, type KlSchedule } from '../train/kl-schedule.js';
import { LIKELIHOODS, PRESETS, type Likelihood } from '../vae/config.js';
import { LOSS_DESCRIPTIONS, parseLoss, type LossName } from '../vae/objective.js';
import { parsePrior, type PriorKind } from '../vae/prior.js';
import { TEXT_PRESETS, type Cell } from '../vae/text/config.js';
import { TOKEN_KINDS, type TokenKind } from '../data/text/tokenize.js';
import { VaekitError } from '../errors.js';
import { parseThresholdSpec } from '../anomaly/thresholds.js';
import type { Bundle } from '../run/bundle.js';
import { prepareForModel, type ModelChoices } from '../run/data.js';
import { inFlagText } from './spec-flags.js';
import { lockRunFolder } from '../run/folder.js';
import { prepareOutputFile } from '../io/output.js';
import { DECODE_MODES, type DecodeMode, type GenerateOptions } from '../vae/text/model.js';
import type { TextSourceOptions } from '../pipelines/text.js';

// ---- value parsers ------------------------------------------------------------------------

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('It must be a positive integer.');
  return n;
}

export function seedValue(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 0xffffffff) throw new InvalidArgumentError('It must be an integer from 0 to 4294967295.');
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('It must be an integer >= 0.');
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('It must be a positive number.');
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('It must be a number >= 0.');
  return n;
}

function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && n < 1)) throw new InvalidArgumentError('It must be a number between 0 and 1, e.g. 0.1.');
  return n;
}

function fraction0to1(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError('It must be a probability from 0 to 1, e.g. 0.25.');
  return n;
}

function missingRateValue(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n < 1)) throw new InvalidArgumentError('It must be a chance from 0 up to (not including) 1, e.g. 0.01.');
  return n;
}

function channelsValue(value: string): 1 | 3 {
  if (value !== '1' && value !== '3') throw new InvalidArgumentError('It must be 1 (greyscale) or 3 (RGB).');
  return value === '1' ? 1 : 3;
}

function intList(value: string): number[] {
  if (value.trim() === 'none') return [];
  return value.split(',').map((part) => positiveInt(part.trim()));
}

/** A library parser whose VaekitError becomes commander's one-line invalid-argument error. */
export function viaLibrary<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
  };
}

const noiseValue = viaLibrary(parseNoise);
const klScheduleValue = viaLibrary(parseKlSchedule);
const priorValue = viaLibrary(parsePrior);
const lossValue = viaLibrary(parseLoss);
const imageSizeValue = viaLibrary(parseImageSize);
const byteSizeValue = viaLibrary(parseByteSize);
/** --threshold: quantile:Q, fpr:F, pot:RISK[:LEVEL] or a number (src/anomaly/thresholds.ts). */
export const thresholdValue = viaLibrary(parseThresholdSpec);

// ---- shared option groups ----------------------------------------------------------------

export interface ModelFlags {
  preset: string;
  latent?: number;
  hidden?: number[];
  encoderHidden?: number[];
  decoderHidden?: number[];
  activation?: Activation;
  likelihood?: Likelihood;
  sigma?: number;
  learnedVariance?: boolean;
  convChannels?: number[];
  conditional?: boolean;
  prior?: { prior: PriorKind; priorComponents: number };
  cell?: Cell;
  bidirectional?: boolean;
  embedding?: number;
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--preset <name>', 'model preset (text, text-lm: text models; series, series-conv, series-rnn: time series)').choices([...Object.keys(PRESETS), ...Object.keys(TEXT_PRESETS)]).default('seed'))
    .option('--latent <n>', 'latent dimensions (seed: 40)', positiveInt)
    .option('--hidden <sizes>', 'hidden layer sizes of encoder and decoder, comma-separated (seed: 512)', intList)
    .option('--encoder-hidden <sizes>', 'encoder hidden sizes, comma-separated', intList)
    .option('--decoder-hidden <sizes>', 'decoder hidden sizes, comma-separated', intList)
    .addOption(new Option('--activation <name>', 'hidden activation').choices([...ACTIVATIONS]))
    .addOption(new Option('--likelihood <name>', 'likelihood p(x|z) (default: bernoulli for images, gaussian for features)').choices([...LIKELIHOODS]))
    .option('--sigma <s>', 'standard deviation of the gaussian likelihood (the initial one with --learned-variance; default: a fixed 0.1 for images, learned from 1 for tables)', positiveNumber)
    .option('--learned-variance', 'learn the gaussian likelihood\'s standard deviation, one per value')
    .option('--conv-channels <list>', 'channels of the stride-2 convs of a conv preset, comma-separated (conv: 32,64; series-conv: 16,32)', intList)
    .option('--conditional', 'a conditional VAE: the class label goes to the encoder and the decoder')
    .option('--prior <spec>', 'the prior p(z): "standard" (N(0, I)) or "mog:K" (a learned mixture of K Gaussians)', priorValue)
    .addOption(new Option('--cell <name>', 'text models and series-rnn: the recurrent cell of encoder and decoder (default lstm)').choices(['lstm', 'gru']))
    .option('--bidirectional', 'text models: a bidirectional encoder')
    .option('--embedding <n>', 'text models: the token embedding\'s width (text: 256)', positiveInt);
}

/** The model choices the flags make (the data fills in the shape and the classes). */
export function modelChoicesFrom(flags: ModelFlags): ModelChoices {
  const c: ModelChoices = { preset: flags.preset, overrides: {}, conditional: flags.conditional === true };
  const o = c.overrides;
  if (flags.latent !== undefined) o.latent = flags.latent;
  if (flags.hidden !== undefined) o.encoderHidden = o.decoderHidden = flags.hidden;
  if (flags.encoderHidden !== undefined) o.encoderHidden = flags.encoderHidden;
  if (flags.decoderHidden !== undefined) o.decoderHidden = flags.decoderHidden;
  if (flags.activation !== undefined) o.activation = flags.activation;
  if (flags.likelihood !== undefined) o.likelihood = flags.likelihood;
  if (flags.sigma !== undefined) o.gaussianSigma = flags.sigma;
  if (flags.learnedVariance === true) o.gaussianLearnedVariance = true;
  if (flags.convChannels !== undefined) o.convChannels = flags.convChannels;
  if (flags.prior !== undefined) Object.assign(o, flags.prior);
  return c;
}

export interface DataFlags {
  data: string;
  labels?: string;
  labelColumn?: string;
  channels?: 1 | 3;
  imageSize?: [number, number];
  memoryBudget?: number;
  textColumn?: string;
  tokens?: TokenKind;
  vocab?: number;
  lowercase?: boolean;
  maxLength?: number;
  timeColumn?: string;
  valueColumns?: string[];
  window?: number;
  stride?: number;
  trainUntil?: number | string;
  resample?: boolean;
}

/** --data and the options that say how to read it. */
export function addDataOptions(cmd: Command, what: string, mnistMeans: string): Command {
  return cmd
    .addOption(new Option('--data <spec>', `${what}: ${DATA_HELP}`).default('mnist', `mnist (${mnistMeans})`))
    .option('--labels <file>', 'labels for NPY or IDX data (an array of class numbers, one per example)')
    .option('--label-column <name>', 'the CSV column that holds the label (its values become the classes)')
    .option('--channels <n>', 'image folders: 1 (greyscale) or 3 (RGB); by default 1 when every image is greyscale, else 3 (a saved model\'s commands: its channels)', channelsValue)
    .option('--image-size <HxW>', 'image folders: resize every image to HEIGHTxWIDTH (otherwise all must share one size)', imageSizeValue)
    .option('--memory-budget <size>', 'image folders, NPY and CSV files and text that need more memory than this (e.g. 2GB) stream from disk, read ahead by threads; time series past it are held in temporary files on disk (default: a quarter of this machine\'s memory)', byteSizeValue);
}

/** How to read text when a text model trains (a trained model reads new text with its own vocabulary). */
export function addTextOptions(cmd: Command): Command {
  return cmd
    .option('--text-column <name>', 'text models: the CSV column that holds the text')
    .addOption(new Option('--tokens <kind>', 'text models: split text into word or char tokens (default word)').choices([...TOKEN_KINDS]))
    .option('--vocab <n>', 'text models: keep the N most frequent tokens (the rest become <unk>; default: all)', positiveInt)
    .option('--lowercase', 'text models: lower-case the text first')
    .option('--max-length <n>', 'text models: keep at most N tokens of each example (default: the longest example\'s)', positiveInt);
}

/** --train-until: a number (a fraction 0 < f < 1, else a time) or a date. */
function trainUntilValue(value: string): number | string {
  const text = value.trim();
  if (text === '') throw new InvalidArgumentError('It must be a fraction between 0 and 1, a time (a number) or a date.');
  return /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text) ? Number(text) : text;
}

function columnList(value: string): string[] {
  const names = value.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) throw new InvalidArgumentError('It must be column names separated by commas, e.g. cpu,memory.');
  return names;
}

/** How to read time series: a run on series is one with --window. */
export function addSeriesOptions(cmd: Command): Command {
  return cmd
    .option('--window <W>', 'time series: read --data as series (a .csv/.tsv/.npy file, or a folder of them) and train on windows of W points', positiveInt)
    .option('--stride <S>', 'time series: points between the starts of consecutive windows (default 1)', positiveInt)
    .option('--time-column <name>', 'time series (CSV): the column of each point\'s time, numbers or dates (default: the row\'s index)')
    .option('--value-columns <a,b,c>', 'time series (CSV): the columns of the values (default: all but the time and label columns)', columnList)
    .option('--train-until <T>', 'time series: train on each series\' points before T, a fraction (0.5: its first half), a time or a date; the rest is only scored (default: all of it)', trainUntilValue)
    .option('--resample', 'time series: put each series on the regular grid of its most common step, the added points missing');
}

export function dataOptionsFrom(flags: Omit<DataFlags, 'data'>): DataOptions {
  const o: DataOptions = { report: say };
  if (flags.labels !== undefined) o.labels = flags.labels;
  if (flags.labelColumn !== undefined) o.labelColumn = flags.labelColumn;
  if (flags.channels !== undefined) o.channels = flags.channels;
  if (flags.imageSize !== undefined) o.imageSize = flags.imageSize;
  if (flags.memoryBudget !== undefined) o.memoryBudget = flags.memoryBudget;
  return o;
}

/** How a text command reads its --data with a model: the CSV columns and the memory budget its flags give; the streaming note is said. */
export function textSourceFrom(flags: Pick<DataFlags, 'textColumn' | 'labelColumn' | 'memoryBudget'>): TextSourceOptions {
  return {
    report: say,
    ...(flags.textColumn !== undefined ? { textColumn: flags.textColumn } : {}),
    ...(flags.labelColumn !== undefined ? { labelColumn: flags.labelColumn } : {}),
    ...(flags.memoryBudget !== undefined ? { memoryBudget: flags.memoryBudget } : {}),
  };
}

export function addNoiseOption(cmd: Command, description: string): Command {
  return cmd.addOption(new Option('--noise <spec>', `${description}: ${NOISE_HELP}`).argParser(noiseValue).default(DEFAULT_NOISE, formatNoise(DEFAULT_NOISE)));
}

export function addSeedOption(cmd: Command, description: string): Command {
  return cmd.option('--seed <n>', description, seedValue, 0);
}

export function addModelDirOption(cmd: Command): Command {
  return cmd.requiredOption('--model <dir>', 'saved model folder');
}

export interface TrainFlags extends ModelFlags, DataFlags {
  epochs: number;
  batchSize: number;
  lr: number;
  lrFinal?: number;
  beta: number;
  loss: LossName;
  samples: number;
  freeBits: number;
  klWarmup: KlSchedule;
  wordDropout: number;
  /** Absent: the data decides (0.01 for time series, 0 otherwise). */
  missingRate?: number;
  aggressive?: boolean;
  binarize?: boolean;
  noise: NoiseSpec;
  noiseRedraw: NoiseRedraw;
  seed: number;
  precision: Precision;
  shards: number;
  limit?: number;
  validation?: number;
  validationData?: string;
  earlyStopping?: number;
  out: string;
  overwrite?: boolean;
}

export function addTrainOptions(cmd: Command, defaultOut: string): Command {
  addDataOptions(cmd, 'training data', 'its training split');
  addTextOptions(cmd);
  addSeriesOptions(cmd);
  cmd
    .option('--validation <fraction>', 'validate on this share of --data, split off at random (seeded); default 0.1 for data other than MNIST', fraction)
    .option('--validation-data <spec>', 'validate on this data instead (same forms as --data; "mnist" means the test split)');
  cmd
    .option('--epochs <n>', 'training epochs', positiveInt, 10)
    .option('--batch-size <n>', 'batch size', positiveInt, 128)
    .option('--lr <rate>', 'Adam learning rate', positiveNumber, 1e-3)
    .option('--lr-final <rate>', 'decay the learning rate exponentially to this by the last epoch', positiveNumber)
    .option('--beta <b>', 'weight of the KL term in the ELBO', nonNegativeNumber, 1)
    .option('--loss <name>', `objective: "elbo" (${LOSS_DESCRIPTIONS.elbo}), "iwae" (${LOSS_DESCRIPTIONS.iwae}) or "notebook-mse" (${LOSS_DESCRIPTIONS['notebook-mse']})`, lossValue, 'elbo' as LossName)
    .option('--samples <k>', 'importance samples per example for --loss iwae', positiveInt, 5)
    .option('--free-bits <nats>', 'floor on each latent dimension\'s batch-mean KL (elbo)', nonNegativeNumber, 0)
    .addOption(new Option('--kl-warmup <schedule>', 'KL weight warm-up: "none", "linear:EPOCHS", "logistic:EPOCHS" or "cyclical:PERIOD[:RAMP]"').argParser(klScheduleValue).default(NO_WARMUP, formatKlSchedule(NO_WARMUP)))
    .option('--aggressive', 'text models: He et al.\'s aggressive inference-network training (the encoder trained to convergence before each decoder step) until the validation mutual information stops rising')
    .option('--word-dropout <p>', 'text models: the chance that each decoder input token becomes <unk> in training (Bowman et al.)', fraction0to1, 0)
    .option('--missing-rate <p>', 'time series: the chance that each observed value of a training window is made missing (Donut\'s missing-point injection); default 0.01 for series, 0 otherwise', missingRateValue)
    .option('--binarize', 'dynamic binarization: resample every pixel as Bernoulli(intensity) each epoch (images)');
  addNoiseOption(cmd, 'input noise (in standardized units for features)');
  cmd.addOption(new Option('--noise-redraw <when>', 'draw new noise every epoch, or once like the notebook').choices(['epoch', 'once']).default('epoch'));
  addSeedOption(cmd, 'seed of every random number (weights, shuffling, noise, samples, the validation split)');
  cmd.addOption(new Option('--precision <p>', 'fp32, or bf16: mixed precision (bf16 matrix products with fp32 accumulation, fp32 weights and Adam) where the CPU has AMX or AVX512-BF16 and oneDNN is built in; elsewhere it says so and trains in fp32').choices([...PRECISIONS]).default('fp32'));
  cmd.option('--shards <n>', 'cut each batch into N shards run on the cores at once (data parallelism: the same bits on any number of threads, VAEKIT_THREADS); 1: the whole batch at once, its products over the cores', positiveInt, 1);
  return cmd
    .option('--limit <n>', 'use only the first N training examples, in stored order (class by class for a folder of class subfolders)', positiveInt)
    .option('--out <dir>', 'output folder', defaultOut)
    .option('--overwrite', 'replace a model already in --out');
}

/** Refuses flags given on the command line that the other flags make meaningless (defaults are not checked). */
export function checkGivenFlags(command: Command, flags: TrainFlags): void {
  const given = (name: string): boolean => command.getOptionValueSource(name) === 'cli';
  if (given('samples') && flags.loss !== 'iwae') throw new VaekitError(`--samples sets the importance samples of --loss iwae; this run's loss is ${flags.loss}.`);
}

/** The training options the train flags describe. */
export function fitOptionsFrom(flags: TrainFlags): FitOptionsInput {
  return {
    epochs: flags.epochs,
    batchSize: flags.batchSize,
    learningRate: flags.lr,
    ...(flags.lrFinal !== undefined ? { learningRateFinal: flags.lrFinal } : {}),
    objective: { loss: flags.loss, beta: flags.beta, freeBits: flags.freeBits, samples: flags.loss === 'iwae' ? flags.samples : 1, wordDropout: flags.wordDropout },
    klWarmup: flags.klWarmup,
    binarize: flags.binarize === true,
    noise: flags.noise,
    noiseRedraw: flags.noiseRedraw,
    seed: flags.seed,
    precision: flags.precision,
    shards: flags.shards,
    ...(flags.earlyStopping !== undefined ? { earlyStopping: { patience: flags.earlyStopping } } : {}),
  };
}

/**
 * Runs `work` holding the lock of the folder it writes (a model's run folder, or --out): one vaekit
 * process writes a folder at a time, so a second is refused in one sentence instead of mixing its
 * files with the first's (or losing them in a model folder being replaced).
 */
export async function inLockedFolder<T>(dir: string, work: () => Promise<T> | T): Promise<T> {
  const release = lockRunFolder(dir, (pid) => say(`vaekit: took over ${dir} from process ${pid}, which is gone`));
  try {
    return await work();
  } finally {
    release();
  }
}

/** One line to stdout, in the CLI's words (the settings the library names, as flags). */
export function say(line: string): void {
  process.stdout.write(`${inFlagText(line)}\n`);
}

/** The dataset the data flags name ("mnist" meaning the split of `role`). */
export function loadDataFrom(flags: DataFlags, role: DataRole): Promise<Dataset> {
  return loadData(flags.data, role, dataOptionsFrom(flags));
}

/** The data flags' dataset in the saved model's units (shape checked, features standardized, classes matched). */
export async function loadDataForModel(flags: DataFlags, bundle: Bundle, role: DataRole): Promise<Dataset> {
  return prepareForModel(bundle.data, await loadData(flags.data, role, { ...dataOptionsFrom(flags), ...channelsLike(bundle.data) }), bundle.vae.classes > 0);
}

// ---- text models: the flags of the commands that take a saved model of any kind ------------

/** Whether the command line gave option `name` (its attribute name: "beamWidth"), not a default. */
export function optionGiven(command: Command, name: string): boolean {
  return command.getOptionValueSource(name) === 'cli';
}

/** Refuses the first of the options `names` (attribute names) that the command line gave: "<flag> <why>." */
export function refuseGivenOptions(command: Command, names: readonly string[], why: string): void {
  for (const name of names) {
    if (!optionGiven(command, name)) continue;
    const option = command.options.find((o) => o.attributeName() === name);
    throw new VaekitError(`${option?.long ?? name} ${why}.`);
  }
}

/** Refuses the first option the command line gave that is not one of `allowed` (attribute names): "<flag> <why>." */
export function refuseOptionsOutside(command: Command, allowed: readonly string[], why: string): void {
  refuseGivenOptions(command, command.options.map((o) => o.attributeName()).filter((name) => !allowed.includes(name)), why);
}

/** --text-column, for the commands that read text with a saved model (its vocabulary does the rest). */
export function addTextColumnOption(cmd: Command): Command {
  return cmd.option('--text-column <name>', 'text models: the CSV column that holds the text');
}

/**
 * Checks an output file a text model's command writes: not one of its inputs, and not an existing
 * file unless --overwrite was given (`flag`: the flag that named it, in the message; '' for none).
 */
export function prepareNewOutputFile(path: string, overwrite: boolean | undefined, inputs: ReadonlyArray<string | undefined> = [], flag = '--out'): void {
  prepareOutputFile(path, { inputs });
  if (overwrite !== true && existsSync(path)) throw new VaekitError(`${flag === '' ? path : `${flag} ${path}`} already exists: pass --overwrite to replace it, or choose another name.`);
}

export interface DecodeFlags {
  decode?: DecodeMode;
  temperature?: number;
  beamWidth?: number;
}

/** --decode, --temperature and --beam-width: how a text model writes its sentences (`defaultMode` when --decode is not given). */
export function addDecodeOptions(cmd: Command, defaultMode: DecodeMode): Command {
  const defaults = defaultMode === 'sample' ? 'sample, at temperature 1' : defaultMode;
  return cmd
    .addOption(new Option('--decode <mode>', `text models: "greedy" (the most likely token at each step), "sample" (drawn at --temperature) or "beam" (beam search of --beam-width) (default: ${defaults})`).choices([...DECODE_MODES]))
    .option('--temperature <t>', 'text models, --decode sample: logits are divided by it (below 1 plainer sentences, above 1 stranger ones; default 1)', positiveNumber)
    .option('--beam-width <w>', 'text models, --decode beam: hypotheses kept per sentence (default 5)', positiveInt);
}

/** The generate options the decode flags ask for; --temperature without sampling and --beam-width without beam search are refused. */
export function decodeOptionsFrom(flags: DecodeFlags, defaultMode: DecodeMode): GenerateOptions {
  const mode = flags.decode ?? defaultMode;
  if (flags.temperature !== undefined && mode !== 'sample') throw new VaekitError(`--temperature sets how --decode sample draws tokens, and this decoding is ${mode}.`);
  if (flags.beamWidth !== undefined && mode !== 'beam') throw new VaekitError(`--beam-width sets the hypotheses of --decode beam, and this decoding is ${mode}.`);
  return {
    mode,
    ...(flags.temperature !== undefined ? { temperature: flags.temperature } : {}),
    ...(flags.beamWidth !== undefined ? { beamWidth: flags.beamWidth } : {}),
  };
}

/** The words of a text command's refusal of an option meant for image and table models. */
export function notForText(model: string): string {
  return `applies to image and table models, and ${model} holds a text model`;
}

/** The words of an image or table command's refusal of an option meant for text models. */
export function onlyForText(model: string): string {
  return `applies to text models, and ${model} holds an image or table model`;
}

/** Writes a command's output text to stdout; a reader that stops early (| head) ends the command quietly instead of with a broken-pipe error. */
export function writeStdout(text: string): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  process.stdout.write(text);
}
