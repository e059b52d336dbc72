/**
 * Writing an export to a folder (Node only; index.ts stays browser-safe). The folder appears whole
 * or not at all: the files are made in memory, written into a staging folder beside it (OUT.new),
 * and the staging folder is renamed into place (swapping out the old folder with --overwrite).
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VaekitError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { DataInfo } from '../run/bundle-format.js';
import { placeFolder, stagingFolder } from '../io/output.js';
import type { Vae } from '../vae/model.js';
import type { TextVae } from '../vae/text/model.js';
import { EXPORT_README, exportFiles, type ExportFormat } from './index.js';
import { DECODER_ONNX, ENCODER_ONNX } from './onnx.js';
import { PYTORCH_MODULE_FILE, PYTORCH_TRAINER_FILE, PYTORCH_WEIGHTS_FILE } from './pytorch.js';
import { DECODER_INIT_ONNX, DECODER_STEP_ONNX, TFJS_TEXT_PARTS, VOCAB_FILE } from './text/index.js';

/**
 * What an export folder may hold at its top level: the files and folders of every format (the TF.js
 * export's encoder/ and decoder/; a text model's decoder_init and decoder_step graphs or folders and
 * vocab.json), and the __pycache__ Python leaves beside model.py. Overwriting replaces only such a
 * folder, so a mistyped --out (".", a model folder) loses nothing else.
 */
const EXPORT_ENTRIES: ReadonlySet<string> = new Set([
  ENCODER_ONNX, DECODER_ONNX, 'encoder', 'decoder', PYTORCH_MODULE_FILE, PYTORCH_WEIGHTS_FILE, PYTORCH_TRAINER_FILE, EXPORT_README, '__pycache__',
  DECODER_INIT_ONNX, DECODER_STEP_ONNX, ...TFJS_TEXT_PARTS, VOCAB_FILE,
]);

export interface WriteExportOptions {
  /** Replace a folder that already holds an export (any format's files and nothing else). */
  overwrite: boolean;
  /** The bundle's training record (the PyTorch export's objective reads beta and free bits from it). */
  training?: Record<string, unknown>;
}

/**
 * Writes the `format` export of a model (image, table or text) into the folder outDir, which must not
 * exist or be empty (with options.overwrite: or hold an earlier export, of any format); returns the
 * written files' paths.
 */
export function writeExport(vae: Vae | TextVae, format: ExportFormat, outDir: string, data: DataInfo | undefined, options: WriteExportOptions): string[] {
  const target = resolve(outDir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new VaekitError(`The output path ${outDir} exists and is not a folder.`);
    const entries = readdirSync(target);
    if (!options.overwrite && entries.length > 0) {
      throw new VaekitError(`${outDir} is not empty; pass export.overwrite to replace the export it holds or choose another export.dir.`);
    }
    const foreign = entries.find((name) => !EXPORT_ENTRIES.has(name));
    if (foreign !== undefined) {
      throw new VaekitError(`${outDir} holds ${foreign}, which is not part of an export, so it is not replaced: choose another export.dir.`);
    }
  }
  // Everything is made before anything is written: a model the format cannot take writes nothing.
  const files = exportFiles(vae, format, data, options.training);
  const staged = stagingFolder(target);
  rmSync(staged, { recursive: true, force: true });
  try {
    for (const file of files) writeFileAtomic(join(staged, file.name), file.bytes);
  } catch (err) {
    rmSync(staged, { recursive: true, force: true });
    throw err;
  }
  placeFolder(staged, target, outDir);
  return files.map((file) => join(target, file.name));
}
