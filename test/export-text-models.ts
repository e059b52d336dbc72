// What the text export tests share: tiny text models trained here with the library (textDataset,
// TextVae, fit) on a corpus made here, test sentences (rows of the corpus and new ones in its
// vocabulary, some longer than the model keeps), vaekit's own answers for them (posterior
// parameters, greedy decodings), and a random-weights variant for every cell and shape.
import { textDataset } from '../src/data/sources/text.js';
import type { Dataset } from '../src/data/dataset.js';
import type { TokenKind } from '../src/data/text/tokenize.js';
import type { Vocabulary } from '../src/data/text/vocab.js';
import type { DataInfo } from '../src/run/bundle-format.js';
import { textDataInfo } from '../src/run/data.js';
import { fit } from '../src/train/fit.js';
import { textPresetConfig, type TextOverrides } from '../src/vae/text/config.js';
import { TextVae } from '../src/vae/text/model.js';

const SUBJECTS = ['the cat', 'a dog', 'the old man', 'my sister', 'the bird', 'a child'];
const VERBS = ['sees', 'likes', 'follows', 'finds', 'hears'];
const OBJECTS = ['the red ball', 'a small house', 'the river', 'his friend', 'the green tree', 'a song'];
const ENDINGS = ['', ' today', ' at night', ' again', ' in the park'];

/** A deterministic corpus of simple sentences, with a class (0..2) per sentence: which verb group it has. */
export function corpus(count: number, seed: number): { texts: string[]; labels: Int32Array } {
  let s = seed >>> 0;
  const next = (n: number): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  const texts: string[] = [];
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const verb = next(VERBS.length);
    const punct = next(3) === 0 ? ' .' : '';
    texts.push(`${SUBJECTS[next(SUBJECTS.length)]} ${VERBS[verb]} ${OBJECTS[next(OBJECTS.length)]}${ENDINGS[next(ENDINGS.length)]}${punct}`);
    labels[i] = verb % 3;
  }
  return { texts, labels };
}

export interface TrainedText {
  vae: TextVae;
  data: DataInfo;
  train: Dataset;
  vocabulary: Vocabulary;
  training: Record<string, unknown>;
}

/** A text model trained for `epochs` epochs on the corpus (word tokens unless `tokens`), with the bundle's data description. */
export async function trainTiny(preset: 'text' | 'text-lm', overrides: TextOverrides, options: {
  epochs?: number; tokens?: TokenKind; vocab?: number; seed?: number; beta?: number; freeBits?: number; wordDropout?: number;
} = {}): Promise<TrainedText> {
  const { texts, labels } = corpus(160, options.seed ?? 7);
  const conditional = (overrides.classes ?? 0) > 0;
  const train = textDataset(
    { texts, ids: texts.map((_, i) => String(i + 1)), labels: conditional ? labels : null, labelNames: conditional ? ['sees/hears', 'likes', 'follows'] : null, source: 'the test corpus', blank: 0 },
    { tokens: options.tokens ?? 'word', lowercase: true, ...(options.vocab !== undefined ? { vocab: options.vocab } : {}), maxLength: 12 },
  );
  const vocabulary = train.text!.vocabulary;
  const vae = new TextVae(textPresetConfig(preset, { vocab: vocabulary.size, maxLength: train.size, ...overrides }), { seed: options.seed ?? 1 });
  const beta = options.beta ?? 1;
  const freeBits = options.freeBits ?? 0;
  const wordDropout = options.wordDropout ?? 0;
  await fit(vae, train, {
    epochs: options.epochs ?? 6, batchSize: 16, learningRate: 1e-2, noise: { kind: 'none' }, seed: 3,
    objective: { loss: 'elbo', beta, freeBits, samples: 1, wordDropout },
  });
  return { vae, data: textDataInfo(train), train, vocabulary, training: { loss: 'elbo', beta, freeBits, ...(wordDropout > 0 ? { wordDropout } : {}) } };
}

/** Test sentences as rows of the model's token ids: `fromCorpus` training rows and new sentences (one with unknown words, one too long, one of one token). */
export function testRows(model: TrainedText, fromCorpus: number): { rows: number; ids: Float32Array; lengths: number[]; labels: number[] } {
  const news = ['the dog likes a song today', 'my zebra finds the purple river', 'a child hears the old man follows his friend at night again and again', 'river'];
  const fresh = textDataset(
    { texts: news, ids: news.map((_, i) => `new ${i}`), labels: null, labelNames: null, source: 'new sentences', blank: 0 },
    { tokens: model.vocabulary.tokenizer.kind, lowercase: true, vocabulary: model.vocabulary, maxLength: model.vae.maxLength },
  );
  const N = model.vae.maxLength;
  const rows = fromCorpus + news.length;
  const ids = new Float32Array(rows * N);
  ids.set(model.train.values!.subarray(0, fromCorpus * N));
  ids.set(fresh.values!.subarray(0, news.length * N), fromCorpus * N);
  const lengths = Array.from({ length: rows }, (_, r) => {
    let n = 0;
    while (n < N && ids[r * N + n] !== 0) n++;
    return n;
  });
  return { rows, ids, lengths, labels: Array.from({ length: rows }, (_, r) => r % Math.max(1, model.vae.classes)) };
}

/** The first L columns (means) and the next L (log-variances) of posterior rows [rows, 2L]. */
export function splitPosterior(meanLogvar: Float32Array, rows: number, L: number): { mean: Float32Array; logvar: Float32Array } {
  const mean = new Float32Array(rows * L);
  const logvar = new Float32Array(rows * L);
  for (let r = 0; r < rows; r++) {
    mean.set(meanLogvar.subarray(r * 2 * L, r * 2 * L + L), r * L);
    logvar.set(meanLogvar.subarray(r * 2 * L + L, (r + 1) * 2 * L), r * L);
  }
  return { mean, logvar };
}

/** vaekit's answers for the test rows: the posterior (latent > 0) and the greedy decoding of its mean (a language model: from its start). */
export function vaekitAnswers(model: TrainedText, t: ReturnType<typeof testRows>): { mean: Float32Array | null; logvar: Float32Array | null; greedy: number[][] } {
  const { vae } = model;
  const labels = vae.classes > 0 ? t.labels : null;
  if (vae.latent === 0) {
    return { mean: null, logvar: null, greedy: vae.generate(null, t.rows, { mode: 'greedy' }, null, labels).map((g) => Array.from(g)) };
  }
  const { mean, logvar } = splitPosterior(vae.encodeBatch(t.ids, t.rows, labels), t.rows, vae.latent);
  return { mean, logvar, greedy: vae.generate(mean, t.rows, { mode: 'greedy' }, null, labels).map((g) => Array.from(g)) };
}

/** max |a - b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
