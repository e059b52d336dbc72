/**
 * The TF.js export of a text model (LSTM cells only): Keras functional models in the layers format
 * (model.json + weights.bin each) that `tf.loadLayersModel` loads with no custom layer, from
 * InputLayer, Embedding, LSTM, Bidirectional, Concatenate, Reshape, Dense and Activation:
 *
 *   encoder/       tokens [N, T] int32 (<pad> 0 after each sentence) (+ label [N, C]) -> mean, logvar [N, L]
 *   decoder_init/  z [N, L] (+ label) -> h, c [N, Hd]: the decoder's first state, c = dec.init's output and
 *                  h = tanh(c) (no such model for an unconditional language model: its first state is zeros)
 *   decoder_step/  token [N, 1] int32, z (+ label), h, c -> logits [N, V], h_next, c_next
 *
 * Keras' LSTM has PyTorch's gate order (i, f, c = PyTorch's g, o) in kernel [input, 4H] and
 * recurrent_kernel [H, 4H] (weight_ih and weight_hh transposed) but one bias: bias_ih + bias_hh,
 * summed in float32 as vaekit's LSTM sums them. The encoder's Embedding masks <pad> (mask_zero), so
 * the LSTM stops at each sentence's last token; a Bidirectional layer's backward LSTM reads the
 * sentence reversed with its mask, so it too starts at the last real token (vaekit's reverse
 * direction). The encoder's Dense enc.out (mean then log-variance) becomes two heads `mean` and
 * `logvar`. The embedding tables' <pad> row is zero, as vaekit reads it.
 *
 * A GRU model is refused: Keras' GRU in TF.js applies the reset gate before the hidden product
 * (reset_after is not supported), and vaekit's GRU is PyTorch's, which applies it after; the ONNX and
 * PyTorch exports take GRU models. Browser-safe: the files are built in memory.
 */
import { VaekitError } from '../../errors.js';
import type { DataInfo } from '../../run/bundle-format.js';
import type { TextVae } from '../../vae/text/model.js';
import type { ExportFile } from '../index.js';
import { denseConfig, GLOROT_UNIFORM, KerasGraph, WEIGHTS_FILE, ZEROS, type Json, type JsonObject, type Weight } from '../tfjs.js';
import { addFloat32, embeddingTable, parameter, transpose } from './weights.js';

export const TFJS_TEXT_PARTS = ['encoder', 'decoder_init', 'decoder_step'] as const;
export type TfjsTextPart = (typeof TFJS_TEXT_PARTS)[number];

/** An inbound reference to output `index` of layer `name`. */
type Inbound = [string, number];

function push(g: KerasGraph, className: string, name: string, config: JsonObject, inputs: Inbound[], weights: Weight[] = []): string {
  if (g.layers.some((l) => l.name === name)) throw new Error(`Duplicate TF.js layer name ${name}.`);
  g.layers.push({
    name, class_name: className,
    config: { ...config, name, trainable: true },
    inbound_nodes: inputs.length === 0 ? [] : [inputs.map(([layer, index]) => [layer, 0, index, {}] as Json)],
  });
  g.weights.push(...weights);
  return name;
}

function input(g: KerasGraph, name: string, shape: (number | null)[], dtype: 'float32' | 'int32'): string {
  g.layers.push({ name, class_name: 'InputLayer', config: { batch_input_shape: [null, ...shape], dtype, sparse: false, name }, inbound_nodes: [] });
  g.inputs.push(name);
  return name;
}

function embedding(g: KerasGraph, vae: TextVae, name: string, from: string, maskZero: boolean): string {
  const table = embeddingTable(vae, name);
  const layer = name.replace('.', '_');
  return push(g, 'Embedding', layer, {
    input_dim: vae.vocab, output_dim: vae.config.embedding,
    embeddings_initializer: { class_name: 'RandomUniform', config: { minval: -0.05, maxval: 0.05, seed: null } },
    embeddings_regularizer: null, activity_regularizer: null, embeddings_constraint: null,
    mask_zero: maskZero, input_length: null,
  }, [[from, 0]], [{ name: `${layer}/embeddings`, shape: [vae.vocab, vae.config.embedding], data: table }]);
}

function lstmConfig(units: number, returnState: boolean): JsonObject {
  return {
    units, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true,
    kernel_initializer: GLOROT_UNIFORM, recurrent_initializer: { class_name: 'Orthogonal', config: { gain: 1, seed: null } }, bias_initializer: ZEROS,
    unit_forget_bias: null, kernel_regularizer: null, recurrent_regularizer: null, bias_regularizer: null, activity_regularizer: null,
    kernel_constraint: null, recurrent_constraint: null, bias_constraint: null, dropout: 0, recurrent_dropout: 0, implementation: null,
    return_sequences: false, return_state: returnState, go_backwards: false, stateful: false, unroll: false,
  };
}

/** kernel, recurrent_kernel and bias of vaekit's LSTM direction `prefix` (PyTorch layout), under `scope`. */
function lstmWeights(vae: TextVae, prefix: string, scope: string, inputs: number, hidden: number): Weight[] {
  const G = 4 * hidden;
  return [
    { name: `${scope}/kernel`, shape: [inputs, G], data: transpose(parameter(vae, `${prefix}.weight_ih`), G, inputs) },
    { name: `${scope}/recurrent_kernel`, shape: [hidden, G], data: transpose(parameter(vae, `${prefix}.weight_hh`), G, hidden) },
    { name: `${scope}/bias`, shape: [G], data: addFloat32(parameter(vae, `${prefix}.bias_ih`), parameter(vae, `${prefix}.bias_hh`)) },
  ];
}

function dense(g: KerasGraph, name: string, units: number, activation: string, from: Inbound, kernel: Float32Array, inputs: number, bias: Float32Array): string {
  return push(g, 'Dense', name, denseConfig(units, activation), [from], [
    { name: `${name}/kernel`, shape: [inputs, units], data: kernel },
    { name: `${name}/bias`, shape: [units], data: bias },
  ]);
}

/** cond = [z; label] from the model's inputs (made here), or null for an unconditional language model. */
function condition(g: KerasGraph, vae: TextVae): string | null {
  const parts: string[] = [];
  if (vae.latent > 0) parts.push(input(g, 'z', [vae.latent], 'float32'));
  if (vae.classes > 0) parts.push(input(g, 'label', [vae.classes], 'float32'));
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0]! : push(g, 'Concatenate', 'cond', { axis: -1 }, parts.map((p) => [p, 0]));
}

function buildEncoder(vae: TextVae): { graph: KerasGraph; outputs: string[] } {
  const c = vae.config;
  const g = new KerasGraph();
  const tokens = input(g, 'tokens', [null], 'int32');
  const label = c.classes > 0 ? input(g, 'label', [c.classes], 'float32') : null;
  const embedded = embedding(g, vae, 'enc.embed', tokens, true);
  const H = c.encoderHidden;
  const E = c.embedding;
  let state: string;
  if (c.bidirectional) {
    const inner = 'enc_rnn_lstm';
    state = push(g, 'Bidirectional', 'enc_rnn', { merge_mode: 'concat', layer: { class_name: 'LSTM', config: { name: inner, trainable: true, ...lstmConfig(H, false) } } },
      [[embedded, 0]], [...lstmWeights(vae, 'enc.rnn', `enc_rnn/forward_${inner}`, E, H), ...lstmWeights(vae, 'enc.rnn_reverse', `enc_rnn/backward_${inner}`, E, H)]);
  } else {
    state = push(g, 'LSTM', 'enc_rnn', lstmConfig(H, false), [[embedded, 0]], lstmWeights(vae, 'enc.rnn', 'enc_rnn', E, H));
  }
  const feature = label === null ? state : push(g, 'Concatenate', 'enc_feature', { axis: -1 }, [[state, 0], [label, 0]]);
  const L = c.latent;
  const rows = (c.bidirectional ? 2 : 1) * H + c.classes;
  const kernel = parameter(vae, 'enc.out.kernel');
  const bias = parameter(vae, 'enc.out.bias');
  const outputs = ['mean', 'logvar'].map((head, h) => {
    const k = new Float32Array(rows * L);
    for (let r = 0; r < rows; r++) k.set(kernel.subarray(r * 2 * L + h * L, r * 2 * L + (h + 1) * L), r * L);
    return dense(g, head, L, 'linear', [feature, 0], k, rows, bias.slice(h * L, (h + 1) * L));
  });
  return { graph: g, outputs };
}

function buildDecoderInit(vae: TextVae): { graph: KerasGraph; outputs: string[] } {
  const c = vae.config;
  const g = new KerasGraph();
  const cond = condition(g, vae)!;
  const K = c.latent + c.classes;
  // vaekit's dec.init gives c0 itself; h0 is its tanh.
  const c0 = dense(g, 'c', c.decoderHidden, 'linear', [cond, 0], parameter(vae, 'dec.init.kernel'), K, parameter(vae, 'dec.init.bias'));
  return { graph: g, outputs: [push(g, 'Activation', 'h', { activation: 'tanh' }, [[c0, 0]]), c0] };
}

function buildDecoderStep(vae: TextVae): { graph: KerasGraph; outputs: string[] } {
  const c = vae.config;
  const g = new KerasGraph();
  const token = input(g, 'token', [1], 'int32');
  const cond = condition(g, vae);
  const h = input(g, 'h', [c.decoderHidden], 'float32');
  const cell = input(g, 'c', [c.decoderHidden], 'float32');
  const K = c.latent + c.classes;
  let x = embedding(g, vae, 'dec.embed', token, false); // [N, 1, E]
  if (cond !== null) {
    const step = push(g, 'Reshape', 'cond_step', { target_shape: [1, K] }, [[cond, 0]]);
    x = push(g, 'Concatenate', 'dec_input', { axis: -1 }, [[x, 0], [step, 0]]);
  }
  const rnn = push(g, 'LSTM', 'dec_rnn', lstmConfig(c.decoderHidden, true), [[x, 0], [h, 0], [cell, 0]],
    lstmWeights(vae, 'dec.rnn', 'dec_rnn', c.embedding + K, c.decoderHidden));
  // Named copies of the LSTM's new states, each a Reshape to its own shape. A linear Activation would pass
  // tfjs's executor the LSTM's own tensors, which it disposes as intermediates; and the LSTM's output 0 and
  // its state h (output 1) are one tensor in tfjs, so only output 0 is read (it is h after the step).
  const hNext = push(g, 'Reshape', 'h_next', { target_shape: [c.decoderHidden] }, [[rnn, 0]]);
  const cNext = push(g, 'Reshape', 'c_next', { target_shape: [c.decoderHidden] }, [[rnn, 2]]);
  const logits = dense(g, 'logits', c.vocab, 'linear', [hNext, 0], parameter(vae, 'dec.out.kernel'), c.decoderHidden, parameter(vae, 'dec.out.bias'));
  return { graph: g, outputs: [logits, hNext, cNext] };
}

/** What a model's inputs and outputs hold, for model.json's userDefinedMetadata. */
function metadata(vae: TextVae, part: TfjsTextPart, inputs: string[], outputs: string[], data: DataInfo | undefined): JsonObject {
  const c = vae.config;
  const says: Record<string, string> = {
    tokens: `token ids [batch, T], int32: each sentence's ids, <pad> (0) after its last token (no <bos> or <eos>; at most ${c.maxLength} tokens)`,
    token: 'the previous token id [batch, 1], int32: <bos> (2) at the first step, then the token the last step chose',
    z: `latent vectors [batch, ${c.latent}]`,
    label: `one-hot class [batch, ${c.classes}]`,
    h: `the decoder's hidden state [batch, ${c.decoderHidden}]${part === 'decoder_step' ? ': decoder_init\'s h (zeros without it), then h_next' : ''}`,
    c: `the decoder's cell state [batch, ${c.decoderHidden}]${part === 'decoder_step' ? ': decoder_init\'s c (zeros without it), then c_next' : ''}`,
    mean: `the posterior q(z|x)'s mean [batch, ${c.latent}]`,
    logvar: `the posterior q(z|x)'s log-variance [batch, ${c.latent}]`,
    logits: `the next token's logits [batch, ${c.vocab}] (vaekit never picks <pad> 0 or <bos> 2; <eos> 3 ends the sentence)`,
    h_next: 'the hidden state after this step',
    c_next: 'the cell state after this step',
  };
  const pick = (names: string[]): JsonObject => Object.fromEntries(names.map((n) => [n, says[n]!]));
  return {
    vaekit: {
      model: `vaekit text ${c.latent > 0 ? 'VAE' : 'language model'}, ${part.replace('_', ' ')}`,
      inputs: pick(inputs),
      outputs: pick(outputs),
      vocabulary: 'vocab.json beside this folder: tokens by id, and the tokenizer settings',
      config: JSON.parse(JSON.stringify(c)) as JsonObject,
      classNames: data?.classNames ?? null,
    },
  };
}

/** The TF.js files of an LSTM text model (the caller adds vocab.json and README.md); a GRU model is refused. */
export function textTfjsFiles(vae: TextVae, data?: DataInfo): ExportFile[] {
  if (vae.config.cell !== 'lstm') {
    throw new VaekitError('The TF.js export takes LSTM text models only (TF.js\'s GRU cannot apply the reset gate after the hidden product, as vaekit\'s PyTorch-style GRU does): export this GRU model as onnx or pytorch.');
  }
  const parts: [TfjsTextPart, { graph: KerasGraph; outputs: string[] }][] = [];
  if (vae.latent > 0) parts.push(['encoder', buildEncoder(vae)]);
  if (vae.latent + vae.classes > 0) parts.push(['decoder_init', buildDecoderInit(vae)]);
  parts.push(['decoder_step', buildDecoderStep(vae)]);
  const text = new TextEncoder();
  return parts.flatMap(([part, { graph, outputs }]) => [
    { name: `${part}/model.json`, bytes: text.encode(JSON.stringify(graph.modelJson(`vaekit_text_${part}`, outputs, metadata(vae, part, graph.inputs, outputs, data)))) },
    { name: `${part}/${WEIGHTS_FILE}`, bytes: graph.weightsBin() },
  ]);
}
