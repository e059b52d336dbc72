// Streaming data larger than memory (issue 22): a folder of 64x64 RGB PNGs trained with a memory
// budget far below its size. Alone, not in `npm run bench` (it takes minutes):
//   npm run bench:stream [-- count]        (count: 200000 by default)
// Writes `count` PNGs (synthetic: a gradient, a disc and a bar of random colours, with noise; ten
// class folders) into a folder under the system's temporary folder, kept for the next run (written
// again when its count differs), then in a fresh process (bench/stream-child.ts) trains the seed
// preset for one epoch with data.memoryBudget 256MB (a quarter of the images, if less) and reports: the time to open the folder (every
// image decoded once, as loading checks them, and digested), the plan, the epoch, how long the step
// waited for rows, the images per second the threads decode and the step consumes, and the
// process's peak memory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pngjs from 'pngjs';
import { Random } from '../src/engine/random.js';

const count = Number(process.argv[2] ?? 200_000);
const SIZE = 64;
const dir = join(tmpdir(), `vaekit-bench-stream-${count}`);

function countFiles(): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((n, c) => n + readdirSync(join(dir, c)).length, 0);
}

/** Image i: a vertical gradient between two colours, a disc and a bar of others, uniform noise of +-8. */
function image(i: number, rng: Random): Buffer {
  const px = Buffer.alloc(SIZE * SIZE * 3);
  const colour = (): number[] => [rng.int(256), rng.int(256), rng.int(256)];
  const [top, bottom, disc, bar] = [colour(), colour(), colour(), colour()];
  const cx = 8 + rng.int(48), cy = 8 + rng.int(48), r = 4 + rng.int(12), by = rng.int(56);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const inDisc = (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
      const inBar = y >= by && y < by + 6 && (i % 2 === 0 || x < 32);
      for (let c = 0; c < 3; c++) {
        const base = inDisc ? disc[c]! : inBar ? bar[c]! : top[c]! + ((bottom[c]! - top[c]!) * y) / SIZE;
        px[(y * SIZE + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(base + rng.int(17) - 8)));
      }
    }
  }
  return px;
}

if (countFiles() !== count) {
  rmSync(dir, { recursive: true, force: true });
  const rng = new Random(22);
  const started = performance.now();
  let bytes = 0;
  for (let k = 0; k < 10; k++) mkdirSync(join(dir, `class-${k}`), { recursive: true });
  for (let i = 0; i < count; i++) {
    const png = new pngjs.PNG({ width: SIZE, height: SIZE, colorType: 2, inputColorType: 2, inputHasAlpha: false });
    png.data = image(i, rng);
    const encoded = pngjs.PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
    bytes += encoded.length;
    writeFileSync(join(dir, `class-${i % 10}`, `${String(i).padStart(6, '0')}.png`), encoded);
  }
  console.log(`wrote ${count} PNGs of 64x64 RGB (${(bytes / 1e9).toFixed(2)} GB of files, ${((count * SIZE * SIZE * 3) / 1e9).toFixed(2)} GB decoded) in ${((performance.now() - started) / 1000).toFixed(0)} s into ${dir}`);
}

const here = dirname(fileURLToPath(import.meta.url));
// 256 MB, or a quarter of the decoded images for a small folder (a smoke run), so that it streams.
const budget = Math.min(256e6, Math.floor((count * SIZE * SIZE * 3) / 4));
const child = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'stream-child.ts'), dir, String(budget)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (child.status !== 0) throw new Error(`bench/stream-child.ts failed (exit ${child.status})`);
const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as {
  images: number; trained: number; validated: number; openSeconds: number; planSeconds: number; epochSeconds: number; waitedSeconds: number; waits: number; steps: number; peakRssMb: number; threads: number;
};
console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores); reading threads: ${r.threads}; memory budget ${(budget / 1e6).toFixed(0)} MB`);
console.log(`open (decode and check all ${r.images} images once): ${r.openSeconds.toFixed(1)} s = ${Math.round(r.images / r.openSeconds)} images/s decoded`);
console.log(`plan (split, model, the training part's fingerprint from the row digests kept at open): ${r.planSeconds.toFixed(1)} s`);
console.log(`epoch (seed preset, batch 128, ${r.trained} images trained, ${r.validated} validated): ${r.epochSeconds.toFixed(1)} s; the step waited for rows ${r.waitedSeconds.toFixed(2)} s in ${r.waits} of ${r.steps} reads`);
console.log(`images/s: decoded by the threads alone ${Math.round(r.images / r.openSeconds)}, consumed by the step ${Math.round((r.trained + r.validated) / (r.epochSeconds - r.waitedSeconds))} (epoch time less waiting)`);
console.log(`peak memory (VmHWM): ${r.peakRssMb.toFixed(0)} MB, for ${((r.images * SIZE * SIZE * 3) / 2 ** 20).toFixed(0)} MB of decoded images`);
