/**
 * A run's data as files another engine reads (the torchrun trainer, src/export/pytorch/train.py):
 * the training and validation splits exactly as a vaekit run of the same spec sees them (planRun:
 * the same split, standardization and classes), cut into shards of float32 NPY rows in the PyTorch
 * model's input layout (images channels-first [N, C, H, W], features [N, D] standardized), int64
 * label shards where the data has classes, and index.json, which lists them. Written into a staging
 * folder and put in place whole, so an interrupted export leaves no half of one.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hasMask, isImageShape, type Dataset } from '../data/dataset.js';
import { VaekitError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { describeFsError } from '../io/fs-errors.js';
import { encodeNpy } from '../io/npy.js';
import { placeFolder, stagingFolder } from '../io/output.js';
import type { DataInfo } from './bundle-format.js';
import type { RunPlan } from './plan.js';

export const DATA_INDEX_FILE = 'index.json';
export const DATA_INDEX_FORMAT = 'vaekit-data';
export const DATA_INDEX_VERSION = 1;
/** Rows of a shard when the caller does not say how many shards (about 200 MB of 28x28 images)... */
const DEFAULT_SHARD_ROWS = 65536;
/** ...and at most this many bytes of float32 values: a shard is written, and read by a process, whole. */
const DEFAULT_SHARD_BYTES = 256 * 2 ** 20;

/** Rows of a shard of examples of `size` values when the caller does not say how many shards. */
export function defaultShardRows(size: number): number {
  return Math.max(1, Math.min(DEFAULT_SHARD_ROWS, Math.floor(DEFAULT_SHARD_BYTES / (4 * size))));
}

export interface DataShard {
  /** The NPY file of the rows, float32 [rows, ...shape]. */
  values: string;
  /** The NPY file of their class indices, int64 [rows], or null. */
  labels: string | null;
  rows: number;
}

export interface DataSplitIndex {
  rows: number;
  shards: DataShard[];
}

/** index.json of an exported data folder. */
export interface DataIndex {
  format: typeof DATA_INDEX_FORMAT;
  formatVersion: typeof DATA_INDEX_VERSION;
  /** One example's shape in the files: [C, H, W] for images (channels-first), [D] for features. */
  shape: number[];
  /** "NCHW" (images, values in [0, 1]) or "ND" (features, standardized with `data.standardization`). */
  layout: 'NCHW' | 'ND';
  /** One example's shape as vaekit keeps it ([H, W, C] for images). */
  vaekitShape: number[];
  /** Whether the shards have label files (class indices 0 .. data.classNames.length - 1). */
  labels: boolean;
  /** The seed of the run whose split this is. */
  seed: number;
  splits: { train: DataSplitIndex; validation: DataSplitIndex };
  /** The data description a bundle of this run keeps (class names, standardization, source). */
  data: DataInfo;
}

export interface ExportDataOptions {
  /** Shards of the training split (at least 1; the validation split gets as many, or one per row when it has fewer rows). */
  shards?: number;
  /** Replace a folder that holds an earlier data export (and nothing else). */
  overwrite: boolean;
}

/** The shard count of `rows` rows of `size` values: the given one, or one per defaultShardRows(size). */
export function shardCount(rows: number, size: number, shards: number | undefined): number {
  const n = shards ?? Math.max(1, Math.ceil(rows / defaultShardRows(size)));
  if (!Number.isInteger(n) || n < 1) throw new VaekitError(`The number of shards must be a whole number of at least 1, not ${n}.`);
  if (n > rows) throw new VaekitError(`The training split has ${rows} examples, too few for ${n} shards: ask for at most ${rows}.`);
  return n;
}

/** Values [rows, h, w, c] as [rows, c, h, w]. */
function channelsFirst(values: Float32Array, rows: number, [h, w, c]: readonly number[]): Float32Array {
  const out = new Float32Array(values.length);
  const plane = h! * w!;
  const size = plane * c!;
  for (let r = 0; r < rows; r++) {
    const base = r * size;
    for (let p = 0; p < plane; p++) {
      for (let ch = 0; ch < c!; ch++) out[base + ch * plane + p] = values[base + p * c! + ch]!;
    }
  }
  return out;
}

/** Writes one split's shards into `dir` (prefix-00000.npy, ...); returns its index entry. */
function writeSplit(set: Dataset, prefix: string, shards: number, dir: string): DataSplitIndex {
  const image = isImageShape(set.shape);
  const shape = image ? [set.shape[2]!, set.shape[0]!, set.shape[1]!] : [...set.shape];
  const entries: DataShard[] = [];
  const n = Math.min(shards, Math.max(set.count, 1));
  for (let s = 0; s < n && set.count > 0; s++) {
    const start = Math.floor((s * set.count) / n);
    const end = Math.floor(((s + 1) * set.count) / n);
    const rows = end - start;
    const gathered = new Float32Array(rows * set.size);
    set.gather(null, start, rows, gathered);
    const values = image ? channelsFirst(gathered, rows, set.shape) : gathered;
    const name = `${prefix}-${String(s).padStart(5, '0')}`;
    writeFileAtomic(join(dir, `${name}.npy`), encodeNpy({ dtype: 'float32', shape: [rows, ...shape], data: values }));
    let labels: string | null = null;
    if (set.labels !== null) {
      labels = `${name}-labels.npy`;
      writeFileAtomic(join(dir, labels), encodeNpy({ dtype: 'int64', shape: [rows], data: BigInt64Array.from(set.labels.subarray(start, end), BigInt) }));
    }
    entries.push({ values: `${name}.npy`, labels, rows });
  }
  return { rows: set.count, shards: entries };
}

/** Refuses the data export-data does not write: text, and time series windows (with their masks of missing values). */
export function checkExportable(train: Dataset): void {
  if (train.text !== undefined) throw new VaekitError('Text data is not exported: vaekit export-data writes image and table data.');
  if (train.series !== undefined || hasMask(train)) {
    throw new VaekitError('Time series windows (data.window) are not exported yet: vaekit export-data and the torchrun engine take image and table data.');
  }
}

/** Whether `name` is a file an earlier data export wrote. */
function isDataExportName(name: string): boolean {
  return name === DATA_INDEX_FILE || /^(train|validation)-\d{5}(-labels)?\.npy$/.test(name);
}

/**
 * Writes a planned run's training and validation data into the folder outDir (new or empty; with
 * options.overwrite, or holding an earlier data export) and returns its index. Refuses text runs and
 * time series, which the torchrun trainer does not read.
 */
export function exportRunData(plan: RunPlan, outDir: string, options: ExportDataOptions): DataIndex {
  const { train, test } = plan;
  checkExportable(train);
  const shards = shardCount(train.count, train.size, options.shards);
  const target = resolve(outDir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new VaekitError(`The output path ${outDir} exists and is not a folder.`);
    const entries = readdirSync(target);
    if (entries.length > 0 && !options.overwrite) throw new VaekitError(`${outDir} is not empty: allow overwriting to replace the data export it holds, or choose another folder.`);
    const foreign = entries.find((name) => !isDataExportName(name));
    if (foreign !== undefined) throw new VaekitError(`${outDir} holds ${foreign}, which is not part of a data export, so it is not replaced: choose another folder.`);
  }
  const image = isImageShape(train.shape);
  const staged = stagingFolder(target);
  rmSync(staged, { recursive: true, force: true });
  let index: DataIndex;
  try {
    mkdirSync(staged, { recursive: true });
    index = {
      format: DATA_INDEX_FORMAT,
      formatVersion: DATA_INDEX_VERSION,
      shape: image ? [train.shape[2]!, train.shape[0]!, train.shape[1]!] : [...train.shape],
      layout: image ? 'NCHW' : 'ND',
      vaekitShape: [...train.shape],
      labels: train.labels !== null,
      seed: plan.spec.seed,
      splits: { train: writeSplit(train, 'train', shards, staged), validation: writeSplit(test, 'validation', shards, staged) },
      data: plan.data,
    };
    writeFileAtomic(join(staged, DATA_INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);
  } catch (err) {
    rmSync(staged, { recursive: true, force: true });
    if (err instanceof VaekitError) throw err;
    throw new VaekitError(`Cannot write ${outDir}: ${describeFsError(err)}.`);
  }
  placeFolder(staged, target, outDir);
  return index;
}
