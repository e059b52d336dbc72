/**
 * The TF.js layers export against the real tfjs: each model's encoder/ and decoder/ folders are
 * served over HTTP from 127.0.0.1 and loaded with tf.loadLayersModel (model.json, then weights.bin
 * through its manifest, the path a browser takes), with no custom layer registered; tfjs's outputs
 * on random inputs must match vaekit's own forward pass.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs';
import { Random } from '../src/engine/random.js';
import type { ExportFile } from '../src/export/index.js';
import { tfjsFiles } from '../src/export/tfjs.js';
import type { DataInfo } from '../src/run/bundle-format.js';
import { imageSides, inputSize, type VaeOverrides } from '../src/vae/config.js';
import { maxAbsDiff, randomModel } from './helpers/export.js';

const STANDARD_LAYERS = new Set(['InputLayer', 'Dense', 'Conv2D', 'Conv2DTranspose', 'Reshape', 'Flatten', 'Concatenate',
  'UpSampling2D', 'Activation', 'LeakyReLU']);
const ROWS = 5;
const TOLERANCE = 1e-4;

/** The files being served: the URL path (without the leading /) to the bytes. */
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
    const type = req.url!.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, 'content-length': bytes.length }).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface ModelJson {
  format: string;
  generatedBy: string;
  convertedBy: null;
  modelTopology: {
    class_name: string;
    keras_version: string;
    backend: string;
    config: { name: string; layers: { class_name: string; name: string }[] };
  };
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
  userDefinedMetadata: { vaekit: { inputs: Record<string, string>; outputs: Record<string, string>; data?: DataInfo } };
}


/** Checks the file list and each model.json's fields, layer classes and manifest against weights.bin. */
function checkFiles(files: ExportFile[]): Map<string, ModelJson> {
  assert.deepEqual(files.map((f) => f.name), ['encoder/model.json', 'encoder/weights.bin', 'decoder/model.json', 'decoder/weights.bin']);
  const jsons = new Map<string, ModelJson>();
  for (const part of ['encoder', 'decoder']) {
    const json = JSON.parse(new TextDecoder().decode(files.find((f) => f.name === `${part}/model.json`)!.bytes)) as ModelJson;
    assert.equal(json.format, 'layers-model');
    assert.equal(json.generatedBy, 'vaekit');
    assert.equal(json.convertedBy, null);
    assert.equal(json.modelTopology.class_name, 'Model');
    assert.ok(json.modelTopology.keras_version.length > 0 && json.modelTopology.backend.length > 0);
    for (const layer of json.modelTopology.config.layers) {
      assert.ok(STANDARD_LAYERS.has(layer.class_name), `${part} layer ${layer.name} is a ${layer.class_name}`);
    }
    assert.equal(json.weightsManifest.length, 1);
    assert.deepEqual(json.weightsManifest[0]!.paths, ['weights.bin']);
    const values = json.weightsManifest[0]!.weights.reduce((n, w) => {
      assert.equal(w.dtype, 'float32');
      return n + w.shape.reduce((a, b) => a * b, 1);
    }, 0);
    assert.equal(files.find((f) => f.name === `${part}/weights.bin`)!.bytes.length, 4 * values);
    jsons.set(part, json);
  }
  return jsons;
}

/** Loads encoder/ and decoder/ from the server, as a browser would. */
async function load(files: ExportFile[], folder: string): Promise<{ encoder: tf.LayersModel; decoder: tf.LayersModel }> {
  served = new Map(files.map((f) => [`${folder}/${f.name}`, f.bytes]));
  const encoder = await tf.loadLayersModel(`${baseUrl}/${folder}/encoder/model.json`);
  const decoder = await tf.loadLayersModel(`${baseUrl}/${folder}/decoder/model.json`);
  return { encoder, decoder };
}

function oneHot(labels: Uint8Array, classes: number): tf.Tensor {
  const data = new Float32Array(labels.length * classes);
  labels.forEach((y, r) => { data[r * classes + y] = 1; });
  return tf.tensor2d(data, [labels.length, classes]);
}

interface Case {
  title: string;
  preset: 'seed' | 'conv';
  overrides: VaeOverrides;
  data?: DataInfo;
}

const cases: Case[] = [
  {
    title: 'dense 28x28x1, relu',
    preset: 'seed',
    overrides: { latent: 6, encoderHidden: [24], decoderHidden: [20], activation: 'relu' },
  },
  {
    title: 'conv 8x12x3, leaky relu',
    preset: 'conv',
    overrides: { inputShape: [8, 12, 3], convChannels: [4, 8], encoderHidden: [16], decoderHidden: [16], latent: 5, activation: 'leaky_relu', likelihood: 'gaussian' },
  },
  {
    title: 'conditional conv 4x8x2, tanh, no hidden layers',
    preset: 'conv',
    overrides: { inputShape: [4, 8, 2], convChannels: [3, 5], encoderHidden: [], decoderHidden: [], latent: 3, activation: 'tanh', classes: 3 },
  },
  {
    title: 'conditional dense 10x6x1, sigmoid, two hidden layers',
    preset: 'seed',
    overrides: { inputShape: [10, 6, 1], encoderHidden: [12, 9], decoderHidden: [9, 12], latent: 4, activation: 'sigmoid', classes: 4, likelihood: 'continuous-bernoulli' },
    data: { shape: [10, 6, 1], classNames: ['a', 'b', 'c', 'd'], standardization: null, source: 'test' },
  },
  {
    title: 'features [7], linear, learned variance',
    preset: 'seed',
    overrides: { inputShape: [7], encoderHidden: [10], decoderHidden: [10], latent: 3, activation: 'linear', likelihood: 'gaussian', gaussianLearnedVariance: true },
    data: {
      shape: [7], classNames: null, source: 'table.csv',
      standardization: { mean: [1, 2, 3, 4, 5, 6, 7], std: [1, 1, 2, 2, 3, 3, 4] }, featureNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
    },
  },
];

cases.forEach((c, index) => {
  test(`tfjs export: ${c.title} loads in tfjs and matches vaekit`, async () => {
    const vae = randomModel(c.preset, c.overrides, 11 + index);
    const config = vae.config;
    const files = tfjsFiles(vae, c.data);
    const jsons = checkFiles(files);
    const { encoder, decoder } = await load(files, `case${index}`);
    const rng = new Random(100 + index);
    const L = config.latent;
    const D = inputSize(config);
    const image = imageSides(config);
    const shape = image === null ? [ROWS, D] : [ROWS, image.height, image.width, image.channels];
    const x = new Float32Array(ROWS * D);
    if (image === null) rng.fillNormal(x);
    else rng.fillUniform(x);
    const labels = new Uint8Array(ROWS).map(() => rng.int(Math.max(config.classes, 1)));
    const vaeLabels = config.classes > 0 ? labels : null;

    // Inputs and outputs are where the metadata says.
    const xName = image === null ? 'features' : 'image';
    assert.deepEqual(encoder.inputNames, config.classes > 0 ? [xName, 'label'] : [xName]);
    assert.deepEqual(encoder.outputNames, ['mean', 'logvar']);
    assert.deepEqual(decoder.inputNames, config.classes > 0 ? ['z', 'label'] : ['z']);
    assert.deepEqual(decoder.outputNames, [xName]);
    assert.deepEqual(encoder.inputs[0]!.shape, [null, ...shape.slice(1)]);
    assert.deepEqual(decoder.outputs[0]!.shape, [null, ...shape.slice(1)]);
    for (const [part, model] of [['encoder', encoder], ['decoder', decoder]] as const) {
      assert.deepEqual(model.getUserDefinedMetadata(), jsons.get(part)!.userDefinedMetadata);
      assert.deepEqual(Object.keys(jsons.get(part)!.userDefinedMetadata.vaekit.inputs), model.inputNames);
      assert.deepEqual(Object.keys(jsons.get(part)!.userDefinedMetadata.vaekit.outputs), model.outputNames);
      for (const layer of model.layers) assert.ok(STANDARD_LAYERS.has(layer.getClassName()), layer.getClassName());
    }
    if (c.data !== undefined) {
      const { shape: _shape, ...described } = c.data;
      assert.deepEqual(jsons.get('encoder')!.userDefinedMetadata.vaekit.data, { featureNames: null, ...described });
    }

    // Encoder: tfjs's mean and logvar against vaekit's rows of mean then log-variance.
    const encoderInputs = [tf.tensor(x, shape), ...(config.classes > 0 ? [oneHot(labels, config.classes)] : [])];
    const [mean, logvar] = encoder.predict(encoderInputs) as tf.Tensor[];
    const ml = vae.encodeBatch(x, ROWS, vaeLabels);
    const expectedMean = new Float32Array(ROWS * L);
    const expectedLogvar = new Float32Array(ROWS * L);
    for (let r = 0; r < ROWS; r++) {
      expectedMean.set(ml.subarray(r * 2 * L, r * 2 * L + L), r * L);
      expectedLogvar.set(ml.subarray(r * 2 * L + L, (r + 1) * 2 * L), r * L);
    }
    assert.deepEqual(mean!.shape, [ROWS, L]);
    const encoderDiff = Math.max(maxAbsDiff(mean!.dataSync(), expectedMean), maxAbsDiff(logvar!.dataSync(), expectedLogvar));
    assert.ok(encoderDiff <= TOLERANCE, `encoder differs by ${encoderDiff}`);

    // Decoder: tfjs's images (or features) against vaekit's logits through the likelihood's mean.
    const z = new Float32Array(ROWS * L);
    rng.fillNormal(z);
    const decoderInputs = [tf.tensor2d(z, [ROWS, L]), ...(config.classes > 0 ? [oneHot(labels, config.classes)] : [])];
    const out = decoder.predict(decoderInputs) as tf.Tensor;
    const expected = new Float32Array(ROWS * D);
    vae.logitsToImages(vae.decodeLogitsBatch(z, ROWS, vaeLabels), ROWS, expected);
    assert.deepEqual(out.shape, shape);
    const decoderDiff = maxAbsDiff(out.dataSync(), expected);
    assert.ok(decoderDiff <= TOLERANCE, `decoder differs by ${decoderDiff}`);
    // The outputs are not trivially constant (the comparison has something to compare).
    assert.ok(Math.max(...expectedMean) - Math.min(...expectedMean) > 1e-2);
    assert.ok(Math.max(...expected) - Math.min(...expected) > 1e-3);
    if (process.env.VAEKIT_TFJS_EXPORT_VERBOSE) console.log(`${c.title}: encoder ${encoderDiff.toExponential(2)}, decoder ${decoderDiff.toExponential(2)}`);
    tf.dispose([...encoderInputs, mean!, logvar!, ...decoderInputs, out]);
    encoder.dispose();
    decoder.dispose();
  });
});

test('tfjs export: loading the models registered no custom layer or object', () => {
  const registeredAfter = Object.keys(tf.serialization.SerializationMap.getMap().classNameMap).sort();
  assert.deepEqual(registeredAfter, registeredBefore);
});

test('tfjs export: the files are built in memory and the same for the same model', () => {
  const vae = randomModel('seed', { inputShape: [4, 4, 1], latent: 2, encoderHidden: [3], decoderHidden: [3] }, 5);
  const a = tfjsFiles(vae);
  const b = tfjsFiles(vae);
  assert.deepEqual(a, b);
  // The weights file holds vaekit's values: the first encoder Dense's kernel, as stored.
  const first = vae.params.get('encoder.dense_0.kernel').value;
  const bin = a.find((f) => f.name === 'encoder/weights.bin')!.bytes;
  assert.deepEqual(new Float32Array(bin.slice(0, 4 * first.length).buffer), first);
});
