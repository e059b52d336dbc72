// The bad-input corpus: what a user can get wrong, run through the real CLI. Every case must end in
// one line on stderr, exit status 1, no stack trace, no output file, and every file that existed
// before unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeIdx } from '../src/io/idx.js';
import { encodeSafetensors } from '../src/io/safetensors.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'vaekit.js');
const work = mkdtempSync(join(tmpdir(), 'vaekit-bad-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const at = (...p: string[]): string => join(work, ...p);

function vaekit(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file under the work folder with its digest: what must not change. */
function snapshot(dir = work): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(p, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

interface Case { args: string[]; error: RegExp; env?: Record<string, string> }

const model = at('model');
const OUT = at('out');

function cases(): Array<[string, Case]> {
  const train = (...a: string[]): string[] => ['train', '--limit', '200', '--epochs', '1', '--hidden', '8', '--latent', '2', '--out', OUT, ...a];
  return [
    // Numeric flags: zero, negative, NaN, huge, not a number.
    ['--epochs 0', { args: train('--epochs', '0'), error: /--epochs.*'0' is invalid. It must be a positive integer/ }],
    ['--epochs -1', { args: train('--epochs', '-1'), error: /--epochs.*is invalid|unknown option '-1'/ }],
    ['--epochs NaN', { args: train('--epochs', 'NaN'), error: /--epochs.*'NaN' is invalid/ }],
    ['--epochs ten', { args: train('--epochs', 'ten'), error: /--epochs.*'ten' is invalid/ }],
    ['--batch-size 0', { args: train('--batch-size', '0'), error: /--batch-size.*is invalid/ }],
    ['--lr 0', { args: train('--lr', '0'), error: /--lr.*'0' is invalid. It must be a positive number/ }],
    ['--lr NaN', { args: train('--lr', 'NaN'), error: /--lr.*is invalid/ }],
    ['--lr 1e999', { args: train('--lr', '1e999'), error: /--lr.*is invalid/ }],
    ['--beta -1', { args: train('--beta', '-1'), error: /--beta.*is invalid|unknown option '-1'/ }],
    ['--free-bits NaN', { args: train('--free-bits', 'NaN'), error: /--free-bits.*is invalid/ }],
    ['--seed 99999999999', { args: train('--seed', '99999999999'), error: /--seed.*is invalid/ }],
    ['--limit 0', { args: train('--limit', '0'), error: /--limit.*is invalid/ }],
    ['--limit beyond the data', { args: train('--limit', '70000'), error: /--limit 70000 is more than the 60000 examples of MNIST train/ }],
    ['--validation 1', { args: train('--validation', '1'), error: /--validation.*is invalid. It must be a number between 0 and 1/ }],
    ['--latent 1e9', { args: train('--latent', '1000000000'), error: /--latent must be a whole number from 1 to 4096, not 1000000000\./ }],
    ['--hidden in the millions', { args: train('--hidden', '5000000'), error: /parameters .*more than vaekit's limit/ }],
    ['--prior mog:1e9', { args: train('--prior', 'mog:1000000000'), error: /parameters .*more than vaekit's limit/ }],
    ['--batch-size huge', { args: train('--batch-size', '1000000'), error: /A batch of 1000000 examples of 784 values would need .* GiB/ }],
    ['--channels 2', { args: train('--data', at('images'), '--channels', '2'), error: /--channels.*'2' is invalid/ }],
    ['--image-size 0x5', { args: train('--data', at('images'), '--image-size', '0x5'), error: /Invalid image size "0x5"/ }],
    ['--noise pink', { args: train('--noise', 'pink:3'), error: /Unknown noise "pink:3"/ }],
    ['--noise masking:2', { args: train('--noise', 'masking:2'), error: /Invalid noise probability "2"/ }],
    // Flags that would do nothing.
    ['--sigma with bernoulli', { args: train('--sigma', '0.5'), error: /belongs to the gaussian likelihood, and this model's is bernoulli/ }],
    ['--conv-channels with a dense preset', { args: train('--conv-channels', '8'), error: /Conv channels \(--conv-channels\) belong to a convolutional model/ }],
    ['--samples without iwae', { args: train('--samples', '3'), error: /--samples sets the importance samples of --loss iwae/ }],
    ['--free-bits with notebook-mse', { args: train('--loss', 'notebook-mse', '--free-bits', '1'), error: /Free bits apply to the elbo objective, not to notebook-mse/ }],
    ['--beta with iwae', { args: train('--loss', 'iwae', '--beta', '0.5'), error: /Beta weighs the elbo objective's KL term; iwae has no beta/ }],
    ['--kl-warmup with iwae', { args: train('--loss', 'iwae', '--kl-warmup', 'linear:2'), error: /--kl-warmup scales the elbo objective's KL term, and iwae has none to warm up/ }],
    ['--binarize on features', { args: ['train', '--data', at('table.csv'), '--binarize', '--out', OUT], error: /Binarization needs values in \[0, 1\]/ }],
    ['VAEKIT_THREADS=abc', { args: ['info'], env: { VAEKIT_THREADS: 'abc' }, error: /VAEKIT_THREADS must be a whole number from 1 to 256, not "abc"/ }],
    ['VAEKIT_BACKEND=gpu', { args: ['info'], env: { VAEKIT_BACKEND: 'gpu' }, error: /VAEKIT_BACKEND must be "js", "native" or "auto"/ }],
    // Counts beyond what fits or ends.
    ['sample --count 1e8', { args: ['sample', '--model', model, '--count', '100000000', '--out', at('s.png')], error: /100000000 samples would need .* GiB/ }],
    ['sample --count 0', { args: ['sample', '--model', model, '--count', '0', '--out', at('s.png')], error: /--count.*is invalid/ }],
    ['eval --prior-samples 1e8', { args: ['eval', '--model', model, '--prior-samples', '100000000', '--out', at('ev')], error: /--prior-samples 100000000 is more than/ }],
    ['eval --knn-k 1e6', { args: ['eval', '--model', model, '--knn-k', '1000000', '--samples', '0', '--out', at('ev')], error: /--knn-k 1000000 is more than 1000/ }],
    ['eval --samples 1e7', { args: ['eval', '--model', model, '--samples', '10000000', '--out', at('ev')], error: /--samples 10000000 is more than/ }],
    ['anomaly --score-samples 1e5', { args: ['anomaly', '--model', model, '--score-samples', '100000', '--limit', '10', '--out', at('an')], error: /from 1 to 10000, not 100000/ }],
    // Files: missing, empty, truncated, lying, from another tool.
    ['a missing model folder', { args: ['sample', '--model', at('nope'), '--out', at('s.png')], error: /No model folder at/ }],
    ['a model folder from another tool', { args: ['sample', '--model', at('other-tool'), '--out', at('s.png')], error: /is not a vaekit model config/ }],
    ['a config.json that is not JSON', { args: ['sample', '--model', at('bad-json'), '--out', at('s.png')], error: /config\.json is not valid JSON/ }],
    ['an empty weights file', { args: ['sample', '--model', at('empty-weights'), '--out', at('s.png')], error: /weights\.safetensors/ }],
    ['truncated weights', { args: ['sample', '--model', at('truncated-weights'), '--out', at('s.png')], error: /weights\.safetensors/ }],
    ['NaN weights', { args: ['sample', '--model', at('nan-weights'), '--out', at('s.png')], error: /holds NaN at index \d+; a model with non-finite weights is broken/ }],
    ['a config claiming a latent of 1e9', { args: ['sample', '--model', at('huge-config'), '--out', at('s.png')], error: /parameters .*more than vaekit's limit/ }],
    ['an empty NPY file', { args: train('--data', at('empty.npy')), error: /empty\.npy/ }],
    ['an empty CSV file', { args: train('--data', at('empty.csv')), error: /empty\.csv is empty/ }],
    ['a truncated IDX file', { args: train('--data', at('truncated.idx')), error: /truncated\.idx/ }],
    ['an IDX claiming 4 billion images', { args: train('--data', at('lying.idx')), error: /lying\.idx/ }],
    ['a safetensors header claiming 2^60 bytes', { args: ['sample', '--model', at('lying-weights'), '--out', at('s.png')], error: /weights\.safetensors/ }],
    // Outputs.
    ['eval --out an existing file', { args: ['eval', '--model', model, '--out', at('existing.txt')], error: /existing\.txt is a file, not a folder/ }],
    ['--out under a file', { args: ['encode', '--model', model, '--limit', '5', '--out', at('existing.txt', 'codes.csv')].filter((a) => a !== '--limit' && a !== '5'), error: /is a file, not a folder/ }],
    ['train --out an existing model', { args: ['train', '--limit', '200', '--epochs', '1', '--out', model], error: /already holds a model; pass --overwrite/ }],
    ['demo --out an existing model', { args: ['demo', '--limit', '200', '--epochs', '1', '--out', model], error: /already holds a model; pass --overwrite/ }],
    ['denoise --out x.png', { args: ['denoise', '--model', model, '--out', at('x.png')], error: /its name must end in \.idx or \.npy or \.csv/ }],
    ['denoise --grid equal to --out', { args: ['denoise', '--model', model, '--out', at('d.idx'), '--grid', at('d.idx')], error: /--grid and --out are both/ }],
    ['sample --out x.txt', { args: ['sample', '--model', model, '--out', at('x.txt')], error: /must end in \.png, \.npy or \.csv/ }],
    ['--resume a folder without checkpoints', { args: ['train', '--resume', at('images')], error: /has no checkpoint to resume from/ }],
    ['--label on an unconditional model', { args: ['sample', '--model', model, '--label', '3', '--out', at('s.png')], error: /is not a conditional model/ }],
    ['an unknown command', { args: ['frobnicate'], error: /unknown command 'frobnicate'/ }],
    // Model files that are not what they seem (not regular files, endless, huge), and errors that used to end in a stack trace.
    ['config.json a link to /dev/zero', { args: ['sample', '--model', `${work}-special/zero-config`, '--out', at('s.png')], error: /Cannot read the model config .*config\.json: it is a device, not a regular file\.$/ }],
    ['weights a link to /dev/urandom', { args: ['sample', '--model', `${work}-special/random-weights`, '--out', at('s.png')], error: /Cannot read the model weights file .*weights\.safetensors: it is a device, not a regular file\.$/ }],
    ['config.json a FIFO', { args: ['sample', '--model', `${work}-special/fifo-config`, '--out', at('s.png')], error: /config\.json: it is a FIFO \(named pipe\), not a regular file\.$/ }],
    ['config.json a folder', { args: ['sample', '--model', at('folder-config'), '--out', at('s.png')], error: /Cannot read the model config .*config\.json: it is a folder, not a regular file\.$/ }],
    ['weights a folder', { args: ['sample', '--model', at('folder-weights'), '--out', at('s.png')], error: /weights\.safetensors: it is a folder, not a regular file\.$/ }],
    ['config.json of 100 MB', { args: ['sample', '--model', `${work}-special/huge-config-file`, '--out', at('s.png')], error: /config\.json: it holds 100,000,000 bytes, more than vaekit's limit of [\d,]+ for a model config\.$/ }],
    ['map on weights of 3 GB', { args: ['map', '--model', `${work}-special/huge-weights`, '--out', at('s.png')], error: /weights\.safetensors: it holds 3,000,000,000 bytes, more than vaekit's limit of [\d,]+ for a model weights file\.$/ }],
    ['map on weights with bytes appended', { args: ['map', '--model', at('appended-weights'), '--out', at('s.png')], error: /weights\.safetensors has 1000 unexpected bytes after the data of its last tensor\.$/ }],
    ['train --loss iwae --samples 1e5', { args: train('--loss', 'iwae', '--samples', '100000'), error: /^error: 100000 importance samples of each of 128 examples of 784 values would need 37\.4 GiB in one buffer, more than vaekit's limit of 1 GiB: lower --samples or --batch-size\.$/ }],

    // Commands that would write over their own inputs or over files they were not told to replace.
    ['report --out the model\'s weights', { args: ['report', '--model', model, '--out', join(model, 'weights.safetensors')], error: /Cannot write .*weights\.safetensors: it is one of this command's inputs; choose another output file/ }],
    ['report --out the model\'s config', { args: ['report', '--model', model, '--out', join(model, 'config.json')], error: /Cannot write .*config\.json: it is one of this command's inputs/ }],
    ['report --out the model\'s metrics', { args: ['report', '--model', model, '--out', join(model, 'metrics.jsonl')], error: /Cannot write .*metrics\.jsonl: it is one of this command's inputs/ }],
    ['denoise --out its own --data', { args: ['denoise', '--model', model, '--data', at('digits.idx'), '--noise', 'none', '--out', at('digits.idx')], error: /Cannot write .*digits\.idx: it is one of this command's inputs/ }],
    ['denoise --input X --out X', { args: ['denoise', '--model', model, '--input', at('digits.idx'), '--noise', 'none', '--out', at('digits.idx')], error: /Cannot write .*digits\.idx: it is one of this command's inputs/ }],
    ['denoise --out a link to its --data', { args: ['denoise', '--model', model, '--data', at('digits.idx'), '--noise', 'none', '--out', at('digits-link.idx')], error: /Cannot write .*digits-link\.idx: it is an input of this command \(.*digits\.idx\)/ }],
    ['denoise over an existing default --grid', { args: ['denoise', '--model', model, '--data', at('digits.idx'), '--noise', 'none', '--out', at('kept', 'denoised.idx')], error: /denoised\.png already exists .*pass --overwrite to replace it/ }],
    ['encode --out beside an existing NAME.labels.npy', { args: ['encode', '--model', model, '--data', at('digits.idx'), '--labels', at('digit-labels.idx'), '--out', at('kept', 'codes.npy')], error: /codes\.labels\.npy already exists .*pass --overwrite to replace it/ }],
    ['encode --out its own --labels', { args: ['encode', '--model', model, '--data', at('digits.idx'), '--labels', at('kept', 'codes.labels.npy'), '--out', at('kept', 'codes.labels.npy')], error: /Cannot write .*codes\.labels\.npy: it is one of this command's inputs/ }],
    ['map beside an existing manifold.png', { args: ['map', '--model', model, '--data', at('digits.idx'), '--out', at('kept', 'latent-map.png')], error: /manifold\.png already exists .*pass --overwrite to replace it/ }],

    // Anomaly runs: one-class scoring of held-out data, locks, refusals before anything is written.
    ['anomaly into a folder another run holds', { args: ['anomaly', '--model', model, '--data', at('digits.idx'), '--score-samples', '1', '--out', at('busy')], error: /busy is in use by another vaekit process \(PID \d+\)/ }],
    ['anomaly one-class on a one-class label column', { args: ['anomaly', '--data', at('one-class.csv'), '--label-column', 'kind', '--normal-class', 'a', '--epochs', '1', '--hidden', '8', '--latent', '2', '--noise', 'none', '--out', at('an')], error: /Every example of .*one-class\.csv \(held-out part\) is of the class a: the AUROC needs anomalies/ }],
    ['anomaly on a one-class label column', { args: ['anomaly', '--data', at('all-normal.csv'), '--label-column', 'kind', '--epochs', '1', '--hidden', '8', '--latent', '2', '--noise', 'none', '--out', at('an')], error: /Every example of .*all-normal\.csv is of the class 0: the AUROC needs anomalies/ }],

    // Run specs (--config, --print-config) and run folders (overwrite, copies, resume).
    ['--config a missing file', { args: ['train', '--config', at('nope.json'), '--out', OUT], error: /Cannot read the run spec .*nope\.json: no such file/ }],
    ['--config not JSON', { args: ['train', '--config', at('spec-broken.json'), '--out', OUT], error: /The run spec .*spec-broken\.json is not valid JSON/ }],
    ['--config with a misspelt field', { args: ['train', '--config', at('spec-typo.json'), '--out', OUT], error: /spec-typo\.json is not usable: "model\.latnet" is not a field of a vaekit run spec/ }],
    ['--config with latent 0', { args: ['train', '--config', at('spec-latent.json'), '--out', OUT], error: /spec-latent\.json is not usable: "model\.latent" must be a whole number from 1 to 4096, not 0/ }],
    ['--config of a newer version', { args: ['train', '--config', at('spec-v9.json'), '--out', OUT], error: /"version" is 9, and this vaekit reads run specs of version 1/ }],
    ['--config a folder', { args: ['train', '--config', at('images'), '--out', OUT], error: /Cannot read the run spec .*images: it is a folder/ }],
    ['--resume with --config', { args: ['train', '--resume', model, '--config', at('spec-latent.json')], error: /--resume goes on with a run as it was started: drop --config/ }],
    ['--overwrite a folder holding the user\'s files', { args: ['train', '--limit', '200', '--epochs', '1', '--hidden', '8', '--latent', '2', '--out', at('mixed'), '--overwrite'], error: /mixed holds files vaekit did not write \(notes\.txt\), so replacing its model would lose them/ }],
    ['--overwrite with the user\'s OUT.new beside it', { args: ['train', '--limit', '200', '--epochs', '1', '--hidden', '8', '--latent', '2', '--out', at('beside'), '--overwrite'], error: /beside\.new holds files vaekit did not write \(mine\.txt\)/ }],

  ];
}

test('the bad-input corpus: one line, exit 1, no stack trace, nothing written, nothing changed', async () => {
  // A small model and files of every kind, made before the cases run.
  const r = vaekit(['train', '--limit', '500', '--epochs', '1', '--hidden', '16', '--latent', '2', '--out', model]);
  assert.equal(r.status, 0, r.stderr);
  rmSync(join(model, 'checkpoints'), { recursive: true, force: true });
  mkdirSync(at('images'));
  writeFileSync(at('table.csv'), 'a,b\n1,2\n3,4\n5,6\n');
  writeFileSync(at('existing.txt'), 'keep me');
  writeFileSync(at('empty.npy'), '');
  writeFileSync(at('empty.csv'), '');
  const idx = encodeIdx({ dtype: 'uint8', shape: [4, 28, 28], data: new Uint8Array(4 * 784) });
  writeFileSync(at('truncated.idx'), idx.subarray(0, 100));
  const lying = Buffer.from(idx.subarray(0, 16 + 784));
  lying.writeUInt32BE(4_000_000_000, 4);
  writeFileSync(at('lying.idx'), lying);
  const modelLike = (name: string, config: string | null, weights: Uint8Array | null): void => {
    mkdirSync(at(name));
    writeFileSync(at(name, 'config.json'), config ?? readFileSync(join(model, 'config.json')));
    writeFileSync(at(name, 'weights.safetensors'), weights ?? readFileSync(join(model, 'weights.safetensors')));
  };
  const weights = new Uint8Array(readFileSync(join(model, 'weights.safetensors')));
  modelLike('other-tool', JSON.stringify({ architectures: ['BertModel'], hidden_size: 768 }), null);
  modelLike('bad-json', '{"format": "vaekit-model", ', null);
  modelLike('empty-weights', null, new Uint8Array(0));
  modelLike('truncated-weights', null, weights.subarray(0, weights.length - 100));
  const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as { model: { latent: number } };
  modelLike('huge-config', JSON.stringify({ ...config, model: { ...config.model, latent: 1_000_000_000 } }), null);
  const nan = new Float32Array(16 * 784);
  nan[5] = Number.NaN;
  mkdirSync(at('nan-weights'));
  copyFileSync(join(model, 'config.json'), at('nan-weights', 'config.json'));
  const { decodeSafetensors } = await import('../src/io/safetensors.js');
  const tensors = decodeSafetensors(weights, 'w').tensors;
  const first = Object.keys(tensors).sort()[0]!;
  tensors[first]!.data[3] = Number.NaN;
  writeFileSync(at('nan-weights', 'weights.safetensors'), encodeSafetensors(tensors));
  const header = JSON.stringify({ x: { dtype: 'F32', shape: [2 ** 58], data_offsets: [0, 2 ** 60] } });
  const lyingWeights = Buffer.alloc(8 + header.length);
  lyingWeights.writeBigUInt64LE(BigInt(header.length));
  lyingWeights.write(header, 8);
  modelLike('lying-weights', null, lyingWeights);
  // Files for the model-file cases.
  // Special files live beside the work folder, not in it: the snapshot of every case reads the work folder's files.
  const { truncateSync } = await import('node:fs');
  const special = `${work}-special`;
  mkdirSync(special);
  process.on('exit', () => rmSync(special, { recursive: true, force: true }));
  const specialModel = (name: string, file: 'config.json' | 'weights.safetensors', make: (path: string) => void): void => {
    mkdirSync(join(special, name));
    for (const f of ['config.json', 'weights.safetensors']) if (f !== file) copyFileSync(join(model, f), join(special, name, f));
    make(join(special, name, file));
  };
  specialModel('zero-config', 'config.json', (p) => symlinkSync('/dev/zero', p));
  specialModel('random-weights', 'weights.safetensors', (p) => symlinkSync('/dev/urandom', p));
  specialModel('fifo-config', 'config.json', (p) => assert.equal(spawnSync('mkfifo', [p]).status, 0));
  specialModel('huge-config-file', 'config.json', (p) => { writeFileSync(p, ''); truncateSync(p, 100_000_000); });
  specialModel('huge-weights', 'weights.safetensors', (p) => { writeFileSync(p, weights); truncateSync(p, 3_000_000_000); });
  modelLike('folder-config', null, null);
  rmSync(at('folder-config', 'config.json'));
  mkdirSync(at('folder-config', 'config.json'));
  modelLike('folder-weights', null, null);
  rmSync(at('folder-weights', 'weights.safetensors'));
  mkdirSync(at('folder-weights', 'weights.safetensors'));
  modelLike('appended-weights', null, Buffer.concat([weights, Buffer.alloc(1000)]));

  // Files for the output cases.
  writeFileSync(at('digits.idx'), encodeIdx({ dtype: 'uint8', shape: [4, 28, 28], data: new Uint8Array(4 * 784).fill(30) }));
  writeFileSync(at('digit-labels.idx'), encodeIdx({ dtype: 'uint8', shape: [4], data: Uint8Array.from([0, 1, 0, 1]) }));
  symlinkSync(at('digits.idx'), at('digits-link.idx'));
  mkdirSync(at('kept'));
  for (const name of ['denoised.png', 'codes.labels.npy', 'manifold.png']) writeFileSync(at('kept', name), `not vaekit's ${name}`);

  // Files for the anomaly cases.
  mkdirSync(at('busy'));
  writeFileSync(at('busy', '.vaekit.lock'), String(process.pid));
  const rows = (kind: (i: number) => string): string => `f0,f1,kind\n${Array.from({ length: 30 }, (_, i) => `${i % 7},${i % 3},${kind(i)}`).join('\n')}\n`;
  writeFileSync(at('one-class.csv'), rows(() => 'a'));
  writeFileSync(at('all-normal.csv'), rows(() => '0'));

  // Files for the run-spec cases.
  writeFileSync(at('spec-broken.json'), '{"model": {');
  writeFileSync(at('spec-typo.json'), JSON.stringify({ model: { latnet: 4 } }));
  writeFileSync(at('spec-latent.json'), JSON.stringify({ model: { latent: 0 } }));
  writeFileSync(at('spec-v9.json'), JSON.stringify({ format: 'vaekit-run', version: 9 }));
  for (const name of ['mixed', 'beside']) {
    mkdirSync(at(name));
    for (const file of ['config.json', 'weights.safetensors']) copyFileSync(join(model, file), at(name, file));
  }
  writeFileSync(at('mixed', 'notes.txt'), 'my notes');
  mkdirSync(at('beside.new'));
  writeFileSync(at('beside.new', 'mine.txt'), 'mine');


  const list = cases();
  assert.ok(list.length >= 40, `${list.length} cases`);
  const failures: string[] = [];
  for (const [name, c] of list) {
    const before = snapshot();
    const res = vaekit(c.args, c.env ?? {});
    const lines = res.stderr.trim().split('\n');
    const problems: string[] = [];
    if (res.status !== 1) problems.push(`exit status ${res.status}`);
    if (lines.length !== 1) problems.push(`${lines.length} lines on stderr`);
    if (!c.error.test(lines[0] ?? '')) problems.push(`message "${lines[0]}" does not match ${c.error}`);
    if (/\n\s+at /.test(res.stderr)) problems.push('a stack trace');
    const after = snapshot();
    for (const [p, digest] of before) if (after.get(p) !== digest) problems.push(`${p} changed`);
    for (const p of after.keys()) if (!before.has(p)) problems.push(`${p} was written`);
    for (const p of [OUT, at('s.png'), at('ev'), at('an'), at('x.png'), at('d.idx'), at('x.txt')]) if (existsSync(p)) problems.push(`${p} exists`);
    if (problems.length > 0) failures.push(`${name}: ${problems.join('; ')}`);
  }
  assert.deepEqual(failures, []);
});
