// vaekit studio's start-up refusals, through the built CLI: one line on stderr, exit status 1, no
// stack trace, and no runs folder (or anything else) left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', 'bin', 'vaekit.js');
const work = mkdtempSync(join(tmpdir(), 'vaekit-studio-startup-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const at = (...p: string[]): string => join(work, ...p);

/** Runs `vaekit studio args` and checks the refusal: one line matching `error`, exit 1, no stack, the work folder as it was. */
function refused(args: string[], error: RegExp): void {
  const before = readdirSync(work, { recursive: true }).sort();
  const r = spawnSync(process.execPath, [BIN, 'studio', ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 1, `vaekit studio ${args.join(' ')}: status ${r.status}\n${r.stdout}${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, error);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(r.stdout, '');
  assert.deepEqual(readdirSync(work, { recursive: true }).sort(), before);
}

mkdirSync(at('data'));
writeFileSync(at('a-file'), 'not a folder');

test('a port in use: one sentence, and the runs folder it would have made is not left behind', async () => {
  const holder = createServer();
  await new Promise<void>((done) => holder.listen(0, '127.0.0.1', done));
  const port = (holder.address() as AddressInfo).port;
  try {
    refused(['--port', String(port), '--runs', at('runs', 'studio'), '--data-root', at('data')],
      new RegExp(`^error: Port ${port} on 127\\.0\\.0\\.1 is in use: give --port another port`));
  } finally {
    holder.close();
  }
});

test('a runs folder that is a file or lies under one: one sentence', () => {
  refused(['--port', '0', '--runs', at('a-file'), '--data-root', at('data')], /^error: The runs folder .*a-file is a file, not a folder\.$/);
  refused(['--port', '0', '--runs', at('a-file', 'runs'), '--data-root', at('data')],
    /^error: Cannot make the runs folder .*a-file\/runs: a parent of the path is a file, not a folder\.$/);
});

test('a data root that is missing or a file: one sentence, and no runs folder made', () => {
  refused(['--port', '0', '--runs', at('runs'), '--data-root', at('nope')], /^error: The data folder .*nope does not exist\.$/);
  refused(['--port', '0', '--runs', at('runs'), '--data-root', at('data'), '--data-root', at('a-file')], /^error: The data folder .*a-file is a file, not a folder\.$/);
});
