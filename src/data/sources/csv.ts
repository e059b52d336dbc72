/**
 * A Dataset from a CSV table: a header row naming the columns, then one example per row. Every cell
 * outside the label column is a number (decimal or scientific notation), stored as float32; the
 * example shape is [features]. The optional label column may hold numbers or text: its distinct
 * values are the classes, named by their text and sorted (numerically when every value is a number).
 *
 * Files with a double quote anywhere are read by csv-parse (quoted fields, delimiters and newlines
 * inside quotes); files without one, the usual numeric export, are split at newlines and delimiters
 * directly, which gives the same records more than twice as fast. Each record is converted as it is
 * read, so no table of strings is kept. A ".tsv" file is tab-separated, any other comma-separated.
 * Blank lines are skipped, a UTF-8 byte-order mark is ignored, and so are spaces around a cell.
 */
import { extname } from 'node:path';
import { closeSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseStream } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { clip, VaekitError } from '../../errors.js';
import { openOrExplain, readFileOrExplain } from '../../io/fs-errors.js';
import { arrayDataset, type Dataset } from '../dataset.js';
import { withRoom } from '../../io/grow.js';

export interface CsvOptions {
  /** The name of the column that holds each row's class (numbers or text); the other columns are features. */
  labelColumn?: string;
}

/** Receives each record's cells and the line of the file it ends on, the header first. */
export type RecordVisitor = (cells: string[], line: number) => void;

/** A cell that holds a number: decimal or scientific notation, spaces around it allowed. */
export const NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
/** A cell that marks a missing value: NaN, NA, N/A, null, None or ?, in any case (an empty cell is missing too). */
export const MISSING = /^\s*(?:nan|na|n\/a|null|none|\?)\s*$/i;

/** Loads a CSV table of numbers (and, with `labelColumn`, the column of each row's class). */
export function loadCsv(path: string, options: CsvOptions = {}): Dataset {
  const table = new TableBuilder(path, options.labelColumn);
  visitCsvFile(path, table.add);
  const { values, count: _count, ...parts } = table.finish();
  return arrayDataset({ values: values!, ...parts });
}

/**
 * Reads a CSV table as loadCsv does, but a chunk of the file at a time, handing its rows' values
 * (float32, row after row) to `sink` every few megabytes instead of keeping them: the table's
 * parts but its values (a streamed CSV's, data/stream/csv.ts).
 */
export async function readCsvInto(path: string, labelColumn: string | undefined, sink: (values: Float32Array, features: number) => void): Promise<TableParts> {
  const table = new TableBuilder(path, labelColumn, sink);
  await visitCsvChunks(path, table.add);
  return table.finish();
}

/** Bytes of a file read at once by visitCsvChunks. */
const CHUNK_BYTES = 4 << 20;

/** visitCsvFile's records, the file read `chunkBytes` at a time (the same records and line numbers). */
export async function visitCsvChunks(path: string, visit: RecordVisitor, chunkBytes = CHUNK_BYTES): Promise<void> {
  const delimiter = extname(path).toLowerCase() === '.tsv' ? '\t' : ',';
  const fd = openOrExplain(path, 'CSV file');
  try {
    const chunk = Buffer.allocUnsafe(chunkBytes);
    // As visitCsvFile: a file with a double quote anywhere is read by csv-parse.
    let quoted = false;
    for (let at = 0, n = -1; n !== 0 && !quoted; at += n) {
      n = readSync(fd, chunk, 0, chunk.length, at);
      quoted = chunk.subarray(0, n).includes(0x22);
    }
    const decoder = new StringDecoder('utf8');
    let first = true;
    const texts = function* (): Generator<string> {
      for (let at = 0, n = -1; n !== 0; at += n) {
        n = readSync(fd, chunk, 0, chunk.length, at);
        let text = n === 0 ? decoder.end() : decoder.write(chunk.subarray(0, n));
        if (first && text.length > 0) {
          if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
          first = false;
        }
        yield text;
      }
    };
    if (quoted) await parseQuotedChunks(texts(), path, delimiter, visit);
    else splitPlainChunks(texts(), delimiter, visit);
  } finally {
    closeSync(fd);
  }
}

/** splitPlain over text that comes in chunks: a line cut by a chunk's end is joined to the next chunk's start. */
function splitPlainChunks(texts: Iterable<string>, delimiter: string, visit: RecordVisitor): void {
  let line = 1;
  let rest = '';
  for (const text of texts) {
    const all = rest + text;
    const last = all.lastIndexOf('\n');
    if (last < 0) {
      rest = all;
      continue;
    }
    const before = line - 1;
    splitPlain(all.slice(0, last + 1), delimiter, (cells, at) => visit(cells, before + at), () => { line++; });
    rest = all.slice(last + 1);
  }
  const before = line - 1;
  if (rest.length > 0) splitPlain(rest, delimiter, (cells, at) => visit(cells, before + at));
}

/** parseQuoted over text that comes in chunks, by csv-parse's streaming parser with the same options. */
export async function parseQuotedChunks(texts: Iterable<string>, path: string, delimiter: string, visit: RecordVisitor): Promise<void> {
  let failed: unknown = null;
  const parser = parseStream({
    delimiter, relax_column_count: true, skip_empty_lines: true, trim: true,
    on_record: (record: string[], context) => {
      if (failed === null) {
        try {
          visit(record, context.lines);
        } catch (err) {
          failed = err;
        }
      }
      return null;
    },
  });
  const done = new Promise<void>((resolve, reject) => {
    parser.on('error', reject);
    parser.on('end', resolve);
    parser.resume();
  });
  try {
    for (const text of texts) {
      parser.write(text);
      if (failed !== null) break;
    }
    parser.end();
    await done;
  } catch (err) {
    if (err instanceof VaekitError) throw err;
    throw new VaekitError(`${path} is not valid CSV (${err instanceof Error ? err.message : String(err)}).`);
  }
  if (failed !== null) throw failed;
}

/** Visits the records of a CSV file (a TSV file when its name ends in .tsv), the header first, as the top of this file says. */
export function visitCsvFile(path: string, visit: RecordVisitor): void {
  let text = readFileOrExplain(path, 'CSV file').toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const delimiter = extname(path).toLowerCase() === '.tsv' ? '\t' : ',';
  if (text.includes('"')) parseQuoted(text, path, delimiter, visit);
  else splitPlain(text, delimiter, visit);
}

/** Visits the records of a file without quotes: each non-empty line split at the delimiter; `onLine` hears every line. */
function splitPlain(text: string, delimiter: string, visit: RecordVisitor, onLine?: () => void): void {
  for (let start = 0, line = 1; start < text.length; line++) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    const cut = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end; // CRLF
    if (cut > start) visit(text.slice(start, cut).split(delimiter), line);
    onLine?.();
    start = end + 1;
  }
}

/** Visits the records of a file with quoted fields, read by csv-parse. */
export function parseQuoted(text: string, path: string, delimiter: string, visit: RecordVisitor): void {
  try {
    parse(text, {
      delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      on_record: (record: string[], context) => {
        visit(record, context.lines);
        return null;
      },
    });
  } catch (err) {
    if (err instanceof VaekitError) throw err;
    throw new VaekitError(`${path} is not valid CSV (${err instanceof Error ? err.message : String(err)}).`);
  }
}

/** Builds the Dataset record by record: the header's names, then each row's numbers and label. */
class TableBuilder {
  private names: string[] | null = null;
  private labelIndex = -1;
  private rows = 0;
  private values: Float32Array = new Float32Array(1 << 16);
  private filled = 0;
  private readonly labelCells: string[] = [];

  /** `sink`: receives the values every few megabytes, instead of the builder keeping them all. */
  constructor(
    private readonly path: string,
    private readonly labelColumn: string | undefined,
    private readonly sink?: (values: Float32Array, features: number) => void,
  ) {}

  readonly add = (cells: string[], line: number): void => {
    if (this.names === null) {
      this.names = columnNames(cells, this.path);
      if (this.labelColumn !== undefined) this.labelIndex = columnIndex(this.names, this.labelColumn, 'labels', this.path);
      if (this.labelIndex >= 0 && this.names.length === 1) {
        throw new VaekitError(`${this.path} has no feature columns besides the label column "${this.labelColumn}".`);
      }
      return;
    }
    const { names, path } = this;
    const row = ++this.rows;
    if (cells.length !== names.length) {
      throw new VaekitError(`${path}: row ${row} (line ${line}) has ${cells.length} cells but the header names ${names.length} columns.`);
    }
    if (this.filled + names.length > this.values.length) {
      if (this.sink === undefined || this.filled === 0) this.values = withRoom(this.values, this.filled + names.length);
      else {
        this.sink(this.values.subarray(0, this.filled), this.features());
        this.filled = 0;
      }
    }
    for (let j = 0; j < cells.length; j++) {
      const cell = cells[j]!;
      if (j === this.labelIndex || !NUMBER.test(cell)) {
        if (cell.trim() === '') throw new VaekitError(`${this.place(row, line, j)} is empty; every cell must hold a value, so fill or drop missing values.`);
        if (j === this.labelIndex) {
          this.labelCells.push(cell.trim());
          continue;
        }
        throw new VaekitError(
          MISSING.test(cell)
            ? `${this.place(row, line, j)} holds "${clip(cell.trim())}", a missing value; fill or drop missing values first.`
            : `${this.place(row, line, j)}: "${clip(cell.trim())}" is not a number${this.labelColumn === undefined ? ` (if the column holds the labels, give data.labelColumn ${clip(this.names![j]!)})` : ''}.`,
        );
      }
      this.values[this.filled] = Number(cell);
      if (!Number.isFinite(this.values[this.filled++]!)) throw new VaekitError(`${this.place(row, line, j)}: ${clip(cell.trim())} is too large for a float32 number.`);
    }
  };

  /** Values per row: the columns but the label's. */
  private features(): number {
    return this.names!.length - (this.labelIndex >= 0 ? 1 : 0);
  }

  /** "data.csv: row 12 (line 13), column "x3"". */
  private place(row: number, line: number, column: number): string {
    return `${this.path}: row ${row} (line ${line}), column "${clip(this.names![column]!)}"`;
  }

  /** The table's parts; its values too, unless a sink took them (the rest handed to it now). */
  finish(): TableParts {
    const { path } = this;
    if (this.names === null) {
      throw new VaekitError(`${path} is empty; a CSV file needs a header row of column names and at least one row of values.`);
    }
    if (this.rows === 0) throw new VaekitError(`${path} has a header row but no data rows.`);
    const features = this.features();
    let values: Float32Array | null = this.values.slice(0, this.filled);
    if (this.sink !== undefined) {
      this.sink(values, features);
      values = null;
    }
    const featureNames = this.names.filter((_, j) => j !== this.labelIndex);
    // An example's id is its data row, 1-based, as in the messages above (the header and blank lines not counted).
    const ids = (i: number): string => String(i + 1);
    const classes = this.labelIndex < 0 ? { labels: null, labelNames: null } : classesOf(this.labelCells);
    return { values, count: this.rows, shape: [features], featureNames, ...classes, source: path, ids };
  }
}

/** A CSV table read: its examples' values (null where a sink took them) and the rest of a Dataset's parts. */
export interface TableParts {
  values: Float32Array | null;
  count: number;
  shape: number[];
  featureNames: string[];
  labels: Int32Array | null;
  labelNames: string[] | null;
  source: string;
  ids: (i: number) => string;
}

/** The header's column names, trimmed; refuses an unnamed or twice-named column, and a first row of numbers. */
export function columnNames(header: string[], path: string): string[] {
  const names = header.map((name) => name.trim());
  const seen = new Map<string, number>();
  names.forEach((name, j) => {
    if (name === '') {
      const pandasIndex = j === 0 ? ' (an unnamed pandas index? write the file with index=False)' : '';
      throw new VaekitError(`${path}: column ${j + 1} of the header has no name${pandasIndex}; name every column in the header row.`);
    }
    const first = seen.get(name);
    if (first !== undefined) {
      throw new VaekitError(`${path}: the header names the column "${clip(name)}" twice (columns ${first + 1} and ${j + 1}); give every column its own name.`);
    }
    seen.set(name, j);
  });
  // pandas names the columns of a bare array 0, 1, 2, ...: names, although numbers.
  const counting = names.every((name, j) => name === String(j)) || names.every((name, j) => name === String(j + 1));
  if (!counting && names.every((name) => NUMBER.test(name))) {
    throw new VaekitError(`${path}: the first row holds numbers (${clip(names.slice(0, 3).join(', '))}, ...), not column names; add a header row that names each column.`);
  }
  return names;
}

/** The index of the column named `column`, which holds the `holds` ("labels", "text"); refuses a name the header lacks or names twice. */
export function columnIndex(names: readonly string[], column: string, holds: string, path: string): number {
  const index = names.indexOf(column.trim());
  if (index < 0) {
    const shown = names.length > 20 ? `${clip(names.slice(0, 20).join(', '), 200)} and ${names.length - 20} more` : clip(names.join(', '), 200);
    throw new VaekitError(`${path} has no column "${clip(column)}" for the ${holds} (its columns: ${shown}).`);
  }
  if (names.lastIndexOf(column.trim()) !== index) {
    throw new VaekitError(`${path}: the header names the column "${clip(column)}" twice (columns ${index + 1} and ${names.lastIndexOf(column.trim()) + 1}); give every column its own name.`);
  }
  return index;
}

/** Class indices of the label cells; classes are the distinct values, sorted numerically when all are numbers. */
export function classesOf(cells: string[]): { labels: Int32Array; labelNames: string[] } {
  const numeric = cells.every((cell) => NUMBER.test(cell));
  const keys = numeric ? cells.map((cell) => String(Number(cell))) : cells;
  const labelNames = [...new Set(keys)];
  if (numeric) labelNames.sort((a, b) => Number(a) - Number(b));
  else labelNames.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(labelNames.map((name, k) => [name, k]));
  return { labels: Int32Array.from(keys, (key) => index.get(key)!), labelNames };
}
