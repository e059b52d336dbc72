/**
 * What the text model's exports share: its parameters by vaekit name, an embedding table with the
 * <pad> row zero (vaekit reads <pad> as the zero vector whatever the table holds), a recurrent
 * layer's gate blocks reordered for another runtime, a Dense kernel transposed, and the
 * vocabulary the bundle keeps. Browser-safe.
 */
import { PAD } from '../../data/text/vocab.js';
import type { VocabularyJson } from '../../data/text/vocab.js';
import { VaekitError } from '../../errors.js';
import type { DataInfo } from '../../run/bundle-format.js';
import type { TextVae } from '../../vae/text/model.js';

/** The vocabulary file every text export holds beside its graphs or modules. */
export const VOCAB_FILE = 'vocab.json';

/** A parameter's values (vaekit's layout). */
export function parameter(vae: TextVae, name: string): Float32Array {
  return vae.params.get(name).value;
}

/** An embedding table [vocab, dim] with the <pad> row zero, as vaekit's Embedding reads it. */
export function embeddingTable(vae: TextVae, name: string): Float32Array {
  const table = parameter(vae, `${name}.weight`).slice();
  const dim = table.length / vae.vocab;
  table.fill(0, PAD * dim, (PAD + 1) * dim);
  return table;
}

/**
 * Rows of `values` ([gates x H, cols]: blocks of H rows, one per gate) with the blocks reordered:
 * block k of the result is block order[k] of values.
 */
export function reorderGates(values: Float32Array, hidden: number, cols: number, order: readonly number[]): Float32Array {
  const block = hidden * cols;
  if (values.length !== order.length * block) throw new Error(`reorderGates: ${values.length} values are not ${order.length} blocks of ${hidden} x ${cols}.`);
  const out = new Float32Array(values.length);
  order.forEach((from, k) => out.set(values.subarray(from * block, (from + 1) * block), k * block));
  return out;
}

/** A row-major [rows, cols] matrix transposed to [cols, rows]. */
export function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

/** a + b, elementwise, in float32 (as vaekit's LSTM adds its two biases). */
export function addFloat32(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]!;
  return out;
}

/** The parameter name prefixes of a recurrent layer's directions: [name] or [name, name_reverse]. */
export function directions(name: string, bidirectional: boolean): string[] {
  return bidirectional ? [name, `${name}_reverse`] : [name];
}

/** The bundle's vocabulary (data.text.vocabulary), checked against the model's size. */
export function vocabularyOf(vae: TextVae, data: DataInfo | undefined): VocabularyJson {
  const v = data?.text?.vocabulary;
  if (v === undefined) throw new VaekitError('A text model is exported with its vocabulary, and none was given: export it from its model folder (config.json keeps the vocabulary).');
  if (v.tokens.length !== vae.vocab) throw new VaekitError(`The vocabulary holds ${v.tokens.length} tokens but the model has ${vae.vocab}.`);
  return v;
}

/** vocab.json: the vocabulary as vaekit keeps it (format, version, tokenizer settings, tokens by id). */
export function vocabFile(vocabulary: VocabularyJson): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(vocabulary, null, 1)}\n`);
}
