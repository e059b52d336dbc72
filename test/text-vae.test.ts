/**
 * The text VAE (src/vae/text/model.ts) against an independent float64 reference written here with
 * plain loops (PyTorch's LSTM/GRU equations, Keras' Dense layout, the closed-form KL):
 * - run()'s loss, reconstruction and KL equal the reference's; the gradient in every parameter
 *   equals central differences of the reference (step 1e-5 on a float64 function: the true
 *   derivative to ~1e-9), for LSTM and GRU, one or two encoder directions, conditional, free bits,
 *   word dropout (the mask drawn from the same seed as the documented draw order), beta != 1, and
 *   the language model (latent 0) plain and conditional. The model's gradient is float32 through
 *   ~12 recurrent steps and the softmax: 5e-7 absolute + 2e-5 relative (the test prints the worst:
 *   under a fifth of that).
 * - logImportanceWeights: each weight against the reference's log p(y|z) + log N(z; 0, I) - log q
 *   at the same eps, in any chunking; for latent 0, -tokenNll (exactly) and the reference.
 * - padding: what follows a row's length changes nothing (bit for bit); a batch equals its
 *   examples one at a time.
 * - a learning check: 8 short sentences, Adam, reconstructed greedily from their posterior means.
 * - generation: greedy = beam of width 1 = sampling at temperature 1e-6; a beam wide enough to keep
 *   every hypothesis finds the exhaustive search's most likely sentence.
 * - js vs native: loss, every gradient, the importance weights within 1e-4.
 * - configs, presets, bad ids, the refused losses, the summary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../src/engine/backend.js';
import { JsBackend } from '../src/engine/js-backend.js';
import { Random } from '../src/engine/random.js';
import { VaekitError } from '../src/errors.js';
import { Adam } from '../src/nn/adam.js';
import { DEFAULT_OBJECTIVE, type Objective } from '../src/vae/objective.js';
import {
  canonicalTextConfig, isTextConfig, TEXT_LM_PRESET, TEXT_PRESET, textPresetConfig, validateTextConfig, type TextVaeConfig,
} from '../src/vae/text/config.js';
import { TextVae, type TextObjective } from '../src/vae/text/model.js';
import { assertClose } from './helpers/assert-close.js';
import { nativeOrReason } from './helpers/native.js';

const js = new JsBackend();
const native = nativeOrReason();

const BOS = 2;
const EOS = 3;
const UNK = 1;

// ---------------------------------------------------------------- the float64 reference

type Weights = Map<string, Float64Array>;

function weightsOf(vae: TextVae): Weights {
  return new Map(vae.params.list.map((p) => [p.name, Float64Array.from(p.value)]));
}

const sig = (v: number): number => 1 / (1 + Math.exp(-v));

/** One step of PyTorch's LSTM or GRU `prefix` from (h, c) on input x. */
function cellStep(cell: 'lstm' | 'gru', w: Weights, prefix: string, x: number[], h: number[], c: number[]): [number[], number[]] {
  const wih = w.get(`${prefix}.weight_ih`)!;
  const whh = w.get(`${prefix}.weight_hh`)!;
  const bih = w.get(`${prefix}.bias_ih`)!;
  const bhh = w.get(`${prefix}.bias_hh`)!;
  const H = h.length;
  const I = x.length;
  const pre = (row: number): [number, number] => {
    let a = bih[row]!;
    for (let k = 0; k < I; k++) a += wih[row * I + k]! * x[k]!;
    let b = bhh[row]!;
    for (let k = 0; k < H; k++) b += whh[row * H + k]! * h[k]!;
    return [a, b];
  };
  const hn: number[] = [];
  const cn: number[] = [];
  for (let j = 0; j < H; j++) {
    if (cell === 'lstm') {
      const [ix, ih] = pre(j);
      const [fx, fh] = pre(H + j);
      const [gx, gh] = pre(2 * H + j);
      const [ox, oh] = pre(3 * H + j);
      cn[j] = sig(fx + fh) * c[j]! + sig(ix + ih) * Math.tanh(gx + gh);
      hn[j] = sig(ox + oh) * Math.tanh(cn[j]!);
    } else {
      const [rx, rh] = pre(j);
      const [zx, zh] = pre(H + j);
      const [nx, nh] = pre(2 * H + j);
      const r = sig(rx + rh);
      const z = sig(zx + zh);
      hn[j] = (1 - z) * Math.tanh(nx + r * nh) + z * h[j]!;
      cn[j] = 0;
    }
  }
  return [hn, cn];
}

/** y = x W + b with W [inputs, outputs] (Keras' layout). */
function dense(w: Weights, prefix: string, x: number[]): number[] {
  const kernel = w.get(`${prefix}.kernel`)!;
  const bias = w.get(`${prefix}.bias`)!;
  const out = bias.length;
  const y: number[] = [];
  for (let j = 0; j < out; j++) {
    let s = bias[j]!;
    for (let i = 0; i < x.length; i++) s += x[i]! * kernel[i * out + j]!;
    y.push(s);
  }
  return y;
}

function embed(w: Weights, name: string, id: number, E: number): number[] {
  return Array.from(w.get(`${name}.weight`)!.subarray(id * E, (id + 1) * E));
}

interface Example {
  input: number[];
  target: number[];
  label: number;
}

/** The encoder's mean and log-variance [2L] for one example. */
function refPosterior(c: TextVaeConfig, w: Weights, ex: Example): number[] {
  const zeros = (n: number): number[] => new Array<number>(n).fill(0);
  const run = (prefix: string, tokens: number[]): number[] => {
    let h = zeros(c.encoderHidden);
    let s = zeros(c.encoderHidden);
    for (const id of tokens) [h, s] = cellStep(c.cell, w, prefix, embed(w, 'enc.embed', id, c.embedding), h, s);
    return h;
  };
  const feature = run('enc.rnn', ex.input);
  if (c.bidirectional) feature.push(...run('enc.rnn_reverse', [...ex.input].reverse()));
  for (let k = 0; k < c.classes; k++) feature.push(k === ex.label ? 1 : 0);
  return dense(w, 'enc.out', feature);
}

/** -log p(target | z) for one example, teacher-forced on its (word-dropped where drop[t]) target. */
function refNll(c: TextVaeConfig, w: Weights, ex: Example, z: number[], drop: boolean[]): number {
  const cond = [...z];
  for (let k = 0; k < c.classes; k++) cond.push(k === ex.label ? 1 : 0);
  let h = new Array<number>(c.decoderHidden).fill(0);
  let s = new Array<number>(c.decoderHidden).fill(0);
  if (cond.length > 0) {
    const pre = dense(w, 'dec.init', cond);
    h = pre.map(Math.tanh);
    s = c.cell === 'lstm' ? pre : s;
  }
  const inputs = [BOS, ...ex.target.map((y, t) => (drop[t] ? UNK : y))];
  const targets = [...ex.target, EOS];
  let nll = 0;
  for (let t = 0; t < targets.length; t++) {
    [h, s] = cellStep(c.cell, w, 'dec.rnn', [...embed(w, 'dec.embed', inputs[t]!, c.embedding), ...cond], h, s);
    const logits = dense(w, 'dec.out', h);
    const max = Math.max(...logits);
    const lse = max + Math.log(logits.reduce((a, l) => a + Math.exp(l - max), 0));
    nll += lse - logits[targets[t]!]!;
  }
  return nll;
}

interface RefParts {
  loss: number;
  recon: number;
  kl: number;
  nll: number[];
  klDim: number[];
}

/** The batch's loss as run() defines it, with eps [rows, L] and the dropout mask given. */
function refLoss(c: TextVaeConfig, w: Weights, exs: Example[], eps: Float32Array, drops: boolean[][], beta: number, freeBits: number): RefParts {
  const L = c.latent;
  const rows = exs.length;
  const nll: number[] = [];
  const klDim = new Array<number>(L).fill(0);
  let kl = 0;
  exs.forEach((ex, r) => {
    let z: number[] = [];
    if (L > 0) {
      const ml = refPosterior(c, w, ex);
      z = Array.from({ length: L }, (_, d) => ml[d]! + Math.exp(0.5 * ml[L + d]!) * eps[r * L + d]!);
      for (let d = 0; d < L; d++) {
        const k = 0.5 * (ml[d]! ** 2 + Math.exp(ml[L + d]!) - 1 - ml[L + d]!);
        kl += k / rows;
        klDim[d] = klDim[d]! + k / rows;
      }
    }
    nll.push(refNll(c, w, ex, z, drops[r]!));
  });
  const recon = nll.reduce((a, b) => a + b, 0) / rows;
  const term = freeBits > 0 ? klDim.reduce((a, k) => a + Math.max(freeBits, k), 0) : kl;
  return { loss: recon + beta * term, recon, kl, nll, klDim };
}

// ---------------------------------------------------------------- set-ups

const TINY: TextVaeConfig = {
  preset: 'text', kind: 'text', vocab: 9, maxLength: 5, latent: 3, embedding: 4, encoderHidden: 5, decoderHidden: 5,
  cell: 'lstm', bidirectional: false, classes: 0,
};

/** Rows of maxLength ids as floats, <pad> after each. */
function rowsOf(seqs: number[][], maxLength: number): Float32Array {
  const out = new Float32Array(seqs.length * maxLength);
  seqs.forEach((s, r) => out.set(s, r * maxLength));
  return out;
}

/** Four examples: a full-length one, a denoising pair, an empty input and an empty target; labels 0, 1, 1, 0. */
const EXAMPLES: Example[] = [
  { input: [4, 5, 6, 7, 8], target: [4, 5, 6, 7, 8], label: 0 },
  { input: [1, 8, 4], target: [8, 4, 5], label: 1 },
  { input: [], target: [6], label: 1 },
  { input: [5, 6], target: [], label: 0 },
];

function batchOf(exs: Example[], maxLength: number): { input: Float32Array; target: Float32Array; labels: number[] } {
  return { input: rowsOf(exs.map((e) => e.input), maxLength), target: rowsOf(exs.map((e) => e.target), maxLength), labels: exs.map((e) => e.label) };
}

/** A tiny model with every parameter drawn from N(0, 0.5^2), so that the gates leave their linear regions. */
function tinyModel(overrides: Partial<TextVaeConfig>, backend: Backend = js, seed = 7): TextVae {
  const vae = new TextVae({ ...TINY, ...overrides }, { backend, seed });
  const rng = new Random(seed + 100);
  for (let i = 0; i < vae.params.count; i++) vae.params.values[i] = 0.5 * rng.normal();
  return vae;
}

/** The posterior noise and the word-dropout mask run() draws from `new Random(seed)`, in its documented order. */
function drawsOf(seed: number, exs: Example[], L: number, dropout: number): { eps: Float32Array; drops: boolean[][] } {
  const rng = new Random(seed);
  const eps = new Float32Array(exs.length * L);
  rng.fillNormal(eps);
  const drops = exs.map((e) => e.target.map(() => dropout > 0 && rng.uniform() < dropout));
  return { eps, drops };
}

// ---------------------------------------------------------------- (1) + (2) loss and gradients

interface Case {
  name: string;
  config: Partial<TextVaeConfig>;
  beta?: number;
  freeBits?: boolean;
  dropout?: number;
}

const CASES: Case[] = [
  { name: 'LSTM', config: {} },
  { name: 'GRU', config: { cell: 'gru' } },
  { name: 'bidirectional LSTM', config: { bidirectional: true } },
  { name: 'bidirectional GRU, conditional', config: { cell: 'gru', bidirectional: true, classes: 2 } },
  { name: 'LSTM, conditional, free bits, word dropout, beta 0.7', config: { classes: 2 }, beta: 0.7, freeBits: true, dropout: 0.4 },
  { name: 'GRU, free bits, word dropout', config: { cell: 'gru' }, freeBits: true, dropout: 0.3 },
  { name: 'language model, LSTM, word dropout', config: { latent: 0, encoderHidden: 0 }, dropout: 0.4 },
  { name: 'language model, GRU, conditional', config: { latent: 0, encoderHidden: 0, cell: 'gru', classes: 2 } },
];

for (const k of CASES) {
  test(`TextVae ${k.name}: run() equals the float64 reference, and every gradient its central differences`, () => {
    const vae = tinyModel(k.config);
    const c = vae.config;
    const { input, target, labels } = batchOf(EXAMPLES, c.maxLength);
    const seed = 31;
    const dropout = k.dropout ?? 0;
    const { eps, drops } = drawsOf(seed, EXAMPLES, c.latent, dropout);
    if (dropout > 0) assert.ok(drops.flat().some((d) => d), 'the seed drops at least one word');
    const w = weightsOf(vae);
    // Free bits: a floor between two dimensions' batch-mean KLs, so that some are held and some are not.
    let freeBits = 0;
    if (k.freeBits === true) {
      const dims = [...refLoss(c, w, EXAMPLES, eps, drops, 1, 0).klDim].sort((a, b) => a - b);
      freeBits = (dims[0]! + dims[1]!) / 2;
      assert.ok(dims[1]! - dims[0]! > 1e-3);
    }
    const beta = k.beta ?? 1;
    const objective: TextObjective = { ...DEFAULT_OBJECTIVE, beta, freeBits, wordDropout: dropout };
    vae.params.grads.fill(Number.NaN); // every gradient must be written (a NaN left fails the check below)
    const parts = vae.run(input, target, EXAMPLES.length, objective, new Random(seed), true, c.classes > 0 ? labels : null);
    const ref = refLoss(c, w, EXAMPLES, eps, drops, beta, freeBits);
    assert.ok(Math.abs(parts.loss - ref.loss) <= 1e-5 * Math.abs(ref.loss), `loss ${parts.loss} vs reference ${ref.loss}`);
    assert.ok(Math.abs(parts.recon - ref.recon) <= 1e-5 * Math.abs(ref.recon), `recon ${parts.recon} vs reference ${ref.recon}`);
    assert.ok(Math.abs(parts.kl - ref.kl) <= 1e-5 * Math.abs(ref.kl) + 1e-7, `kl ${parts.kl} vs reference ${ref.kl}`);
    if (c.latent === 0) assert.equal(parts.kl, 0);

    let worst = 0;
    let checked = 0;
    const h = 1e-5;
    for (const p of vae.params.list) {
      const values = w.get(p.name)!;
      for (let i = 0; i < p.size; i++) {
        const keep = values[i]!;
        values[i] = keep + h;
        const up = refLoss(c, w, EXAMPLES, eps, drops, beta, freeBits).loss;
        values[i] = keep - h;
        const down = refLoss(c, w, EXAMPLES, eps, drops, beta, freeBits).loss;
        values[i] = keep;
        const numeric = (up - down) / (2 * h);
        const analytic = p.grad[i]!;
        const allowed = 5e-7 + 2e-5 * Math.abs(numeric);
        assert.ok(Math.abs(analytic - numeric) <= allowed, `${p.name}[${i}]: analytic ${analytic}, numeric ${numeric}`);
        worst = Math.max(worst, Math.abs(analytic - numeric) / allowed);
        checked++;
      }
    }
    console.log(`${k.name}: loss ${parts.loss.toFixed(6)} (reference ${ref.loss.toFixed(6)}); ${checked} gradients, worst error ${worst.toFixed(3)} of the allowed 5e-7 + 2e-5 |numeric|`);
  });
}

test('TextVae: the posterior mean (rng null) and no training leave the gradients alone and score the reference at eps = 0', () => {
  const vae = tinyModel({ classes: 2, bidirectional: true });
  const c = vae.config;
  const { input, target, labels } = batchOf(EXAMPLES, c.maxLength);
  vae.params.grads.fill(42);
  const parts = vae.run(input, target, EXAMPLES.length, DEFAULT_OBJECTIVE, null, false, labels);
  assert.ok(vae.params.grads.every((g) => g === 42), 'run without train writes no gradient');
  const noDrops = EXAMPLES.map((e) => e.target.map(() => false));
  const ref = refLoss(c, weightsOf(vae), EXAMPLES, new Float32Array(EXAMPLES.length * c.latent), noDrops, 1, 0);
  assert.ok(Math.abs(parts.loss - ref.loss) <= 1e-5 * ref.loss);
  const nll = new Float64Array(EXAMPLES.length);
  vae.tokenNllPerExample(input, target, EXAMPLES.length, null, labels, nll);
  assertClose(nll, ref.nll, 1e-5, 1e-6, 'tokenNllPerExample at the posterior mean');
  const counts = new Int32Array(EXAMPLES.length);
  vae.tokenCounts(target, EXAMPLES.length, counts);
  assert.deepEqual([...counts], [6, 4, 2, 1]);
  const ml = vae.encodeBatch(input, EXAMPLES.length, labels);
  assertClose(ml, EXAMPLES.flatMap((e) => refPosterior(c, weightsOf(vae), e)), 1e-5, 1e-6, 'encodeBatch');
});

// ---------------------------------------------------------------- (3) importance weights

test('logImportanceWeights: each weight is log p(y|z) + log N(z) - log q(z|x) at the same eps, in any chunking', () => {
  const vae = tinyModel({ classes: 2, cell: 'gru' });
  const c = vae.config;
  const L = c.latent;
  const { input, target, labels } = batchOf(EXAMPLES, c.maxLength);
  const rows = EXAMPLES.length;
  const samples = 7;
  const out = new Float64Array(rows * samples);
  vae.logImportanceWeights(input, target, rows, samples, new Random(5), out, labels);
  const chunked = new Float64Array(rows * samples);
  vae.logImportanceWeights(input, target, rows, samples, new Random(5), chunked, labels, 5);
  assertClose(chunked, out, 1e-6, 1e-6, 'chunks of 5 decoder rows');

  const eps = new Float32Array(rows * samples * L);
  new Random(5).fillNormal(eps);
  const w = weightsOf(vae);
  const none = [false, false, false, false, false];
  let worst = 0;
  EXAMPLES.forEach((ex, r) => {
    const ml = refPosterior(c, w, ex);
    for (let i = 0; i < samples; i++) {
      const e = Array.from(eps.subarray((r * samples + i) * L, (r * samples + i + 1) * L));
      const z = e.map((v, d) => ml[d]! + Math.exp(0.5 * ml[L + d]!) * v);
      let logPrior = 0;
      let logQ = 0;
      for (let d = 0; d < L; d++) {
        logPrior -= 0.5 * (z[d]! ** 2 + Math.log(2 * Math.PI));
        logQ -= 0.5 * (Math.log(2 * Math.PI) + ml[L + d]! + e[d]! ** 2);
      }
      const expected = -refNll(c, w, ex, z, none) + logPrior - logQ;
      const got = out[r * samples + i]!;
      assert.ok(Math.abs(got - expected) <= 1e-4 + 1e-5 * Math.abs(expected), `example ${r}, sample ${i}: ${got} vs ${expected}`);
      worst = Math.max(worst, Math.abs(got - expected));
    }
  });
  console.log(`importance weights: worst |difference| from the float64 reference ${worst.toExponential(2)}`);
});

test('logImportanceWeights of a language model: the exact log-likelihood, samples times, = -tokenNll', () => {
  const vae = tinyModel({ latent: 0, encoderHidden: 0 });
  const c = vae.config;
  const { input, target } = batchOf(EXAMPLES, c.maxLength);
  const rows = EXAMPLES.length;
  const out = new Float64Array(rows * 3);
  vae.logImportanceWeights(input, target, rows, 3, new Random(1), out);
  const nll = new Float64Array(rows);
  vae.tokenNllPerExample(input, target, rows, null, null, nll);
  const w = weightsOf(vae);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < 3; i++) assert.equal(out[r * 3 + i], -nll[r]!);
    const ref = refNll(c, w, EXAMPLES[r]!, [], [false, false, false, false, false]);
    assert.ok(Math.abs(nll[r]! - ref) <= 1e-5 * ref, `example ${r}: ${nll[r]} vs ${ref}`);
  }
});

// ---------------------------------------------------------------- (4) padding

test('Padding: what follows a row\'s length changes nothing, and a batch equals its examples one at a time', () => {
  for (const config of [{ bidirectional: true }, { cell: 'gru' as const, classes: 2 }, { latent: 0, encoderHidden: 0 }]) {
    const vae = tinyModel(config);
    const c = vae.config;
    const N = c.maxLength;
    const rows = EXAMPLES.length;
    const { input, target, labels } = batchOf(EXAMPLES, N);
    const lab = c.classes > 0 ? labels : null;
    const objective: TextObjective = { ...DEFAULT_OBJECTIVE, wordDropout: 0.3 };
    const first = vae.run(input, target, rows, objective, new Random(3), true, lab);
    const grads = vae.params.grads.slice();
    // Junk after each row's first <pad>: words, specials, even ids that are no token at all.
    const junk = (x: Float32Array): Float32Array => {
      const y = x.slice();
      const rng = new Random(9);
      for (let r = 0; r < rows; r++) {
        const n = EXAMPLES[r]![x === input ? 'input' : 'target'].length;
        for (let t = n + 1; t < N; t++) y[r * N + t] = [7, 3, 2, 999, 0.5][rng.int(5)]!;
      }
      return y;
    };
    const second = vae.run(junk(input), junk(target), rows, objective, new Random(3), true, lab);
    assert.deepEqual(second, first);
    assert.deepEqual(vae.params.grads, grads);

    const batch = new Float64Array(rows);
    vae.tokenNllPerExample(input, target, rows, null, lab, batch);
    for (let r = 0; r < rows; r++) {
      const one = new Float64Array(1);
      const label = lab === null ? null : [labels[r]!];
      vae.tokenNllPerExample(input.subarray(r * N, (r + 1) * N), target.subarray(r * N, (r + 1) * N), 1, null, label, one);
      assert.ok(Math.abs(one[0]! - batch[r]!) <= 1e-5 * batch[r]!, `example ${r}: alone ${one[0]}, in the batch ${batch[r]}`);
    }
    const whole = vae.run(input, target, rows, DEFAULT_OBJECTIVE, null, false, lab);
    let sum = 0;
    for (let r = 0; r < rows; r++) {
      const label = lab === null ? null : [labels[r]!];
      sum += vae.run(input.subarray(r * N, (r + 1) * N), target.subarray(r * N, (r + 1) * N), 1, DEFAULT_OBJECTIVE, null, false, label).loss;
    }
    assert.ok(Math.abs(sum / rows - whole.loss) <= 1e-5 * whole.loss, `mean of one-at-a-time losses ${sum / rows} vs batch ${whole.loss}`);
  }
});

// ---------------------------------------------------------------- (5) learning

const SENTENCES = [
  [4, 5, 6, 7], [4, 8, 9], [10, 11, 12, 13, 14], [15, 5, 9], [6, 6, 7, 8], [12, 4, 10], [13, 14, 15, 4, 5], [9, 8, 7],
];

function trainedModel(): { vae: TextVae; x: Float32Array; kl: number; seconds: number } {
  const vae = new TextVae(textPresetConfig('text', { vocab: 16, maxLength: 6, latent: 8, embedding: 16, encoderHidden: 32, decoderHidden: 32 }), { backend: js, seed: 3 });
  const x = rowsOf(SENTENCES, 6);
  const adam = new Adam(vae.params, { learningRate: 0.01 });
  const rng = new Random(11);
  const started = performance.now();
  // A finite set of sentences is best memorized by the decoder alone (log p = log 1/8 with or without
  // z): free bits make the first nats of KL free, so that the encoder is worth using.
  const objective: TextObjective = { ...DEFAULT_OBJECTIVE, freeBits: 0.5, wordDropout: 0.2 };
  let kl = 0;
  for (let step = 0; step < 300; step++) {
    kl = vae.run(x, x, SENTENCES.length, objective, rng, true, null).kl;
    adam.update(js);
  }
  return { vae, x, kl, seconds: (performance.now() - started) / 1000 };
}

let trained: ReturnType<typeof trainedModel> | null = null;
const getTrained = (): ReturnType<typeof trainedModel> => (trained ??= trainedModel());

test('Learning: trained with Adam on 8 sentences, it reconstructs them greedily from their posterior means', () => {
  const { vae, x, kl, seconds } = getTrained();
  const rows = SENTENCES.length;
  const L = vae.latent;
  const ml = vae.encodeBatch(x, rows);
  const means = new Float32Array(rows * L);
  for (let r = 0; r < rows; r++) means.set(ml.subarray(r * 2 * L, r * 2 * L + L), r * L);
  const decoded = vae.generate(means, rows, { mode: 'greedy' }, null);
  let right = 0;
  let total = 0;
  SENTENCES.forEach((s, r) => {
    const got = decoded[r]!;
    for (let t = 0; t < Math.max(s.length, got.length); t++) {
      total++;
      if (s[t] === got[t]) right++;
    }
  });
  const parts = vae.run(x, x, rows, DEFAULT_OBJECTIVE, null, false, null);
  console.log(`learning: 300 steps in ${seconds.toFixed(1)} s; ${right}/${total} tokens reconstructed; recon ${parts.recon.toFixed(3)} nats per sentence, KL ${parts.kl.toFixed(2)} (last step ${kl.toFixed(2)})`);
  console.log(`  decoded: ${decoded.map((d) => `[${[...d].join(' ')}]`).join(' ')}`);
  assert.ok(right >= 0.8 * total, `${right} of ${total} tokens right`);
  assert.ok(parts.kl > 0.5, `the posterior carries information: KL ${parts.kl}`);
});

// ---------------------------------------------------------------- (6) generation

test('Generation: greedy equals beam search of width 1 and sampling at temperature 1e-6', () => {
  const { vae } = getTrained();
  const z = new Float32Array(6 * vae.latent);
  new Random(4).fillNormal(z);
  const greedy = vae.generate(z, 6, { mode: 'greedy' }, null);
  assert.deepEqual(vae.generate(z, 6, { mode: 'beam', beamWidth: 1 }, null), greedy);
  assert.deepEqual(vae.generate(z, 6, { mode: 'sample', temperature: 1e-6 }, new Random(8)), greedy);
  for (const sentence of greedy) {
    assert.ok(sentence.length <= vae.maxLength);
    for (const id of sentence) assert.ok(id === UNK || (id >= 4 && id < vae.vocab), `generated id ${id}`);
  }
  const beams = vae.generate(z, 6, { mode: 'beam', beamWidth: 4 }, null);
  assert.equal(beams.length, 6);
  // From the prior (z null) with a generator: reproducible.
  assert.deepEqual(vae.generate(null, 3, { mode: 'sample' }, new Random(2)), vae.generate(null, 3, { mode: 'sample' }, new Random(2)));

  // An untrained conditional model and a language model (long sentences, up to the length limit) agree too.
  for (const config of [{ classes: 3, cell: 'gru' as const }, { latent: 0, encoderHidden: 0 }]) {
    const m = new TextVae({ ...TINY, vocab: 30, ...config }, { backend: js, seed: 1 });
    const zz = m.latent > 0 ? new Float32Array(5 * m.latent).map((_, i) => Math.sin(i)) : null;
    const labels = m.classes > 0 ? [0, 1, 2, 0, 1] : null;
    const g = m.generate(zz, 5, { mode: 'greedy', maxLength: 8 }, null, labels);
    assert.deepEqual(m.generate(zz, 5, { mode: 'beam', beamWidth: 1, maxLength: 8 }, null, labels), g);
    assert.deepEqual(m.generate(zz, 5, { mode: 'sample', temperature: 1e-6, maxLength: 8 }, new Random(3), labels), g);
    assert.ok(g.every((s) => s.length <= 8));
    m.generate(zz, 5, { mode: 'beam', beamWidth: 3, maxLength: 8 }, null, labels);
  }
});

/** log p(tokens [, <eos>] | z, label) under generation's distribution (softmax over every token but <pad> and <bos>). */
function refSequenceLogProb(c: TextVaeConfig, w: Weights, z: number[], label: number, tokens: number[], eos: boolean): number {
  const cond = [...z];
  for (let k = 0; k < c.classes; k++) cond.push(k === label ? 1 : 0);
  let h = new Array<number>(c.decoderHidden).fill(0);
  let s = new Array<number>(c.decoderHidden).fill(0);
  if (cond.length > 0) {
    const pre = dense(w, 'dec.init', cond);
    h = pre.map(Math.tanh);
    s = c.cell === 'lstm' ? pre : s;
  }
  const inputs = [BOS, ...tokens];
  const targets = eos ? [...tokens, EOS] : tokens;
  let logp = 0;
  for (let t = 0; t < targets.length; t++) {
    [h, s] = cellStep(c.cell, w, 'dec.rnn', [...embed(w, 'dec.embed', inputs[t]!, c.embedding), ...cond], h, s);
    const logits = dense(w, 'dec.out', h);
    const allowed = logits.filter((_, v) => v !== 0 && v !== BOS);
    const max = Math.max(...allowed);
    logp += logits[targets[t]!]! - (max + Math.log(allowed.reduce((a, l) => a + Math.exp(l - max), 0)));
  }
  return logp;
}

test('Beam search wide enough to keep every hypothesis finds the most likely sentence (exhaustive search over all of them)', () => {
  for (const config of [{ cell: 'gru' as const, vocab: 7, classes: 2 }, { vocab: 6, latent: 0, encoderHidden: 0 }]) {
    const vae = tinyModel(config, js, 12);
    // Sharper distributions, so that the greedy path is not always the best.
    const out = vae.params.get('dec.out.kernel').value;
    for (let i = 0; i < out.length; i++) out[i] = 3 * out[i]!;
    const c = vae.config;
    const w = weightsOf(vae);
    const rows = 6;
    const maxLength = 3;
    const z = new Float32Array(rows * c.latent);
    new Random(13).fillNormal(z);
    const labels = c.classes > 0 ? Array.from({ length: rows }, (_, r) => r % 2) : null;
    const words = [UNK, ...Array.from({ length: c.vocab - 4 }, (_, i) => 4 + i)];
    const all: number[][] = [[]];
    for (let n = 1; n <= maxLength; n++) for (const s of all.filter((x) => x.length === n - 1)) for (const v of words) all.push([...s, v]);
    const beam = vae.generate(c.latent > 0 ? z : null, rows, { mode: 'beam', beamWidth: 100, maxLength }, null, labels);
    const greedy = vae.generate(c.latent > 0 ? z : null, rows, { mode: 'greedy', maxLength }, null, labels);
    let better = 0;
    for (let r = 0; r < rows; r++) {
      const zr = Array.from(z.subarray(r * c.latent, (r + 1) * c.latent));
      const label = labels === null ? 0 : labels[r]!;
      const score = (s: number[]): number => refSequenceLogProb(c, w, zr, label, s, s.length < maxLength);
      let best = all[0]!;
      for (const s of all) if (score(s) > score(best)) best = s;
      assert.deepEqual([...beam[r]!], best, `row ${r}: beam ${[...beam[r]!]} (${score([...beam[r]!])}), best ${best} (${score(best)})`);
      if (score(best) > score([...greedy[r]!]) + 1e-9) better++;
    }
    console.log(`beam search (${c.cell}, latent ${c.latent}): exhaustive optimum found for ${rows} of ${rows} sentences, ${better} of them better than greedy`);
  }
});

// ---------------------------------------------------------------- js vs native

test('js and native backends agree within 1e-4: loss, every gradient, importance weights, generation', { skip: typeof native === 'string' ? native : false }, () => {
  const nat = native as Backend;
  for (const config of [{ bidirectional: true, classes: 2 }, { cell: 'gru' as const }, { latent: 0, encoderHidden: 0 }]) {
    const big = { ...config, vocab: 40, maxLength: 12, embedding: 16, encoderHidden: config.latent === 0 ? 0 : 24, decoderHidden: 32, latent: config.latent ?? 8 };
    const vj = new TextVae({ ...TINY, ...big }, { backend: js, seed: 5 });
    const vn = new TextVae({ ...TINY, ...big }, { backend: nat, seed: 5 });
    const rng = new Random(6);
    const rows = 16;
    const seqs = Array.from({ length: rows }, () => Array.from({ length: rng.int(13) }, () => 4 + rng.int(36)));
    const x = rowsOf(seqs, 12);
    const labels = Array.from({ length: rows }, (_, r) => r % 2);
    const lab = vj.classes > 0 ? labels : null;
    const objective: TextObjective = { ...DEFAULT_OBJECTIVE, wordDropout: 0.25 };
    const pj = vj.run(x, x, rows, objective, new Random(7), true, lab);
    const pn = vn.run(x, x, rows, objective, new Random(7), true, lab);
    assertClose([pn.loss, pn.recon, pn.kl], [pj.loss, pj.recon, pj.kl], 1e-5, 1e-6, 'loss parts');
    assertClose(vn.params.grads, vj.params.grads, 1e-4, 1e-5, 'gradients');
    const oj = new Float64Array(rows * 4);
    const on = new Float64Array(rows * 4);
    vj.logImportanceWeights(x, x, rows, 4, new Random(8), oj, lab);
    vn.logImportanceWeights(x, x, rows, 4, new Random(8), on, lab);
    assertClose(on, oj, 1e-5, 1e-4, 'importance weights');
    const z = vj.latent > 0 ? new Float32Array(4 * vj.latent).map((_, i) => Math.cos(i)) : null;
    const gl = lab === null ? null : [0, 1, 0, 1];
    const gj = vj.generate(z, 4, { mode: 'beam', beamWidth: 3 }, null, gl);
    assert.deepEqual(vn.generate(z, 4, { mode: 'beam', beamWidth: 3 }, null, gl), gj);
  }
});

// ---------------------------------------------------------------- configs, inputs, summary

test('Text configs: presets, overrides, one sentence naming the field, canonical order', () => {
  assert.equal(TEXT_PRESET.latent, 32);
  assert.equal(TEXT_PRESET.cell, 'lstm');
  assert.equal(TEXT_LM_PRESET.latent, 0);
  assert.equal(TEXT_LM_PRESET.encoderHidden, 0);
  const c = textPresetConfig('text', { vocab: 500, bidirectional: true });
  assert.equal(c.vocab, 500);
  assert.ok(isTextConfig(c));
  assert.ok(!isTextConfig({ preset: 'seed', inputShape: [28, 28, 1] }));
  const reordered = Object.fromEntries(Object.entries(c).reverse()) as unknown as TextVaeConfig;
  assert.deepEqual(Object.keys(canonicalTextConfig(reordered)), Object.keys(TEXT_PRESET));
  assert.deepEqual(canonicalTextConfig(reordered), c);
  const bad: [Partial<TextVaeConfig>, RegExp][] = [
    [{ vocab: 4 }, /vocab/], [{ maxLength: 0 }, /maxLength/], [{ latent: -1 }, /latent/], [{ embedding: 1.5 }, /embedding/],
    [{ encoderHidden: 0 }, /encoderHidden/], [{ decoderHidden: 0 }, /decoderHidden/], [{ cell: 'rnn' as 'lstm' }, /cell/],
    [{ bidirectional: 1 as unknown as boolean }, /bidirectional/], [{ classes: -2 }, /classes/], [{ latent: 0 }, /encoderHidden to 0/],
  ];
  for (const [overrides, pattern] of bad) {
    assert.throws(() => textPresetConfig('text', overrides), (e: unknown) => e instanceof VaekitError && pattern.test(e.message) && !e.message.includes('\n'));
  }
  assert.throws(() => textPresetConfig('text-lm', { bidirectional: true }), /no encoder/);
  assert.throws(() => textPresetConfig('poem'), /text presets are text, text-lm/);
  assert.throws(() => validateTextConfig({ ...TEXT_PRESET, kind: 'image' as 'text' }), /kind/);
});

test('TextVae refuses bad ids, other losses, missing labels and bad options in one sentence', () => {
  const vae = tinyModel({ classes: 2 });
  const ok = rowsOf([[4, 5]], 5);
  const run = (x: Float32Array, objective: Objective = DEFAULT_OBJECTIVE, labels: number[] | null = [0]): unknown =>
    vae.run(x, ok, 1, objective, null, false, labels);
  for (const id of [2, 3, 9, -1, 4.5, Number.NaN]) {
    assert.throws(() => run(rowsOf([[4, id]], 5)), (e: unknown) => e instanceof VaekitError && /position 1 is not one of this model's/.test(e.message));
  }
  assert.throws(() => run(ok, { ...DEFAULT_OBJECTIVE, loss: 'iwae' }), (e: unknown) => e instanceof VaekitError && /elbo objective only/.test(e.message));
  assert.throws(() => run(ok, { ...DEFAULT_OBJECTIVE, loss: 'notebook-mse' }), VaekitError);
  assert.throws(() => run(ok, DEFAULT_OBJECTIVE, null), /conditional model/);
  assert.throws(() => vae.run(ok, ok, 1, { ...DEFAULT_OBJECTIVE, wordDropout: 1.5 } as TextObjective, new Random(1), true, [0]), /Word dropout/);
  assert.throws(() => vae.run(ok, ok, 1, { ...DEFAULT_OBJECTIVE, wordDropout: 0.5 } as TextObjective, null, true, [0]), /generator/);
  assert.throws(() => vae.generate(null, 1, { mode: 'sample' }, null, [0]), /generator/);
  assert.throws(() => vae.generate(new Float32Array(3), 1, { mode: 'beam', beamWidth: 0 }, null, [0]), /beam width/);
  assert.throws(() => tinyModel({ latent: 0, encoderHidden: 0 }).encodeBatch(ok, 1), /no encoder/);
});

test('TextVae: summary, sizes, parameter layout, precision', () => {
  const vae = new TextVae(textPresetConfig('text', { vocab: 1000, maxLength: 20 }), { backend: js });
  const E = 256;
  const H = 256;
  const expected = 1000 * E + 4 * H * (E + H + 2) + (H * 64 + 64) + (32 * H + H) + 1000 * E + 4 * H * (E + 32 + H + 2) + (H * 1000 + 1000);
  assert.equal(vae.params.count, expected);
  assert.deepEqual(vae.inputShape, [20]);
  assert.equal(vae.pixels, 20);
  const s = vae.summary();
  assert.match(s, new RegExp(`Total params: ${expected.toLocaleString('en-US')}`));
  assert.match(s, /dec\.out \(Dense\)\s+\(None, 21, 1000\)/);
  assert.match(s, /enc\.rnn \(LSTM\)\s+\(None, 256\)/);
  assert.deepEqual(vae.params.list.map((p) => p.name).slice(0, 3), ['enc.embed.weight', 'enc.rnn.weight_ih', 'enc.rnn.weight_hh']);
  const lm = new TextVae(TEXT_LM_PRESET, { backend: js });
  assert.ok(!lm.params.has('dec.init.kernel') && !lm.params.has('enc.embed.weight'));
  assert.match(lm.summary(), /language model/);
  vae.setPrecision('bf16');
  assert.notEqual(vae.params.half, null);
  vae.setPrecision('fp32');
  assert.equal(vae.params.half, null);
});
