/**
 * Appending to the temporary files a streamed source writes (a CSV table's float32 rows, a text
 * corpus's texts and token ids; src/io/scratch.ts opens them).
 */
import { closeSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { VaekitError } from '../../errors.js';
import { describeFsError } from '../../io/fs-errors.js';
import { openScratchFile } from '../../io/scratch.js';

/** Bytes an Appender gathers before it writes them. */
const BUFFER_BYTES = 4 << 20;

/**
 * A new scratch file holding `what` (rows, texts, token ids) for the data `source`, appended to
 * through a buffer; `bytes` is how many were appended.
 */
export class Appender {
  readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private held = 0;
  private written = 0;

  constructor(private readonly what: string, private readonly source: string) {
    this.fd = openScratchFile(what, source);
  }

  get bytes(): number {
    return this.written + this.held;
  }

  append(bytes: Uint8Array): void {
    if (this.held + bytes.length > this.buffer.length) this.flush();
    if (bytes.length > this.buffer.length) this.writeAt(bytes);
    else {
      this.buffer.set(bytes, this.held);
      this.held += bytes.length;
    }
  }

  /** Writes what the buffer holds. */
  flush(): void {
    this.writeAt(this.buffer.subarray(0, this.held));
    this.held = 0;
  }

  /** Closes the file (a caller that failed drops it). */
  close(): void {
    closeSync(this.fd);
  }

  private writeAt(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length;) {
      try {
        done += writeSync(this.fd, bytes, done, bytes.length - done, this.written + done);
      } catch (err) {
        throw new VaekitError(`Cannot stream ${this.source}: writing its ${this.what} to a temporary file in ${tmpdir()} failed (${describeFsError(err)}).`);
      }
    }
    this.written += bytes.length;
  }
}
