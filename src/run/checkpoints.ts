/**
 * Checkpoints on disk: one safetensors file each, `checkpoint-<steps>.safetensors` in the run's
 * `checkpoints/` folder, holding the parameters and Adam's moments as tensors and the training state
 * and the run's settings as JSON metadata. Written atomically (temporary name, fsync, rename), so a
 * kill at any moment leaves every checkpoint whole; the newest two are kept. Reading checks the
 * format, the sizes and every field, and a damaged newest checkpoint falls back to the one before.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clip, VaekitError } from '../errors.js';
import { CHECKPOINT_VERSION, type Checkpoint, type CheckpointOptions, type TrainState } from '../train/checkpoint.js';
import { MAX_VALUES } from '../vae/model.js';
import { TEMPORARY_PREFIX, temporaryPathFor, writeFileAtomic } from '../io/atomic-write.js';
import { readFileOrExplain } from '../io/fs-errors.js';
import { decodeSafetensors, encodeSafetensors, maxSafetensorsBytes } from '../io/safetensors.js';
import { RUN_FILES } from './names.js';

const FORMAT = 'vaekit-checkpoint';
const KEEP = 2;
const NAME = /^checkpoint-(\d+)\.safetensors$/;

/** The checkpoint files of a run folder, newest (most steps) first. */
export function checkpointFiles(runDir: string): string[] {
  const dir = join(runDir, RUN_FILES.checkpoints);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => ({ name, steps: NAME.exec(name)?.[1] }))
    .filter((f): f is { name: string; steps: string } => f.steps !== undefined)
    .sort((a, b) => Number(b.steps) - Number(a.steps))
    .map((f) => join(dir, f.name));
}

/**
 * Fault injection for the kill-and-resume test: VAEKIT_TEST_KILL=during:N kills this process with
 * SIGKILL halfway through writing its Nth checkpoint (a half-written temporary file, as a real kill
 * would leave), after:N right after the Nth is in place. Unset, nothing happens.
 */
const testKill = /^(during|after):(\d+)$/.exec(globalThis.process?.env?.['VAEKIT_TEST_KILL'] ?? '');
let checkpointsWritten = 0;

/** Writes a checkpoint into the run folder and removes all but the newest two (and any temporary file a killed run left). */
export function saveCheckpoint(runDir: string, c: Checkpoint): string {
  checkpointsWritten++;
  const killHere = testKill !== null && Number(testKill[2]) === checkpointsWritten ? testKill[1] : null;
  const path = join(runDir, RUN_FILES.checkpoints, `checkpoint-${String(c.state.steps).padStart(9, '0')}.safetensors`);
  const n = c.params.length;
  const bytes = encodeSafetensors(
    {
      'params': { shape: [n], data: c.params }, 'adam.m': { shape: [n], data: c.adamM }, 'adam.v': { shape: [n], data: c.adamV },
      ...(c.bestParams !== null ? { 'best.params': { shape: [n], data: c.bestParams } } : {}),
    },
    { format: FORMAT, version: String(CHECKPOINT_VERSION), state: JSON.stringify(c.state), run: JSON.stringify(c.run) },
  );
  if (killHere === 'during') {
    writeFileSync(temporaryPathFor(path), bytes.subarray(0, bytes.length >> 1));
    process.kill(process.pid, 'SIGKILL');
  }
  writeFileAtomic(path, bytes);
  if (killHere === 'after') process.kill(process.pid, 'SIGKILL');
  const dir = join(runDir, RUN_FILES.checkpoints);
  for (const name of readdirSync(dir)) if (name.startsWith(TEMPORARY_PREFIX)) rmSync(join(dir, name), { force: true });
  for (const old of checkpointFiles(runDir).slice(KEEP)) rmSync(old, { force: true });
  return path;
}

/** fit's checkpoint option that saves into a run folder. */
export function checkpointTo(runDir: string, every: Omit<CheckpointOptions, 'save'> = {}): CheckpointOptions {
  return { ...every, save: (c) => { saveCheckpoint(runDir, c); } };
}

/** Reads one checkpoint file, checking everything in it. */
export function readCheckpoint(path: string): Checkpoint {
  // Four tensors (parameters, Adam's two moments, the best parameters) of at most MAX_VALUES values each.
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileOrExplain(path, 'checkpoint', maxSafetensorsBytes(4 * MAX_VALUES))), path);
  const bad = (what: string): never => {
    throw new VaekitError(`${path} is not a usable vaekit checkpoint: ${what}.`);
  };
  if (metadata['format'] !== FORMAT) bad(`its format is not "${FORMAT}"`);
  if (metadata['version'] !== String(CHECKPOINT_VERSION)) bad(`it is version ${clip(metadata['version'] ?? 'unknown')}, and this vaekit reads version ${CHECKPOINT_VERSION}`);
  const params = tensors['params']?.data;
  const adamM = tensors['adam.m']?.data;
  const adamV = tensors['adam.v']?.data;
  if (params === undefined || adamM === undefined || adamV === undefined) bad('it lacks the parameters or the optimizer moments');
  if (adamM!.length !== params!.length || adamV!.length !== params!.length) bad('its optimizer moments do not match its parameters');
  const state = parseJson(metadata['state'], path, 'state') as TrainState;
  const run = parseJson(metadata['run'], path, 'run');
  checkState(state, bad);
  if (typeof run !== 'object' || run === null || Array.isArray(run)) bad('its run settings are not an object');
  const bestParams = tensors['best.params']?.data ?? null;
  if (bestParams !== null && bestParams.length !== params!.length) bad('its best parameters do not match its parameters');
  if ((bestParams === null) !== (state.best === null)) bad('its early-stopping state and best parameters disagree');
  return { state, params: params!, adamM: adamM!, adamV: adamV!, bestParams, run: run as Record<string, unknown> };
}

/** The newest readable checkpoint of a run folder (a damaged newest one falls back to the one before), or null when it has none. */
export function latestCheckpoint(runDir: string): { path: string; checkpoint: Checkpoint } | null {
  const files = checkpointFiles(runDir);
  let firstError: unknown = null;
  for (const path of files) {
    try {
      return { path, checkpoint: readCheckpoint(path) };
    } catch (err) {
      firstError ??= err;
    }
  }
  if (firstError !== null) throw firstError;
  return null;
}

function parseJson(text: string | undefined, path: string, what: string): unknown {
  try {
    if (text === undefined) throw new Error('missing');
    return JSON.parse(text);
  } catch {
    throw new VaekitError(`${path} is not a usable vaekit checkpoint: its ${what} is missing or not JSON.`);
  }
}

function checkState(s: TrainState, bad: (what: string) => never): void {
  const count = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= 0;
  const words = (x: unknown): boolean => Array.isArray(x) && x.length === 4 && x.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff);
  if (typeof s !== 'object' || s === null) bad('its state is not an object');
  if (!count(s.epoch) || !count(s.stepInEpoch) || !count(s.steps)) bad('its epoch, step or step count is not a whole number >= 0');
  if (!words(s.shuffleAtEpochStart) || !words(s.sample)) bad('its generator states are not four 32-bit words each');
  const t = s.totals;
  if (typeof t !== 'object' || t === null || ![t.loss, t.recon, t.kl].every((x) => typeof x === 'number' && Number.isFinite(x)) || !count(t.seen)) bad('its running sums are not finite numbers');
  if (s.best !== null && (typeof s.best !== 'object' || !count(s.best.epoch) || typeof s.best.loss !== 'number' || !Number.isFinite(s.best.loss))) bad('its early-stopping state is not an epoch and a loss');
  if (!(typeof s.lrScale === 'number' && s.lrScale > 0 && s.lrScale <= 1) || typeof s.warnedCollapse !== 'boolean') bad('its learning-rate factor or warning flag is missing');
  if (!Array.isArray(s.history) || s.history.length !== s.epoch || s.history.some((r, i) => typeof r !== 'object' || r === null || r.epoch !== i + 1)) {
    bad('its history does not list one record per completed epoch');
  }
}
