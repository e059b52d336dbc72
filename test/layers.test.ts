// The stack of docs/architecture.md, checked on the source: every import in src/ goes to its own
// folder or to a folder below it, never up and never sideways between two folders on one floor.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { test } from 'node:test';

const SRC = join(import.meta.dirname, '..', 'src');

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
    return e.name.endsWith('.ts') ? [path] : [];
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
