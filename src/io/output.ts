/** Output folders: a model folder is not replaced unless the user asked, and one process trains into it at a time. */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { VaekitError } from '../errors.js';
import { CONFIG_FILE } from './bundle.js';
import { describeFsError } from './fs-errors.js';

/** Makes `dir` (and its parents) unless it is a file or, without `overwrite`, already holds a model. */
export function prepareModelFolder(dir: string, overwrite: boolean): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new VaekitError(`The output path ${dir} exists and is not a folder.`);
  if (!overwrite && existsSync(join(dir, CONFIG_FILE))) {
    throw new VaekitError(`${dir} already holds a model; pass --overwrite to replace it or choose another --out.`);
  }
  mkdirSync(dir, { recursive: true });
}

/** What an output file must not be written over. */
export interface OutputRules {
  /** The files the command reads: the output is none of them (compared by real path, so links and other spellings count). */
  inputs?: ReadonlyArray<string | undefined>;
  /**
   * The flag to pass to replace this file when it exists, for a file the user did not name (written
   * beside the one they named, e.g. NAME.labels.npy); a file they named is theirs to replace.
   */
  unnamed?: string;
  /** Whether that flag was given. */
  overwrite?: boolean;
}

/** A path with its links resolved, as far as it exists (the rest as written). */
function realPath(path: string): string {
  const target = resolve(path);
  let dir = target;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return join(realpathSync(dir), target.slice(dir.length));
}

/**
 * Checks, before any work, that a file can be written at `path`: it is not a folder, and its
 * nearest existing folder is a folder this process may write in (the writer makes the rest); with
 * `rules`, it is not one of the command's inputs, and an unnamed file that exists is replaced only
 * when the user said so.
 */
export function prepareOutputFile(path: string, rules: OutputRules = {}): void {
  const target = resolve(path);
  const real = realPath(path);
  for (const input of rules.inputs ?? []) {
    if (input !== undefined && existsSync(input) && realPath(input) === real) {
      throw new VaekitError(`Cannot write ${path}: it is ${resolve(input) === target ? 'one of this command\'s inputs' : `an input of this command (${input})`}; choose another output file.`);
    }
  }
  if (existsSync(target) && statSync(target).isDirectory()) throw new VaekitError(`The output path ${path} is a folder, not a file.`);
  if (rules.unnamed !== undefined && rules.overwrite !== true && existsSync(target)) {
    throw new VaekitError(`${path} already exists and this command would write ${basename(path)} there: pass ${rules.unnamed} to replace it, or move it away first.`);
  }
  let dir = dirname(target);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  if (!statSync(dir).isDirectory()) throw new VaekitError(`Cannot write ${path}: ${dir} is a file, not a folder.`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new VaekitError(`Cannot write ${path}: the folder ${dir} is not writable.`);
  }
}

/** Where a run that replaces the model in `target` trains until it is complete: OUT.new beside it. */
export function stagingFolder(target: string): string {
  return `${resolve(target)}.new`;
}

/**
 * Puts a complete run folder in the place of `target`: target -> target.old, staged -> target (two
 * renames), then target.old is removed. At every moment a whole model is in target, or (between
 * the renames) the old one in target.old and the new one in staged. The staged run's lock is
 * released in its new place.
 */
export function swapInto(staged: string, target: string): void {
  const old = `${resolve(target)}.old`;
  rmSync(old, { recursive: true, force: true });
  try {
    renameSync(target, old);
    renameSync(staged, target);
  } catch (err) {
    throw new VaekitError(`Cannot put the new model in ${target} (${describeFsError(err)}): it is complete in ${existsSync(staged) ? staged : target}, and the old one in ${existsSync(old) ? old : target}.`);
  }
  rmSync(old, { recursive: true, force: true });
  const lock = join(target, LOCK_FILE);
  if (existsSync(lock) && readFileSync(lock, 'utf8') === String(process.pid)) unlinkSync(lock);
}

export const LOCK_FILE = '.vaekit.lock';

/**
 * Takes the run folder for this process: a lock file holding its PID, created exclusively. A second
 * process refuses at once; a lock left by a process that is gone is taken over (`onStale` is told).
 * Returns the release, which removes the lock if it is still ours.
 */
export function lockRunFolder(dir: string, onStale: (pid: number) => void = () => undefined): () => void {
  // A folder made only for the lock is removed with it when nothing else was written (a refused run leaves nothing).
  const made = mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const mine = String(process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, mine, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(path, 'utf8') === mine) unlinkSync(path);
          if (made !== undefined && readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new VaekitError(`Cannot lock ${dir}: ${describeFsError(err)}.`);
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(path, 'utf8').trim());
    } catch {
      continue; // Released meanwhile: try again.
    }
    if (Number.isInteger(owner) && owner > 0 && processIsAlive(owner)) {
      throw new VaekitError(`${dir} is in use by another vaekit process (PID ${owner}); wait for it to finish or choose another folder.`);
    }
    onStale(owner);
    rmSync(path, { force: true });
  }
  throw new VaekitError(`Cannot lock ${dir}: another process keeps taking it.`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
