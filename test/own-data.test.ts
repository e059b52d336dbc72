// The user's own data through the vaekit command, end to end, on data the tests make: a folder of
// coloured shapes in class subfolders (a conditional conv VAE that draws the class it is asked
// for, by name), a JPEG folder, NPY arrays with labels, a CSV table with planted outliers (anomaly
// AUROC, latent codes); and every kind of bad data ending in one line, exit 1 and nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Random } from '../src/engine/random.js';
import { encodeNpy, parseNpy } from '../src/io/npy.js';
import { cliChecks, twoClassNpy, type CliResult } from './helpers/cli.js';
import { clustersTable } from './helpers/clusters.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'vaekit.js');
const work = mkdtempSync(join(tmpdir(), 'vaekit-own-'));
// VAEKIT_TEST_KEEP=1 keeps the data and models for a look.
process.on('exit', () => { if (process.env['VAEKIT_TEST_KEEP'] === undefined) rmSync(work, { recursive: true, force: true }); else console.log(`kept ${work}`); });

function vaekit(args: string[]): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 600_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const { ok, refused } = cliChecks(vaekit);

// ---- coloured shapes -----------------------------------------------------------------------

const SIDE = 16;
const CLASSES = [
  { name: 'blue-square', colour: [0.15, 0.25, 0.95] },
  { name: 'green-disc', colour: [0.1, 0.9, 0.2] },
  { name: 'red-bar', colour: [0.95, 0.15, 0.1] },
] as const;

/** A SIDE x SIDE RGB image (floats in [0, 1], channels-last) of class c's shape at a random place and size. */
function shapeImage(c: number, rng: Random): Float32Array {
  const img = new Float32Array(SIDE * SIDE * 3);
  const cx = 6 + rng.uniform() * 4;
  const cy = 6 + rng.uniform() * 4;
  const r = 3 + rng.uniform() * 2;
  const colour = CLASSES[c]!.colour;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const inside = c === 0 ? Math.max(Math.abs(dx), Math.abs(dy)) <= r : c === 1 ? dx * dx + dy * dy <= r * r : Math.abs(dx) <= 1.5 && Math.abs(dy) <= r + 1.5;
      for (let k = 0; k < 3; k++) img[(y * SIDE + x) * 3 + k] = inside ? colour[k]! : 0.05;
    }
  }
  return img;
}

function bytes(img: Float32Array): Buffer {
  return Buffer.from(Uint8Array.from(img, (v) => Math.round(v * 255)));
}

async function writeImage(path: string, img: Float32Array, side = SIDE, channels = 3): Promise<void> {
  const s = sharp(bytes(img), { raw: { width: side, height: side, channels: channels as 3 } });
  await (path.endsWith('.jpg') ? s.jpeg({ quality: 95 }) : s.png()).toFile(path);
}

const shapes = join(work, 'shapes');
const classMeans = CLASSES.map(() => new Float64Array(SIDE * SIDE * 3));

test('a folder of coloured shapes in class subfolders trains a conditional conv VAE that draws the class named', async () => {
  const rng = new Random(1);
  const perClass = 1000;
  for (let c = 0; c < CLASSES.length; c++) {
    const dir = join(shapes, CLASSES[c]!.name);
    mkdirSync(dir, { recursive: true });
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < perClass; i++) {
      const img = shapeImage(c, rng);
      for (let j = 0; j < img.length; j++) classMeans[c]![j] = classMeans[c]![j]! + img[j]! / perClass;
      writes.push(writeImage(join(dir, `${String(i).padStart(4, '0')}.png`), img));
    }
    await Promise.all(writes);
  }
  const model = join(work, 'shapes-model');
  // A 2-D latent leaves the class to the label (a wider one learns to carry it in z and ignore the label).
  const out = ok(['train', '--data', shapes, '--preset', 'conv', '--conv-channels', '16,32', '--hidden', '64', '--latent', '2', '--conditional',
    '--likelihood', 'gaussian', '--sigma', '0.1', '--noise', 'none', '--epochs', '30', '--batch-size', '32', '--out', model]);
  assert.match(out, /data: 2700 training and 300 validation examples of 16x16 RGB images from /);
  assert.match(out, /label \(3 classes\)/);
  const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as { data: { classNames: string[]; shape: number[] } };
  assert.deepEqual(config.data.classNames, CLASSES.map((c) => c.name));
  assert.deepEqual(config.data.shape, [SIDE, SIDE, 3]);

  for (let c = 0; c < CLASSES.length; c++) {
    const png = join(work, `${CLASSES[c]!.name}.png`);
    const said = ok(['sample', '--model', model, '--label', CLASSES[c]!.name, '--count', '16', '--seed', '3', '--out', png]);
    assert.match(said, new RegExp(`16 samples of class ${CLASSES[c]!.name}`));
    const { info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, 3);
    // The same samples as values (the figure is labelled, so read them from NPY), each judged by the nearest class mean.
    const values = join(work, `${CLASSES[c]!.name}.npy`);
    ok(['sample', '--model', model, '--label', CLASSES[c]!.name, '--count', '16', '--seed', '3', '--out', values]);
    const samples = parseNpy(new Uint8Array(readFileSync(values)), values);
    assert.deepEqual(samples.shape, [16, SIDE, SIDE, 3]);
    assert.ok(samples.data instanceof Float32Array, 'samples are float32');
    let right = 0;
    for (let cell = 0; cell < 16; cell++) {
      const img = Float32Array.from(samples.data.subarray(cell * SIDE * SIDE * 3, (cell + 1) * SIDE * SIDE * 3));
      const distance = classMeans.map((m) => m.reduce((s, v, j) => s + (v - img[j]!) ** 2, 0));
      if (distance.indexOf(Math.min(...distance)) === c) right++;
    }
    assert.ok(right >= 12, `${right} of 16 samples of ${CLASSES[c]!.name} look like their class`);
  }
  refused(['sample', '--model', model, '--label', 'purple-star', '--out', join(work, 'x.png')], /This model has no class "purple-star": use one of "blue-square", "green-disc", "red-bar"/, [join(work, 'x.png')]);
});

test('a JPEG folder (flat, unlabelled) trains and denoises, and figures show its colour images', async () => {
  const dir = join(work, 'jpegs');
  mkdirSync(dir);
  const rng = new Random(2);
  await Promise.all(Array.from({ length: 300 }, (_, i) => writeImage(join(dir, `img${i}.jpg`), shapeImage(i % 3, rng))));
  const model = join(work, 'jpeg-model');
  const out = ok(['train', '--data', dir, '--hidden', '64', '--latent', '8', '--epochs', '2', '--out', model]);
  assert.match(out, /270 training and 30 validation examples of 16x16 RGB images/);
  const denoised = join(work, 'jpeg-denoised.npy');
  ok(['denoise', '--model', model, '--data', dir, '--limit', '10', '--noise', 'salt-and-pepper:0.1', '--out', denoised]);
  const array = parseNpy(new Uint8Array(readFileSync(denoised)), denoised);
  assert.deepEqual(array.shape, [10, SIDE, SIDE, 3]);
  assert.equal(array.dtype, 'float32');
  const figures = join(work, 'jpeg-figures');
  ok(['figures', '--model', model, '--data', dir, '--out', figures]);
  const meta = await sharp(join(figures, 'denoised-examples.png')).metadata();
  assert.equal(meta.channels, 3);
});

test('NPY arrays with a labels file: train, evaluate, encode with labels', () => {
  const n = 600;
  const { x, y: yFile } = twoClassNpy(work, n, 3, 30);
  const model = join(work, 'npy-model');
  const out = ok(['train', '--data', x, '--labels', yFile, '--hidden', '32', '--latent', '2', '--epochs', '5', '--validation', '0.2', '--out', model]);
  assert.match(out, /480 training and 120 validation examples of 8x8 greyscale images/);
  const evalOut = ok(['eval', '--model', model, '--data', x, '--labels', yFile, '--train-data', x, '--samples', '20', '--prior-samples', '0', '--out', join(work, 'npy-eval')]);
  assert.match(evalOut, /\| kNN accuracy from latent means \| (9\d|100)\.\d\d% \(k = 5\) \|/);
  const codes = join(work, 'codes.npy');
  ok(['encode', '--model', model, '--data', x, '--labels', yFile, '--out', codes]);
  assert.deepEqual(parseNpy(new Uint8Array(readFileSync(codes)), codes).shape, [n, 2]);
  const codeLabels = parseNpy(new Uint8Array(readFileSync(join(work, 'codes.labels.npy'))), 'labels');
  assert.deepEqual(Array.from(codeLabels.data as Int32Array).slice(0, 4), [0, 1, 0, 1]);
});

// ---- a table with planted outliers ----------------------------------------------------------

test('a CSV of correlated Gaussian clusters with 1% planted outliers: anomaly AUROC >= 0.95, one code per row', () => {
  const { lines, features: D, outliers } = clustersTable();
  const n = lines.length - 1;
  assert.equal(outliers, 30);
  const csv = join(work, 'clusters.csv');
  writeFileSync(csv, `${lines.join('\n')}\n`);
  const out = join(work, 'anomaly');
  const said = ok(['anomaly', '--data', csv, '--label-column', 'outlier', '--latent', '4', '--hidden', '64', '--epochs', '20', '--noise', 'none', '--out', out]);
  const auroc = Number(/AUROC \(class no normal, the rest anomalies\): (\d+\.\d+)%/.exec(said)?.[1]);
  assert.ok(auroc >= 95, `AUROC ${auroc}%\n${said}`);
  const scores = readFileSync(join(out, 'scores.csv'), 'utf8').trim().split('\n');
  assert.equal(scores.length, n + 1);
  assert.equal(scores[0], 'id,score,flagged,label');
  assert.match(scores[38]!, /^38,[^,]+,[01],yes$/, 'the id is the data row: row 38 is the first planted outlier');

  // The saved model scores the table again: the same scores, from the bundle alone.
  const again = join(work, 'rescored');
  const rescored = ok(['anomaly', '--model', out, '--data', csv, '--label-column', 'outlier', '--out', again]);
  assert.match(rescored, /Scored 3000 examples/);
  // The flags may differ: the run took its threshold on its validation split, --model on the rows labelled normal.
  const scoreColumn = (dir: string): string[] => readFileSync(join(dir, 'scores.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').slice(0, 2).join(','));
  assert.deepEqual(scoreColumn(again), scoreColumn(out));
  const codes = join(work, 'codes.csv');
  ok(['encode', '--model', out, '--data', csv, '--label-column', 'outlier', '--with-logvar', '--out', codes]);
  const rows = readFileSync(codes, 'utf8').trim().split('\n');
  assert.equal(rows.length, n + 1, 'a header and one row per input row');
  assert.equal(rows[0], 'id,z0,z1,z2,z3,logvar0,logvar1,logvar2,logvar3,label');
  assert.match(rows[38]!, /^38,(-?\d[^,]*,){8}yes$/);
  // Reconstructed rows (denoise --noise none) and samples come back in the table's own units, under its column names.
  const denoised = join(work, 'denoised.csv');
  ok(['denoise', '--model', out, '--data', csv, '--label-column', 'outlier', '--limit', '100', '--noise', 'none', '--out', denoised]);
  const back = readFileSync(denoised, 'utf8').trim().split('\n');
  assert.equal(back[0], Array.from({ length: D }, (_, j) => `f${j}`).join(','));
  let se = 0;
  let variance = 0;
  for (let i = 1; i <= 100; i++) {
    if (i - 1 === 37) continue;
    const got = back[i]!.split(',').map(Number);
    const want = lines[i]!.split(',').slice(0, D).map(Number);
    for (let j = 0; j < D; j++) {
      se += (got[j]! - want[j]!) ** 2;
      variance += want[j]! ** 2;
    }
  }
  // Units and order, not fidelity: rows unstandardized wrongly are off by their whole spread (1 or more);
  // the tables' default likelihood (learned deviations from 1) reconstructs them to about 0.065 here.
  assert.ok(se / variance < 0.1, `relative squared error of the denoised rows ${se / variance}`);
  const sampled = join(work, 'samples.csv');
  ok(['sample', '--model', out, '--count', '7', '--out', sampled]);
  const sampleRows = readFileSync(sampled, 'utf8').trim().split('\n');
  assert.equal(sampleRows.length, 8);
  assert.equal(sampleRows[0], back[0]);
  refused(['sample', '--model', out, '--out', join(work, 'samples.png')], /shape \[20\], not greyscale or RGB images/, [join(work, 'samples.png')]);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { data: { standardization: { mean: number[]; std: number[] } }; model: { likelihood: string } };
  assert.equal(config.data.standardization.mean.length, D);
  assert.equal(config.model.likelihood, 'gaussian');
});

// ---- bad data ----------------------------------------------------------------------------------

test('bad data ends in one clear line, exit status 1, and nothing written', async () => {
  const out = join(work, 'never');
  const train = (data: string, ...more: string[]): string[] => ['train', '--data', data, '--epochs', '1', '--out', out, ...more];
  const grey = new Float32Array(SIDE * SIDE).fill(0.5);

  const mixed = join(work, 'mixed');
  mkdirSync(mixed);
  await writeImage(join(mixed, 'a.png'), grey, SIDE, 1);
  await writeImage(join(mixed, 'b.png'), new Float32Array(8 * 8).fill(0.5), 8, 1);
  refused(train(mixed), /--image-size/, [out]);

  const notImage = join(work, 'not-image');
  mkdirSync(notImage);
  await writeImage(join(notImage, 'a.png'), grey, SIDE, 1);
  writeFileSync(join(notImage, 'notes.txt'), 'hello');
  refused(train(notImage), /notes\.txt/, [out]);

  const empty = join(work, 'empty');
  mkdirSync(empty);
  refused(train(empty), /empty|no images/i, [out]);

  const hollow = join(work, 'hollow');
  mkdirSync(join(hollow, 'cats'), { recursive: true });
  mkdirSync(join(hollow, 'dogs'));
  await writeImage(join(hollow, 'cats', 'a.png'), grey, SIDE, 1);
  refused(train(hollow), /dogs/, [out]);

  const table = (name: string, text: string): string => {
    const path = join(work, name);
    writeFileSync(path, text);
    return path;
  };
  refused(train(table('text.csv', 'a,b\n1,2\n3,abc\n')), /row 2.*"b".*abc/, [out]);
  refused(train(table('ragged.csv', 'a,b\n1,2\n3\n')), /row 2|line 3/, [out]);
  refused(train(table('missing.csv', 'a,b\n1,2\n3,\n')), /row 2.*"b"/, [out]);

  const f16 = join(work, 'half.npy');
  const header = "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }";
  const padded = header.padEnd(118, ' ') + '\n';
  writeFileSync(f16, Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0, padded.length, 0]), Buffer.from(padded), Buffer.alloc(12)]));
  refused(train(f16), /half\.npy.*<f2|float16/, [out]);

  const short = join(work, 'short.npy');
  const bytesOk = encodeNpy({ dtype: 'float32', shape: [4, 5], data: new Float32Array(20) });
  writeFileSync(short, bytesOk.subarray(0, bytesOk.length - 8));
  refused(train(short), /short\.npy/, [out]);

  const x = join(work, 'x3.npy');
  const y = join(work, 'y2.npy');
  writeFileSync(x, encodeNpy({ dtype: 'uint8', shape: [3, 4, 4], data: new Uint8Array(48) }));
  writeFileSync(y, encodeNpy({ dtype: 'int32', shape: [2], data: new Int32Array(2) }));
  refused(train(x, '--labels', y), /y2\.npy has 2 labels but .*x3\.npy has 3/, [out]);

  refused(train(x, '--label-column', 'y'), /--label-column applies to CSV data/, [out]);
  refused(train(join(work, 'nothing-here')), /No data at .*nothing-here/, [out]);
  refused(['train', '--data', shapes, '--preset', 'conv', '--conv-channels', '8,8,8,8,8', '--epochs', '1', '--out', out], /5 stride-2 convs need image sides divisible by 32, not 16x16/, [out]);
  assert.deepEqual(readdirSync(work).filter((name) => name.includes('.tmp')), []);
});
