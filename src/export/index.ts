/**
 * Export: a trained model as files other runtimes load (ONNX graphs, the TF.js layers format, a
 * PyTorch module with its weights). Each format's module turns a model into named files in memory
 * (browser-safe: no fs), so the CLI writes them to a folder and the studio offers them as downloads.
 */
import type { DataInfo } from '../io/bundle-format.js';
import type { Vae } from '../vae/model.js';
import { onnxFiles } from './onnx.js';
import { pytorchFiles } from './pytorch.js';
import { tfjsFiles } from './tfjs.js';

export type ExportFormat = 'onnx' | 'tfjs' | 'pytorch';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['onnx', 'tfjs', 'pytorch'];

/** One file of an export: its name inside the export folder and its bytes. */
export interface ExportFile {
  name: string;
  bytes: Uint8Array;
}

/** The files of `format` for a model (data: the bundle's data description, when it has one). */
export function exportFiles(vae: Vae, format: ExportFormat, data?: DataInfo): ExportFile[] {
  switch (format) {
    case 'onnx': return onnxFiles(vae, data);
    case 'tfjs': return tfjsFiles(vae, data);
    case 'pytorch': return pytorchFiles(vae, data);
  }
}
