import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadImageFolder } from '../src/data/sources/image-folder.js';

const tmp = mkdtempSync(join(tmpdir(), 'vaekit-image-folder-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

type Rgb = [number, number, number];
const PALETTE: Rgb[] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 0],
  [20, 120, 200],
  [0, 0, 0],
  [255, 255, 255],
];
/** PIL's convert('L'): L = (299 R + 587 G + 114 B) / 1000 in its fixed-point form. */
function luma([r, g, b]: Rgb): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

let folders = 0;
function freshDir(): string {
  const dir = join(tmp, `d${folders++}`);
  mkdirSync(dir);
  return dir;
}

/**
 * An RGB image of `size` x `size`: a background colour and a shape in another colour, both chosen by
 * `i`; the shape is a square (kind 0), a disc (1) or a triangle (2), shifted by i.
 */
function shapeImage(kind: number, i: number, size = 16): Uint8Array {
  const background = PALETTE[i % PALETTE.length]!;
  const ink = PALETTE[(i + 3) % PALETTE.length]!;
  const shift = i % 4;
  const pixels = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = x - shift - 3;
      const v = y - 3;
      const inside = kind === 0 ? u >= 0 && u < 8 && v >= 0 && v < 8 : kind === 1 ? (u - 4) ** 2 + (v - 4) ** 2 <= 16 : v >= 0 && v < 9 && u >= 0 && u <= v;
      pixels.set(inside ? ink : background, (y * size + x) * 3);
    }
  }
  return pixels;
}

async function writeImage(path: string, pixels: Uint8Array, width: number, height: number, channels: 1 | 2 | 3 | 4, format: 'png' | 'jpeg' | 'webp' = 'png'): Promise<void> {
  const raw = sharp(Buffer.from(pixels), { raw: { width, height, channels } });
  const image = channels <= 2 ? raw.toColourspace('b-w') : raw; // a true greyscale (+ alpha) PNG, colour type 0 (4)
  const encoded = format === 'png' ? image.png() : format === 'jpeg' ? image.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }) : image.webp({ lossless: true });
  await encoded.toFile(path);
}

/** What assert.throws and assert.rejects expect of a VaekitError with this message (the exact text, or a pattern). */
function vaekitError(message: string | RegExp): { name: string; message: string | RegExp } {
  return { name: 'VaekitError', message };
}

/** Three class folders of 80 coloured-shape PNGs each, written in an order unlike the sorted one. */
async function writeShapeClasses(dir: string, format: 'png' | 'jpeg' = 'png'): Promise<Map<string, Uint8Array>> {
  const written = new Map<string, Uint8Array>();
  const classes = ['squares', 'circles', 'Triangles'];
  for (const [kind, name] of classes.entries()) {
    mkdirSync(join(dir, name));
    for (let i = 79; i >= 0; i--) {
      const pixels = shapeImage(kind, i);
      const file = `${name}-${String(i).padStart(2, '0')}.${format === 'png' ? 'png' : 'jpg'}`;
      await writeImage(join(dir, name, file), pixels, 16, 16, 3, format);
      written.set(`${name}/${file}`, pixels);
    }
  }
  return written;
}

let shapes: { dir: string; written: Map<string, Uint8Array> } | null = null;
async function shapeFolder(): Promise<{ dir: string; written: Map<string, Uint8Array> }> {
  if (shapes === null) {
    const dir = freshDir();
    shapes = { dir, written: await writeShapeClasses(dir) };
  }
  return shapes;
}

test('a folder of class folders gives labels from the sorted folder names and every pixel as written', async () => {
  const { dir, written } = await shapeFolder();
  const set = await loadImageFolder(dir);
  assert.equal(set.count, 240);
  assert.deepEqual(set.shape, [16, 16, 3]);
  assert.ok(set.values instanceof Uint8Array);
  assert.deepEqual(set.labelNames, ['Triangles', 'circles', 'squares'], 'code-point order, as Python sorted()');
  assert.equal(set.source, dir);
  const expectedOrder = ['Triangles', 'circles', 'squares'].flatMap((name, k) =>
    Array.from({ length: 80 }, (_, i) => ({ key: `${name}/${name}-${String(i).padStart(2, '0')}.png`, label: k })),
  );
  expectedOrder.forEach(({ key, label }, n) => {
    assert.equal(set.labels![n], label, `label of example ${n}`);
    assert.deepEqual(set.values!.subarray(n * 768, (n + 1) * 768), written.get(key), `pixels of ${key}`);
  });
  const batch = new Float32Array(768);
  set.gather(null, 80, 1, batch);
  assert.equal(batch[0], PALETTE[0]![0] / 255, 'bytes are gathered as v / 255');
});

test('channels 1 converts RGB by PIL luma; greyscale images read exactly and repeat into RGB', async () => {
  const { dir, written } = await shapeFolder();
  const grey = await loadImageFolder(dir, { channels: 1 });
  assert.deepEqual(grey.shape, [16, 16, 1]);
  const first = written.get('Triangles/Triangles-00.png')!;
  for (let p = 0; p < 256; p++) {
    assert.equal(grey.values![p], luma([first[3 * p]!, first[3 * p + 1]!, first[3 * p + 2]!]), `pixel ${p}`);
  }
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => luma(PALETTE[i]!)), [76, 150, 29, 226, 99]);

  const greyDir = freshDir();
  const pixels = Uint8Array.from({ length: 6 * 5 }, (_, i) => (i * 37) % 256);
  await writeImage(join(greyDir, 'g.png'), pixels, 5, 6, 1);
  assert.equal(readFileSync(join(greyDir, 'g.png'))[25], 0, 'PNG colour type 0: greyscale');
  const one = await loadImageFolder(greyDir, { channels: 1 });
  assert.deepEqual(one.shape, [6, 5, 1]);
  assert.deepEqual(one.values, pixels);
  assert.equal(one.labels, null);
  const three = await loadImageFolder(greyDir, { channels: 3 });
  assert.deepEqual(three.shape, [6, 5, 3], 'RGB, as Keras color_mode="rgb"');
  assert.deepEqual(Array.from(three.values!.subarray(0, 6)), [pixels[0], pixels[0], pixels[0], pixels[1], pixels[1], pixels[1]]);
});

test('an alpha channel is dropped, not composited; a flat folder is unlabelled, sorted by name, hidden files skipped', async () => {
  const dir = freshDir();
  const rgba = new Uint8Array([10, 20, 30, 0, 200, 100, 50, 255, 1, 2, 3, 128, 255, 255, 255, 64]);
  await writeImage(join(dir, 'b.png'), rgba, 2, 2, 4);
  const greyAlpha = new Uint8Array([9, 0, 99, 255, 199, 10, 250, 128]);
  await writeImage(join(dir, 'a10.png'), greyAlpha, 2, 2, 2);
  assert.equal(readFileSync(join(dir, 'a10.png'))[25], 4, 'PNG colour type 4: greyscale with alpha');
  await writeImage(join(dir, 'a2.png'), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), 2, 2, 3);
  writeFileSync(join(dir, '.DS_Store'), 'not an image');
  mkdirSync(join(dir, '.thumbnails'));
  const set = await loadImageFolder(dir);
  assert.equal(set.count, 3);
  assert.equal(set.labels, null);
  assert.equal(set.labelNames, null);
  assert.deepEqual(Array.from(set.values!), [
    ...[9, 9, 9, 99, 99, 99, 199, 199, 199, 250, 250, 250], // a10.png: grey + alpha, alpha dropped
    ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], // a2.png
    ...[10, 20, 30, 200, 100, 50, 1, 2, 3, 255, 255, 255], // b.png: RGBA, alpha dropped
  ]);
});

test('imageSize stretches every image to [height, width] without keeping the aspect ratio; without it mixed sizes are an error', async () => {
  const dir = freshDir();
  mkdirSync(join(dir, 'wide'));
  mkdirSync(join(dir, 'solid'));
  const halves = new Uint8Array(10 * 20 * 3);
  for (let y = 0; y < 10; y++) for (let x = 0; x < 20; x++) halves.set(x < 10 ? [255, 0, 0] : [0, 0, 255], (y * 20 + x) * 3);
  await writeImage(join(dir, 'wide', 'halves.png'), halves, 20, 10, 3);
  await writeImage(join(dir, 'solid', 'teal.png'), new Uint8Array(16 * 16 * 3).fill(0).map((_, i) => [0, 128, 128][i % 3]!), 16, 16, 3);

  await assert.rejects(
    loadImageFolder(dir),
    vaekitError(`${join(dir, 'wide', 'halves.png')} is 10x20 but ${join(dir, 'solid', 'teal.png')} is 16x16; give data.imageSize HxW to resize every image to one size.`),
  );
  const set = await loadImageFolder(dir, { imageSize: [8, 6] });
  assert.deepEqual(set.shape, [8, 6, 3]);
  assert.deepEqual(set.labelNames, ['solid', 'wide']);
  const teal = set.values!.subarray(0, 144);
  assert.ok(teal.every((v, i) => v === [0, 128, 128][i % 3]), 'a solid colour stays exactly that colour');
  const wide = set.values!.subarray(144, 288);
  for (let y = 0; y < 8; y++) {
    assert.deepEqual(Array.from(wide.subarray(y * 18, y * 18 + 3)), [255, 0, 0], `row ${y} starts red`);
    assert.deepEqual(Array.from(wide.subarray(y * 18 + 15, y * 18 + 18)), [0, 0, 255], `row ${y} ends blue`);
  }
  const grey = await loadImageFolder(dir, { imageSize: [4, 4], channels: 1 });
  assert.deepEqual(grey.shape, [4, 4, 1]);
  assert.equal(grey.values![0], luma([0, 128, 128]));
  assert.equal(grey.values![16], luma([255, 0, 0]));
  assert.equal(grey.values![31], luma([0, 0, 255]));
});

test('JPEG and WebP folders read within JPEG tolerance (WebP lossless exactly), resized in the same pass', async () => {
  const dir = freshDir();
  mkdirSync(join(dir, 'jpeg'));
  mkdirSync(join(dir, 'webp'));
  const pixels = shapeImage(1, 4);
  await writeImage(join(dir, 'jpeg', 'disc.jpeg'), pixels, 16, 16, 3, 'jpeg');
  await writeImage(join(dir, 'jpeg', 'solid.JPG'), new Uint8Array(16 * 16 * 3).fill(200), 16, 16, 3, 'jpeg');
  await writeImage(join(dir, 'webp', 'disc.webp'), pixels, 16, 16, 3, 'webp');
  const set = await loadImageFolder(dir);
  assert.deepEqual(set.shape, [16, 16, 3]);
  assert.deepEqual(Array.from(set.labels!), [0, 0, 1]);
  const jpeg = set.values!.subarray(0, 768);
  let total = 0;
  let worst = 0;
  for (let i = 0; i < 768; i++) {
    const error = Math.abs(jpeg[i]! - pixels[i]!);
    total += error;
    worst = Math.max(worst, error);
  }
  assert.ok(total / 768 < 6, `mean JPEG error ${total / 768}`);
  assert.ok(worst < 48, `largest JPEG error ${worst} (at the disc's edge)`);
  assert.ok(set.values!.subarray(768, 1536).every((v) => Math.abs(v - 200) <= 1), 'a solid JPEG is within 1 of its colour');
  assert.deepEqual(set.values!.subarray(1536, 2304), pixels, 'lossless WebP is exact');
  const small = await loadImageFolder(dir, { imageSize: [4, 4] });
  assert.deepEqual(small.shape, [4, 4, 3]);
  assert.ok(small.values!.subarray(48, 96).every((v) => Math.abs(v - 200) <= 1));
});

test('bad folders and files are each one sentence naming the folder or file', async () => {
  const missing = join(tmp, 'no-such-folder');
  await assert.rejects(loadImageFolder(missing), vaekitError(`Cannot read the image folder ${missing}: no such folder.`));
  const file = join(tmp, 'a-file.png');
  writeFileSync(file, 'x');
  await assert.rejects(loadImageFolder(file), vaekitError(`${file} is not a folder; pass a folder of images, or of one subfolder of images per class.`));

  const empty = freshDir();
  writeFileSync(join(empty, '.DS_Store'), '');
  await assert.rejects(loadImageFolder(empty), vaekitError(`${empty} holds no images (PNG, JPEG or WebP) and no class subfolders of images.`));

  const emptyClass = freshDir();
  mkdirSync(join(emptyClass, 'cats'));
  mkdirSync(join(emptyClass, 'dogs'));
  await writeImage(join(emptyClass, 'cats', 'c.png'), new Uint8Array(12), 2, 2, 3);
  writeFileSync(join(emptyClass, 'dogs', '.gitkeep'), '');
  await assert.rejects(loadImageFolder(emptyClass), vaekitError(`The class folder ${join(emptyClass, 'dogs')} holds no images; add some or remove the folder.`));

  const mixed = freshDir();
  mkdirSync(join(mixed, 'cats'));
  await writeImage(join(mixed, 'cats', 'c.png'), new Uint8Array(12), 2, 2, 3);
  await writeImage(join(mixed, 'stray.png'), new Uint8Array(12), 2, 2, 3);
  await assert.rejects(
    loadImageFolder(mixed),
    vaekitError(`${mixed} holds both image files (stray.png) and subfolders (cats); put every image in a class subfolder, or remove the subfolders for an unlabelled folder.`),
  );

  const notes = freshDir();
  mkdirSync(join(notes, 'cats'));
  await writeImage(join(notes, 'cats', 'c.png'), new Uint8Array(12), 2, 2, 3);
  writeFileSync(join(notes, 'cats', 'notes.txt'), 'remember to feed the cats');
  await assert.rejects(loadImageFolder(notes), vaekitError(`${join(notes, 'cats', 'notes.txt')} is not a PNG, JPEG or WebP image; remove it or move it out of the image folder.`));

  const corrupt = freshDir();
  await writeImage(join(corrupt, 'a.png'), new Uint8Array(12), 2, 2, 3);
  writeFileSync(join(corrupt, 'b.png'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('garbage')]));
  await assert.rejects(loadImageFolder(corrupt), vaekitError(`${join(corrupt, 'b.png')} could not be decoded as an image (Input buffer has corrupt header); remove or replace it.`));
  const fake = freshDir();
  writeFileSync(join(fake, 'photo.jpg'), 'this is text, not a JPEG');
  await assert.rejects(
    loadImageFolder(fake),
    vaekitError(`${join(fake, 'photo.jpg')} could not be decoded as an image (Input buffer contains unsupported image format); remove or replace it.`),
  );

  const ok = (await shapeFolder()).dir;
  await assert.rejects(loadImageFolder(ok, { channels: 4 as 3 }), vaekitError(`Cannot load ${ok} with 4 channels: choose 1 (greyscale) or 3 (RGB).`));
  await assert.rejects(
    loadImageFolder(ok, { imageSize: [0, 28] }),
    vaekitError(`Cannot resize the images of ${ok} to 0x28: the image size must be two whole numbers >= 1, height x width.`),
  );
});

test('a second load of an unchanged folder is the same Dataset; a changed folder is read again', async () => {
  const dir = freshDir();
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'a', 'nested'));
  await writeImage(join(dir, 'a', 'x.png'), new Uint8Array(12).fill(7), 2, 2, 3);
  await writeImage(join(dir, 'a', 'nested', 'y.png'), new Uint8Array(12).fill(8), 2, 2, 3);
  const first = await loadImageFolder(dir);
  assert.equal(first.count, 2, 'images in subfolders of a class folder belong to the class');
  assert.equal(await loadImageFolder(dir), first);
  assert.notEqual(await loadImageFolder(dir, { channels: 1 }), first);
  await writeImage(join(dir, 'a', 'z.png'), new Uint8Array(12).fill(9), 2, 2, 3);
  const changed = await loadImageFolder(dir);
  assert.notEqual(changed, first);
  assert.equal(changed.count, 3);
  assert.deepEqual(changed.shape, [2, 2, 1], 'grey images load as one channel');
  assert.deepEqual(Array.from(changed.values!.subarray(8, 12)), new Array(4).fill(9));
});
