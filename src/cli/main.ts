/**
 * The `vaekit` command line: a thin shell over the library, one file per command in commands/.
 * Every error a user can cause prints one line to stderr and exits with status 1.
 */
import { Command } from 'commander';
import { VaekitError } from '../errors.js';
import { inFlagText } from './spec-flags.js';
import * as anomaly from './commands/anomaly.js';
import * as denoise from './commands/denoise.js';
import * as encode from './commands/encode.js';
import * as evaluate from './commands/eval.js';
import * as exportCommand from './commands/export.js';
import * as exportData from './commands/export-data.js';
import * as figures from './commands/figures.js';
import * as info from './commands/info.js';
import * as interpolate from './commands/interpolate.js';
import * as map from './commands/map.js';
import * as report from './commands/report.js';
import * as sample from './commands/sample.js';
import * as studio from './commands/studio.js';
import * as summary from './commands/summary.js';
import * as train from './commands/train.js';
import * as traverse from './commands/traverse.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('vaekit')
    .description('Variational autoencoders in TypeScript: train, evaluate and use VAEs on MNIST or your own images and tables.')
    .version('0.1.0')
    .showSuggestionAfterError(true);
  for (const command of [info, summary, train, denoise, figures, sample, evaluate, anomaly, encode, interpolate, traverse, map, exportCommand, exportData, report, studio]) command.register(program);
  return program;
}

/** Runs the CLI; user errors become one line on stderr and exit status 1. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.stderr.write(`error: ${describeError(err)}\n`);
    process.exitCode = 1;
  }
}

function describeError(err: unknown): string {
  if (err instanceof VaekitError) return inFlagText(err.message);
  const e = err as NodeJS.ErrnoException;
  if (e !== null && typeof e === 'object' && typeof e.code === 'string' && typeof e.path === 'string') {
    return `cannot access ${e.path} (${e.code}).`;
  }
  // Not a user error: keep the detail for the bug report.
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
