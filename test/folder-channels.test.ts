// An image folder without --channels loads as 1 channel when every image is greyscale (a greyscale
// file, or RGB with R = G = B in every pixel) and as RGB otherwise, and says which in one line;
// --channels overrides it, and a saved model's commands load a folder in the model's channels.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { loadData } from '../src/data/load.js';
import { loadRunData } from '../src/run/plan.js';
import { validateRunSpec } from '../src/run/spec.js';
import { loadImageFolder } from '../src/data/sources/image-folder.js';
import { Random } from '../src/engine/random.js';
import { cliChecks, vaekitFromSources } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'vaekit-folder-channels-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const { ok } = cliChecks(vaekitFromSources);
let folders = 0;

function fresh(): string {
  const dir = join(tmp, `d${folders++}`);
  mkdirSync(dir);
  return dir;
}

/** A PNG of `channels` (1: a true greyscale file) from raw pixels. */
async function png(path: string, pixels: Uint8Array, side: number, channels: 1 | 3): Promise<void> {
  const raw = sharp(Buffer.from(pixels), { raw: { width: side, height: side, channels } });
  await (channels === 1 ? raw.toColourspace('b-w') : raw).png().toFile(path);
}

/** Random grey levels, side x side. */
function greyPixels(rng: Random, side: number): Uint8Array {
  return Uint8Array.from({ length: side * side }, () => rng.int(256));
}

/** The grey levels as RGB with R = G = B. */
function asRgb(grey: Uint8Array): Uint8Array {
  return Uint8Array.from({ length: grey.length * 3 }, (_, i) => grey[Math.floor(i / 3)]!);
}

/** Class folders a/ and b/ of `n` greyscale 8x8 PNGs each, half true greyscale files and half grey RGB files. */
async function greyFolder(n: number, side = 8): Promise<{ dir: string; pixels: Uint8Array[] }> {
  const dir = fresh();
  const rng = new Random(11);
  const pixels: Uint8Array[] = [];
  for (const name of ['a', 'b']) {
    mkdirSync(join(dir, name));
    for (let i = 0; i < n; i++) {
      const grey = greyPixels(rng, side);
      pixels.push(grey);
      await (i % 2 === 0 ? png(join(dir, name, `${i}.png`), grey, side, 1) : png(join(dir, name, `${i}.png`), asRgb(grey), side, 3));
    }
  }
  return { dir, pixels };
}

test('a folder of greyscale PNGs (greyscale files and grey RGB ones) loads as 1 channel, the bytes of --channels 1, and says so', async () => {
  const { dir, pixels } = await greyFolder(3);
  const lines: string[] = [];
  const set = await loadImageFolder(dir, { report: (l) => lines.push(l) });
  assert.deepEqual(set.shape, [8, 8, 1]);
  assert.deepEqual(set.values, Uint8Array.from(pixels.flatMap((p) => [...p])), 'every pixel as written');
  assert.deepEqual(set.values, (await loadImageFolder(dir, { channels: 1 })).values);
  assert.deepEqual(lines, [`${dir}: all 6 images are greyscale, so they load as 1 channel (data.channels 3 loads them as RGB)`]);
  // A cached load says it again; --channels overrides and says nothing.
  await loadImageFolder(dir, { report: (l) => lines.push(l) });
  assert.equal(lines.length, 2);
  const rgb = await loadImageFolder(dir, { channels: 3, report: (l) => lines.push(l) });
  assert.deepEqual(rgb.shape, [8, 8, 3]);
  assert.equal(lines.length, 2);
  // Resized to one size, a grey folder stays grey and equals --channels 1.
  const resized = await loadImageFolder(dir, { imageSize: [5, 7] });
  assert.deepEqual(resized.shape, [5, 7, 1]);
  assert.deepEqual(resized.values, (await loadImageFolder(dir, { imageSize: [5, 7], channels: 1 })).values);
});

test('a folder of colour PNGs, and a grey folder with one colour image, load as RGB and say why', async () => {
  const colour = fresh();
  const rng = new Random(3);
  for (let i = 0; i < 4; i++) await png(join(colour, `${i}.png`), Uint8Array.from({ length: 8 * 8 * 3 }, () => rng.int(256)), 8, 3);
  const lines: string[] = [];
  const set = await loadData(colour, 'train', { report: (l) => lines.push(l) });
  assert.deepEqual(set.shape, [8, 8, 3]);
  assert.deepEqual(lines, [`${colour}: 4 of 4 images are in colour (0.png and more), so the images load as RGB, 3 channels (data.channels 1 loads them as greyscale)`]);

  const mixed = fresh();
  const grey = greyPixels(rng, 8);
  for (let i = 0; i < 3; i++) await png(join(mixed, `g${i}.png`), grey, 8, 1);
  const tinted = asRgb(grey);
  tinted[3 * 20 + 2] = (tinted[3 * 20 + 2]! + 1) % 256; // one pixel's blue differs by one level
  await png(join(mixed, 'tinted.png'), tinted, 8, 3);
  const mixedLines: string[] = [];
  const m = await loadData(mixed, 'train', { report: (l) => mixedLines.push(l) });
  assert.deepEqual(m.shape, [8, 8, 3]);
  assert.deepEqual(Array.from(m.values!.subarray(0, 6)), [grey[0], grey[0], grey[0], grey[1], grey[1], grey[1]], 'grey images repeat into RGB');
  assert.deepEqual(mixedLines, [`${mixed}: 1 of 4 images is in colour (tinted.png), so the images load as RGB, 3 channels (data.channels 1 loads them as greyscale)`]);
  assert.deepEqual((await loadData(mixed, 'train', { channels: 1 })).shape, [8, 8, 1], '--channels 1 overrides');
  assert.deepEqual((await loadData(mixed, 'train', { defaultChannels: 1 })).shape, [8, 8, 1], 'a model\'s channels override the detection');
});

test('vaekit train on a greyscale folder says it loads 1 channel; a model trained on it as RGB still reads the folder as RGB', async () => {
  const { dir } = await greyFolder(20);
  const grey = join(tmp, 'grey-model');
  const out = ok(['train', '--data', dir, '--hidden', '8', '--latent', '2', '--epochs', '1', '--validation', '0.25', '--out', grey]);
  assert.match(out, new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: all 40 images are greyscale, so they load as 1 channel \\(--channels 3 loads them as RGB\\)$`, 'm'));
  assert.match(out, /30 training and 10 validation examples of 8x8 greyscale images/);
  const rgb = join(tmp, 'rgb-model');
  ok(['train', '--data', dir, '--channels', '3', '--hidden', '8', '--latent', '2', '--epochs', '1', '--validation', '0.25', '--out', rgb]);
  // The model's channels, not the images', decide for its commands: no detection line, no shape error.
  const encoded = ok(['encode', '--model', rgb, '--data', dir, '--out', join(tmp, 'codes.csv')]);
  assert.doesNotMatch(encoded, /greyscale, so they load/);
});

test('a validation folder loads with the training folder\'s channels, whatever its own images are', async () => {
  const { dir } = await greyFolder(3);
  const validation = fresh();
  const rng = new Random(5);
  mkdirSync(join(validation, 'a'));
  const tinted = asRgb(greyPixels(rng, 8));
  tinted[0] = (tinted[0]! + 1) % 256;
  await png(join(validation, 'a', 'colour.png'), tinted, 8, 3);
  await png(join(validation, 'a', 'grey.png'), greyPixels(rng, 8), 8, 1);
  assert.deepEqual((await loadData(validation, 'test')).shape, [8, 8, 3], 'alone, the colour image makes the folder RGB');
  const sets = await loadRunData(validateRunSpec({ data: { source: dir, validation: { source: validation } } }));
  assert.deepEqual(sets.train.shape, [8, 8, 1]);
  assert.deepEqual(sets.test.shape, [8, 8, 1]);
  assert.deepEqual(sets.test.values, (await loadData(validation, 'test', { channels: 1 })).values);
});
