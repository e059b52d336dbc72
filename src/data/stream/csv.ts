/**
 * A CSV table larger than the memory budget: read once, a chunk at a time, as loadCsv reads it (the
 * same checks and messages), its rows' values written as float32 into a file that is removed as
 * soon as it is opened, so that nothing is left behind whatever ends the process, and each row's
 * digest kept (io/digest.ts); the streamed set reads its rows from there as from an NPY file's (rows.ts).
 */
import { bytesOf, digestRows, ROW_DIGEST_BYTES } from '../../io/digest.js';
import type { Dataset } from '../dataset.js';
import { readCsvInto, type TableParts } from '../sources/csv.js';
import { RowPool } from './pool.js';
import { Appender } from './scratch-file.js';
import { streamedDataset } from './streamed.js';
import { withRoom } from '../../io/grow.js';

/** A CSV table (see sources/csv.ts) streamed: its labels and ids in memory, its values on disk. */
export async function streamCsv(path: string, labelColumn: string | undefined): Promise<Dataset> {
  const file = new Appender('rows', path);
  // Every row's digest, kept as the rows are written (the table's width is known by then).
  let digests = new Uint8Array(1 << 16);
  let rows = 0;
  let width = 0;
  let table: TableParts;
  try {
    table = await readCsvInto(path, labelColumn, (values, features) => {
      const bytes = bytesOf(values);
      width = features;
      const n = values.length / features;
      digests = withRoom(digests, (rows + n) * ROW_DIGEST_BYTES);
      digestRows(bytes, features * 4, n, digests, rows);
      rows += n;
      file.append(bytes);
    });
    file.flush();
    if (rows !== table.count || width !== table.shape[0]) throw new Error(`streamCsv: ${rows} rows of ${width} written for ${table.count} of ${table.shape[0]}.`);
  } catch (err) {
    file.close();
    throw err;
  }
  // The pool owns the file from here: it closes it when it stops, or fails to start.
  const pool = await RowPool.start({ kind: 'npy', path, fd: file.fd, dataStart: 0, dtype: 'float32', swap: false, shape: table.shape }, path);
  pool.digests = digests.slice(0, rows * ROW_DIGEST_BYTES);
  return streamedDataset(pool, table);
}
