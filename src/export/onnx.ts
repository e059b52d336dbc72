/**
 * ONNX export: the encoder and the decoder as two deterministic graphs (opset 17, IR version 8),
 * built as protobuf messages with onnx-proto and encoded by protobufjs.
 *
 *   encoder.onnx  x [N, H, W, C] (or [N, D]) (+ label [N, K]) -> mean [N, L], logvar [N, L]
 *   decoder.onnx  z [N, L] (+ label [N, K]) -> x [N, H, W, C] (or [N, D])
 *
 * The graphs take and give tensors in vaekit's own layout (images channels-last, values in [0, 1];
 * features standardized), so a row means the same thing in both. ONNX's Conv and ConvTranspose
 * work on NCHW tensors, so a conv model's graph transposes to NCHW before its first conv and back
 * to channels-last before it flattens (vaekit flattens feature maps in H, W, C order). Sampling
 * (z = mean + exp(logvar / 2) * eps) is left to the caller: the graphs hold no random nodes.
 * Browser-safe: no fs.
 */
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import type { Activation } from '../engine/backend.js';
import type { DataInfo } from '../run/bundle-format.js';
import { Conv2d, type AxisPair } from '../nn/conv2d.js';
import { ConvTranspose2d } from '../nn/conv-transpose2d.js';
import { Dense, LEAKY_SLOPE } from '../nn/dense.js';
import type { Layer } from '../nn/layer.js';
import { imageSides, inputSize, type VaeConfig } from '../vae/config.js';
import type { Vae } from '../vae/model.js';
import type { ExportFile } from './index.js';

const proto = onnxProto.onnx;
const FLOAT = proto.TensorProto.DataType.FLOAT;
const INT64 = proto.TensorProto.DataType.INT64;
export const ONNX_INT64 = INT64;
const { INT, INTS, FLOAT: FLOAT_ATTRIBUTE, STRING } = proto.AttributeProto.AttributeType;

export const ONNX_OPSET = 17;
/** The IR version that opset 17 goes with (ONNX 1.12). */
export const ONNX_IR_VERSION = 8;
export const ENCODER_ONNX = 'encoder.onnx';
export const DECODER_ONNX = 'decoder.onnx';

/** The symbolic batch dimension of every input and output. */
const BATCH = 'N';

/** Nodes and initializers of one graph, with fresh names for the tensors between nodes. */
export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private count = 0;

  /** Adds a node with one output and returns the output's name (`output`, or a fresh one). */
  op(opType: string, inputs: string[], attributes: onnx.IAttributeProto[] = [], output?: string): string {
    const name = output ?? `${opType.toLowerCase()}_${this.count}`;
    this.nodes.push({ opType, name: `${opType}_${this.count}`, input: inputs, output: [name], attribute: attributes });
    this.count++;
    return name;
  }

  /** Renames the output of the node that made `tensor` (the graph's outputs have fixed names). */
  nameOutput(tensor: string, name: string): void {
    const node = this.nodes.find((n) => n.output?.[0] === tensor);
    if (node === undefined) throw new Error(`No node makes ${tensor}.`);
    node.output = [name];
  }

  floats(name: string, dims: number[], values: Float32Array, docString?: string): string {
    // Little-endian raw bytes, as ONNX stores them, whatever this machine's byte order.
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    this.initializers.push({ name, dims, dataType: FLOAT, rawData: bytes, ...(docString === undefined ? {} : { docString }) });
    return name;
  }

  int64s(name: string, values: number[]): string {
    // The same name always holds the same values (names are made from them): add it once.
    if (this.initializers.some((t) => t.name === name)) return name;
    const bytes = new Uint8Array(values.length * 8);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    this.initializers.push({ name, dims: [values.length], dataType: INT64, rawData: bytes });
    return name;
  }

  /** y = act(x) for vaekit's activations (linear adds no node). */
  activation(x: string, act: Activation): string {
    switch (act) {
      case 'linear': return x;
      case 'relu': return this.op('Relu', [x]);
      case 'leaky_relu': return this.op('LeakyRelu', [x], [floatAttribute('alpha', LEAKY_SLOPE)]);
      case 'tanh': return this.op('Tanh', [x]);
      case 'sigmoid': return this.op('Sigmoid', [x]);
    }
  }
}

export function intsAttribute(name: string, ints: number[]): onnx.IAttributeProto {
  return { name, type: INTS, ints };
}

export function intAttribute(name: string, i: number): onnx.IAttributeProto {
  return { name, type: INT, i };
}

function floatAttribute(name: string, f: number): onnx.IAttributeProto {
  return { name, type: FLOAT_ATTRIBUTE, f };
}

export function stringAttribute(name: string, s: string): onnx.IAttributeProto {
  return { name, type: STRING, s: new TextEncoder().encode(s) };
}

/** A tensor's type (float32 unless elemType says otherwise) and shape (strings are symbolic dimensions). */
export function valueInfo(name: string, dims: (number | string)[], docString: string, elemType: number = FLOAT): onnx.IValueInfoProto {
  return {
    name,
    docString,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

/** Where a tensor between layers is: [N, H, W, C], [N, C, H, W], or flat [N, values] (channels-last order). */
type Layout = 'nhwc' | 'nchw' | 'flat';

/**
 * Carries a tensor through a layer stack, converting its layout where a layer needs another one.
 * `sides` are the [height, width, channels] of the current feature map when it is not flat.
 */
class Stack {
  sides: [number, number, number] = [0, 0, 0];

  constructor(private readonly b: GraphBuilder, public tensor: string, public layout: Layout) {}

  to(layout: Layout): void {
    if (layout === this.layout) return;
    const [h, w, c] = this.sides;
    if (layout === 'flat') {
      if (this.layout === 'nchw') this.tensor = this.b.op('Transpose', [this.tensor], [intsAttribute('perm', [0, 2, 3, 1])]);
      this.tensor = this.b.op('Flatten', [this.tensor], [intAttribute('axis', 1)]);
    } else if (layout === 'nchw') {
      if (this.layout === 'flat') this.tensor = this.b.op('Reshape', [this.tensor, this.b.int64s(`shape_${h}x${w}x${c}`, [0, h, w, c])]);
      this.tensor = this.b.op('Transpose', [this.tensor], [intsAttribute('perm', [0, 3, 1, 2])]);
    } else {
      if (this.layout === 'flat') this.tensor = this.b.op('Reshape', [this.tensor, this.b.int64s(`shape_${h}x${w}x${c}`, [0, h, w, c])]);
      else this.tensor = this.b.op('Transpose', [this.tensor], [intsAttribute('perm', [0, 2, 3, 1])]);
    }
    this.layout = layout;
  }

  /** Appends one vaekit layer (its weights as initializers named like vaekit's parameters). */
  layer(vae: Vae, layer: Layer): void {
    const kernel = vae.params.get(`${layer.name}.kernel`).value;
    const bias = this.b.floats(`${layer.name}.bias`, [layer.outputShape.at(-1)!], vae.params.get(`${layer.name}.bias`).value);
    if (layer instanceof Dense) {
      this.to('flat');
      // Gemm computes x W + b with W as vaekit stores it, [inputs, outputs].
      const w = this.b.floats(`${layer.name}.kernel`, [layer.inputs, layer.outputs], kernel);
      this.tensor = this.b.op('Gemm', [this.tensor, w, bias]);
    } else if (layer instanceof Conv2d) {
      this.sides = [layer.inHeight, layer.inWidth, layer.inChannels];
      this.to('nchw');
      const [kh, kw] = layer.kernelSize;
      const w = this.b.floats(`${layer.name}.kernel`, [layer.outChannels, layer.inChannels, kh, kw],
        permute4(kernel, [kh, kw, layer.inChannels, layer.outChannels], [3, 2, 0, 1]),
        'vaekit\'s [kH, kW, in, out] kernel transposed to ONNX Conv\'s [out, in, kH, kW].');
      this.tensor = this.b.op('Conv', [this.tensor, w, bias], convAttributes(layer.kernelSize, layer.stride, layer.padding));
    } else if (layer instanceof ConvTranspose2d) {
      // After a Dense the tensor is flat: these are the sides it is reshaped to.
      this.sides = [layer.inHeight, layer.inWidth, layer.inChannels];
      this.to('nchw');
      const [kh, kw] = layer.kernelSize;
      const w = this.b.floats(`${layer.name}.kernel`, [layer.inChannels, layer.outChannels, kh, kw],
        permute4(kernel, [kh, kw, layer.outChannels, layer.inChannels], [3, 2, 0, 1]),
        'vaekit\'s [kH, kW, out, in] kernel transposed to ONNX ConvTranspose\'s [in, out, kH, kW].');
      const attributes = convAttributes(layer.kernelSize, layer.stride, layer.padding);
      if (layer.outputPadding.some((p) => p > 0)) attributes.push(intsAttribute('output_padding', [...layer.outputPadding]));
      this.tensor = this.b.op('ConvTranspose', [this.tensor, w, bias], attributes);
    } else {
      throw new Error(`The ONNX export does not know layer ${layer.name} (${layer.kind}).`);
    }
    this.tensor = this.b.activation(this.tensor, layer.activation);
    const shape = layer.outputShape;
    if (shape.length === 3) this.sides = [shape[0]!, shape[1]!, shape[2]!];
  }
}

/** Kernel, strides and pads ([height begin, width begin, height end, width end]) of a [height, width] window. */
function convAttributes(kernel: AxisPair, stride: AxisPair, padding: AxisPair): onnx.IAttributeProto[] {
  return [
    intsAttribute('kernel_shape', [...kernel]),
    intsAttribute('strides', [...stride]),
    intsAttribute('pads', [...padding, ...padding]),
  ];
}

/** A row-major 4-D array of shape `dims` with its axes reordered: out axis i is input axis perm[i]. */
function permute4(values: Float32Array, dims: [number, number, number, number], perm: [number, number, number, number]): Float32Array {
  const outDims = perm.map((p) => dims[p]!);
  const inStrides = [dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1];
  const strides = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(values.length);
  let o = 0;
  for (let a = 0; a < outDims[0]!; a++) {
    for (let b = 0; b < outDims[1]!; b++) {
      for (let c = 0; c < outDims[2]!; c++) {
        for (let d = 0; d < outDims[3]!; d++) out[o++] = values[a * strides[0]! + b * strides[1]! + c * strides[2]! + d * strides[3]!]!;
      }
    }
  }
  return out;
}

/** The per-row shape of the model's data: [H, W, C] or [D]. */
function dataDims(c: VaeConfig): number[] {
  return [...c.inputShape];
}

/** What the data input and output hold, in words. */
function dataMeaning(c: VaeConfig, data: DataInfo | undefined): string {
  if (imageSides(c) !== null) {
    const [h, w, ch] = c.inputShape;
    return `images [N, ${h}, ${w}, ${ch}] channels-last (height, width, channels${ch === 1 ? '; 1 = greyscale' : ch === 3 ? '; RGB' : ''}), float32 values in [0, 1] (pixel / 255)`;
  }
  const standardized = data?.standardization != null
    ? 'standardized: (value - mean) / std per feature with the vaekit.standardization_mean and vaekit.standardization_std metadata'
    : 'in the units the model was trained in';
  return `rows of ${inputSize(c)} features [N, ${inputSize(c)}], float32, ${standardized}`;
}

function labelMeaning(c: VaeConfig, data: DataInfo | undefined): string {
  const names = data?.classNames != null ? ` (classes: ${data.classNames.map((n, i) => `${i} = ${n}`).join(', ')})` : '';
  return `each row's class as a one-hot float32 vector [N, ${c.classes}]${names}`;
}

/** Metadata both graphs carry: what the model is and how to prepare its data. */
function commonMetadata(vae: Vae, data: DataInfo | undefined): Record<string, string> {
  const c = vae.config;
  const m: Record<string, string> = {
    'vaekit.input_shape': JSON.stringify(dataDims(c)),
    'vaekit.layout': imageSides(c) !== null ? 'channels-last [N, height, width, channels]' : 'features [N, D]',
    'vaekit.value_range': imageSides(c) !== null ? '[0, 1]'
      : data?.standardization != null ? 'standardized features (see vaekit.standardization_mean and _std)' : 'the units the model was trained in',
    'vaekit.latent': String(c.latent),
    'vaekit.classes': String(c.classes),
    'vaekit.architecture': c.architecture,
    'vaekit.likelihood': c.likelihood,
    'vaekit.sampling': 'z = mean + exp(logvar / 2) * eps with eps ~ N(0, I), drawn by the caller; new samples decode z drawn from the prior (vaekit.prior)',
  };
  if (data?.classNames != null) m['vaekit.class_names'] = JSON.stringify(data.classNames);
  if (data?.standardization != null) {
    m['vaekit.standardization_mean'] = JSON.stringify(data.standardization.mean);
    m['vaekit.standardization_std'] = JSON.stringify(data.standardization.std);
  }
  if (data?.featureNames != null) m['vaekit.feature_names'] = JSON.stringify(data.featureNames);
  m['vaekit.prior'] = JSON.stringify(priorDescription(vae));
  return m;
}

/** The prior p(z), so a caller can draw new z: N(0, I), or the learned mixture's parameters. */
function priorDescription(vae: Vae): Record<string, unknown> {
  const c = vae.config;
  if (c.prior !== 'mog') return { kind: 'standard', description: 'N(0, I)' };
  const rows = (name: string, width: number): number[][] => {
    const v = vae.params.get(name).value;
    return Array.from({ length: v.length / width }, (_, r) => Array.from(v.subarray(r * width, (r + 1) * width)));
  };
  return {
    kind: 'mog',
    description: 'sum_k softmax(logits)_k N(z; means[k], diag(exp(logvars[k])))',
    logits: Array.from(vae.params.get('prior.logits').value),
    means: rows('prior.means', c.latent),
    logvars: rows('prior.logvars', c.latent),
  };
}

/** The encoded ModelProto of a graph (opset 17, IR version 8) with its doc string and metadata. */
export function onnxModel(graph: onnx.IGraphProto, docString: string, metadata: Record<string, string>): Uint8Array {
  const message: onnx.IModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'vaekit',
    docString,
    graph,
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  };
  return proto.ModelProto.encode(message).finish();
}

/** encoder.onnx: x (+ label) -> mean, logvar. */
export function encoderOnnx(vae: Vae, data?: DataInfo): Uint8Array {
  const c = vae.config;
  const b = new GraphBuilder();
  const image = imageSides(c);
  const inputs = [valueInfo('x', [BATCH, ...dataDims(c)], `The encoder's input: ${dataMeaning(c, data)}.`)];
  if (c.classes > 0) inputs.push(valueInfo('label', [BATCH, c.classes], `The label: ${labelMeaning(c, data)}.`));

  const stack = new Stack(b, 'x', image === null ? 'flat' : 'nhwc');
  if (image !== null) stack.sides = [image.height, image.width, image.channels];
  if (c.classes > 0) {
    if (c.architecture === 'conv') {
      // vaekit's conv encoder sees the one-hot as K constant planes after the image's channels:
      // label [N, K] -> [N, 1, 1, K], times ones [1, H, W, K] (broadcast) -> [N, H, W, K].
      const { height: h, width: w } = image!;
      const label = b.op('Reshape', ['label', b.int64s('label_shape', [0, 1, 1, c.classes])]);
      const ones = b.floats('label_planes_ones', [1, h, w, c.classes], new Float32Array(h * w * c.classes).fill(1));
      const planes = b.op('Mul', [label, ones]);
      stack.tensor = b.op('Concat', [stack.tensor, planes], [intAttribute('axis', 3)]);
      stack.sides = [h, w, image!.channels + c.classes];
    } else {
      stack.to('flat');
      stack.tensor = b.op('Concat', [stack.tensor, 'label'], [intAttribute('axis', 1)]);
    }
  }
  for (const layer of vae.encoder.layers) stack.layer(vae, layer);
  // The last layer gives 2L values a row: the posterior's mean, then its log-variance.
  b.nodes.push({
    opType: 'Split', name: 'Split_posterior', input: [stack.tensor, b.int64s('posterior_split', [c.latent, c.latent])],
    output: ['mean', 'logvar'], attribute: [intAttribute('axis', 1)],
  });

  const outputs = [
    valueInfo('mean', [BATCH, c.latent], 'The posterior q(z|x)\'s mean: the latent code of each row.'),
    valueInfo('logvar', [BATCH, c.latent], 'The posterior q(z|x)\'s log-variance: a sample is mean + exp(logvar / 2) * eps, eps ~ N(0, I).'),
  ];
  const doc = `vaekit VAE encoder (${c.architecture}, latent ${c.latent}${c.classes > 0 ? `, conditional on ${c.classes} classes` : ''}). `
    + `Input x: ${dataMeaning(c, data)}${c.classes > 0 ? `; label: ${labelMeaning(c, data)}` : ''}. `
    + 'Outputs mean and logvar [N, latent]: the diagonal Gaussian posterior q(z|x). Sampling is left to the caller.';
  const graph: onnx.IGraphProto = { name: 'vaekit_encoder', docString: doc, node: b.nodes, initializer: b.initializers, input: inputs, output: outputs };
  return onnxModel(graph, doc, {
    ...commonMetadata(vae, data),
    'vaekit.role': 'encoder',
    'vaekit.inputs': c.classes > 0 ? 'x, label' : 'x',
    'vaekit.outputs': 'mean, logvar',
  });
}

/** decoder.onnx: z (+ label) -> x. */
export function decoderOnnx(vae: Vae, data?: DataInfo): Uint8Array {
  const c = vae.config;
  const b = new GraphBuilder();
  const image = imageSides(c);
  const inputs = [valueInfo('z', [BATCH, c.latent], 'Latent vectors: a posterior mean or sample from encoder.onnx, or a draw from the prior.')];
  if (c.classes > 0) inputs.push(valueInfo('label', [BATCH, c.classes], `The label: ${labelMeaning(c, data)}.`));

  const stack = new Stack(b, 'z', 'flat');
  if (c.classes > 0) stack.tensor = b.op('Concat', ['z', 'label'], [intAttribute('axis', 1)]);
  for (const layer of vae.decoder.layers) stack.layer(vae, layer);
  if (image !== null) {
    stack.sides = [image.height, image.width, image.channels];
    stack.to('nhwc');
    // Images are the mean of p(x|z), sigmoid(logits), for every likelihood; features are the logits.
    stack.tensor = b.op('Sigmoid', [stack.tensor]);
  }
  b.nameOutput(stack.tensor, 'x');

  const meaning = image !== null
    ? `${dataMeaning(c, data)}: the mean of p(x|z), sigmoid of the decoder's logits`
    : `${dataMeaning(c, data)}: the mean of p(x|z)${data?.standardization != null ? '; un-standardize with value * std + mean' : ''}`;
  const outputs = [valueInfo('x', [BATCH, ...dataDims(c)], `The decoded ${image !== null ? 'images' : 'rows'}: ${meaning}.`)];
  const doc = `vaekit VAE decoder (${c.architecture}, latent ${c.latent}${c.classes > 0 ? `, conditional on ${c.classes} classes` : ''}). `
    + `Input z [N, ${c.latent}]${c.classes > 0 ? `; label: ${labelMeaning(c, data)}` : ''}. Output x: ${meaning}.`;
  const graph: onnx.IGraphProto = { name: 'vaekit_decoder', docString: doc, node: b.nodes, initializer: b.initializers, input: inputs, output: outputs };
  return onnxModel(graph, doc, {
    ...commonMetadata(vae, data),
    'vaekit.role': 'decoder',
    'vaekit.inputs': c.classes > 0 ? 'z, label' : 'z',
    'vaekit.outputs': 'x',
  });
}

/** The ONNX export's files: encoder.onnx and decoder.onnx. */
export function onnxFiles(vae: Vae, data?: DataInfo): ExportFile[] {
  return [
    { name: ENCODER_ONNX, bytes: encoderOnnx(vae, data) },
    { name: DECODER_ONNX, bytes: decoderOnnx(vae, data) },
  ];
}
