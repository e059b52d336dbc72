/**
 * Scoring a time series with a series run's model, as the inference worker (inference-worker.ts)
 * computes it for the Series page: the series (a file or folder on this machine, or an upload) read
 * as the model reads series (run/series.ts seriesForModel: its columns, window and
 * standardization), every point scored by the library's seriesPointScores, the starting threshold
 * and, with a label column, the AUROC and AUPRC of the scores (the library's detectionResult). The
 * threshold starts, as vaekit anomaly --model's default does, at the THRESHOLD_QUANTILE quantile of
 * the scores of the held-out normal points of the run that trained the model (Models.seriesHeldOut);
 * when that run's data cannot be read again, at the same quantile of the scored points' own
 * scores, and the response says why in a sentence. The page flags the points above the threshold
 * itself, as it moves.
 */
import { writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { detectionResult } from '../anomaly/report.js';
import type { Dataset } from '../data/dataset.js';
import type { Series } from '../data/sources/series.js';
import { shortestFloat32 } from '../io/rows.js';
import { seriesPointScores } from '../pipelines/series-scores.js';
import type { Bundle } from '../run/bundle.js';
import { seriesForModel } from '../run/series.js';
import type { ScoredSeries, SeriesScores } from './messages.js';
import type { HeldOutScores, Models } from './models.js';
import { HttpError } from './security.js';
import { inUploadFolder, uploadName, type UploadedFile } from './uploads.js';

export type SeriesInferenceRequest =
  { kind: 'series-score'; id: string; source: { path: string } | { file: UploadedFile }; labelColumn?: string };

/** Posterior samples averaged per value's score, as vaekit anomaly's --score-samples default. */
export const SERIES_SCORE_SAMPLES = 10;
/** How points are scored: as vaekit anomaly scores them by default (--seed 0, no --impute). */
const SCORING = { samples: SERIES_SCORE_SAMPLES, seed: 0, impute: 0 };
/** The quantile of the held-out normal points' scores (else the scored points') the page's threshold starts at, as vaekit anomaly's default threshold. */
export const THRESHOLD_QUANTILE = 0.99;

/** JSON has no NaN: a missing number travels as null. */
function orNull(values: ArrayLike<number>, round: (v: number) => number = (v) => v): (number | null)[] {
  return Array.from(values, (v) => (Number.isNaN(v) ? null : round(v)));
}

/** One series as the page draws it (see ScoredSeries). */
function scoredSeries(s: Series, scores: Float64Array, name: string): ScoredSeries {
  const C = s.channels.length;
  return {
    name, timeKind: s.time, times: Array.from(s.timestamps),
    channels: s.channels.map((channel, c) => ({ name: channel, values: orNull(Array.from({ length: s.timestamps.length }, (_, t) => s.values[t * C + c]!), (v) => Number(shortestFloat32(v))) })),
    scores: orNull(scores),
    labels: s.labels === null ? null : Array.from(s.labels),
  };
}

/** An NPY array for a model that reads CSV columns is refused in the page's words (the library's name the spec's fields). */
function refuseArrayForColumns(bundle: Bundle, name: string): void {
  const s = bundle.data.series!;
  const columns = [...(s.timeColumn !== null ? [s.timeColumn] : []), ...(s.valueColumns ?? [])];
  if (extname(name).toLowerCase() === '.npy' && columns.length > 0) {
    throw new HttpError(400, `${basename(name)} is an NPY array, and this model reads the columns ${columns.join(', ')} of CSV series: give a .csv or .tsv file with them.`);
  }
}

/** The series of `source` read as `bundle`'s model reads them, named as the user knows them. */
async function readForModel(bundle: Bundle, source: SeriesInferenceRequest['source'], labelColumn: string | null): Promise<{ series: Series[]; windows: Dataset; source: string; names: string[] }> {
  const read = (path: string): { series: Series[]; windows: Dataset } => seriesForModel(bundle.data, path, { labelColumn, role: 'a series' });
  refuseArrayForColumns(bundle, 'path' in source ? source.path : source.file.name);
  if ('path' in source) {
    const { series, windows } = read(source.path);
    return { series, windows, source: source.path, names: series.map((s) => basename(s.name)) };
  }
  const { file } = source;
  const { series, windows } = await inUploadFolder((tmp) => {
    const path = join(tmp, uploadName(file.name, extname(file.name).toLowerCase()));
    writeFileSync(path, file.bytes);
    return read(path);
  });
  return { series, windows, source: file.name, names: [file.name] };
}

/** The response body (JSON text) of one series request. */
export async function seriesInferenceOf(models: Models, r: SeriesInferenceRequest): Promise<string> {
  const { bundle } = models.seriesBundle(r.id);
  const labelColumn = r.labelColumn ?? null;
  const { series, windows, source, names } = await readForModel(bundle, r.source, labelColumn);
  const scores = seriesPointScores(bundle.vae, windows, SCORING);
  const all = Float64Array.from(scores.flatMap((s) => Array.from(s)));
  if (all.every(Number.isNaN)) throw new HttpError(400, `No point of ${source} has a score: every value of it is missing.`);
  const heldOut = heldOutOf(models, r.id);
  const labelled = series.every((s) => s.labels !== null);
  // The threshold and the metrics as vaekit anomaly judges the model's scores (without its range metrics, which the page does not show).
  const judged = detectionResult('VAE', all, {
    isAnomaly: labelled ? series.flatMap((s) => Array.from(s.labels!, (y) => y === 1)) : null,
    threshold: { kind: 'quantile', q: THRESHOLD_QUANTILE },
    normalScores: heldOut.scores,
  });
  const m = judged.metrics;
  const info = windows.series!;
  return JSON.stringify({
    source, window: info.window, stride: info.stride, samples: SERIES_SCORE_SAMPLES,
    series: series.map((s, i) => scoredSeries(s, scores[i]!, names[i]!)),
    points: all.length, scoredPoints: judged.scored,
    threshold: judged.threshold.value, thresholdQuantile: THRESHOLD_QUANTILE,
    ...(heldOut.scores !== null
      ? { thresholdFrom: 'held-out', heldOutPoints: heldOut.scores.length, thresholdFallback: null }
      : { thresholdFrom: 'scored', heldOutPoints: 0, thresholdFallback: `${heldOut.why}, so the threshold starts at the ${THRESHOLD_QUANTILE} quantile of this file's own scores, not of the run's held-out normal points.` }),
    labelColumn, metrics: m === null ? null : { points: judged.scored, anomalous: m.anomalies, auroc: m.auroc, auprc: m.auprc },
  } satisfies SeriesScores);
}

/** The scores of run `id`'s held-out normal points, or why there are none (Models.seriesHeldOut); none with a score counts as none. */
function heldOutOf(models: Models, id: string): HeldOutScores {
  const found = models.seriesHeldOut(id, SCORING);
  if (found.scores !== null && found.scores.length === 0) return { scores: null, why: `No held-out normal point of the run "${id}" has a score` };
  return found;
}
