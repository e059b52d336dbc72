/**
 * The PyTorch export of a text model: `model.py` (one torch.nn module, TextVAE, with nn.Embedding,
 * nn.LSTM/nn.GRU over packed sequences and vaekit's training objective; see its docstring) and
 * `model.safetensors`, the module's state_dict. vaekit's recurrent layers already have PyTorch's
 * parameters (gate order and two biases), so they map one to one (`enc.rnn.weight_ih` is
 * `enc_rnn.weight_ih_l0`, `enc.rnn_reverse.*` the `_l0_reverse` ones); a Dense kernel [in, out] is
 * transposed to nn.Linear's weight [out, in]; the embedding tables' <pad> row is written zero, as
 * vaekit reads it (nn.Embedding's padding_idx row).
 *
 * The Python is src/export/pytorch/text_model.py, a real file embedded by scripts/embed-python.ts
 * (TEXT_MODEL_PY); what varies by model is filled in for its __VAEKIT_*__ names. Browser-safe.
 */
import { encodeSafetensors, type NamedTensor } from '../../io/safetensors.js';
import type { DataInfo } from '../../run/bundle-format.js';
import type { TextVae } from '../../vae/text/model.js';
import type { ExportFile } from '../index.js';
import { fillTemplate, PYTORCH_MODULE_FILE, PYTORCH_WEIGHTS_FILE, pyLiteral } from '../pytorch.js';
import { TEXT_MODEL_PY } from '../pytorch/python.js';
import { embeddingTable, transpose, VOCAB_FILE } from './weights.js';

/** One parameter: its state_dict key, vaekit name, layout change and the tensor in PyTorch's layout. */
interface Mapped {
  torch: string;
  vaekit: string;
  layout: 'same' | 'linear';
  tensor: NamedTensor;
}

/** vaekit's name -> the state_dict key: enc.embed.weight -> enc_embed.weight, enc.rnn_reverse.weight_ih -> enc_rnn.weight_ih_l0_reverse. */
function torchName(name: string): string {
  const recurrent = /^(enc|dec)\.rnn(_reverse)?\.(weight_ih|weight_hh|bias_ih|bias_hh)$/.exec(name);
  if (recurrent !== null) return `${recurrent[1]}_rnn.${recurrent[3]}_l0${recurrent[2] ?? ''}`;
  const dense = /^(enc\.out|dec\.init|dec\.out)\.(kernel|bias)$/.exec(name);
  if (dense !== null) return `${dense[1]!.replace('.', '_')}.${dense[2] === 'kernel' ? 'weight' : 'bias'}`;
  const embed = /^(enc|dec)\.embed\.weight$/.exec(name);
  if (embed !== null) return `${embed[1]}_embed.weight`;
  throw new Error(`The PyTorch text export has no module for the parameter ${name}.`);
}

/** Every parameter under its state_dict key, in PyTorch's layout. */
function torchParameters(vae: TextVae): Mapped[] {
  return vae.params.list.map((p) => {
    const torch = torchName(p.name);
    if (p.name.endsWith('.kernel')) {
      const [inputs, outputs] = p.shape as [number, number];
      return { torch, vaekit: p.name, layout: 'linear', tensor: { shape: [outputs, inputs], data: transpose(p.value, inputs, outputs) } };
    }
    const data = p.name.endsWith('embed.weight') ? embeddingTable(vae, p.name.slice(0, -'.weight'.length)) : p.value.slice();
    return { torch, vaekit: p.name, layout: 'same', tensor: { shape: [...p.shape], data } };
  });
}

/** The objective's settings from the bundle's training record: beta (default 1), free bits and word dropout (default 0). */
function objectiveOf(training: Record<string, unknown> | undefined): { beta: number; freeBits: number; wordDropout: number } {
  const number = (key: string, fallback: number): number => {
    const v = training?.[key];
    return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback;
  };
  return { beta: number('beta', 1), freeBits: number('freeBits', 0), wordDropout: number('wordDropout', 0) };
}

/** The docstring's lines on this model's inputs and outputs. */
function ioDescription(vae: TextVae): string {
  const c = vae.config;
  const lines = [
    `This model: ${c.latent > 0 ? `a text VAE with latent size ${c.latent}` : 'a language model (latent 0: no encoder, no z)'}, `
      + `${c.bidirectional ? 'a bidirectional ' : ''}${c.cell.toUpperCase()}${c.latent > 0 ? ` encoder of ${c.encoderHidden}` : ''} and decoder of ${c.decoderHidden}, `
      + `embeddings of ${c.embedding}, a vocabulary of ${c.vocab} tokens, sentences of up to ${c.maxLength} tokens.`,
  ];
  if (c.latent > 0) lines.push(`encode(tokens) gives the posterior's (mean, logvar), each float32 [N, ${c.latent}]; generate(z) decodes z [N, ${c.latent}].`);
  if (c.classes > 0) {
    lines.push(
      `It is conditional on ${c.classes} classes: encode, generate and negative_elbo take label, the class index of each`,
      'sentence as an int64 tensor [N] (DATA["classNames"][i] names class i); inside, a one-hot vector.',
    );
  }
  return lines.join('\n');
}

function namesLiteral(mapped: readonly Mapped[]): string {
  return `{\n${mapped.map((m) => `    ${JSON.stringify(m.torch)}: (${JSON.stringify(m.vaekit)}, ${JSON.stringify(m.layout)}),`).join('\n')}\n}`;
}

/** The data description without the vocabulary (vocab.json holds it). */
function dataWithoutVocabulary(data: DataInfo | undefined): Omit<DataInfo, 'text'> | null {
  if (data === undefined) return null;
  const { text: _text, ...rest } = data;
  return rest;
}

/** The PyTorch files of a text model: model.py and model.safetensors (the caller adds vocab.json and README.md). */
export function textPytorchFiles(vae: TextVae, data?: DataInfo, training?: Record<string, unknown>): ExportFile[] {
  const mapped = torchParameters(vae);
  const objective = objectiveOf(training);
  const source = fillTemplate(TEXT_MODEL_PY, {
    IO_DESCRIPTION: ioDescription(vae),
    CONFIG: pyLiteral(vae.config),
    DATA: pyLiteral(dataWithoutVocabulary(data)),
    TRAINING: pyLiteral(training ?? {}),
    BETA: pyLiteral(objective.beta),
    FREE_BITS: pyLiteral(objective.freeBits),
    WORD_DROPOUT: pyLiteral(objective.wordDropout),
    NAMES: namesLiteral(mapped),
    WEIGHTS_FILE: JSON.stringify(PYTORCH_WEIGHTS_FILE),
    VOCAB_FILE: JSON.stringify(VOCAB_FILE),
  });
  const tensors: Record<string, NamedTensor> = {};
  for (const m of mapped) tensors[m.torch] = m.tensor;
  return [
    { name: PYTORCH_MODULE_FILE, bytes: new TextEncoder().encode(source) },
    { name: PYTORCH_WEIGHTS_FILE, bytes: encodeSafetensors(tensors, { format: 'pt', source: 'vaekit-export', preset: vae.config.preset }) },
  ];
}
