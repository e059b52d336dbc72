/**
 * The model bundle as a folder: config.json and weights.safetensors (bundle-format.ts), written
 * atomically, read with every name and shape checked.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../engine/backend.js';
import { VaekitError } from '../errors.js';
import { MAX_VALUES, type Vae } from '../vae/model.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { decodeAnyBundle, decodeBundle, decodeTextBundle, encodeBundle, type Bundle, type DataInfo, type TextBundle } from './bundle-format.js';
import type { TextVae } from '../vae/text/model.js';
import { readFileOrExplain } from '../io/fs-errors.js';
import { maxSafetensorsBytes } from '../io/safetensors.js';
import { RUN_FILES } from './names.js';

export { BUNDLE_FORMAT, BUNDLE_VERSION, type Bundle, type BundleConfig, type DataInfo, type SeriesDataInfo, type TextBundle } from './bundle-format.js';

/**
 * The largest config.json read: room for a model of a million features' standardization and names
 * (about 65 bytes each as saveModel writes them), far below what would exhaust memory.
 */
const MAX_CONFIG_BYTES = 64 * 2 ** 20;

export function saveModel(vae: Vae | TextVae, dir: string, training?: Record<string, unknown>, data?: DataInfo): void {
  const files = encodeBundle(vae, training, data);
  writeFileAtomic(join(dir, RUN_FILES.weights), files.weights);
  writeFileAtomic(join(dir, RUN_FILES.config), files.config);
}

export function loadModel(dir: string, options: { backend?: Backend } = {}): Vae {
  return loadBundle(dir, options).vae;
}

/** A saved image or table model with what it knows about its data (MNIST's for bundles that predate it) and its training settings; a text model is refused. */
export function loadBundle(dir: string, options: { backend?: Backend } = {}): Bundle {
  return readBundle(dir, options, decodeBundle);
}

/** A saved text model with its vocabulary; an image or table model is refused. */
export function loadTextBundle(dir: string, options: { backend?: Backend } = {}): TextBundle {
  return readBundle(dir, options, decodeTextBundle);
}

/** A saved model of any kind. */
export function loadAnyBundle(dir: string, options: { backend?: Backend } = {}): Bundle | TextBundle {
  return readBundle(dir, options, decodeAnyBundle);
}

function readBundle<B>(dir: string, options: { backend?: Backend }, decode: (text: string, weights: Uint8Array, names: { config: string; weights: string }, options: { backend?: Backend }) => B): B {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new VaekitError(`No model folder at ${dir}: pass the folder that holds ${RUN_FILES.config} and ${RUN_FILES.weights}.`);
  }
  const configPath = join(dir, RUN_FILES.config);
  const weightsPath = join(dir, RUN_FILES.weights);
  for (const p of [configPath, weightsPath]) {
    if (!existsSync(p)) throw new VaekitError(`The model folder ${dir} has no ${p.slice(dir.length + 1)}.`);
  }
  // Only regular files of bounded size are read: a config or weights that is a link to /dev/zero, a FIFO or a folder is refused unread.
  const configText = readFileOrExplain(configPath, 'model config', MAX_CONFIG_BYTES).toString('utf8');
  const weights = new Uint8Array(readFileOrExplain(weightsPath, 'model weights file', maxSafetensorsBytes(MAX_VALUES)));
  return decode(configText, weights, { config: configPath, weights: weightsPath }, options);
}
