// The ONNX export of text models against an independent runtime: tiny text models trained here
// (LSTM and GRU, one or two encoder directions, conditional or not, text VAEs and language
// models); onnxruntime-node runs encoder.onnx, decoder_init.onnx and decoder_step.onnx, and must give
// vaekit's posterior (within 1e-4) and, looping decoder_step greedily, exactly vaekit's greedy
// token ids (TextVae.generate) on corpus rows and new sentences (unknown words, one cut at the
// model's length, one of a single token). Then the README's own example script, run as written
// against the exported folder, and `vaekit export` on a text model end to end: the files, and each
// refusal in one line with nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { exportFiles } from '../src/export/index.js';
import { ONNX_IR_VERSION, ONNX_OPSET } from '../src/export/onnx.js';
import { writeExport } from '../src/export/write.js';
import { posteriorMeans, textsForModel } from '../src/pipelines/text.js';
import { saveModel } from '../src/run/bundle.js';
import { maxAbsDiff, testRows, trainTiny, vaekitAnswers, type TrainedText } from './export-text-models.js';

const proto = onnxProto.onnx;
const ROOT = join(import.meta.dirname, '..');
const TOLERANCE = 1e-4;
const BOS = 2n;
const EOS = 3;

const work = mkdtempSync(join(tmpdir(), 'vaekit-export-text-onnx-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

interface Case {
  title: string;
  preset: 'text' | 'text-lm';
  overrides: Parameters<typeof trainTiny>[1];
  tokens?: 'word' | 'bpe';
}

const CASES: Case[] = [
  { title: 'LSTM text VAE', preset: 'text', overrides: { latent: 8, embedding: 16, encoderHidden: 24, decoderHidden: 32 } },
  { title: 'conditional GRU text VAE, bidirectional encoder', preset: 'text', overrides: { latent: 6, embedding: 12, encoderHidden: 16, decoderHidden: 24, cell: 'gru', bidirectional: true, classes: 3 } },
  { title: 'LSTM text VAE, bidirectional encoder, bpe tokens', preset: 'text', overrides: { latent: 5, embedding: 12, encoderHidden: 10, decoderHidden: 20, bidirectional: true }, tokens: 'bpe' },
  { title: 'LSTM language model', preset: 'text-lm', overrides: { embedding: 12, decoderHidden: 24 } },
  { title: 'conditional GRU language model', preset: 'text-lm', overrides: { embedding: 12, decoderHidden: 20, cell: 'gru', classes: 3 } },
];

const trained = new Map<string, Promise<TrainedText>>();
function model(c: Case): Promise<TrainedText> {
  let m = trained.get(c.title);
  if (m === undefined) {
    // A small beta keeps the VAEs' latent codes in use (no posterior collapse), so z matters to the decodings compared.
    m = trainTiny(c.preset, c.overrides, { epochs: 8, ...(c.preset === 'text' ? { beta: 0.1 } : {}), ...(c.tokens !== undefined ? { tokens: c.tokens, vocab: 60 } : {}) });
    trained.set(c.title, m);
  }
  return m;
}

const int64 = (values: ArrayLike<number>, dims: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(Array.from(values), (v) => BigInt(v)), dims);

function oneHot(labels: number[], classes: number): ort.Tensor {
  const data = new Float32Array(labels.length * classes);
  labels.forEach((y, r) => { data[r * classes + y] = 1; });
  return new ort.Tensor('float32', data, [labels.length, classes]);
}

function floats(v: ort.OnnxValue | undefined): Float32Array {
  assert.ok(v instanceof ort.Tensor, 'expected a tensor');
  return v.data as Float32Array;
}

/** Checks a graph's header, its inputs and outputs (names, a symbolic batch, a doc string each); returns its metadata. */
function checkGraph(bytes: Uint8Array, inputs: string[], outputs: string[]): Record<string, string> {
  const m = proto.ModelProto.decode(bytes);
  assert.equal(Number(m.irVersion), ONNX_IR_VERSION);
  assert.deepEqual(m.opsetImport.map((o) => [o.domain ?? '', Number(o.version)]), [['', ONNX_OPSET]]);
  const graph = m.graph!;
  assert.deepEqual((graph.input ?? []).map((i) => i.name), inputs);
  assert.deepEqual((graph.output ?? []).map((o) => o.name), outputs);
  for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) {
    assert.equal(v.type?.tensorType?.shape?.dim?.[0]?.dimParam, 'N', `${v.name}'s batch dimension is symbolic`);
    assert.ok((v.docString ?? '').length > 20, `${v.name} says what it holds`);
  }
  const ops = (graph.node ?? []).map((n) => n.opType ?? '');
  assert.ok(!ops.some((op) => /Random|Multinomial|Dropout/.test(op)), 'no random nodes');
  return Object.fromEntries(m.metadataProps.map((p) => [p.key ?? '', p.value ?? '']));
}

/** Greedy decoding with decoder_init and decoder_step, a batch at a time: vaekit's rule (the largest logit, never <pad> or <bos>). */
async function greedyOnnx(files: Map<string, Uint8Array>, m: TrainedText, rows: number, feed: Record<string, ort.Tensor>): Promise<number[][]> {
  const c = m.vae.config;
  const V = c.vocab;
  const lstm = c.cell === 'lstm';
  let state: Record<string, ort.Tensor>;
  if (files.has('decoder_init.onnx')) {
    const init = await ort.InferenceSession.create(files.get('decoder_init.onnx')!);
    const out = await init.run(feed);
    state = { h: out['h'] as ort.Tensor, ...(lstm ? { c: out['c'] as ort.Tensor } : {}) };
  } else {
    const zeros = (): ort.Tensor => new ort.Tensor('float32', new Float32Array(rows * c.decoderHidden), [rows, c.decoderHidden]);
    state = { h: zeros(), ...(lstm ? { c: zeros() } : {}) };
  }
  const step = await ort.InferenceSession.create(files.get('decoder_step.onnx')!);
  const previous = new BigInt64Array(rows).fill(BOS);
  const out: number[][] = Array.from({ length: rows }, () => []);
  const done = new Array<boolean>(rows).fill(false);
  for (let t = 0; t < c.maxLength && done.includes(false); t++) {
    const next = await step.run({ token: new ort.Tensor('int64', previous.slice(), [rows]), ...feed, ...state });
    assert.deepEqual(next['logits']!.dims, [rows, V]);
    const logits = floats(next['logits']);
    for (let r = 0; r < rows; r++) {
      if (done[r]) continue;
      let best = -1;
      for (let v = 0; v < V; v++) if (v !== 0 && v !== 2 && (best < 0 || logits[r * V + v]! > logits[r * V + best]!)) best = v;
      if (best === EOS) {
        done[r] = true;
        continue;
      }
      out[r]!.push(best);
      previous[r] = BigInt(best);
      if (out[r]!.length === c.maxLength) done[r] = true;
    }
    state = { h: next['h_next'] as ort.Tensor, ...(lstm ? { c: next['c_next'] as ort.Tensor } : {}) };
  }
  return out;
}

for (const c of CASES) {
  test(`text ONNX export, ${c.title}: onnxruntime's posterior and greedy decoding are vaekit's`, async (t) => {
    const m = await model(c);
    const { vae } = m;
    const cfg = vae.config;
    const files = exportFiles(vae, 'onnx', m.data, m.training);
    const names = files.map((f) => f.name);
    const graphs = [...(cfg.latent > 0 ? ['encoder.onnx'] : []), ...(cfg.latent + cfg.classes > 0 ? ['decoder_init.onnx'] : []), 'decoder_step.onnx'];
    assert.deepEqual(names, [...graphs, 'vocab.json', 'README.md']);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(files.find((f) => f.name === 'vocab.json')!.bytes)), m.vocabulary.toJSON());
    const bytes = new Map(files.map((f) => [f.name, f.bytes]));
    const cond = [...(cfg.latent > 0 ? ['z'] : []), ...(cfg.classes > 0 ? ['label'] : [])];
    const state = cfg.cell === 'lstm' ? ['h', 'c'] : ['h'];
    if (cfg.latent > 0) {
      const meta = checkGraph(bytes.get('encoder.onnx')!, ['tokens', 'lengths', ...(cfg.classes > 0 ? ['label'] : [])], ['mean', 'logvar']);
      assert.equal(meta['vaekit.role'], 'encoder');
      assert.deepEqual(JSON.parse(meta['vaekit.config']!), cfg);
    }
    if (cond.length > 0) checkGraph(bytes.get('decoder_init.onnx')!, cond, state);
    checkGraph(bytes.get('decoder_step.onnx')!, ['token', ...cond, ...state], ['logits', ...state.map((s) => `${s}_next`)]);

    const rows = testRows(m, 6);
    const expected = vaekitAnswers(m, rows);
    const labelFeed: Record<string, ort.Tensor> = cfg.classes > 0 ? { label: oneHot(rows.labels, cfg.classes) } : {};
    let encoderDiff = 0;
    const feed: Record<string, ort.Tensor> = { ...labelFeed };
    if (cfg.latent > 0) {
      // The rows as a caller pads them: T = the longest sentence, <pad> after each.
      const T = Math.max(...rows.lengths);
      const tokens = new Array<number>(rows.rows * T).fill(0);
      rows.lengths.forEach((n, r) => { for (let k = 0; k < n; k++) tokens[r * T + k] = rows.ids[r * vae.maxLength + k]!; });
      const encoder = await ort.InferenceSession.create(bytes.get('encoder.onnx')!);
      const out = await encoder.run({ tokens: int64(tokens, [rows.rows, T]), lengths: int64(rows.lengths, [rows.rows]), ...labelFeed });
      assert.deepEqual(out['mean']!.dims, [rows.rows, cfg.latent]);
      encoderDiff = Math.max(maxAbsDiff(floats(out['mean']), expected.mean!), maxAbsDiff(floats(out['logvar']), expected.logvar!));
      // The decoder is given vaekit's means, so that the ids compare the decoders alone.
      feed['z'] = new ort.Tensor('float32', expected.mean!, [rows.rows, cfg.latent]);
    }
    const greedy = await greedyOnnx(bytes, m, rows.rows, feed);
    t.diagnostic(`${rows.rows} sentences: encoder max abs difference ${encoderDiff.toExponential(2)}; greedy ids ${JSON.stringify(greedy.slice(0, 3))}...`);
    assert.ok(encoderDiff <= TOLERANCE, `posterior differs by ${encoderDiff}`);
    assert.deepEqual(greedy, expected.greedy);
    // The comparison has something to compare: the decodings are not all empty or all alike.
    assert.ok(greedy.some((g) => g.length >= 3), 'some decodings have words');
    if (cfg.latent > 0) assert.ok(new Set(greedy.map((g) => g.join(' '))).size > 1, 'different sentences decode differently');
  });
}

// ---- the README's example ---------------------------------------------------------------------

/** The README's ```js block, run as a script with onnxruntime-node reachable (a node_modules link beside it). */
function runReadmeExample(exportDir: string, args: string[]): string {
  const readme = readFileSync(join(exportDir, 'README.md'), 'utf8');
  const block = /```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(block !== null, 'the README has a JavaScript example');
  const dir = mkdtempSync(join(work, 'example-'));
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'greedy.mjs'), block[1]!);
  const r = spawnSync(process.execPath, [join(dir, 'greedy.mjs'), exportDir, ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** vaekit's greedy decoding as the README's example prints it. */
function printed(m: TrainedText, ids: number[]): string {
  const tokens = ids.map((id) => m.vocabulary.tokens[id]!);
  switch (m.vocabulary.tokenizer.kind) {
    case 'char': return tokens.join('');
    case 'word': return tokens.join(' ');
    case 'bpe': return tokens.join('').replaceAll('</w>', ' ').trim();
  }
}

test('the README\'s example decodes as vaekit does (word and bpe tokens, a conditional GRU, a language model)', async (t) => {
  const sentences = ['the dog likes a song today', 'My sister hears the green tree!', 'a child follows his friend at night again and again'];
  for (const c of [CASES[0]!, CASES[1]!, CASES[2]!, CASES[3]!]) {
    const m = await model(c);
    const out = join(work, `readme-${CASES.indexOf(c)}`);
    writeExport(m.vae, 'onnx', out, m.data, { overwrite: false, training: m.training });
    const bundle = { vae: m.vae, data: m.data, vocabulary: m.vocabulary, training: m.training };
    if (m.vae.latent === 0) {
      const got = runReadmeExample(out, []);
      t.diagnostic(`${c.title}: -> "${got}"`);
      assert.equal(got, printed(m, Array.from(m.vae.generate(null, 1, { mode: 'greedy' }, null)[0]!)));
      continue;
    }
    for (const [i, sentence] of sentences.entries()) {
      const labels = m.vae.classes > 0 ? [i % m.vae.classes] : null;
      const got = runReadmeExample(out, [sentence, ...(labels !== null ? [String(labels[0])] : [])]);
      // vaekit's own reconstruction: its tokenizer and length cut, greedy from the posterior mean.
      const z = posteriorMeans(bundle, textsForModel(bundle, [sentence]), labels);
      const ids = m.vae.generate(z, 1, { mode: 'greedy' }, null, labels)[0]!;
      t.diagnostic(`${c.title}: "${sentence}" -> "${got}"`);
      assert.equal(got, printed(m, Array.from(ids)), `${c.title}: "${sentence}"`);
    }
  }
});

// ---- the command ------------------------------------------------------------------------------

function vaekit(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const script = `const { main } = await import(${JSON.stringify(join(ROOT, 'src', 'cli', 'main.ts'))}); await main(['node', 'vaekit', ...process.argv.slice(1)]);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('vaekit export of a text model: each format\'s files; refusals in one line, nothing written', async () => {
  const lstm = await model(CASES[0]!);
  const gru = await model(CASES[1]!);
  const lstmDir = join(work, 'lstm-model');
  const gruDir = join(work, 'gru-model');
  saveModel(lstm.vae, lstmDir, lstm.training, lstm.data);
  saveModel(gru.vae, gruDir, gru.training, gru.data);
  const cli = join(work, 'cli');
  mkdirSync(cli);

  const expected: Record<string, string[]> = {
    onnx: ['README.md', 'decoder_init.onnx', 'decoder_step.onnx', 'encoder.onnx', 'vocab.json'],
    pytorch: ['README.md', 'model.py', 'model.safetensors', 'vocab.json'],
    tfjs: ['README.md', 'decoder_init', 'decoder_step', 'encoder', 'vocab.json'],
  };
  for (const format of ['onnx', 'pytorch', 'tfjs']) {
    const out = join(cli, format);
    const r = vaekit(['export', '--model', lstmDir, '--format', format, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(out).sort(), expected[format]);
    assert.match(r.stdout, /vocab\.json/);
  }
  const session = await ort.InferenceSession.create(join(cli, 'onnx', 'encoder.onnx'));
  assert.deepEqual(session.inputNames, ['tokens', 'lengths']);

  // An existing export without --overwrite: one line, the old files untouched.
  const before = Object.fromEntries(readdirSync(join(cli, 'onnx')).map((f) => [f, statSync(join(cli, 'onnx', f)).mtimeMs]));
  const again = vaekit(['export', '--model', lstmDir, '--format', 'onnx', '--out', join(cli, 'onnx')]);
  assert.equal(again.status, 1);
  assert.equal(again.stderr.trim().split('\n').length, 1, again.stderr);
  assert.match(again.stderr, /is not empty; pass --overwrite/);
  for (const [f, mtime] of Object.entries(before)) assert.equal(statSync(join(cli, 'onnx', f)).mtimeMs, mtime);
  // With --overwrite a pytorch export replaces it whole.
  const replaced = vaekit(['export', '--model', lstmDir, '--format', 'pytorch', '--out', join(cli, 'onnx'), '--overwrite']);
  assert.equal(replaced.status, 0, replaced.stderr);
  assert.deepEqual(readdirSync(join(cli, 'onnx')).sort(), expected['pytorch']);

  // A GRU model has no TF.js export: one line naming the formats that take it, and no folder.
  const refused = vaekit(['export', '--model', gruDir, '--format', 'tfjs', '--out', join(cli, 'gru-tfjs')]);
  assert.equal(refused.status, 1);
  assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
  assert.match(refused.stderr, /TF\.js export takes LSTM text models only.*onnx or pytorch/);
  assert.deepEqual(readdirSync(cli).sort(), ['onnx', 'pytorch', 'tfjs'], 'nothing written, no staging folder left');
  const gruOnnx = vaekit(['export', '--model', gruDir, '--format', 'onnx', '--out', join(cli, 'gru-onnx')]);
  assert.equal(gruOnnx.status, 0, gruOnnx.stderr);
  assert.match(readFileSync(join(cli, 'gru-onnx', 'README.md'), 'utf8'), /conditional on 3 classes/);
});
