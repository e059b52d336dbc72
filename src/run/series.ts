/**
 * Time series as a run's data (data.window set): the series read, their windows cut and split in
 * time for training and validation, and the description a bundle keeps so that every later command
 * reads a new series as the model was trained to (seriesForModel).
 *
 *   read        data.source: a .csv/.tsv/.npy file or a folder of them (src/data/sources/series.ts),
 *               with data.timeColumn, data.valueColumns, data.labelColumn (point labels: read,
 *               never trained on) and data.resample
 *   cut         windows of data.window points every data.stride (src/data/transforms/windows.ts),
 *               standardized per channel by each series' training part (data.trainUntil)
 *   validate    the last share of each series' training windows (data.validation.fraction, 0.1 by
 *               default), the windows that overlap them dropped from training; or, with
 *               data.validation.source, all windows of other series files
 *   again       a trained model's run read again from its run.json (trainingRunOf, trainingRun):
 *               its held-out normal points and training windows, for vaekit anomaly --model and
 *               the studio's Series page
 */
import { extname } from 'node:path';
import { splitSeriesValidation } from '../data/split.js';
import { type Dataset } from '../data/dataset.js';
import { readSeries, regularity, type Series, type SeriesReadOptions } from '../data/sources/series.js';
import { seriesWindows, windowDataset, type SeriesWindows } from '../data/transforms/windows.js';
import { clip, VaekitError } from '../errors.js';
import type { DataInfo, SeriesDataInfo } from './bundle-format.js';
import { readRunRecord } from './folder.js';
import { RUN_FILES } from './names.js';
import { validateRunSpec, type DataSpec } from './spec.js';

/** The validation share of each series' training windows when data.validation is not given. */
export const SERIES_VALIDATION_FRACTION = 0.1;

export interface SeriesRunData {
  /** The series as read (resampled with data.resample). */
  series: Series[];
  /** Their training windows, all their windows, and the standardization of their training parts. */
  windows: SeriesWindows;
  /** The windows the model trains on. */
  train: Dataset;
  /** The held-out windows it validates on (normal data it never trains on). */
  validation: Dataset;
  /** The series the validation windows were cut from: `series`, or data.validation.source's. */
  validationSeries: Series[];
  /** What the bundle keeps about how the series were read and cut. */
  info: SeriesDataInfo;
}

/** How to read the series of a spec's data (or a model's), reporting to `report`. */
function readOptions(d: Pick<SeriesDataInfo, 'timeColumn' | 'valueColumns' | 'resample'>, labelColumn: string | null, report?: (line: string) => void, memoryBudget?: number | null): SeriesReadOptions {
  return {
    ...(memoryBudget !== undefined && memoryBudget !== null ? { memoryBudget } : {}),
    ...(d.timeColumn !== null ? { timeColumn: d.timeColumn } : {}),
    ...(d.valueColumns !== null ? { valueColumns: d.valueColumns } : {}),
    ...(labelColumn !== null ? { labelColumn } : {}),
    resample: d.resample,
    ...(report !== undefined ? { report } : {}),
  };
}

/** Series of `source` with a warning when their steps are irregular and they are not resampled: a window of W points then spans different lengths of time. */
function readAndWarn(source: string, options: SeriesReadOptions, report?: (line: string) => void): Series[] {
  const series = readSeries(source, options);
  const irregular = series.reduce((n, s) => n + regularity(s).irregular, 0);
  if (irregular > 0 && options.resample !== true) {
    report?.(`warning: ${irregular.toLocaleString('en-US')} ${irregular === 1 ? 'step' : 'steps'} between the points of ${source} ${irregular === 1 ? 'differs' : 'differ'} from the most common step, so windows of the same number of points span different lengths of time; data.resample puts each series on a regular grid, the added points missing.`);
  }
  return series;
}

/** A spec's series, read, cut into windows and split in time (see the top of this file); writes nothing. */
export function readSeriesRun(d: DataSpec, report?: (line: string) => void): SeriesRunData {
  if (d.window === null) throw new VaekitError('A series run needs data.window, the points of each window.');
  const resample = d.resample === true;
  const series = readAndWarn(d.source, readOptions({ ...d, resample }, d.labelColumn, report, d.memoryBudget), report);
  const windows = seriesWindows(series, {
    window: d.window,
    ...(d.stride !== null ? { stride: d.stride } : {}),
    ...(d.trainUntil !== null ? { trainUntil: d.trainUntil } : {}),
  });
  const info: SeriesDataInfo = {
    window: d.window,
    stride: d.stride ?? 1,
    channels: [...series[0]!.channels],
    timeColumn: d.timeColumn,
    // The columns read, so that a new file's other columns (a label column) are not read as values.
    valueColumns: series.every((s) => extname(s.name).toLowerCase() === '.npy') ? null : [...series[0]!.channels],
    labelColumn: d.labelColumn,
    timeKind: series[0]!.time,
    standardization: windows.standardization,
    resample,
  };
  const v = d.validation;
  if (v !== null && 'source' in v) {
    const other = seriesForModel({ series: info, source: d.source }, v.source, { labelColumn: d.labelColumn, report, role: 'validation', memoryBudget: d.memoryBudget });
    const validation = other.windows;
    report?.(`windows: ${windows.train.count.toLocaleString('en-US')} to train on, ${validation.count.toLocaleString('en-US')} of ${v.source} to validate on`);
    return { series, windows, train: windows.train, validation, validationSeries: other.series, info };
  }
  const fraction = v === null ? SERIES_VALIDATION_FRACTION : v.fraction;
  const split = splitSeriesValidation(windows.train, fraction);
  report?.(
    `windows: ${split.train.count.toLocaleString('en-US')} to train on and the last ${+(100 * fraction).toPrecision(3)}% of each series' training windows (${split.validation.count.toLocaleString('en-US')}) to validate on`
    + `${split.dropped > 0 ? `; the ${split.dropped.toLocaleString('en-US')} between them, which share points with both, are left out` : ''}`,
  );
  return { series, windows, train: split.train, validation: split.validation, validationSeries: series, info };
}

export interface SeriesForModelOptions {
  /** The CSV column of the new series' point labels (1 = anomalous), or null: none (the model's own data may have had one). */
  labelColumn?: string | null;
  /** Receives the line about what was read, and a warning about irregular steps. */
  report?: ((line: string) => void) | undefined;
  /** In messages: what the series are for ("series to score", "validation"). */
  role?: string;
  /** Bytes the series may take in memory (SeriesReadOptions.memoryBudget); null or absent: the default. */
  memoryBudget?: number | null | undefined;
}

/**
 * A new series file or folder as a series model reads it: with the model's time and value columns
 * and resampling, checked to hold the model's channels, and cut into ALL its windows at the model's
 * window and stride, standardized with the model's standardization (never a new one).
 */
export function seriesForModel(info: Pick<DataInfo, 'series' | 'source'>, source: string, options: SeriesForModelOptions = {}): { series: Series[]; windows: Dataset } {
  const s = info.series;
  if (s === undefined || s === null) throw new VaekitError(`This model was trained on ${info.source}, not on time series, so it does not read a series.`);
  const series = readAndWarn(source, readOptions(s, options.labelColumn ?? null, options.report, options.memoryBudget), options.report);
  const channels = series[0]!.channels;
  if (channels.join('\u0000') !== s.channels.join('\u0000')) {
    throw new VaekitError(`${series[0]!.name} has the channels (${clip(channels.join(', '), 200)}) but the model reads (${clip(s.channels.join(', '), 200)}); give ${options.role ?? 'series'} with the model's channels.`);
  }
  for (const one of series) {
    const T = one.timestamps.length;
    if (T < s.window) throw new VaekitError(`${one.name} holds ${T} points, fewer than the model's window of ${s.window}; give longer series.`);
  }
  const windows = windowDataset(series, {
    window: s.window,
    stride: s.stride,
    standardization: s.standardization,
    trainEnds: Int32Array.from(series, (one) => one.timestamps.length),
    part: 'all',
    source,
  });
  return { series, windows };
}

/** A series model's training run read again (trainingRunOf): the run, or why it cannot be read. */
export type TrainingRun = { run: SeriesRunData; why: null } | { run: null; why: string };

export interface TrainingRunOptions {
  /** The model as the start of a sentence names it (default: its folder). */
  name?: string;
  /** Applied to the run's data before it is read (the studio confines its paths to the folders it may read). */
  data?: (data: DataSpec) => DataSpec;
}

/**
 * The run that trained the series model in `dir` (`series`: how its bundle reads series): its
 * run.json's data read again and checked to standardize as it did then; or why it cannot be, a
 * clause that starts with the model's name ("M has no run.json saying which data it trained on",
 * "M trained on series that cannot be read again (No series at s.csv)").
 */
export function trainingRunOf(dir: string, series: Pick<SeriesDataInfo, 'standardization'>, options: TrainingRunOptions = {}): TrainingRun {
  const name = options.name ?? dir;
  const record = readRunRecord(dir);
  if (record === null || typeof record.spec !== 'object' || record.spec === null) {
    return { run: null, why: `${name} has no ${RUN_FILES.spec} saying which data it trained on` };
  }
  let run: SeriesRunData;
  try {
    const data = validateRunSpec(record.spec).data;
    run = readSeriesRun(options.data?.(data) ?? data);
  } catch (err) {
    const detail = err instanceof Error ? err.message.replace(/\.$/, '') : String(err);
    return { run: null, why: `${name} trained on series that cannot be read again (${detail})` };
  }
  if (JSON.stringify(run.info.standardization) !== JSON.stringify(series.standardization)) {
    return { run: null, why: `${name} trained on series that no longer standardize as they did when it trained` };
  }
  return { run, why: null };
}

/** Something that needs a model's training run: what it is, and what the user can do without it. */
export interface TrainingRunNeed {
  /** "held-out normal points to take a threshold from" */
  what: string;
  /** "give --threshold as a number" */
  fix: string;
}

/**
 * trainingRunOf for work that may need the run: null when there is none and nothing in `needs`
 * needs it; a VaekitError, one sentence naming why and the first need's fix, when something does.
 */
export function trainingRun(dir: string, series: Pick<SeriesDataInfo, 'standardization'>, needs: readonly TrainingRunNeed[]): SeriesRunData | null {
  const found = trainingRunOf(dir, series);
  if (found.run !== null) return found.run;
  const need = needs[0];
  if (need === undefined) return null;
  throw new VaekitError(`${found.why}, so it has no ${need.what}: ${need.fix}.`);
}
