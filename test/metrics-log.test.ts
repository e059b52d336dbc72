// The metrics log appends one line per epoch; a resumed run rewrites it once to its checkpoint's
// history (whatever a killed run appended after that checkpoint, half a line included) and ends
// with exactly the bytes of the run never stopped, one line per epoch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { takeFirst } from '../src/data/dataset.js';
import { loadMnist } from '../src/data/sources/mnist.js';
import { RUN_FILES } from '../src/run/names.js';
import { metricsLog } from '../src/train/callbacks.js';
import type { Checkpoint } from '../src/train/checkpoint.js';
import { fit, type FitOptionsInput } from '../src/train/fit.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';

const train = takeFirst(loadMnist('train'), 256);
const config = presetConfig('seed', { latent: 4, encoderHidden: [32], decoderHidden: [32] });
const options: FitOptionsInput = { epochs: 4, batchSize: 64, seed: 3, validate: () => ({ loss: 1, recon: 1, kl: 0 }) };

test('the metrics log appends one line per epoch, and a resumed run ends with the bytes of one never stopped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vaekit-metrics-'));
  try {
    const files = (sub: string) => ({ metrics: join(dir, sub, RUN_FILES.metrics), timing: join(dir, sub, RUN_FILES.timing) });
    const whole = files('whole').metrics;
    const saved: Checkpoint[] = [];
    await fit(new Vae(config, { seed: 1 }), train, {
      ...options, callbacks: [metricsLog(files('whole'))], checkpoint: { everySeconds: 0, save: (c) => { saved.push(structuredClone(c)); } },
    });
    const lines = readFileSync(whole, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; seconds?: number });
    assert.deepEqual(lines.map((l) => l.epoch), [1, 2, 3, 4]);
    assert.ok(lines.every((l) => l.seconds === undefined), 'the wall-clock times go to timing.jsonl');
    assert.equal(readFileSync(files('whole').timing, 'utf8').trim().split('\n').length, 4);

    // Killed after epoch 3's line was appended and half of epoch 4's, with the newest checkpoint at epoch 2's end.
    const path = files('killed').metrics;
    await fit(new Vae(config, { seed: 1 }), train, { ...options, epochs: 3, callbacks: [metricsLog(files('killed'))] });
    appendFileSync(path, '{"epoch":4,"loss":');
    appendFileSync(files('killed').timing, '{"epoch":4,');
    const at2 = saved[1]!;
    assert.equal(at2.state.epoch, 2);
    await fit(new Vae(config, { seed: 2 }), train, { ...options, resumeFrom: at2, callbacks: [metricsLog(files('killed'), at2.state.history)] });
    assert.deepEqual(readFileSync(path), readFileSync(whole));
    assert.deepEqual(readFileSync(files('killed').timing, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch), [1, 2, 3, 4]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
