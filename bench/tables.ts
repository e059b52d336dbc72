// One-class anomaly detection on a real table: the Wisconsin diagnostic breast-cancer data (569
// rows, 30 features, 357 benign and 212 malignant), to choose the Gaussian likelihood's default for
// tables. The data is not in this repository and nothing is downloaded: give the file's path.
//
//   node --import tsx bench/tables.ts FILE [--seeds 5] [--epochs 10] [--only NAME,NAME]
//   node --import tsx bench/tables.ts clusters [--seeds 5] [--only NAME,NAME]
//
// FILE is either copy of the data:
//   - scikit-learn's sklearn/datasets/data/breast_cancer.csv (first line "569,30,malignant,benign",
//     then 30 features and the target, 0 malignant and 1 benign); it is in every scikit-learn install;
//   - the UCI Machine Learning Repository's wdbc.data (ID, M or B, 30 features; CC BY 4.0).
//
// The protocol: for each seed s, the benign rows are shuffled by s and split 60/40; `vaekit anomaly
// --normal-class benign` trains on the 60% (214 rows) and scores the other 40% (143) with all 212
// malignant rows, which are the anomalies; the AUROC is read from its anomaly.json. Every setting
// runs with --seed s too, so a seed changes both the split and the training. Each setting is the
// CLI's defaults plus its flags; the table goes to stdout as Markdown, with the CPU.
//
// `clusters` runs the same settings on test/own-data.test.ts's planted-outlier table instead (3,000
// rows, 20 correlated features, 30 outliers; test/helpers/clusters.ts), as that test does: one
// `vaekit anomaly --latent 4 --hidden 64 --epochs 20 --noise none` on the whole table, with --seed s.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../src/engine/random.js';
import { vaekitFromSources } from '../test/helpers/cli.js';
import { clustersTable } from '../test/helpers/clusters.js';

const BASE = ['radius', 'texture', 'perimeter', 'area', 'smoothness', 'compactness', 'concavity', 'concave_points', 'symmetry', 'fractal_dimension'];
/** The 30 columns in the data's order: the mean of each of the 10 measures, their standard errors, their worst values. */
export const FEATURES = ['mean', 'se', 'worst'].flatMap((kind) => BASE.map((b) => `${b}_${kind}`));

export interface Row { features: number[]; benign: boolean }

/** The 569 rows of either copy of the data (see the top of this file). */
export function readBreastCancer(path: string): Row[] {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const sklearn = /^569,30,malignant,benign/.test(lines[0]!);
  const rows: Row[] = [];
  for (const line of sklearn ? lines.slice(1) : lines) {
    const cells = line.split(',').map((c) => c.trim());
    if (!sklearn && cells[1] !== 'M' && cells[1] !== 'B') continue; // a header line some copies add
    const values = (sklearn ? cells.slice(0, 30) : cells.slice(2, 32)).map(Number);
    if (values.length !== 30 || values.some((v) => !Number.isFinite(v))) throw new Error(`${path}: a row without 30 numbers: ${line.slice(0, 60)}`);
    rows.push({ features: values, benign: sklearn ? cells[30] === '1' : cells[1] === 'B' });
  }
  const benign = rows.filter((r) => r.benign).length;
  if (rows.length !== 569 || benign !== 357) throw new Error(`${path} holds ${rows.length} rows (${benign} benign), not the 569 (357 benign) of the Wisconsin diagnostic data.`);
  return rows;
}

function csv(rows: Row[]): string {
  return [[...FEATURES, 'diagnosis'].join(','), ...rows.map((r) => [...r.features, r.benign ? 'benign' : 'malignant'].join(','))].join('\n') + '\n';
}

/** The training and test tables of one seed: 60% of the benign rows, and the rest with every malignant row. */
export function splitBySeed(rows: Row[], seed: number): { train: Row[]; test: Row[] } {
  const order = rows.flatMap((r, i) => (r.benign ? [i] : []));
  const indices = Uint32Array.from(order);
  new Random(seed).shuffle(indices);
  const benign = Array.from(indices, (i) => rows[i]!);
  const cut = Math.round(0.6 * benign.length);
  return { train: benign.slice(0, cut), test: [...benign.slice(cut), ...rows.filter((r) => !r.benign)] };
}

const SETTINGS: Array<{ name: string; flags: string[] }> = [
  { name: 'defaults', flags: [] },
  ...['0.1', '0.5', '1', '2', '4'].map((s) => ({ name: `--sigma ${s}`, flags: ['--sigma', s] })),
  ...['0.1', '1', '2'].map((s) => ({ name: `--learned-variance --sigma ${s}`, flags: ['--learned-variance', '--sigma', s] })),
];

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}

const args = process.argv.slice(2);
const file = args[0];
if (file === undefined || file.startsWith('--')) {
  console.error('usage: node --import tsx bench/tables.ts FILE|clusters [--seeds N] [--epochs N] [--only NAME,NAME]   (FILE: breast_cancer.csv from scikit-learn, or UCI wdbc.data)');
  process.exit(1);
}
const seeds = Number(option(args, '--seeds', '5'));
const clusters = file === 'clusters';
const epochs = option(args, '--epochs', clusters ? '20' : '10');
const only = option(args, '--only', '').split(',').filter((x) => x !== '');
const rows = clusters ? [] : readBreastCancer(file);
const dir = mkdtempSync(join(tmpdir(), 'vaekit-bench-tables-'));
const results: Array<{ name: string; aurocs: number[] }> = [];
try {
  if (clusters) writeFileSync(join(dir, 'clusters.csv'), `${clustersTable().lines.join('\n')}\n`);
  for (const s of SETTINGS.filter((x) => only.length === 0 || only.includes(x.name))) {
    const aurocs: number[] = [];
    for (let seed = 0; seed < seeds; seed++) {
      const out = join(dir, `run-${seed}`);
      let cmd: string[];
      if (clusters) {
        cmd = ['anomaly', '--data', join(dir, 'clusters.csv'), '--label-column', 'outlier', '--latent', '4', '--hidden', '64', '--noise', 'none'];
      } else {
        const { train, test } = splitBySeed(rows, seed);
        writeFileSync(join(dir, 'train.csv'), csv(train));
        writeFileSync(join(dir, 'test.csv'), csv(test));
        cmd = ['anomaly', '--data', join(dir, 'train.csv'), '--test-data', join(dir, 'test.csv'), '--label-column', 'diagnosis', '--normal-class', 'benign'];
      }
      cmd.push('--epochs', epochs, '--seed', String(seed), '--out', out, '--overwrite', ...s.flags);
      const r = vaekitFromSources(cmd);
      if (r.status !== 0) throw new Error(`vaekit ${cmd.join(' ')} failed:\n${r.stderr}`);
      // One-class runs write their results list; a run on the whole table, its AUROC.
      const summary = JSON.parse(readFileSync(join(out, 'anomaly.json'), 'utf8')) as { results?: Array<{ auroc: number }>; auroc?: number };
      aurocs.push(summary.results?.[0]?.auroc ?? summary.auroc!);
      rmSync(out, { recursive: true, force: true });
    }
    results.push({ name: s.name, aurocs });
    console.error(`${s.name}: ${aurocs.map((a) => (100 * a).toFixed(2)).join(' ')}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores); ${epochs} epochs; seeds 0..${seeds - 1}; data ${file}`);
console.log('| settings (with the defaults of `vaekit anomaly`) | mean AUROC | min | max | per seed |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of results) {
  const mean = r.aurocs.reduce((a, b) => a + b, 0) / r.aurocs.length;
  console.log(`| ${r.name} | ${pct(mean)} | ${pct(Math.min(...r.aurocs))} | ${pct(Math.max(...r.aurocs))} | ${r.aurocs.map((a) => (100 * a).toFixed(1)).join(' ')} |`);
}
