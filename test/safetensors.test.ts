import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { VaekitError } from '../src/errors.js';

function ascii(text: string): number[] {
  return Array.from(text, (c) => c.charCodeAt(0));
}

function rejects(pattern: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof VaekitError, `expected a VaekitError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  };
}

/** A file made by hand: an 8-byte little-endian header size, the header, then the data. */
function handMade(header: string, data: number[]): Uint8Array {
  const json = ascii(header);
  const size = [json.length & 0xff, (json.length >> 8) & 0xff, 0, 0, 0, 0, 0, 0];
  return new Uint8Array([...size, ...json, ...data]);
}

test('the layout of a tiny file matches the spec byte by byte', () => {
  const bytes = encodeSafetensors({
    b: { shape: [1], data: new Float32Array([-2]) },
    a: { shape: [2], data: new Float32Array([1, 0.5]) },
  });
  // Tensors sorted by name, contiguous from offset 0; compact JSON of 108 bytes padded with spaces to 112.
  const header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
  assert.equal(header.length, 108);
  const padded = header + ' '.repeat(4); // 112 = 14 * 8
  const expected = [
    112, 0, 0, 0, 0, 0, 0, 0, // header size, u64 little-endian
    ...ascii(padded),
    0x00, 0x00, 0x80, 0x3f, // 1.0f little-endian
    0x00, 0x00, 0x00, 0x3f, // 0.5f
    0x00, 0x00, 0x00, 0xc0, // -2.0f
  ];
  assert.deepEqual(Array.from(bytes), expected);
});

test('metadata goes into "__metadata__" as a map of strings', () => {
  const bytes = encodeSafetensors({ w: { shape: [], data: new Float32Array([3]) } }, { format: 'vaekit', version: '1' });
  const size = new DataView(bytes.buffer).getUint32(0, true);
  assert.equal(size % 8, 0);
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + size));
  assert.equal(header.trimEnd(), '{"__metadata__":{"format":"vaekit","version":"1"},"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}');
  assert.equal(bytes.length, 8 + size + 4);
  const decoded = decodeSafetensors(bytes, 'meta.safetensors');
  assert.deepEqual(decoded.metadata, { format: 'vaekit', version: '1' });
  assert.deepEqual(decoded.tensors.w?.shape, []);
  assert.equal(decoded.tensors.w?.data[0], 3);
});

test('round trip keeps names, shapes and every bit of the data', () => {
  const weights = Float32Array.from({ length: 3 * 5 }, (_, i) => Math.sin(i) * 1e3);
  const tensors = {
    'encoder.dense1.kernel': { shape: [3, 5], data: weights },
    'encoder.dense1.bias': { shape: [5], data: new Float32Array([0, -0, Number.NaN, Infinity, 1e-40]) },
    empty: { shape: [0, 4], data: new Float32Array(0) },
    'ünïcödé': { shape: [1, 1], data: new Float32Array([42]) },
  };
  const bytes = encodeSafetensors(tensors, { note: 'hi "there"' });
  const decoded = decodeSafetensors(bytes, 'model.safetensors');
  assert.deepEqual(Object.keys(decoded.tensors).sort(), Object.keys(tensors).sort());
  for (const [name, tensor] of Object.entries(tensors)) {
    const got = decoded.tensors[name];
    assert.ok(got, name);
    assert.deepEqual(got.shape, tensor.shape);
    assert.ok(got.data instanceof Float32Array);
    assert.deepEqual(new Uint8Array(got.data.buffer, got.data.byteOffset, got.data.byteLength), new Uint8Array(tensor.data.buffer));
  }
  assert.equal(decoded.metadata.note, 'hi "there"');
});

test('decoded data are aligned copies, even when the input bytes sit at an odd offset', () => {
  const bytes = encodeSafetensors({ x: { shape: [3], data: new Float32Array([1, 2, 3]) } });
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const input = shifted.subarray(1);
  const { tensors } = decodeSafetensors(input, 'shifted.safetensors');
  const x = tensors.x!;
  assert.deepEqual(Array.from(x.data), [1, 2, 3]);
  assert.equal(x.data.byteOffset % 4, 0);
  assert.notEqual(x.data.buffer, shifted.buffer);
  input.fill(0);
  assert.deepEqual(Array.from(x.data), [1, 2, 3]);
});

test('a tensor named __proto__ is kept as data, not as a prototype', () => {
  const bytes = handMade('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0x80, 0x3f]);
  const { tensors } = decodeSafetensors(bytes, 'proto.safetensors');
  assert.deepEqual(Object.keys(tensors), ['__proto__']);
  assert.equal(Object.getPrototypeOf(tensors), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(tensors, '__proto__')?.value.data[0], 1);
});

test('a file written by hand with metadata last and unsorted offsets decodes', () => {
  const header = '{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"k":"v"}}';
  const { tensors, metadata } = decodeSafetensors(handMade(header, [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]), 'hand.safetensors');
  assert.equal(tensors.a?.data[0], 1);
  assert.equal(tensors.b?.data[0], 2);
  assert.deepEqual(metadata, { k: 'v' });
});

test('a corrupt header size is rejected', () => {
  const bytes = encodeSafetensors({ x: { shape: [1], data: new Float32Array([1]) } });
  const tooBig = bytes.slice();
  new DataView(tooBig.buffer).setUint32(0, bytes.length, true);
  assert.throws(() => decodeSafetensors(tooBig, 'big.safetensors'), rejects(/^big\.safetensors is not a valid safetensors file: its header size \d+ is larger/));
  const huge = bytes.slice();
  new DataView(huge.buffer).setUint32(4, 1, true);
  assert.throws(() => decodeSafetensors(huge, 'huge.safetensors'), rejects(/huge\.safetensors.*header size 4294967\d+ is larger/));
  assert.throws(() => decodeSafetensors(bytes.subarray(0, 5), 'short.safetensors'), rejects(/short\.safetensors is not a safetensors file/));
  const shorter = bytes.slice();
  new DataView(shorter.buffer).setUint32(0, 16, true); // cuts the JSON in the middle
  assert.throws(() => decodeSafetensors(shorter, 'cut.safetensors'), rejects(/cut\.safetensors.*not valid UTF-8 JSON/));
});

test('a header that is not a JSON object is rejected', () => {
  assert.throws(() => decodeSafetensors(handMade('[1,2,3] ', []), 'array.safetensors'), rejects(/array\.safetensors.*not a JSON object/));
  assert.throws(() => decodeSafetensors(handMade('{"a":1}', []), 'entry.safetensors'), rejects(/entry\.safetensors.*tensor "a".*not a JSON object/));
  assert.throws(
    () => decodeSafetensors(handMade('{"__metadata__":{"n":1}}', []), 'meta.safetensors'),
    rejects(/meta\.safetensors.*metadata entry "n".*not a string/),
  );
});

test('offsets out of range are rejected', () => {
  const bytes = handMade('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', [0, 0, 0x80, 0x3f]);
  assert.throws(() => decodeSafetensors(bytes, 'range.safetensors'), rejects(/range\.safetensors has tensor "x" whose data_offsets \[0, 8\] reach past the end of its 4-byte data buffer/));
  const backwards = handMade('{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', [0, 0, 0, 0]);
  assert.throws(() => decodeSafetensors(backwards, 'back.safetensors'), rejects(/back\.safetensors.*begin <= end/));
  const negative = handMade('{"x":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}', [0, 0, 0, 0]);
  assert.throws(() => decodeSafetensors(negative, 'neg.safetensors'), rejects(/neg\.safetensors.*data_offsets/));
});

test('a byte count that does not match the shape is rejected', () => {
  const bytes = handMade('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', [0, 0, 0x80, 0x3f]);
  assert.throws(() => decodeSafetensors(bytes, 'shape.safetensors'), rejects(/shape\.safetensors.*needs 8 bytes.*span 4/));
});

test('overlapping tensors and trailing bytes are rejected', () => {
  const overlap = handMade(
    '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
    [0, 0, 0, 0, 0, 0, 0, 0],
  );
  assert.throws(() => decodeSafetensors(overlap, 'overlap.safetensors'), rejects(/overlap\.safetensors.*"a" and "b".*overlap/));
  const trailing = handMade('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0, 9, 9]);
  assert.throws(() => decodeSafetensors(trailing, 'trail.safetensors'), rejects(/trail\.safetensors has 2 unexpected bytes/));
});

test('a dtype other than F32 is rejected, naming the dtype', () => {
  const bytes = handMade('{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}', [0, 0x3c, 0, 0x40]);
  assert.throws(() => decodeSafetensors(bytes, 'half.safetensors'), rejects(/^half\.safetensors has tensor "h" of dtype F16, but vaekit reads only F32 tensors\.$/));
});

test('encodeSafetensors rejects data that does not match the shape', () => {
  assert.throws(() => encodeSafetensors({ x: { shape: [3], data: new Float32Array(2) } }), VaekitError);
  assert.throws(() => encodeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } }), VaekitError);
});
