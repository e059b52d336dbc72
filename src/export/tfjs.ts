/**
 * The TF.js layers format: for each of the encoder and the decoder, a folder with model.json (the
 * Keras functional model's topology, format "layers-model", and a weights manifest) and
 * weights.bin (every weight as little-endian float32, in the manifest's order). `tf.loadLayersModel`
 * loads them with no custom layer registered: only InputLayer, Dense, Conv2D, Conv2DTranspose,
 * Reshape, Flatten, Concatenate, UpSampling2D, Activation and LeakyReLU appear.
 *
 * The layers map one to one, with vaekit's weights as they are (Dense [in, out], Conv2d [k, k,
 * inC, outC] and ConvTranspose2d [k, k, outC, inC] are Keras' layouts, and both store images
 * channels-last). vaekit's Conv2d and ConvTranspose2d (kernel 4, stride 2, padding 1 on even sides)
 * are Keras' padding 'same'. Three things are rewritten, each exactly: the encoder's last Dense,
 * which emits mean then log-variance, becomes two Dense heads `mean` and `logvar` (its kernel's
 * columns and its bias split in two); a leaky relu becomes a linear layer followed by LeakyReLU
 * (alpha LEAKY_SLOPE); a conv encoder's label planes are the one-hot label reshaped to [1, 1, K]
 * and upsampled to the image's sides. The decoder ends in an Activation layer named for its output:
 * `image` (sigmoid of the logits, the mean image of every likelihood) or `features` (linear).
 * Browser-safe: the files are built in memory.
 */
import type { Activation } from '../engine/backend.js';
import type { DataInfo } from '../run/bundle-format.js';
import { Conv2d, type AxisPair } from '../nn/conv2d.js';
import { ConvTranspose2d } from '../nn/conv-transpose2d.js';
import { Dense, LEAKY_SLOPE } from '../nn/dense.js';
import type { Layer } from '../nn/layer.js';
import { imageSides, inputSize } from '../vae/config.js';
import type { Vae } from '../vae/model.js';
import type { ExportFile } from './index.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** The Keras JSON this file writes is the one tfjs-layers 4.22 writes (model.toJSON()). */
const KERAS_VERSION = 'tfjs-layers 4.22.0';
const KERAS_BACKEND = 'tensor_flow.js';
export const WEIGHTS_FILE = 'weights.bin';

/** vaekit's initializer, for the record (the weights are loaded over it). */
export const GLOROT_UNIFORM: JsonObject = { class_name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'uniform', seed: null } };
export const ZEROS: JsonObject = { class_name: 'Zeros', config: {} };

export interface Weight {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A Keras functional model under construction: its layers in order, its inputs and its weights. */
export class KerasGraph {
  readonly layers: JsonObject[] = [];
  readonly inputs: string[] = [];
  readonly weights: Weight[] = [];

  /** An InputLayer of per-row shape `shape`; returns its name. */
  input(name: string, shape: number[]): string {
    this.layers.push({
      name, class_name: 'InputLayer',
      config: { batch_input_shape: [null, ...shape], dtype: 'float32', sparse: false, name },
      inbound_nodes: [],
    });
    this.inputs.push(name);
    return name;
  }

  /** A layer applied to the outputs of the layers named `inputs`, with its kernel and bias if it has them; returns its name. */
  add(className: string, name: string, config: JsonObject, inputs: string[], kernel?: Weight, bias?: Weight): string {
    if (this.layers.some((l) => l.name === name)) throw new Error(`Duplicate TF.js layer name ${name}.`);
    this.layers.push({
      name, class_name: className,
      config: { ...config, name, trainable: true },
      inbound_nodes: [inputs.map((input) => [input, 0, 0, {}])],
    });
    if (kernel !== undefined) this.weights.push({ ...kernel, name: `${name}/kernel` });
    if (bias !== undefined) this.weights.push({ ...bias, name: `${name}/bias` });
    return name;
  }

  /** model.json's contents: the functional model with these outputs, its weights manifest and the metadata. */
  modelJson(modelName: string, outputs: string[], metadata: JsonObject): JsonObject {
    return {
      format: 'layers-model',
      generatedBy: 'vaekit',
      convertedBy: null,
      modelTopology: {
        class_name: 'Model',
        config: {
          name: modelName,
          layers: this.layers,
          input_layers: this.inputs.map((name) => [name, 0, 0]),
          output_layers: outputs.map((name) => [name, 0, 0]),
        },
        keras_version: KERAS_VERSION,
        backend: KERAS_BACKEND,
      },
      weightsManifest: [{
        paths: [WEIGHTS_FILE],
        weights: this.weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })),
      }],
      userDefinedMetadata: metadata,
    };
  }

  /** weights.bin: every weight's float32 values, in the manifest's order. */
  weightsBin(): Uint8Array {
    const all = new Float32Array(this.weights.reduce((n, w) => n + w.data.length, 0));
    let offset = 0;
    for (const w of this.weights) {
      all.set(w.data, offset);
      offset += w.data.length;
    }
    return new Uint8Array(all.buffer);
  }
}

/** The Keras layer name of a vaekit layer: encoder.dense_0 -> encoder_dense_0. */
function kerasName(layer: Layer): string {
  return layer.name.replaceAll('.', '_');
}

/** The activation a Keras layer takes for a vaekit one (leaky relu follows as its own layer). */
function kerasActivation(activation: Activation): string {
  return activation === 'leaky_relu' ? 'linear' : activation;
}

/** A LeakyReLU layer after `name` when the activation is leaky relu; returns the layer that carries the output. */
function leakyAfter(g: KerasGraph, name: string, activation: Activation): string {
  if (activation !== 'leaky_relu') return name;
  return g.add('LeakyReLU', `${name}_leaky_relu`, { alpha: LEAKY_SLOPE }, [name]);
}

export function denseConfig(units: number, activation: string): JsonObject {
  return {
    units, activation, use_bias: true,
    kernel_initializer: GLOROT_UNIFORM, bias_initializer: ZEROS,
    kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null,
    kernel_constraint: null, bias_constraint: null,
  };
}

function convConfig(filters: number, kernel: AxisPair, stride: AxisPair, activation: string): JsonObject {
  return {
    filters, kernel_size: [...kernel], strides: [...stride], padding: 'same', data_format: 'channels_last',
    activation, use_bias: true,
    kernel_initializer: GLOROT_UNIFORM, bias_initializer: ZEROS,
    kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null,
    kernel_constraint: null, bias_constraint: null,
  };
}

/** The kernel and bias of a vaekit layer as they are. */
function layerWeights(vae: Vae, layer: Layer): { kernel: Weight; bias: Weight } {
  const k = vae.params.get(`${layer.name}.kernel`);
  const b = vae.params.get(`${layer.name}.bias`);
  return {
    kernel: { name: k.name, shape: [...k.shape], data: k.value },
    bias: { name: b.name, shape: [...b.shape], data: b.value },
  };
}

function addDense(g: KerasGraph, vae: Vae, layer: Dense, input: string): string {
  const { kernel, bias } = layerWeights(vae, layer);
  const name = g.add('Dense', kerasName(layer), denseConfig(layer.outputs, kerasActivation(layer.activation)), [input], kernel, bias);
  return leakyAfter(g, name, layer.activation);
}

/**
 * Throws unless a convolution from `input` to `output` positions (kernel, stride, padding on each
 * side) is TF's SAME padding: ceil(input / stride) outputs, the same padding before, and no more
 * than `padding` after (TF puts an odd total's extra position after).
 */
function checkSamePadding(layer: string, input: number, output: number, kernel: number, stride: number, padding: number): void {
  const total = Math.max((output - 1) * stride + kernel - input, 0);
  const before = Math.floor(total / 2);
  if (output !== Math.ceil(input / stride) || before !== padding || total - before > padding) {
    throw new Error(`${layer}: kernel ${kernel}, stride ${stride} and padding ${padding} over ${input} positions are not Keras' padding 'same'.`);
  }
}

function addConv(g: KerasGraph, vae: Vae, layer: Conv2d, input: string): string {
  checkSamePadding(layer.name, layer.inHeight, layer.outHeight, layer.kernelSize[0], layer.stride[0], layer.padding[0]);
  checkSamePadding(layer.name, layer.inWidth, layer.outWidth, layer.kernelSize[1], layer.stride[1], layer.padding[1]);
  const { kernel, bias } = layerWeights(vae, layer);
  const config = convConfig(layer.outChannels, layer.kernelSize, layer.stride, kerasActivation(layer.activation));
  const name = g.add('Conv2D', kerasName(layer), { ...config, dilation_rate: [1, 1] }, [input], kernel, bias);
  return leakyAfter(g, name, layer.activation);
}

function addConvTranspose(g: KerasGraph, vae: Vae, layer: ConvTranspose2d, input: string): string {
  // A transposed convolution is the input gradient of the convolution from its output to its input;
  // Keras' 'same' one outputs input * stride positions.
  checkSamePadding(layer.name, layer.outHeight, layer.inHeight, layer.kernelSize[0], layer.stride[0], layer.padding[0]);
  checkSamePadding(layer.name, layer.outWidth, layer.inWidth, layer.kernelSize[1], layer.stride[1], layer.padding[1]);
  if (layer.outHeight !== layer.inHeight * layer.stride[0] || layer.outWidth !== layer.inWidth * layer.stride[1]) {
    throw new Error(`${layer.name}: its output is not its input times the stride, as Keras' padding 'same' makes it.`);
  }
  const { kernel, bias } = layerWeights(vae, layer);
  const config = convConfig(layer.outChannels, layer.kernelSize, layer.stride, kerasActivation(layer.activation));
  const name = g.add('Conv2DTranspose', kerasName(layer), config, [input], kernel, bias);
  return leakyAfter(g, name, layer.activation);
}

/** The encoder's last Dense (2L outputs, mean then log-variance) as two Dense heads `mean` and `logvar`. */
function addHeads(g: KerasGraph, vae: Vae, layer: Dense, input: string): string[] {
  const L = vae.latent;
  if (layer.outputs !== 2 * L || layer.activation !== 'linear') throw new Error(`${layer.name} is not the encoder's linear output of 2 * ${L} values.`);
  const { kernel, bias } = layerWeights(vae, layer);
  const rows = layer.inputs;
  return ['mean', 'logvar'].map((head, h) => {
    const k = new Float32Array(rows * L);
    for (let r = 0; r < rows; r++) k.set(kernel.data.subarray(r * 2 * L + h * L, r * 2 * L + (h + 1) * L), r * L);
    const b = bias.data.slice(h * L, (h + 1) * L);
    return g.add('Dense', head, denseConfig(L, 'linear'), [input],
      { name: kernel.name, shape: [rows, L], data: k }, { name: bias.name, shape: [L], data: b });
  });
}

function buildEncoder(vae: Vae): { graph: KerasGraph; outputs: string[] } {
  const c = vae.config;
  const g = new KerasGraph();
  const image = imageSides(c);
  let x = image === null ? g.input('features', [inputSize(c)]) : g.input('image', [image.height, image.width, image.channels]);
  const label = c.classes > 0 ? g.input('label', [c.classes]) : null;
  if (c.architecture === 'conv') {
    if (label !== null) {
      // One constant plane per class after the image's channels (conditioning.ts).
      const cell = g.add('Reshape', 'label_reshape', { target_shape: [1, 1, c.classes] }, [label]);
      const planes = g.add('UpSampling2D', 'label_planes',
        { size: [image!.height, image!.width], data_format: 'channels_last', interpolation: 'nearest' }, [cell]);
      x = g.add('Concatenate', 'encoder_input', { axis: -1 }, [x, planes]);
    }
  } else {
    if (image !== null) x = g.add('Flatten', 'encoder_flatten', {}, [x]);
    if (label !== null) x = g.add('Concatenate', 'encoder_input', { axis: -1 }, [x, label]);
  }
  const layers = vae.encoder.layers;
  let outputs: string[] = [];
  layers.forEach((layer, i) => {
    const last = i === layers.length - 1;
    if (layer instanceof Conv2d) {
      x = addConv(g, vae, layer, x);
    } else if (layer instanceof Dense) {
      // vaekit flattens conv feature maps channels-last, as Keras' Flatten does.
      if (i > 0 && layers[i - 1] instanceof Conv2d) x = g.add('Flatten', 'encoder_flatten', {}, [x]);
      if (last) outputs = addHeads(g, vae, layer, x);
      else x = addDense(g, vae, layer, x);
    } else {
      throw new Error(`The TF.js export has no mapping for the encoder's ${layer.kind} layer ${layer.name}.`);
    }
  });
  return { graph: g, outputs };
}

function buildDecoder(vae: Vae): { graph: KerasGraph; outputs: string[] } {
  const c = vae.config;
  const g = new KerasGraph();
  const image = imageSides(c);
  let x = g.input('z', [c.latent]);
  if (c.classes > 0) x = g.add('Concatenate', 'decoder_input', { axis: -1 }, [x, g.input('label', [c.classes])]);
  const layers = vae.decoder.layers;
  layers.forEach((layer, i) => {
    if (layer instanceof Dense) {
      x = addDense(g, vae, layer, x);
    } else if (layer instanceof ConvTranspose2d) {
      if (i > 0 && layers[i - 1] instanceof Dense) {
        x = g.add('Reshape', 'decoder_reshape', { target_shape: [layer.inHeight, layer.inWidth, layer.inChannels] }, [x]);
      }
      x = addConvTranspose(g, vae, layer, x);
    } else {
      throw new Error(`The TF.js export has no mapping for the decoder's ${layer.kind} layer ${layer.name}.`);
    }
  });
  if (image === null) return { graph: g, outputs: [g.add('Activation', 'features', { activation: 'linear' }, [x])] };
  if (c.architecture === 'dense') {
    x = g.add('Reshape', 'decoder_reshape', { target_shape: [image.height, image.width, image.channels] }, [x]);
  }
  return { graph: g, outputs: [g.add('Activation', 'image', { activation: 'sigmoid' }, [x])] };
}

/** What the inputs and outputs mean, for model.json's userDefinedMetadata. */
function metadata(vae: Vae, part: 'encoder' | 'decoder', data: DataInfo | undefined): JsonObject {
  const c = vae.config;
  const image = imageSides(c);
  const x = image === null
    ? `features [batch, ${inputSize(c)}]${data?.standardization ? ', standardized: (x - standardization.mean) / standardization.std' : ''}`
    : `images [batch, ${image.height}, ${image.width}, ${image.channels}], channels-last, values in [0, 1]`;
  const label = `one-hot class [batch, ${c.classes}]${data?.classNames ? ' (classNames gives each index its name)' : ''}`;
  const inputs: JsonObject = part === 'encoder'
    ? { [image === null ? 'features' : 'image']: x }
    : { z: `latent vectors [batch, ${c.latent}]` };
  if (c.classes > 0) inputs.label = label;
  const outputs: JsonObject = part === 'encoder'
    ? {
      mean: `the posterior q(z|x)'s mean [batch, ${c.latent}]`,
      logvar: `the posterior q(z|x)'s log-variance [batch, ${c.latent}]`,
    }
    : { [image === null ? 'features' : 'image']: image === null ? `the ${c.likelihood} likelihood's mean, ${x}` : `the mean image of p(x|z): ${x}` };
  const about: JsonObject = {
    model: `vaekit variational autoencoder, ${part}`,
    inputs,
    outputs,
    config: JSON.parse(JSON.stringify(c)) as JsonObject,
  };
  if (data !== undefined) {
    about.data = {
      source: data.source,
      classNames: data.classNames,
      standardization: data.standardization === null ? null : { mean: data.standardization.mean, std: data.standardization.std },
      featureNames: data.featureNames ?? null,
    };
  }
  return { vaekit: about };
}

/** The TF.js layers-format files of a model: encoder/ and decoder/, each model.json and weights.bin. */
export function tfjsFiles(vae: Vae, data?: DataInfo): ExportFile[] {
  const encoder = buildEncoder(vae);
  const decoder = buildDecoder(vae);
  const text = new TextEncoder();
  const files: ExportFile[] = [];
  for (const [part, { graph, outputs }] of [['encoder', encoder], ['decoder', decoder]] as const) {
    const json = graph.modelJson(`vaekit_${part}`, outputs, metadata(vae, part, data));
    files.push({ name: `${part}/model.json`, bytes: text.encode(JSON.stringify(json)) });
    files.push({ name: `${part}/${WEIGHTS_FILE}`, bytes: graph.weightsBin() });
  }
  return files;
}
