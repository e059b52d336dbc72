/**
 * The lines of a file as it grows (`tail -F`), or of a stream (standard input), as events: each
 * file's start, then its lines.
 *
 * - A line ends at its newline ("\r\n" too). Bytes after the last newline wait in a buffer for the
 *   rest of their line, so a line written in two pieces is read once, whole. A file that is
 *   finished (the stream ended, the file was replaced, or `stopAtEnd` reached its end) ends its last
 *   line without a newline.
 * - The file is polled every `pollMs` (200 ms by default): fs.watch misses a replaced file on some
 *   file systems, and a poll costs one stat.
 * - Rotation: when the path names another file than the one open (its inode changed: the old one
 *   renamed away, a new one written in its place), the old one is read to its end and the new one
 *   from its start. A path with no file yet (renamed away, not yet replaced) is waited for.
 * - Truncation: when the file is shorter than what was read (truncated in place, `copytruncate`),
 *   the unfinished line is dropped and the file is read again from its start.
 * Each new file's start is an event, so a reader that expects a header reads it again.
 */
import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { VaekitError } from '../errors.js';
import { describeFsError, kindOf } from './fs-errors.js';

/** A new file's start (the first, one that replaced it at the path, or the same one truncated), or one line of it. */
export type LineEvent =
  | { kind: 'file'; why: 'start' | 'rotated' | 'truncated' }
  | { kind: 'line'; text: string };

export interface TailOptions {
  /** Ends the lines at once (Ctrl-C): the generator returns without reading further. */
  signal?: AbortSignal;
  /** Milliseconds between checks of the file for new bytes, rotation and truncation. */
  pollMs?: number;
  /** Stop at the file's current end instead of waiting for more (its last line counts without a newline). */
  stopAtEnd?: boolean;
}

export const DEFAULT_POLL_MS = 200;

/** The longest line kept while its newline has not come: a file without newlines is not a file of lines. */
export const MAX_LINE_BYTES = 1 << 24;

const READ_CHUNK = 1 << 16;

/** Bytes in, whole lines out: what follows the last newline waits for the rest of its line. */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private atStart = true;

  constructor(private readonly source: string) {}

  /** The lines that `chunk` completes (the bytes are copied: the caller may reuse its buffer). */
  push(chunk: Uint8Array): string[] {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const lines: string[] = [];
    let start = 0;
    for (let newline = bytes.indexOf(10); newline >= 0; newline = bytes.indexOf(10, start)) {
      const piece = bytes.subarray(start, newline);
      lines.push(this.decode(this.pending.length === 0 ? piece : Buffer.concat([...this.pending, piece])));
      this.pending = [];
      this.pendingBytes = 0;
      start = newline + 1;
    }
    if (start < bytes.length) {
      this.pendingBytes += bytes.length - start;
      if (this.pendingBytes > MAX_LINE_BYTES) {
        throw new VaekitError(`${this.source} has a line of more than ${MAX_LINE_BYTES.toLocaleString('en-US')} bytes without a newline; it is not a file of lines.`);
      }
      this.pending.push(Buffer.from(bytes.subarray(start)));
    }
    return lines;
  }

  /** The bytes after the last newline as a line (the file is finished), or null when there are none; the buffer is emptied. */
  finish(): string | null {
    if (this.pendingBytes === 0) return null;
    const line = this.decode(Buffer.concat(this.pending));
    this.reset();
    return line;
  }

  /** Forgets the unfinished line; the next byte starts a new file. */
  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.atStart = true;
  }

  /** A line's text: UTF-8, without its "\r" (CRLF) or, first in a file, a byte-order mark. */
  private decode(bytes: Buffer): string {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
    let text = bytes.toString('utf8', 0, end);
    if (this.atStart && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    this.atStart = false;
    return text;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The file at `path` opened for reading, with its inode; refuses anything but a regular file, in one sentence. */
async function openRegular(path: string): Promise<{ handle: FileHandle; ino: number; dev: number }> {
  let handle: FileHandle;
  try {
    // Without blocking, so a FIFO with no writer is refused rather than waited on.
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw new VaekitError(`Cannot follow ${path}: ${describeFsError(err)}.`);
  }
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw new VaekitError(`Cannot follow ${path}: it is ${kindOf(stats)}, not a regular file (give - to read standard input).`);
  }
  return { handle, ino: stats.ino, dev: stats.dev };
}

/** What the path names now: its inode and size, or null while no file is there. */
async function statOrNull(path: string): Promise<{ ino: number; dev: number; size: number } | null> {
  try {
    const s = await stat(path);
    return { ino: s.ino, dev: s.dev, size: s.size };
  } catch {
    return null;
  }
}

/** The lines of the file at `path` from its start, then as they are appended, across rotation and truncation (see the top of this file). */
export async function* followFile(path: string, options: TailOptions = {}): AsyncGenerator<LineEvent> {
  const { signal } = options;
  const stopped = (): boolean => signal?.aborted === true;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  let file = await openRegular(path);
  let position = 0;
  const buffer = Buffer.allocUnsafe(READ_CHUNK);
  const splitter = new LineSplitter(path);
  /** Every line the open file holds now; the bytes after its last newline stay in the splitter. */
  async function* drain(): AsyncGenerator<LineEvent> {
    for (;;) {
      const { bytesRead } = await file.handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      for (const text of splitter.push(buffer.subarray(0, bytesRead))) yield { kind: 'line', text };
      if (stopped()) return;
    }
  }
  try {
    yield { kind: 'file', why: 'start' };
    while (!stopped()) {
      yield* drain();
      if (stopped()) return;
      if (options.stopAtEnd === true) {
        const last = splitter.finish();
        if (last !== null) yield { kind: 'line', text: last };
        return;
      }
      const now = await statOrNull(path);
      if (now !== null && (now.ino !== file.ino || now.dev !== file.dev)) {
        // Replaced: what was written to the old file before it went is read, its last line finished.
        yield* drain();
        const last = splitter.finish();
        if (last !== null) yield { kind: 'line', text: last };
        await file.handle.close();
        file = await openRegular(path);
        position = 0;
        splitter.reset();
        yield { kind: 'file', why: 'rotated' };
        continue;
      }
      if (now !== null && now.size < position) {
        position = 0;
        splitter.reset();
        yield { kind: 'file', why: 'truncated' };
        continue;
      }
      await pause(pollMs, signal);
    }
  } finally {
    await file.handle.close();
  }
}

/** The lines of a stream (standard input) until it ends, its last line without a newline counted; `signal` ends them early. */
export async function* streamLines(stream: Readable, source: string, options: Pick<TailOptions, 'signal'> = {}): AsyncGenerator<LineEvent> {
  const { signal } = options;
  const stopped = (): boolean => signal?.aborted === true;
  const splitter = new LineSplitter(source);
  yield { kind: 'file', why: 'start' };
  if (stopped()) return;
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  // An abort ends the wait for the next chunk at once.
  let aborted: () => void = () => {};
  const onAbort = new Promise<'aborted'>((resolve) => {
    aborted = () => resolve('aborted');
    signal?.addEventListener('abort', aborted, { once: true });
  });
  try {
    for (;;) {
      const next = await Promise.race([chunks.next(), onAbort]);
      if (next === 'aborted') return;
      if (next.done === true) break;
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      for (const text of splitter.push(chunk)) yield { kind: 'line', text };
      if (stopped()) return;
    }
    const last = splitter.finish();
    if (last !== null) yield { kind: 'line', text: last };
  } finally {
    signal?.removeEventListener('abort', aborted);
    // Stops reading: the stream is destroyed, so a process waiting on standard input can exit.
    void chunks.return?.();
  }
}
