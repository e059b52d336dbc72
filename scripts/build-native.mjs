#!/usr/bin/env node
// Builds the native addon (build/Release/vaekit.node) with node-gyp. Run by `npm ci` (the package's
// install script) and by `npm run build`.
//
// - Never downloads: node-gyp gets an explicit --nodedir (the running node's own headers), or
//   npm's configured nodedir; with neither, the build is skipped.
// - OpenBLAS is used when `pkg-config --exists openblas` succeeds (VAEKIT_NO_OPENBLAS=1 turns it
//   off); if the OpenBLAS build fails or does not load, the portable kernel is built instead.
// - oneDNN (bf16 mixed precision, `--precision bf16`) is used when pkg-config knows `dnnl` or its
//   CMake package files are in a usual library folder (Debian's libdnnl-dev ships only those);
//   VAEKIT_NO_DNNL=1 turns it off. If a build with it fails or does not load, it is built without.
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

/** Where a oneDNN CMake package may be: the folders CMake itself would search on Linux. */
function dnnlCmakeCandidates() {
  const prefixes = [
    ...(process.env['DNNL_ROOT'] ? [process.env['DNNL_ROOT']] : []),
    ...(process.env['CMAKE_PREFIX_PATH'] ?? '').split(path.delimiter).filter((p) => p !== ''),
    '/usr/local', '/usr', '/opt/intel/oneapi/dnnl/latest',
  ];
  const libDirs = ['lib/x86_64-linux-gnu', 'lib/aarch64-linux-gnu', 'lib64', 'lib'];
  return prefixes.flatMap((prefix) => libDirs.map((lib) => ({ prefix, libDir: path.join(prefix, lib) })));
}

/** oneDNN's compiler and linker flags (pkg-config, else its CMake package files), or null. */
function findDnnl() {
  if (process.env['VAEKIT_NO_DNNL'] === '1') {
    say('VAEKIT_NO_DNNL=1: building without oneDNN (no bf16 mixed precision).');
    return null;
  }
  const exists = run('pkg-config', ['--exists', 'dnnl']);
  if (exists.error === undefined && exists.status === 0) {
    const cflags = run('pkg-config', ['--cflags', 'dnnl']);
    const libs = run('pkg-config', ['--libs', 'dnnl']);
    if (cflags.status === 0 && libs.status === 0) {
      const libFlags = `${libs.stdout.trim()} -lgomp`;
      const rpath = libFlags.split(/\s+/).filter((f) => f.startsWith('-L')).map((f) => f.slice(2)).join(':');
      return { cflags: cflags.stdout.trim(), libs: libFlags, rpath };
    }
  }
  for (const { prefix, libDir } of dnnlCmakeCandidates()) {
    if (!existsSync(path.join(libDir, 'cmake', 'dnnl', 'dnnl-config.cmake'))) continue;
    if (!existsSync(path.join(libDir, 'libdnnl.so')) && !existsSync(path.join(libDir, 'libdnnl.dylib'))) continue;
    const include = path.join(prefix, 'include');
    if (!existsSync(path.join(include, 'oneapi', 'dnnl', 'dnnl.h'))) continue;
    // Debian's oneDNN runs on OpenMP (libgomp): the addon sets its thread count, so it links it too.
    return { cflags: `-I${include}`, libs: `-L${libDir} -ldnnl -lgomp`, rpath: libDir };
  }
  say('oneDNN not found (pkg-config dnnl, or its CMake files): building without bf16 mixed precision.');
  return null;
}

function gypDefines(openblas, dnnl) {
  const defines = openblas === null ? ['-Dvaekit_openblas=false'] : [
    '-Dvaekit_openblas=true',
    `-Dvaekit_openblas_cflags=${openblas.cflags}`,
    `-Dvaekit_openblas_libs=${openblas.libs}`,
    `-Dvaekit_openblas_rpath=${openblas.rpath}`,
  ];
  if (dnnl === null) return [...defines, '-Dvaekit_dnnl=false'];
  return [
    ...defines,
    '-Dvaekit_dnnl=true',
    `-Dvaekit_dnnl_cflags=${dnnl.cflags}`,
    `-Dvaekit_dnnl_libs=${dnnl.libs}`,
    `-Dvaekit_dnnl_rpath=${dnnl.rpath}`,
  ];
}

/** Runs `node-gyp rebuild`; returns the addon's info() on success, or the output that explains the failure. */
function build(nodeGyp, nodeDir, openblas, dnnl) {
  const result = run(process.execPath, [nodeGyp, 'rebuild', '--jobs=max', ...nodeDir, '--', ...gypDefines(openblas, dnnl)]);
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
  const dnnl = findDnnl();
  let attempt = build(nodeGyp, nodeDir, openblas, dnnl);
  if (!attempt.ok && dnnl !== null) {
    process.stdout.write(attempt.output);
    say('the build with oneDNN failed (output above); retrying without it (no bf16 mixed precision).');
    attempt = build(nodeGyp, nodeDir, openblas, null);
  }
  if (!attempt.ok && openblas !== null) {
    process.stdout.write(attempt.output);
    say('the OpenBLAS build failed (output above); retrying with the portable matrix kernel.');
    attempt = build(nodeGyp, nodeDir, null, null);
  }
  if (!attempt.ok) {
    process.stdout.write(attempt.output);
    giveUp('compiler output above');
  }
  say(`built ${path.relative(root, addonPath)}: ${attempt.info}`);
}

main();
