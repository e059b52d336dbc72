// Kill and resume through the real CLI: a run killed with SIGKILL halfway through writing a
// checkpoint, right after an epoch's checkpoint, and at a moment chosen by a timer, then resumed each
// time with `vaekit train --resume DIR`, ends with the weights, metrics.jsonl and test metrics of
// the same run never stopped, byte for byte; so does one killed after the only checkpoint the
// default cadence (at most one in 30 s) writes in a short run, at its end. Also: a second process is refused while one trains, a
// resume refuses a changed setting by name, and SIGINT stops with a checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', 'bin', 'vaekit.js');
const work = mkdtempSync(join(tmpdir(), 'vaekit-resume-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

// 94 steps of 64 per epoch, a checkpoint every 25 steps and at each epoch's end.
const RUN = ['train', '--limit', '6000', '--epochs', '3', '--batch-size', '64', '--hidden', '128', '--latent', '8', '--checkpoint-every-steps', '25'];

function vaekit(args: string[], env: Record<string, string> = {}): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts vaekit and sends it `signal` once its output matches `when` and then `ms` milliseconds have passed (or lets it finish first). */
function killAfter(args: string[], ms: number, signal: NodeJS.Signals, when = /^/): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => { if (timer === undefined && when.test(stdout)) timer = setTimeout(() => child.kill(signal), ms); };
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); arm(); });
    arm();
    child.on('exit', (status, sig) => {
      clearTimeout(timer);
      done({ status, signal: sig, stdout });
    });
  });
}

function checkpointsOf(dir: string): string[] {
  const d = join(dir, 'checkpoints');
  return existsSync(d) ? readdirSync(d).sort() : [];
}

const FILES = ['weights.safetensors', 'metrics.jsonl', 'test-metrics.json'];

test('killed with SIGKILL during a checkpoint write, between epochs and mid-epoch, resumed each time: the same bytes as never stopped', async () => {
  const whole = join(work, 'whole');
  const r = vaekit([...RUN, '--out', whole]);
  assert.equal(r.status, 0, r.stderr);

  const killed = join(work, 'killed');
  // 1. Halfway through writing its 2nd checkpoint (step 50 of epoch 1).
  const first = vaekit([...RUN, '--out', killed], { VAEKIT_TEST_KILL: 'during:2' });
  assert.equal(first.signal, 'SIGKILL');
  assert.ok(checkpointsOf(killed).some((n) => n.startsWith('.vaekit-tmp-')), 'a half-written checkpoint was left behind');
  assert.ok(checkpointsOf(killed).includes('checkpoint-000000025.safetensors'));
  assert.ok(!existsSync(join(killed, 'weights.safetensors')));
  // 2. Resumed from step 25, killed right after its 3rd checkpoint: the end of epoch 1 (step 94).
  const second = vaekit(['train', '--resume', killed], { VAEKIT_TEST_KILL: 'after:3' });
  assert.equal(second.signal, 'SIGKILL', second.stderr);
  assert.match(second.stdout, /resuming at epoch 1, step 25/);
  assert.ok(checkpointsOf(killed).includes('checkpoint-000000094.safetensors'));
  assert.ok(!checkpointsOf(killed).some((n) => n.startsWith('.vaekit-tmp-')), 'the resumed run cleaned up the half-written file');
  // 3. Resumed at the start of epoch 2, killed by a timer somewhere in it (or later), then to the end.
  const third = await killAfter(['train', '--resume', killed], 100, 'SIGKILL', /^data: /m);
  assert.match(third.stdout, /resuming at epoch 2, step 0/);
  let last = vaekit(['train', '--resume', killed]);
  for (let i = 0; i < 3 && last.status !== 0; i++) last = vaekit(['train', '--resume', killed]);
  assert.equal(last.status, 0, last.stderr);
  for (const f of FILES) assert.deepEqual(readFileSync(join(killed, f)), readFileSync(join(whole, f)), `${f} differs from the uninterrupted run's`);
  assert.ok(checkpointsOf(killed).length <= 2, 'the newest two checkpoints are kept');
});

test('with the default cadence (at most a checkpoint in 30 s) a fast run checkpoints at its end; killed right after it, resumed: the same bytes', async () => {
  // No --checkpoint-every-steps: a run of a few seconds writes one checkpoint, at the end of its last epoch.
  const run = RUN.filter((_, i) => i < RUN.indexOf('--checkpoint-every-steps'));
  const whole = join(work, 'whole-default');
  assert.equal(vaekit([...run, '--out', whole]).status, 0);
  const killed = join(work, 'killed-default');
  // Killed right after that checkpoint: before the last epoch's metrics line and the model are written.
  const first = vaekit([...run, '--out', killed], { VAEKIT_TEST_KILL: 'after:1' });
  assert.equal(first.signal, 'SIGKILL');
  assert.deepEqual(checkpointsOf(killed), ['checkpoint-000000282.safetensors']);
  assert.equal(readFileSync(join(killed, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2, 'the last epoch\'s line is not written yet');
  const resumed = vaekit(['train', '--resume', killed]);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout, /resuming at epoch 4, step 0/);
  for (const f of FILES) assert.deepEqual(readFileSync(join(killed, f)), readFileSync(join(whole, f)), `${f} differs from the uninterrupted run's`);
});

test('SIGINT stops after the current step with a checkpoint; --resume with --epochs extends a finished run', async () => {
  const dir = join(work, 'interrupted');
  // The signal comes as epoch 1's line is printed: epochs 2 and 3 are still to run.
  const stopped = await killAfter([...RUN, '--out', dir], 0, 'SIGINT', /^Epoch 1\/3 /m);
  assert.equal(stopped.status, 130, stopped.stdout);
  assert.match(stopped.stdout, /Stopped after \d+ steps; the checkpoint is in .*Resume with: npx vaekit train --resume/);
  assert.ok(!existsSync(join(dir, 'weights.safetensors')), 'a stopped run writes no model');
  const done = vaekit(['train', '--resume', dir]);
  assert.equal(done.status, 0, done.stderr);
  const more = vaekit(['train', '--resume', dir, '--epochs', '4']);
  assert.equal(more.status, 0, more.stderr);
  assert.match(more.stdout, /resuming at epoch 4, step 0/);
  const epochs = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch);
  assert.deepEqual(epochs, [1, 2, 3, 4]);
});

test('a resume refuses a changed setting by name, a folder without checkpoints, and a second process while one trains', async () => {
  const dir = join(work, 'settings');
  assert.equal(vaekit([...RUN, '--epochs', '1', '--out', dir]).status, 0);
  const changed = vaekit(['train', '--resume', dir, '--latent', '16']);
  assert.equal(changed.status, 1);
  assert.match(changed.stderr, /^error: --latent was 8 in the run in .*settings, not 16: a resumed run keeps its settings \(only --epochs may change\)/);
  const none = vaekit(['train', '--resume', join(work, 'nothing')]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /nothing has no checkpoint to resume from/);
  const again = vaekit([...RUN, '--out', dir]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already holds a model; pass --overwrite/);

  // A lock held by a live process refuses; one left by a dead process is taken over.
  const busy = join(work, 'busy');
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
  try {
    rmSync(busy, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(busy);
    writeFileSync(join(busy, '.vaekit.lock'), String(holder.pid));
    const refused = vaekit([...RUN, '--epochs', '1', '--out', busy]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, new RegExp(`is in use by another vaekit process \\(PID ${holder.pid}\\)`));
  } finally {
    holder.kill('SIGKILL');
  }
  await new Promise((r) => setTimeout(r, 200));
  const taken = vaekit([...RUN, '--epochs', '1', '--out', busy]);
  assert.equal(taken.status, 0, taken.stderr);
  assert.match(taken.stdout, new RegExp(`took over .*busy from process ${holder.pid}, which is gone`));
  assert.ok(!existsSync(join(busy, '.vaekit.lock')), 'the lock is released at the end');
});

test('--overwrite trains beside the old model and swaps it in when complete; killed on the way, the old model is whole', async () => {
  const dir = join(work, 'replaced');
  assert.equal(vaekit([...RUN, '--epochs', '1', '--out', dir]).status, 0);
  const oldWeights = readFileSync(join(dir, 'weights.safetensors'));
  const oldMetrics = readFileSync(join(dir, 'metrics.jsonl'));
  // Killed right after its second checkpoint (epoch 1, step 50), in the new run's staging folder.
  const killed = vaekit([...RUN, '--latent', '6', '--out', dir, '--overwrite'], { VAEKIT_TEST_KILL: 'after:2' });
  assert.equal(killed.signal, 'SIGKILL');
  assert.deepEqual(readFileSync(join(dir, 'weights.safetensors')), oldWeights, 'the old model is untouched');
  assert.deepEqual(readFileSync(join(dir, 'metrics.jsonl')), oldMetrics, 'and so is its metrics log');
  assert.equal(vaekit(['sample', '--model', dir, '--count', '4', '--out', join(work, 'old.png')]).status, 0, 'the old model still loads');
  assert.ok(existsSync(join(`${dir}.new`, 'checkpoints')));
  // Resumed in the staging folder, the run ends by putting itself in the model's place.
  const resumed = vaekit(['train', '--resume', `${dir}.new`]);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.ok(!existsSync(`${dir}.new`) && !existsSync(`${dir}.old`));
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model: { latent: number } };
  assert.equal(config.model.latent, 6);
  assert.equal(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 3);
  assert.ok(!existsSync(join(dir, '.vaekit.lock')));
});

test('a training whose parent process dies (a killed npx) stops with a checkpoint instead of training on alone', async () => {
  const dir = join(work, 'orphan');
  // sh stands for npx: it waits for its node child, and is killed with SIGKILL.
  const args = [...RUN, '--epochs', '8', '--out', dir].map((a) => `'${a}'`).join(' ');
  const shell = spawn('sh', ['-c', `'${process.execPath}' '${BIN}' ${args}; true`], { stdio: 'ignore' });
  const lock = join(dir, '.vaekit.lock');
  for (let i = 0; i < 100 && !existsSync(join(dir, 'checkpoints')); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(existsSync(lock), 'training has started');
  const pid = Number(readFileSync(lock, 'utf8'));
  shell.kill('SIGKILL');
  // The orphan notices within a second or two, saves a checkpoint and exits, releasing its lock.
  for (let i = 0; i < 100 && existsSync(lock); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(!existsSync(lock), 'the orphaned training stopped');
  const alive = (): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
  for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(!alive(), 'its process is gone');
  assert.ok(checkpointsOf(dir).length > 0);
  assert.ok(!existsSync(join(dir, 'weights.safetensors')), 'it wrote no model');
  const resumed = vaekit(['train', '--resume', dir]);
  assert.equal(resumed.status, 0, resumed.stderr);
});
