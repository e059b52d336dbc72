// Issue 18: which example each output row is (ids through sources, subsets and splits, an id column
// in encode's CSV and anomaly's scores.csv), and one-class anomaly runs that never score a row they
// trained on. Run through the real CLI (from the sources) on tiny data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { arrayDataset, exampleId, subset, takeFirst } from '../src/data/dataset.js';
import { loadData } from '../src/data/load.js';
import { holdOut, splitValidation } from '../src/data/split.js';
import { standardize, fitStandardization } from '../src/data/transforms/standardize.js';
import { Random } from '../src/engine/random.js';
import { cliChecks, vaekitFromSources } from './helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'vaekit-ids-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const { ok } = cliChecks((args) => vaekitFromSources(args));
const ids = (set: { count: number }, of: Parameters<typeof exampleId>[0]): string[] => Array.from({ length: set.count }, (_, i) => exampleId(of, i));

test('ids: an image folder\'s paths, a CSV\'s data rows, else the index; kept by subsets, splits, takeFirst and standardization', async () => {
  const folder = join(work, 'shapes');
  for (const [cls, files] of [['cat', ['b.png', 'a.png']], ['dog', ['c.png']]] as const) {
    mkdirSync(join(folder, cls), { recursive: true });
    for (const f of files) await sharp(Buffer.alloc(4 * 4 * 3, 90), { raw: { width: 4, height: 4, channels: 3 } }).png().toFile(join(folder, cls, f));
  }
  const images = await loadData(folder, 'train');
  assert.deepEqual(ids(images, images), ['cat/a.png', 'cat/b.png', 'dog/c.png']);
  assert.deepEqual(ids({ count: 2 }, subset(images, [2, 0])), ['dog/c.png', 'cat/a.png']);

  const csv = join(work, 'rows.csv');
  writeFileSync(csv, 'a,b\n1,2\n\n3,4\n5,6\n7,8\n');
  const table = await loadData(csv, 'train');
  assert.deepEqual(ids(table, table), ['1', '2', '3', '4'], 'data rows, 1-based, blank lines not counted');
  const standardized = standardize(table, fitStandardization(table));
  assert.deepEqual(ids(standardized, standardized), ['1', '2', '3', '4']);
  assert.deepEqual(ids({ count: 2 }, takeFirst(table, 2)), ['1', '2']);

  const plain = arrayDataset({ values: new Float32Array(10), shape: [1], source: 'ten' });
  assert.deepEqual(ids(plain, plain).slice(0, 3), ['0', '1', '2'], 'NPY, IDX, MNIST: the index');
  const { train, validation } = splitValidation(plain, 0.3, 1);
  const { train: kept, heldOut } = holdOut(train, 0.5, 1);
  const seen = [...ids(validation, validation), ...ids(kept, kept), ...ids(heldOut, heldOut)].map(Number).sort((a, b) => a - b);
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'every example once: the parts are disjoint and their ids are the original indices');
  assert.match(heldOut.source, /held-out part/);
});

/** A CSV of `n` rows: class "a" (80%) near the origin, class "b" far from it; returns the path and each data row's class. */
function twoClassCsv(n: number): { path: string; classOf: string[] } {
  const rng = new Random(5);
  const lines = ['f0,f1,f2,f3,kind'];
  const classOf: string[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 5 === 3 ? 'b' : 'a';
    classOf.push(kind);
    lines.push([...Array.from({ length: 4 }, () => ((kind === 'b' ? 4 : 0) + rng.normal()).toFixed(4)), kind].join(','));
  }
  const path = join(work, 'two-class.csv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { path, classOf };
}

test('anomaly --normal-class without --test-data scores a seeded held-out part, never a training row; ids say which rows', () => {
  const n = 200;
  const { path, classOf } = twoClassCsv(n);
  const out = join(work, 'one-class');
  const small = ['--epochs', '1', '--hidden', '8', '--latent', '2', '--noise', 'none', '--score-samples', '1'];
  const said = ok(['anomaly', '--data', path, '--label-column', 'kind', '--normal-class', 'a', ...small, '--out', out]);
  assert.match(said, /Scoring a held-out 20% of .*two-class\.csv \(40 examples, drawn with seed \d+\) that no model trains on/);
  const rows = readFileSync(join(out, 'class-a', 'scores.csv'), 'utf8').trim().split('\n');
  assert.equal(rows[0], 'id,score,flagged,label');
  const scored = rows.slice(1).map((r) => r.split(','));
  assert.equal(scored.length, 40);
  for (const [id, , , label] of scored) assert.equal(label, classOf[Number(id) - 1], `row ${id}'s label: the id is the data row`);
  const scoredIds = new Set(scored.map(([id]) => id));
  assert.equal(scoredIds.size, 40);
  // The model trained on every row of class a that was not scored: none scored was trained on.
  const trained = (JSON.parse(readFileSync(join(out, 'anomaly.json'), 'utf8')) as { results: Array<{ trainExamples: number }> }).results[0]!.trainExamples;
  const normalRows = classOf.filter((k) => k === 'a').length;
  const normalScored = scored.filter(([, , , label]) => label === 'a').length;
  assert.equal(trained + normalScored, normalRows, `${trained} trained + ${normalScored} scored of ${normalRows} rows of class a`);

  // encode: the same table, an id column first, one row per data row in the file's order.
  const codes = join(work, 'codes.csv');
  ok(['encode', '--model', join(out, 'class-a'), '--data', path, '--label-column', 'kind', '--out', codes]);
  const lines = readFileSync(codes, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'id,z0,z1,label');
  assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), Array.from({ length: n }, (_, i) => String(i + 1)));
});
