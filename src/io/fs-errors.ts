import { constants as bufferConstants } from 'node:buffer';
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { VaekitError } from '../errors.js';

/** The most bytes readFileOrExplain reads unless told otherwise: what Node's readFileSync reads at most (2 GiB - 1). */
export const MAX_READ_BYTES = 2 ** 31 - 1;

/**
 * A regular file opened for reading (its descriptor: the caller closes it), or one sentence: "Cannot
 * read the <what> <path>: no such file." Links are followed; a folder, FIFO, device or socket is
 * refused (opened without blocking, so a FIFO with no writer does not hang).
 */
export function openOrExplain(path: string, what: string): number {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new VaekitError(`Cannot read the ${what} ${path}: it is ${kindOf(stats)}, not a regular file.`);
    return fd;
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    if (err instanceof VaekitError) throw err;
    throw new VaekitError(`Cannot read the ${what} ${path}: ${describeFsError(err)}.`);
  }
}

/**
 * A regular file's bytes, or one sentence (openOrExplain's), and so for a file of more than
 * `maxBytes` bytes, refused before anything is allocated for it (and above the largest buffer Node
 * makes, whatever `maxBytes` says).
 */
export function readFileOrExplain(path: string, what: string, maxBytes = MAX_READ_BYTES): Buffer {
  const limit = Math.min(maxBytes, bufferConstants.MAX_LENGTH);
  const fd = openOrExplain(path, what);
  try {
    const stats = fstatSync(fd);
    if (stats.size > limit) {
      throw new VaekitError(`Cannot read the ${what} ${path}: it holds ${stats.size.toLocaleString('en-US')} bytes, more than vaekit's limit of ${limit.toLocaleString('en-US')} for a ${what}.`);
    }
    const bytes = Buffer.allocUnsafeSlow(stats.size);
    let filled = 0;
    for (let n = -1; n !== 0 && filled < bytes.length; filled += n) n = readSync(fd, bytes, filled, bytes.length - filled, null);
    return bytes.subarray(0, filled);
  } catch (err) {
    if (err instanceof VaekitError) throw err;
    throw new VaekitError(`Cannot read the ${what} ${path}: ${describeFsError(err)}.`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Fills `bytes` from the open file `fd` at `position` (reads until full); a file that ends first was
 * changed while it was read: an Error naming `path`.
 */
export function readExactly(fd: number, bytes: Uint8Array, position: number, path: string): void {
  for (let got = 0; got < bytes.length;) {
    const n = readSync(fd, bytes, got, bytes.length - got, position + got);
    if (n === 0) throw new Error(`${path} ended early: it was changed while vaekit read it.`);
    got += n;
  }
}

/** What a file that is not a regular one is, for a message ("a folder"). */
export function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'something other than a file';
}

/** Why a file could not be read or written, in a few words for a one-sentence message ("no such file"). */
export function describeFsError(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a folder';
    case 'ENOTDIR':
      return 'a parent of the path is a file, not a folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EFBIG':
      return 'the file would be larger than the file system allows';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENAMETOOLONG':
      return 'the file name is too long';
    case 'ENXIO':
      return 'it is a socket or a device with nothing behind it, not a regular file';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
