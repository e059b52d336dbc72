// The stack of docs/architecture.md, checked on the source: every import in src/ goes to its own
// folder or to a folder below it, never up and never sideways between two folders on one floor.
// A run folder's file names are spelled once, in src/run/names.ts. And the library speaks its own
// words: no CLI flag outside src/cli/ (a setting is named by its dotted name, model.latent, and the
// CLI says --latent).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { test } from 'node:test';
import { RUN_FILES } from '../src/run/names.js';

const SRC = join(import.meta.dirname, '..', 'src');
const WEB = join(import.meta.dirname, '..', 'web', 'src');

/** The floors, lowest first (docs/architecture.md, "The stack"). */
const FLOORS: readonly (readonly string[])[] = [
  ['errors.ts', 'progress.ts', 'version.ts'],
  ['engine'],
  ['io'],
  ['data'],
  ['nn'],
  ['vae'],
  ['latent'],
  ['eval'],
  ['anomaly'],
  ['viz'],
  ['train'],
  ['run'],
  ['pipelines'],
  ['report', 'export'],
  ['studio'],
  ['cli'],
  ['index.ts', 'browser.ts'],
];

/** A module's place: its folder under src/ (or its file name for src/'s own files). */
function placeOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length === 1 ? parts[0]! : parts[0]!;
}

function floorOf(place: string): number {
  const floor = FLOORS.findIndex((names) => names.includes(place));
  assert.ok(floor >= 0, `src/${place} is on no floor of the stack: add it to docs/architecture.md and to FLOORS here`);
  return floor;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') || e.name.endsWith('.tsx') ? [path] : [];
  });
}

/** The relative modules a file imports or re-exports (type-only imports included: they are arrows too). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?\bfrom\s+'(\.{1,2}\/[^']+)'/g)) found.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g)) found.push(m[1]!);
  return found.map((spec) => normalize(join(dirname(file), spec.replace(/\.js$/, '.ts'))));
}

test('the parser sees imports, re-exports and dynamic imports', () => {
  const files = sources(SRC);
  const all = files.flatMap(importsOf);
  assert.ok(files.length > 100 && all.length > 500, `${files.length} files, ${all.length} imports`);
  assert.ok(importsOf(join(SRC, 'index.ts')).some((f) => f.endsWith(join('run', 'plan.ts'))), 'index.ts re-exports run/plan.ts');
});

test('no import in src/ runs up the stack or sideways across a floor', () => {
  const wrong: string[] = [];
  for (const file of sources(SRC)) {
    const from = placeOf(file);
    for (const target of importsOf(file)) {
      const to = placeOf(target);
      if (to === from) continue;
      const [a, b] = [floorOf(from), floorOf(to)];
      if (b >= a) wrong.push(`src/${relative(SRC, file)} imports src/${relative(SRC, target)} (${from} is on floor ${a}, ${to} on floor ${b})`);
    }
  }
  assert.deepEqual(wrong, []);
});

/** A file's code without its comments (line comments that start a line, and block comments). */
function code(file: string): string {
  return readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** Where a run folder's file names are spelled as strings: 'metrics.jsonl', `${dir}/metrics.jsonl`. */
function spelledNames(text: string): string[] {
  return Object.values(RUN_FILES).filter((name) => new RegExp(`(['"\`]|\\}/)${name.replace(/[.]/g, '\\.')}['"\`]`).test(text));
}

test('the name finder sees a quoted name and a path built in a template', () => {
  assert.deepEqual(spelledNames("join(dir, 'metrics.jsonl')"), ['metrics.jsonl']);
  assert.deepEqual(spelledNames('`${dir}/weights.safetensors`'), ['weights.safetensors']);
  assert.deepEqual(spelledNames("'/runs/:id/anomaly/scores.csv' // metrics.jsonl"), []);
});

test('a run folder\'s file names are spelled only in src/run/names.ts', () => {
  // export/pytorch/python.ts is model.py, embedded: Python's own program, which writes a bundle vaekit loads.
  const exempt = new Set([join(SRC, 'run', 'names.ts'), join(SRC, 'export', 'pytorch', 'python.ts')]);
  const found = [...sources(SRC), ...sources(WEB)].filter((f) => !exempt.has(f))
    .flatMap((file) => spelledNames(code(file)).map((name) => `${relative(join(SRC, '..'), file)} spells ${name}`));
  assert.deepEqual(found, []);
});

/** The CLI flags a file's code (its comments left out) spells: --latent, --image-size (not a CSS variable, var(--ink)). */
function flagsIn(text: string): string[] {
  return [...text.matchAll(/(?<![\w-]|var\()--[a-z][a-z0-9-]*/g)].map((m) => m[0]);
}

test('the flag finder sees a flag in a message and not a decrement or a CSS variable', () => {
  assert.deepEqual(flagsIn("throw new VaekitError(`pass --image-size HxW (--channels 3)`); i--; x = 'var(--accent)'"), ['--image-size', '--channels']);
});

test('no CLI flag is spelled in src/ outside src/cli/', () => {
  // export/torchrun.ts builds torchrun's and train.py's own command lines: another program's flags.
  const exempt = new Set([join(SRC, 'export', 'pytorch', 'python.ts'), join(SRC, 'export', 'torchrun.ts')]);
  const found = sources(SRC).filter((f) => !exempt.has(f) && placeOf(f) !== 'cli')
    .flatMap((file) => flagsIn(code(file)).map((flag) => `${relative(join(SRC, '..'), file)} spells ${flag}`));
  assert.deepEqual(found, []);
});
