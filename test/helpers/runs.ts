// Two training runs compared: the same epochs (their times aside) and the same weights, bit for bit.
import assert from 'node:assert/strict';
import { planRun, type RunPlan } from '../../src/run/plan.js';
import type { RunSpecInput } from '../../src/run/spec.js';
import { trainRun, type TrainRunResult } from '../../src/run/train-run.js';

/** Asserts that run `b` trained as run `a` did: every epoch's record but its timings, and the weights' bits. */
export function assertSameRun(a: TrainRunResult, b: TrainRunResult): void {
  const untimed = (r: TrainRunResult) => r.history.epochs.map(({ seconds: _s, imagesPerSecond: _i, ...e }) => e);
  assert.deepEqual(untimed(b), untimed(a));
  const w = (r: TrainRunResult): Buffer => Buffer.from(r.vae.params.values.buffer, r.vae.params.values.byteOffset, r.vae.params.values.byteLength);
  assert.ok(w(b).equals(w(a)), 'the weights differ');
}

/**
 * Trains the spec `spec(streamed)` makes with its data streamed (a budget of 0 bytes) and in memory
 * (the default budget), and asserts that both trained alike on the same fingerprint.
 */
export async function assertStreamedTrainsAsLoaded(spec: (memoryBudget: string | null) => RunSpecInput): Promise<{ streamed: TrainRunResult; loaded: TrainRunResult; plans: RunPlan[] }> {
  const streamedPlan = await planRun(spec('0B'));
  assert.equal(streamedPlan.train.values, null, 'the training part streams');
  assert.equal(streamedPlan.test.values, null, 'the validation part streams');
  const streamed = await trainRun(streamedPlan, { folder: null });
  const loadedPlan = await planRun(spec(null));
  assert.notEqual(loadedPlan.train.values, null, 'in memory');
  const loaded = await trainRun(loadedPlan, { folder: null });
  assert.equal(streamedPlan.fingerprint, loadedPlan.fingerprint);
  assertSameRun(loaded, streamed);
  return { streamed, loaded, plans: [streamedPlan, loadedPlan] };
}
