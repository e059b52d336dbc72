// Training past one machine: `vaekit export-data` (the run's data as NPY shards), the PyTorch export's
// train.py (DistributedDataParallel) and `vaekit train --engine torchrun`, run with Debian's
// python3-torch on 2 CPU processes over gloo. The bundle it writes loads in vaekit and scores, by
// vaekit's own evaluation, within 0.5 nats of vaekit's own training of the same spec; a run stopped
// and resumed from its checkpoint ends with the same weights, bit for bit, as one never stopped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy } from '../src/io/npy.js';
import { loadBundle } from '../src/run/bundle.js';
import { exportRunData, type DataIndex } from '../src/run/export-data.js';
import { imagePlan, planRun } from '../src/run/plan.js';
import { cliChecks, twoClassNpy, vaekitFromSources } from './helpers/cli.js';
import { pythonWithTorch, requireTool } from './helpers/outside-tools.js';

const python = pythonWithTorch();
const { ok, refused } = cliChecks((args) => vaekitFromSources(args, 600_000));

let root = '';
let data: { x: string; y: string };

before(() => {
  root = mkdtempSync(join(tmpdir(), 'vaekit-torchrun-'));
  data = twoClassNpy(root, 500, 11, 40);
});

after(() => {
  if (root !== '') rmSync(root, { recursive: true, force: true });
});

describe('vaekit export-data', () => {
  test('writes the run\'s split as channels-first float32 shards with int64 labels, listed in index.json', async () => {
    const out = join(root, 'data');
    const plan = imagePlan(await planRun({ data: { source: data.x, labels: data.y }, model: { preset: 'seed', latent: 2, encoderHidden: [8], decoderHidden: [8] }, seed: 3 }), 'the test');
    const index = exportRunData(plan, out, { shards: 3, overwrite: false });
    const read = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as DataIndex;
    assert.deepEqual(read, JSON.parse(JSON.stringify(index)));
    assert.deepEqual(read.shape, [1, 8, 8]);
    assert.equal(read.layout, 'NCHW');
    assert.equal(read.splits.train.rows, 450);
    assert.equal(read.splits.validation.rows, 50);
    assert.deepEqual(read.splits.train.shards.map((s) => s.rows), [150, 150, 150]);
    // Every training row, shard after shard, is the plan's training row (greyscale: channels-first is the same order).
    const expected = new Float32Array(plan.train.count * 64);
    plan.train.gather(null, 0, plan.train.count, expected);
    let row = 0;
    for (const shard of read.splits.train.shards) {
      const values = readNpy(join(out, shard.values));
      assert.equal(values.dtype, 'float32');
      assert.deepEqual(values.shape, [shard.rows, 1, 8, 8]);
      assert.deepEqual(values.data, expected.subarray(row * 64, (row + shard.rows) * 64));
      const labels = readNpy(join(out, shard.labels!));
      assert.equal(labels.dtype, 'int64');
      assert.deepEqual(Array.from(labels.data as BigInt64Array, Number), Array.from(plan.train.labels!.subarray(row, row + shard.rows)));
      row += shard.rows;
    }
    assert.equal(row, plan.train.count);
  });

  test('an RGB image\'s channels go first', async () => {
    const rgb = join(root, 'rgb.npy');
    const { encodeNpy } = await import('../src/io/npy.js');
    const pixels = Uint8Array.from({ length: 20 * 2 * 3 * 3 }, (_, i) => (i * 37) % 256);
    writeFileSync(rgb, encodeNpy({ dtype: 'uint8', shape: [20, 2, 3, 3], data: pixels }));
    const plan = imagePlan(await planRun({ data: { source: rgb }, model: { preset: 'seed', latent: 2, encoderHidden: [4], decoderHidden: [4] } }), 'the test');
    const out = join(root, 'rgb');
    exportRunData(plan, out, { shards: 1, overwrite: false });
    const values = readNpy(join(out, 'train-00000.npy'));
    assert.deepEqual(values.shape, [plan.train.count, 3, 2, 3]);
    const hwc = new Float32Array(plan.train.count * 18);
    plan.train.gather(null, 0, plan.train.count, hwc);
    // Row 1, channel 2, y 1, x 0 is vaekit's (y 1, x 0, channel 2).
    assert.equal((values.data as Float32Array)[18 + 2 * 6 + 1 * 3 + 0], hwc[18 + (1 * 3 + 0) * 3 + 2]);
    assert.equal(readNpy(join(out, 'train-00000.npy')).data.length, plan.train.count * 18);
  });

  test('refuses a folder that is not empty, in one sentence, and leaves it as it was', () => {
    const out = join(root, 'taken');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine');
    refused(['export-data', '--data', data.x, '--out', out], /is not empty; pass --overwrite/, [join(out, 'index.json')]);
    refused(['export-data', '--data', data.x, '--out', out, '--overwrite'], /holds notes\.txt, which is not part of a data export/, [join(out, 'index.json')]);
    assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'mine');
  });
});

describe('vaekit train --engine torchrun', () => {
  test('refuses, in one sentence, a python that is not there', () => {
    const out = join(root, 'no-python');
    refused(['train', '--engine', 'torchrun', '--nproc', '2', '--python', '/nonexistent/python3', '--data', data.x, '--epochs', '1', '--out', out],
      /^error: The python \/nonexistent\/python3 was not found: install Python 3 with PyTorch/, [join(out, 'run.json'), out]);
  });

  test('refuses torchrun\'s flags without --engine torchrun', () => {
    refused(['train', '--nproc', '2', '--data', data.x, '--out', join(root, 'no-engine')], /--nproc applies to --engine torchrun/, [join(root, 'no-engine')]);
  });

  // The same spec: 450 training examples of 8x8 images, a dense model, 30 epochs of 15 steps.
  const specArgs = (): string[] => ['--data', data.x, '--latent', '4', '--hidden', '32', '--epochs', '30', '--batch-size', '32', '--lr', '3e-3', '--seed', '2'];

  test('2 gloo processes train a model vaekit loads, within 0.5 nats of vaekit\'s own training', (t) => {
    const py = requireTool(t, python, 'python3-torch');
    if (py === null) return;
    const torchrun = join(root, 'torchrun');
    const native = join(root, 'native');
    let started = Date.now();
    const printed = ok(['train', '--engine', 'torchrun', '--nproc', '2', '--python', py, ...specArgs(), '--out', torchrun]);
    const torchSeconds = (Date.now() - started) / 1000;
    started = Date.now();
    ok(['train', ...specArgs(), '--out', native]);
    t.diagnostic(`torchrun run ${torchSeconds.toFixed(1)} s, vaekit's ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.match(printed, /under torchrun: 2 processes \(PyTorch .* gloo\)/);
    assert.match(printed, /^Epoch 30\/30 \| .* val_loss /m);

    const { vae, training } = loadBundle(torchrun);
    assert.equal(vae.config.latent, 4);
    assert.equal(training['engine'], 'torchrun');
    assert.equal(training['processes'], 2);
    // metrics.jsonl: one line per epoch, the fields of vaekit's own.
    const lines = (dir: string): Record<string, number>[] => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    const ours = lines(torchrun);
    const theirs = lines(native);
    assert.equal(ours.length, 30);
    assert.deepEqual(ours.map((r) => Object.keys(r).sort()), theirs.map((r) => Object.keys(r).sort()));
    assert.ok(ours[29]!.loss < ours[0]!.loss - 5, `the loss fell: ${ours[0]!.loss} -> ${ours[29]!.loss}`);

    const score = (dir: string): number => (JSON.parse(readFileSync(join(dir, 'test-metrics.json'), 'utf8')) as { negElboNats: number }).negElboNats;
    t.diagnostic(`test negative ELBO: torchrun ${score(torchrun).toFixed(3)}, vaekit ${score(native).toFixed(3)} nats`);
    assert.ok(score(native) > 15 && score(native) < 40, `a meaningful scale: ${score(native)} nats`);
    assert.ok(Math.abs(score(torchrun) - score(native)) <= 0.5, `torchrun ${score(torchrun)} vs vaekit ${score(native)} nats`);
    // vaekit eval reads it like any run.
    const evaluated = ok(['eval', '--model', torchrun, '--data', data.x, '--limit', '50', '--samples', '20', '--prior-samples', '0', '--out', join(root, 'eval')]);
    assert.match(evaluated, /negative ELBO/i);
  });

  test('a run stopped and resumed from its checkpoint ends with the same weights as one never stopped', (t) => {
    const py = requireTool(t, python, 'python3-torch');
    if (py === null) return;
    const run = join(root, 'torchrun', 'torchrun-engine');
    assert.ok(existsSync(join(run, 'model', 'train.py')), 'the torchrun run of the test before left its model, data and train.py');
    const train = (out: string, more: string[]): string => {
      const r = spawnSync(py, [
        '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '--redirects', '2', '--tee', '2', '--log_dir', join(root, 'logs', out),
        join(run, 'model', 'train.py'), '--data', join(run, 'data'), '--epochs', '3', '--out', join(root, out), '--checkpoints', join(root, out, 'ck'), ...more,
      ], { encoding: 'utf8', timeout: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    train('whole', []);
    // 15 steps an epoch: stop in the middle of the second epoch, then at the end of the first.
    const stopped = train('resumed', ['--stop-after-steps', '22', '--checkpoint-every', '4']);
    assert.match(stopped, /"event": "stopped", "steps": 22/);
    assert.ok(!existsSync(join(root, 'resumed', 'weights.safetensors')));
    assert.match(train('resumed', ['--resume', '--checkpoint-every', '4']), /"event": "done", "out": .*"steps": 45/);
    train('at-epoch', ['--stop-after-steps', '15']);
    train('at-epoch', ['--resume']);
    const weights = (dir: string): Buffer => readFileSync(join(root, dir, 'weights.safetensors'));
    assert.ok(weights('whole').equals(weights('resumed')), 'stopped mid-epoch and resumed: the same bytes');
    assert.ok(weights('whole').equals(weights('at-epoch')), 'stopped at an epoch\'s end and resumed: the same bytes');
    assert.equal(readFileSync(join(root, 'resumed', 'metrics.jsonl'), 'utf8'), readFileSync(join(root, 'whole', 'metrics.jsonl'), 'utf8'));
  });
});
