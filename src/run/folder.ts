/**
 * A run folder's one owner: its names (names.ts), its readers and writers of the run's own files,
 * and its lifecycle. One process writes a folder at a time (a lock file holding its PID); a run that
 * replaces a model trains in OUT.new beside it and swaps in when complete, so OUT holds the old
 * model, whole, until then; a copied or moved folder refers to nothing outside itself (a staging
 * folder knows only that its target is its own name without ".new"). Replacing touches only what
 * vaekit writes: a folder holding other files is refused, and no sibling vaekit did not make is
 * removed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { VaekitError } from '../errors.js';
import { TEMPORARY_PREFIX, writeFileAtomic } from '../io/atomic-write.js';
import { describeFsError } from '../io/fs-errors.js';
import { swapInto } from '../io/output.js';
import { CLASS_FOLDER_PREFIX, REPLACED_SUFFIX, RUN_FILES, STAGING_SUFFIX, type RunFileKey } from './names.js';
import type { RunSpec } from './spec.js';

/** What run.json holds: the spec, and what the run found when it was planned. */
export interface RunRecord {
  spec: RunSpec;
  /** The vaekit that trained it. */
  vaekit: string;
  /** sha256 of the training examples as the model saw them (values, labels, shape). */
  dataFingerprint: string;
  /** This folder trains a model that will replace the one in the folder of its own name without ".new". */
  staging: boolean;
  /** The run spec file this run was started from, and the flags given beside it that changed its fields. */
  from?: { config: string; overrides: string[] };
  /** The data the run's caller gave, when it is not what spec.data names (a one-class run: one class of it). */
  givenData?: string;
}

/** Whether `name`, at the top of a run folder, is a file vaekit writes there. */
function isVaekitName(name: string): boolean {
  return (Object.values(RUN_FILES) as string[]).includes(name) || name.startsWith(CLASS_FOLDER_PREFIX) || name.startsWith(TEMPORARY_PREFIX);
}

/** The names in `dir` that vaekit did not write (none when it does not exist). */
export function foreignFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => !isVaekitName(name)).sort();
}

function listNames(names: string[]): string {
  return names.slice(0, 3).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '');
}

/** Whether a folder holds a trained model (its bundle's config). */
export function holdsModel(dir: string): boolean {
  return existsSync(join(dir, RUN_FILES.config));
}

/**
 * Takes `dir` for this process: a lock file holding its PID, created exclusively. A second process
 * refuses at once; a lock left by a process that is gone is taken over (`onStale` is told). Returns
 * the release, which removes the lock if it is still ours (and the folder, if it was made for the
 * lock and nothing else was written).
 */
export function lockRunFolder(dir: string, onStale: (pid: number) => void = () => undefined): () => void {
  let made: string | undefined;
  try {
    made = mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new VaekitError(`Cannot make the folder ${dir}: ${describeFsError(err)}.`);
  }
  const path = join(dir, RUN_FILES.lock);
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

/** Removes the temporary files an interrupted write left at the top of `dir` and in its checkpoints folder. */
function removeStrayTemporaries(dir: string): void {
  for (const d of [dir, join(dir, RUN_FILES.checkpoints)]) {
    if (!existsSync(d)) continue;
    for (const name of readdirSync(d)) if (name.startsWith(TEMPORARY_PREFIX)) rmSync(join(d, name), { force: true });
  }
}

/** Removes what vaekit wrote in `dir` (nothing else). */
function removeVaekitFiles(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (name !== RUN_FILES.lock && isVaekitName(name)) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/** Refuses a folder in the way that holds files vaekit did not write. */
function checkOnlyVaekit(dir: string, why: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new VaekitError(`${dir} is a file vaekit did not write, so ${why}: move it or choose another output folder.`);
  const foreign = foreignFiles(dir);
  if (foreign.length > 0) {
    throw new VaekitError(`${dir} holds files vaekit did not write (${listNames(foreign)}), so ${why}: move them or choose another output folder.`);
  }
}

export interface OpenOptions {
  /** Replace a model (and an unfinished run's checkpoints) already in the folder. */
  overwrite: boolean;
  /** Told when a lock left by a process that is gone is taken over (its PID, the folder). */
  onStale?: (pid: number, dir: string) => void;
}

export class RunFolder {
  private released = false;

  private constructor(
    /** Where the run writes now: the target, or OUT.new beside it when it replaces a model. */
    readonly dir: string,
    /** Where the finished run ends up. */
    readonly target: string,
    private readonly releases: Array<() => void>,
  ) {}

  /** Whether the run trains beside its target, to replace the model there when complete. */
  get staging(): boolean {
    return this.dir !== this.target;
  }

  /** The path of one of the run's files. */
  path(key: RunFileKey): string {
    return join(this.dir, RUN_FILES[key]);
  }

  /**
   * Checks that a new run may write `target` (a model there is replaced only with `overwrite`, and
   * then only when the folder holds nothing but vaekit's files), without writing anything.
   */
  static check(target: string, options: Pick<OpenOptions, 'overwrite'>): void {
    const dir = resolve(target);
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new VaekitError(`The output path ${target} exists and is not a folder.`);
    const model = holdsModel(dir);
    const checkpoints = existsSync(join(dir, RUN_FILES.checkpoints));
    if (!options.overwrite) {
      if (model) throw new VaekitError(`${dir} already holds a model; pass outputs.overwrite to replace it or choose another outputs.dir.`);
      if (checkpoints) throw new VaekitError(`${dir} holds the checkpoints of an unfinished run: resume it (training.resume ${target}), or pass outputs.overwrite to start over.`);
      return;
    }
    if (model) {
      checkOnlyVaekit(dir, 'replacing its model would lose them');
      for (const sibling of [`${dir}${STAGING_SUFFIX}`, `${dir}${REPLACED_SUFFIX}`]) {
        if (existsSync(sibling)) checkOnlyVaekit(sibling, `vaekit cannot use ${basename(sibling)} to replace the model in ${basename(dir)}`);
      }
    }
  }

  /** Opens `target` for a new run: checked as `check` does, locked, and (replacing a model) its staging folder made beside it. */
  static create(target: string, options: OpenOptions): RunFolder {
    RunFolder.check(target, options);
    const dir = resolve(target);
    const releases: Array<() => void> = [];
    const folder = (at: string): RunFolder => new RunFolder(at, dir, releases);
    try {
      releases.push(lockRunFolder(dir, (pid) => options.onStale?.(pid, dir)));
      if (options.overwrite && holdsModel(dir)) {
        const staging = `${dir}${STAGING_SUFFIX}`;
        // A staging folder left by an earlier, interrupted replacement (vaekit's files only: checked above).
        if (existsSync(staging)) {
          const releaseOld = lockRunFolder(staging, (pid) => options.onStale?.(pid, staging));
          rmSync(staging, { recursive: true, force: true });
          releaseOld();
        }
        releases.push(lockRunFolder(staging, (pid) => options.onStale?.(pid, staging)));
        return folder(staging);
      }
      if (options.overwrite) removeVaekitFiles(dir);
      removeStrayTemporaries(dir);
      return folder(dir);
    } catch (err) {
      for (const release of releases.reverse()) release();
      throw err;
    }
  }

  /**
   * Opens a run folder to go on with its run. A staging folder (OUT.new, whose run.json says so)
   * goes on to replace OUT; any other folder finishes in place, wherever it was copied or moved.
   */
  static resume(dir: string, options: Pick<OpenOptions, 'onStale'> = {}): RunFolder {
    const at = resolve(dir);
    const record = readRunRecord(at);
    const staging = record?.staging === true && at.endsWith(STAGING_SUFFIX);
    const target = staging ? at.slice(0, -STAGING_SUFFIX.length) : at;
    const releases: Array<() => void> = [];
    try {
      // The target's lock first: whoever holds it owns its staging folder too.
      if (staging) releases.push(lockRunFolder(target, (pid) => options.onStale?.(pid, target)));
      releases.push(lockRunFolder(at, (pid) => options.onStale?.(pid, at)));
    } catch (err) {
      for (const release of releases.reverse()) release();
      throw err;
    }
    removeStrayTemporaries(at);
    return new RunFolder(at, target, releases);
  }

  /** Writes run.json. */
  writeRecord(record: RunRecord): void {
    writeFileAtomic(this.path('spec'), `${JSON.stringify(record, null, 2)}\n`);
  }

  /**
   * The run is complete: a staging folder takes the target's place (target -> target.old, staged ->
   * target, then target.old is removed). At every moment a whole model is in target, or (between
   * the renames) the old one in target.old and the new one in the staging folder.
   */
  finish(): void {
    if (this.staging) {
      const old = `${this.target}${REPLACED_SUFFIX}`;
      checkOnlyVaekit(this.target, `the new model stays in ${this.dir}`);
      if (existsSync(old)) checkOnlyVaekit(old, `the new model stays in ${this.dir}`);
      // The target's lock goes with the old model; the staging folder's becomes the target's.
      swapInto(this.dir, this.target);
      const record = readRunRecord(this.target);
      if (record !== null) writeFileAtomic(join(this.target, RUN_FILES.spec), `${JSON.stringify({ ...record, staging: false }, null, 2)}\n`);
      const lock = join(this.target, RUN_FILES.lock);
      if (existsSync(lock) && readFileSync(lock, 'utf8') === String(process.pid)) unlinkSync(lock);
    }
    this.release();
  }

  /** Releases the locks (the run ended, was stopped or failed). */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const release of this.releases.reverse()) release();
  }
}

/** A folder's run.json, or null when it has none (folders from before run specs) or it is not readable. */
export function readRunRecord(dir: string): RunRecord | null {
  const path = join(dir, RUN_FILES.spec);
  if (!existsSync(path)) return null;
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof raw === 'object' && raw !== null && 'spec' in raw ? raw as RunRecord : null;
  } catch {
    return null;
  }
}
