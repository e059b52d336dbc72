// npm run fuzz: the readers of outside bytes against many more mutated and generated inputs than CI
// runs (test/fuzz.test.ts and test/helpers/fuzz.ts say what is tried and what must hold). Prints a
// table (reader, cases, accepted, rejected, failures, seconds), the CPU and the seed, every failure
// with the command that replays it, and exits non-zero on any failure.
//
//   npm run fuzz                                  12 seconds per reader, seed 1
//   npm run fuzz -- --seconds 60 --seed 7         longer, another seed
//   npm run fuzz -- --cases 20000                 a number of cases per reader instead
//   npm run fuzz -- --reader npy --case-seed 123  replay one case (from a failure's line)
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { allTargets, describeFailure, type Report } from '../test/helpers/fuzz.js';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string' },
    cases: { type: 'string' },
    seed: { type: 'string', default: '1' },
    reader: { type: 'string' },
    'case-seed': { type: 'string' },
  },
});

function whole(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`error: --${name} must be a whole number >= 0, not ${JSON.stringify(text)}.`);
    process.exit(2);
  }
  return n;
}

const seed = whole('seed', flags.seed)!;
const cases = whole('cases', flags.cases);
const only = whole('case-seed', flags['case-seed']);
const seconds = flags.seconds !== undefined ? Number(flags.seconds) : cases === undefined ? 12 : undefined;
if (seconds !== undefined && !(seconds > 0)) {
  console.error(`error: --seconds must be a positive number, not ${JSON.stringify(flags.seconds)}.`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'vaekit-fuzz-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const targets = (await allTargets(work)).filter((t) => flags.reader === undefined || t.name === flags.reader);
if (targets.length === 0) {
  console.error(`error: no reader is named ${JSON.stringify(flags.reader)}; see the table of a plain run for the names.`);
  process.exit(2);
}
if (only !== undefined && (targets.length !== 1 || targets[0]!.kind !== 'mutations')) {
  console.error('error: --case-seed replays one case of one mutation reader (pass --reader too); a fast-check failure replays with the --seed and --cases it names.');
  process.exit(2);
}

const limit = only !== undefined ? 'one case' : cases !== undefined ? `${cases} cases per reader` : `${seconds} s per reader`;
console.log(`vaekit fuzz: seed ${seed}, ${limit}, on ${cpus()[0]?.model ?? 'an unknown CPU'} (${cpus().length} cores), node ${process.version}`);
const start = performance.now();
const reports: Report[] = [];
for (const target of targets) {
  const report = await target.run({ seed, ...(cases !== undefined ? { cases } : {}), ...(seconds !== undefined && cases === undefined ? { seconds } : {}), ...(only !== undefined ? { only } : {}) });
  reports.push(report);
  console.error(`  ${report.reader}: ${report.cases} cases, ${report.failures.length} failures`);
}

const rows = [['reader', 'cases', 'accepted', 'rejected', 'failures', 'seconds'],
  ...reports.map((r) => [r.reader, String(r.cases), String(r.accepted), String(r.rejected), String(r.failures.length), r.seconds.toFixed(1)])];
const widths = rows[0]!.map((_, j) => Math.max(...rows.map((row) => row[j]!.length)));
const line = (row: string[]): string => row.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join('  ');
console.log(`\n${line(rows[0]!)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.slice(1).map(line).join('\n')}`);
const total = reports.reduce((n, r) => n + r.cases, 0);
const failures = reports.flatMap((r) => r.failures);
console.log(`\n${total} cases, ${failures.length} failures, ${((performance.now() - start) / 1000).toFixed(0)} s; seed ${seed}; CPU ${cpus()[0]?.model ?? 'unknown'}.`);
for (const r of reports) if (r.replay !== undefined) console.log(`${r.reader} case ${only}: ${r.replay}`);
for (const f of failures.slice(0, 50)) console.log(describeFailure(f));
if (failures.length > 50) console.log(`... and ${failures.length - 50} more.`);
process.exitCode = failures.length > 0 ? 1 : 0;
