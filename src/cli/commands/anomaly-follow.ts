/**
 * `vaekit anomaly --model M --follow FILE|-`: the rows of FILE scored as they are appended (or of
 * standard input, with -), each flagged point written to stdout as one line "id,score,threshold"
 * as soon as it is, and one summary line to stderr at the end (Ctrl-C, the end of standard input,
 * or with --stop-at-end the current end of FILE). The threshold is SPOT's (pipelines/follow.ts),
 * calibrated on the first --calibration scores. Nothing is written but with --out: the scores of
 * every row, written once at the end.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseThresholdSpec, type ThresholdSpec } from '../../anomaly/thresholds.js';
import { clip, VaekitError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { csvCell } from '../../io/rows.js';
import { followFile, streamLines, type LineEvent } from '../../io/tail.js';
import { FOLLOW_CALIBRATION, FOLLOW_RISK, followScores, seriesScorer, tableScorer, textScorer, type FollowSummary, type StreamScorer } from '../../pipelines/follow.js';
import { TEXT_ANOMALY_SAMPLES } from '../../pipelines/text-anomaly.js';
import { textCsv } from '../../pipelines/text.js';
import { textModelAt } from '../../pipelines/text-model.js';
import { loadBundle } from '../../run/bundle.js';
import { RUN_FILES } from '../../run/names.js';
import { optionGiven, positiveInt, prepareNewOutputFile, refuseGivenOptions, refuseOptionsOutside } from '../options.js';
import { inFlagWords } from '../spec-flags.js';

export interface FollowFlags {
  follow?: string;
  calibration: number;
  pot: string;
  stopAtEnd?: boolean;
  idColumn?: string;
  model?: string;
  scoreSamples: number;
  samples: number;
  seed: number;
  out: string;
  overwrite?: boolean;
}

/** The options that only --follow reads (attribute names). */
const FOLLOW_ONLY = ['calibration', 'pot', 'stopAtEnd', 'idColumn'];

/** The options that make sense with --follow. */
const WITH_FOLLOW = ['follow', 'model', 'scoreSamples', 'samples', 'seed', 'out', 'overwrite', ...FOLLOW_ONLY];

/** --follow and its options, on the anomaly command. */
export function addFollowOptions(cmd: Command): Command {
  return cmd
    .option('--follow <file>', 'with --model: score the rows of FILE as they are appended (- for standard input), following it across rotation; '
      + 'each flagged point goes to stdout as "id,score,threshold", a summary to stderr at the end (Ctrl-C, the end of standard input, or --stop-at-end)')
    .option('--calibration <n>', `with --follow: the first N scores calibrate the POT threshold and are never flagged (POT's fit needs 10 above its initial level: 452 or more at level 0.98)`, positiveInt, FOLLOW_CALIBRATION)
    .option('--pot <risk[:level]>', 'with --follow: the streaming POT threshold\'s risk (the chance of a normal score above it) and the calibration quantile its tail starts at (default level 0.98)', String(FOLLOW_RISK))
    .option('--stop-at-end', 'with --follow FILE: stop at the current end of FILE instead of waiting for more rows')
    .option('--id-column <name>', 'with --follow and a table model: the column that names each row (default: its number in the stream, 1-based, headers not counted)');
}

/** --pot RISK[:LEVEL] as a POT threshold spec. */
function potSpec(text: string): { risk: number; level: number } {
  const bad = new VaekitError(`--pot must be RISK or RISK:LEVEL, each strictly between 0 and 1, not "${clip(text)}".`);
  let spec: ThresholdSpec;
  try {
    spec = parseThresholdSpec(`pot:${text}`);
  } catch (err) {
    // Its own message lists threshold forms that --pot does not take; one about the risk and the level stands.
    throw err instanceof VaekitError && err.message.startsWith('A threshold must be') ? bad : err;
  }
  if (spec.kind !== 'pot') throw bad;
  return spec;
}

/**
 * Runs --follow when the command line asks for it, and says so (true); otherwise refuses the
 * options that only --follow reads and returns false.
 */
export async function followIfAsked(flags: FollowFlags, command: Command): Promise<boolean> {
  if (flags.follow === undefined) {
    refuseGivenOptions(command, FOLLOW_ONLY, 'goes with --follow');
    return false;
  }
  refuseOptionsOutside(command, WITH_FOLLOW, 'makes no sense with --follow, which scores a stream with a saved --model');
  if (flags.model === undefined) throw new VaekitError('--follow scores a stream with a saved model: give --model DIR.');
  const spec = potSpec(flags.pot);
  const stdin = flags.follow === '-';
  if (stdin && flags.stopAtEnd === true) throw new VaekitError('--stop-at-end stops at the end of a file, and standard input ends by itself.');
  const source = stdin ? 'standard input' : flags.follow;
  const text = textModelAt(flags.model);
  let scorer: StreamScorer;
  if (text !== null) {
    refuseGivenOptions(command, ['scoreSamples', 'idColumn'], 'belongs to table models, and this is a text model (--samples sets its importance samples)');
    const samples = text.vae.latent === 0 ? 1 : optionGiven(command, 'samples') ? flags.samples : TEXT_ANOMALY_SAMPLES;
    scorer = textScorer(text, { samples, seed: flags.seed, source });
  } else {
    refuseGivenOptions(command, ['samples'], 'belongs to text models: a table model averages --score-samples posterior samples per score');
    const bundle = loadBundle(flags.model);
    const series = bundle.data.series ?? null;
    if (series !== null) {
      refuseGivenOptions(command, ['idColumn'], 'belongs to table models: a series model names each point by its time column');
      scorer = seriesScorer(bundle, series, { samples: flags.scoreSamples, seed: flags.seed, source });
    } else {
      scorer = tableScorer(bundle, { samples: flags.scoreSamples, seed: flags.seed, source, ...(flags.idColumn !== undefined ? { idColumn: flags.idColumn } : {}) });
    }
  }
  const outFile = optionGiven(command, 'out') ? join(resolve(flags.out), RUN_FILES.scores) : null;
  if (outFile !== null) prepareNewOutputFile(outFile, flags.overwrite, stdin ? [] : [flags.follow]);
  const rows: string[][] = [];

  // Ctrl-C (or a TERM) ends the stream; what was scored is summed up and written as usual.
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that closes the pipe (| head) ends the stream too, rather than an EPIPE crash.
  process.stdout.on('error', onSignal);
  let summary: FollowSummary;
  try {
    const lines: AsyncIterable<LineEvent> = stdin
      ? streamLines(process.stdin, source, { signal: stop.signal })
      : followFile(flags.follow, { signal: stop.signal, stopAtEnd: flags.stopAtEnd === true });
    summary = await followScores(lines, scorer, {
      calibration: flags.calibration,
      risk: spec.risk,
      level: spec.level,
      onFlagged: (p) => process.stdout.write(`${csvCell(p.id)},${p.score},${p.threshold}\n`),
      onRestart: (why) => process.stderr.write(`vaekit: ${source} was ${why === 'rotated' ? 'replaced' : 'truncated'}; reading it from its start\n`),
      ...(outFile !== null ? { onScored: (p, threshold, flagged) => rows.push([p.id, String(p.score), threshold === null ? '' : String(threshold), flagged ? '1' : '0']) } : {}),
    });
  } catch (err) {
    throw inFlagWords(err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.stdout.off('error', onSignal);
  }
  if (outFile !== null) writeFileAtomic(outFile, textCsv(['id', 'score', 'threshold', 'flagged'], rows));
  const counted = `scored ${summary.scored} rows of ${source} (${scorer.scoreName})`;
  process.stderr.write(summary.calibrated
    ? `vaekit: ${counted}, the first ${flags.calibration} calibrating the threshold; flagged ${summary.flagged}; threshold ${summary.threshold} at risk ${spec.risk}${outFile !== null ? `; every score in ${outFile}` : ''}\n`
    : `vaekit: ${counted}, fewer than the ${flags.calibration} that calibrate the threshold: none flagged${outFile !== null ? `; every score in ${outFile}` : ''}\n`);
  return true;
}
