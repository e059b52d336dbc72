// Text runs through the run spec, plan, fit, checkpoints and bundles: the spec's text fields and
// refusals, length-bucketed batches, a text VAE and a language model trained end to end on a
// generated corpus, exact resume (aggressive training's state included), the bundle round trip and
// the measures' relations (importance-sampled NLL below the negative ELBO; a language model's exact
// NLL and perplexity agree).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bucketedOrder, BUCKET_POOL_BATCHES } from '../src/data/batches.js';
import { Random } from '../src/engine/random.js';
import { loadTextBundle, saveModel } from '../src/run/bundle.js';
import { latestCheckpoint } from '../src/run/checkpoints.js';
import { isTextPlan, planRun, type RunPlan } from '../src/run/plan.js';
import { validateRunSpec, type RunSpecInput } from '../src/run/spec.js';
import { trainRun } from '../src/run/train-run.js';
import { evaluateText } from '../src/eval/text.js';
import { AggressiveTraining, AGGRESSIVE_CHECK_EVERY, AGGRESSIVE_MAX_INNER } from '../src/train/aggressive.js';
import { resolveObjective } from '../src/vae/objective.js';
import { TextVae } from '../src/vae/text/model.js';
import { VaekitError } from '../src/errors.js';

const work = mkdtempSync(join(tmpdir(), 'vaekit-text-run-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** Template sentences: subject, verb, object and an optional adverb, drawn from a seed. */
function corpus(n: number, seed: number): string[] {
  const rng = new Random(seed);
  const pick = (xs: readonly string[]): string => xs[rng.int(xs.length)]!;
  const subjects = ['the cat', 'a dog', 'my friend', 'the old man', 'a small bird', 'the teacher'];
  const verbs = ['saw', 'liked', 'found', 'chased', 'painted', 'visited'];
  const objects = ['the house', 'a red ball', 'the river', 'an apple', 'the garden', 'the moon'];
  const adverbs = ['today', 'yesterday', 'at night', 'again', '', ''];
  return Array.from({ length: n }, () => `${pick(subjects)} ${pick(verbs)} ${pick(objects)} ${pick(adverbs)}`.trim() + ' .');
}

const file = join(work, 'corpus.txt');
writeFileSync(file, `${corpus(600, 1).join('\n')}\n`);

const tiny = { latent: 4, embedding: 16, encoderHidden: [24], decoderHidden: [24] };

function textSpec(extra: RunSpecInput = {}): RunSpecInput {
  return {
    data: { source: file, ...extra.data },
    model: { preset: 'text', ...tiny, ...extra.model },
    objective: { ...extra.objective },
    training: { epochs: 2, batchSize: 32, learningRate: 3e-3, checkpoint: null, ...extra.training },
    seed: 3,
    outputs: { dir: join(work, 'unused'), figures: false },
  };
}

test('the run spec: text presets default to no noise and refuse image and table settings; image presets refuse text settings', () => {
  const spec = validateRunSpec(textSpec());
  assert.equal(spec.noise.input, 'none');
  assert.equal(spec.data.tokens, null);
  const refused = (input: RunSpecInput, field: string): void => {
    assert.throws(() => validateRunSpec(input), (err: unknown) => err instanceof VaekitError && err.message.startsWith(field), field);
  };
  refused({ ...textSpec(), noise: { input: 'gaussian:0.2' } }, 'noise.input');
  refused(textSpec({ model: { likelihood: 'gaussian' } }), 'model.likelihood');
  refused(textSpec({ model: { convChannels: [8] } }), 'model.convChannels');
  refused(textSpec({ model: { encoderHidden: [8, 8] } }), 'model.encoderHidden');
  refused({ ...textSpec(), model: { preset: 'text-lm', latent: 4 } }, 'model.latent');
  refused({ ...textSpec(), model: { preset: 'text-lm' }, objective: { aggressive: true } }, 'objective.aggressive');
  refused({ data: { source: 'mnist', tokens: 'word' } }, 'data.tokens');
  refused({ objective: { wordDropout: 0.2 } }, 'objective.wordDropout');
  refused({ model: { cell: 'gru' } }, 'model.cell');
});

test('bucketed batches hold every example once, and similar lengths: far less spread within a batch than a shuffle gives', () => {
  const rng = new Random(5);
  const lengths = Int32Array.from({ length: 5000 }, () => 1 + rng.int(60));
  const B = 32;
  const order = bucketedOrder(lengths, B, new Random(9));
  assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: 5000 }, (_, i) => i));
  assert.deepEqual(bucketedOrder(lengths, B, new Random(9)), order, 'the same generator state gives the same order');
  const spread = (o: Uint32Array): number => {
    let total = 0;
    for (let s = 0; s + B <= o.length; s += B) {
      const ls = Array.from(o.subarray(s, s + B), (i) => lengths[i]!);
      total += Math.max(...ls) - Math.min(...ls);
    }
    return total / Math.floor(o.length / B);
  };
  const shuffled = Uint32Array.from({ length: 5000 }, (_, i) => i);
  new Random(9).shuffle(shuffled);
  assert.ok(spread(order) < spread(shuffled) / 10, `spread ${spread(order)} vs ${spread(shuffled)}`);
  assert.ok(BUCKET_POOL_BATCHES >= 10);
});

test('aggressive training\'s inner loop stops when the summed loss stops falling, or after the most steps', () => {
  const falling = Array.from({ length: AGGRESSIVE_MAX_INNER }, (_, i) => 100 - i);
  assert.equal(AggressiveTraining.goOn(falling.slice(0, 2 * AGGRESSIVE_CHECK_EVERY)), true);
  assert.equal(AggressiveTraining.goOn(falling), false);
  const flat = [...falling.slice(0, AGGRESSIVE_CHECK_EVERY), ...falling.slice(0, AGGRESSIVE_CHECK_EVERY)];
  assert.equal(AggressiveTraining.goOn(flat), false);
  const a = new AggressiveTraining(1);
  assert.equal(a.epochEnd(1, 0.5), null);
  assert.equal(a.epochEnd(2, 0.7), null);
  assert.match(a.epochEnd(3, 0.6)!, /ended after epoch 3/);
  assert.equal(a.on, false);
});

let vaeRun: { plan: RunPlan; dir: string } | null = null;

test('a text VAE trains through planRun and trainRun: the vocabulary from the training part, text metrics, a bundle that loads back the same model', async () => {
  const dir = join(work, 'vae');
  const plan = await planRun(textSpec({ data: { lowercase: true, validation: { fraction: 0.2 } }, objective: { wordDropout: 0.2, freeBits: 0.1, klWarmup: 'logistic:1' } }));
  assert.ok(isTextPlan(plan));
  const text = plan.train.text!;
  // Every validation token the training part lacks is <unk>; the corpus has no other word.
  assert.equal(text.vocabulary.size, 4 + new Set([...plan.train.text!.texts].flatMap((t) => t.toLowerCase().split(' '))).size);
  const result = await trainRun(plan, { folder: dir });
  const m = result.test!;
  assert.equal(m.kind, 'text');
  assert.ok(m.nllNats <= m.negElboNats + 0.5, `IS NLL ${m.nllNats} vs -ELBO ${m.negElboNats}`);
  assert.ok(Math.abs(m.perplexity - Math.exp(m.nllNats * m.examples / m.tokens)) < 1e-9 * m.perplexity);
  assert.ok(m.activeUnits >= 0 && m.activeUnits <= 4 && m.latent === 4);
  const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  assert.equal(lines.length, 2);
  for (const l of lines) for (const key of ['valPerplexity', 'valMi', 'valActiveUnits']) assert.equal(typeof l[key], 'number', key);
  const bundle = loadTextBundle(dir);
  assert.deepEqual(bundle.vocabulary.tokens, text.vocabulary.tokens);
  assert.deepEqual([...bundle.vae.params.values], [...result.vae.params.values]);
  const again = evaluateText(bundle.vae, plan.test, { seed: 1, importanceSamples: 5 });
  const first = evaluateText(result.vae as TextVae, plan.test, { seed: 1, importanceSamples: 5 });
  assert.deepEqual(again, first);
  vaeRun = { plan, dir };
});

test('a language model trains on the same data with the same fit: exact NLL, perplexity from it, no latent code', async () => {
  const plan = await planRun({ ...textSpec(), model: { preset: 'text-lm', embedding: 16, decoderHidden: [24] } });
  assert.ok(isTextPlan(plan));
  const result = await trainRun(plan, { folder: null });
  const m = result.test!;
  assert.equal(m.latent, 0);
  assert.equal(m.importanceSamples, 1);
  assert.equal(m.klNats, 0);
  assert.ok(Math.abs(m.nllNats - m.negElboNats) < 1e-4, `exact NLL ${m.nllNats} = negative ELBO ${m.negElboNats}`);
  // The same model's NLL recomputed from the token-level scores.
  const vae = result.vae as TextVae;
  const rows = new Float32Array(plan.test.count * plan.test.size);
  plan.test.gather(null, 0, plan.test.count, rows);
  const nll = new Float64Array(plan.test.count);
  vae.tokenNllPerExample(rows, rows, plan.test.count, null, null, nll);
  assert.ok(Math.abs(nll.reduce((a, b) => a + b, 0) / plan.test.count - m.nllNats) < 1e-3);
});

test('a text run resumed from its checkpoint ends with the same bits, aggressive training included', async () => {
  const spec = textSpec({ objective: { aggressive: true, wordDropout: 0.1 }, training: { epochs: 2, checkpoint: { everyEpochs: 1, everySteps: null, everySeconds: 0 } } });
  const whole = await trainRun(await planRun(spec), { folder: null });
  const dir = join(work, 'resumed');
  const first = await planRun({ ...spec, training: { ...spec.training, epochs: 1 } });
  await trainRun(first, { folder: dir });
  const found = latestCheckpoint(dir)!;
  assert.ok(found.checkpoint.state.aggressive !== undefined);
  const resumed = await trainRun(await planRun(spec), { folder: null, resumeFrom: found.checkpoint });
  assert.deepEqual([...resumed.vae.params.values], [...whole.vae.params.values]);
});

test('a saved text model scores a batch as the trained one did; a text model is refused where an image model is expected', async () => {
  assert.ok(vaeRun !== null);
  const { plan, dir } = vaeRun;
  const bundle = loadTextBundle(dir);
  const rows = new Float32Array(8 * plan.test.size);
  plan.test.gather(null, 0, 8, rows);
  const elbo = resolveObjective({ loss: 'elbo' });
  const a = bundle.vae.run(rows, rows, 8, elbo, null, false, null);
  const b = (plan.vae as TextVae).run(rows, rows, 8, elbo, null, false, null);
  assert.deepEqual(a, b);
  const { loadBundle } = await import('../src/run/bundle.js');
  assert.throws(() => loadBundle(dir), /describes a text model/);
  const copy = join(work, 'copy');
  saveModel(bundle.vae, copy, {}, bundle.data);
  assert.deepEqual(loadTextBundle(copy).vocabulary.tokens, bundle.vocabulary.tokens);
});
