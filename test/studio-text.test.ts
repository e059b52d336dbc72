// vaekit studio with text runs in its runs folder: a tiny sentence VAE and a language model trained
// here by the library (planRun + trainRun on a corpus made from templates), beside a tiny image
// model. The Text page's API (reconstruct, nearest training sentences, prior samples, interpolation)
// answers what the library's pipelines answer for the same inputs, the nearest sentences checked
// against a brute-force search written here; bad input (a blank sentence, a 2 MB sentence, an image
// run's id, a language model asked to reconstruct) is refused with a 4xx and one sentence; the
// image endpoints refuse the text run in one sentence that points to the Text page; the runs list
// has the text run with its text metrics. In Chromium (Debian's, through playwright-core): the
// Models and Train pages list the text run, the Denoise page says it is a text model, and a sentence
// typed on the Text page shows its reconstruction.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { withVocabulary } from '../src/data/sources/text.js';
import { Random } from '../src/engine/random.js';
import { interpolateSentences, posteriorMeans, reconstructSentences, sampleSentences, textsForModel } from '../src/pipelines/text.js';
import { loadTextBundle, type TextBundle } from '../src/run/bundle.js';
import { readRunRecord } from '../src/run/folder.js';
import { loadRunData, planRun } from '../src/run/plan.js';
import type { RunSpecInput } from '../src/run/spec.js';
import { trainRun } from '../src/run/train-run.js';
import type { RunList, TextInterpolation, TextNearest, TextReconstruction, TextSamples } from '../src/studio/messages.js';
import { startStudio, type Studio } from '../src/studio/server.js';
import { twoClassNpy } from './helpers/cli.js';
import { CHROMIUM_ARGS, chromiumPath, requireTool } from './helpers/outside-tools.js';
import { apiCall, ensureWebBuilt } from './helpers/studio.js';

const work = mkdtempSync(join(tmpdir(), 'vaekit-studio-text-'));
process.on('exit', () => { if (process.env['VAEKIT_TEST_KEEP'] === undefined) rmSync(work, { recursive: true, force: true }); else console.log(`kept ${work}`); });

/** `n` sentences from one template: "the ADJ NOUN VERB the NOUN PLACE". */
function templateCorpus(n: number, seed: number): string[] {
  const pick = <T>(rng: Random, xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  const adjectives = ['big', 'small', 'red', 'quiet', 'old', 'happy'];
  const nouns = ['cat', 'dog', 'bird', 'man', 'woman', 'child', 'horse'];
  const verbs = ['sees', 'likes', 'chases', 'finds', 'follows'];
  const places = ['in the park', 'by the river', 'at home', 'on the hill'];
  const rng = new Random(seed);
  return Array.from({ length: n }, () => `the ${pick(rng, adjectives)} ${pick(rng, nouns)} ${pick(rng, verbs)} the ${pick(rng, nouns)} ${pick(rng, places)}`);
}

/** A refusal: its status and its one sentence. */
async function refusal(studio: Studio, path: string, body?: string | object): Promise<{ status: number; error: string }> {
  const response = await fetch(`http://127.0.0.1:${studio.port}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { Authorization: `Bearer ${studio.token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const json = (await response.json()) as { error?: unknown };
  assert.equal(typeof json.error, 'string', `${path}: a refusal with { error }`);
  return { status: response.status, error: json.error as string };
}

/** One sentence: a single line, ending in a full stop, with no stack trace in it. */
function assertOneSentence(text: string): void {
  assert.doesNotMatch(text, /\n|\bat \S+:\d+|Error:/, text);
  assert.match(text, /^\S.*[.!?]$/, text);
}

const SENTENCE = 'the big cat sees the dog in the park';
const OTHER = 'the small bird follows the horse by the river';

describe('vaekit studio with text runs', () => {
  const data = join(work, 'data');
  const runsDir = join(work, 'runs');
  const corpus = join(data, 'corpus.txt');
  let studio: Studio;
  let model: TextBundle;

  before(async () => {
    mkdirSync(data);
    writeFileSync(corpus, `${templateCorpus(600, 5).join('\n')}\n`);
    twoClassNpy(data, 200);
    const train = async (name: string, spec: RunSpecInput): Promise<void> => {
      const plan = await planRun({ ...spec, seed: 1, outputs: { dir: join(runsDir, name), figures: false } });
      await trainRun(plan, { folder: join(runsDir, name) });
    };
    const small = { embedding: 16, decoderHidden: [32] };
    await train('sentences', { data: { source: corpus }, model: { preset: 'text', latent: 4, encoderHidden: [32], ...small }, objective: { wordDropout: 0.3, freeBits: 0.2 }, training: { epochs: 4, batchSize: 32, learningRate: 0.003 } });
    await train('lm', { data: { source: corpus }, model: { preset: 'text-lm', ...small }, training: { epochs: 1, batchSize: 32 } });
    await train('digits', { data: { source: join(data, 'x.npy'), labels: join(data, 'y.npy') }, model: { latent: 2 }, training: { epochs: 1 } });
    model = loadTextBundle(join(runsDir, 'sentences'));
    studio = await startStudio({ port: 0, runsDir, dataRoots: [data], quiet: true });
  });
  after(async () => { await studio?.close(); });

  it('lists the text runs with their text metrics and model, and offers no text preset to the training form', async () => {
    const { runs } = await apiCall<RunList>(studio, '/api/runs');
    const text = runs.find((r) => r.id === 'sentences');
    assert.ok(text !== undefined, 'the text run is listed');
    assert.equal(text.status, 'done');
    assert.ok(text.config !== null && 'kind' in text.config && text.config.kind === 'text', 'its model is a text model');
    const m = text.testMetrics;
    assert.ok(m !== null && 'kind' in m && m.kind === 'text', 'its test metrics are a text model\'s');
    for (const v of [m.nllNats, m.perplexity, m.klNats, m.mutualInformation]) assert.ok(Number.isFinite(v));
    assert.equal(m.latent, 4);
    assert.ok(runs.some((r) => r.id === 'lm') && runs.some((r) => r.id === 'digits'));
    const info = await apiCall<{ presets: string[] }>(studio, '/api/info');
    assert.ok(!info.presets.includes('text') && !info.presets.includes('text-lm'), `the form's presets: ${info.presets.join(', ')}`);
  });

  it('reconstructs a sentence as reconstructSentences does (greedy from the posterior mean)', async () => {
    const typed = 'the big zebra sees the dog in the park';
    const r = await apiCall<TextReconstruction>(studio, '/api/runs/sentences/text/reconstruct', { sentence: typed });
    assert.equal(r.reconstruction, reconstructSentences(model, [typed], { mode: 'greedy' })[0]);
    assert.equal(r.read, 'the big <unk> sees the dog in the park', 'the sentence as the model reads it, its unknown word as <unk>');
    assert.deepEqual([r.tokens, r.unknown, r.cut], [9, 1, false]);
    // Longer than the corpus's longest sentence (9 tokens, the model's maximum length): cut to it.
    const long = await apiCall<TextReconstruction>(studio, '/api/runs/sentences/text/reconstruct', { sentence: `${SENTENCE} and the bird` });
    assert.deepEqual([long.read, long.tokens, long.cut], [SENTENCE, 9, true]);
    assert.equal(long.reconstruction, reconstructSentences(model, [`${SENTENCE} and the bird`], { mode: 'greedy' })[0]);
  });

  it('finds the training sentences nearest by code as a brute-force search over the run\'s training part does', async () => {
    // Independently of the studio and of pipelines/text-nearest.ts: the run's training split read in the model's vocabulary, encoded, searched.
    const { train } = await loadRunData(readRunRecord(join(runsDir, 'sentences'))!.spec);
    const set = await withVocabulary(train, model.vocabulary, model.vae.maxLength);
    const L = model.vae.latent;
    const codes = posteriorMeans(model, set);
    const q = posteriorMeans(model, textsForModel(model, [SENTENCE]));
    const distance = (i: number, metric: 'cosine' | 'euclidean'): number => {
      let dot = 0; let a = 0; let b = 0; let sq = 0;
      for (let d = 0; d < L; d++) {
        const x = codes[i * L + d]!;
        dot += x * q[d]!; a += x * x; b += q[d]! ** 2; sq += (x - q[d]!) ** 2;
      }
      return metric === 'cosine' ? 1 - dot / Math.sqrt(a * b) : Math.sqrt(sq);
    };
    for (const metric of ['cosine', 'euclidean'] as const) {
      const answer = await apiCall<TextNearest>(studio, '/api/runs/sentences/text/nearest', { sentence: SENTENCE, metric, count: 6 });
      assert.equal(answer.total, set.count);
      assert.equal(answer.searched, set.count);
      assert.equal(answer.sentences.length, 6);
      const expected = Array.from({ length: set.count }, (_, i) => ({ i, d: distance(i, metric) })).sort((x, y) => x.d - y.d || x.i - y.i);
      answer.sentences.forEach((s, k) => {
        assert.ok(Math.abs(s.distance - expected[k]!.d) <= 1e-6 * Math.max(1, expected[k]!.d), `${metric} #${k}: ${s.distance} against ${expected[k]!.d}`);
        assert.equal(s.text, set.text!.texts.text(s.index), 'the sentence at its index');
        assert.ok(Math.abs(distance(s.index, metric) - s.distance) <= 1e-6 * Math.max(1, s.distance), 'its distance is its own');
      });
    }
  });

  it('samples from the prior as sampleSentences does, for each decoding', async () => {
    const cases = [
      { query: 'count=5&seed=3&mode=sample&temperature=0.7', count: 5, seed: 3, options: { mode: 'sample', temperature: 0.7, beamWidth: 5 } },
      { query: 'count=4&seed=2&mode=greedy', count: 4, seed: 2, options: { mode: 'greedy', temperature: 1, beamWidth: 5 } },
      { query: 'count=3&seed=1&mode=beam&beamWidth=3', count: 3, seed: 1, options: { mode: 'beam', temperature: 1, beamWidth: 3 } },
    ] as const;
    for (const c of cases) {
      const s = await apiCall<TextSamples>(studio, `/api/runs/sentences/text/samples?${c.query}`);
      assert.deepEqual(s.sentences, sampleSentences(model, c.count, c.seed, c.options), c.query);
      assert.equal(s.mode, c.options.mode);
    }
    // A language model samples too, from its start token.
    const lm = loadTextBundle(join(runsDir, 'lm'));
    const s = await apiCall<TextSamples>(studio, '/api/runs/lm/text/samples?count=3&seed=4');
    assert.deepEqual(s.sentences, sampleSentences(lm, 3, 4, { mode: 'sample', temperature: 1, beamWidth: 5 }));
  });

  it('interpolates between two sentences as interpolateSentences does, each line with its t', async () => {
    const r = await apiCall<TextInterpolation>(studio, '/api/runs/sentences/text/interpolate', { from: SENTENCE, to: OTHER, steps: 5 });
    assert.deepEqual(r.steps, interpolateSentences(model, SENTENCE, OTHER, 5, { mode: 'greedy' }));
    assert.deepEqual(r.steps.map((p) => p.t), [0, 0.25, 0.5, 0.75, 1]);
  });

  it('refuses bad input with a 4xx and one sentence', async () => {
    const cases: { path: string; body?: string | object; status: number; says: RegExp }[] = [
      { path: '/api/runs/sentences/text/reconstruct', body: { sentence: '   ' }, status: 400, says: /blank/ },
      { path: '/api/runs/sentences/text/reconstruct', body: { sentence: 'a '.repeat(1024 * 1024) }, status: 413, says: /larger than 1 MiB/ },
      { path: '/api/runs/sentences/text/reconstruct', body: { sentence: 'a '.repeat(6000) }, status: 400, says: /at most 10,000/ },
      { path: '/api/runs/sentences/text/nearest', body: { sentence: SENTENCE, metric: 'manhattan' }, status: 400, says: /"cosine" or "euclidean"/ },
      { path: '/api/runs/sentences/text/interpolate', body: { from: SENTENCE, to: OTHER, steps: 12 }, status: 400, says: /from 5 to 9/ },
      { path: '/api/runs/sentences/text/samples?temperature=0', status: 400, says: /greater than 0/ },
      { path: '/api/runs/digits/text/reconstruct', body: { sentence: SENTENCE }, status: 400, says: /image or table model/ },
      { path: '/api/runs/digits/text/samples', status: 400, says: /image or table model/ },
      { path: '/api/runs/lm/text/reconstruct', body: { sentence: SENTENCE }, status: 400, says: /language model/ },
      { path: '/api/runs/lm/text/nearest', body: { sentence: SENTENCE }, status: 400, says: /language model/ },
      { path: '/api/runs/nothing/text/samples', status: 404, says: /no run "nothing"/ },
      // The image and table endpoints, for a text run: one sentence that points to the Text page.
      { path: '/api/runs/sentences/samples', status: 400, says: /text model.*Text page/ },
      { path: '/api/runs/sentences/examples', status: 400, says: /text model.*Text page/ },
      { path: '/api/runs/sentences/kl-ranking', status: 400, says: /text model.*Text page/ },
      { path: '/api/runs/sentences/latent-map', status: 400, says: /text model.*Text page/ },
      { path: '/api/runs/sentences/report', status: 400, says: /text model.*Text page/ },
      { path: '/api/runs/sentences/export/onnx', status: 400, says: /text model.*Text page/ },
      { path: '/api/runs/sentences/denoise', body: { images: [[0]] }, status: 400, says: /text model.*Text page/ },
    ];
    for (const c of cases) {
      const { status, error } = await refusal(studio, c.path, c.body);
      assert.equal(status, c.status, `${c.path}: ${error}`);
      assert.match(error, c.says, c.path);
      assertOneSentence(error);
    }
  });

  it('in Chromium: the runs pages list the text run, Denoise sends it to the Text page, and a typed sentence is reconstructed', async (t) => {
    const executablePath = requireTool(t, chromiumPath(), 'chromium');
    if (executablePath === null) return;
    await ensureWebBuilt();
    const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(studio.url, { waitUntil: 'load' });

      // The Train page's list of runs, and the Models page with the text metrics.
      await page.waitForSelector('[data-testid="runs"] tr[data-run="sentences"]');
      assert.match(await page.textContent('[data-testid="runs"] tr[data-run="sentences"]') ?? '', /text · latent 4 · lstm 32/);
      assert.equal(await page.locator('[data-testid="preset"] option[value="text"]').count(), 0, 'the form offers no text preset');
      await page.click('[data-testid="nav-models"]');
      const row = page.locator('[data-testid="models-table"] tr[data-run="sentences"]');
      await row.waitFor();
      const metrics = await row.locator('[data-testid="text-metrics"]').textContent() ?? '';
      assert.match(metrics, /NLL \d+\.\d\d.*perplexity \d+\.\d\d.*KL \d+\.\d\d · MI -?\d+\.\d\d.*\d of 4 active/s);
      assert.match(await row.locator('[data-testid="differs"]').textContent() ?? '', /Tokens word/);

      // An image page with the text run picked: one sentence, and a way to the Text page.
      await page.evaluate('window.location.hash = "#/denoise?run=sentences"');
      await page.waitForSelector('[data-testid="text-run-note"]');
      assert.match(await page.textContent('[data-testid="text-run-note"]') ?? '', /^sentences is a text model, and this page works with image and table models: explore it on the Text page\.$/);

      // The Text page: type a sentence, see its reconstruction.
      await page.click('[data-testid="text-run-note"] a');
      await page.waitForSelector('[data-testid="text-samples"] li');
      await page.fill('[data-testid="sentence"]', SENTENCE);
      await page.press('[data-testid="sentence"]', 'Enter');
      await page.waitForSelector('[data-testid="reconstruction"]');
      assert.equal((await page.textContent('[data-testid="reconstruction"]'))?.trim(), reconstructSentences(model, [SENTENCE], { mode: 'greedy' })[0]);
      assert.equal((await page.textContent('[data-testid="read"]'))?.trim(), SENTENCE);
      await page.waitForSelector('[data-testid="nearest"] li');
      assert.equal(await page.locator('[data-testid="nearest"] li').count(), 8);
      await page.screenshot({ path: join(work, 'studio-text.png'), fullPage: true });

      assert.deepEqual(problems, [], 'no errors in the page');
      const elsewhere = requests.filter((u) => !u.startsWith(`http://127.0.0.1:${studio.port}/`) && !u.startsWith('data:'));
      assert.deepEqual(elsewhere, [], 'no request left the studio');
    } finally {
      await browser.close();
    }
  });
});
