// The vaekit command as a user runs it (bin/vaekit.js over the compiled dist/): a short training
// run end to end, and every kind of bad input ending in one line, exit status 1 and no output file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { parseIdx, encodeIdx } from '../src/io/idx.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'vaekit.js');

function vaekit(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertUserError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
}

const work = mkdtempSync(join(tmpdir(), 'vaekit-cli-'));
const model = join(work, 'model');
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

test('info names the backend, the fp32 and bf16 product kernels and the thread count; VAEKIT_BACKEND=js forces js', () => {
  const r = vaekit(['info']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^backend: native$/m);
  assert.match(r.stdout, /^matrix products \(fp32\): (oneDNN matmul|OpenBLAS cblas_sgemm|bundled portable kernel)/m);
  assert.match(r.stdout, /^onednn: (no|\d+\.\d+\.\d+ \(dispatching to \w+\))$/m);
  assert.match(r.stdout, /^bf16 mixed precision \(--precision bf16\): (yes, oneDNN kernel \S+|no, .+)$/m);
  assert.match(r.stdout, /^threads: \d+$/m);
  const off = vaekit(['info'], { VAEKIT_DNNL: 'off' });
  assert.match(off.stdout, /^matrix products \(fp32\): (OpenBLAS cblas_sgemm|bundled portable kernel)$/m);
  assert.match(off.stdout, /^bf16 mixed precision \(--precision bf16\): no, (oneDNN is turned off \(VAEKIT_DNNL=off\)|this build of the addon has no oneDNN.*)$/m);
  const js = vaekit(['info'], { VAEKIT_BACKEND: 'js' });
  assert.match(js.stdout, /^backend: js$/m);
  assertUserError(vaekit(['info'], { VAEKIT_BACKEND: 'gpu' }), /VAEKIT_BACKEND must be "js", "native" or "auto"/);
});

test('train writes a loadable model, metrics and test metrics; denoise, figures, sample and eval use it', () => {
  const r = vaekit(['train', '--limit', '1000', '--epochs', '2', '--latent', '8', '--hidden', '64', '--out', model]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Total params: /);
  assert.match(r.stdout, /Epoch 2\/2 .*loss .*val_loss/);
  assert.match(r.stdout, /denoising PSNR \d+\.\d+ dB \(noisy input\) -> \d+\.\d+ dB \(denoised\) \| negative ELBO of clean examples given noisy ones \d+\.\d+ nats per example/);
  const metrics = readFileSync(join(model, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number });
  assert.deepEqual(metrics.map((m) => m.epoch), [1, 2]);
  const test = JSON.parse(readFileSync(join(model, 'test-metrics.json'), 'utf8')) as { images: number; psnrDenoisedDb: number };
  assert.equal(test.images, 10000);
  assert.ok(existsSync(join(model, 'weights.safetensors')));

  // Training again into the same folder needs --overwrite, and leaves the model as it was.
  const before = readFileSync(join(model, 'weights.safetensors'));
  assertUserError(vaekit(['train', '--limit', '100', '--epochs', '1', '--out', model]), /already holds a model; pass --overwrite/);
  assert.deepEqual(readFileSync(join(model, 'weights.safetensors')), before);

  const out = join(work, 'den.idx');
  const d = vaekit(['denoise', '--model', model, '--limit', '20', '--out', out]);
  assert.equal(d.status, 0, d.stderr);
  const idx = parseIdx(new Uint8Array(readFileSync(out)), out);
  assert.deepEqual(idx.shape, [20, 28, 28]);
  assert.equal(idx.dtype, 'uint8');
  const grid = pngjs.PNG.sync.read(readFileSync(join(work, 'den.png')));
  assert.ok(grid.width > 28 * 16 && grid.height > 28 * 2);

  const figs = join(work, 'figs');
  const f = vaekit(['figures', '--model', model, '--out', figs]);
  assert.equal(f.status, 0, f.stderr);
  assert.deepEqual(readdirSync(figs).sort(), ['denoised-examples.png', 'noisy-examples.png', 'samples.png', 'training-curves.png', 'training-curves.svg']);

  const s = vaekit(['sample', '--model', model, '--count', '9', '--out', join(work, 's.png')]);
  assert.equal(s.status, 0, s.stderr);
  assert.ok(existsSync(join(work, 's.png')));

  const evalDir = join(work, 'eval');
  const e = vaekit(['eval', '--model', model, '--samples', '20', '--out', evalDir]);
  assert.equal(e.status, 0, e.stderr);
  assert.match(e.stdout, /\| negative log-likelihood, importance-sampled, k = 20 \(nats\) \| \d+\.\d\d \|/);
  assert.match(e.stdout, /\| kNN accuracy from latent means \| \d+\.\d\d% \(k = 5\) \|/);
  assert.match(e.stdout, /\| prior samples that look like digits .*\| \d+\.\d% of 1000 \(test images: \d+\.\d%; at least 8 of 10 agree/);
  const evaluated = JSON.parse(readFileSync(join(evalDir, 'eval.json'), 'utf8')) as { denoising: { psnrDenoisedDb: number }; nllNats: number; negElboNats: number };
  // Same model, same seed, same test noise: the same PSNR as written after training.
  assert.equal(evaluated.denoising.psnrDenoisedDb, test.psnrDenoisedDb);
  assert.ok(evaluated.nllNats < evaluated.negElboNats);
  assert.ok(existsSync(join(evalDir, 'eval.md')));
  assertUserError(vaekit(['sample', '--model', model, '--label', '3', '--out', join(work, 'x.png')]), /is not a conditional model/);
});

test('conditional training and sampling by label; one-class anomaly detection', () => {
  const cmodel = join(work, 'cond');
  const t = vaekit(['train', '--conditional', '--limit', '2000', '--epochs', '1', '--latent', '4', '--hidden', '32', '--noise', 'none', '--out', cmodel]);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /label \(10 classes\)/);
  const s = vaekit(['sample', '--model', cmodel, '--label', '7', '--count', '4', '--out', join(work, 'sevens.png')]);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stdout, /4 samples of class 7/);
  const all = vaekit(['sample', '--model', cmodel, '--count', '20', '--out', join(work, 'rows.png')]);
  assert.equal(all.status, 0, all.stderr);
  assert.match(all.stdout, /20 samples, one row per class/);
  const rows = pngjs.PNG.sync.read(readFileSync(join(work, 'rows.png')));
  assert.ok(rows.height >= 10 * 84 + 11 * 4, `ten rows of 28x28 images scaled 3x below a title, not ${rows.height} px high`);
  assertUserError(vaekit(['sample', '--model', cmodel, '--label', '12', '--out', join(work, 'y.png')]), /This model has no class "12": use one of "0", "1"/);
  assert.ok(!existsSync(join(work, 'y.png')));

  const anomalyDir = join(work, 'anomaly');
  const a = vaekit(['anomaly', '--digit', '1', '--epochs', '1', '--latent', '4', '--hidden', '32', '--noise', 'none', '--score-samples', '1', '--out', anomalyDir]);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stdout, /class 1: AUROC \d+\.\d\d%/);
  const result = JSON.parse(readFileSync(join(anomalyDir, 'anomaly.json'), 'utf8')) as { results: Array<{ normalClass: string; auroc: number }>; meanAuroc: number };
  assert.equal(result.results[0]!.normalClass, '1');
  assert.ok(result.meanAuroc > 0.5 && result.meanAuroc <= 1);
  assert.ok(existsSync(join(anomalyDir, 'class-1', 'weights.safetensors')));
  // Each one-class task writes its scores (one row per test image) and their histogram beside its model.
  assert.equal(readFileSync(join(anomalyDir, 'class-1', 'scores.csv'), 'utf8').trim().split('\n').length, 1 + 10000);
  const histogram = pngjs.PNG.sync.read(readFileSync(join(anomalyDir, 'class-1', 'score-histogram.png')));
  assert.ok(histogram.width > 400 && histogram.height > 200, `a chart, not ${histogram.width}x${histogram.height}`);
  assertUserError(vaekit(['anomaly', '--normal-class', '1', '--all', '--out', anomalyDir]), /Give either --normal-class C or --all, not both/);
  assertUserError(vaekit(['anomaly', '--normal-class', 'eleven', '--out', join(work, 'a2')]), /MNIST train has no class "eleven"/);
});

test('a learned mixture prior from the command line: train, summary, sample and eval', () => {
  const mmodel = join(work, 'mog');
  const t = vaekit(['train', '--prior', 'mog:5', '--limit', '1000', '--epochs', '1', '--latent', '4', '--hidden', '32', '--out', mmodel]);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /prior mixture of 5 Gaussians/);
  assert.match(t.stdout, /prior \(MixtureOfGaussians\)\s+\(5, 4\)\s+45\s/);
  const config = JSON.parse(readFileSync(join(mmodel, 'config.json'), 'utf8')) as { model: { prior: string; priorComponents: number } };
  assert.deepEqual([config.model.prior, config.model.priorComponents], ['mog', 5]);
  const s = vaekit(['sample', '--model', mmodel, '--count', '4', '--out', join(work, 'mog.png')]);
  assert.equal(s.status, 0, s.stderr);
  const evalDir = join(work, 'mog-eval');
  const e = vaekit(['eval', '--model', mmodel, '--samples', '10', '--out', evalDir]);
  assert.equal(e.status, 0, e.stderr);
  assert.match(e.stdout, /\| KL per latent dimension \(nats\) \| not defined for a mixture prior/);
  const report = JSON.parse(readFileSync(join(evalDir, 'eval.json'), 'utf8')) as { klPerDimension: number[] | null; nllNats: number; negElboNats: number };
  assert.equal(report.klPerDimension, null);
  assert.ok(report.nllNats < report.negElboNats);
});

test('bad input ends in one line, exit status 1 and no partial output', () => {
  assertUserError(vaekit(['train', '--prior', 'mog:0']), /Unknown prior "mog:0"/);
  assertUserError(vaekit(['train', '--prior', 'vamp']), /Unknown prior "vamp"/);
  assertUserError(vaekit(['train', '--prior', 'mog:3', '--free-bits', '0.5', '--out', join(work, 'fb')]), /Free bits need the standard normal prior/);
  assert.ok(!existsSync(join(work, 'fb')));
  assertUserError(vaekit(['train', '--bogus']), /unknown option '--bogus'/);
  assertUserError(vaekit(['train', '--epochs', 'ten']), /--epochs.*'ten' is invalid. It must be a positive integer/);
  assertUserError(vaekit(['train', '--noise', 'pink:3']), /Unknown noise "pink:3"/);
  assertUserError(vaekit(['train', '--loss', 'mse']), /Unknown loss "mse"/);
  assertUserError(vaekit(['train', '--kl-warmup', 'linear:-1']), /Invalid KL warm-up "linear:-1"/);
  assertUserError(vaekit(['train', '--free-bits', '-2']), /--free-bits.*is invalid/);
  assertUserError(vaekit(['train', '--preset', 'conv', '--conv-channels', '8,8,8', '--out', join(work, 'c3')]), /3 stride-2 convs need image sides divisible by 8/);
  assertUserError(vaekit(['frobnicate']), /unknown command 'frobnicate'/);
  const out = join(work, 'never.idx');
  assertUserError(vaekit(['denoise', '--model', join(work, 'nope'), '--out', out]), /No model folder at/);

  const corrupt = join(work, 'corrupt.idx');
  writeFileSync(corrupt, Buffer.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3]));
  assertUserError(vaekit(['denoise', '--model', model, '--input', corrupt, '--out', out]), /corrupt\.idx/);

  const small = join(work, 'small.idx');
  writeFileSync(small, encodeIdx({ dtype: 'uint8', shape: [2, 10, 10], data: new Uint8Array(200) }));
  assertUserError(vaekit(['denoise', '--model', model, '--input', small, '--out', out]), /holds examples of shape \[10, 10, 1\] but the model takes \[28, 28, 1\]/);
  assertUserError(vaekit(['denoise', '--model', model, '--input', join(work, 'missing.idx'), '--out', out]), /missing\.idx/);
  assert.ok(!existsSync(out));
  assert.ok(!existsSync(join(work, 'never.png')));
  assert.deepEqual(readdirSync(work).filter((n) => n.includes('tmp')), []);
});
