/**
 * A reading thread of a streamed source (pool.ts): reads the rows it is asked for into the shared
 * slots of the main thread's cursors, those of passes in progress first and each kind in the order
 * asked, and marks each slot done (or failed, with the sentence that says why) through the slot's
 * state word.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { VaekitError } from '../../errors.js';
import { ERROR_BYTES, type PoolMessage, type RowWorkerData } from './pool.js';
import { openRows, rowBytes as rowBytesOf, sourceName } from './rows.js';

const { source } = workerData as RowWorkerData;
const rowBytes = rowBytesOf(source);
const reader = openRows(source);
const rings = new Map<number, { data: Uint8Array; state: Int32Array; error: Int32Array; text: Uint8Array; slotBytes: number }>();
type Read = Extract<PoolMessage, { type: 'read' }>;
/** Reads for passes in progress, then reads ahead of passes (pool.ts): each queue in the order asked. */
const now: Read[] = [];
const later: Read[] = [];
let reading = false;

async function read(m: Read): Promise<void> {
  const ring = rings.get(m.ring);
  if (ring === undefined) return; // its cursor was closed while the read waited
  // A read asked for ahead that a newer read of the same slot overtook (its cursor began another
  // sequence before this one was read; tickets only grow): the slot is no longer this read's.
  if (Math.abs(Atomics.load(ring.state, m.slot)) > m.ticket) return;
  const at = m.slot * ring.slotBytes;
  let done = m.ticket;
  try {
    await reader.read(m.indices, ring.data.subarray(at, at + m.indices.length * rowBytes));
  } catch (err) {
    const message = err instanceof VaekitError ? err.message : `${sourceName(source)} could not be read (${err instanceof Error ? err.message : String(err)}).`;
    const bytes = new TextEncoder().encode(message).subarray(0, ERROR_BYTES - 4);
    ring.text.set(bytes);
    Atomics.store(ring.error, 0, bytes.length);
    done = -m.ticket;
  }
  Atomics.store(ring.state, m.slot, done);
  Atomics.notify(ring.state, m.slot);
}

/** Reads what is asked, one read at a time, those of passes in progress first. */
async function drain(): Promise<void> {
  reading = true;
  for (let m = now.shift() ?? later.shift(); m !== undefined; m = now.shift() ?? later.shift()) await read(m);
  reading = false;
}

parentPort!.on('message', (m: PoolMessage) => {
  if (m.type === 'ring') rings.set(m.ring, { data: new Uint8Array(m.data), state: new Int32Array(m.state), error: new Int32Array(m.error, 0, 1), text: new Uint8Array(m.error, 4), slotBytes: m.slotBytes });
  else if (m.type === 'forget') rings.delete(m.ring);
  else {
    (m.ahead ? later : now).push(m);
    if (!reading) void drain();
  }
});
parentPort!.postMessage('ready');
