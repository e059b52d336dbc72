// Exact resume: a run stopped anywhere (mid-epoch, at an epoch's end, by an AbortSignal) and
// resumed from its checkpoint ends with the same bits as the run never stopped; checkpoints
// survive the round trip through a file, the newest two are kept, and a damaged newest one falls
// back to the one before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { takeFirst } from '../src/data/dataset.js';
import { loadMnist } from '../src/data/sources/mnist.js';
import { Random } from '../src/engine/random.js';
import { checkpointFiles, latestCheckpoint, readCheckpoint, saveCheckpoint } from '../src/run/checkpoints.js';
import { VaekitError } from '../src/errors.js';
import type { Checkpoint, CheckpointOptions } from '../src/train/checkpoint.js';
import { fit, type EpochRecord, type FitOptionsInput } from '../src/train/fit.js';
import { presetConfig, type VaeConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';

const train = takeFirst(loadMnist('train'), 640); // 10 steps of 64 per epoch

/** An epoch record without its wall-clock fields (which no two runs share). */
function numbers(r: EpochRecord): Omit<EpochRecord, 'seconds' | 'imagesPerSecond'> {
  const { seconds: _s, imagesPerSecond: _i, ...rest } = r;
  return rest;
}

function copy(c: Checkpoint): Checkpoint {
  return structuredClone(c);
}

const CASES: Array<{ name: string; config: VaeConfig; options: FitOptionsInput }> = [
  {
    name: 'ELBO with warm-up, decay, binarization and noise',
    config: presetConfig('seed', { latent: 4, encoderHidden: [32], decoderHidden: [32] }),
    options: { epochs: 3, batchSize: 64, klWarmup: { kind: 'linear', epochs: 2 }, learningRateFinal: 3e-4, binarize: true, noise: { kind: 'gaussian', factor: 0.3 }, seed: 9 },
  },
  {
    name: 'IWAE with a learned mixture prior and a conditional decoder',
    config: presetConfig('seed', { latent: 3, encoderHidden: [16], decoderHidden: [16], prior: 'mog', priorComponents: 3, classes: 10 }),
    options: { epochs: 3, batchSize: 64, objective: { loss: 'iwae', samples: 2 }, noise: { kind: 'masking', probability: 0.2 }, seed: 4 },
  },
];

for (const { name, config, options } of CASES) {
  test(`resuming from any checkpoint gives the bits of the run never stopped: ${name}`, async () => {
    const saved: Checkpoint[] = [];
    const whole = new Vae(config, { seed: 1 });
    const history = await fit(whole, train, { ...options, checkpoint: { everySteps: 3, save: (c) => { saved.push(copy(c)); } } });
    // Steps 3, 6, 9 inside each epoch and each epoch's end.
    assert.deepEqual(saved.map((c) => `${c.state.epoch}:${c.state.stepInEpoch}`), ['0:3', '0:6', '0:9', '1:0', '1:3', '1:6', '1:9', '2:0', '2:3', '2:6', '2:9', '3:0']);
    for (const c of saved) {
      // A fresh model with other initial weights: everything comes from the checkpoint.
      const resumed = new Vae(config, { seed: 2 });
      const again = await fit(resumed, train, { ...options, resumeFrom: c });
      assert.deepEqual(Buffer.from(resumed.params.values.buffer), Buffer.from(whole.params.values.buffer), `resumed at ${c.state.epoch}:${c.state.stepInEpoch}`);
      assert.deepEqual(again.epochs.map(numbers), history.epochs.map(numbers));
      assert.equal(again.steps, history.steps);
    }
  });
}

test('an aborted run saves where it stopped and resumes to the same bits', async () => {
  const { config, options } = CASES[0]!;
  const whole = new Vae(config, { seed: 1 });
  await fit(whole, train, options);
  const controller = new AbortController();
  let last: Checkpoint | null = null;
  const stopped = new Vae(config, { seed: 1 });
  const h = await fit(stopped, train, {
    ...options,
    signal: controller.signal,
    checkpoint: { everyEpochs: 0, save: (c) => { last = copy(c); } },
    callbacks: [{ onBatchEnd: (step, _r, ctx) => { if (ctx.vae === stopped && step === 7 && !controller.signal.aborted) controller.abort(); } }],
  });
  assert.equal(h.aborted, true);
  assert.equal(h.steps, 7);
  assert.ok(last !== null);
  const c = last as Checkpoint;
  assert.deepEqual([c.state.epoch, c.state.stepInEpoch], [0, 7]);
  const resumed = new Vae(config, { seed: 3 });
  await fit(resumed, train, { ...options, resumeFrom: c });
  assert.deepEqual(Buffer.from(resumed.params.values.buffer), Buffer.from(whole.params.values.buffer));
});

test('a resumed run can go on past its planned epochs (--epochs with --resume)', async () => {
  const { config, options } = CASES[0]!;
  let end: Checkpoint | null = null;
  const first = new Vae(config, { seed: 1 });
  await fit(first, train, { ...options, epochs: 2, checkpoint: { save: (c) => { end = copy(c); } } });
  const more = new Vae(config, { seed: 1 });
  const h = await fit(more, train, { ...options, epochs: 4, resumeFrom: end! });
  assert.deepEqual(h.epochs.map((r) => r.epoch), [1, 2, 3, 4]);
  assert.notDeepEqual(Buffer.from(more.params.values.buffer), Buffer.from(first.params.values.buffer));
});

test('a checkpoint of another model is refused in one sentence', async () => {
  const { config, options } = CASES[0]!;
  let c: Checkpoint | null = null;
  await fit(new Vae(config, { seed: 1 }), takeFirst(train, 128), { ...options, epochs: 1, checkpoint: { save: (x) => { c = copy(x); } } });
  const other = new Vae(presetConfig('seed', { latent: 5, encoderHidden: [32], decoderHidden: [32] }));
  await assert.rejects(fit(other, train, { ...options, resumeFrom: c! }), (e: unknown) => e instanceof VaekitError && /holds \d+ parameters but this model has \d+/.test(e.message));
});

test('checkpoint files: a round trip keeps every bit, the newest two are kept, a damaged newest falls back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vaekit-ckpt-'));
  try {
    const rng = new Random(1);
    const make = (steps: number): Checkpoint => {
      const arr = (): Float32Array => { const a = new Float32Array(50); rng.fillNormal(a); return a; };
      return {
        state: {
          epoch: 1, stepInEpoch: 2, steps, shuffleAtEpochStart: rng.getState(), sample: [4294967295, 0, 7, 9],
          totals: { loss: 1 / 3, recon: 0.1 + 0.2, kl: 1e-300, seen: 128 },
          history: [{ epoch: 1, loss: Math.PI, recon: 2, kl: Math.E, beta: 0.5, seconds: 1.25, imagesPerSecond: 512 }],
          lrScale: 0.25, warnedCollapse: true, best: steps === 24 ? null : { epoch: 1, loss: 87.5 },
        },
        params: arr(), adamM: arr(), adamV: arr(), bestParams: steps === 24 ? null : arr(), run: { flags: { latent: 4, noise: { kind: 'masking', probability: 0.1 } } },
      };
    };
    const checkpoints = [12, 24, 36].map(make);
    for (const c of checkpoints) saveCheckpoint(dir, c);
    const files = checkpointFiles(dir);
    assert.deepEqual(files.map((f) => f.split('/').at(-1)), ['checkpoint-000000036.safetensors', 'checkpoint-000000024.safetensors']);
    assert.deepEqual(readCheckpoint(files[0]!), checkpoints[2]);
    assert.deepEqual(latestCheckpoint(dir)!.checkpoint, checkpoints[2]);
    writeFileSync(files[0]!, 'not a checkpoint at all');
    assert.deepEqual(latestCheckpoint(dir)!.checkpoint, checkpoints[1], 'a damaged newest checkpoint falls back to the one before');
    assert.throws(() => readCheckpoint(files[0]!), VaekitError);
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes('tmp')), []);
    assert.equal(latestCheckpoint(join(dir, 'nothing')), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('early stopping keeps the best epoch\'s weights, and resumes exactly from a checkpoint mid-way', async () => {
  const config = presetConfig('seed', { latent: 4, encoderHidden: [32], decoderHidden: [32] });
  const small = takeFirst(train, 256);
  // A validation loss that falls, then rises for good after epoch 2: stop at epoch 4 with patience 2.
  const losses = [5, 3, 4, 6, 7, 8];
  const validate = (): { loss: number; recon: number; kl: number } => {
    const loss = losses[calls++ % losses.length]!;
    return { loss, recon: loss, kl: 0 };
  };
  let calls = 0;
  const weightsAt = new Map<number, Buffer>();
  const saved: Checkpoint[] = [];
  const vae = new Vae(config, { seed: 1 });
  const h = await fit(vae, small, {
    epochs: 6, batchSize: 64, validate, earlyStopping: { patience: 2 },
    checkpoint: { everySeconds: 0, save: (c) => { saved.push(copy(c)); } },
    callbacks: [{ onEpochEnd: (r) => { weightsAt.set(r.epoch, Buffer.from(vae.params.values.slice().buffer)); } }],
  });
  assert.deepEqual(h.epochs.map((r) => r.epoch), [1, 2, 3, 4]);
  assert.equal(h.stoppedEarlyAt, 2);
  assert.deepEqual(Buffer.from(vae.params.values.buffer), weightsAt.get(2), 'the model holds epoch 2\'s weights');
  // Resumed from the end of epoch 3 (best still epoch 2): the same stop, the same weights.
  calls = 3;
  const again = new Vae(config, { seed: 5 });
  const h2 = await fit(again, small, { epochs: 6, batchSize: 64, validate, earlyStopping: { patience: 2 }, resumeFrom: saved[2]! });
  assert.equal(h2.stoppedEarlyAt, 2);
  assert.deepEqual(Buffer.from(again.params.values.buffer), weightsAt.get(2));
  await assert.rejects(fit(new Vae(config), small, { epochs: 1, earlyStopping: { patience: 1 } }), /watches the validation loss, and this training has no validation/);
});

test('checkpoints by time: at most one in everySeconds (30 by default), always at the last epoch and when stopped; everySteps as asked', async () => {
  const { config, options } = CASES[0]!;
  const small = takeFirst(train, 128); // 2 steps per epoch
  const positions = async (checkpoint: Partial<CheckpointOptions>, extra: FitOptionsInput = {}): Promise<string[]> => {
    const saved: string[] = [];
    await fit(new Vae(config, { seed: 1 }), small, { ...options, ...extra, checkpoint: { ...checkpoint, save: (c) => { saved.push(`${c.state.epoch}:${c.state.stepInEpoch}`); } } });
    return saved;
  };
  // A fast run writes only the last epoch's checkpoint; without the time limit, every epoch's.
  assert.deepEqual(await positions({}), ['3:0']);
  assert.deepEqual(await positions({ everySeconds: 0 }), ['1:0', '2:0', '3:0']);
  assert.deepEqual(await positions({ everyEpochs: 2, everySeconds: 0 }), ['2:0', '3:0']);
  assert.deepEqual(await positions({ everyEpochs: 0, everySeconds: 0 }), ['3:0']);
  // Steps asked for are written as asked (no time limit unless one is given).
  assert.deepEqual(await positions({ everySteps: 1 }), ['0:1', '1:0', '1:1', '2:0', '2:1', '3:0']);
  assert.deepEqual(await positions({ everySteps: 1, everySeconds: 30 }), ['3:0']);
  // Epochs 80 ms apart (the first 80 ms after the start) with a limit of 50 ms: every epoch's.
  const wait = (): Promise<void> => new Promise<void>((r) => setTimeout(r, 80));
  const slow = { callbacks: [{ onTrainBegin: wait, onEpochEnd: wait }] };
  assert.deepEqual(await positions({ everySeconds: 0.05 }, slow), ['1:0', '2:0', '3:0']);
  // Stopped by the signal: a checkpoint where it stopped, whatever the time.
  const controller = new AbortController();
  const stopped = await positions({}, { signal: controller.signal, callbacks: [{ onBatchEnd: (step) => { if (step === 1) controller.abort(); } }] });
  assert.deepEqual(stopped, ['0:1']);
  await assert.rejects(positions({ everySeconds: -1 }), (e: unknown) => e instanceof VaekitError && /everySeconds must be a number >= 0, not -1/.test(e.message));
});
