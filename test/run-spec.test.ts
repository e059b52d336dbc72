// The run spec: one description of a run, validated in one place (messages name the field), kept
// as run.json in every run folder, and trained again bit for bit with vaekit train --config; the
// run folder: a copied folder resumes in place, --overwrite touches only vaekit's files.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRunSpec, SpecFieldError, validateRunSpec } from '../src/run/spec.js';
import { inFlagText, inFlagWords } from '../src/cli/spec-flags.js';
import { planRun } from '../src/run/plan.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'vaekit.js');
const work = mkdtempSync(join(tmpdir(), 'vaekit-spec-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const at = (...p: string[]): string => join(work, ...p);

function vaekit(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const SMALL = ['--limit', '600', '--epochs', '2', '--hidden', '16', '--latent', '3', '--batch-size', '64'];

describe('validateRunSpec', () => {
  it('fills every missing field with its default', () => {
    assert.deepEqual(validateRunSpec({}), defaultRunSpec());
    const spec = validateRunSpec({ model: { latent: 8 }, training: { epochs: 3 } });
    assert.equal(spec.model.latent, 8);
    assert.equal(spec.training.epochs, 3);
    assert.equal(spec.training.batchSize, 128);
  });

  it('names the field it refuses, and the CLI names the flag instead', () => {
    const refused = (input: unknown, field: string, pattern: RegExp): void => {
      try {
        validateRunSpec(input);
        assert.fail(`accepted ${JSON.stringify(input)}`);
      } catch (err) {
        assert.ok(err instanceof SpecFieldError, String(err));
        assert.equal(err.field, field);
        assert.match(err.message, pattern);
      }
    };
    refused({ model: { latent: 0 } }, 'model.latent', /^model\.latent must be a whole number from 1 to 4096, not 0\.$/);
    refused({ model: { latent: 2.5 } }, 'model.latent', /not 2\.5/);
    refused({ model: { latnet: 4 } }, 'model.latnet', /is not a field of a vaekit run spec/);
    refused({ noise: { input: 'pink:3' } }, 'noise.input', /Unknown noise "pink:3"/);
    refused({ objective: { loss: 'elbo', samples: 5 } }, 'objective.samples', /this run's loss is elbo/);
    refused({ training: { precision: 'fp16' } }, 'training.precision', /must be one of "fp32", "bf16"/);
    refused({ data: { validation: { fraction: 1 } } }, 'data.validation.fraction', /between 0 and 1|greater than 0/);
    refused({ seed: -1 }, 'seed', /seed must be a whole number from 0 to 4294967295/);
    const err = inFlagWords(new SpecFieldError('model.latent', 'must be a whole number from 1 to 4096, not 0.'));
    assert.equal((err as Error).message, '--latent must be a whole number from 1 to 4096, not 0.');
  });

  it('the library names settings by their spec fields, and the CLI says the same sentence with flags', async () => {
    const table = at('table.csv');
    writeFileSync(table, `a,b\n${Array.from({ length: 40 }, (_, i) => `${i},${i % 7}`).join('\n')}\n`);
    await assert.rejects(planRun({ data: { source: table }, model: { preset: 'conv' } }), /holds features: use model\.preset seed or mlp\.$/);
    const cli = vaekit(['train', '--data', table, '--preset', 'conv', '--out', at('refused')]);
    assert.equal(cli.status, 1);
    assert.match(cli.stderr, /holds features: use --preset seed or mlp\.\n$/);
    assert.ok(!existsSync(at('refused')), 'nothing is written');
    // Nested fields, other calls' options, and dotted names that are not settings (file names, paths).
    assert.equal(inFlagText('data.validation.fraction must be between 0 and 1; give eval.knnK or data.imageSize.'), '--validation must be between 0 and 1; give --knn-k or --image-size.');
    assert.equal(inFlagText('/tmp/data.labels.npy and model.safetensors keep their names'), '/tmp/data.labels.npy and model.safetensors keep their names');
  });
});

describe('run folders and run.json through the CLI', () => {
  it('keeps the spec as run.json, trains it again bit for bit with --config, and records what flags changed', () => {
    const a = at('a');
    assert.equal(vaekit(['train', ...SMALL, '--out', a]).status, 0);
    const record = JSON.parse(readFileSync(join(a, 'run.json'), 'utf8')) as { spec: { training: { epochs: number } }; dataFingerprint: string; vaekit: string };
    assert.equal(record.spec.training.epochs, 2);
    assert.match(record.dataFingerprint, /^v2:[0-9a-f]{64}$/);
    const b = at('b');
    const r = vaekit(['train', '--config', join(a, 'run.json'), '--out', b]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readFileSync(join(b, 'weights.safetensors')), readFileSync(join(a, 'weights.safetensors')));
    assert.deepEqual(readFileSync(join(b, 'metrics.jsonl')), readFileSync(join(a, 'metrics.jsonl')));
    // --print-config: the spec with the flags' changes, and nothing written.
    const printed = vaekit(['train', '--config', join(a, 'run.json'), '--epochs', '5', '--out', at('never'), '--print-config']);
    assert.equal(printed.status, 0, printed.stderr);
    const spec = JSON.parse(printed.stdout) as { training: { epochs: number }; model: { latent: number }; outputs: { dir: string } };
    assert.equal(spec.training.epochs, 5);
    assert.equal(spec.model.latent, 3);
    assert.equal(spec.outputs.dir, at('never'));
    assert.ok(!existsSync(at('never')));
    const c = at('c');
    assert.equal(vaekit(['train', '--config', join(a, 'run.json'), '--epochs', '3', '--out', c]).status, 0);
    const from = (JSON.parse(readFileSync(join(c, 'run.json'), 'utf8')) as { from: { overrides: string[] } }).from;
    assert.deepEqual(from.overrides, ['--epochs', '--out']);
  });

  it('resumes a copied folder in place, leaving the original as it was', () => {
    const orig = at('orig');
    const killed = vaekit(['train', ...SMALL, '--checkpoint-every-steps', '4', '--out', orig], { VAEKIT_TEST_KILL: 'after:2' });
    assert.notEqual(killed.status, 0);
    const copy = at('copy');
    cpSync(orig, copy, { recursive: true });
    const r = vaekit(['train', '--resume', copy]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(copy, 'weights.safetensors')));
    assert.ok(!existsSync(join(orig, 'weights.safetensors')), 'the original folder got a model');
    const whole = at('whole');
    assert.equal(vaekit(['train', ...SMALL, '--checkpoint-every-steps', '4', '--out', whole]).status, 0);
    assert.deepEqual(readFileSync(join(copy, 'weights.safetensors')), readFileSync(join(whole, 'weights.safetensors')));
  });

  it('--overwrite replaces a model whose folder holds only vaekit files, and removes none of the user\'s', () => {
    const dir = at('replace');
    assert.equal(vaekit(['train', ...SMALL, '--out', dir]).status, 0);
    const before = readFileSync(join(dir, 'weights.safetensors'));
    writeFileSync(at('replace.old'), 'not vaekit\'s');
    const r = vaekit(['train', ...SMALL, '--seed', '1', '--out', dir, '--overwrite']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /replace\.old/);
    assert.deepEqual(readFileSync(join(dir, 'weights.safetensors')), before);
    rmSync(at('replace.old'));
    assert.equal(vaekit(['train', ...SMALL, '--seed', '1', '--out', dir, '--overwrite']).status, 0);
    assert.notDeepEqual(readFileSync(join(dir, 'weights.safetensors')), before);
    assert.ok(!existsSync(`${dir}.new`) && !existsSync(`${dir}.old`));
  });

  it('every command that writes into a run folder takes its lock: a second writer is refused and writes nothing', () => {
    const dir = at('locked');
    assert.equal(vaekit(['train', ...SMALL, '--out', dir]).status, 0);
    const files = readdirSync(dir).sort();
    // A live process (this test) holds the folder, as a training or another command would.
    writeFileSync(join(dir, '.vaekit.lock'), String(process.pid));
    for (const args of [['eval', '--model', dir, '--limit', '50', '--samples', '2'], ['figures', '--model', dir], ['report', '--model', dir],
      ['anomaly', '--model', dir, '--out', dir], ['train', ...SMALL, '--out', dir, '--overwrite']]) {
      const r = vaekit(args);
      assert.equal(r.status, 1, `${args[0]}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(`error: ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another vaekit process \\(PID ${process.pid}\\)`), args[0]);
    }
    rmSync(join(dir, '.vaekit.lock'));
    assert.deepEqual(readdirSync(dir).sort(), files, 'nothing was written');
  });
});
