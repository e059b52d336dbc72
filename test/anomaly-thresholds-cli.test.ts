// vaekit anomaly's decisions through the command, on a small table with planted outliers and a
// few sentences the test makes: every --threshold form gives a flagged column that matches the
// scores and the threshold in anomaly.json; --baselines prints PCA and isolation forest rows (a
// bag-of-words unigram for a text model) whose AUROC the library recomputes; bad flags are refused
// in one sentence with nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitIsolationForest, fitPca } from '../src/anomaly/baselines/index.js';
import { datasetRows } from '../src/anomaly/baselines/rows.js';
import { fitUnigram } from '../src/anomaly/baselines/unigram.js';
import { loadData } from '../src/data/load.js';
import { Random } from '../src/engine/random.js';
import { auroc } from '../src/eval/auroc.js';
import { readTextForModel } from '../src/pipelines/text.js';
import { textModelAt } from '../src/pipelines/text-model.js';
import { loadBundle } from '../src/run/bundle.js';
import { prepareForModel } from '../src/run/data.js';
import { cliChecks, vaekitFromSources } from './helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'vaekit-thresholds-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const { ok, refused } = cliChecks((args) => vaekitFromSources(args, 120_000));
const at = (name: string): string => join(work, name);

/** `n` rows of 4 features along one direction plus noise, every 30th (from row 7) an outlier off it; column "outlier" says which. */
function table(path: string, n: number, seed: number): void {
  const rng = new Random(seed);
  const lines = ['a,b,c,d,outlier'];
  for (let i = 0; i < n; i++) {
    const t = rng.normal();
    const out = i % 30 === 7;
    const row = [t, 2 * t, -t, 0.5 * t].map((v, j) => v + 0.1 * rng.normal() + (out ? (j % 2 === 0 ? 3 : -3) : 0));
    lines.push(`${row.map((v) => v.toFixed(4)).join(',')},${out ? 'yes' : 'no'}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

const trainCsv = at('train.csv');
const testCsv = at('test.csv');
table(trainCsv, 300, 1);
table(testCsv, 600, 2);
const SMALL = ['--latent', '2', '--hidden', '16', '--epochs', '3', '--noise', 'none', '--score-samples', '1'];

interface Summary {
  threshold: { spec: string; value: number; how: string };
  flagged: number;
  firstFlagged: string[];
  methods: Array<{ method: string; auroc?: number; flagged: number }>;
}

/** scores.csv's rows (id, score, flagged, label) and anomaly.json, after checking that the flags are the scores above the threshold. */
function decisions(dir: string): { rows: Array<{ id: string; score: number; flagged: boolean; label: string }>; summary: Summary } {
  const lines = readFileSync(join(dir, 'scores.csv'), 'utf8').trim().split('\n');
  assert.equal(lines[0], 'id,score,flagged,label');
  const rows = lines.slice(1).map((l) => {
    const [id, score, flagged, label] = l.split(',');
    return { id: id!, score: Math.fround(Number(score)), flagged: flagged === '1', label: label! };
  });
  const summary = JSON.parse(readFileSync(join(dir, 'anomaly.json'), 'utf8')) as Summary;
  // The CSV keeps float32 scores (the shortest decimal that reads back as one): a score that rounds onto the threshold may go either way.
  const t = Math.fround(summary.threshold.value);
  for (const r of rows) if (r.score !== t) assert.equal(r.flagged, r.score > t, `row ${r.id}: score ${r.score}, threshold ${t}`);
  assert.equal(rows.filter((r) => r.flagged).length, summary.flagged);
  assert.deepEqual(summary.firstFlagged, rows.filter((r) => r.flagged).slice(0, 20).map((r) => r.id));
  return { rows, summary };
}

const model = at('model');

test('a run that trains takes the threshold on its validation split; --baselines adds PCA and isolation forest rows', () => {
  const said = ok(['anomaly', '--data', trainCsv, '--test-data', testCsv, '--label-column', 'outlier', ...SMALL, '--threshold', 'fpr:0.05', '--baselines', '--out', model]);
  const { summary } = decisions(model);
  assert.equal(summary.threshold.spec, 'fpr:0.05');
  assert.match(summary.threshold.how, /^the lowest threshold that flags at most 5% of \d+ scores of the validation split's class no examples, which the model never trained on$/);
  assert.match(said, new RegExp(`VAE flags ${summary.flagged} of 600 above `));
  assert.match(said, /\| method \| AUROC \| AUPRC \| threshold \| flagged \| precision \| recall \| F1 \|/);
  assert.match(said, /\| PCA \| \d\.\d{3} \| \d\.\d{3} \| /);
  assert.match(said, /\| isolation forest \| \d\.\d{3} \| \d\.\d{3} \| /);
  assert.match(said, /Best by AUPRC: /);
  assert.deepEqual(summary.methods.map((m) => m.method), ['VAE', 'PCA', 'isolation forest']);
  assert.match(readFileSync(join(model, 'anomaly.md'), 'utf8'), /\| isolation forest \|/);
});

test('with --model, quantile, fpr, a number and pot each flag the scores above their threshold, taken on the scored examples labelled normal', () => {
  const counts: Record<string, number> = {};
  for (const spec of ['quantile:0.95', 'fpr:0.05', '12.5', 'pot:0.01']) {
    const out = at(`scored-${spec}`);
    const said = ok(['anomaly', '--model', model, '--data', testCsv, '--label-column', 'outlier', '--score-samples', '1', '--threshold', spec, '--out', out]);
    const { rows, summary } = decisions(out);
    counts[spec] = summary.flagged;
    assert.equal(rows.length, 600);
    assert.match(said, new RegExp(`VAE flags ${summary.flagged} of 600 above `));
    const normal = rows.filter((r) => r.label === 'no').map((r) => r.score);
    assert.equal(normal.length, 580);
    if (spec === '12.5') {
      assert.equal(summary.threshold.value, 12.5);
      assert.equal(summary.threshold.how, 'the number given (12.5)');
    } else {
      assert.match(summary.threshold.how, /of 580 scores of the scored examples labelled normal \(class no\)/);
    }
    // fpr: at most 5% of the normal scores above it (29 of 580), and no lower threshold does so.
    if (spec === 'fpr:0.05') assert.ok(normal.filter((s) => s > Math.fround(summary.threshold.value)).length <= 29);
    if (spec === 'quantile:0.95') {
      const above = normal.filter((s) => s > Math.fround(summary.threshold.value)).length;
      assert.ok(Math.abs(above - 0.05 * 580) <= 1, `${above} normal scores above the 0.95-quantile`);
    }
    if (spec === 'pot:0.01') assert.match(summary.threshold.how, /^peaks over threshold at risk 0\.01: a generalized Pareto tail/);
  }
  assert.ok(counts['quantile:0.95']! >= counts['fpr:0.05']! - 1, JSON.stringify(counts));
});

test('--baselines with --model fits on --data and scores --test-data: AUROCs as the library recomputes them', () => {
  const out = at('with-baselines');
  const said = ok(['anomaly', '--model', model, '--data', trainCsv, '--test-data', testCsv, '--label-column', 'outlier', '--score-samples', '1', '--baselines', '--out', out]);
  const { summary } = decisions(out);
  const bundle = loadBundle(model);
  const prepare = async (path: string): Promise<ReturnType<typeof prepareForModel>> => prepareForModel(bundle.data, await loadData(path, 'test', { labelColumn: 'outlier' }), false);
  return (async () => {
    const train = await prepare(trainCsv);
    const scored = await prepare(testCsv);
    const isAnomaly = Array.from(scored.labels!, (y) => scored.labelNames![y] === 'yes');
    const pca = auroc(fitPca(datasetRows(train), 4).score(datasetRows(scored)), isAnomaly);
    const forest = auroc(fitIsolationForest(datasetRows(train), 4, { seed: 0 }).score(datasetRows(scored)), isAnomaly);
    const byName = new Map(summary.methods.map((m) => [m.method, m.auroc]));
    assert.ok(Math.abs(byName.get('PCA')! - pca) < 1e-12, `PCA AUROC ${byName.get('PCA')} vs ${pca}`);
    assert.ok(Math.abs(byName.get('isolation forest')! - forest) < 1e-12, `isolation forest AUROC ${byName.get('isolation forest')} vs ${forest}`);
    assert.match(said, new RegExp(`\\| PCA \\| ${pca.toFixed(3)} \\|`));
    assert.match(said, new RegExp(`\\| isolation forest \\| ${forest.toFixed(3)} \\|`));
  })();
});

test('a text model: --baselines adds the bag-of-words unigram row, fitted on --data', () => {
  const rng = new Random(3);
  const words = ['the cat', 'a dog', 'my friend'];
  const verbs = ['sees', 'likes', 'finds'];
  const things = ['the ball', 'a tree', 'the river'];
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  const sentence = (): string => `${pick(words)} ${pick(verbs)} ${pick(things)} .`;
  const corpus = at('corpus.txt');
  writeFileSync(corpus, `${Array.from({ length: 200 }, sentence).join('\n')}\n`);
  const lm = at('lm');
  ok(['train', '--data', corpus, '--preset', 'text-lm', '--decoder-hidden', '16', '--embedding', '8', '--batch-size', '32', '--epochs', '1', '--out', lm]);
  const mixed = at('mixed.csv');
  const rows = ['text,kind', ...Array.from({ length: 20 }, () => `${sentence()},normal`), ...Array.from({ length: 6 }, () => 'zebra quantum tuba ., odd'.replace(', ', ',')), 'the cat sees the river river river river .,odd'];
  writeFileSync(mixed, `${rows.join('\n')}\n`);
  const out = at('text-scored');
  const said = ok(['anomaly', '--model', lm, '--data', corpus, '--test-data', mixed, '--text-column', 'text', '--label-column', 'kind', '--normal-class', 'normal', '--baselines', '--threshold', 'quantile:0.9', '--out', out]);
  assert.match(said, /\| language model \| \d\.\d{3} \|/);
  assert.match(said, /\| bag-of-words unigram \| \d\.\d{3} \|/);
  const header = readFileSync(join(out, 'scores.csv'), 'utf8').split('\n')[0];
  assert.equal(header, 'id,score,flagged,text,label');
  const summary = JSON.parse(readFileSync(join(out, 'anomaly.json'), 'utf8')) as Summary;
  assert.match(summary.threshold.how, /^the 0\.9-quantile of 20 scores of the scored examples labelled normal \(class normal\)$/);
  return (async () => {
    const bundle = textModelAt(lm)!;
    const train = await readTextForModel(bundle, corpus);
    const scored = await readTextForModel(bundle, mixed, { textColumn: 'text', labelColumn: 'kind' });
    const want = auroc(fitUnigram(train).score(scored), Array.from(scored.labels!, (y) => scored.labelNames![y] === 'odd'));
    const got = summary.methods.find((m) => m.method === 'bag-of-words unigram')!.auroc!;
    assert.ok(Math.abs(got - want) < 1e-12, `unigram AUROC ${got} vs ${want}`);
  })();
});

test('bad --threshold strings, --baselines without training data and --point-adjust are refused in one sentence, nothing written', () => {
  const out = at('refused');
  const files = ['scores.csv', 'anomaly.json', 'anomaly.md', 'score-histogram.png'].map((f) => join(out, f));
  const base = ['anomaly', '--model', model, '--data', testCsv, '--label-column', 'outlier', '--out', out];
  refused([...base, '--threshold', 'quantile:1.5'], /A threshold must be a number, quantile:Q, fpr:F or pot:RISK\[:LEVEL\], .* not "quantile:1\.5"\./, files);
  refused([...base, '--threshold', 'top:5'], /A threshold must be .* not "top:5"\./, files);
  refused([...base, '--threshold', 'pot:0.05'], /A POT risk must be below 1 - LEVEL \(0\.02\)/, files);
  refused([...base, '--baselines'], /^error: --baselines with --model needs the data the model trained on to fit them: give it as --data and the data to score as --test-data\.$/, files);
  refused([...base, '--point-adjust'], /^error: --point-adjust applies to time series, whose anomalies are ranges of points/, files);
  // POT needs hundreds of normal scores: 20 scored rows are refused before scoring.
  const few = at('few.csv');
  writeFileSync(few, `${readFileSync(testCsv, 'utf8').trim().split('\n').slice(0, 21).join('\n')}\n`);
  refused(['anomaly', '--model', model, '--data', few, '--label-column', 'outlier', '--threshold', 'pot:0.01', '--out', out], /POT at level 0\.98 needs about 501 scored examples labelled normal .* and there are 19: /, files);
});
