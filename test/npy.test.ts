import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy, parseNpy, readNpy, type NpyArray, type NpyDtype } from '../src/io/npy.js';
import { loadNpy } from '../src/data/sources/npy.js';

/** What assert.throws and assert.rejects expect of a VaekitError with this message (the exact text, or a pattern). */
function vaekitError(message: string | RegExp): { name: string; message: string | RegExp } {
  return { name: 'VaekitError', message };
}

/** NPY bytes with a hand-written header: magic, version, little-endian header length, header, data. */
function npyBytes(header: string, data: Uint8Array, version: [number, number] = [1, 0]): Uint8Array {
  const lengthBytes = version[0] === 1 ? 2 : 4;
  const text = Buffer.from(header, version[0] === 3 ? 'utf8' : 'latin1');
  const out = new Uint8Array(8 + lengthBytes + text.length + data.length);
  out.set([0x93, ...Buffer.from('NUMPY', 'latin1'), version[0], version[1]]);
  const view = new DataView(out.buffer);
  if (lengthBytes === 2) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(text, 8 + lengthBytes);
  out.set(data, 8 + lengthBytes + text.length);
  return out;
}

function f32le(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

const tmp = mkdtempSync(join(tmpdir(), 'vaekit-npy-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function writeNpy(name: string, array: NpyArray): string {
  const path = join(tmp, name);
  writeFileSync(path, encodeNpy(array));
  return path;
}

test("encodeNpy writes np.save's exact bytes for a float32 (2, 3) array, and parseNpy reads them", () => {
  // np.save(f, np.arange(6, dtype='<f4').reshape(2, 3)): a 118-byte header (20 spaces numpy keeps for
  // the first dimension to grow, then padding to 128 bytes), so the data starts at byte 128.
  const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  const header = dict + ' '.repeat(58) + '\n';
  assert.equal(header.length, 118);
  const numpyFile = npyBytes(header, f32le([0, 1, 2, 3, 4, 5]));
  assert.equal(numpyFile.length, 128 + 24);
  assert.deepEqual(Array.from(numpyFile.subarray(0, 10)), [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);

  const encoded = encodeNpy({ dtype: 'float32', shape: [2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) });
  assert.deepEqual(Array.from(encoded), Array.from(numpyFile));

  const parsed = parseNpy(numpyFile, 'numpy.npy');
  assert.equal(parsed.dtype, 'float32');
  assert.deepEqual(parsed.shape, [2, 3]);
  assert.ok(parsed.data instanceof Float32Array);
  assert.deepEqual(Array.from(parsed.data), [0, 1, 2, 3, 4, 5]);
});

test("encodeNpy matches np.save's headers for 1-D and scalar shapes", () => {
  const oneD = encodeNpy({ dtype: 'int64', shape: [5], data: new BigInt64Array(5) });
  const oneDHeader = Buffer.from(oneD.subarray(10, 128)).toString('latin1');
  assert.equal(oneDHeader, "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }".padEnd(117, ' ') + '\n');
  const scalar = encodeNpy({ dtype: 'float64', shape: [], data: new Float64Array([2.5]) });
  assert.equal(scalar.length, 128 + 8);
  const scalarDict = "{'descr': '<f8', 'fortran_order': False, 'shape': (), }";
  assert.equal(Buffer.from(scalar.subarray(10, 128)).toString('latin1'), scalarDict.padEnd(117, ' ') + '\n');
  assert.deepEqual(parseNpy(scalar, 's.npy'), { dtype: 'float64', shape: [], data: new Float64Array([2.5]) });
});

test('every dtype survives encodeNpy then parseNpy, bit for bit', () => {
  const cases: NpyArray[] = [
    { dtype: 'uint8', shape: [2, 2], data: new Uint8Array([0, 1, 254, 255]) },
    { dtype: 'int8', shape: [4], data: new Int8Array([-128, -1, 0, 127]) },
    { dtype: 'int16', shape: [2, 2], data: new Int16Array([-32768, -2, 3, 32767]) },
    { dtype: 'uint16', shape: [3], data: new Uint16Array([0, 258, 65535]) },
    { dtype: 'int32', shape: [1, 3], data: new Int32Array([-(2 ** 31), 7, 2 ** 31 - 1]) },
    { dtype: 'uint32', shape: [2], data: new Uint32Array([0, 2 ** 32 - 1]) },
    { dtype: 'int64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 5n, 2n ** 63n - 1n]) },
    { dtype: 'uint64', shape: [2], data: new BigUint64Array([0n, 2n ** 64n - 1n]) },
    { dtype: 'float32', shape: [2, 2], data: new Float32Array([-0, 1.5, 3.4028234663852886e38, -1e-45]) },
    { dtype: 'float64', shape: [2, 1, 2], data: new Float64Array([-0, Math.PI, Number.MAX_VALUE, NaN]) },
    { dtype: 'float32', shape: [0, 3], data: new Float32Array(0) },
  ];
  for (const array of cases) {
    const bytes = encodeNpy(array);
    assert.equal(bytes.length % 64, array.data.byteLength % 64, `${array.dtype}: the data starts at a multiple of 64`);
    const parsed = parseNpy(bytes, `${array.dtype}.npy`);
    assert.equal(parsed.dtype, array.dtype);
    assert.deepEqual(parsed.shape, array.shape);
    assert.equal(parsed.data.constructor, array.data.constructor);
    assert.deepEqual(
      Array.from(new Uint8Array(parsed.data.buffer, parsed.data.byteOffset, parsed.data.byteLength)),
      Array.from(new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength)),
      array.dtype,
    );
  }
});

test('parseNpy reads big-endian data, versions 2.0 and 3.0, and the header spellings numpy and Python 2 wrote', () => {
  const be = npyBytes("{'descr': '>i2', 'fortran_order': False, 'shape': (3,), }\n", new Uint8Array([0x01, 0x02, 0xff, 0xfe, 0x00, 0x07]));
  assert.deepEqual(parseNpy(be, 'be.npy'), { dtype: 'int16', shape: [3], data: new Int16Array([0x0102, -2, 7]) });
  const beFloat = npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n", new Uint8Array([0x3f, 0xc0, 0, 0]));
  assert.deepEqual(parseNpy(beFloat, 'bef.npy').data, new Float32Array([1.5]));

  const v2 = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", f32le([1, 2]), [2, 0]);
  assert.deepEqual(parseNpy(v2, 'v2.npy'), { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) });
  const v3 = npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2), }\n", new Uint8Array([9, 8]), [3, 0]);
  assert.deepEqual(parseNpy(v3, 'v3.npy'), { dtype: 'uint8', shape: [1, 2], data: new Uint8Array([9, 8]) });

  const python2 = npyBytes('{"shape": (2L, 1L), "fortran_order": False, "descr": "<u1"}   \n', new Uint8Array([4, 5]));
  assert.deepEqual(parseNpy(python2, 'py2.npy'), { dtype: 'uint8', shape: [2, 1], data: new Uint8Array([4, 5]) });
});

test('parseNpy refuses what is not an NPY file it can read, each in one sentence naming the file', () => {
  const ok = (header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array => npyBytes(header, data);
  assert.throws(() => parseNpy(Buffer.from('hello, world'), 'x.npy'), vaekitError('x.npy is not an NPY file: it does not start with the NPY magic bytes "\\x93NUMPY".'));
  assert.throws(() => parseNpy(Buffer.from('PK\x03\x04 zip'), 'x.npz'), vaekitError(/^x\.npz is a zip archive \(an \.npz file\?\), not an NPY file/));
  const v4 = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", f32le([1]), [4, 0]);
  assert.throws(() => parseNpy(v4, 'v4.npy'), vaekitError('v4.npy uses NPY format version 4.0, which vaekit does not read (it reads 1.0, 2.0 and 3.0).'));
  assert.throws(
    () => parseNpy(ok("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }\n", new Uint8Array(2)), 'half.npy'),
    vaekitError(/^half\.npy holds '<f2', a dtype vaekit does not read \(it reads \|u1, \|i1, <i2, <u2, <i4, <u4, <i8, <u8, <f4, <f8, little- or big-endian\); convert it with a\.astype\(np\.float32\)\.$/),
  );
  assert.throws(() => parseNpy(ok("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n"), 'c.npy'), vaekitError(/^c\.npy holds '<c8', a dtype/));
  assert.throws(
    () => parseNpy(ok("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }\n"), 'rec.npy'),
    vaekitError(/^rec\.npy holds a structured \(record\) dtype, a dtype vaekit does not read/),
  );
  assert.throws(
    () => parseNpy(ok("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n", f32le([1, 2, 3, 4])), 'f.npy'),
    vaekitError(/^f\.npy stores its array in Fortran \(column-major\) order, which vaekit does not read; save it in C order with np\.save\(path, np\.ascontiguousarray\(a\)\)\.$/),
  );
  assert.throws(
    () => parseNpy(ok("{'descr': '<f4', 'fortran_order': False, 'shape': (100, 3), }\n", f32le([1, 2, 3, 4, 5])), 'short.npy'),
    vaekitError('short.npy: the header says [100, 3] = 300 values of 4 bytes but the file holds 20 bytes of data (is it truncated?).'),
  );
  assert.throws(
    () => parseNpy(ok("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }\n", new Uint8Array(3)), 'long.npy'),
    vaekitError('long.npy: the header says [2] = 2 values of 1 byte but the file holds 3 bytes of data.'),
  );
  assert.throws(() => parseNpy(ok("{'descr': '<f4', 'shape': (1,), }\n"), 'nofo.npy'), vaekitError(/^nofo\.npy has an unreadable NPY header: it lacks the key 'fortran_order'/));
  assert.throws(() => parseNpy(ok("{'descr': '<f4', 'fortran_order': False, 'shape': 7, }\n"), 'sh.npy'), vaekitError(/^sh\.npy has an unreadable NPY header: 'shape' is not a tuple of whole numbers >= 0/));
  assert.throws(
    () => parseNpy(ok("{'descr': '<f4' 'fortran_order': False}\n"), 'comma.npy'),
    vaekitError(/^comma\.npy has an unreadable NPY header: a missing "," or "}" at character 17 of/),
  );
  assert.throws(() => parseNpy(ok("__import__('os').system('ls')\n"), 'evil.npy'), vaekitError(/^evil\.npy has an unreadable NPY header: an unexpected "_" at character 1/));
  assert.throws(() => parseNpy(ok("{'descr': '<f4\n"), 'open.npy'), vaekitError(/^open\.npy has an unreadable NPY header: an unterminated string/));
  const cut = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", f32le([1])).subarray(0, 30);
  assert.throws(() => parseNpy(cut, 'cut.npy'), vaekitError('cut.npy is truncated: it ends after 30 bytes, inside its NPY header.'));
  assert.throws(() => readNpy(join(tmp, 'missing.npy')), vaekitError(`Cannot read the NPY file ${join(tmp, 'missing.npy')}: no such file.`));
});

test('encodeNpy refuses data that does not match its dtype or shape', () => {
  assert.throws(() => encodeNpy({ dtype: 'float32', shape: [2], data: new Float64Array(2) }), vaekitError('Cannot encode an NPY array of dtype float32 whose data is not a Float32Array.'));
  assert.throws(() => encodeNpy({ dtype: 'int32', shape: [2, 2], data: new Int32Array(3) }), vaekitError('Cannot encode an NPY array of shape [2, 2] (4 values) from 3 values.'));
  assert.throws(() => encodeNpy({ dtype: 'bool' as NpyDtype, shape: [1], data: new Uint8Array(1) }), vaekitError(/^Cannot encode an NPY array of the unknown dtype "bool"/));
});

test('loadNpy reads [N, H, W] uint8 as greyscale byte images and [N, H, W, 3] float32 in [0, 1] as float images', () => {
  const pixels = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 11) % 256);
  const grey = loadNpy(writeNpy('grey.npy', { dtype: 'uint8', shape: [2, 3, 4], data: pixels }));
  assert.equal(grey.count, 2);
  assert.deepEqual(grey.shape, [3, 4, 1]);
  assert.ok(grey.values instanceof Uint8Array);
  assert.deepEqual(Array.from(grey.values), Array.from(pixels));
  assert.equal(grey.labels, null);

  const colour = Float64Array.from({ length: 2 * 2 * 2 * 3 }, (_, i) => i / 23);
  const rgb = loadNpy(writeNpy('rgb.npy', { dtype: 'float64', shape: [2, 2, 2, 3], data: colour }));
  assert.deepEqual(rgb.shape, [2, 2, 3]);
  assert.ok(rgb.values instanceof Float32Array);
  assert.deepEqual(Array.from(rgb.values), Array.from(Float32Array.from(colour)));
  const batch = new Float32Array(rgb.size);
  rgb.gather(null, 1, 1, batch);
  assert.equal(batch[0], Math.fround(12 / 23), 'float images are gathered as they are, not divided by 255');
});

test('loadNpy reads [N, D] rows of any dtype as float32 features, with labels from a second file', () => {
  const x = writeNpy('x.npy', { dtype: 'int64', shape: [3, 2], data: new BigInt64Array([1n, -2n, 3n, 4n, 5n, 6n]) });
  const y = writeNpy('y.npy', { dtype: 'int64', shape: [3], data: new BigInt64Array([2n, 0n, 2n]) });
  const set = loadNpy(x, { labels: y });
  assert.deepEqual(set.shape, [2]);
  assert.deepEqual(Array.from(set.values!), [1, -2, 3, 4, 5, 6]);
  assert.ok(set.values instanceof Float32Array);
  assert.deepEqual(Array.from(set.labels ?? []), [2, 0, 2]);
  assert.deepEqual(set.labelNames, ['0', '1', '2']);

  const yFloat = writeNpy('yf.npy', { dtype: 'float32', shape: [3], data: new Float32Array([1, 0, 1]) });
  const withFloatLabels = loadNpy(writeNpy('xf.npy', { dtype: 'float32', shape: [3, 1], data: new Float32Array([0.5, -1e3, 7]) }), { labels: yFloat });
  assert.deepEqual(Array.from(withFloatLabels.labels ?? []), [1, 0, 1]);
  assert.deepEqual(withFloatLabels.labelNames, ['0', '1']);
});

test('loadNpy explains each bad array in one sentence naming the file and the place', () => {
  const x100 = writeNpy('x100.npy', { dtype: 'float32', shape: [100, 2], data: new Float32Array(200) });
  const y99 = writeNpy('labels.npy', { dtype: 'int32', shape: [99], data: new Int32Array(99) });
  assert.throws(() => loadNpy(x100, { labels: y99 }), vaekitError(`${y99} has 99 labels but ${x100} has 100 examples.`));

  const x2 = writeNpy('x2.npy', { dtype: 'uint8', shape: [2, 2], data: new Uint8Array(4) });
  const negative = writeNpy('neg.npy', { dtype: 'int8', shape: [2], data: new Int8Array([0, -1]) });
  assert.throws(() => loadNpy(x2, { labels: negative }), vaekitError(`${negative}: label 1 is -1, not a whole number >= 0.`));
  const fraction = writeNpy('frac.npy', { dtype: 'float64', shape: [2], data: new Float64Array([1.5, 0]) });
  assert.throws(() => loadNpy(x2, { labels: fraction }), vaekitError(`${fraction}: label 0 is 1.5, not a whole number >= 0.`));
  const huge = writeNpy('huge.npy', { dtype: 'uint32', shape: [2], data: new Uint32Array([0, 1e9]) });
  assert.throws(() => loadNpy(x2, { labels: huge }), vaekitError(`${huge}: label 1 is 1000000000, too large for a class index (at most 65535); renumber the classes 0..K-1.`));
  const column = writeNpy('col.npy', { dtype: 'int64', shape: [2, 1], data: new BigInt64Array(2) });
  assert.throws(() => loadNpy(x2, { labels: column }), vaekitError(`${column} has the shape [2, 1], but labels must be one whole number per example, shape [N] (flatten them with y.ravel()).`));

  const scaled = new Float32Array(2 * 2 * 2).fill(0.5);
  scaled[7] = 255;
  const unscaled = writeNpy('unscaled.npy', { dtype: 'float32', shape: [2, 2, 2], data: scaled });
  assert.throws(
    () => loadNpy(unscaled),
    vaekitError(`${unscaled}: example 1, pixel (row 1, column 1, channel 0) holds 255, but float images must hold values in [0, 1]; scale them (for example x / 255) or save them as uint8.`),
  );
  const wide = writeNpy('wide.npy', { dtype: 'int16', shape: [1, 1, 2, 3], data: new Int16Array([0, 1, 2, 3, 300, 5]) });
  assert.throws(() => loadNpy(wide), vaekitError(/^.*wide\.npy: example 0, pixel \(row 0, column 1, channel 1\) holds 300, but integer \(int16\) images must hold bytes 0\.\.255/));
  const fine = loadNpy(writeNpy('int-images.npy', { dtype: 'int16', shape: [1, 1, 2, 3], data: new Int16Array([0, 1, 2, 3, 255, 5]) }));
  assert.deepEqual(Array.from(fine.values!), [0, 1, 2, 3, 255, 5]);
  assert.ok(fine.values instanceof Uint8Array);

  const features = new Float64Array(6);
  features[5] = NaN;
  const nan = writeNpy('nan.npy', { dtype: 'float64', shape: [2, 3], data: features });
  assert.throws(() => loadNpy(nan), vaekitError(`${nan}: row 1, column 2 holds NaN; every feature must be a finite number, so fill or drop missing values.`));
  features[5] = 1e300;
  const big = writeNpy('big.npy', { dtype: 'float64', shape: [2, 3], data: features });
  assert.throws(() => loadNpy(big), vaekitError(`${big}: row 1, column 2 holds 1e+300, too large for float32; every feature must be a finite number, so fill or drop missing values.`));

  const vector = writeNpy('vector.npy', { dtype: 'float32', shape: [5], data: new Float32Array(5) });
  assert.throws(() => loadNpy(vector), vaekitError(`${vector} has the shape [5], but a data array must be [N, H, W] or [N, H, W, C] (images) or [N, D] (feature rows).`));
  const rgba = writeNpy('rgba.npy', { dtype: 'uint8', shape: [1, 2, 2, 4], data: new Uint8Array(16) });
  assert.throws(() => loadNpy(rgba), vaekitError(`${rgba} holds images of 4 channels (shape [1, 2, 2, 4]), but vaekit reads 1 (greyscale) or 3 (RGB) channels, last.`));
  const chw = writeNpy('chw.npy', { dtype: 'uint8', shape: [1, 3, 5, 5], data: new Uint8Array(75) });
  assert.throws(() => loadNpy(chw), vaekitError(/channels, last; for channels-first arrays save a\.transpose\(0, 2, 3, 1\)\.$/));
  const empty = writeNpy('empty.npy', { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) });
  assert.throws(() => loadNpy(empty), vaekitError(`${empty} has the shape [0, 4], which holds no values.`));
});
