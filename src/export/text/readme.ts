/**
 * README.md of a text model's export: the files, the tokens, each graph's or module's inputs and
 * outputs with this model's sizes, and a working greedy decoding loop (JavaScript with
 * onnxruntime-node for ONNX, TF.js for TF.js, Python for PyTorch), written for this model's cell,
 * conditioning and tokenizer. Browser-safe.
 */
import type { VocabularyJson } from '../../data/text/vocab.js';
import type { DataInfo } from '../../run/bundle-format.js';
import type { TextVae } from '../../vae/text/model.js';
import type { ExportFormat } from '../index.js';

const FORMAT_NAMES: Readonly<Record<ExportFormat, string>> = {
  onnx: 'ONNX (opset 17)',
  tfjs: 'TF.js layers format',
  pytorch: 'PyTorch module and weights',
};

/** What each file holds, for this model (its conditioning named). */
function fileLine(name: string, vae: TextVae): string {
  if (name.endsWith('/weights.bin')) return `- \`${name}\`: its weights, float32`;
  const cond = [vae.latent > 0 ? 'z' : '', vae.classes > 0 ? 'label' : ''].filter((s) => s !== '').join(' and ');
  const withLabel = vae.classes > 0 ? ' and label' : '';
  const what: Record<string, string> = {
    'encoder.onnx': `the encoder: token ids and lengths${withLabel} to the posterior's mean and log-variance`,
    'decoder_init.onnx': `the decoder's first state from ${cond}`,
    'decoder_step.onnx': `one decoder step: the previous token${cond === '' ? '' : `, ${cond}`} and the state to the next token's logits and the next state`,
    'encoder/model.json': `the encoder (TF.js layers format): token ids${withLabel} to the posterior's mean and log-variance`,
    'decoder_init/model.json': `the decoder's first state from ${cond} (TF.js layers format)`,
    'decoder_step/model.json': 'one decoder step (TF.js layers format)',
    'model.py': 'the PyTorch module TextVAE (encoder, decoder, vaekit\'s training objective, greedy and sampled generation) and loading and saving helpers; its docstring has the details',
    'model.safetensors': 'the module\'s state_dict',
    'vocab.json': 'the vocabulary: the tokenizer settings and every token by id',
    'README.md': 'this file',
  };
  return `- \`${name}\`: ${what[name] ?? 'part of the export'}`;
}

/** JavaScript lines that set `tokens` to the ids of `sentence` with this vocabulary's tokenizer (vaekit's rules). */
function jsTokenizer(v: VocabularyJson, maxLength: number): string[] {
  const kind = v.tokenizer.kind;
  const lines = [
    `// vaekit's ${kind} tokenizer: ${kind === 'char' ? 'one token per code point' : kind === 'word' ? 'runs of letters, marks and digits (an apostrophe inside one kept), and each other non-space character alone' : 'words as the word tokenizer splits them, each split by the learned merges in order'}.`,
    'const normal = (vocab.tokenizer.lowercase ? sentence.toLowerCase() : sentence).trim().normalize(\'NFC\');',
  ];
  if (kind === 'char') {
    lines.push('const pieces = Array.from(normal);');
  } else {
    lines.push('const words = normal.match(/[\\p{L}\\p{M}\\p{N}]+(?:[\'’][\\p{L}\\p{M}\\p{N}]+)*|\\S/gu) ?? [];');
    if (kind === 'word') {
      lines.push('const pieces = words;');
    } else {
      lines.push(
        'const bpe = (word) => {',
        '  let parts = [...Array.from(word), \'</w>\'];',
        '  for (const [a, b] of vocab.tokenizer.merges) {',
        '    const merged = [];',
        '    for (let i = 0; i < parts.length; i++) {',
        '      if (parts[i] === a && parts[i + 1] === b) { merged.push(a + b); i++; } else merged.push(parts[i]);',
        '    }',
        '    parts = merged;',
        '  }',
        '  return parts;',
        '};',
        'const pieces = words.flatMap(bpe);',
      );
    }
  }
  lines.push(`const tokens = pieces.slice(0, ${maxLength}).map((t) => ids.get(t) ?? UNK); // vaekit keeps ${maxLength} tokens at most`);
  return lines;
}

/** JavaScript that turns the generated ids `out` into text for this tokenizer. */
function jsDetokenize(v: VocabularyJson): string {
  switch (v.tokenizer.kind) {
    case 'char': return 'out.map((id) => vocab.tokens[id]).join(\'\')';
    case 'word': return 'out.map((id) => vocab.tokens[id]).join(\' \')';
    case 'bpe': return 'out.map((id) => vocab.tokens[id]).join(\'\').replaceAll(\'</w>\', \' \').trim()';
  }
}

/** The ONNX example: greedy decoding of a sentence's posterior mean (a language model: from its start). */
function onnxExample(vae: TextVae, v: VocabularyJson): string[] {
  const c = vae.config;
  const L = c.latent;
  const C = c.classes;
  const lstm = c.cell === 'lstm';
  const state = lstm ? 'h, c' : 'h';
  const usage = `node greedy.mjs EXPORT_FOLDER${L > 0 ? ' "a sentence"' : ''}${C > 0 ? ` CLASS` : ''}`;
  const lines = [
    `Save as greedy.mjs and run \`${usage}\` (\`npm install onnxruntime-node\` first). It prints the greedy decoding`
      + (L > 0 ? ' of the sentence\'s posterior mean, what `vaekit` reconstructs.' : ' from <bos>, the language model\'s most likely sentence by greedy choice.'),
    '',
    '```js',
    `// ${usage}`,
    'import { readFileSync } from \'fs\';',
    'import * as ort from \'onnxruntime-node\';',
    '',
    `const [folder = '.'${L > 0 ? ', sentence = \'\'' : ''}${C > 0 ? ', label = \'0\'' : ''}] = process.argv.slice(2);`,
    'const file = (name) => `${folder}/${name}`;',
    'const vocab = JSON.parse(readFileSync(file(\'vocab.json\'), \'utf8\'));',
    'const ids = new Map(vocab.tokens.map((token, id) => [token, id]));',
    `const [PAD, UNK, BOS, EOS, MAX_LENGTH, HIDDEN] = [0, 1, 2, 3, ${c.maxLength}, ${c.decoderHidden}];`,
    'const int64 = (values, dims) => new ort.Tensor(\'int64\', BigInt64Array.from(values, BigInt), dims);',
    'const session = (name) => ort.InferenceSession.create(file(name));',
  ];
  if (C > 0) lines.push(`const feed = { label: new ort.Tensor('float32', Float32Array.from({ length: ${C} }, (_, k) => (k === Number(label) ? 1 : 0)), [1, ${C}]) };`);
  else lines.push('const feed = {};');
  if (L > 0) {
    lines.push(
      '',
      ...jsTokenizer(v, c.maxLength),
      'const encoder = await session(\'encoder.onnx\');',
      'const { mean } = await encoder.run({ tokens: int64(tokens, [1, tokens.length]), lengths: int64([tokens.length], [1]), ...feed });',
      'feed.z = mean; // or a sample: mean + exp(logvar / 2) * eps; or z ~ N(0, I) for a new sentence',
    );
  }
  lines.push('');
  if (L + C > 0) {
    lines.push(`let { ${state} } = await (await session('decoder_init.onnx')).run(feed);`);
  } else {
    lines.push('const zeros = () => new ort.Tensor(\'float32\', new Float32Array(HIDDEN), [1, HIDDEN]);');
    lines.push(`let h = zeros();${lstm ? ' let c = zeros();' : ''} // an unconditional language model starts from zeros`);
  }
  lines.push(
    'const step = await session(\'decoder_step.onnx\');',
    'const out = [];',
    'let token = BOS;',
    'while (out.length < MAX_LENGTH) {',
    `  const next = await step.run({ token: int64([token], [1]), ...feed, ${lstm ? 'h, c' : 'h'} });`,
    '  const logits = next.logits.data;',
    '  token = -1; // the largest logit, never <pad> or <bos> (vaekit\'s greedy choice)',
    '  for (let t = 0; t < logits.length; t++) if (t !== PAD && t !== BOS && (token < 0 || logits[t] > logits[token])) token = t;',
    '  if (token === EOS) break;',
    '  out.push(token);',
    `  ${lstm ? '({ h_next: h, c_next: c } = next);' : 'h = next.h_next;'}`,
    '}',
    `console.log(${jsDetokenize(v)});`,
    '```',
  );
  return lines;
}

function tfjsExample(vae: TextVae): string[] {
  const c = vae.config;
  const L = c.latent;
  const C = c.classes;
  const cond = [L > 0 ? 'mean' : '', C > 0 ? 'oneHot' : ''].filter((s) => s !== '');
  const lines = [
    'In a browser, serve the folder and load each model by URL (in Node, `@tensorflow/tfjs-node` adds `file://` URLs).',
    'Token ids are int32; `oneHot` below is a [1, classes] float32 tensor of the class.',
    '',
    '```js',
    'import * as tf from \'@tensorflow/tfjs\';',
    'const vocab = await (await fetch(\'/export/vocab.json\')).json();',
  ];
  if (L > 0) {
    lines.push(
      'const encoder = await tf.loadLayersModel(\'/export/encoder/model.json\');',
      `const [mean, logvar] = encoder.predict([tf.tensor2d([ids], [1, ids.length], 'int32')${C > 0 ? ', oneHot' : ''}]); // ids: the sentence's token ids`,
    );
  }
  if (L + C > 0) {
    lines.push(
      'const init = await tf.loadLayersModel(\'/export/decoder_init/model.json\');',
      `let [h, c] = init.predict(${cond.length === 1 ? cond[0] : `[${cond.join(', ')}]`});`,
    );
  } else {
    lines.push(`let h = tf.zeros([1, ${c.decoderHidden}]), c = tf.zeros([1, ${c.decoderHidden}]); // an unconditional language model starts from zeros`);
  }
  lines.push(
    'const step = await tf.loadLayersModel(\'/export/decoder_step/model.json\');',
    'const out = [];',
    'let token = 2; // <bos>',
    `while (out.length < ${c.maxLength}) {`,
    `  const [logits, hNext, cNext] = step.predict([tf.tensor2d([[token]], [1, 1], 'int32')${cond.length > 0 ? `, ${cond.join(', ')}` : ''}, h, c]);`,
    '  const l = logits.dataSync();',
    '  token = -1; // the largest logit, never <pad> (0) or <bos> (2)',
    '  for (let t = 0; t < l.length; t++) if (t !== 0 && t !== 2 && (token < 0 || l[t] > l[token])) token = t;',
    '  if (token === 3) break; // <eos>',
    '  out.push(token);',
    '  [h, c] = [hNext, cNext];',
    '}',
    'console.log(out.map((id) => vocab.tokens[id]));',
    '```',
  );
  return lines;
}

function pytorchExample(vae: TextVae, v: VocabularyJson): string[] {
  const c = vae.config;
  const label = c.classes > 0 ? ', label=torch.tensor([0])' : '';
  const split = v.tokenizer.kind === 'char' ? 'list(sentence)' : 'sentence.split()';
  const lines = [
    '```python',
    'import sys, torch',
    'sys.path.insert(0, "EXPORT_FOLDER")   # this folder',
    'import model',
    'vae = model.load().eval()',
    'vocabulary = model.load_vocabulary()',
  ];
  if (c.latent > 0) {
    lines.push(
      `sentence = "..."   # ${v.tokenizer.kind === 'bpe' ? 'split into bpe pieces as vaekit does (see Tokens above)' : `tokens as vaekit splits them (${split} is that for text already split by spaces${v.tokenizer.lowercase ? ', lower-cased' : ''})`}`,
      `tokens = model.batch([model.ids_of(${v.tokenizer.kind === 'bpe' ? 'pieces' : split}, vocabulary)])   # int64 [1, T], <pad> after the sentence`,
      `mean, logvar = vae.encode(tokens${label})`,
      `ids = vae.generate(mean${label})[0]   # greedy, as vaekit decodes`,
      `loss = vae.negative_elbo(tokens${label})   # vaekit's training objective (nats per sentence)`,
    );
  } else {
    lines.push(`ids = vae.generate(n=1${label})[0]   # greedy from <bos>`);
  }
  lines.push('print(model.tokens_of(ids, vocabulary))', '```');
  return lines;
}

/** The inputs and outputs of each part, in this format's words. */
function ioLines(vae: TextVae, format: ExportFormat): string[] {
  const c = vae.config;
  const L = c.latent;
  const C = c.classes;
  const Hd = c.decoderHidden;
  const lstm = c.cell === 'lstm';
  const int = format === 'tfjs' ? 'int32' : 'int64';
  const label = C > 0 ? [`\`label\` [N, ${C}]: each row's class, one-hot, float32`] : [];
  const z = L > 0 ? [`\`z\` [N, ${L}]: latent vectors, float32`] : [];
  if (format === 'pytorch') {
    return [
      `\`TextVAE.encode(tokens, lengths=None${C > 0 ? ', label' : ''})\`: tokens int64 [N, T] (<pad> after each sentence; lengths default to each row's first <pad>)${C > 0 ? ', label int64 class indices [N]' : ''} -> (mean, logvar), each [N, ${L}]`,
      `\`TextVAE.negative_elbo(tokens, lengths=None${C > 0 ? ', label' : ''}, eps=None)\`: vaekit's loss, the batch mean (eps zeros: at the posterior mean)`,
      `\`TextVAE.generate(z${C > 0 ? ', label' : ''})\`: greedy decoding (sample=True draws at a temperature), a list of token-id lists`,
      '`TextVAE.decode_logits`, `token_nll`, `initial_state`: the teacher-forced decoder and its parts',
    ].map((l) => `- ${l}`).filter((l) => L > 0 || !l.includes('encode('));
  }
  const lines: string[] = [];
  if (L > 0) {
    lines.push('Encoder', '');
    lines.push(`- in: \`tokens\` [N, T], ${int}: token ids, <pad> (0) after each sentence's tokens (no <bos> or <eos>)`);
    if (format === 'onnx') lines.push('- in: `lengths` [N], int64: each sentence\'s number of tokens (1 to T)');
    lines.push(...label.map((l) => `- in: ${l}`));
    lines.push(`- out: \`mean\` [N, ${L}]: the posterior q(z|x)'s mean (the sentence's latent code)`, `- out: \`logvar\` [N, ${L}]: its log-variance`, '');
  }
  if (L + C > 0) {
    lines.push('Decoder\'s first state (decoder_init)', '');
    lines.push(...[...z, ...label].map((l) => `- in: ${l}`));
    lines.push(`- out: \`h\` [N, ${Hd}]${lstm ? `, \`c\` [N, ${Hd}]` : ''}: the state before the first step (${lstm ? 'c is dec.init\'s output and h = tanh(c)' : 'h = tanh of dec.init\'s output'})`, '');
  }
  lines.push('Decoder step (decoder_step)', '');
  lines.push(`- in: \`token\` [N${format === 'tfjs' ? ', 1' : ''}], ${int}: the previous token: <bos> (2) first, then the token the last step chose`);
  lines.push(...[...z, ...label].map((l) => `- in: ${l} (the same at every step)`));
  lines.push(`- in: \`h\` [N, ${Hd}]${lstm ? `, \`c\` [N, ${Hd}]` : ''}: the state${L + C > 0 ? ' (decoder_init\'s at the first step)' : ' (zeros at the first step: an unconditional language model has no decoder_init)'}`);
  lines.push(`- out: \`logits\` [N, ${c.vocab}]: the next token's logits`);
  lines.push(`- out: \`h_next\`${lstm ? ', `c_next`' : ''}: the state after the step, the next step's \`h\`${lstm ? ' and `c`' : ''}`);
  return lines;
}

/** README.md of a text model's export in `format`, listing `files` (README.md itself added). */
export function textExportReadme(vae: TextVae, format: ExportFormat, files: readonly string[], vocabulary: VocabularyJson, data?: DataInfo): string {
  const c = vae.config;
  const what = c.latent > 0
    ? `A text VAE trained with vaekit: ${c.bidirectional ? 'a bidirectional ' : 'an '}${c.cell.toUpperCase()} encoder of ${c.encoderHidden}, latent size ${c.latent}`
    : 'A recurrent language model trained with vaekit (latent 0: no encoder, no z)';
  const lines = [
    `# vaekit export: ${FORMAT_NAMES[format]}, text model`,
    '',
    `${what}, an ${c.cell.toUpperCase()} decoder of ${c.decoderHidden}, embeddings of ${c.embedding}, a vocabulary of ${c.vocab} ${vocabulary.tokenizer.kind} tokens, `
      + `sentences of up to ${c.maxLength} tokens${c.classes > 0 ? `, conditional on ${c.classes} classes` : ''}.${data !== undefined ? ` Its data: ${data.source}.` : ''}`,
    '',
    '## Files',
    '',
    ...[...files, 'README.md'].map((name) => fileLine(name, vae)),
    '',
    '## Tokens',
    '',
    'A sentence is a row of token ids: vocab.json\'s `tokens` lists the tokens by id. Ids 0 to 3 are <pad>, <unk>, <bos> and <eos>;',
    'a token not in the vocabulary is <unk> (1); a batch pads each sentence after its last token with <pad> (0). <bos> (2) and',
    '<eos> (3) are the model\'s own: the decoder starts from <bos>, and a sentence ends when it chooses <eos>.',
    `Text becomes tokens with vaekit's ${vocabulary.tokenizer.kind} tokenizer${vocabulary.tokenizer.lowercase ? ' after lower-casing' : ''} (vocab.json's \`tokenizer\`; the example below has it in a few lines).`,
  ];
  if (c.classes > 0 && data?.classNames != null) lines.push('', `Classes: ${data.classNames.map((n, i) => `${i} = ${n}`).join(', ')}.`);
  lines.push('', '## Inputs and outputs', '', 'N is the batch size (any), T the longest sentence\'s number of tokens.', '', ...ioLines(vae, format));
  lines.push(
    '',
    '## Decoding',
    '',
    'The decoder runs one token at a time; the loop is the caller\'s. Start from the first state (decoder_init\'s;',
    'zeros for an unconditional language model) and token <bos>; each step gives the next token\'s logits and the next',
    'state; choose a token, feed it and the state back, and stop at <eos> or after the sentence\'s most tokens.',
    'vaekit\'s greedy decoding takes the largest logit, never <pad> or <bos>; sampling draws from softmax(logits / temperature)',
    'over the same tokens (beam search is vaekit\'s own and not in these files).',
  );
  if (c.latent > 0) {
    lines.push(
      'A reconstruction decodes the posterior mean; a posterior sample is `z = mean + exp(logvar / 2) * eps`, `eps ~ N(0, I)`;',
      'a new sentence decodes `z ~ N(0, I)`.',
    );
  }
  lines.push('', '## Example', '');
  if (format === 'onnx') lines.push(...onnxExample(vae, vocabulary));
  else if (format === 'tfjs') lines.push(...tfjsExample(vae));
  else lines.push(...pytorchExample(vae, vocabulary));
  lines.push('');
  return lines.join('\n');
}
