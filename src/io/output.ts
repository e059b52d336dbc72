/** Output files and folders: a command writes only what it was told to (never its inputs), and a folder is replaced whole or not at all. */
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { VaekitError } from '../errors.js';
import { describeFsError } from './fs-errors.js';

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

/** Where a folder that replaces `target` is made until it is complete: OUT.new beside it. */
export function stagingFolder(target: string): string {
  return `${resolve(target)}.new`;
}

/**
 * Puts a complete folder in the place of `target`: target -> target.old, staged -> target (two
 * renames), then target.old is removed. At every moment a whole folder is in target, or (between
 * the renames) the old one in target.old and the new one in staged. The caller has checked that
 * target.old is its own to remove.
 */
export function swapInto(staged: string, target: string): void {
  const old = `${resolve(target)}.old`;
  rmSync(old, { recursive: true, force: true });
  try {
    renameSync(target, old);
    renameSync(staged, target);
  } catch (err) {
    throw new VaekitError(`Cannot put the new folder in ${target} (${describeFsError(err)}): it is complete in ${existsSync(staged) ? staged : target}, and the old one in ${existsSync(old) ? old : target}.`);
  }
  rmSync(old, { recursive: true, force: true });
}

/**
 * Puts the complete folder `staged` (stagingFolder's) at `target`: in place of the folder there
 * (swapInto), or renamed there, its parent made; a failed rename removes `staged` and says so,
 * naming the target as the user gave it (`shown`).
 */
export function placeFolder(staged: string, target: string, shown: string): void {
  if (existsSync(target)) {
    swapInto(staged, target);
    return;
  }
  try {
    mkdirSync(dirname(target), { recursive: true });
    renameSync(staged, target);
  } catch (err) {
    rmSync(staged, { recursive: true, force: true });
    throw new VaekitError(`Cannot write ${shown}: ${describeFsError(err)}.`);
  }
}
