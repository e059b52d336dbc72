// The ONNX export against an independent runtime: onnxruntime-node runs encoder.onnx and
// decoder.onnx and must give what vaekit's own forward pass gives (dense and conv models,
// non-square RGB images, every activation, conditional models, features), with a symbolic batch
// and no random nodes. Then `vaekit export` end to end (the files, a refused second export) and
// writeExport's folder handling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { buildProgram } from '../src/cli/main.js';
import { Random } from '../src/engine/random.js';
import { VaekitError } from '../src/errors.js';
import { Tensor } from '../src/engine/tensor.js';
import type { DataInfo } from '../src/run/bundle-format.js';
import { saveModel } from '../src/run/bundle.js';
import { onnxFiles, ONNX_IR_VERSION, ONNX_OPSET } from '../src/export/onnx.js';
import { writeExport } from '../src/export/write.js';
import { Vae } from '../src/vae/model.js';
import { maxAbsDiff, randomModel } from './helpers/export.js';

const proto = onnxProto.onnx;
const ROOT = join(import.meta.dirname, '..');
const TOLERANCE = 1e-4;

const work = mkdtempSync(join(tmpdir(), 'vaekit-export-onnx-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));


function oneHot(labels: number[], classes: number): Float32Array {
  const out = new Float32Array(labels.length * classes);
  labels.forEach((y, r) => { out[r * classes + y] = 1; });
  return out;
}

function floats(out: ort.OnnxValue | undefined): Float32Array {
  assert.ok(out instanceof ort.Tensor, 'expected a tensor output');
  return out.data as Float32Array;
}

/**
 * Runs both exported graphs on `rows` random inputs and latent vectors and compares them with
 * vaekit's encode and decode; returns the largest differences.
 */
async function compareWithVaekit(vae: Vae, rows: number, seed: number, data?: DataInfo): Promise<{ encoder: number; decoder: number }> {
  const c = vae.config;
  const rng = new Random(seed);
  const files = onnxFiles(vae, data);
  assert.deepEqual(files.map((f) => f.name), ['encoder.onnx', 'decoder.onnx']);
  const encoder = await ort.InferenceSession.create(files[0]!.bytes);
  const decoder = await ort.InferenceSession.create(files[1]!.bytes);

  const D = vae.pixels;
  const x = new Float32Array(rows * D);
  for (let i = 0; i < x.length; i++) x[i] = c.inputShape.length === 3 ? rng.uniform() : rng.normal() * 1.5;
  const labels = Array.from({ length: rows }, () => Math.floor(rng.uniform() * Math.max(c.classes, 1)));
  const labelFeed: Record<string, ort.Tensor> = c.classes > 0 ? { label: new ort.Tensor('float32', oneHot(labels, c.classes), [rows, c.classes]) } : {};

  const expected = vae.encode(new Tensor(x, [rows, D]), c.classes > 0 ? labels : null);
  const got = await encoder.run({ x: new ort.Tensor('float32', x, [rows, ...c.inputShape]), ...labelFeed });
  assert.deepEqual(got['mean']!.dims, [rows, c.latent]);
  assert.deepEqual(got['logvar']!.dims, [rows, c.latent]);
  const encoderDiff = Math.max(maxAbsDiff(floats(got['mean']), expected.mean.data), maxAbsDiff(floats(got['logvar']), expected.logvar.data));

  const z = new Float32Array(rows * c.latent);
  for (let i = 0; i < z.length; i++) z[i] = rng.normal();
  const images = vae.decode(new Tensor(z, [rows, c.latent]), c.classes > 0 ? labels : null);
  const decoded = await decoder.run({ z: new ort.Tensor('float32', z, [rows, c.latent]), ...labelFeed });
  assert.deepEqual(decoded['x']!.dims, [rows, ...c.inputShape]);
  const decoderDiff = maxAbsDiff(floats(decoded['x']), images.data);
  return { encoder: encoderDiff, decoder: decoderDiff };
}

const RANDOM_OPS = new Set(['RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike', 'Multinomial', 'Bernoulli', 'Dropout']);

/** Checks a graph's header (IR version, opset), its batch dimension and that it draws no random numbers. */
function checkGraph(bytes: Uint8Array, inputs: string[], outputs: string[]): Record<string, string> {
  const m = proto.ModelProto.decode(bytes);
  assert.equal(Number(m.irVersion), ONNX_IR_VERSION);
  assert.deepEqual(m.opsetImport.map((o) => [o.domain ?? '', Number(o.version)]), [['', ONNX_OPSET]]);
  assert.equal(ONNX_OPSET, 17);
  const graph = m.graph!;
  const ops = (graph.node ?? []).map((n) => n.opType ?? '');
  assert.deepEqual(ops.filter((op) => RANDOM_OPS.has(op)), [], 'no random nodes');
  const graphInputs = graph.input ?? [];
  const graphOutputs = graph.output ?? [];
  assert.deepEqual(graphInputs.map((i) => i.name), inputs);
  assert.deepEqual(graphOutputs.map((o) => o.name), outputs);
  for (const v of [...graphInputs, ...graphOutputs]) {
    assert.equal(v.type?.tensorType?.shape?.dim?.[0]?.dimParam, 'N', `${v.name}'s batch dimension is symbolic`);
    assert.ok((v.docString ?? '').length > 20, `${v.name} says what it holds`);
  }
  assert.ok((m.docString ?? '').length > 0);
  return Object.fromEntries(m.metadataProps.map((p) => [p.key ?? '', p.value ?? '']));
}

test('dense model on 28x28x1 images: encoder and decoder match vaekit', async (t) => {
  const vae = randomModel('seed', { latent: 6, encoderHidden: [32], decoderHidden: [32] }, 1);
  const diff = await compareWithVaekit(vae, 5, 11);
  t.diagnostic(`max abs difference: encoder ${diff.encoder.toExponential(2)}, decoder ${diff.decoder.toExponential(2)}`);
  assert.ok(diff.encoder <= TOLERANCE && diff.decoder <= TOLERANCE, JSON.stringify(diff));
  const [encoder, decoder] = onnxFiles(vae);
  const meta = checkGraph(encoder!.bytes, ['x'], ['mean', 'logvar']);
  assert.equal(meta['vaekit.role'], 'encoder');
  assert.equal(meta['vaekit.input_shape'], '[28,28,1]');
  checkGraph(decoder!.bytes, ['z'], ['x']);
});

test('every hidden activation, dense and two-hidden-layer: the graphs match vaekit', async (t) => {
  for (const activation of ['linear', 'relu', 'leaky_relu', 'tanh', 'sigmoid'] as const) {
    const vae = randomModel('mlp', { inputShape: [6, 5, 2], latent: 4, encoderHidden: [12, 8], decoderHidden: [8, 12], activation }, 2);
    const diff = await compareWithVaekit(vae, 3, 12);
    t.diagnostic(`${activation}: encoder ${diff.encoder.toExponential(2)}, decoder ${diff.decoder.toExponential(2)}`);
    assert.ok(diff.encoder <= TOLERANCE && diff.decoder <= TOLERANCE, `${activation}: ${JSON.stringify(diff)}`);
  }
});

test('conv model on non-square RGB images (8x12x3, leaky_relu and tanh): the graphs match vaekit', async (t) => {
  for (const activation of ['leaky_relu', 'tanh'] as const) {
    const vae = randomModel('conv', { inputShape: [8, 12, 3], convChannels: [4, 8], encoderHidden: [16], decoderHidden: [16], latent: 5, activation }, 3);
    const diff = await compareWithVaekit(vae, 4, 13);
    t.diagnostic(`${activation}: encoder ${diff.encoder.toExponential(2)}, decoder ${diff.decoder.toExponential(2)}`);
    assert.ok(diff.encoder <= TOLERANCE && diff.decoder <= TOLERANCE, `${activation}: ${JSON.stringify(diff)}`);
  }
  // No dense hidden layers: the flattened feature map goes straight to the posterior, and the decoder's
  // first Dense straight to the feature map.
  const bare = randomModel('conv', { inputShape: [4, 8, 1], convChannels: [3], encoderHidden: [], decoderHidden: [], latent: 2, activation: 'relu' }, 4);
  const diff = await compareWithVaekit(bare, 3, 14);
  t.diagnostic(`no hidden layers: encoder ${diff.encoder.toExponential(2)}, decoder ${diff.decoder.toExponential(2)}`);
  assert.ok(diff.encoder <= TOLERANCE && diff.decoder <= TOLERANCE, JSON.stringify(diff));
});

test('conditional models (conv with 3 classes, dense with 4): label inputs, and the graphs match vaekit', async (t) => {
  const conv = randomModel('conv', { inputShape: [8, 12, 3], convChannels: [4, 8], encoderHidden: [16], decoderHidden: [16], latent: 5, activation: 'relu', classes: 3 }, 5);
  const data: DataInfo = { shape: [8, 12, 3], classNames: ['cat', 'dog', 'fox'], standardization: null, source: 'test' };
  const convDiff = await compareWithVaekit(conv, 6, 15, data);
  const dense = randomModel('seed', { inputShape: [10, 10, 1], latent: 3, encoderHidden: [20], decoderHidden: [20], activation: 'tanh', classes: 4 }, 6);
  const denseDiff = await compareWithVaekit(dense, 5, 16);
  t.diagnostic(`conv: encoder ${convDiff.encoder.toExponential(2)}, decoder ${convDiff.decoder.toExponential(2)}; dense: encoder ${denseDiff.encoder.toExponential(2)}, decoder ${denseDiff.decoder.toExponential(2)}`);
  for (const diff of [convDiff, denseDiff]) assert.ok(diff.encoder <= TOLERANCE && diff.decoder <= TOLERANCE, JSON.stringify(diff));
  const [encoder, decoder] = onnxFiles(conv, data);
  const meta = checkGraph(encoder!.bytes, ['x', 'label'], ['mean', 'logvar']);
  assert.equal(meta['vaekit.class_names'], '["cat","dog","fox"]');
  checkGraph(decoder!.bytes, ['z', 'label'], ['x']);
});

test('features model ([7], dense, gaussian): the graphs match vaekit, and the metadata holds the standardization', async (t) => {
  const vae = randomModel('seed', { inputShape: [7], likelihood: 'gaussian', latent: 3, encoderHidden: [16], decoderHidden: [16], activation: 'relu' }, 7);
  const data: DataInfo = {
    shape: [7], classNames: null, source: 'test.csv',
    standardization: { mean: [1, 2, 3, 4, 5, 6, 7], std: [0.5, 1, 2, 3, 4, 5, 6] },
    featureNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
  };
  const diff = await compareWithVaekit(vae, 4, 17, data);
  t.diagnostic(`features: encoder ${diff.encoder.toExponential(2)}, decoder ${diff.decoder.toExponential(2)}`);
  assert.ok(diff.encoder <= TOLERANCE && diff.decoder <= TOLERANCE, JSON.stringify(diff));
  const [encoder, decoder] = onnxFiles(vae, data);
  for (const [file, inputs, outputs] of [[encoder!, ['x'], ['mean', 'logvar']], [decoder!, ['z'], ['x']]] as const) {
    const meta = checkGraph(file.bytes, [...inputs], [...outputs]);
    assert.deepEqual(JSON.parse(meta['vaekit.standardization_mean']!), data.standardization!.mean);
    assert.deepEqual(JSON.parse(meta['vaekit.standardization_std']!), data.standardization!.std);
    assert.deepEqual(JSON.parse(meta['vaekit.feature_names']!), data.featureNames);
  }
  // The decoder gives the logits themselves (no sigmoid): a feature model's output may leave [0, 1].
  assert.ok(!(proto.ModelProto.decode(decoder!.bytes).graph?.node ?? []).some((n) => n.opType === 'Sigmoid'));
});

test('a mixture prior travels in the metadata, so a caller can draw new z', () => {
  const vae = randomModel('seed', { inputShape: [4, 4, 1], latent: 2, encoderHidden: [8], decoderHidden: [8], prior: 'mog', priorComponents: 3 }, 8);
  const meta = checkGraph(onnxFiles(vae)[1]!.bytes, ['z'], ['x']);
  const prior = JSON.parse(meta['vaekit.prior']!) as { kind: string; means: number[][]; logvars: number[][]; logits: number[] };
  assert.equal(prior.kind, 'mog');
  assert.deepEqual(prior.means.flat(), Array.from(vae.params.get('prior.means').value));
  assert.deepEqual(prior.logvars.flat(), Array.from(vae.params.get('prior.logvars').value));
  assert.deepEqual(prior.logits, Array.from(vae.params.get('prior.logits').value));
});

// ---- the command ----------------------------------------------------------------------------

/** The vaekit CLI from its TypeScript sources (no build needed). */
function vaekit(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const script = `const { main } = await import(${JSON.stringify(join(ROOT, 'src', 'cli', 'main.ts'))}); await main(['node', 'vaekit', ...process.argv.slice(1)]);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('vaekit export --format onnx writes loadable graphs and a README; a second export is refused without --overwrite', async () => {
  const model = join(work, 'model');
  const vae = randomModel('conv', { inputShape: [8, 8, 1], convChannels: [4], encoderHidden: [8], decoderHidden: [8], latent: 2 }, 9);
  saveModel(vae, model, {}, { shape: [8, 8, 1], classNames: null, standardization: null, source: 'test' });
  const out = join(work, 'onnx');
  const r = vaekit(['export', '--model', model, '--format', 'onnx', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['README.md', 'decoder.onnx', 'encoder.onnx']);
  assert.match(r.stdout, /encoder\.onnx/);
  const readme = readFileSync(join(out, 'README.md'), 'utf8');
  assert.match(readme, /\[N, 8, 8, 1\]/);
  assert.match(readme, /onnxruntime/);
  await ort.InferenceSession.create(join(out, 'encoder.onnx'));
  const session = await ort.InferenceSession.create(join(out, 'decoder.onnx'));
  const x = await session.run({ z: new ort.Tensor('float32', new Float32Array([0, 0, 1, -1]), [2, 2]) });
  assert.deepEqual(x['x']!.dims, [2, 8, 8, 1]);

  // Again into the same folder: refused in one sentence, the old files untouched, nothing left beside them.
  const before = Object.fromEntries(readdirSync(out).map((f) => [f, { bytes: readFileSync(join(out, f)), mtime: statSync(join(out, f)).mtimeMs }]));
  const again = vaekit(['export', '--model', model, '--format', 'onnx', '--out', out]);
  assert.equal(again.status, 1);
  const lines = again.stderr.trim().split('\n');
  assert.equal(lines.length, 1, again.stderr);
  assert.match(lines[0]!, /is not empty; pass --overwrite/);
  for (const [f, { bytes, mtime }] of Object.entries(before)) {
    assert.deepEqual(readFileSync(join(out, f)), bytes);
    assert.equal(statSync(join(out, f)).mtimeMs, mtime);
  }
  assert.deepEqual(readdirSync(work).sort(), ['model', 'onnx']);
});

test('writeExport replaces only an earlier export, only with overwrite, and leaves no staging folder', () => {
  const dir = mkdtempSync(join(work, 'write-'));
  const vae = randomModel('seed', { inputShape: [4, 4, 1], latent: 2, encoderHidden: [8], decoderHidden: [8] }, 10);
  const out = join(dir, 'nested', 'export');
  const paths = writeExport(vae, 'onnx', out, undefined, { overwrite: false });
  assert.deepEqual(paths, ['encoder.onnx', 'decoder.onnx', 'README.md'].map((f) => join(out, f)));
  assert.throws(() => writeExport(vae, 'onnx', out, undefined, { overwrite: false }), (err: Error) => err instanceof VaekitError && /not empty/.test(err.message));
  // An earlier export of another format is replaced whole (not merged) ...
  mkdirSync(join(out, 'encoder'));
  writeFileSync(join(out, 'encoder', 'model.json'), '{}');
  writeFileSync(join(out, 'model.py'), '');
  writeExport(vae, 'onnx', out, undefined, { overwrite: true });
  assert.deepEqual(readdirSync(out).sort(), ['README.md', 'decoder.onnx', 'encoder.onnx']);
  assert.deepEqual(readdirSync(join(dir, 'nested')), ['export'], 'no staging or old folder left beside it');
  // ... but a folder with anything else in it is not, even with overwrite.
  writeFileSync(join(out, 'notes.txt'), 'mine');
  assert.throws(() => writeExport(vae, 'onnx', out, undefined, { overwrite: true }), /holds notes\.txt, which is not part of an export/);
  assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'mine');
  // An empty folder is fine; a file in the way is refused.
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  writeExport(vae, 'onnx', empty, undefined, { overwrite: false });
  assert.equal(readdirSync(empty).length, 3);
  writeFileSync(join(dir, 'file'), 'x');
  assert.throws(() => writeExport(vae, 'onnx', join(dir, 'file'), undefined, { overwrite: true }), /exists and is not a folder/);
});

test('vaekit export refuses an unknown format in one line', async () => {
  const program = buildProgram();
  let stderr = '';
  for (const cmd of [program, ...program.commands]) cmd.exitOverride().configureOutput({ writeErr: (text) => { stderr += text; }, writeOut: () => undefined });
  await assert.rejects(program.parseAsync(['node', 'vaekit', 'export', '--model', join(work, 'model'), '--format', 'keras', '--out', join(work, 'keras')]));
  assert.equal(stderr.trim().split('\n').length, 1, stderr);
  assert.match(stderr, /Allowed choices are onnx, tfjs, pytorch/);
  assert.ok(!existsSync(join(work, 'keras')));
});
