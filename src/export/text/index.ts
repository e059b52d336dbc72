/**
 * A text model's export: each format's files (onnx.ts, tfjs.ts, pytorch.ts), vocab.json beside
 * them, and README.md (readme.ts). Browser-safe.
 */
import type { DataInfo } from '../../run/bundle-format.js';
import type { TextVae } from '../../vae/text/model.js';
import type { ExportFile, ExportFormat } from '../index.js';
import { textOnnxFiles } from './onnx.js';
import { textPytorchFiles } from './pytorch.js';
import { textExportReadme } from './readme.js';
import { textTfjsFiles } from './tfjs.js';
import { vocabFile, vocabularyOf, VOCAB_FILE } from './weights.js';

export { DECODER_INIT_ONNX, DECODER_STEP_ONNX, TEXT_ENCODER_ONNX } from './onnx.js';
export { TFJS_TEXT_PARTS } from './tfjs.js';
export { VOCAB_FILE } from './weights.js';

/** The files of `format` for a text model, vocab.json then README.md last (data must hold the vocabulary). */
export function textExportFiles(vae: TextVae, format: ExportFormat, readmeName: string, data?: DataInfo, training?: Record<string, unknown>): ExportFile[] {
  const vocabulary = vocabularyOf(vae, data);
  const files = format === 'onnx' ? textOnnxFiles(vae, data) : format === 'tfjs' ? textTfjsFiles(vae, data) : textPytorchFiles(vae, data, training);
  files.push({ name: VOCAB_FILE, bytes: vocabFile(vocabulary) });
  const readme = textExportReadme(vae, format, files.map((f) => f.name), vocabulary, data);
  return [...files, { name: readmeName, bytes: new TextEncoder().encode(readme) }];
}
