#!/usr/bin/env node
// Builds the native addon (build/Release/vaekit.node) with node-gyp. Run by `npm ci` (the package's
// install script) and by `npm run build`.
//
// - Never downloads: node-gyp gets an explicit --nodedir (the running node's own headers), or
//   npm's configured nodedir; with neither, the build is skipped.
// - OpenBLAS is used when `pkg-config --exists openblas` succeeds (VAEKIT_NO_OPENBLAS=1 turns it
//   off); if the OpenBLAS build fails or does not load, the portable kernel is built instead.
// - Never fails the install: when no addon can be built it prints the compiler's output, then one
//   line saying vaekit will use the js backend, and exits 0.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const addonPath = path.join(root, 'build', 'Release', 'vaekit.node');
const require = createRequire(import.meta.url);

function say(line) {
  console.log(`vaekit: ${line}`);
}

function giveUp(reason) {
  say(`native build failed (${reason}); vaekit will fall back to the slower js backend.`);
  process.exit(0);
}

/** The --nodedir arguments that keep node-gyp from downloading headers, or null when there are none. */
function nodeDirArgs() {
  const prefix = path.dirname(path.dirname(process.execPath));
  if (existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return [`--nodedir=${prefix}`];
  const configured = process.env['npm_config_nodedir'];
  if (configured !== undefined && configured !== '') {
    say(`no Node headers under ${prefix}/include/node; letting node-gyp use npm's configured nodedir (${configured}).`);
    return [];
  }
  return null;
}

// binding.gyp runs `node` to find node-addon-api's headers: make it this node.
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env['PATH'] ?? ''}` };

function run(command, args) {
  return spawnSync(command, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** OpenBLAS' compiler and linker flags from pkg-config, or null when it is absent or turned off. */
function findOpenblas() {
  if (process.env['VAEKIT_NO_OPENBLAS'] === '1') {
    say('VAEKIT_NO_OPENBLAS=1: building the portable matrix kernel.');
    return null;
  }
  const exists = run('pkg-config', ['--exists', 'openblas']);
  if (exists.error !== undefined || exists.status !== 0) {
    say('OpenBLAS not found by pkg-config: building the portable matrix kernel.');
    return null;
  }
  const cflags = run('pkg-config', ['--cflags', 'openblas']);
  const libs = run('pkg-config', ['--libs', 'openblas']);
  if (cflags.status !== 0 || libs.status !== 0) return null;
  const libFlags = libs.stdout.trim();
  const libDirs = libFlags.split(/\s+/).filter((f) => f.startsWith('-L')).map((f) => f.slice(2));
  return { cflags: cflags.stdout.trim(), libs: libFlags, rpath: libDirs.join(':') };
}

function gypDefines(openblas) {
  if (openblas === null) return ['-Dvaekit_openblas=false'];
  return [
    '-Dvaekit_openblas=true',
    `-Dvaekit_openblas_cflags=${openblas.cflags}`,
    `-Dvaekit_openblas_libs=${openblas.libs}`,
    `-Dvaekit_openblas_rpath=${openblas.rpath}`,
  ];
}

/** Runs `node-gyp rebuild`; returns the addon's info() on success, or the output that explains the failure. */
function build(nodeGyp, nodeDir, openblas) {
  const result = run(process.execPath, [nodeGyp, 'rebuild', '--jobs=max', ...nodeDir, '--', ...gypDefines(openblas)]);
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error !== undefined ? String(result.error) : ''}`;
  if (result.status !== 0) return { ok: false, output };
  // Load it in a fresh process, so a library that links but does not load counts as a failure.
  const probe = run(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(addonPath)}).info()))`]);
  if (probe.status !== 0) return { ok: false, output: `${output}${probe.stderr}` };
  return { ok: true, info: probe.stdout.trim() };
}

function main() {
  let nodeGyp;
  try {
    nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    giveUp('node-gyp is not installed');
  }
  const nodeDir = nodeDirArgs();
  if (nodeDir === null) {
    giveUp(`no Node headers under ${path.dirname(path.dirname(process.execPath))}/include/node and no npm nodedir configured; node-gyp would download them`);
  }
  const openblas = findOpenblas();
  let attempt = build(nodeGyp, nodeDir, openblas);
  if (!attempt.ok && openblas !== null) {
    process.stdout.write(attempt.output);
    say('the OpenBLAS build failed (output above); retrying with the portable matrix kernel.');
    attempt = build(nodeGyp, nodeDir, null);
  }
  if (!attempt.ok) {
    process.stdout.write(attempt.output);
    giveUp('compiler output above');
  }
  say(`built ${path.relative(root, addonPath)}: ${attempt.info}`);
}

main();
