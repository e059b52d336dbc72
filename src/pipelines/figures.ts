/**
 * A model folder's figures: the notebook's (test examples, noisy, denoised; prior samples) and the
 * training curves from its metrics.jsonl. `vaekit figures`, `vaekit demo` and the report share them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import type { NoiseSpec } from '../data/transforms/noise.js';
import { VaekitError } from '../errors.js';
import type { Bundle } from '../run/bundle.js';
import { trainingCurvesChart, type Chart } from '../viz/charts.js';
import { describeModel, notebookFigures } from '../viz/figures.js';
import { lossOf } from '../run/training-record.js';
import { RUN_FILES } from '../run/names.js';

/** The JSON objects of a JSON-lines file (blank lines skipped); a line that is not one is a VaekitError. */
export function readJsonLines(path: string): Array<Record<string, unknown>> {
  const records: Array<Record<string, unknown>> = [];
  readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw new VaekitError(`Line ${i + 1} of ${basename(path)} is not valid JSON.`);
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new VaekitError(`Line ${i + 1} of ${basename(path)} is not a JSON object.`);
    records.push(record as Record<string, unknown>);
  });
  return records;
}

/** The training curves of a model folder from its metrics.jsonl, or null when it has none (or no epochs yet). */
export async function trainingCurves(dir: string, bundle: Pick<Bundle, 'vae' | 'training'>): Promise<Chart | null> {
  const path = join(dir, RUN_FILES.metrics);
  if (!existsSync(path)) return null;
  const records = readJsonLines(path);
  if (records.length === 0) return null;
  const loss = lossOf(bundle.training);
  const beta = bundle.training['beta'];
  const objective = loss === undefined ? '' : loss === 'notebook-mse' ? ' · the notebook\'s squared error (not a VAE objective)'
    : ` · objective ${loss}${loss === 'elbo' && typeof beta === 'number' ? `, beta ${beta}` : ''}`;
  return trainingCurvesChart(records, `Training curves, ${records.length} epoch${records.length === 1 ? '' : 's'}`, {
    ...(loss !== undefined ? { loss } : {}),
    subtitle: `${describeModel(bundle.vae.config, loss)}${objective} · ${dir}`,
  });
}

/** The notebook's figures for `set` and the training curves (PNG and SVG), as [file name, bytes] pairs. */
export async function modelFigures(dir: string, bundle: Bundle, set: Dataset, noise: NoiseSpec, seed: number): Promise<Array<[string, Uint8Array | string]>> {
  const figures: Array<[string, Uint8Array | string]> = notebookFigures(bundle.vae, set, noise, seed, {
    classNames: bundle.data.classNames ?? set.labelNames, model: dir, loss: lossOf(bundle.training),
  }).map(([name, png]) => [RUN_FILES[name], png]);
  const curves = await trainingCurves(dir, bundle);
  if (curves !== null) figures.push([RUN_FILES.curvesPng, curves.png], [RUN_FILES.curvesSvg, curves.svg]);
  return figures;
}
