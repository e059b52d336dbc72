// Readers that cannot be broken: every reader of outside bytes (IDX, safetensors, NPY, CSV, model
// bundles, checkpoints, image folders, and the NPY and IDX dataset loaders) against a few thousand
// mutated inputs each (test/helpers/fuzz.ts) and fast-check's structured headers. Each input must
// give a valid result or one VaekitError sentence, within a second, without allocating more than
// the input justifies. Then the claims that would allocate the most (2^60-byte headers, 4 billion
// images, gzip bombs, a latent of 1e9, a PNG of 2^31 x 2^31 pixels) are refused before allocating.
// `npm run fuzz` runs many more cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { loadImageFolder } from '../src/data/sources/image-folder.js';
import { VaekitError } from '../src/errors.js';
import { decodeBundle } from '../src/run/bundle-format.js';
import { parseIdx } from '../src/io/idx.js';
import { parseNpy } from '../src/io/npy.js';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { allTargets, bundleSeeds, describeFailure, npyFrame, safetensorsFrame } from './helpers/fuzz.js';

const work = mkdtempSync(join(tmpdir(), 'vaekit-fuzz-test-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

/** Fixed, so that CI tries the same cases every run (npm run fuzz -- --seed S tries others). */
const SEED = 1;

for (const target of await allTargets(work)) {
  // A reader that hangs fails here instead of holding CI up.
  test(`${target.name}: ${target.ciCases} inputs, each a valid result or one VaekitError sentence, fast, without over-allocating`, { timeout: 120_000 }, async (t) => {
    const report = await target.run({ seed: SEED, cases: target.ciCases });
    t.diagnostic(`${report.reader}: ${report.cases} cases (${report.accepted} accepted, ${report.rejected} rejected), ${report.failures.length} failures, ${report.seconds.toFixed(1)} s`);
    assert.deepEqual(report.failures.map(describeFailure), []);
    assert.equal(report.cases, target.ciCases);
    assert.ok(report.accepted > 0 && report.rejected > 0, 'the cases reach both outcomes');
  });
}

/** Asserts that `read` throws a VaekitError matching `message` within a second, the process's memory all but unchanged. */
async function assertRefusedCheaply(read: () => unknown, message: RegExp): Promise<void> {
  const before = process.memoryUsage();
  const start = performance.now();
  await assert.rejects(async () => read(), (err: unknown) => {
    assert.ok(err instanceof VaekitError, `expected a VaekitError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
  const after = process.memoryUsage();
  assert.ok(performance.now() - start < 1000, `took ${(performance.now() - start).toFixed(0)} ms`);
  assert.ok(after.arrayBuffers - before.arrayBuffers < 16 * 2 ** 20, `array buffers grew by ${((after.arrayBuffers - before.arrayBuffers) / 2 ** 20).toFixed(0)} MiB`);
  assert.ok(after.rss - before.rss < 128 * 2 ** 20, `rss grew by ${((after.rss - before.rss) / 2 ** 20).toFixed(0)} MiB`);
}

/** IDX bytes of this type code and these dimensions, followed by `data`. */
function idxBytes(code: number, dims: number[], data = new Uint8Array(16)): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, code, dims.length]);
  dims.forEach((d, i) => new DataView(out.buffer).setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

test('IDX headers claiming billions of images, raw or gzip-compressed, and gzip bombs are refused before allocating', async () => {
  await assertRefusedCheaply(() => parseIdx(idxBytes(0x08, [4_000_000_000, 28, 28]), 'many.idx'), /many\.idx is truncated: its shape \[4000000000, 28, 28\]/);
  await assertRefusedCheaply(() => parseIdx(idxBytes(0x0e, [0xffffffff, 0xffffffff, 0xffffffff]), 'huge.idx'), /huge\.idx is truncated/);
  await assertRefusedCheaply(() => parseIdx(gzipSync(idxBytes(0x08, [4_000_000_000, 28, 28])), 'many.idx.gz'), /many\.idx\.gz has an IDX header that declares 3136000000016 bytes, more than the 2147483648 vaekit reads/);
  // One 28x28 image declared, 64 MiB of zeros behind it (64 KiB compressed): inflated no further than the declared 800 bytes.
  const bomb = gzipSync(idxBytes(0x08, [1, 28, 28], new Uint8Array(64 * 2 ** 20)), { level: 1 });
  await assertRefusedCheaply(() => parseIdx(bomb, 'bomb.idx.gz'), /bomb\.idx\.gz inflates to more than the 800 bytes its IDX header declares/);
  // An honest header over data that is not gzip: the header inflates, the rest does not.
  assert.throws(() => parseIdx(Buffer.concat([gzipSync(idxBytes(0x08, [2], new Uint8Array(2))).subarray(0, 20), Buffer.alloc(8, 0xff)]), 'cut.idx.gz'), VaekitError);
});

test('safetensors headers claiming 2^60 bytes or tensors of 2^60 values are refused before allocating', async () => {
  const claim = new Uint8Array(64);
  new DataView(claim.buffer).setBigUint64(0, 2n ** 60n, true);
  await assertRefusedCheaply(() => decodeSafetensors(claim, 'huge.safetensors'), /huge\.safetensors is not a valid safetensors file: its header size 1152921504606847000 is larger than the limit/);
  const tensor = (shape: number[], offsets: number[]): Uint8Array => safetensorsFrame(JSON.stringify({ w: { dtype: 'F32', shape, data_offsets: offsets } }), new Uint8Array(16));
  await assertRefusedCheaply(() => decodeSafetensors(tensor([2 ** 30, 2 ** 30], [0, 2 ** 62]), 'big.safetensors'), /big\.safetensors has tensor "w" whose data_offsets is not a pair/);
  await assertRefusedCheaply(() => decodeSafetensors(tensor([2 ** 26, 2 ** 26], [0, 2 ** 52]), 'big.safetensors'), /reach past the end of its 16-byte data buffer/);
  await assertRefusedCheaply(() => decodeSafetensors(tensor([2 ** 40, 2 ** 40, 0], [0, 16]), 'zero.safetensors'), /of shape \[1099511627776, 1099511627776, 0\] that needs 0 bytes/);
});

test('NPY headers claiming 2^80 values, nested 9,000 deep or longer than np.load reads are refused before allocating', async () => {
  const header = (shape: string): string => `{'descr': '<f8', 'fortran_order': False, 'shape': ${shape}, }\n`;
  await assertRefusedCheaply(() => parseNpy(npyFrame(header('(1099511627776, 1099511627776)'), new Uint8Array(16), 1), 'huge.npy'), /huge\.npy: the header says \[1099511627776, 1099511627776\]/);
  await assertRefusedCheaply(() => parseNpy(npyFrame(header('(9007199254740993,)'), new Uint8Array(16), 1), 'unsafe.npy'), /the integer 9007199254740993, too large/);
  await assertRefusedCheaply(() => parseNpy(npyFrame('['.repeat(9_000), new Uint8Array(0), 2), 'deep.npy'), /deep\.npy has an unreadable NPY header: brackets nested more than 16 deep/);
  await assertRefusedCheaply(() => parseNpy(npyFrame(header(`(${'1, '.repeat(100_000)})`), new Uint8Array(8), 2), 'long.npy'), /long\.npy has an NPY header of 300056 bytes, more than the 10000 that np\.load reads/);
});

test('a bundle config claiming a huge model is refused before the model is allocated, whatever the weights', async () => {
  const { config, weights } = bundleSeeds()[0]!;
  const model = (changes: Record<string, unknown>): string => {
    const c = JSON.parse(config) as { model: Record<string, unknown> };
    Object.assign(c.model, changes);
    return JSON.stringify(c);
  };
  const load = (changes: Record<string, unknown>) => (): unknown => decodeBundle(model(changes), weights.bytes, { config: 'm/config.json', weights: 'm/weights.safetensors' });
  await assertRefusedCheaply(load({ latent: 1e9 }), /This model would have 11,000,000,118 parameters .* more than vaekit's limit of 268,435,456: use a smaller latent/);
  await assertRefusedCheaply(load({ latent: 1e308 }), /The latent size must be a positive integer, not 1e\+308\./);
  await assertRefusedCheaply(load({ inputShape: [1e9, 1e9, 1] }), /An example of shape \[1000000000, 1000000000, 1\] would hold 1,000,000,000,000,000,000 values, more than vaekit's limit/);
  await assertRefusedCheaply(load({ classes: 1e12 }), /This model would have .* parameters/);
  await assertRefusedCheaply(load({ prior: 'mog', priorComponents: 1e9 }), /This model would have .* parameters/);
  await assertRefusedCheaply(load({ encoderHidden: [1e9, 1e9] }), /This model would have .* parameters/);
  // Few parameters (20 stride-2 convs) but 2^40 values per example.
  await assertRefusedCheaply(load({ architecture: 'conv', inputShape: [2 ** 20, 2 ** 20, 1], convChannels: Array(20).fill(1) }), /An example of shape \[1048576, 1048576, 1\] would hold/);
  // Within the limits (126 million parameters, 1 GiB with their gradients) but not in a 1 KB weights file.
  await assertRefusedCheaply(load({ encoderHidden: [6_000_000] }), /m\/weights\.safetensors holds 1248 bytes, too few for the 126,000,\d{3} float32 parameters of the model m\/config\.json describes/);
});

/** A PNG of this header (its CRC right) and no image data. */
function pngClaiming(width: number, height: number): Uint8Array {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'latin1');
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  ihdr.set([8, 6, 0, 0, 0], 16); // 8-bit RGBA, not interlaced
  ihdr.writeUInt32BE(crc32(ihdr.subarray(4, 21)), 21);
  const end = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr, end]);
}

test('a PNG or JPEG whose header claims 2^31 x 2^31 or 10000 x 10000 pixels is refused before it is decoded', async () => {
  const progressive = Buffer.from(await sharp(Buffer.alloc(6 * 5 * 3, 90), { raw: { width: 6, height: 5, channels: 3 } }).jpeg({ progressive: true }).toBuffer());
  const frame = progressive.indexOf(Buffer.from([0xff, 0xc2]));
  progressive.writeUInt16BE(10_000, frame + 5);
  progressive.writeUInt16BE(10_000, frame + 7);
  const claims: Array<[string, Uint8Array, string]> = [
    ['claim.png', pngClaiming(2 ** 31 - 1, 2 ** 31 - 1), 'claims 2147483647x2147483647 pixels, more than the 268,402,689 vaekit decodes'],
    ['claim.png', pngClaiming(10_000, 10_000), 'claims 10000x10000 pixels, more than its 45 bytes can hold'],
    // Without the check, libjpeg spends about a second on a progressive frame this large before finding no data.
    ['claim.jpg', progressive, `claims 10000x10000 pixels, more than its ${progressive.length} bytes can hold`],
  ];
  for (const [name, bytes, message] of claims) {
    const dir = mkdtempSync(join(work, 'claim-'));
    writeFileSync(join(dir, name), bytes);
    await assertRefusedCheaply(() => loadImageFolder(dir), new RegExp(`${name.replace('.', '\\.')} ${message}`));
  }
});
