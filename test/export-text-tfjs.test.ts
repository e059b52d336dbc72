// The TF.js export of text models against the real tfjs: tiny LSTM text models trained here (one
// or two encoder directions, conditional or not, text VAEs and language models); each part's folder
// is served over HTTP from 127.0.0.1 and loaded with tf.loadLayersModel (the path a browser takes),
// with no custom layer registered. tfjs's posterior must be vaekit's within 1e-4 on corpus rows and
// new sentences, and the greedy loop over decoder_init and decoder_step must give exactly vaekit's
// greedy token ids. A GRU model is refused in one sentence.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs';
import { VaekitError } from '../src/errors.js';
import { exportFiles, type ExportFile } from '../src/export/index.js';
import { maxAbsDiff, testRows, trainTiny, vaekitAnswers, type TrainedText } from './export-text-models.js';

const STANDARD_LAYERS = new Set(['InputLayer', 'Embedding', 'LSTM', 'Bidirectional', 'Concatenate', 'Reshape', 'Dense', 'Activation']);
const TOLERANCE = 1e-4;

let served = new Map<string, Uint8Array>();
let server: Server;
let baseUrl = '';
let registeredBefore: string[] = [];

before(async () => {
  await tf.setBackend('cpu');
  registeredBefore = Object.keys(tf.serialization.SerializationMap.getMap().classNameMap).sort();
  server = createServer((req, res) => {
    const bytes = served.get((req.url ?? '').replace(/^\//, ''));
    if (bytes === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': req.url!.endsWith('.json') ? 'application/json' : 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface Case {
  title: string;
  preset: 'text' | 'text-lm';
  overrides: Parameters<typeof trainTiny>[1];
}

const CASES: Case[] = [
  { title: 'LSTM text VAE', preset: 'text', overrides: { latent: 8, embedding: 16, encoderHidden: 24, decoderHidden: 32 } },
  { title: 'conditional LSTM text VAE, bidirectional encoder', preset: 'text', overrides: { latent: 6, embedding: 12, encoderHidden: 16, decoderHidden: 24, bidirectional: true, classes: 3 } },
  { title: 'LSTM language model', preset: 'text-lm', overrides: { embedding: 12, decoderHidden: 24 } },
  { title: 'conditional LSTM language model', preset: 'text-lm', overrides: { embedding: 12, decoderHidden: 20, classes: 3 } },
];

async function load(files: ExportFile[], folder: string, part: string): Promise<tf.LayersModel> {
  for (const f of files) served.set(`${folder}/${f.name}`, f.bytes);
  const model = await tf.loadLayersModel(`${baseUrl}/${folder}/${part}/model.json`);
  for (const layer of model.layers) assert.ok(STANDARD_LAYERS.has(layer.getClassName()), `${part}: ${layer.getClassName()}`);
  return model;
}

function oneHot(labels: number[], classes: number): tf.Tensor2D {
  const data = new Float32Array(labels.length * classes);
  labels.forEach((y, r) => { data[r * classes + y] = 1; });
  return tf.tensor2d(data, [labels.length, classes]);
}

/** Greedy decoding with decoder_init and decoder_step: vaekit's rule (the largest logit, never <pad> or <bos>). */
async function greedyTfjs(files: ExportFile[], folder: string, m: TrainedText, rows: number, cond: tf.Tensor[]): Promise<number[][]> {
  const c = m.vae.config;
  const V = c.vocab;
  let h: tf.Tensor;
  let cell: tf.Tensor;
  if (cond.length > 0) {
    const init = await load(files, folder, 'decoder_init');
    assert.deepEqual(init.outputNames, ['h', 'c']);
    [h, cell] = init.predict(cond) as [tf.Tensor, tf.Tensor];
  } else {
    assert.ok(!files.some((f) => f.name.startsWith('decoder_init/')), 'an unconditional language model has no decoder_init');
    h = tf.zeros([rows, c.decoderHidden]);
    cell = tf.zeros([rows, c.decoderHidden]);
  }
  const step = await load(files, folder, 'decoder_step');
  assert.deepEqual(step.inputNames, ['token', ...(c.latent > 0 ? ['z'] : []), ...(c.classes > 0 ? ['label'] : []), 'h', 'c']);
  assert.deepEqual(step.outputNames, ['logits', 'h_next', 'c_next']);
  const previous = new Int32Array(rows).fill(2);
  const out: number[][] = Array.from({ length: rows }, () => []);
  const done = new Array<boolean>(rows).fill(false);
  for (let t = 0; t < c.maxLength && done.includes(false); t++) {
    const token = tf.tensor2d(previous, [rows, 1], 'int32');
    const [logits, hNext, cNext] = step.predict([token, ...cond, h, cell]) as tf.Tensor[];
    const l = logits!.dataSync();
    for (let r = 0; r < rows; r++) {
      if (done[r]) continue;
      let best = -1;
      for (let v = 0; v < V; v++) if (v !== 0 && v !== 2 && (best < 0 || l[r * V + v]! > l[r * V + best]!)) best = v;
      if (best === 3) {
        done[r] = true;
        continue;
      }
      out[r]!.push(best);
      previous[r] = best;
      if (out[r]!.length === c.maxLength) done[r] = true;
    }
    tf.dispose([token, logits!, h, cell]);
    [h, cell] = [hNext!, cNext!];
  }
  tf.dispose([h, cell]);
  step.dispose();
  return out;
}

CASES.forEach((c, index) => {
  test(`text TF.js export, ${c.title}: tfjs's posterior and greedy decoding are vaekit's`, async (t) => {
    const m = await trainTiny(c.preset, c.overrides, { epochs: 8, ...(c.preset === 'text' ? { beta: 0.1 } : {}) });
    const cfg = m.vae.config;
    const files = exportFiles(m.vae, 'tfjs', m.data, m.training);
    const parts = [...(cfg.latent > 0 ? ['encoder'] : []), ...(cfg.latent + cfg.classes > 0 ? ['decoder_init'] : []), 'decoder_step'];
    assert.deepEqual(files.map((f) => f.name), [...parts.flatMap((p) => [`${p}/model.json`, `${p}/weights.bin`]), 'vocab.json', 'README.md']);
    const folder = `case${index}`;
    const rows = testRows(m, 6);
    const expected = vaekitAnswers(m, rows);
    const label = cfg.classes > 0 ? [oneHot(rows.labels, cfg.classes)] : [];
    let encoderDiff = 0;
    const cond: tf.Tensor[] = [];
    if (cfg.latent > 0) {
      const encoder = await load(files, folder, 'encoder');
      assert.deepEqual(encoder.inputNames, ['tokens', ...(cfg.classes > 0 ? ['label'] : [])]);
      assert.deepEqual(encoder.outputNames, ['mean', 'logvar']);
      // The rows as a caller pads them: T = the longest sentence, <pad> after each.
      const T = Math.max(...rows.lengths);
      const tokens = new Int32Array(rows.rows * T);
      rows.lengths.forEach((n, r) => { for (let k = 0; k < n; k++) tokens[r * T + k] = rows.ids[r * m.vae.maxLength + k]!; });
      const input = tf.tensor2d(tokens, [rows.rows, T], 'int32');
      const [mean, logvar] = encoder.predict([input, ...label]) as tf.Tensor[];
      assert.deepEqual(mean!.shape, [rows.rows, cfg.latent]);
      encoderDiff = Math.max(maxAbsDiff(mean!.dataSync(), expected.mean!), maxAbsDiff(logvar!.dataSync(), expected.logvar!));
      tf.dispose([input, mean!, logvar!]);
      encoder.dispose();
      // The decoder is given vaekit's means, so that the ids compare the decoders alone.
      cond.push(tf.tensor2d(expected.mean!, [rows.rows, cfg.latent]));
    }
    cond.push(...label);
    const greedy = await greedyTfjs(files, folder, m, rows.rows, cond);
    tf.dispose(cond);
    t.diagnostic(`${rows.rows} sentences: encoder max abs difference ${encoderDiff.toExponential(2)}; greedy ids ${JSON.stringify(greedy.slice(0, 3))}...`);
    assert.ok(encoderDiff <= TOLERANCE, `posterior differs by ${encoderDiff}`);
    assert.deepEqual(greedy, expected.greedy);
    assert.ok(greedy.some((g) => g.length >= 3), 'some decodings have words');
    if (cfg.latent > 0) assert.ok(new Set(greedy.map((g) => g.join(' '))).size > 1, 'different sentences decode differently');
  });
});

test('text TF.js export: a GRU model is refused in one sentence; loading registered no custom layer', async () => {
  const m = await trainTiny('text', { latent: 2, embedding: 4, encoderHidden: 4, decoderHidden: 4, cell: 'gru' }, { epochs: 1 });
  assert.throws(() => exportFiles(m.vae, 'tfjs', m.data, m.training), (err: unknown) => err instanceof VaekitError
    && /^The TF\.js export takes LSTM text models only .* export this GRU model as onnx or pytorch\.$/.test(err.message) && !err.message.includes('\n'));
  assert.deepEqual(Object.keys(tf.serialization.SerializationMap.getMap().classNameMap).sort(), registeredBefore);
});
