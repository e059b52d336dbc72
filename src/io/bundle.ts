/**
 * The model bundle: a folder with config.json (the architecture and how it was trained: data and a
 * schema, never code) and weights.safetensors (every parameter by name, float32). Files are
 * written atomically; loading checks the schema and every tensor's name and shape.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../engine/backend.js';
import { VaekitError } from '../errors.js';
import { configFromBundle, type VaeConfig } from '../vae/config.js';
import { Vae } from '../vae/model.js';
import { writeFileAtomic } from './atomic-write.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.js';

export const BUNDLE_FORMAT = 'vaekit-model';
export const BUNDLE_VERSION = 1;
export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'weights.safetensors';

export interface BundleConfig {
  format: typeof BUNDLE_FORMAT;
  formatVersion: number;
  model: VaeConfig;
  /** How the model was trained (informational). */
  training?: Record<string, unknown>;
}

export function saveModel(vae: Vae, dir: string, training?: Record<string, unknown>): void {
  const tensors: Record<string, NamedTensor> = {};
  for (const p of vae.params.list) tensors[p.name] = { shape: [...p.shape], data: p.value };
  const config: BundleConfig = { format: BUNDLE_FORMAT, formatVersion: BUNDLE_VERSION, model: vae.config };
  if (training !== undefined) config.training = training;
  writeFileAtomic(join(dir, WEIGHTS_FILE), encodeSafetensors(tensors, { format: 'vaekit', preset: vae.config.preset }));
  writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
}

export function loadModel(dir: string, options: { backend?: Backend } = {}): Vae {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new VaekitError(`No model folder at ${dir}: pass the folder that holds ${CONFIG_FILE} and ${WEIGHTS_FILE}.`);
  }
  const configPath = join(dir, CONFIG_FILE);
  const weightsPath = join(dir, WEIGHTS_FILE);
  for (const p of [configPath, weightsPath]) {
    if (!existsSync(p)) throw new VaekitError(`The model folder ${dir} has no ${p.slice(dir.length + 1)}.`);
  }
  const config = readBundleConfig(configPath);
  const vae = new Vae(config.model, options.backend ? { backend: options.backend } : {});
  const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(weightsPath)), weightsPath);
  const names = new Set(Object.keys(tensors));
  for (const p of vae.params.list) {
    const t = tensors[p.name];
    if (t === undefined) throw new VaekitError(`${weightsPath} has no tensor ${p.name}, which this model's config needs.`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new VaekitError(`${weightsPath}: tensor ${p.name} has shape [${t.shape.join(', ')}] but the config needs [${p.shape.join(', ')}].`);
    }
    p.value.set(t.data);
    names.delete(p.name);
  }
  if (names.size > 0) {
    throw new VaekitError(`${weightsPath} has tensors this model's config does not use: ${[...names].slice(0, 3).join(', ')}.`);
  }
  return vae;
}

function readBundleConfig(path: string): BundleConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new VaekitError(`${path} is not valid JSON.`);
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { format?: unknown }).format !== BUNDLE_FORMAT) {
    throw new VaekitError(`${path} is not a vaekit model config (its "format" is not "${BUNDLE_FORMAT}").`);
  }
  const c = parsed as BundleConfig;
  if (c.formatVersion !== BUNDLE_VERSION) {
    throw new VaekitError(`${path} has format version ${String(c.formatVersion)}; this vaekit reads version ${BUNDLE_VERSION}.`);
  }
  if (typeof c.model !== 'object' || c.model === null) throw new VaekitError(`${path} has no "model" section.`);
  return { ...c, model: configFromBundle(c.model) };
}
