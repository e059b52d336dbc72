import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../src/io/atomic-write.js';
import { VaekitError } from '../src/errors.js';

function withDir(body: (dir: string) => void): void {
  const dir = fs.mkdtempSync(join(tmpdir(), 'vaekit-atomic-'));
  try {
    body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('writes bytes and strings, replacing an existing file', () => {
  withDir((dir) => {
    const path = join(dir, 'out.bin');
    writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    assert.deepEqual(Array.from(fs.readFileSync(path)), [1, 2, 3]);
    writeFileAtomic(path, 'héllo\n');
    assert.equal(fs.readFileSync(path, 'utf8'), 'héllo\n');
    writeFileAtomic(path, new Uint8Array(0));
    assert.equal(fs.readFileSync(path).length, 0);
    assert.deepEqual(fs.readdirSync(dir), ['out.bin']);
  });
});

test('writes a view with its own offset, not the whole underlying buffer', () => {
  withDir((dir) => {
    const path = join(dir, 'view.bin');
    const whole = new Uint8Array([9, 9, 1, 2, 9]);
    writeFileAtomic(path, whole.subarray(2, 4));
    assert.deepEqual(Array.from(fs.readFileSync(path)), [1, 2]);
  });
});

test('creates missing parent directories', () => {
  withDir((dir) => {
    const path = join(dir, 'a', 'b', 'c', 'out.json');
    writeFileAtomic(path, '{}');
    assert.equal(fs.readFileSync(path, 'utf8'), '{}');
  });
});

test('a parent that is a file fails with one sentence and leaves nothing behind', () => {
  withDir((dir) => {
    const blocker = join(dir, 'blocker');
    fs.writeFileSync(blocker, 'old');
    const path = join(blocker, 'sub', 'out.bin');
    assert.throws(
      () => writeFileAtomic(path, 'new'),
      (err: unknown) => err instanceof VaekitError && err.message === `Cannot write ${path}: a parent of the path is a file, not a folder.`,
    );
    assert.deepEqual(fs.readdirSync(dir), ['blocker']);
    assert.equal(fs.readFileSync(blocker, 'utf8'), 'old');
  });
});

test('a target that is a directory fails and the temporary file is removed', () => {
  withDir((dir) => {
    const target = join(dir, 'target');
    fs.mkdirSync(target);
    fs.writeFileSync(join(target, 'inside'), 'keep');
    assert.throws(() => writeFileAtomic(target, 'new'), (err: unknown) => err instanceof VaekitError && /^Cannot write .*target: /.test(err.message));
    assert.deepEqual(fs.readdirSync(dir), ['target']);
    assert.deepEqual(fs.readdirSync(target), ['inside']);
  });
});

test('when the final rename fails, the old file keeps its content and no temporary file remains', () => {
  withDir((dir) => {
    const path = join(dir, 'model.json');
    fs.writeFileSync(path, 'old content');
    const rename = mock.method(fs, 'renameSync', () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, rename'), { code: 'ENOSPC' });
    });
    try {
      assert.throws(
        () => writeFileAtomic(path, 'new content that never lands'),
        (err: unknown) => err instanceof VaekitError && err.message === `Cannot write ${path}: no space left on the device.`,
      );
      assert.equal(rename.mock.callCount(), 1, 'the failure came from the rename, after the temporary file was written');
    } finally {
      rename.mock.restore();
    }
    assert.equal(fs.readFileSync(path, 'utf8'), 'old content');
    assert.deepEqual(fs.readdirSync(dir), ['model.json']);
  });
});

test('when writing the data fails midway, the old file is untouched and no temporary file remains', () => {
  withDir((dir) => {
    const path = join(dir, 'weights.bin');
    fs.writeFileSync(path, 'old');
    const realWrite = fs.writeSync;
    let calls = 0;
    const write = mock.method(fs, 'writeSync', (fd: number, buffer: Uint8Array, offset: number, length: number) => {
      calls++;
      if (calls > 1) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
      // Write only part of the data, so the loop must come back for the rest.
      return realWrite(fd, buffer, offset, Math.min(length, 2));
    });
    try {
      assert.throws(() => writeFileAtomic(path, 'new data'), (err: unknown) => err instanceof VaekitError && err.message.startsWith(`Cannot write ${path}: `));
    } finally {
      write.mock.restore();
    }
    assert.equal(calls, 2);
    assert.equal(fs.readFileSync(path, 'utf8'), 'old');
    assert.deepEqual(fs.readdirSync(dir), ['weights.bin']);
  });
});

test('partial writes are continued until all bytes are written', () => {
  withDir((dir) => {
    const path = join(dir, 'slow.bin');
    const realWrite = fs.writeSync;
    const write = mock.method(fs, 'writeSync', (fd: number, buffer: Uint8Array, offset: number, length: number) =>
      realWrite(fd, buffer, offset, Math.min(length, 3)),
    );
    try {
      writeFileAtomic(path, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    } finally {
      write.mock.restore();
    }
    assert.deepEqual(Array.from(fs.readFileSync(path)), [1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
