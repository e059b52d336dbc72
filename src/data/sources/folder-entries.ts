/** A data folder's listing, as the image and text folder readers take it: entries not hidden, sorted by name, with their stats. */
import { readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { VaekitError } from '../../errors.js';
import { describeFsError } from '../../io/fs-errors.js';

/** Code-unit order, the same on every machine and locale. */
export function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface Entry {
  name: string;
  path: string;
  stats: Stats;
}

/** The entries of a folder that are not hidden, sorted by name, each with its stats (links followed); `kind` names the folder in messages ("image", "text"). */
export function entries(dir: string, kind: string): Entry[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new VaekitError(`Cannot read the ${kind} folder ${dir}: ${describeFsError(err).replace('file', 'folder')}.`);
  }
  return names
    .filter((name) => !name.startsWith('.'))
    .sort(byName)
    .map((name) => {
      const path = join(dir, name);
      try {
        return { name, path, stats: statSync(path) };
      } catch (err) {
        throw new VaekitError(`Cannot read ${path}: ${describeFsError(err)}.`);
      }
    });
}
