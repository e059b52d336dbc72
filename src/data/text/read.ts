/**
 * Text examples from files, each with an id and, where the data give one, a class label:
 *
 *   FILE.txt          one example per line; id: the line number (1-based, blank lines counted)
 *   FILE.csv / .tsv   one example per row, its text in the column `textColumn`, its class in
 *                     `labelColumn` when given; id: the data row (1-based, the header not counted)
 *   DIR               one example per .txt file, flat (unlabelled) or one subfolder per class, as an
 *                     image folder (src/data/sources/image-folder.ts); id: the file's path in DIR
 *
 * Every file must be UTF-8 (a byte-order mark is dropped); CRLF line ends read as LF. An example's
 * text is trimmed of white space at both ends; a blank example (a blank line, text cell or file) is
 * skipped and counted. An example of more than MAX_EXAMPLE_BYTES is refused, as is a corpus with
 * no text at all. Classes are named by their folder or label text, sorted as an image folder's and a
 * CSV table's are (numerically when every label is a number, else by code point).
 */
import { closeSync, statSync, type Stats } from 'node:fs';
import { extname, relative, sep } from 'node:path';
import { clip, VaekitError } from '../../errors.js';
import { describeFsError, openOrExplain, readFileOrExplain } from '../../io/fs-errors.js';
import { classesOf, columnIndex, parseQuotedChunks } from '../sources/csv.js';
import { byName, entries, type Entry } from '../sources/folder-entries.js';
import { decodeUtf8Text, utf8Chunks } from './utf8.js';
import { withRoom } from '../../io/grow.js';

/** The most UTF-8 bytes one example may hold: 1 MiB. */
export const MAX_EXAMPLE_BYTES = 1 << 20;

export interface TextCorpus extends CorpusParts {
  /** Each example's text, trimmed. */
  texts: string[];
  /** Which example each one is: its line, data row or file path (see the top of this file). */
  ids: string[];
}

/** What a corpus is besides its texts and ids. */
export interface CorpusParts {
  /** Each example's class index, or null when unlabelled. */
  labels: Int32Array | null;
  /** The name of each class index, or null. */
  labelNames: string[] | null;
  /** Where the examples came from, for messages. */
  source: string;
  /** Blank examples skipped (blank lines, text cells or files). */
  blank: number;
}

/**
 * Where a reader hands each example, in order: its text (trimmed, not blank) and its id (a line or
 * data row number, or a file's path in its folder).
 */
export type ExampleSink = (text: string, id: number | string) => void;

export interface TextDataOptions {
  /** CSV data: the column that holds each example's text. */
  textColumn?: string;
  /** CSV data: the column that holds each example's class. */
  labelColumn?: string;
  /** Bytes of a file read at once (a test reads in small pieces). */
  chunkBytes?: number;
}

/** Whether `path` names a table (.csv or .tsv) whose text is in a column, rather than lines of text. */
export function isTextTablePath(path: string): boolean {
  const ext = extname(path).toLowerCase();
  return ext === '.csv' || ext === '.tsv';
}

/** The examples at `path`: a folder of .txt files, a .csv or .tsv table, or a .txt file (see the top of this file). */
export async function readTextData(path: string, options: TextDataOptions = {}): Promise<TextCorpus> {
  const texts: string[] = [];
  const ids: string[] = [];
  const parts = await visitTextData(path, options, (text, id) => {
    texts.push(text);
    ids.push(String(id));
  });
  return { texts, ids, ...parts };
}

/**
 * Reads the examples at `path` one at a time into `sink`, a file a chunk at a time, so that a corpus
 * larger than memory can be read (data/stream/text.ts); readTextData keeps them.
 */
export async function visitTextData(path: string, options: TextDataOptions, sink: ExampleSink): Promise<CorpusParts> {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (err) {
    throw new VaekitError(`Cannot read the text data ${path}: ${describeFsError(err)}.`);
  }
  const table = !stats.isDirectory() && isTextTablePath(path);
  if (!table && options.textColumn !== undefined) throw new VaekitError(`data.textColumn applies to CSV data, not to ${path}.`);
  if (!table && options.labelColumn !== undefined) throw new VaekitError(`data.labelColumn applies to CSV data, not to ${path}.`);
  if (stats.isDirectory()) return visitTextFolder(path, sink);
  if (table) {
    if (options.textColumn === undefined) throw new VaekitError(`Give data.textColumn, the column of ${path} that holds the text.`);
    return visitTextCsv(path, options.textColumn, options.labelColumn, sink, options.chunkBytes);
  }
  if (extname(path).toLowerCase() === '.txt') return visitTextLines(path, sink, options.chunkBytes);
  throw new VaekitError(`${path} is not text data vaekit reads: give a .txt file (one example per line), a .csv file with data.textColumn, or a folder of .txt files.`);
}

/** Examples of a .txt file, one per line. */
export async function readTextLines(path: string): Promise<TextCorpus> {
  return readTextData(path);
}

/** Examples of a CSV table: the text in `textColumn`, the class in `labelColumn` when given. */
export async function readTextCsv(path: string, textColumn: string, labelColumn?: string): Promise<TextCorpus> {
  return readTextData(path, { textColumn, ...(labelColumn !== undefined ? { labelColumn } : {}) });
}

/** Examples of a folder of .txt files: flat (unlabelled), or one subfolder per class. */
export async function readTextFolder(dir: string): Promise<TextCorpus> {
  const texts: string[] = [];
  const ids: string[] = [];
  const parts = await visitTextFolder(dir, (text, id) => {
    texts.push(text);
    ids.push(String(id));
  });
  return { texts, ids, ...parts };
}

/** The lines of a .txt file into `sink`, the file read `chunkBytes` at a time. */
async function visitTextLines(path: string, sink: ExampleSink, chunkBytes?: number): Promise<CorpusParts> {
  const fd = openOrExplain(path, 'text file');
  let line = 0;
  let examples = 0;
  let blank = 0;
  const take = (raw: string): void => {
    line++;
    checkLength(raw, () => `Line ${line} of ${path}`);
    const text = raw.trim(); // also drops a CRLF's CR
    if (text === '') blank++;
    else {
      sink(text, line);
      examples++;
    }
  };
  try {
    let rest = '';
    for (const text of utf8Chunks(fd, path, chunkBytes)) {
      const all = rest + text;
      let start = 0;
      for (let end = all.indexOf('\n'); end >= 0; end = all.indexOf('\n', start)) {
        take(all.slice(start, end));
        start = end + 1;
      }
      rest = all.slice(start);
      // A line cut by a chunk's end grows no further than this before it is refused.
      if (rest.length > 4 * MAX_EXAMPLE_BYTES) {
        throw new VaekitError(`Line ${line + 1} of ${path} is longer than ${(4 * MAX_EXAMPLE_BYTES).toLocaleString('en-US')} bytes, and vaekit takes at most ${MAX_EXAMPLE_BYTES.toLocaleString('en-US')} (1 MiB) for one example; split it into shorter examples.`);
      }
    }
    if (rest !== '') take(rest); // a last line without its newline
  } finally {
    closeSync(fd);
  }
  if (examples === 0) throw new VaekitError(`${path} holds no text (${line === 0 ? 'it is empty' : 'every line is blank'}); give one example per line.`);
  return { labels: null, labelNames: null, source: path, blank };
}

/** The rows of a CSV table into `sink`: the text in `textColumn`, the class in `labelColumn` when given. */
async function visitTextCsv(path: string, textColumn: string, labelColumn: string | undefined, sink: ExampleSink, chunkBytes?: number): Promise<CorpusParts> {
  const delimiter = extname(path).toLowerCase() === '.tsv' ? '\t' : ',';
  let names: string[] | null = null;
  let textIndex = -1;
  let labelIndex = -1;
  let row = 0;
  let blank = 0;
  let examples = 0;
  const labelCells = new LabelCells();
  const visit = (cells: string[], line: number): void => {
    if (names === null) {
      names = cells.map((name) => name.trim());
      textIndex = columnIndex(names, textColumn, 'text', path);
      if (labelColumn !== undefined) labelIndex = columnIndex(names, labelColumn, 'labels', path);
      if (labelIndex === textIndex) throw new VaekitError(`${path}: the text and the labels cannot both be the column "${clip(textColumn)}".`);
      return;
    }
    row++;
    if (cells.length !== names.length) {
      throw new VaekitError(`${path}: row ${row} (line ${line}) has ${cells.length} cells but the header names ${names.length} columns.`);
    }
    const text = cells[textIndex]!;
    checkLength(text, () => `The text of row ${row} (line ${line}) of ${path}`);
    if (text.trim() === '') {
      blank++;
      return;
    }
    if (labelIndex >= 0) {
      const label = cells[labelIndex]!.trim();
      if (label === '') throw new VaekitError(`${path}: row ${row} (line ${line}) has text but no label in the column "${clip(labelColumn!)}"; give every example a label, or drop the row.`);
      labelCells.add(label);
    }
    sink(text.trim(), row);
    examples++;
  };
  const fd = openOrExplain(path, 'CSV file');
  try {
    await parseQuotedChunks(utf8Chunks(fd, path, chunkBytes), path, delimiter, visit);
  } finally {
    closeSync(fd);
  }
  if (names === null) throw new VaekitError(`${path} is empty; a CSV file needs a header row of column names and at least one row of text.`);
  if (row === 0) throw new VaekitError(`${path} has a header row but no data rows.`);
  if (examples === 0) throw new VaekitError(`${path} holds no text: the column "${clip(textColumn)}" is blank in every row.`);
  const classes = labelIndex >= 0 ? labelCells.classes() : { labels: null, labelNames: null };
  return { ...classes, source: path, blank };
}

/**
 * Each example's label cell, kept as an index into the distinct cells (a corpus's labels in
 * memory without a string per example), made classes as classesOf makes them of every cell.
 */
class LabelCells {
  private readonly distinct = new Map<string, number>();
  private indices = new Int32Array(1024);
  private count = 0;

  add(cell: string): void {
    let k = this.distinct.get(cell);
    if (k === undefined) this.distinct.set(cell, (k = this.distinct.size));
    this.indices = withRoom(this.indices, this.count + 1);
    this.indices[this.count++] = k;
  }

  classes(): { labels: Int32Array; labelNames: string[] } {
    const { labels: ofDistinct, labelNames } = classesOf([...this.distinct.keys()]);
    return { labels: Int32Array.from(this.indices.subarray(0, this.count), (k) => ofDistinct[k]!), labelNames };
  }
}

/** The examples of a folder of .txt files into `sink`: flat (unlabelled), or one subfolder per class. */
async function visitTextFolder(dir: string, sink: ExampleSink): Promise<CorpusParts> {
  let stats: Stats;
  try {
    stats = statSync(dir);
  } catch (err) {
    throw new VaekitError(`Cannot read the text folder ${dir}: ${describeFsError(err).replace('file', 'folder')}.`);
  }
  if (!stats.isDirectory()) throw new VaekitError(`${dir} is not a folder; pass a folder of .txt files, or of one subfolder of .txt files per class.`);
  const top = entries(dir, 'text');
  const folders = top.filter((e) => e.stats.isDirectory());
  const files = textFilesOf(top.filter((e) => !e.stats.isDirectory()));
  if (folders.length > 0 && files.length > 0) {
    throw new VaekitError(
      `${dir} holds both .txt files (${relative(dir, files[0]!)}) and subfolders (${folders[0]!.name}); put every file in a class subfolder, or remove the subfolders for an unlabelled folder.`,
    );
  }
  let blank = 0;
  /** Adds the examples of `paths`; returns how many were not blank. */
  const add = (paths: string[]): number => {
    let added = 0;
    for (const path of paths) {
      const text = decodeUtf8Text(readFileOrExplain(path, 'text example', MAX_EXAMPLE_BYTES), path).trim();
      if (text === '') {
        blank++;
        continue;
      }
      sink(text, relative(dir, path).split(sep).join('/'));
      added++;
    }
    return added;
  };
  if (folders.length === 0) {
    if (files.length === 0) throw new VaekitError(`${dir} holds no .txt files and no class subfolders of .txt files.`);
    if (add(files) === 0) throw new VaekitError(`${dir} holds no text: every .txt file in it is blank.`);
    return { labels: null, labelNames: null, source: dir, blank };
  }
  const labels: number[] = [];
  folders.forEach((folder, k) => {
    const found = textFilesBelow(folder.path);
    if (found.length === 0) throw new VaekitError(`The class folder ${folder.path} holds no .txt files; add some or remove the folder.`);
    const added = add(found);
    if (added === 0) throw new VaekitError(`The class folder ${folder.path} holds no text: every .txt file in it is blank.`);
    for (let i = 0; i < added; i++) labels.push(k);
  });
  return { labels: Int32Array.from(labels), labelNames: folders.map((f) => f.name), source: dir, blank };
}

/** Refuses an example of more than MAX_EXAMPLE_BYTES; `place` names it ("Line 3 of data.txt"). */
function checkLength(text: string, place: () => string): void {
  if (text.length * 3 <= MAX_EXAMPLE_BYTES) return; // a UTF-16 unit is at most 3 UTF-8 bytes
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_EXAMPLE_BYTES) {
    throw new VaekitError(`${place()} holds ${bytes.toLocaleString('en-US')} bytes, more than the ${MAX_EXAMPLE_BYTES.toLocaleString('en-US')} (1 MiB) vaekit takes for one example; split it into shorter examples.`);
  }
}

/** The paths of `files`, each of which must be a .txt file. */
function textFilesOf(files: Entry[]): string[] {
  return files.map((e) => {
    if (extname(e.name).toLowerCase() !== '.txt') throw new VaekitError(`${e.path} is not a .txt file; remove it or move it out of the text folder.`);
    return e.path;
  });
}

/** Every .txt file below a class folder, sorted by path. */
function textFilesBelow(folder: string): string[] {
  const found = entries(folder, 'text');
  const below = found.filter((e) => e.stats.isDirectory()).flatMap((e) => textFilesBelow(e.path));
  return [...textFilesOf(found.filter((e) => !e.stats.isDirectory())), ...below].sort(byName);
}
