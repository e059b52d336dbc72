// Time series larger than memory (issue 22): past data.memoryBudget a series' arrays are made in
// scratch files mapped into memory (src/io/mapped.ts) instead of the heap. The series read in memory
// is the oracle: the same times, values, masks and labels bit for bit, the same windows, the same
// training and the same scores; and the budget holds for what stays in memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSeries, type Series } from '../src/data/sources/series.js';
import { seriesWindows } from '../src/data/transforms/windows.js';
import { Random } from '../src/engine/random.js';
import { isMapped } from '../src/io/mapped.js';
import { encodeNpy } from '../src/io/npy.js';
import { dataFingerprint, planRun } from '../src/run/plan.js';
import { trainRun } from '../src/run/train-run.js';
import { assertSameRun } from './helpers/runs.js';
import { cliChecks, vaekitFromSources } from './helpers/cli.js';
import { writeLabelledSeries } from './helpers/series.js';
import { sameBits } from './helpers/assert-close.js';

const tmp = mkdtempSync(join(tmpdir(), 'vaekit-series-disk-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const at = (...p: string[]): string => join(tmp, ...p);

type Arrays = Pick<Series, 'timestamps' | 'values' | 'mask'> & { labels: Uint8Array | null };
const arraysOf = (s: Series): Array<[string, Arrays[keyof Arrays]]> => [['timestamps', s.timestamps], ['values', s.values], ['mask', s.mask], ['labels', s.labels]];

/** readSeries on disk (a budget of 0 bytes) gives the series it gives in memory, bit for bit, every array mapped; returns both. */
function assertSameOnDisk(path: string, options: Parameters<typeof readSeries>[1] = {}): { disk: Series[]; memory: Series[] } {
  const lines: string[] = [];
  const disk = readSeries(path, { ...options, memoryBudget: 0, report: (line) => lines.push(line) });
  const memory = readSeries(path, { ...options, memoryBudget: Infinity });
  assert.match(lines[0]!, /its series take more than the memory budget of 0 bytes \(data\.memoryBudget\), so they are held in temporary files on disk, read in as windows need them\.$/);
  assert.equal(disk.length, memory.length);
  disk.forEach((d, i) => {
    const m = memory[i]!;
    assert.deepEqual([d.name, d.time, d.channels], [m.name, m.time, m.channels]);
    for (const [[name, a], [, b]] of arraysOf(d).map((x, k) => [x, arraysOf(m)[k]!] as const)) {
      if (a === null || b === null) {
        assert.equal(a, b, name);
        continue;
      }
      assert.equal(a.constructor, b.constructor, name);
      assert.ok(sameBits(a, b), `${name} differ`);
      assert.ok(isMapped(a), `${name} on disk`);
      assert.ok(!isMapped(b), `${name} in memory`);
    }
  });
  return { disk, memory };
}

test('a CSV series past the budget is held on disk: the same times, values, masks and labels as in memory, and the same windows', () => {
  const path = at('dates.csv');
  const rows = ['time,a,b,label'];
  // 2,500 points: past the CSV reader's first 1,024 rows, so its arrays grow on disk; a and b miss values.
  for (let t = 0; t < 2500; t++) rows.push(`${new Date(Date.UTC(2022, 0, 1) + t * 60_000).toISOString()},${t % 7 === 0 ? '' : Math.sin(t / 9).toFixed(5)},${t % 11 === 3 ? 'NA' : (t % 13) - 6},${t % 97 === 0 ? 1 : 0}`);
  writeFileSync(path, `${rows.join('\n')}\n`);
  const { disk, memory } = assertSameOnDisk(path, { timeColumn: 'time', labelColumn: 'label' });
  const cut = { window: 24, stride: 3, trainUntil: 0.6 };
  const d = seriesWindows(disk, cut);
  const m = seriesWindows(memory, cut);
  assert.deepEqual(d.standardization, m.standardization);
  assert.ok(isMapped(d.all.series!.starts) && !isMapped(m.all.series!.starts), 'the windows\' starts are where the series are');
  for (const [a, b] of [[d.train, m.train], [d.all, m.all]] as const) {
    assert.equal(a.count, b.count);
    const order = Uint32Array.from({ length: a.count }, (_, i) => i);
    new Random(4).shuffle(order);
    const rowsA = new Float32Array(a.count * a.size);
    const rowsB = new Float32Array(b.count * b.size);
    a.gather(order, 0, a.count, rowsA);
    b.gather(order, 0, b.count, rowsB);
    assert.ok(sameBits(rowsA, rowsB), 'the windows differ');
    assert.deepEqual(a.labels, b.labels);
    // After the shuffled pass (told to the system as such, its windows asked for ahead), a pass in order.
    assert.equal(dataFingerprint(a), dataFingerprint(b), 'the windows in order differ');
  }
});

test('an NPY series on disk is read a chunk at a time: the same values across a chunk\'s end, and a bad value named at its point', () => {
  // 600,000 points of 2 float64 channels: 9.6 MB, past the reader's 8 MB chunk.
  const T = 600_000;
  const data = new Float64Array(T * 2);
  for (let i = 0; i < data.length; i++) data[i] = i % 1001 === 0 ? NaN : Math.sin(i / 1000) * 100 + i / 7;
  const path = at('long.npy');
  writeFileSync(path, encodeNpy({ dtype: 'float64', shape: [T, 2], data }));
  const { disk } = assertSameOnDisk(path);
  assert.equal(disk[0]!.values[1_048_577], Math.fround(data[1_048_577]!));
  data[1_100_001] = Infinity;
  writeFileSync(path, encodeNpy({ dtype: 'float64', shape: [T, 2], data }));
  for (const memoryBudget of [0, Infinity]) {
    assert.throws(() => readSeries(path, { memoryBudget }), { message: `${path}: point 550000, channel 1 holds Infinity; a value must be a finite number, or NaN where missing.` });
  }
});

test('resampled series, and a folder of series, are held on disk as in memory', () => {
  const irregular = at('irregular.csv');
  // Steps of 10 with two gaps: resampling adds missing points.
  const times = Array.from({ length: 300 }, (_, t) => 10 * t + (t > 100 ? 30 : 0) + (t > 200 ? 50 : 0));
  writeFileSync(irregular, `t,x\n${times.map((t, i) => `${t},${Math.cos(i / 5).toFixed(4)}`).join('\n')}\n`);
  const { disk } = assertSameOnDisk(irregular, { timeColumn: 't', resample: true });
  assert.equal(disk[0]!.timestamps.length, 308);
  const folder = at('folder');
  mkdirSync(folder);
  for (const [k, n] of [[1, 50], [2, 1500], [3, 80]] as const) {
    writeFileSync(join(folder, `s${k}.csv`), `x,y\n${Array.from({ length: n }, (_, t) => `${(t * k) % 17},${t % 5 === k ? 'nan' : t / n}`).join('\n')}\n`);
  }
  assertSameOnDisk(folder);
});


test('without the native addon, series past the budget are read into memory all the same, with a line that says why', () => {
  // A copy of the sources with no build/ beside it: loadNativeAddon finds no addon there.
  const copy = at('no-addon');
  cpSync(join(import.meta.dirname, '..', 'src'), join(copy, 'src'), { recursive: true });
  symlinkSync(join(import.meta.dirname, '..', 'node_modules'), join(copy, 'node_modules'));
  writeFileSync(join(copy, 'package.json'), '{ "type": "module" }\n');
  const path = at('no-addon.csv');
  writeFileSync(path, `t,x,y\n${Array.from({ length: 1500 }, (_, t) => `${t},${Math.sin(t / 7).toFixed(4)},${t % 9 === 0 ? '' : t % 5}`).join('\n')}\n`);
  const read = `const { readSeries } = await import('./src/data/sources/series.ts');
    const [s] = readSeries(${JSON.stringify(path)}, { timeColumn: 't', memoryBudget: 0, report: (line) => console.log(line) });
    const bytes = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
    console.log(JSON.stringify([bytes(s.timestamps), bytes(s.values), bytes(s.mask)]));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', read], { cwd: copy, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /no-addon\.csv: its series take more than the memory budget of 0 bytes \(data\.memoryBudget\), but the native addon is not loaded \(.*vaekit\.node is missing .*\), so they are read into memory all the same\.$/);
  const [memory] = readSeries(path, { timeColumn: 't', memoryBudget: Infinity });
  const b64 = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
  assert.deepEqual(JSON.parse(lines.at(-1)!), [b64(memory!.timestamps), b64(memory!.values), b64(memory!.mask)]);
});

test('a folder of many short series on disk shares a few mappings (the system allows about 65,530), and reads as in memory', { skip: process.platform !== 'linux' && 'counts the mappings in /proc/self/maps' }, () => {
  const folder = at('many');
  mkdirSync(folder);
  for (let k = 0; k < 400; k++) writeFileSync(join(folder, `s${String(k).padStart(3, '0')}.csv`), `t,x,y\n${Array.from({ length: 40 + (k % 9) }, (_, t) => `${t},${(t * k) % 13},${t % 4 === 0 ? '' : k / (t + 1)}`).join('\n')}\n`);
  const mappings = (): number => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((line) => line.includes('vaekit-')).length;
  const before = mappings();
  const { disk } = assertSameOnDisk(folder, { timeColumn: 't' });
  // 400 series of three arrays each, grown from the CSV reader's first 1,024 rows: a file and a
  // mapping each would be 1,200 or more. Their 7 MB of room fits a slab of 16 MB (or the rest of
  // one that earlier tests began, and one more).
  const made = mappings() - before;
  assert.ok(made <= 2, `${made} mappings for 400 series`);
  assert.equal(disk.length, 400);
});
test('the budget holds what stays in memory: series read while they fit stay there, and from the first array that would not fit on they go to disk', () => {
  const folder = at('budget');
  mkdirSync(folder);
  for (const k of [1, 2, 3]) writeFileSync(join(folder, `s${k}.csv`), `x,y\n${Array.from({ length: 100 }, (_, t) => `${t % (k + 3)},${(t * k) % 7}`).join('\n')}\n`);
  const inMemory = (series: Series[]): number => series.flatMap((s) => arraysOf(s).map(([, a]) => a)).reduce((n, a) => n + (a === null || isMapped(a) ? 0 : a.byteLength), 0);
  const memory = readSeries(folder, { memoryBudget: Infinity });
  // Each file's reader starts with room for 1,024 times (8 KB) and values (4 KB), then keeps 100 points:
  // 800 + 800 + 200 bytes. A budget of 13,000 bytes fits the first series and the second's times, not its values.
  const lines: string[] = [];
  const split = readSeries(folder, { memoryBudget: 13_000, report: (line) => lines.push(line) });
  assert.equal(lines.filter((l) => /held in temporary files on disk/.test(l)).length, 1);
  assert.ok(inMemory(split) <= 13_000, `${inMemory(split)} bytes in memory`);
  assert.deepEqual(arraysOf(split[0]!).map(([, a]) => a !== null && isMapped(a)), [false, false, false, false]);
  assert.deepEqual(arraysOf(split[1]!).map(([, a]) => a !== null && isMapped(a)), [false, true, true, false]);
  assert.deepEqual(arraysOf(split[2]!).map(([, a]) => a !== null && isMapped(a)), [true, true, true, false]);
  split.forEach((s, i) => {
    for (const [k, [name, a]] of arraysOf(s).entries()) {
      const b = arraysOf(memory[i]!)[k]![1];
      assert.ok(a === null ? b === null : sameBits(a, b!), `${name} of ${s.name}`);
    }
  });
});

test('a series run held on disk trains as in memory: the same fingerprint, epochs and weights', async () => {
  const path = at('labelled.csv');
  writeLabelledSeries(path);
  const spec = (memoryBudget: number | null) => ({
    data: { source: path, timeColumn: 'time', valueColumns: ['a', 'b'], window: 12, memoryBudget },
    model: { preset: 'mlp' as const, encoderHidden: [16], decoderHidden: [16], latent: 3 },
    training: { epochs: 2, batchSize: 32 },
    seed: 5,
  });
  const diskPlan = await planRun(spec(0));
  const memoryPlan = await planRun(spec(null));
  assert.equal(diskPlan.fingerprint, memoryPlan.fingerprint);
  assert.ok(isMapped(diskPlan.train.series!.starts), 'the training windows are on disk');
  assertSameRun(await trainRun(memoryPlan, { folder: null }), await trainRun(diskPlan, { folder: null }));
});

test('vaekit anomaly with --memory-budget scores series held on disk as in memory', () => {
  const { ok } = cliChecks((args) => vaekitFromSources(args, 120_000));
  const data = at('cli.csv');
  writeLabelledSeries(data);
  const args = (out: string): string[] => ['anomaly', '--data', data, '--time-column', 'time', '--label-column', 'label', '--window', '12', '--preset', 'mlp', '--hidden', '16', '--latent', '3', '--epochs', '2', '--batch-size', '32', '--out', out];
  const stdout = ok([...args(at('disk')), '--memory-budget', '1KB']);
  assert.match(stdout, /cli\.csv: its series take more than the memory budget of 1000 bytes \(--memory-budget\), so they are held in temporary files on disk/);
  ok(args(at('memory')));
  assert.equal(readFileSync(at('disk', 'scores.csv'), 'utf8'), readFileSync(at('memory', 'scores.csv'), 'utf8'));
});

test('a series that cannot have its temporary files is refused in one sentence', () => {
  const data = at('refused.csv');
  writeLabelledSeries(data);
  // A temporary folder below a file: no scratch file can be made there (tsx, which makes its own
  // cache folder in TMPDIR, rules out a CLI child with a missing one).
  writeFileSync(at('a-file'), '');
  const saved = process.env['TMPDIR'];
  process.env['TMPDIR'] = at('a-file', 'tmp');
  try {
    assert.throws(() => readSeries(data, { timeColumn: 'time', memoryBudget: 0 }), {
      name: 'VaekitError',
      message: `Cannot hold ${data} on disk: its times need a temporary file in ${at('a-file', 'tmp')}, and a parent of the path is a file, not a folder.`,
    });
  } finally {
    if (saved === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = saved;
  }
});
