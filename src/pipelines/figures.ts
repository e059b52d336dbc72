/**
 * A model folder's figures: the notebook's (test examples, noisy, denoised; prior samples) and the
 * training curves from its metrics.jsonl. `vaekit figures`, `vaekit demo` and the report share them.
 * A series run's figure (seriesFigure): a series above its points' anomaly scores.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import type { Series } from '../data/sources/series.js';
import type { NoiseSpec } from '../data/transforms/noise.js';
import { VaekitError } from '../errors.js';
import type { Bundle } from '../run/bundle.js';
import { intervals } from '../anomaly/thresholds.js';
import { trainingCurvesChart, type Chart, type ChartOptions } from '../viz/charts.js';
import { seriesChart, type PointInterval } from '../viz/series-chart.js';
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

/** A series figure draws at most this many channels (a legend of more would crowd the figure). */
export const MAX_FIGURE_CHANNELS = 10;

export interface SeriesFigureOptions extends ChartOptions {
  /** Default: "Anomaly scores of NAME". */
  title?: string;
  /** A line under the title (e.g. the model, the threshold's rule). */
  subtitle?: string;
  /** The score axis' title (default "anomaly score"). */
  scoreTitle?: string;
}

/**
 * A series and its points' anomaly scores (pointScores of a series run, NaN where a point has
 * none) as a figure: the points scored strictly above the threshold shaded as flagged, the series'
 * own labels as labelled anomalies; its first MAX_FIGURE_CHANNELS channels, said in the subtitle
 * when there are more.
 */
export async function seriesFigure(series: Series, scores: ArrayLike<number>, threshold: number | null, options: SeriesFigureOptions = {}): Promise<Chart> {
  const points = series.timestamps.length;
  if (scores.length !== points) throw new VaekitError(`${series.name} has ${points} points but ${scores.length} scores; a series figure needs one score a point.`);
  const width = series.channels.length;
  const drawn = Math.min(width, MAX_FIGURE_CHANNELS);
  const channels = series.channels.slice(0, drawn).map((name, c) => ({ name, values: Float64Array.from({ length: points }, (_, t) => series.values[t * width + c]!) }));
  const runs = (flags: ArrayLike<boolean>): PointInterval[] => intervals(flags).map(([start, end]) => ({ start, end }));
  const flags = Array.from(scores, (s) => threshold !== null && s > threshold);
  const notes = [...(options.subtitle === undefined ? [] : [options.subtitle]), ...(drawn < width ? [`the first ${drawn} of ${width} channels`] : [])];
  const { title, scoreTitle, scale } = options;
  return seriesChart({
    title: title ?? `Anomaly scores of ${series.name}`,
    ...(notes.length > 0 ? { subtitle: notes.join(' · ') } : {}),
    times: series.timestamps,
    timeKind: series.time,
    channels,
    scores: Float64Array.from(scores),
    threshold,
    flaggedIntervals: runs(flags),
    ...(series.labels === null ? {} : { labelIntervals: runs(Array.from(series.labels, (l) => l === 1)) }),
    ...(scoreTitle === undefined ? {} : { scoreTitle }),
  }, scale === undefined ? {} : { scale });
}
