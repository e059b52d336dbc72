/**
 * Temporary files for data held on disk (a streamed CSV table's rows, a text corpus's texts and
 * token ids, a long series' values): removed as soon as they are opened, so that nothing is left
 * behind whatever ends the process, and closed by whoever reads them last (or, for a file mapped
 * into memory, unmapped when its arrays are collected). They go in the system's temporary folder
 * (TMPDIR): where that is a tmpfs, they are held in memory after all.
 */
import { randomUUID } from 'node:crypto';
import { openSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VaekitError } from '../errors.js';
import { describeFsError } from './fs-errors.js';

/** A new file open for reading and writing and already removed; `what` and `source` say what it holds and for which data, in messages. */
export function openScratchFile(what: string, source: string): number {
  const path = join(tmpdir(), `vaekit-${what.replaceAll(/[^a-z0-9]+/gi, '-')}-${process.pid}-${randomUUID()}`);
  try {
    const fd = openSync(path, 'wx+', 0o600);
    unlinkSync(path);
    return fd;
  } catch (err) {
    throw new VaekitError(`Cannot hold ${source} on disk: its ${what} need a temporary file in ${tmpdir()}, and ${describeFsError(err)}.`);
  }
}
