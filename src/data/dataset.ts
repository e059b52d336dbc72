/**
 * The Dataset every source yields and every stage reads: `count` examples of one shape, kept in
 * memory as bytes (images: 0..255, read as v / 255) or as floats (tables, float arrays), example
 * after example, channels-last; optional class labels with their names.
 *
 *   images    shape [height, width, channels]   (MNIST: [28, 28, 1])
 *   features  shape [features]                  (a CSV table or an [N, D] array)
 *   text      shape [maxLength]                 token ids as floats, <pad> (0) after each example's
 *                                               tokens; `text` holds the vocabulary and lengths
 *   series    shape [window * channels]         a window of a time series, point after point and the
 *                                               channels of each point together (channels-last: value
 *                                               (t, c) at t * channels + c), standardized, a missing
 *                                               value 0 with `mask` 0; `series` maps windows to points
 *
 * `gather` copies given examples into a float batch; the batching loop (batches.ts) is its one caller
 * in training, evaluation and scoring.
 */
import type { Backend } from '../engine/backend.js';
import { getBackend } from '../engine/index.js';
import { VaekitError } from '../errors.js';
import type { Texts } from './text/texts.js';
import type { Vocabulary } from './text/vocab.js';
import type { Standardization } from './transforms/standardize.js';

/**
 * What a dataset whose rows are not held in memory does in place of the stages that would copy or
 * read its values: a source larger than the memory budget, read from disk by threads (src/data/stream),
 * or time-series windows cut from their series as they are asked for (transforms/windows.ts).
 * Subsets and standardization are views; a pass over every row goes chunk by chunk.
 */
export interface StreamedRows {
  /** What a stored row holds: bytes (images, read as v / 255) or floats. */
  readonly storedType: 'uint8' | 'float32';
  /** Whether the rows have a mask of observed values (gatherMask). */
  readonly masked: boolean;
  /** out[r * size + j] = the mask of value j of example indices[r], for r < rows (a masked set's). */
  gatherMask(indices: ArrayLike<number>, rows: number, out: Uint8Array): void;
  /** The set's examples at `indices` (nothing is read), with these labels and ids. */
  select(indices: Uint32Array, labels: Int32Array | null, source: string, ids: ExampleIds): Dataset;
  /** The set with its values standardized (x - mean) / std as they are read, as floats. */
  standardized(stats: Standardization): Dataset;
  /** The set with other labels and class names (the same examples). */
  relabeled(labels: Int32Array | null, labelNames: readonly string[] | null): Dataset;
  /** Every example's stored values in order, chunk after chunk (each chunk's values are reused by the next). */
  chunks(): Generator<StoredChunk>;
  /** Each example's digest of its stored values, in order (io/digest.ts): kept from the pass that read them, where there was one. */
  digests(): Uint8Array;
  /** Starts reading the pass gather will make in `order` (null: stored order), `rows` at a time, before it asks (nothing, where rows are not read ahead). */
  prefetch(order: Uint32Array | null, rows: number): void;
}

/** What a set that holds no rows in memory keeps besides them (StreamedRows' sets). */
export interface RowlessParts {
  count: number;
  shape: readonly number[];
  labels: Int32Array | null;
  labelNames: readonly string[] | null;
  featureNames: readonly string[] | null;
  source: string;
  ids?: ExampleIds | undefined;
  /** A streamed text corpus's vocabulary, lengths and texts. */
  text?: TextInfo | undefined;
}

/** The fields of a set whose rows are not held in memory (values null; see StreamedRows), from its parts. */
export abstract class RowlessSet {
  readonly values = null;
  readonly count: number;
  readonly shape: readonly number[];
  readonly size: number;
  readonly labels: Int32Array | null;
  readonly labelNames: readonly string[] | null;
  readonly featureNames: readonly string[] | null;
  readonly source: string;
  readonly ids: ExampleIds | undefined;
  readonly text: TextInfo | undefined;

  constructor(parts: RowlessParts) {
    this.count = parts.count;
    this.shape = Object.freeze([...parts.shape]);
    this.size = parts.shape.reduce((a, b) => a * b, 1);
    this.labels = parts.labels;
    this.labelNames = parts.labelNames;
    this.featureNames = parts.featureNames;
    this.source = parts.source;
    this.ids = parts.ids;
    this.text = parts.text;
  }

  /** The parts it was made of, for a view of it. */
  protected parts(): RowlessParts {
    return { count: this.count, shape: this.shape, labels: this.labels, labelNames: this.labelNames, featureNames: this.featureNames, source: this.source, ids: this.ids, text: this.text };
  }
}

/** Stored values of `rows` examples from example `first` on. */
export interface StoredChunk {
  values: Uint8Array | Float32Array;
  rows: number;
  first: number;
}

/** What a text dataset knows besides its rows of ids: how its text became tokens, and the text itself. */
export interface TextInfo {
  /** The tokenizer and the tokens by id: every id in the rows is one of these. */
  readonly vocabulary: Vocabulary;
  /** Tokens of each example (<= the shape's maxLength; the rest of its row is <pad>). */
  readonly lengths: Int32Array;
  /** Each example's text as read (trimmed), for output files and pages that show it (a streamed corpus's: on disk). */
  readonly texts: Texts;
  /** Examples longer than maxLength, cut to it when read. */
  readonly cut: number;
}

/**
 * What a dataset of time-series windows knows besides its rows: the series they were cut from and
 * where each window lies in its series, so that scores of windows map back to points in time
 * (src/data/transforms/windows.ts, pointScores).
 */
export interface SeriesInfo {
  /** Points per window (W); a row holds window * channels.length values, channels-last. */
  readonly window: number;
  /** Points between the starts of consecutive windows of a series. */
  readonly stride: number;
  /** The name of each channel (the value columns of a CSV file; "0", "1", ... for an NPY array). */
  readonly channels: readonly string[];
  /** Each series' source (its file). */
  readonly names: readonly string[];
  /** Each series' time of each point: epoch milliseconds for dates, the time column's numbers, or the point's index. */
  readonly timestamps: readonly Float64Array[];
  /** Each series' point labels (1 = anomalous, 0 = normal), or null when the series have none. */
  readonly pointLabels: readonly Uint8Array[] | null;
  /** The points at the start of each series that form its training part (the standardization's, and the training windows'). */
  readonly trainEnds: Int32Array;
  /** The standardization the values went through, per channel: x' = (x - mean[c]) / std[c]. */
  readonly standardization: Standardization;
  /** Each window's series: an index into names. */
  readonly seriesIndex: Int32Array;
  /** Each window's first point in its series (0-based). */
  readonly starts: Int32Array;
}

export interface Dataset {
  /** Number of examples. */
  readonly count: number;
  /** Shape of one example: [height, width, channels] for images, [features] for tables. */
  readonly shape: readonly number[];
  /** Values per example (the product of shape). */
  readonly size: number;
  /**
   * The stored values, example after example: bytes (scaled by 1/255 when gathered) or floats; null
   * when the set streams from disk (`streamed`), too large for the memory budget.
   */
  readonly values: Uint8Array | Float32Array | null;
  /** A set whose values stay on disk: how it is subset, standardized and read through (see StreamedRows). */
  readonly streamed?: StreamedRows | undefined;
  /** Class index of each example (0 .. labelNames.length - 1), or null when unlabelled. */
  readonly labels: Int32Array | null;
  /** The name of each class index ("0".."9" for MNIST, folder names, CSV label values), or null. */
  readonly labelNames: readonly string[] | null;
  /** The name of each feature of a table (a CSV file's column names), or null. */
  readonly featureNames: readonly string[] | null;
  /** Where the data came from, for messages ("MNIST train", "photos/"). */
  readonly source: string;
  /**
   * Which example each one is, for per-example output files: an image's path in its folder, a CSV
   * table's data row (1-based); absent, the example's index in its source (NPY, IDX, MNIST: 0-based).
   * Read it with exampleId.
   */
  readonly ids?: ExampleIds | undefined;
  /** Text data: the vocabulary, lengths and texts of the rows of token ids; absent for other data. */
  readonly text?: TextInfo | undefined;
  /**
   * Which values were observed: 1 where a value was read, 0 where it was missing (its value then holds
   * a stand-in, 0 for standardized series); the layout of `values`. Absent when every value was observed.
   */
  readonly mask?: Uint8Array | undefined;
  /** Time-series windows: the series and where each window lies in them; absent for other data. */
  readonly series?: SeriesInfo | undefined;
  /**
   * out[r * size + j] = value j of example order[start + r] for r < rows, as floats (bytes / 255);
   * order null means the identity.
   */
  gather(order: Uint32Array | null, start: number, rows: number, out: Float32Array, backend?: Backend): void;
}

/** Whether a set's values come with a mask of observed values (in memory, or gathered by its rows). */
export function hasMask(set: Dataset): boolean {
  return set.mask !== undefined || set.streamed?.masked === true;
}

/** The id of the example at an index (see Dataset.ids). */
export type ExampleIds = (index: number) => string;

/** The id of example `i` of a set: its source's id (a file path, a CSV row number), else its index. */
export function exampleId(set: Dataset, i: number): string {
  return set.ids === undefined ? String(i) : set.ids(i);
}

export interface DatasetParts {
  values: Uint8Array | Float32Array;
  shape: readonly number[];
  labels?: Int32Array | null;
  labelNames?: readonly string[] | null;
  featureNames?: readonly string[] | null;
  source: string;
  ids?: ExampleIds | undefined;
  text?: TextInfo | undefined;
  mask?: Uint8Array | undefined;
  series?: SeriesInfo | undefined;
}

/** Whether a shape is an image's ([height, width, channels]) rather than a feature vector's ([features]). */
export function isImageShape(shape: readonly number[]): boolean {
  return shape.length === 3;
}

/** A Dataset over arrays in memory (checked: sizes agree, labels within their names). */
export function arrayDataset(parts: DatasetParts): Dataset {
  return new ArrayDataset(parts);
}

class ArrayDataset implements Dataset {
  readonly count: number;
  readonly shape: readonly number[];
  readonly size: number;
  readonly values: Uint8Array | Float32Array;
  readonly labels: Int32Array | null;
  readonly labelNames: readonly string[] | null;
  readonly featureNames: readonly string[] | null;
  readonly source: string;
  readonly ids: ExampleIds | undefined;
  readonly text: TextInfo | undefined;
  readonly mask: Uint8Array | undefined;
  readonly series: SeriesInfo | undefined;

  constructor(p: DatasetParts) {
    if (p.shape.length !== 1 && p.shape.length !== 3) {
      throw new VaekitError(`${p.source}: an example must have the shape [height, width, channels] or [features], not [${p.shape.join(', ')}].`);
    }
    if (p.shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new VaekitError(`${p.source}: every dimension of an example must be a positive integer, not [${p.shape.join(', ')}].`);
    }
    this.shape = Object.freeze([...p.shape]);
    this.size = p.shape.reduce((a, b) => a * b, 1);
    if (p.values.length % this.size !== 0) {
      throw new VaekitError(`${p.source}: ${p.values.length} values do not split into examples of ${this.size}.`);
    }
    this.values = p.values;
    this.count = p.values.length / this.size;
    this.labels = p.labels ?? null;
    this.labelNames = p.labelNames === undefined || p.labelNames === null ? null : Object.freeze([...p.labelNames]);
    this.source = p.source;
    this.ids = p.ids;
    this.text = p.text;
    if (p.text !== undefined && (p.shape.length !== 1 || p.text.lengths.length !== this.count || p.text.texts.length !== this.count)) {
      throw new VaekitError(`${p.source}: text data needs one length and one text per example, and examples of shape [maxLength].`);
    }
    this.mask = p.mask;
    if (p.mask !== undefined && p.mask.length !== p.values.length) {
      throw new VaekitError(`${p.source}: a mask of ${p.mask.length} values for ${p.values.length} values.`);
    }
    this.series = p.series;
    if (p.series !== undefined) {
      const s = p.series;
      if (p.shape.length !== 1 || this.size !== s.window * s.channels.length || s.starts.length !== this.count || s.seriesIndex.length !== this.count) {
        throw new VaekitError(`${p.source}: series windows need one start and one series per example, and examples of shape [window * channels].`);
      }
    }
    this.featureNames = p.featureNames === undefined || p.featureNames === null ? null : Object.freeze([...p.featureNames]);
    if (this.featureNames !== null && (p.shape.length !== 1 || this.featureNames.length !== this.size)) {
      throw new VaekitError(`${p.source}: ${this.featureNames.length} feature names for examples of shape [${p.shape.join(', ')}].`);
    }
    if (this.labels !== null) {
      if (this.labels.length !== this.count) {
        throw new VaekitError(`${p.source} has ${this.labels.length} labels for ${this.count} examples.`);
      }
      const classes = this.labelNames?.length ?? Infinity;
      for (let i = 0; i < this.labels.length; i++) {
        const y = this.labels[i]!;
        if (y < 0 || y >= classes) throw new VaekitError(`${p.source}: label ${y} of example ${i} is not a class index from 0 to ${classes - 1}.`);
      }
    } else if (this.labelNames !== null) {
      throw new VaekitError(`${p.source} has class names but no labels.`);
    }
  }

  gather(order: Uint32Array | null, start: number, rows: number, out: Float32Array, backend: Backend = getBackend()): void {
    checkGather(this, order, start, rows, out);
    const size = this.size;
    if (this.values instanceof Uint8Array) {
      backend.gatherBytes(this.values, order, start, rows, size, 255, out);
      return;
    }
    const v = this.values;
    for (let r = 0; r < rows; r++) {
      const i = order === null ? start + r : order[start + r]!;
      out.set(v.subarray(i * size, (i + 1) * size), r * size);
    }
  }
}

/** Throws a RangeError when a gather's rows lie outside the set or its order, or `out` is too short for them. */
export function checkGather(set: Pick<Dataset, 'count' | 'size'>, order: Uint32Array | null, start: number, rows: number, out: Float32Array): void {
  const size = set.size;
  if (out.length < rows * size) {
    throw new RangeError(`gather: ${rows} examples of ${size} values need ${rows * size} values, but out has ${out.length}.`);
  }
  const available = order === null ? set.count : order.length;
  if (start < 0 || start + rows > available) {
    throw new RangeError(`gather: examples ${start}..${start + rows - 1} are out of range (0..${available - 1}).`);
  }
}

/** The examples at `indices`, copied (a streamed set's: a view), with their labels and ids; `source` names the result. */
export function subset(set: Dataset, indices: ArrayLike<number>, source = set.source): Dataset {
  const size = set.size;
  const labels = set.labels === null ? null : new Int32Array(indices.length);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r]!;
    if (!(i >= 0 && i < set.count)) throw new RangeError(`subset: index ${i} is out of range (0..${set.count - 1}).`);
    if (labels !== null) labels[r] = set.labels![i]!;
  }
  // Only the parent's ids are kept (not the parent itself, whose values the subset copied).
  const picked = Uint32Array.from(indices);
  const parentIds = set.ids;
  const ids: ExampleIds = (r) => (parentIds === undefined ? String(picked[r]) : parentIds(picked[r]!));
  if (set.values === null) return set.streamed!.select(picked, labels, source, ids);
  const values = set.values instanceof Uint8Array ? new Uint8Array(indices.length * size) : new Float32Array(indices.length * size);
  for (let r = 0; r < picked.length; r++) values.set(set.values.subarray(picked[r]! * size, (picked[r]! + 1) * size), r * size);
  const t = set.text;
  const text = t === undefined ? undefined : {
    vocabulary: t.vocabulary, cut: t.cut,
    lengths: Int32Array.from(picked, (i) => t.lengths[i]!), texts: t.texts.pick(picked),
  };
  let mask: Uint8Array | undefined;
  if (set.mask !== undefined) {
    mask = new Uint8Array(indices.length * size);
    for (let r = 0; r < picked.length; r++) mask.set(set.mask.subarray(picked[r]! * size, (picked[r]! + 1) * size), r * size);
  }
  const w = set.series;
  const series = w === undefined ? undefined : {
    ...w, starts: Int32Array.from(picked, (i) => w.starts[i]!), seriesIndex: Int32Array.from(picked, (i) => w.seriesIndex[i]!),
  };
  return arrayDataset({ values, shape: set.shape, labels, labelNames: set.labelNames, featureNames: set.featureNames, source, ids, text, mask, series });
}

/** The set with other labels and class names: the same examples, their values shared (a streamed set's: a view). */
export function relabel(set: Dataset, labels: Int32Array | null, labelNames: readonly string[] | null): Dataset {
  if (set.values === null) return set.streamed!.relabeled(labels, labelNames);
  return arrayDataset({
    values: set.values, shape: set.shape, labels, labelNames, featureNames: set.featureNames, source: set.source, ids: set.ids,
    text: set.text, mask: set.mask, series: set.series,
  });
}

/**
 * The values of a set held in memory, for `what` (a stage that reads them all at once); one sentence
 * when the set streams from disk.
 */
export function valuesInMemory(set: Dataset, what: string): Uint8Array | Float32Array {
  if (set.values === null) {
    throw new VaekitError(`${what} needs ${set.source} in memory, and it streams from disk because it is larger than the memory budget (data.memoryBudget): raise the budget or give fewer examples.`);
  }
  return set.values;
}

/**
 * Every example's stored values in order, chunk after chunk: an in-memory set's in one chunk, a
 * streamed set's as its threads read them (each chunk's values are reused by the next).
 */
export function* storedChunks(set: Dataset): Generator<StoredChunk> {
  if (set.values === null) yield* set.streamed!.chunks();
  else yield { values: set.values, rows: set.count, first: 0 };
}

/** The first n examples (n is clamped to the set's size), sharing the set's memory (a streamed set's: a view), with their ids. */
export function takeFirst(set: Dataset, n: number): Dataset {
  if (!Number.isInteger(n) || n < 0) {
    throw new VaekitError(`Cannot take the first ${n} examples: the number must be a whole number >= 0.`);
  }
  const count = Math.min(n, set.count);
  if (set.values === null) {
    const first = new Uint32Array(count);
    for (let i = 0; i < count; i++) first[i] = i;
    return set.streamed!.select(first, set.labels === null ? null : set.labels.slice(0, count), set.source, set.ids ?? String);
  }
  return arrayDataset({
    values: set.values.subarray(0, count * set.size),
    shape: set.shape,
    labels: set.labels === null ? null : set.labels.subarray(0, count),
    labelNames: set.labelNames,
    featureNames: set.featureNames,
    source: set.source,
    ids: set.ids,
    text: set.text === undefined ? undefined : { ...set.text, lengths: set.text.lengths.subarray(0, count), texts: set.text.texts.pick(Uint32Array.from({ length: count }, (_, i) => i)) },
    mask: set.mask?.subarray(0, count * set.size),
    series: set.series === undefined ? undefined : { ...set.series, starts: set.series.starts.subarray(0, count), seriesIndex: set.series.seriesIndex.subarray(0, count) },
  });
}

/** The number of classes of a labelled set: its names' count, else the largest label + 1; 0 when unlabelled. */
export function classCount(set: Dataset): number {
  if (set.labels === null) return 0;
  if (set.labelNames !== null) return set.labelNames.length;
  let max = -1;
  for (let i = 0; i < set.labels.length; i++) max = Math.max(max, set.labels[i]!);
  return max + 1;
}

/** The name of each class of a set: its labelNames, else "0" .. String(classCount - 1); [] when unlabelled. */
export function classNames(set: Dataset): readonly string[] {
  return set.labelNames ?? Array.from({ length: classCount(set) }, (_, i) => String(i));
}

/** "[28, 28, 1]"-style text of an example shape, in words: "28x28 greyscale images", "20 features". */
export function describeShape(shape: readonly number[], text = false): string {
  if (text) return `texts of up to ${shape[0]} tokens`;
  if (shape.length === 1) return `${shape[0]} features`;
  const [h, w, c] = shape as [number, number, number];
  return `${h}x${w} ${c === 1 ? 'greyscale' : c === 3 ? 'RGB' : `${c}-channel`} images`;
}
