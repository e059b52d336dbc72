// Text models through the vaekit command, end to end, on a corpus the test makes (template
// sentences): a small text VAE and a language model trained once, then sample, interpolate,
// encode, denoise, anomaly, eval, summary and info checked for what they do, and every bad input
// refused in one line, exit 1, with nothing written or replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../src/engine/random.js';
import { parseNpy } from '../src/io/npy.js';
import { detokenize, tokenize } from '../src/data/text/tokenize.js';
import { cliChecks, twoClassNpy, type CliResult } from './helpers/cli.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'vaekit.js');
const work = mkdtempSync(join(tmpdir(), 'vaekit-text-cli-'));
// VAEKIT_TEST_KEEP=1 keeps the corpus and models for a look.
process.on('exit', () => { if (process.env['VAEKIT_TEST_KEEP'] === undefined) rmSync(work, { recursive: true, force: true }); else console.log(`kept ${work}`); });

function vaekit(args: string[]): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const { ok, refused } = cliChecks(vaekit);

// ---- the corpus: subject verb object . -----------------------------------------------------

const SUBJECTS = ['the cat', 'the dog', 'a bird', 'my friend', 'the old man', 'a small child'];
const VERBS = ['sees', 'likes', 'finds', 'follows', 'watches'];
const OBJECTS = ['the ball', 'a red car', 'the green tree', 'a big house', 'the river', 'some bread'];
const WORDS = { kind: 'word' as const, lowercase: false };

const rng = new Random(11);
const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
const sentence = (): string => `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} .`;
const lines = Array.from({ length: 600 }, sentence);
const vocabulary = new Set(lines.flatMap((l) => tokenize(l, WORDS)));
/** A sentence as the model's vocabulary writes it back ("the cat sees the ball."). */
const normal = (text: string): string => detokenize(tokenize(text, WORDS), 'word');

const corpus = join(work, 'corpus.txt');
writeFileSync(corpus, `${lines.join('\n')}\n`);
const vae = join(work, 'vae');
const lm = join(work, 'lm');
const SIZES = ['--embedding', '32', '--batch-size', '32', '--lr', '0.005'];
ok(['train', '--data', corpus, '--preset', 'text', '--latent', '16', '--hidden', '64', ...SIZES, '--epochs', '40', '--word-dropout', '0.3', '--free-bits', '1', '--out', vae]);
ok(['train', '--data', corpus, '--preset', 'text-lm', '--decoder-hidden', '64', ...SIZES, '--epochs', '8', '--out', lm]);

/** The cells of a CSV line of vaekit's own writing (sentences here hold no commas or quotes). */
const cells = (line: string): string[] => line.split(',');
const csvRows = (path: string): string[][] => readFileSync(path, 'utf8').trim().split('\n').map(cells);

test('sample: sentences of vocabulary words from the prior, one a line, seeded; to stdout or a .txt file', () => {
  const out = ok(['sample', '--model', vae, '--count', '20', '--seed', '3']).trimEnd().split('\n');
  assert.equal(out.length, 20);
  for (const line of out) for (const token of tokenize(line, WORDS)) assert.ok(vocabulary.has(token), `"${token}" of "${line}" is not a corpus word`);
  assert.ok(new Set(out).size > 3, 'samples differ from one another');
  assert.deepEqual(ok(['sample', '--model', vae, '--count', '20', '--seed', '3']).trimEnd().split('\n'), out, 'the same seed gives the same sentences');
  assert.equal(ok(['sample', '--model', vae]).trimEnd().split('\n').length, 10, 'ten by default');
  const beam = ok(['sample', '--model', vae, '--count', '5', '--decode', 'beam', '--beam-width', '3']).trimEnd().split('\n');
  assert.equal(beam.length, 5);
  // A language model writes from its start; greedy, every sentence is its single most likely one.
  const greedy = ok(['sample', '--model', lm, '--count', '3', '--decode', 'greedy']).trimEnd().split('\n');
  assert.equal(new Set(greedy).size, 1);
  for (const token of tokenize(greedy[0]!, WORDS)) assert.ok(vocabulary.has(token));
  const file = join(work, 'samples.txt');
  assert.match(ok(['sample', '--model', vae, '--count', '4', '--out', file]), /wrote .*samples\.txt \(4 sentences, sampled at temperature 1/);
  assert.equal(readFileSync(file, 'utf8').trimEnd().split('\n').length, 4);
});

test('denoise --noise none reconstructs training sentences; word dropout puts <unk> in, seeded, and mostly comes back', () => {
  const part = join(work, 'part.txt');
  writeFileSync(part, `${lines.slice(0, 100).join('\n')}\n`);
  const clean = join(work, 'reconstructed.csv');
  const said = ok(['denoise', '--model', vae, '--data', part, '--noise', 'none', '--out', clean]);
  assert.match(said, /noise none \(--noise\)/);
  const rows = csvRows(clean);
  assert.deepEqual(rows[0], ['id', 'input', 'output']);
  assert.equal(rows.length, 101);
  const right = rows.slice(1).filter(([id, input, output]) => input === normal(lines[Number(id) - 1]!) && output === input).length;
  assert.ok(right >= 80, `${right} of 100 greedy reconstructions are the sentence`);

  const noisy = join(work, 'denoised.csv');
  ok(['denoise', '--model', vae, '--data', part, '--noise', 'word-dropout:0.2', '--seed', '5', '--out', noisy]);
  const inputs = csvRows(noisy).slice(1);
  const unk = inputs.filter(([, input]) => input!.includes('<unk>')).length;
  assert.ok(unk > 30 && unk < 90, `${unk} of 100 noisy inputs hold <unk>`);
  const back = inputs.filter(([id, , output]) => output === normal(lines[Number(id) - 1]!)).length;
  assert.ok(back >= 40, `${back} of 100 denoised sentences are the clean one`);
  const again = join(work, 'denoised-again.csv');
  ok(['denoise', '--model', vae, '--data', part, '--noise', 'masking:0.2', '--seed', '5', '--out', again]);
  assert.equal(readFileSync(again, 'utf8'), readFileSync(noisy, 'utf8'), 'masking:P is word-dropout:P, and the seed fixes the noise');
});

test('interpolate: one line per step with its t, the ends the greedy reconstructions of --from and --to', () => {
  const [from, to] = [lines[0]!, lines[1]!];
  const ends = join(work, 'ends.txt');
  writeFileSync(ends, `${from}\n${to}\n`);
  const reconstructed = join(work, 'ends.csv');
  ok(['denoise', '--model', vae, '--data', ends, '--noise', 'none', '--out', reconstructed]);
  const [, first, last] = csvRows(reconstructed).map((r) => r[2]!);
  const path = ok(['interpolate', '--model', vae, '--from', from, '--to', to, '--steps', '4']).trimEnd().split('\n');
  assert.deepEqual(path.map((l) => l.split('\t')[0]), ['t=0.00', 't=0.33', 't=0.67', 't=1.00']);
  assert.equal(path[0]!.split('\t')[1], first);
  assert.equal(path[3]!.split('\t')[1], last);
  assert.equal(ok(['interpolate', '--model', vae, '--from', from, '--to', to]).trimEnd().split('\n').length, 5, 'five steps by default');
  const file = join(work, 'path.txt');
  ok(['interpolate', '--model', vae, '--from', from, '--to', to, '--steps', '4', '--out', file]);
  assert.deepEqual(readFileSync(file, 'utf8').trimEnd().split('\n'), path);
});

test('encode: a row of posterior means (and log-variances) per line, with the line number as its id', () => {
  const data = join(work, 'encode.txt');
  writeFileSync(data, `${lines[0]}\n\n${lines[1]}\n${lines[2]}\n`); // a blank line 2 is skipped, and counted
  const csv = join(work, 'codes.csv');
  ok(['encode', '--model', vae, '--data', data, '--out', csv, '--with-logvar']);
  const rows = csvRows(csv);
  assert.equal(rows[0]!.length, 1 + 32);
  assert.deepEqual(rows[0]!.slice(0, 2), ['id', 'z0']);
  assert.equal(rows[0]![17], 'logvar0');
  assert.deepEqual(rows.slice(1).map((r) => r[0]), ['1', '3', '4']);
  const npy = join(work, 'codes.npy');
  ok(['encode', '--model', vae, '--data', data, '--out', npy]);
  const codes = parseNpy(new Uint8Array(readFileSync(npy)), npy);
  assert.deepEqual(codes.shape, [3, 16]);
  assert.ok(codes.data instanceof Float32Array, 'codes are float32');
  assert.ok(Math.abs(codes.data[16]! - Number(rows[2]![1])) < 1e-6, 'the NPY holds the CSV\'s means');
  // A CSV column of text, its rows numbered from 1 after the header.
  const table = join(work, 'sentences.csv');
  writeFileSync(table, `n,sentence\n1,${lines[0]}\n2,${lines[1]}\n`);
  const fromTable = join(work, 'codes-table.csv');
  ok(['encode', '--model', vae, '--data', table, '--text-column', 'sentence', '--out', fromTable]);
  assert.deepEqual(csvRows(fromTable).map((r) => r[0]), ['id', '1', '2']);
  assert.equal(csvRows(fromTable)[1]![1], rows[1]![1], 'the same sentence, the same code');
});

test('anomaly: template sentences score low, shuffled and random-word lines high (AUROC), the text beside each score', () => {
  const rows = ['text,kind'];
  for (let i = 0; i < 30; i++) rows.push(`${sentence()},normal`);
  for (let i = 0; i < 15; i++) {
    const words = lines[i]!.split(' ');
    for (let j = words.length - 1; j > 0; j--) {
      const k = rng.int(j + 1);
      [words[j], words[k]] = [words[k]!, words[j]!];
    }
    rows.push(`${words.join(' ')},odd`);
  }
  const all = [...vocabulary];
  for (let i = 0; i < 15; i++) rows.push(`${Array.from({ length: 6 }, () => pick(all)).join(' ')},odd`);
  const data = join(work, 'mixed.csv');
  writeFileSync(data, `${rows.join('\n')}\n`);
  const out = join(work, 'anomaly');
  const said = ok(['anomaly', '--model', vae, '--test-data', data, '--text-column', 'text', '--label-column', 'kind', '--normal-class', 'normal', '--out', out]);
  assert.match(said, /importance-sampled, k = 50/);
  const summary = JSON.parse(readFileSync(join(out, 'anomaly.json'), 'utf8')) as { auroc: number; importanceSamples: number; examples: number };
  assert.equal(summary.examples, 60);
  assert.equal(summary.importanceSamples, 50);
  assert.ok(summary.auroc > 0.9, `AUROC ${summary.auroc}`);
  assert.match(said, new RegExp(`AUROC \\(class normal normal, the rest anomalies\\): ${(100 * summary.auroc).toFixed(2)}%`));
  const scores = csvRows(join(out, 'scores.csv'));
  assert.deepEqual(scores[0], ['id', 'score', 'flagged', 'text', 'label']);
  scores.slice(1).forEach(([id, score, , text], i) => {
    assert.equal(id, String(i + 1));
    assert.ok(Number(score) > 0);
    assert.equal(text, rows[i + 1]!.split(',')[0]);
  });
  assert.ok(existsSync(join(out, 'score-histogram.png')));
});

test('eval: the language model\'s perplexity is exp(NLL / tokens); the VAE\'s NLL is importance-sampled with --samples', () => {
  const test = join(work, 'test.txt');
  writeFileSync(test, `${Array.from({ length: 40 }, sentence).join('\n')}\n`);
  const lmOut = join(work, 'lm-eval');
  assert.match(ok(['eval', '--model', lm, '--data', test, '--out', lmOut]), /NLL .* nats per sentence \(exact\) \| perplexity/);
  const m = JSON.parse(readFileSync(join(lmOut, 'eval.json'), 'utf8')) as { examples: number; tokens: number; nllNats: number; perplexity: number; latent: number };
  assert.equal(m.latent, 0);
  assert.equal(m.examples, 40);
  assert.ok(Math.abs(m.perplexity - Math.exp((m.nllNats * m.examples) / m.tokens)) < 1e-9 * m.perplexity);
  assert.ok(m.perplexity > 1 && m.perplexity < 3, `perplexity ${m.perplexity} on template sentences`);
  const vaeOut = join(work, 'vae-eval');
  const said = ok(['eval', '--model', vae, '--data', test, '--samples', '20', '--out', vaeOut]);
  assert.match(said, /importance-sampled, k = 20/);
  const v = JSON.parse(readFileSync(join(vaeOut, 'eval.json'), 'utf8')) as { importanceSamples: number; nllNats: number; negElboNats: number; activeUnits: number };
  assert.equal(v.importanceSamples, 20);
  assert.ok(v.nllNats < v.negElboNats, 'the importance-sampled NLL is below the negative ELBO');
  assert.ok(v.activeUnits > 0);
  assert.match(readFileSync(join(vaeOut, 'eval.md'), 'utf8'), /\| perplexity \(per token\) \|/);
});

test('summary and info --model print a text model\'s layers and vocabulary settings', () => {
  const summary = ok(['summary', '--model', vae]);
  assert.match(summary, /text VAE, latent 16, LSTM/);
  assert.match(summary, new RegExp(`vocabulary: ${vocabulary.size + 4} tokens`));
  assert.match(summary, /tokens: word tokens, case kept/);
  assert.match(summary, /max length: 8 tokens per sentence/);
  assert.match(ok(['summary', '--model', lm]), /language model, no latent/);
  const info = ok(['info', '--model', vae]);
  assert.match(info, /^backend: /);
  assert.match(info, /text VAE, latent 16/);
});

test('bad input to a text model ends in one sentence, exit 1, nothing written or replaced', () => {
  const x = (name: string): string => join(work, name);
  refused(['sample', '--model', vae, '--out', x('s.png')], /a text model's samples are sentences, so its name must end in \.txt/, [x('s.png')]);
  refused(['sample', '--model', vae, '--decode', 'greedy', '--temperature', '0.5'], /--temperature sets how --decode sample draws tokens, and this decoding is greedy/, []);
  refused(['interpolate', '--model', vae, '--from', 'a', '--to', 'b', '--data', corpus, '--out', x('i.txt')], /--data applies to image and table models, and .* holds a text model/, [x('i.txt')]);
  refused(['encode', '--model', vae, '--data', corpus, '--binarize', '--out', x('e.csv')], /--binarize applies to image and table models/, [x('e.csv')]);
  refused(['encode', '--model', lm, '--data', corpus, '--out', x('e.csv')], /holds a language model \(latent 0\): it has no latent code to encode sentences to/, [x('e.csv')]);
  refused(['encode', '--model', vae, '--out', x('e.csv')], /Give --data, the text to encode/, [x('e.csv')]);
  refused(['interpolate', '--model', vae, '--to', 'the cat sees the ball .'], /required option '--from <example>' not specified/, []);
  refused(['interpolate', '--model', vae, '--from', '   ', '--to', 'the cat sees the ball .', '--out', x('i.txt')], /--from is blank: give a sentence in quotes/, [x('i.txt')]);
  refused(['denoise', '--model', vae, '--data', corpus, '--noise', 'gaussian:0.2', '--out', x('d.csv')], /gaussian noise changes the values of images and tables/, [x('d.csv')]);
  refused(['denoise', '--model', vae, '--data', corpus, '--noise', 'word-dropout:2', '--out', x('d.csv')], /Invalid noise probability "2"/, [x('d.csv')]);
  refused(['denoise', '--model', vae, '--data', corpus, '--out', x('d.npy')], /must end in \.csv/, [x('d.npy')]);
  refused(['anomaly', '--model', vae, '--data', corpus, '--epochs', '3', '--out', x('an')], /--epochs applies to image and table models/, [x('an')]);
  refused(['eval', '--model', vae, '--data', corpus, '--knn-k', '3', '--out', x('ev')], /--knn-k applies to image and table models/, [x('ev')]);

  // An existing output is kept unless --overwrite says to replace it.
  const kept = x('kept.txt');
  writeFileSync(kept, 'mine\n');
  for (const args of [
    ['sample', '--model', vae, '--out', kept],
    ['interpolate', '--model', vae, '--from', lines[0]!, '--to', lines[1]!, '--out', kept],
  ]) {
    refused(args, /kept\.txt already exists: pass --overwrite to replace it/, []);
    assert.equal(readFileSync(kept, 'utf8'), 'mine\n');
  }
  const keptCsv = x('kept.csv');
  writeFileSync(keptCsv, 'mine\n');
  refused(['encode', '--model', vae, '--data', corpus, '--out', keptCsv], /kept\.csv already exists: pass --overwrite/, []);
  refused(['denoise', '--model', vae, '--data', corpus, '--out', keptCsv], /kept\.csv already exists: pass --overwrite/, []);
  assert.equal(readFileSync(keptCsv, 'utf8'), 'mine\n');
  const evalDir = join(work, 'vae-eval'); // written by the eval test, or made here
  mkdirSync(evalDir, { recursive: true });
  if (!existsSync(join(evalDir, 'eval.json'))) writeFileSync(join(evalDir, 'eval.json'), '{}\n');
  const before = readFileSync(join(evalDir, 'eval.json'), 'utf8');
  refused(['eval', '--model', vae, '--data', corpus, '--out', evalDir], /eval\.json already exists: pass --overwrite/, []);
  assert.equal(readFileSync(join(evalDir, 'eval.json'), 'utf8'), before);
  ok(['sample', '--model', vae, '--count', '2', '--out', kept, '--overwrite']);
  assert.equal(readFileSync(kept, 'utf8').trimEnd().split('\n').length, 2);
});

test('an image model refuses the text flags, and keeps its own behaviour', () => {
  const { x } = twoClassNpy(work, 64);
  const image = join(work, 'image');
  ok(['train', '--data', x, '--hidden', '16', '--latent', '2', '--epochs', '1', '--out', image]);
  refused(['sample', '--model', image, '--decode', 'greedy', '--out', join(work, 'i.png')], /--decode applies to text models, and .* holds an image or table model/, [join(work, 'i.png')]);
  refused(['encode', '--model', image, '--data', x, '--text-column', 'text', '--out', join(work, 'i.csv')], /--text-column applies to text models/, [join(work, 'i.csv')]);
  refused(['denoise', '--model', image, '--data', x, '--noise', 'word-dropout:0.1', '--out', join(work, 'i.npy')], /--noise word-dropout:0.1 applies to text models/, [join(work, 'i.npy')]);
  refused(['sample', '--model', image], /holds an image or table model: give --out/, []);
  assert.match(ok(['sample', '--model', image, '--count', '4', '--out', join(work, 'i.npy')]), /4 samples, npy \[4, 8, 8, 1\]/);
});
