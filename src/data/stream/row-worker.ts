/**
 * A reading thread of a streamed source (pool.ts): reads the rows it is asked for, in the order it
 * is asked, into the shared slots of the main thread's cursors, and marks each slot done (or failed,
 * with the sentence that says why) through the slot's state word.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { VaekitError } from '../../errors.js';
import { ERROR_BYTES, type PoolMessage, type RowWorkerData } from './pool.js';
import { openRows, rowBytes as rowBytesOf, sourceName } from './rows.js';

const { source } = workerData as RowWorkerData;
const rowBytes = rowBytesOf(source);
const reader = openRows(source);
const rings = new Map<number, { data: Uint8Array; state: Int32Array; error: Int32Array; text: Uint8Array; slotBytes: number }>();
let queue = Promise.resolve();

async function handle(m: PoolMessage): Promise<void> {
  if (m.type === 'ring') {
    rings.set(m.ring, { data: new Uint8Array(m.data), state: new Int32Array(m.state), error: new Int32Array(m.error, 0, 1), text: new Uint8Array(m.error, 4), slotBytes: m.slotBytes });
    return;
  }
  if (m.type === 'forget') {
    rings.delete(m.ring);
    return;
  }
  const ring = rings.get(m.ring)!;
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

parentPort!.on('message', (m: PoolMessage) => {
  queue = queue.then(() => handle(m));
});
parentPort!.postMessage('ready');
