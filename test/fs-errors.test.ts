// readFileOrExplain: a regular file's bytes, and one sentence (a VaekitError) for anything else, read or not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VaekitError } from '../src/errors.js';
import { readFileOrExplain } from '../src/io/fs-errors.js';

const work = mkdtempSync(join(tmpdir(), 'vaekit-fs-errors-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const at = (name: string): string => join(work, name);

/** The message readFileOrExplain refuses `path` with (failing when it returns bytes or throws anything else). */
function refusal(path: string, maxBytes?: number): string {
  try {
    readFileOrExplain(path, 'test file', maxBytes);
  } catch (err) {
    assert.ok(err instanceof VaekitError, String(err));
    assert.ok(!err.message.includes('\n'));
    return err.message;
  }
  assert.fail(`${path} was read`);
}

test('a regular file, directly or through a link, is read whole', () => {
  const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256));
  writeFileSync(at('data.bin'), bytes);
  symlinkSync(at('data.bin'), at('link.bin'));
  assert.deepEqual(readFileOrExplain(at('data.bin'), 'test file'), bytes);
  assert.deepEqual(readFileOrExplain(at('link.bin'), 'test file'), bytes);
  writeFileSync(at('empty.bin'), '');
  assert.equal(readFileOrExplain(at('empty.bin'), 'test file').length, 0);
  // The bound is inclusive: a file of exactly maxBytes is read.
  assert.equal(readFileOrExplain(at('data.bin'), 'test file', 100_000).length, 100_000);
});

test('a file larger than the bound is refused, naming both sizes', () => {
  assert.equal(refusal(at('data.bin'), 99_999), `Cannot read the test file ${at('data.bin')}: it holds 100,000 bytes, more than vaekit's limit of 99,999 for a test file.`);
});

test('a missing file, a folder, a device, a FIFO and a socket are refused unread', { timeout: 20_000 }, async () => {
  assert.match(refusal(at('missing')), /: no such file\.$/);
  mkdirSync(at('folder'));
  assert.match(refusal(at('folder')), /: it is a folder, not a regular file\.$/);
  symlinkSync('/dev/zero', at('zero'));
  assert.match(refusal(at('zero')), /zero: it is a device, not a regular file\.$/);
  symlinkSync('/dev/urandom', at('random'));
  assert.match(refusal(at('random')), /random: it is a device, not a regular file\.$/);
  execFileSync('mkfifo', [at('fifo')]);
  assert.match(refusal(at('fifo')), /fifo: it is a FIFO \(named pipe\), not a regular file\.$/);
  const server = createServer();
  await new Promise<void>((done) => server.listen(at('socket'), done));
  try {
    assert.match(refusal(at('socket')), /socket: it is a socket .*not a regular file\.$/);
  } finally {
    server.close();
  }
});
