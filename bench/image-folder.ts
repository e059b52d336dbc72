// How fast loadImageFolder decodes a folder of MNIST-sized PNGs on this machine. Part of
// `npm run bench` (60,000 images; 500 with --smoke), or alone:
//   node --import tsx bench/image-folder.ts [count]        (count: 60000 by default)
// Writes `count` MNIST training digits (28x28 greyscale PNGs, by pngjs) into ten class folders in a
// temporary folder, times a cold load (channels 1) and a second, cached load, and removes the folder.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pngjs from 'pngjs';
import { loadImageFolder } from '../src/data/sources/image-folder.js';
import { loadMnist } from '../src/data/sources/mnist.js';

export interface ImageFolderTiming {
  images: number;
  writeSeconds: number;
  loadSeconds: number;
  cachedLoadMs: number;
}

export async function measureImageFolder(count: number): Promise<ImageFolderTiming> {
  const mnist = loadMnist('train');
  const dir = mkdtempSync(join(tmpdir(), 'vaekit-bench-images-'));
  try {
    for (let k = 0; k < 10; k++) mkdirSync(join(dir, String(k)));
    let start = performance.now();
    for (let i = 0; i < count; i++) {
      const j = i % mnist.count;
      const png = new pngjs.PNG({ width: 28, height: 28, colorType: 0, inputColorType: 0, inputHasAlpha: false });
      png.data = Buffer.from(mnist.values!.subarray(j * 784, (j + 1) * 784));
      const bytes = pngjs.PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
      writeFileSync(join(dir, String(mnist.labels![j]), `${String(i).padStart(5, '0')}.png`), bytes);
    }
    const writeSeconds = (performance.now() - start) / 1000;
    start = performance.now();
    const set = await loadImageFolder(dir, { channels: 1 });
    const loadSeconds = (performance.now() - start) / 1000;
    start = performance.now();
    const again = await loadImageFolder(dir, { channels: 1 });
    const cachedLoadMs = performance.now() - start;
    if (again !== set || set.count !== count || set.shape.join('x') !== '28x28x1') throw new Error('the folder did not load as written');
    return { images: count, writeSeconds, loadSeconds, cachedLoadMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const t = await measureImageFolder(Number(process.argv[2] ?? 60000));
  console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores)`);
  console.log(`wrote ${t.images} PNGs in ${t.writeSeconds.toFixed(1)} s`);
  console.log(`loadImageFolder: ${t.images} images of [28, 28, 1] in ${t.loadSeconds.toFixed(2)} s = ${Math.round(t.images / t.loadSeconds)} images/s`);
  console.log(`second load (cached): ${t.cachedLoadMs.toFixed(0)} ms`);
}
