/**
 * Time series from files, one Series each:
 *
 *   FILE.csv / .tsv   a header row, then one point per row: its time in `timeColumn`, its values in
 *                     `valueColumns` (by default every column but the time and the label column) and,
 *                     with `labelColumn`, whether it is anomalous (0/1 or false/true). Without
 *                     `timeColumn` a point's time is its index (0-based). CSV rows are read by csv.ts.
 *   FILE.npy          an array [T] (one channel) or [T, C]; a point's time is its index; NaN is missing.
 *   DIR               a folder of such files, one series each, sorted by name; every one must have the
 *                     same channels.
 *
 * Times are numbers (kept as they are) or dates: ISO 8601 ("2014-04-01", "2014-04-01 00:05:00",
 * "2014-04-01T00:05:00.5+02:00"), read as UTC when they name no zone, or another form JavaScript's
 * Date.parse reads (then in the machine's zone when none is named), as epoch milliseconds. The first
 * row decides which: a number or a date. Times must increase from row to row.
 *
 * A value cell that is empty or says NaN, NA, N/A, null, None or ? is missing: its value is NaN and its
 * mask 0, and nothing ever fills it in. Resampling (`resample`) puts a series on the regular grid of its
 * most common step: a point off the grid moves to the nearest grid point, and the grid points no point
 * falls on are added as missing, never interpolated.
 *
 * Series larger than memory: the arrays of the series read (times, values, masks, labels) are made in
 * memory while they fit `memoryBudget` bytes in all (by default a quarter of the machine's memory),
 * and from the first that would not fit on, in scratch files mapped into memory (src/io/mapped.ts):
 * the same typed arrays to every reader, whose pages the system reads in as windows touch them and
 * drops again when memory is short.
 */
import { closeSync, statSync, type Stats } from 'node:fs';
import { extname } from 'node:path';
import { clip, formatBytes, VaekitError } from '../../errors.js';
import { describeFsError, openOrExplain, readExactly } from '../../io/fs-errors.js';
import { withRoom, trimmed } from '../../io/grow.js';
import { arrayLike, isMapped, mappedArray, mappingUnavailable, type Kind, type MappableArray } from '../../io/mapped.js';
import { npyValueBytes, npyValues, readNpyHeader } from '../../io/npy.js';
import { columnIndex, columnNames, MISSING, NUMBER, visitCsvFile } from './csv.js';
import { entries } from './folder-entries.js';
import { defaultMemoryBudget } from '../load.js';

/** How a series' times were given: dates (held as epoch milliseconds), numbers, or the points' indices. */
export type TimeKind = 'date' | 'number' | 'index';

/** One time series: T points of C channels. */
export interface Series {
  /** Where it came from (its file), for messages. */
  readonly name: string;
  /** How its times were given. */
  readonly time: TimeKind;
  /** Each point's time [T], increasing: epoch milliseconds for dates. */
  readonly timestamps: Float64Array;
  /** The values [T, C], point after point (value (t, c) at t * C + c); NaN where missing. */
  readonly values: Float32Array;
  /** 1 where a value was observed, 0 where it is missing; the layout of values. */
  readonly mask: Uint8Array;
  /** The name of each channel: its CSV column, or "0", "1", ... for an NPY array. */
  readonly channels: readonly string[];
  /** Each point's label [T] (1 = anomalous), or null without a label column. */
  readonly labels: Uint8Array | null;
}

export interface SeriesReadOptions {
  /** CSV: the column of each point's time; without it a point's time is its row's index. */
  timeColumn?: string;
  /** CSV: the columns of the values; by default every column but the time and label columns. */
  valueColumns?: readonly string[];
  /** CSV: the column of each point's anomaly label (0/1 or false/true). */
  labelColumn?: string;
  /** Put each series on the regular grid of its most common step, the added points missing. */
  resample?: boolean;
  /** Receives one line about what was read (see describeSeries), and one when the series are held on disk. */
  report?: (line: string) => void;
  /**
   * Bytes the series' arrays may take in memory (data.memoryBudget); those that would pass it are
   * held in scratch files mapped into memory (see the top of this file). By default
   * defaultMemoryBudget(); Infinity keeps everything in memory.
   */
  memoryBudget?: number;
}

/** The series at `path`: a CSV/TSV file, an NPY file or a folder of them (see the top of this file). */
export function readSeries(path: string, options: SeriesReadOptions = {}): Series[] {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (err) {
    throw new VaekitError(`Cannot read the series ${path}: ${describeFsError(err)}.`);
  }
  const store = SeriesStore.for(path, options);
  const read = stats.isDirectory() ? readSeriesFolder(path, options, store) : [readOneSeries(path, options, store)];
  const series = options.resample === true ? read.map((s) => resample(s, (Type, n, what) => store.array(Type, n, what, s.name))) : read;
  options.report?.(describeSeries(path, read, options.resample === true ? series : null));
  return series;
}

/**
 * Where the arrays of the series being read go: into memory while they fit `budget` bytes in all;
 * from the first that would not on, into scratch files mapped into memory, which `report` hears
 * once (see the top of this file). Without the native addon they all stay in memory, said once too.
 */
class SeriesStore {
  private held = 0;
  private onDisk = false;

  constructor(private readonly source: string, private budget: number, private readonly report?: (line: string) => void) {}

  /** The store for reading `path` with `options`' budget (by default defaultMemoryBudget()) and report. */
  static for(path: string, options: SeriesReadOptions): SeriesStore {
    return new SeriesStore(path, options.memoryBudget ?? defaultMemoryBudget(), options.report);
  }

  /** A new array of `length` zeros holding `what` ("values") of the series `name`. */
  array<A extends MappableArray>(Type: Kind<A>, length: number, what: string, name: string): A {
    const bytes = length * Type.BYTES_PER_ELEMENT;
    if (!this.onDisk && this.held + bytes > this.budget) this.toDisk();
    if (this.onDisk) return mappedArray(Type, length, what, name);
    this.held += bytes;
    return new Type(length);
  }

  /** withRoom through this store: an array grown into memory while it fits, else onto disk. */
  grow<A extends MappableArray>(array: A, length: number, what: string, name: string): A {
    if (array.length >= length) return array; // the reader's every row: no closure made for it
    const larger = withRoom(array, length, (Type, n) => this.array(Type, n, what, name));
    if (!isMapped(array)) this.held -= array.byteLength;
    return larger;
  }

  /** trimmed through this store. */
  trim<A extends MappableArray>(array: A, length: number): A {
    if (!isMapped(array)) this.held -= (array.length - length) * array.BYTES_PER_ELEMENT;
    return trimmed(array, length);
  }

  private toDisk(): void {
    const why = mappingUnavailable();
    const over = `${this.source}: its series take more than the memory budget of ${formatBytes(this.budget)} (data.memoryBudget)`;
    if (why !== null) {
      this.report?.(`${over}, but ${why}, so they are read into memory all the same.`);
      this.budget = Infinity;
      return;
    }
    this.onDisk = true;
    this.report?.(`${over}, so they are held in temporary files on disk, read in as windows need them.`);
  }
}

function readSeriesFolder(dir: string, options: SeriesReadOptions, store: SeriesStore): Series[] {
  const found = entries(dir, 'series');
  const series: Series[] = [];
  for (const entry of found) {
    if (entry.stats.isDirectory() || !isSeriesFile(entry.path)) {
      throw new VaekitError(`${dir} holds ${entry.name}, which is not a series file; a series folder holds only .csv, .tsv and .npy files, one series each.`);
    }
    const s = readOneSeries(entry.path, options, store);
    const first = series[0];
    if (first !== undefined && s.channels.join('\u0000') !== first.channels.join('\u0000')) {
      throw new VaekitError(
        `${s.name} has the channels (${clip(s.channels.join(', '), 200)}) but ${first.name} has (${clip(first.channels.join(', '), 200)}); every series of a folder needs the same channels.`,
      );
    }
    series.push(s);
  }
  if (series.length === 0) throw new VaekitError(`${dir} holds no series files; put one .csv, .tsv or .npy file per series in it.`);
  return series;
}

function isSeriesFile(path: string): boolean {
  const ext = extname(path).toLowerCase();
  return ext === '.csv' || ext === '.tsv' || ext === '.npy';
}

/** One series from a CSV/TSV or NPY file. */
export function readSeriesFile(path: string, options: SeriesReadOptions = {}): Series {
  return readOneSeries(path, options, SeriesStore.for(path, options));
}

function readOneSeries(path: string, options: SeriesReadOptions, store: SeriesStore): Series {
  if (!isSeriesFile(path)) throw new VaekitError(`${path} is not a series file vaekit reads: give a .csv, .tsv or .npy file, or a folder of them.`);
  if (extname(path).toLowerCase() !== '.npy') return readSeriesCsv(path, options, store);
  for (const [given, setting] of [[options.timeColumn, 'data.timeColumn'], [options.valueColumns, 'data.valueColumns'], [options.labelColumn, 'data.labelColumn']] as const) {
    if (given !== undefined) throw new VaekitError(`${setting} applies to CSV series, not to the NPY array ${path}.`);
  }
  return readSeriesNpy(path, store);
}

/** Bytes of an NPY file converted at a time. */
const NPY_CHUNK_BYTES = 8 << 20;

/** An NPY array [T] or [T, C] as a series whose times are the indices; read a chunk at a time. */
function readSeriesNpy(path: string, store: SeriesStore): Series {
  const { shape: s, dtype, swap, dataStart } = readNpyHeader(path);
  if (s.length !== 1 && s.length !== 2) {
    throw new VaekitError(`${path} has the shape [${s.join(', ')}], but a series array must be [T] (one channel) or [T, C].`);
  }
  if (s.includes(0)) throw new VaekitError(`${path} is empty: its shape [${s.join(', ')}] holds no points.`);
  const T = s[0]!;
  const C = s.length === 2 ? s[1]! : 1;
  const values = store.array(Float32Array, T * C, 'values', path);
  const step = npyValueBytes(dtype);
  const per = Math.max(1, Math.floor(NPY_CHUNK_BYTES / step));
  const bytes = new Uint8Array(Math.min(per, values.length) * step);
  const fd = openOrExplain(path, 'NPY file');
  try {
    for (let first = 0; first < values.length; first += per) {
      const n = Math.min(per, values.length - first);
      readExactly(fd, bytes.subarray(0, n * step), dataStart + first * step, path);
      const data = npyValues(bytes.subarray(0, n * step), dtype, swap);
      for (let j = 0; j < n; j++) {
        const i = first + j;
        const v = Number(data[j]!);
        values[i] = v;
        if (Number.isNaN(v)) continue;
        if (!Number.isFinite(values[i]!)) {
          throw new VaekitError(`${path}: point ${Math.floor(i / C)}, channel ${i % C} holds ${v}${Number.isFinite(v) ? ', too large for float32' : ''}; a value must be a finite number, or NaN where missing.`);
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  const timestamps = store.array(Float64Array, T, 'times', path);
  for (let t = 0; t < T; t++) timestamps[t] = t;
  return {
    name: path,
    time: 'index',
    timestamps,
    values,
    mask: maskOf(values, (n) => store.array(Uint8Array, n, 'masks', path)),
    channels: Array.from({ length: C }, (_, c) => String(c)),
    labels: null,
  };
}

/** 1 where a value is a number, 0 where it is NaN; in an array from `make`, by default where `values` is. */
function maskOf(values: Float32Array, make: (length: number) => Uint8Array = (n) => arrayLike(values, Uint8Array, n, 'masks')): Uint8Array {
  const mask = make(values.length);
  for (let i = 0; i < values.length; i++) mask[i] = values[i] === values[i] ? 1 : 0;
  return mask;
}

const ISO_DATE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** A date's epoch milliseconds (see the top of this file), or NaN. */
export function parseDate(text: string): number {
  const m = ISO_DATE.exec(text.trim());
  if (m === null) return Date.parse(text.trim());
  const [, day, clock, zone] = m;
  if (clock === undefined) return Date.parse(`${day}T00:00:00Z`);
  const z = zone === undefined ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone.toUpperCase();
  return Date.parse(`${day}T${clock}${z}`);
}

const LABELS: Record<string, number> = { 0: 0, 1: 1, false: 0, true: 1, '0.0': 0, '1.0': 1 };

/** A CSV/TSV table of points (see the top of this file). */
function readSeriesCsv(path: string, options: SeriesReadOptions, store: SeriesStore): Series {
  const table = new SeriesTable(path, options, store);
  visitCsvFile(path, table.add);
  return table.finish();
}

/** Builds a series record by record: the header's columns, then each row's time, label and values. */
class SeriesTable {
  private names: string[] | null = null;
  private timeIndex = -1;
  private labelIndex = -1;
  private valueIndices: number[] = [];
  private time: TimeKind = 'index';
  private rows = 0;
  private timestamps: Float64Array;
  private values: Float32Array;
  private labels: Uint8Array | null = null;

  constructor(
    private readonly path: string,
    private readonly options: SeriesReadOptions,
    private readonly store: SeriesStore,
  ) {
    this.timestamps = store.array(Float64Array, 1024, 'times', path);
    this.values = store.array(Float32Array, 1024, 'values', path);
  }

  readonly add = (cells: string[], line: number): void => {
    if (this.names === null) {
      this.header(cells);
      return;
    }
    const { names, path, valueIndices } = this;
    const row = ++this.rows;
    const t = row - 1;
    const C = valueIndices.length;
    if (cells.length !== names.length) {
      throw new VaekitError(`${path}: row ${row} (line ${line}) has ${cells.length} cells but the header names ${names.length} columns.`);
    }
    const { store } = this;
    this.timestamps = store.grow(this.timestamps, row, 'times', path);
    if (this.labels !== null) this.labels = store.grow(this.labels, row, 'labels', path);
    this.values = store.grow(this.values, row * C, 'values', path);
    this.timestamps[t] = this.timeIndex < 0 ? t : this.timeOf(cells[this.timeIndex]!.trim(), row, line);
    if (this.labels !== null) {
      const cell = cells[this.labelIndex]!.trim();
      const y = LABELS[cell.toLowerCase()];
      if (y === undefined) {
        const what = cell === '' ? 'the label is empty' : `"${clip(cell)}" is not a label`;
        throw new VaekitError(`${this.place(row, line, this.labelIndex)}: ${what}; label every point 0 or 1 (or false or true), 1 where it is anomalous.`);
      }
      this.labels[t] = y;
    }
    for (let c = 0; c < C; c++) {
      const j = valueIndices[c]!;
      const cell = cells[j]!;
      let v = NaN;
      if (NUMBER.test(cell)) {
        v = Number(cell);
        if (!Number.isFinite(Math.fround(v))) throw new VaekitError(`${this.place(row, line, j)}: ${clip(cell.trim())} is too large for a float32 number.`);
      } else if (cell.trim() !== '' && !MISSING.test(cell)) {
        const hint = this.timeIndex < 0 && row === 1 ? ` (if the column holds the time, give data.timeColumn ${clip(names[j]!)})` : '';
        throw new VaekitError(`${this.place(row, line, j)}: "${clip(cell.trim())}" is not a number${hint}; leave a missing value empty or write NaN or NA.`);
      }
      this.values[t * C + c] = v;
    }
  };

  /** Finds the time, label and value columns. */
  private header(cells: string[]): void {
    const { path, options } = this;
    const names = columnNames(cells, path);
    this.names = names;
    if (options.timeColumn !== undefined) this.timeIndex = columnIndex(names, options.timeColumn, 'time', path);
    if (options.labelColumn !== undefined) this.labelIndex = columnIndex(names, options.labelColumn, 'labels', path);
    const { timeIndex, labelIndex } = this;
    if (timeIndex >= 0 && timeIndex === labelIndex) throw new VaekitError(`${path}: the time and the labels cannot both be the column "${clip(names[timeIndex]!)}".`);
    let values: number[];
    if (options.valueColumns === undefined) values = names.map((_, j) => j).filter((j) => j !== timeIndex && j !== labelIndex);
    else {
      values = options.valueColumns.map((column) => columnIndex(names, column, 'values', path));
      for (const j of values) {
        if (j === timeIndex || j === labelIndex) throw new VaekitError(`${path}: the column "${clip(names[j]!)}" cannot hold both values and the ${j === timeIndex ? 'time' : 'labels'}.`);
      }
      const twice = values.find((j, k) => values.indexOf(j) !== k);
      if (twice !== undefined) throw new VaekitError(`${path}: data.valueColumns names the column "${clip(names[twice]!)}" twice.`);
    }
    if (values.length === 0) throw new VaekitError(`${path} has no value columns besides the time and label columns.`);
    this.valueIndices = values;
    if (labelIndex >= 0) this.labels = this.store.array(Uint8Array, this.timestamps.length, 'labels', path);
  }

  /** A row's time: a number or a date as the first row's is, after the previous row's time. */
  private timeOf(cell: string, row: number, line: number): number {
    if (row === 1) this.time = NUMBER.test(cell) ? 'number' : 'date';
    const at = this.time === 'number' ? (NUMBER.test(cell) ? Number(cell) : NaN) : parseDate(cell);
    const place = this.place(row, line, this.timeIndex);
    if (!Number.isFinite(at)) {
      const what = cell === '' ? 'the time is empty' : `"${clip(cell)}" is not ${this.time === 'number' ? 'a number' : 'a date'}`;
      throw new VaekitError(`${place}: ${what}; give every point its time, all numbers or all dates.`);
    }
    const previous = this.timestamps[row - 2];
    if (previous !== undefined && !(at > previous)) {
      throw new VaekitError(`${place}: the time ${clip(cell)} ${at === previous ? 'repeats' : 'comes before'} the previous row's; the rows must be in time order, each time once.`);
    }
    return at;
  }

  /** "series.csv: row 12 (line 13), column "value"". */
  private place(row: number, line: number, column: number): string {
    return `${this.path}: row ${row} (line ${line}), column "${clip(this.names![column]!)}"`;
  }

  finish(): Series {
    const { path, names, rows } = this;
    if (names === null) throw new VaekitError(`${path} is empty; a series file needs a header row of column names and one row per point.`);
    if (rows === 0) throw new VaekitError(`${path} has a header row but no data rows.`);
    const { store } = this;
    const values = store.trim(this.values, rows * this.valueIndices.length);
    return {
      name: path,
      time: this.timeIndex < 0 ? 'index' : this.time,
      timestamps: store.trim(this.timestamps, rows),
      values,
      mask: maskOf(values, (n) => store.array(Uint8Array, n, 'masks', path)),
      channels: this.valueIndices.map((j) => names[j]!),
      labels: this.labels === null ? null : store.trim(this.labels, rows),
    };
  }
}

/** A series' most common step between consecutive times, and how many steps differ from it. */
export interface Regularity {
  /** The most common step (the smallest of equally common ones); NaN for a series of one point. */
  step: number;
  /** Steps (of the T - 1) that differ from it: gaps, or times off the grid. */
  irregular: number;
}

/** Steps compared at 10 significant digits, so that float times such as 0.1, 0.2, 0.3 count as one step. */
function stepKey(step: number): number {
  return Number(step.toPrecision(10));
}

/** The most common step of a series, and the number of steps that differ from it. */
export function regularity(series: Series): Regularity {
  const t = series.timestamps;
  if (t.length < 2) return { step: NaN, irregular: 0 };
  const counts = new Map<number, number>();
  for (let i = 1; i < t.length; i++) {
    const key = stepKey(t[i]! - t[i - 1]!);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let step = NaN;
  let most = 0;
  for (const [key, n] of counts) {
    if (n > most || (n === most && key < step)) {
      step = key;
      most = n;
    }
  }
  return { step, irregular: t.length - 1 - most };
}

/** The most points a resampled series may have, as a multiple of the points read. */
const MAX_GROWTH = 100;

/**
 * The series on the regular grid of its most common step from its first time: each point at the grid
 * point nearest its time, and every grid point that no point falls on added with its values missing
 * (and its label 0). Refuses two points on one grid point, and a grid of over MAX_GROWTH times the
 * points. Its arrays are where the series' are: in memory, or mapped.
 */
export function resampleSeries(series: Series): Series {
  return resample(series, (Type, n, what) => arrayLike(series.values, Type, n, what));
}

/** A new array of `length` zeros for `what` of a series being made. */
type MakeArray = <A extends MappableArray>(Type: Kind<A>, length: number, what: string) => A;

/** resampleSeries with its arrays from `make`. */
function resample(series: Series, make: MakeArray): Series {
  const { step, irregular } = regularity(series);
  if (irregular === 0) return series;
  const t = series.timestamps;
  const T = t.length;
  const t0 = t[0]!;
  const length = Math.round((t[T - 1]! - t0) / step) + 1;
  if (length > MAX_GROWTH * T) {
    throw new VaekitError(
      `${series.name}: resampling onto its most common step (${formatStep(step, series.time)}) would make ${length.toLocaleString('en-US')} points of its ${T.toLocaleString('en-US')}; resample the series yourself, or read it without data.resample.`,
    );
  }
  const C = series.channels.length;
  const timestamps = make(Float64Array, length, 'times');
  for (let k = 0; k < length; k++) timestamps[k] = t0 + k * step;
  const values = make(Float32Array, length * C, 'values').fill(NaN);
  const labels = series.labels === null ? null : make(Uint8Array, length, 'labels');
  let previous = -1;
  for (let i = 0; i < T; i++) {
    const k = Math.round((t[i]! - t0) / step);
    if (k === previous) {
      throw new VaekitError(
        `${series.name}: the points at the times ${formatTime(t[i - 1]!, series.time)} and ${formatTime(t[i]!, series.time)} fall on one grid point of the step ${formatStep(step, series.time)}; resample the series yourself, or read it without data.resample.`,
      );
    }
    previous = k;
    values.set(series.values.subarray(i * C, (i + 1) * C), k * C);
    if (labels !== null) labels[k] = series.labels![i]!;
  }
  return { ...series, timestamps, values, mask: maskOf(values, (n) => make(Uint8Array, n, 'masks')), labels };
}

const UNITS: readonly [number, string][] = [[86_400_000, 'day'], [3_600_000, 'h'], [60_000, 'min'], [1000, 's'], [1, 'ms']];

/** A step in words: "5 min", "1 day", "250 ms" for dates; the number itself otherwise. */
export function formatStep(step: number, time: TimeKind): string {
  if (time !== 'date') return String(Number(step.toPrecision(6)));
  const [size, unit] = UNITS.find(([size]) => step >= size && step % size === 0) ?? [1, 'ms'];
  const n = step / size;
  return `${Number(n.toPrecision(6))} ${unit === 'day' && n !== 1 ? 'days' : unit}`;
}

/** A time as the user wrote it: an ISO 8601 date (UTC) for dates, the number otherwise. */
export function formatTime(time: number, kind: TimeKind): string {
  return kind === 'date' ? new Date(time).toISOString() : String(time);
}

/**
 * One line about series read from `source`: how many, their points and channels, the missing values
 * and the anomalous points, the most common step and how many steps differ from it, and (given the
 * series after resampling) how many missing points resampling added.
 */
export function describeSeries(source: string, series: readonly Series[], resampled: readonly Series[] | null = null): string {
  const count = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
  const points = series.reduce((n, s) => n + s.timestamps.length, 0);
  const channels = series[0]?.channels ?? [];
  let missing = 0;
  let anomalous = 0;
  for (const s of series) {
    for (let i = 0; i < s.mask.length; i++) missing += 1 - s.mask[i]!;
    if (s.labels !== null) for (let i = 0; i < s.labels.length; i++) anomalous += s.labels[i]!;
  }
  const parts = [
    `${source}: ${series.length === 1 ? '' : `${count(series.length, 'series', 'series')}, `}${count(points, 'point')} of ${count(channels.length, 'channel')} (${clip(channels.join(', '), 120)})`,
    `${count(missing, 'value')} missing (${formatShare(missing, points * channels.length)})`,
  ];
  if (series.some((s) => s.labels !== null)) parts.push(`${count(anomalous, 'point')} labelled anomalous`);
  const regular = series.map(regularity);
  const steps = [...new Set(regular.flatMap((r, i) => (Number.isNaN(r.step) ? [] : [formatStep(r.step, series[i]!.time)])))];
  const irregular = regular.reduce((n, r) => n + r.irregular, 0);
  if (steps.length > 0) {
    const step = steps.length === 1 ? `most common step ${steps[0]}` : `most common steps ${clip(steps.join(', '), 80)}`;
    parts.push(`${step}, ${irregular === 0 ? 'every step regular' : `${count(irregular, 'step')} ${irregular === 1 ? 'differs' : 'differ'} from it${series.length === 1 ? '' : ' (in its series)'}`}`);
  }
  if (resampled !== null) {
    const added = resampled.reduce((n, s) => n + s.timestamps.length, 0) - points;
    parts.push(`resampled onto ${steps.length === 1 ? 'that step' : 'those steps'}: ${count(added, 'point')} added, missing`);
  }
  return `${parts.join('; ')}.`;
}

function formatShare(part: number, whole: number): string {
  if (part === 0) return '0%';
  const percent = (100 * part) / whole;
  return `${percent < 0.1 ? '<0.1' : Number(percent.toFixed(1))}%`;
}
