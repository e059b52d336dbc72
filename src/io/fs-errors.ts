import { readFileSync } from 'node:fs';
import { VaekitError } from '../errors.js';

/** A file's bytes, or one sentence: "Cannot read the <what> <path>: no such file." */
export function readFileOrExplain(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new VaekitError(`Cannot read the ${what} ${path}: ${describeFsError(err)}.`);
  }
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
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENAMETOOLONG':
      return 'the file name is too long';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
