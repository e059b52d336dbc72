/**
 * The threads that read a streamed source, and the cursors that read rows ahead of the batches
 * that need them.
 *
 *   main thread                                      reading threads (row-worker.ts)
 *   cursor.read(rows k) --request chunks k+1..k+S--> read rows into slot j % S  (slot j's thread: j % T)
 *                       <--slot state = ticket------
 *   waits (Atomics.wait) for chunk k's slot, copies it out, and its slot takes chunk k + S
 *
 * A thread reads the chunks a pass in progress asks for before those asked for ahead of a pass
 * (prime, and the next pass of a pass in stored order made again: `ahead`), each kind in the order
 * asked: a validation pass primed as an epoch begins (8 chunks of 500 images) queued in front of the
 * epoch's own chunks made its step wait 0.2 to 0.3 s on 200,000 images (BENCHMARKS.md). A read ahead
 * that a newer read of its slot overtook finds the slot's state past its ticket and is dropped.
 *
 * A cursor follows one sequence of rows: a pass in a given order, chunk after chunk of the size of
 * its first read. A read that is not the next chunk of the sequence starts a new one there; tickets
 * only grow, so a slot's stale chunk is never taken for a new one. The main thread waits
 * synchronously, so the batching loop (batches.ts) stays as it is for data in memory.
 */
import type { Worker } from 'node:worker_threads';
import { closeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { nodeBuiltins, startModuleWorker } from '../../engine/node.js';
import { VaekitError } from '../../errors.js';
import { rowBytes, sourceFile, storedType, type RowSource } from './rows.js';

/** What a reading thread starts with. */
export interface RowWorkerData {
  source: RowSource;
}

export type PoolMessage =
  | { type: 'ring'; ring: number; data: SharedArrayBuffer; state: SharedArrayBuffer; error: SharedArrayBuffer; slotBytes: number }
  | { type: 'read'; ring: number; slot: number; ticket: number; indices: Uint32Array; ahead: boolean }
  | { type: 'forget'; ring: number };

/** Bytes kept for a failed read's sentence. */
export const ERROR_BYTES = 4096;
/** The most memory a cursor's slots take. */
const CURSOR_BYTES = 64 << 20;
/** A wait for a chunk longer than this, with no slot moving, means the reading threads stopped. */
const STALL_MS = 120_000;

/**
 * Time the main thread spent waiting for rows that were not read yet, and how many waits, since the
 * process started: a step that never waits on its data leaves both near 0 (npm run bench:stream).
 */
export const streamWaits = { ms: 0, count: 0 };

/**
 * Reading threads of a source: VAEKIT_DATA_THREADS, else one per core, at most 8. While a model
 * trains they decode no more than the step takes (on 2 cores, 64x64 PNGs for the seed preset: about
 * a third of one core), whatever their number; with nothing else to do (the pass that opens a source)
 * they use every core.
 */
export function readingThreads(): number {
  const given = Number(process.env['VAEKIT_DATA_THREADS']);
  if (Number.isInteger(given) && given >= 1) return Math.min(given, 64);
  return Math.max(1, Math.min(8, availableParallelism()));
}

/** Has the threads forget a cursor's slots once nothing refers to the cursor (a set's pass that is over, a view no longer used). */
const cursorFinalizer = new FinalizationRegistry<{ pool: RowPool; ring: Ring }>(({ pool, ring }) => pool.forget(ring));

/** Ends a pool's threads, then closes its file, once nothing refers to the pool (a streamed set and its views hold it). */
const finalizer = new FinalizationRegistry<{ workers: Worker[]; fd: number | null }>(({ workers, fd }) => void stop(workers, fd));

/** Terminates reading threads, then closes the file they read (an NPY file, a CSV's rows), if any. */
async function stop(workers: Worker[], fd: number | null): Promise<void> {
  await Promise.all(workers.map((w) => w.terminate()));
  if (fd !== null) closeSync(fd);
}

export class RowPool {
  readonly rowBytes: number;
  /** What a row holds as read: bytes or float32. */
  readonly storedType: 'uint8' | 'float32';
  /** Each row's digest (io/digest.ts), in stored order, taken by the pass that opened the source. */
  digests: Uint8Array | null = null;
  private nextRing = 1;
  private closed = false;

  private constructor(readonly source: RowSource, private readonly workers: Worker[], readonly name: string) {
    this.rowBytes = rowBytes(source);
    this.storedType = storedType(source);
  }

  /**
   * Starts `threads` reading threads of `source`; `name` names it in messages (its file or folder).
   * The pool owns a source's open file (an NPY file, a CSV's rows, a text corpus's ids): it closes it when it stops (or fails to start).
   */
  static async start(source: RowSource, name: string, threads = readingThreads()): Promise<RowPool> {
    const fd = sourceFile(source);
    const node = nodeBuiltins()!;
    const data: RowWorkerData = { source };
    const workers: Worker[] = [];
    try {
      for (let t = 0; t < threads; t++) workers.push(startModuleWorker(node, import.meta.url, 'row-worker', data));
      await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', (err) => reject(new VaekitError(`A thread reading ${name} did not start: ${err.message}`)));
        w.once('exit', (code) => reject(new VaekitError(`A thread reading ${name} stopped as it started (exit code ${code}).`)));
      })));
    } catch (err) {
      await stop(workers, fd);
      throw err;
    }
    for (const w of workers) {
      w.removeAllListeners();
      w.unref();
    }
    const pool = new RowPool(source, workers, name);
    finalizer.register(pool, { workers, fd }, pool);
    return pool;
  }

  /** A cursor reading ahead chunks of up to `chunkRows` rows, with the slots its memory allows. */
  cursor(chunkRows: number): Cursor {
    return new Cursor(this, chunkRows);
  }

  /** @internal A ring of `slots` slots of `slotBytes`, known to every thread. */
  ring(slots: number, slotBytes: number): Ring {
    const id = this.nextRing++;
    const ring = { id, data: new SharedArrayBuffer(slots * slotBytes), state: new SharedArrayBuffer(4 * slots), error: new SharedArrayBuffer(ERROR_BYTES), slotBytes, slots };
    for (const w of this.workers) w.postMessage({ type: 'ring', ring: id, data: ring.data, state: ring.state, error: ring.error, slotBytes } satisfies PoolMessage);
    return ring;
  }

  /** @internal Asks slot `slot`'s thread to read `indices` into it; `ahead`: after the reads of a pass in progress. */
  request(ring: Ring, slot: number, ticket: number, indices: Uint32Array, ahead: boolean): void {
    if (this.closed) throw new VaekitError(`${this.name} is closed: its reading threads have stopped.`);
    this.workers[slot % this.workers.length]!.postMessage({ type: 'read', ring: ring.id, slot, ticket, indices, ahead } satisfies PoolMessage);
  }

  /** @internal The threads forget a ring no cursor reads. */
  forget(ring: Ring): void {
    if (!this.closed) for (const w of this.workers) w.postMessage({ type: 'forget', ring: ring.id } satisfies PoolMessage);
  }

  /** Stops the reading threads and closes their file (a set that uses them can no longer be read). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    finalizer.unregister(this);
    await stop(this.workers, sourceFile(this.source));
  }
}

interface Ring {
  id: number;
  data: SharedArrayBuffer;
  state: SharedArrayBuffer;
  error: SharedArrayBuffer;
  slotBytes: number;
  slots: number;
}

/** Where a row of a sequence lies in the source: map[order[position]] (null: the identity), for positions below `length`. */
export interface RowPlan {
  map: Uint32Array | null;
  order: Uint32Array | null;
  length: number;
}

/** One sequence of rows read ahead (see the top of this file). */
export class Cursor {
  private readonly ring: Ring;
  private readonly state: Int32Array;
  private readonly bytes: Uint8Array;
  /** The ticket each slot's chunk was requested with. */
  private readonly tickets: Int32Array;
  private ticket = 0;
  private plan: RowPlan | null = null;
  private base = 0;
  private rows = 0;
  /** The chunk the next read takes, and how many chunks are requested. */
  private next = 0;
  private requested = 0;
  /** Chunk k goes into slot (k + shift) % slots: a pass begun again (see read) starts after the slot the last one ended in. */
  private shift = 0;

  constructor(private readonly pool: RowPool, readonly chunkRows: number) {
    const slotBytes = Math.ceil((chunkRows * pool.rowBytes) / 8) * 8;
    const slots = Math.max(2, Math.min(4 * Math.max(2, readingThreads()), Math.floor(CURSOR_BYTES / slotBytes)));
    this.ring = pool.ring(slots, slotBytes);
    cursorFinalizer.register(this, { pool, ring: this.ring }, this);
    this.state = new Int32Array(this.ring.state);
    this.bytes = new Uint8Array(this.ring.data);
    this.tickets = new Int32Array(slots);
  }

  /** Whether `read(plan, start, rows)` would take the next chunk of this cursor's sequence. */
  follows(plan: RowPlan, start: number, rows: number): boolean {
    return this.plan !== null && plan.order === this.plan.order && plan.map === this.plan.map && plan.length === this.plan.length
      && start === this.base + this.next * this.rows && rows === Math.min(this.rows, plan.length - start);
  }

  /** Starts reading the sequence `plan` from `start`, `rows` a chunk, into every slot, ahead of the reads that will take it. */
  prime(plan: RowPlan, start: number, rows: number): void {
    if (rows > this.chunkRows) throw new RangeError(`Cursor.prime: ${rows} rows, more than the cursor's chunks of ${this.chunkRows}.`);
    this.begin(plan, start, rows, 0);
    const chunks = Math.ceil((plan.length - start) / rows);
    while (this.requested < Math.min(chunks, this.ring.slots)) this.requestChunk(this.requested++, true);
  }

  /**
   * The stored bytes of rows start..start+rows-1 of the sequence `plan`, one after another; valid
   * until the next read. Throws the reading thread's sentence when a row could not be read.
   *
   * `again`: a sequence that is read whole again and again (a validation set in stored order, each
   * epoch and for the closing test) goes on into its next pass: as its last chunks are read, the
   * slots they free take the next pass's first (asked for ahead), so that a pass made right after
   * this one (the closing test after the last validation) finds its first rows read.
   */
  read(plan: RowPlan, start: number, rows: number, again = false): Uint8Array {
    if (rows > this.chunkRows) throw new RangeError(`Cursor.read: ${rows} rows, more than the cursor's chunks of ${this.chunkRows}.`);
    if (!this.follows(plan, start, rows)) this.begin(plan, start, rows, 0);
    const k = this.next++;
    const chunks = Math.ceil((plan.length - this.base) / this.rows);
    const cyclic = again && this.base === 0;
    // The slot of the chunk read before this one is free now: keep every slot busy (chunk c >= chunks
    // of a cyclic sequence is chunk c - chunks of the next pass).
    const last = cyclic ? k + this.ring.slots : Math.min(chunks, k + this.ring.slots);
    while (this.requested < last) {
      const c = this.requested++;
      this.requestChunk(c, c >= chunks);
    }
    const slot = (k + this.shift) % this.ring.slots;
    this.wait(slot, this.tickets[slot]!);
    const at = slot * this.ring.slotBytes;
    if (cyclic && k === chunks - 1) {
      // The next pass: its chunk j is this sequence's chunk chunks + j, in the slot that one took.
      this.next = 0;
      this.requested -= chunks;
      this.shift = (this.shift + chunks) % this.ring.slots;
    }
    return this.bytes.subarray(at, at + rows * this.pool.rowBytes);
  }

  /** A new sequence: chunks of `rows` rows of `plan` from `start` on, chunk 0 in slot `shift`. */
  private begin(plan: RowPlan, start: number, rows: number, shift: number): void {
    this.plan = plan;
    this.base = start;
    this.rows = rows;
    this.next = 0;
    this.requested = 0;
    this.shift = shift % this.ring.slots;
  }

  /** Asks for chunk k of the sequence (of the next pass, for k past a cyclic sequence's last chunk). */
  private requestChunk(k: number, ahead: boolean): void {
    const { map, order } = this.plan!;
    const from = this.base + (k % Math.ceil((this.plan!.length - this.base) / this.rows)) * this.rows;
    const n = Math.min(this.rows, this.plan!.length - from);
    const indices = new Uint32Array(n);
    for (let r = 0; r < n; r++) {
      const o = order === null ? from + r : order[from + r]!;
      indices[r] = map === null ? o : map[o]!;
    }
    const slot = (k + this.shift) % this.ring.slots;
    this.ticket = this.ticket === 0x7fffffff ? 1 : this.ticket + 1;
    this.tickets[slot] = this.ticket;
    this.pool.request(this.ring, slot, this.ticket, indices, ahead);
  }

  /** Waits until `slot` holds chunk `ticket`; throws the thread's sentence when it failed. */
  private wait(slot: number, ticket: number): void {
    if (Atomics.load(this.state, slot) === ticket) return;
    const started = performance.now();
    try {
      this.waitFor(slot, ticket);
    } finally {
      streamWaits.ms += performance.now() - started;
      streamWaits.count++;
    }
  }

  private waitFor(slot: number, ticket: number): void {
    let since = Date.now();
    for (;;) {
      const now = Atomics.load(this.state, slot);
      if (now === ticket) return;
      if (now === -ticket) {
        const error = new Int32Array(this.ring.error, 0, 1);
        const text = new Uint8Array(this.ring.error, 4, Atomics.load(error, 0)).slice();
        throw new VaekitError(new TextDecoder().decode(text));
      }
      if (Atomics.wait(this.state, slot, now, 1000) !== 'timed-out') since = Date.now();
      else if (Date.now() - since > STALL_MS) throw new VaekitError(`The threads reading ${this.pool.name} gave no rows for ${STALL_MS / 1000} s: they stopped.`);
    }
  }

  /** The threads forget this cursor's slots. */
  close(): void {
    cursorFinalizer.unregister(this);
    this.pool.forget(this.ring);
  }
}
