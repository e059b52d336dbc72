/**
 * The CLI's words for the run spec's fields: the spec a set of training flags makes, which fields
 * each flag sets (so that flags given beside --config override just those), and a spec error told
 * with the flag's name instead of the field's.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { isMnistSpec } from '../data/load.js';
import { DEFAULT_NOISE, formatNoise } from '../data/transforms/noise.js';
import { formatKlSchedule } from '../train/kl-schedule.js';
import { formatPrior } from '../vae/prior.js';
import { TEXT_PRESETS } from '../vae/text/config.js';
import { defaultRunSpec, specField, withSpecField, type RunSpec } from '../run/spec.js';
import { inOwnWords, VaekitError } from '../errors.js';
import type { TrainFlags } from './options.js';

export interface RunFlags extends TrainFlags {
  checkpointEvery?: number;
  checkpointEverySteps?: number;
  checkpointSeconds?: number;
}

/** The spec fields each flag (by commander's attribute name) sets. */
const FLAG_FIELDS: Readonly<Record<string, readonly string[]>> = {
  data: ['data.source'], labels: ['data.labels'], labelColumn: ['data.labelColumn'], channels: ['data.channels'],
  imageSize: ['data.imageSize'], limit: ['data.limit'], memoryBudget: ['data.memoryBudget'], validation: ['data.validation'], validationData: ['data.validation'],
  textColumn: ['data.textColumn'], tokens: ['data.tokens'], vocab: ['data.vocab'], lowercase: ['data.lowercase'], maxLength: ['data.maxLength'],
  timeColumn: ['data.timeColumn'], valueColumns: ['data.valueColumns'], window: ['data.window'], stride: ['data.stride'],
  trainUntil: ['data.trainUntil'], resample: ['data.resample'],
  cell: ['model.cell'], bidirectional: ['model.bidirectional'], embedding: ['model.embedding'], wordDropout: ['objective.wordDropout'], aggressive: ['objective.aggressive'],
  missingRate: ['objective.missingRate'],
  preset: ['model.preset'], latent: ['model.latent'], hidden: ['model.encoderHidden', 'model.decoderHidden'],
  encoderHidden: ['model.encoderHidden'], decoderHidden: ['model.decoderHidden'], activation: ['model.activation'],
  likelihood: ['model.likelihood'], sigma: ['model.sigma'], learnedVariance: ['model.learnedVariance'],
  convChannels: ['model.convChannels'], conditional: ['model.conditional'], prior: ['model.prior'],
  loss: ['objective.loss', 'objective.samples'], beta: ['objective.beta'], freeBits: ['objective.freeBits'],
  samples: ['objective.samples'], klWarmup: ['objective.klWarmup'],
  epochs: ['training.epochs'], batchSize: ['training.batchSize'], lr: ['training.learningRate'], lrFinal: ['training.learningRateFinal'],
  earlyStopping: ['training.earlyStopping'], precision: ['training.precision'], shards: ['training.shards'],
  checkpointEvery: ['training.checkpoint'], checkpointEverySteps: ['training.checkpoint'], checkpointSeconds: ['training.checkpoint'],
  noise: ['noise.input'], noiseRedraw: ['noise.redraw'], binarize: ['noise.binarize'],
  seed: ['seed'], out: ['outputs.dir'],
};

function flagName(attribute: string): string {
  return `--${attribute.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The flag that sets a spec field ("model.latent" -> "--latent"), or null when none does. */
export function flagOfField(field: string): string | null {
  for (const [attribute, fields] of Object.entries(FLAG_FIELDS)) {
    if (fields.length === 1 && fields[0] === field) return flagName(attribute);
  }
  return null;
}

/** Settings the library names that no one flag sets alone (nested spec fields, other calls' options), and their flags. */
const OTHER_FLAGS: Readonly<Record<string, string>> = {
  'data.validation.fraction': '--validation', 'data.validation.source': '--validation-data',
  'training.checkpoint.everyEpochs': '--checkpoint-every', 'training.checkpoint.everySteps': '--checkpoint-every-steps',
  'training.checkpoint.everySeconds': '--checkpoint-seconds',
  'outputs.overwrite': '--overwrite', 'training.resume': '--resume',
  'eval.samples': '--samples', 'eval.priorSamples': '--prior-samples', 'eval.knnK': '--knn-k',
  'anomaly.normalClass': '--normal-class', 'export.overwrite': '--overwrite', 'export.dir': '--out', 'studio.port': '--port',
  'follow.calibration': '--calibration',
};

/** The flag of a setting the library names (a spec field or another call's option), or null. */
export function flagOfSetting(setting: string): string | null {
  return Object.hasOwn(OTHER_FLAGS, setting) ? OTHER_FLAGS[setting]! : flagOfField(setting);
}

/** A library message or note in the CLI's words: each setting it names (model.latent) as its flag (--latent). */
export function inFlagText(text: string): string {
  return inOwnWords(text, flagOfSetting);
}

/** A library error told in the CLI's words (see inFlagText); any other error as it is. */
export function inFlagWords(err: unknown): unknown {
  if (!(err instanceof VaekitError)) return err;
  const text = inFlagText(err.message);
  return text === err.message ? err : new VaekitError(text);
}

/** A data path as the spec keeps it: absolute when it names a file or folder, so the spec works from any folder. */
function dataPath(path: string): string {
  return isMnistSpec(path) || !existsSync(path) ? path : resolve(path);
}

/** The spec a set of training flags makes (defaults included). */
export function specFromFlags(flags: RunFlags, outputs: { figures: boolean; checkpoints: boolean }): RunSpec {
  const d = defaultRunSpec();
  return {
    ...d,
    data: {
      source: dataPath(flags.data),
      labels: flags.labels !== undefined ? dataPath(flags.labels) : null,
      labelColumn: flags.labelColumn ?? null,
      channels: flags.channels ?? null,
      imageSize: flags.imageSize ?? null,
      limit: flags.limit ?? null,
      memoryBudget: flags.memoryBudget ?? null,
      validation: flags.validation !== undefined ? { fraction: flags.validation }
        : flags.validationData !== undefined ? { source: dataPath(flags.validationData) } : null,
      textColumn: flags.textColumn ?? null,
      tokens: flags.tokens ?? null,
      vocab: flags.vocab ?? null,
      lowercase: flags.lowercase === true ? true : null,
      maxLength: flags.maxLength ?? null,
      timeColumn: flags.timeColumn ?? null,
      valueColumns: flags.valueColumns ?? null,
      window: flags.window ?? null,
      stride: flags.stride ?? null,
      trainUntil: flags.trainUntil ?? null,
      resample: flags.resample === true ? true : null,
    },
    model: {
      preset: flags.preset,
      latent: flags.latent ?? null,
      encoderHidden: flags.encoderHidden ?? flags.hidden ?? null,
      decoderHidden: flags.decoderHidden ?? flags.hidden ?? null,
      activation: flags.activation ?? null,
      likelihood: flags.likelihood ?? null,
      sigma: flags.sigma ?? null,
      learnedVariance: flags.learnedVariance === true ? true : null,
      convChannels: flags.convChannels ?? null,
      conditional: flags.conditional === true,
      prior: flags.prior !== undefined ? formatPrior(flags.prior) : null,
      cell: flags.cell ?? null,
      bidirectional: flags.bidirectional === true ? true : null,
      embedding: flags.embedding ?? null,
    },
    objective: {
      loss: flags.loss,
      beta: flags.beta,
      freeBits: flags.freeBits,
      samples: flags.loss === 'iwae' ? flags.samples : 1,
      klWarmup: formatKlSchedule(flags.klWarmup),
      wordDropout: flags.wordDropout,
      aggressive: flags.aggressive === true,
      missingRate: flags.missingRate ?? null,
    },
    training: {
      epochs: flags.epochs,
      batchSize: flags.batchSize,
      learningRate: flags.lr,
      learningRateFinal: flags.lrFinal ?? null,
      earlyStopping: flags.earlyStopping ?? null,
      precision: flags.precision,
      shards: flags.shards,
      checkpoint: outputs.checkpoints
        ? { everyEpochs: flags.checkpointEvery ?? 1, everySteps: flags.checkpointEverySteps ?? null, everySeconds: flags.checkpointSeconds ?? null }
        : null,
    },
    // A text model takes no input noise: without --noise (commander's default object) it is none; a given one is refused.
    noise: { input: flags.preset in TEXT_PRESETS && flags.noise === DEFAULT_NOISE ? 'none' : formatNoise(flags.noise), redraw: flags.noiseRedraw, binarize: flags.binarize === true },
    seed: flags.seed,
    outputs: { dir: resolve(flags.out), figures: outputs.figures },
  };
}

/** The flags given on the command line (not defaults) among those that set spec fields, but for `except`. */
export function givenSpecFlags(command: Command, except: readonly string[] = []): string[] {
  return Object.keys(FLAG_FIELDS).filter((a) => !except.includes(a) && command.getOptionValueSource(a) === 'cli');
}

/** `base` with the fields of the given flags taken from `fromFlags`; returns the spec and the flags that changed a field. */
export function overrideSpec(base: RunSpec, fromFlags: RunSpec, attributes: readonly string[]): { spec: RunSpec; overrides: string[] } {
  let spec = base;
  const overrides: string[] = [];
  for (const attribute of attributes) {
    let changed = false;
    for (const field of FLAG_FIELDS[attribute] ?? []) {
      const value = specField(fromFlags, field);
      if (JSON.stringify(value) !== JSON.stringify(specField(spec, field))) changed = true;
      spec = withSpecField(spec, field, value);
    }
    if (changed) overrides.push(flagName(attribute));
  }
  return { spec, overrides };
}

/** Refuses given flags that would change a field of `spec` (a resumed run keeps its settings), but for `allowed`. */
export function refuseChanges(spec: RunSpec, fromFlags: RunSpec, attributes: readonly string[], where: string): void {
  for (const attribute of attributes) {
    for (const field of FLAG_FIELDS[attribute] ?? []) {
      const was = specField(spec, field);
      const now = specField(fromFlags, field);
      if (JSON.stringify(was) !== JSON.stringify(now)) {
        throw new VaekitError(`${flagName(attribute)} was ${was === null ? 'not set' : JSON.stringify(was)} in the run in ${where}, not ${JSON.stringify(now)}: a resumed run keeps its settings (only --epochs may change), so drop the flag or start a new run.`);
      }
    }
  }
}
