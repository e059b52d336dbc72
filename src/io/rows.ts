/**
 * Writing per-example results (denoised examples, latent codes) in the format the file name asks for:
 *   .npy   float32 [count, ...shape]; labels, when given, beside it as NAME.labels.npy (int32)
 *   .csv   a header of column names, one row per example, an "id" column first (which example the row
 *          is) and a "label" column with class names when given
 *   .idx   uint8 images [count, height, width(, channels)] (values in [0, 1]; images only)
 * Every file is written atomically; the labels file first, so a failure leaves no lone result.
 */
import { extname } from 'node:path';
import { VaekitError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { encodeIdx } from './idx.js';
import { encodeNpy } from './npy.js';

export interface Rows {
  /** count * prod(shape) values, example after example. */
  values: Float32Array;
  count: number;
  /** Shape of one row's values. */
  shape: readonly number[];
  /** CSV column names (default x0, x1, ...). */
  columns?: readonly string[];
  labels?: Int32Array | null;
  labelNames?: readonly string[] | null;
  /** Which example each row is (CSV: the first column, "id"; NPY and IDX keep the rows' order only). */
  ids?: ((row: number) => string) | null;
}

export type RowsFormat = 'npy' | 'csv' | 'idx';

/** The format a file name asks for, or a one-sentence error. */
export function rowsFormat(path: string, allowed: readonly RowsFormat[]): RowsFormat {
  const ext = extname(path).toLowerCase().slice(1);
  if ((allowed as readonly string[]).includes(ext)) return ext as RowsFormat;
  throw new VaekitError(`Cannot write ${path}: its name must end in ${allowed.map((f) => `.${f}`).join(' or ')}.`);
}

/** Where the labels of rows written as NAME.npy go: NAME.labels.npy. */
export function labelsFileOf(path: string): string {
  return `${path.slice(0, -'.npy'.length)}.labels.npy`;
}

/** The files written (the main file last). */
export function writeRows(path: string, rows: Rows, allowed: readonly RowsFormat[] = ['npy', 'csv', 'idx']): string[] {
  const format = rowsFormat(path, allowed);
  const size = rows.shape.reduce((a, b) => a * b, 1);
  if (rows.values.length !== rows.count * size) throw new RangeError(`writeRows: ${rows.count} rows of ${size} need ${rows.count * size} values, not ${rows.values.length}.`);
  const labels = rows.labels ?? null;
  if (format === 'npy') {
    const written: string[] = [];
    if (labels !== null) {
      const labelsPath = labelsFileOf(path);
      writeFileAtomic(labelsPath, encodeNpy({ dtype: 'int32', shape: [rows.count], data: labels }));
      written.push(labelsPath);
    }
    writeFileAtomic(path, encodeNpy({ dtype: 'float32', shape: [rows.count, ...rows.shape], data: rows.values }));
    return [...written, path];
  }
  if (format === 'idx') {
    if (rows.shape.length !== 3) throw new VaekitError(`Cannot write ${path}: IDX holds images, and these rows are ${size} features; use .npy or .csv.`);
    const [h, w, c] = rows.shape as [number, number, number];
    writeFileAtomic(path, encodeIdx({ dtype: 'uint8', shape: c === 1 ? [rows.count, h, w] : [rows.count, h, w, c], data: toBytes(rows.values) }));
    return [path];
  }
  const columns = rows.columns ?? Array.from({ length: size }, (_, j) => `x${j}`);
  if (columns.length !== size) throw new RangeError(`writeRows: ${columns.length} column names for ${size} values.`);
  const ids = rows.ids ?? null;
  const lines = [[...(ids !== null ? ['id'] : []), ...columns, ...(labels !== null ? ['label'] : [])].map(csvCell).join(',')];
  for (let r = 0; r < rows.count; r++) {
    const cells: string[] = ids !== null ? [csvCell(ids(r))] : [];
    for (let j = 0; j < size; j++) cells.push(shortestFloat32(rows.values[r * size + j]!));
    if (labels !== null) cells.push(csvCell(rows.labelNames?.[labels[r]!] ?? String(labels[r])));
    lines.push(cells.join(','));
  }
  writeFileAtomic(path, `${lines.join('\n')}\n`);
  return [path];
}

/** The shortest decimal that reads back as the same float32. */
export function shortestFloat32(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  for (let p = 1; p < 9; p++) {
    const text = v.toPrecision(p);
    if (Math.fround(Number(text)) === v) return String(Number(text));
  }
  return String(Number(v.toPrecision(9)));
}

/** A CSV cell: quoted when it holds a comma, a quote or a line break. */
export function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Bytes from floats in [0,1] (rounded, clipped; NaN becomes 0): the inverse of a batch's byte-to-float scaling. */
export function toBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
  }
  return out;
}
