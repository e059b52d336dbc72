/**
 * Writing a file so that readers see either the old content or the new, never half a file: the data
 * goes to a temporary file in the same directory (same file system, so the rename is atomic), is
 * flushed to disk, and is renamed over the target.
 */
// The default import (the module object) rather than named imports, so that a test can replace
// one of its functions to simulate a failure.
import fs from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { VaekitError } from '../errors.js';
import { describeFsError } from './fs-errors.js';

let temporaryCounter = 0;

/** Temporary names start with `.vaekit-tmp-` (ignored by git) and are unique within this machine. */
/** The prefix of every temporary file writeFileAtomic makes (a killed process leaves them behind). */
export const TEMPORARY_PREFIX = '.vaekit-tmp-';

export function temporaryPathFor(path: string): string {
  temporaryCounter = (temporaryCounter + 1) % 1e9;
  const stamp = Date.now().toString(36);
  return join(dirname(path), `${TEMPORARY_PREFIX}${basename(path)}-${process.pid}-${stamp}-${temporaryCounter}`);
}

/**
 * Writes to a temporary file in the same directory then renames it over path; on any failure the
 * temporary file is removed and nothing at path changes. Creates parent directories. `mode`: the
 * file's permissions (0o644 unless given; 0o600 for a secret).
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, options: { mode?: number } = {}): void {
  const target = resolve(path);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    fs.mkdirSync(dirname(target), { recursive: true });
  } catch (err) {
    // mkdir reports a file in the way of a directory as EEXIST or ENOTDIR.
    const exists = typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EEXIST';
    const reason = describeFsError(exists ? { code: 'ENOTDIR' } : err);
    throw new VaekitError(`Cannot write ${path}: ${reason}.`);
  }
  const temporary = temporaryPathFor(target);
  let fd: number | null = null;
  try {
    fd = fs.openSync(temporary, 'wx', options.mode ?? 0o644);
    let written = 0;
    while (written < bytes.length) {
      written += fs.writeSync(fd, bytes, written, bytes.length - written);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(temporary, target);
  } catch (err) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        // Already failing; the original error is the one to report.
      }
    }
    try {
      fs.rmSync(temporary, { force: true });
    } catch {
      // Nothing more can be done; the original error is the one to report.
    }
    throw new VaekitError(`Cannot write ${path}: ${describeFsError(err)}.`);
  }
}

/**
 * Appends text to a file (made with its directories when missing), without flushing it to disk: a
 * log written line by line, whose owner rewrites it whole (writeFileAtomic) when it must be exact,
 * as the metrics log does on resume, and flushes it once at the end (syncFile).
 */
export function appendText(path: string, text: string): void {
  try {
    fs.mkdirSync(dirname(resolve(path)), { recursive: true });
    fs.appendFileSync(path, text, 'utf8');
  } catch (err) {
    throw new VaekitError(`Cannot write ${path}: ${describeFsError(err)}.`);
  }
}

/** Flushes a file's content to disk (fsync), e.g. a log appended to with appendText. */
export function syncFile(path: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(path, 'r+');
    fs.fsyncSync(fd);
  } catch (err) {
    throw new VaekitError(`Cannot write ${path}: ${describeFsError(err)}.`);
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
