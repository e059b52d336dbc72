/**
 * The ONNX export of a text model (opset 17): three small graphs that any ONNX runtime runs, the
 * decoding loop left to the caller (README.md shows it).
 *
 *   encoder.onnx       tokens [N, T] int64, lengths [N] int64 (+ label [N, C]) -> mean [N, L], logvar [N, L]
 *   decoder_init.onnx  z [N, L] (+ label [N, C]) -> h [N, Hd] (and c [N, Hd] for an LSTM): the decoder's first state
 *   decoder_step.onnx  token [N] int64, z (+ label), h (and c) -> logits [N, V], h_next (and c_next)
 *
 * A text VAE has all three; a language model (latent 0) has no encoder, and an unconditional one no
 * decoder_init either: its first state is zeros. The recurrences are ONNX's own LSTM and GRU
 * operators (the encoder's with sequence_lens, so each row stops at its length; a bidirectional
 * encoder's reverse direction reads each row from its own last token, as vaekit's does). vaekit's
 * layers keep PyTorch's gate order and two biases; ONNX's LSTM wants its gate blocks in the order
 * i, o, f, c (PyTorch's i, f, g, o, blocks 0, 3, 1, 2) and its GRU z, r, h (PyTorch's r, z, n,
 * blocks 1, 0, 2) with linear_before_reset = 1, which is PyTorch's GRU (r multiplies W_hn h + b_hn).
 * B is [W_b; R_b] = [bias_ih; bias_hh], each reordered the same way. The embedding tables' <pad>
 * row is zero, as vaekit reads it. Browser-safe: no fs.
 */
import type { onnx } from 'onnx-proto';
import { BOS, EOS, PAD, UNK } from '../../data/text/vocab.js';
import type { DataInfo } from '../../run/bundle-format.js';
import type { TextVae } from '../../vae/text/model.js';
import type { ExportFile } from '../index.js';
import {
  GraphBuilder, intAttribute, intsAttribute, ONNX_INT64, onnxModel, stringAttribute, valueInfo,
} from '../onnx.js';
import { directions, embeddingTable, parameter, reorderGates } from './weights.js';

export const TEXT_ENCODER_ONNX = 'encoder.onnx';
export const DECODER_INIT_ONNX = 'decoder_init.onnx';
export const DECODER_STEP_ONNX = 'decoder_step.onnx';

const BATCH = 'N';
const TIME = 'T';
/** ONNX's TensorProto.DataType.INT32, Cast's `to` for sequence_lens. */
const INT32 = 6;

/** PyTorch's gate blocks in ONNX's order: LSTM i, o, f, c from i, f, g, o; GRU z, r, h from r, z, n. */
export const ONNX_GATE_ORDER: Readonly<Record<'lstm' | 'gru', readonly number[]>> = { lstm: [0, 3, 1, 2], gru: [1, 0, 2] };

/**
 * W [D, G*H, I], R [D, G*H, H] and B [D, 2*G*H] of a recurrent layer's directions (vaekit names
 * `prefix` and `prefix`_reverse) as initializers; returns their names.
 */
function recurrentWeights(b: GraphBuilder, vae: TextVae, prefix: string, bidirectional: boolean, inputs: number, hidden: number): string[] {
  const cell = vae.config.cell;
  const order = ONNX_GATE_ORDER[cell];
  const G = order.length * hidden;
  const names = directions(prefix, bidirectional);
  const D = names.length;
  const W = new Float32Array(D * G * inputs);
  const R = new Float32Array(D * G * hidden);
  const B = new Float32Array(D * 2 * G);
  names.forEach((name, d) => {
    W.set(reorderGates(parameter(vae, `${name}.weight_ih`), hidden, inputs, order), d * G * inputs);
    R.set(reorderGates(parameter(vae, `${name}.weight_hh`), hidden, hidden, order), d * G * hidden);
    B.set(reorderGates(parameter(vae, `${name}.bias_ih`), hidden, 1, order), d * 2 * G);
    B.set(reorderGates(parameter(vae, `${name}.bias_hh`), hidden, 1, order), d * 2 * G + G);
  });
  const doc = `vaekit's ${names.join(' and ')} (PyTorch layout) with the gate blocks in ONNX's ${cell === 'lstm' ? 'i, o, f, c' : 'z, r, h'} order`;
  return [
    b.floats(`${prefix}.W`, [D, G, inputs], W, `${doc}: weight_ih.`),
    b.floats(`${prefix}.R`, [D, G, hidden], R, `${doc}: weight_hh.`),
    b.floats(`${prefix}.B`, [D, 2 * G], B, `${doc}: bias_ih then bias_hh.`),
  ];
}

/** The recurrent node's attributes: hidden size, direction, and for a GRU PyTorch's reset (linear_before_reset). */
function recurrentAttributes(vae: TextVae, hidden: number, bidirectional: boolean): onnx.IAttributeProto[] {
  const attributes = [intAttribute('hidden_size', hidden), stringAttribute('direction', bidirectional ? 'bidirectional' : 'forward')];
  if (vae.config.cell === 'gru') attributes.push(intAttribute('linear_before_reset', 1));
  return attributes;
}

/** y = x W + b for a vaekit Dense layer `name` ([inputs, outputs] kernel), as one Gemm. */
function dense(b: GraphBuilder, vae: TextVae, name: string, x: string, inputs: number, outputs: number, output?: string): string {
  const kernel = b.floats(`${name}.kernel`, [inputs, outputs], parameter(vae, `${name}.kernel`));
  const bias = b.floats(`${name}.bias`, [outputs], parameter(vae, `${name}.bias`));
  return b.op('Gemm', [x, kernel, bias], [], output);
}

/** What the graphs' metadata says about the model and its tokens. */
function metadata(vae: TextVae, data: DataInfo | undefined, role: string, inputs: string[], outputs: string[]): Record<string, string> {
  const c = vae.config;
  const m: Record<string, string> = {
    'vaekit.kind': 'text',
    'vaekit.role': role,
    'vaekit.inputs': inputs.join(', '),
    'vaekit.outputs': outputs.join(', '),
    'vaekit.cell': c.cell,
    'vaekit.bidirectional': String(c.bidirectional),
    'vaekit.vocab': String(c.vocab),
    'vaekit.max_length': String(c.maxLength),
    'vaekit.latent': String(c.latent),
    'vaekit.classes': String(c.classes),
    'vaekit.decoder_hidden': String(c.decoderHidden),
    'vaekit.special_tokens': JSON.stringify({ '<pad>': PAD, '<unk>': UNK, '<bos>': BOS, '<eos>': EOS }),
    'vaekit.vocabulary': 'vocab.json beside the graphs: tokens by id, and the tokenizer settings',
    'vaekit.decoding': `start from decoder_init's state (zeros without it) and token <bos> (${BOS}); each step's logits give the next token `
      + `(greedy: the largest, never <pad> ${PAD} or <bos> ${BOS}); stop at <eos> (${EOS}) or after max_length tokens; feed the token and h_next${c.cell === 'lstm' ? ', c_next' : ''} back`,
    'vaekit.config': JSON.stringify(c),
  };
  if (data?.classNames != null) m['vaekit.class_names'] = JSON.stringify(data.classNames);
  return m;
}

function labelInfo(vae: TextVae, data: DataInfo | undefined): onnx.IValueInfoProto {
  const names = data?.classNames != null ? ` (${data.classNames.map((n, i) => `${i} = ${n}`).join(', ')})` : '';
  return valueInfo('label', [BATCH, vae.classes], `Each row's class as a one-hot float32 vector [N, ${vae.classes}]${names}.`);
}

function graphOf(name: string, doc: string, b: GraphBuilder, inputs: onnx.IValueInfoProto[], outputs: onnx.IValueInfoProto[]): onnx.IGraphProto {
  return { name, docString: doc, node: b.nodes, initializer: b.initializers, input: inputs, output: outputs };
}

/** encoder.onnx: tokens, lengths (+ label) -> mean, logvar. */
export function textEncoderOnnx(vae: TextVae, data?: DataInfo): Uint8Array {
  const c = vae.config;
  const b = new GraphBuilder();
  const E = c.embedding;
  const H = c.encoderHidden;
  const D = c.bidirectional ? 2 : 1;
  const inputs = [
    valueInfo('tokens', [BATCH, TIME], `Token ids [N, T], int64: each sentence's ids (words ${4} to ${c.vocab - 1}, <unk> ${UNK}; no <bos> or <eos>), `
      + `padded after its length with <pad> (${PAD}); vaekit keeps at most ${c.maxLength} tokens of a sentence.`, ONNX_INT64),
    valueInfo('lengths', [BATCH], 'Each sentence\'s number of tokens [N], int64, from 1 to T: the recurrence stops there.', ONNX_INT64),
  ];
  if (c.classes > 0) inputs.push(labelInfo(vae, data));

  const table = b.floats('enc.embed.weight', [c.vocab, E], embeddingTable(vae, 'enc.embed'), 'vaekit\'s enc.embed table, its <pad> row zero.');
  const embedded = b.op('Gather', [table, 'tokens'], [intAttribute('axis', 0)]); // [N, T, E]
  const timeMajor = b.op('Transpose', [embedded], [intsAttribute('perm', [1, 0, 2])]); // [T, N, E]
  const lengths = b.op('Cast', ['lengths'], [intAttribute('to', INT32)]);
  const op = c.cell === 'lstm' ? 'LSTM' : 'GRU';
  const final = 'enc_rnn_final';
  b.nodes.push({
    opType: op, name: `${op}_encoder`, input: [timeMajor, ...recurrentWeights(b, vae, 'enc.rnn', c.bidirectional, E, H), lengths],
    output: ['', final], attribute: recurrentAttributes(vae, H, c.bidirectional),
  });
  // Y_h [D, N, H] -> [N, D * H]: the forward direction's final state, then the reverse one's (vaekit's order).
  const batchMajor = b.op('Transpose', [final], [intsAttribute('perm', [1, 0, 2])]);
  let feature = b.op('Reshape', [batchMajor, b.int64s('shape_rows', [0, D * H])]);
  if (c.classes > 0) feature = b.op('Concat', [feature, 'label'], [intAttribute('axis', 1)]);
  const posterior = dense(b, vae, 'enc.out', feature, D * H + c.classes, 2 * c.latent);
  b.nodes.push({
    opType: 'Split', name: 'Split_posterior', input: [posterior, b.int64s('posterior_split', [c.latent, c.latent])],
    output: ['mean', 'logvar'], attribute: [intAttribute('axis', 1)],
  });
  const outputs = [
    valueInfo('mean', [BATCH, c.latent], 'The posterior q(z|x)\'s mean [N, L]: the sentence\'s latent code.'),
    valueInfo('logvar', [BATCH, c.latent], 'The posterior q(z|x)\'s log-variance [N, L]: a sample is mean + exp(logvar / 2) * eps, eps ~ N(0, I).'),
  ];
  const doc = `vaekit text VAE encoder (${c.bidirectional ? 'bidirectional ' : ''}${c.cell.toUpperCase()}, latent ${c.latent}${c.classes > 0 ? `, conditional on ${c.classes} classes` : ''}): `
    + 'token ids and lengths to the diagonal Gaussian posterior. Sampling is left to the caller.';
  const names = inputs.map((i) => i.name!);
  return onnxModel(graphOf('vaekit_text_encoder', doc, b, inputs, outputs), doc, metadata(vae, data, 'encoder', names, ['mean', 'logvar']));
}

/** The conditioning inputs of the decoder graphs: z (latent > 0) and label (classes > 0). */
function conditionInputs(vae: TextVae, data: DataInfo | undefined): onnx.IValueInfoProto[] {
  const inputs: onnx.IValueInfoProto[] = [];
  if (vae.latent > 0) inputs.push(valueInfo('z', [BATCH, vae.latent], 'Latent vectors [N, L], float32: a posterior mean or sample from encoder.onnx, or a draw from the prior N(0, I).'));
  if (vae.classes > 0) inputs.push(labelInfo(vae, data));
  return inputs;
}

/** cond = [z; label] from the graph inputs (one of them alone when the other is absent). */
function condition(b: GraphBuilder, vae: TextVae): string {
  const parts = [...(vae.latent > 0 ? ['z'] : []), ...(vae.classes > 0 ? ['label'] : [])];
  return parts.length === 1 ? parts[0]! : b.op('Concat', parts, [intAttribute('axis', 1)]);
}

/** decoder_init.onnx: z (+ label) -> h (and c): dec.init's pre-activation pre; LSTM: c = pre, h = tanh(pre); GRU: h = tanh(pre). */
export function decoderInitOnnx(vae: TextVae, data?: DataInfo): Uint8Array {
  const c = vae.config;
  const K = c.latent + c.classes;
  if (K === 0) throw new Error('An unconditional language model has no decoder_init: its first state is zeros.');
  const b = new GraphBuilder();
  const Hd = c.decoderHidden;
  const inputs = conditionInputs(vae, data);
  const pre = dense(b, vae, 'dec.init', condition(b, vae), K, Hd);
  b.op('Tanh', [pre], [], 'h');
  const outputs = [valueInfo('h', [BATCH, Hd], `The decoder's first hidden state [N, ${Hd}]: tanh of dec.init's output. Feed it to decoder_step.onnx as h.`)];
  if (c.cell === 'lstm') {
    b.op('Identity', [pre], [], 'c');
    outputs.push(valueInfo('c', [BATCH, Hd], `The decoder's first cell state [N, ${Hd}]: dec.init's output. Feed it to decoder_step.onnx as c.`));
  }
  const doc = `vaekit text model: the decoder's first state from ${inputs.map((i) => i.name).join(' and ')}.`;
  return onnxModel(graphOf('vaekit_text_decoder_init', doc, b, inputs, outputs), doc,
    metadata(vae, data, 'decoder_init', inputs.map((i) => i.name!), outputs.map((o) => o.name!)));
}

/** decoder_step.onnx: one step of the decoder from the previous token and the state. */
export function decoderStepOnnx(vae: TextVae, data?: DataInfo): Uint8Array {
  const c = vae.config;
  const lstm = c.cell === 'lstm';
  const K = c.latent + c.classes;
  const E = c.embedding;
  const Hd = c.decoderHidden;
  const b = new GraphBuilder();
  const inputs = [
    valueInfo('token', [BATCH], `The previous token id of each row [N], int64: <bos> (${BOS}) at the first step, then the token the last step chose.`, ONNX_INT64),
    ...conditionInputs(vae, data),
    valueInfo('h', [BATCH, Hd], `The decoder's hidden state [N, ${Hd}]: decoder_init's h (zeros for an unconditional language model) at the first step, then h_next.`),
  ];
  if (lstm) inputs.push(valueInfo('c', [BATCH, Hd], `The decoder's cell state [N, ${Hd}]: decoder_init's c (zeros for an unconditional language model) at the first step, then c_next.`));

  const table = b.floats('dec.embed.weight', [c.vocab, E], embeddingTable(vae, 'dec.embed'), 'vaekit\'s dec.embed table, its <pad> row zero.');
  let x = b.op('Gather', [table, 'token'], [intAttribute('axis', 0)]); // [N, E]
  if (K > 0) x = b.op('Concat', [x, condition(b, vae)], [intAttribute('axis', 1)]); // [N, E + K]
  const axis0 = b.int64s('axis_0', [0]);
  const x3 = b.op('Unsqueeze', [x, axis0]); // [1, N, E + K]
  const h3 = b.op('Unsqueeze', ['h', axis0]);
  const c3 = lstm ? b.op('Unsqueeze', ['c', axis0]) : '';
  const op = lstm ? 'LSTM' : 'GRU';
  const rnnInputs = [x3, ...recurrentWeights(b, vae, 'dec.rnn', false, E + K, Hd), '', h3, ...(lstm ? [c3] : [])];
  b.nodes.push({
    opType: op, name: `${op}_decoder_step`, input: rnnInputs,
    output: lstm ? ['', 'dec_rnn_h', 'dec_rnn_c'] : ['', 'dec_rnn_h'], attribute: recurrentAttributes(vae, Hd, false),
  });
  b.op('Squeeze', ['dec_rnn_h', axis0], [], 'h_next');
  if (lstm) b.op('Squeeze', ['dec_rnn_c', axis0], [], 'c_next');
  dense(b, vae, 'dec.out', 'h_next', Hd, c.vocab, 'logits');

  const outputs = [
    valueInfo('logits', [BATCH, c.vocab], `The next token's logits [N, ${c.vocab}] (softmax: its distribution over the vocabulary; vaekit never picks <pad> ${PAD} or <bos> ${BOS}).`),
    valueInfo('h_next', [BATCH, Hd], 'The hidden state after this step: the next step\'s h.'),
  ];
  if (lstm) outputs.push(valueInfo('c_next', [BATCH, Hd], 'The cell state after this step: the next step\'s c.'));
  const doc = `vaekit text model decoder, one step (${c.cell.toUpperCase()} of ${Hd}): the previous token${K > 0 ? `, ${inputs.slice(1, -1 - (lstm ? 1 : 0)).map((i) => i.name).join(' and ')}` : ''} `
    + 'and the state to the next token\'s logits and the next state.';
  return onnxModel(graphOf('vaekit_text_decoder_step', doc, b, inputs, outputs), doc,
    metadata(vae, data, 'decoder_step', inputs.map((i) => i.name!), outputs.map((o) => o.name!)));
}

/** The graph files of a text model's ONNX export (the caller adds vocab.json and README.md). */
export function textOnnxFiles(vae: TextVae, data?: DataInfo): ExportFile[] {
  const files: ExportFile[] = [];
  if (vae.latent > 0) files.push({ name: TEXT_ENCODER_ONNX, bytes: textEncoderOnnx(vae, data) });
  if (vae.latent + vae.classes > 0) files.push({ name: DECODER_INIT_ONNX, bytes: decoderInitOnnx(vae, data) });
  files.push({ name: DECODER_STEP_ONNX, bytes: decoderStepOnnx(vae, data) });
  return files;
}
