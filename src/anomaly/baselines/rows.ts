/**
 * The data every baseline takes: rows [n, d] in one row-major array (a table's rows, flattened
 * images, or a series' time steps [T, C]).
 */
import type { Dataset } from '../../data/dataset.js';
import { VaekitError } from '../../errors.js';

export type FloatRows = Float32Array | Float64Array;

/** The number of rows in `rows` of `columns` numbers each, after checking the shape and that every number is finite. */
export function rowCount(rows: FloatRows, columns: number, what: string): number {
  if (!Number.isInteger(columns) || columns < 1) throw new VaekitError(`The ${what} must have a whole number of columns >= 1, not ${columns}.`);
  if (rows.length % columns !== 0) throw new VaekitError(`The ${what} hold ${rows.length} numbers, which is not a whole number of rows of ${columns}.`);
  for (let i = 0; i < rows.length; i++) {
    if (!Number.isFinite(rows[i]!)) throw new VaekitError(`The ${what} have a value that is not a finite number (${rows[i]}) in row ${Math.floor(i / columns)}, column ${i % columns}.`);
  }
  return rows.length / columns;
}

/** A dataset's examples as rows [count, size] in the units a model takes them (pixel values in [0, 1], a table's values as stored). */
export function datasetRows(set: Dataset): Float32Array {
  const rows = new Float32Array(set.count * set.size);
  set.gather(null, 0, set.count, rows);
  return rows;
}
