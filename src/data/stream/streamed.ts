/**
 * A Dataset whose values stay on disk: a source larger than the memory budget (load.ts) is read row
 * by row by threads (pool.ts) ahead of the batches that ask for them, in the batches' own order. A
 * streamed set gives what the same data loaded in memory gives, bit for bit: the same rows (the
 * readers decode and check as the loaders do), the same order (gather takes any order, as an
 * in-memory set's does), the same floats (bytes / 255 by the backend's gatherBytes; standardized by
 * the one formula, standardizeRows).
 *
 * Subsets (a validation split, data.limit, one class) and standardization are views: a map into
 * the source's rows, labels, ids and the statistics, sharing the reading threads.
 */
import type { Backend } from '../../engine/backend.js';
import { getBackend } from '../../engine/index.js';
import { checkGather, RowlessSet, type Dataset, type ExampleIds, type RowlessParts, type StoredChunk, type StreamedRows } from '../dataset.js';
import { standardizeRows, type Standardization } from '../transforms/standardize.js';
import { RowPool, type Cursor, type RowPlan } from './pool.js';
import { bytesOf, digestRows, ROW_DIGEST_BYTES } from '../../io/digest.js';

/** Rows per chunk of a pass over every row (fingerprint, statistics, the check at loading): about 4 MB. */
const PASS_BYTES = 4 << 20;
/**
 * A gather of more bytes than this reads its rows in pieces of this size. Far above a batch (128
 * images of 512x512 RGB take 100 MB), whose pieces would not line up from batch to batch, and so
 * would be read anew instead of ahead; a bulk read (export-data's shards of at most 256 MiB of floats)
 * is cut.
 */
const PIECE_BYTES = 256 << 20;
/** Cursors kept per set: training and validation passes, or a second batcher (aggressive training), each keep their own. */
const CURSORS = 2;

/** A set over a pool's rows, all of them in stored order. */
export function streamedDataset(pool: RowPool, parts: RowlessParts): Dataset {
  return new StreamedSet(pool, null, null, parts);
}

/**
 * A set over every row of a pool that has just started, read through once, each row's digest kept
 * for the fingerprint (pool.digests): a reader's check of every value stops the command here
 * rather than in a later epoch. On a failure the pool is closed.
 */
export async function openedDataset(pool: RowPool, parts: RowlessParts): Promise<Dataset> {
  const set = streamedDataset(pool, parts);
  try {
    pool.digests = set.streamed!.digests(); // the pool has none yet: every row read
  } catch (err) {
    await pool.close();
    throw err;
  }
  return set;
}

/** `map` picks the pool's rows (null: all, in stored order); `stats` standardizes them. */
class StreamedSet extends RowlessSet implements Dataset, StreamedRows {
  readonly storedType: 'uint8' | 'float32';
  readonly masked = false;
  private readonly cursors: Cursor[] = [];
  private scratch: Float32Array | null = null;

  constructor(private readonly pool: RowPool, private readonly map: Uint32Array | null, private readonly stats: Standardization | null, parts: RowlessParts) {
    super(parts);
    this.storedType = stats !== null ? 'float32' : pool.storedType;
  }

  get streamed(): StreamedRows {
    return this;
  }

  gatherMask(): void {
    throw new Error(`${this.source} has no mask.`);
  }

  select(indices: Uint32Array, labels: Int32Array | null, source: string, ids: ExampleIds): Dataset {
    const map = this.map === null ? indices : Uint32Array.from(indices, (i) => this.map![i]!);
    const t = this.text;
    const text = t === undefined ? undefined : { ...t, lengths: Int32Array.from(indices, (i) => t.lengths[i]!), texts: t.texts.pick(indices) };
    return new StreamedSet(this.pool, map, this.stats, { ...this.parts(), count: indices.length, labels, source, ids, text });
  }

  standardized(stats: Standardization): Dataset {
    if (this.stats !== null) throw new Error(`${this.source} is standardized already.`);
    return new StreamedSet(this.pool, this.map, stats, this.parts());
  }

  relabeled(labels: Int32Array | null, labelNames: readonly string[] | null): Dataset {
    return new StreamedSet(this.pool, this.map, this.stats, { ...this.parts(), labels, labelNames });
  }

  /** The cursor that reads rows start.. of `plan` next, else the one used longest ago, started anew. */
  private cursorFor(plan: RowPlan, start: number, rows: number, chunkRows: number): Cursor {
    let at = this.cursors.findIndex((c) => c.chunkRows >= rows && c.follows(plan, start, rows));
    if (at < 0) {
      at = this.cursors.findIndex((c) => c.chunkRows === chunkRows);
      if (at < 0) {
        if (this.cursors.length >= CURSORS) this.cursors.shift()!.close();
        this.cursors.push(this.pool.cursor(chunkRows));
        at = this.cursors.length - 1;
      }
    }
    const cursor = this.cursors.splice(at, 1)[0]!;
    this.cursors.push(cursor);
    return cursor;
  }

  prefetch(order: Uint32Array | null, rows: number): void {
    const plan = { map: this.map, order, length: order === null ? this.count : order.length };
    const n = Math.min(rows, plan.length);
    if (n === 0 || this.cursors.some((c) => c.chunkRows >= n && c.follows(plan, 0, n))) return;
    // Not the cursor the pass in progress reads (the one used last): a new one, else the one used longest ago.
    let at = this.cursors.length < CURSORS ? -1 : 0;
    if (at === 0 && this.cursors[0]!.chunkRows < n) {
      this.cursors.shift()!.close();
      at = -1;
    }
    const cursor = at < 0 ? this.pool.cursor(n) : this.cursors.splice(at, 1)[0]!;
    this.cursors.push(cursor);
    cursor.prime(plan, 0, n);
  }

  /** `rows` rows' bytes as what the source stores: bytes, or float32 values. */
  private rowsAsStored(bytes: Uint8Array, rows: number): Uint8Array | Float32Array {
    return this.pool.storedType === 'uint8' ? bytes : new Float32Array(bytes.buffer, bytes.byteOffset, rows * this.size);
  }

  /** Stored bytes of rows start..start+rows-1 of the sequence `order`; `again`: a pass that is made again (see Cursor.read). */
  private readRows(order: Uint32Array | null, start: number, rows: number, chunkRows: number, again = false): Uint8Array {
    const plan = { map: this.map, order, length: order === null ? this.count : order.length };
    return this.cursorFor(plan, start, rows, chunkRows).read(plan, start, rows, again);
  }

  gather(order: Uint32Array | null, start: number, rows: number, out: Float32Array, backend: Backend = getBackend()): void {
    checkGather(this, order, start, rows, out);
    const size = this.size;
    const piece = Math.max(1, Math.floor(PIECE_BYTES / this.pool.rowBytes));
    if (rows > piece) {
      for (let r = 0; r < rows; r += piece) this.gather(order, start + r, Math.min(piece, rows - r), out.subarray(r * size), backend);
      return;
    }
    if (rows === 0) return;
    // A batch pass in stored order (validation, evaluation) is made again: each epoch, and for the closing test.
    const raw = this.rowsAsStored(this.readRows(order, start, rows, rows, order === null), rows);
    if (this.stats !== null) standardizeRows(raw, rows, this.stats, out);
    else if (raw instanceof Float32Array) out.set(raw);
    else backend.gatherBytes(raw, null, 0, rows, size, 255, out);
  }

  digests(): Uint8Array {
    const root = this.pool.digests;
    if (this.stats !== null || root === null) {
      // A standardized view's rows are other bytes than its source's: read them through.
      const out = new Uint8Array(this.count * ROW_DIGEST_BYTES);
      const rowBytes = this.stats !== null ? this.size * 4 : this.pool.rowBytes;
      for (const c of this.chunks()) digestRows(bytesOf(c.values), rowBytes, c.rows, out, c.first);
      return out;
    }
    if (this.map === null) return root;
    const out = new Uint8Array(this.count * ROW_DIGEST_BYTES);
    for (let i = 0; i < this.count; i++) out.set(root.subarray(this.map[i]! * ROW_DIGEST_BYTES, (this.map[i]! + 1) * ROW_DIGEST_BYTES), i * ROW_DIGEST_BYTES);
    return out;
  }

  *chunks(): Generator<StoredChunk> {
    const chunkRows = Math.max(1, Math.floor(PASS_BYTES / this.pool.rowBytes));
    for (let first = 0; first < this.count; first += chunkRows) {
      const rows = Math.min(chunkRows, this.count - first);
      const raw = this.rowsAsStored(this.readRows(null, first, rows, chunkRows), rows);
      if (this.stats === null) {
        yield { values: raw, rows, first };
      } else {
        this.scratch ??= new Float32Array(chunkRows * this.size);
        standardizeRows(raw, rows, this.stats, this.scratch);
        yield { values: this.scratch.subarray(0, rows * this.size), rows, first };
      }
    }
  }
}
