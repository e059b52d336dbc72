/**
 * Uploaded files as the library reads them: written under their own names (their safe characters)
 * into a temporary folder that is removed as soon as they are read, and the library's messages about
 * them stripped of that folder, so that they name the user's files. A user's error reading them is a
 * 400 with its one sentence.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, sep } from 'node:path';
import { VaekitError } from '../errors.js';
import { HttpError } from './security.js';

/** An uploaded file as a worker gets it: its name and bytes. */
export interface UploadedFile { name: string; bytes: Uint8Array }

/** A form's file as a worker takes it. */
export async function uploadedFile(file: File): Promise<UploadedFile> {
  return { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
}

/** A file name for an upload: its own name's safe characters (letters, digits, ".", "_" and "-"), ending in `ext`. */
export function uploadName(name: string, ext: string): string {
  const base = basename(name).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 100);
  return base.toLowerCase().endsWith(ext) ? base : `${base || 'upload'}${ext}`;
}

/** `read` given a new temporary folder (to write the uploads into), which is removed when it returns; see the top of this file. */
export async function inUploadFolder<T>(read: (dir: string) => T | Promise<T>): Promise<T> {
  const tmp = mkdtempSync(join(tmpdir(), 'vaekit-studio-'));
  try {
    return await read(tmp);
  } catch (err) {
    if (err instanceof VaekitError) throw new HttpError(400, err.message.split(`${tmp}${sep}`).join(''));
    throw err;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
