/**
 * Streaming anomaly detection: rows scored as they arrive (a file that grows, standard input), and
 * flagged against a threshold that learns as it goes, SPOT (Siffer et al. 2017; class Spot in
 * anomaly/thresholds.ts): the first `calibration` scores fit the initial POT threshold and are
 * never flagged; from then on a score strictly above the current threshold is flagged (and left
 * out of the tail model), and any other score above the initial threshold moves it.
 *
 * A model plugs in as a StreamScorer, which turns one line into one point's id and score:
 * - tableScorer: a CSV row with the model's feature columns (by name, from the header), in the
 *   model's units as prepareForModel puts them, scored by its negative ELBO (anomalyScores).
 * - textScorer: a line is a sentence, scored by its negative log-likelihood per token
 *   (scoreTextAnomalies).
 * - seriesScorer: a CSV row is a point of a series model's time and value columns (by name), in
 *   the model's units; it keeps the last W points and scores the newest point of each full window
 *   by its values' -log p(x | z) (Donut's streaming score: the window that ends at the point, not
 *   the mean over every window covering it that scoring a whole file gives), null until W points came.
 *
 * Each scorer draws its posterior samples from one generator that carries on from row to row, so
 * a stream's scores are reproducible from the seed whatever pieces the rows arrive in. A text
 * stream's scores are those of one pass over the same sentences with the same seed; a table
 * stream's are with one sample per score (--score-samples 1): with more, each row averages as
 * many samples, drawn in another order than a pass over the whole set draws them.
 */
import { arrayDataset } from '../data/dataset.js';
import { columnIndex, columnNames, MISSING, NUMBER, parseQuoted } from '../data/sources/csv.js';
import { clip, VaekitError } from '../errors.js';
import { anomalyScoreRng, anomalyScores } from '../eval/anomaly.js';
import { evalSampleRng } from '../eval/evaluate.js';
import { POT_LEVEL, POT_MIN_PEAKS, Spot } from '../anomaly/thresholds.js';
import type { LineEvent } from '../io/tail.js';
import type { Bundle, TextBundle } from '../run/bundle.js';
import type { SeriesDataInfo } from '../run/bundle-format.js';
import { prepareForModel } from '../run/data.js';
import { scoreTextAnomalies } from './text-anomaly.js';
import { textsForModel } from './text.js';

/** One scored point: which row it is (its id, or its number in the stream) and its anomaly score. */
export interface ScoredPoint {
  id: string;
  score: number;
}

/** A flagged point with the threshold it was above when it came. */
export interface FlaggedPoint extends ScoredPoint {
  threshold: number;
}

/** Turns the lines of a stream into scored points, one model's way. */
export interface StreamScorer {
  /** What a score is, for the summary ("negative ELBO, nats"). */
  readonly scoreName: string;
  /** A new file begins (the first, or one that replaced it): a table reads its header next. */
  restart(): void;
  /** One line's point, or null when the line scores nothing (a header, a blank line, a series window not yet full). */
  push(line: string): ScoredPoint | null;
}

/** Calibration scores unless told otherwise: with the default level (0.98), 20 peaks for POT's fit. */
export const FOLLOW_CALIBRATION = 1000;

/** The POT risk of a streaming threshold unless told otherwise. */
export const FOLLOW_RISK = 1e-3;

export interface FollowOptions {
  /** The first scores of the stream, which calibrate POT and are never flagged. */
  calibration: number;
  /** POT risk: the chance of a normal score above the threshold. */
  risk: number;
  /** The quantile of the calibration scores POT's initial threshold sits at. */
  level?: number;
  /** Each flagged point, as soon as it is. */
  onFlagged: (point: FlaggedPoint) => void;
  /** Every scored point with the threshold it met (null while calibrating) and whether it was flagged. */
  onScored?: (point: ScoredPoint, threshold: number | null, flagged: boolean) => void;
  /** A file replaced the one followed, or it was truncated. */
  onRestart?: (why: 'rotated' | 'truncated') => void;
}

export interface FollowSummary {
  /** Points scored, the calibration's included. */
  scored: number;
  /** Points flagged (after calibration). */
  flagged: number;
  /** Whether the calibration scores all came, so that points could be flagged. */
  calibrated: boolean;
  /** The threshold when the stream ended, or null before calibration. */
  threshold: number | null;
  /** Files that replaced (or truncated) the one followed. */
  restarts: number;
}

/** Calibration scores above POT's initial threshold at `level`: those above position level (n - 1), ties aside. */
function expectedPeaks(calibration: number, level: number): number {
  return calibration - 1 - Math.floor(level * (calibration - 1));
}

/** Refuses, before any line is read, a calibration too short for POT's fit or a risk it cannot reach. */
export function checkFollowOptions(calibration: number, risk: number, level = POT_LEVEL): void {
  if (!Number.isInteger(calibration) || calibration < 1) throw new VaekitError(`follow.calibration must be a whole number of scores, not ${calibration}.`);
  if (!(risk > 0 && risk < 1) || !(level > 0 && level < 1)) throw new VaekitError(`A POT risk and level must lie strictly between 0 and 1, not ${risk} and ${level}.`);
  const peaks = expectedPeaks(calibration, level);
  if (peaks < POT_MIN_PEAKS) {
    let enough = calibration;
    while (expectedPeaks(enough, level) < POT_MIN_PEAKS) enough++;
    throw new VaekitError(`follow.calibration ${calibration} leaves ${peaks} scores above POT's initial ${level}-quantile, and its fit needs ${POT_MIN_PEAKS}: calibrate on ${enough} scores or more, or lower the level.`);
  }
  if (risk >= peaks / calibration) {
    throw new VaekitError(`A POT risk must be below the share of calibration scores above the initial threshold (${peaks} of ${calibration}), not ${risk}: lower it, or calibrate on more scores.`);
  }
}

/** Scores the lines as they come and flags points with SPOT (see the top of this file), until the lines end. */
export async function followScores(lines: AsyncIterable<LineEvent>, scorer: StreamScorer, options: FollowOptions): Promise<FollowSummary> {
  const level = options.level ?? POT_LEVEL;
  checkFollowOptions(options.calibration, options.risk, level);
  const calibration: number[] = [];
  let spot: Spot | null = null;
  const summary: FollowSummary = { scored: 0, flagged: 0, calibrated: false, threshold: null, restarts: 0 };
  for await (const event of lines) {
    if (event.kind === 'file') {
      scorer.restart();
      if (event.why !== 'start') {
        summary.restarts++;
        options.onRestart?.(event.why);
      }
      continue;
    }
    const point = scorer.push(event.text);
    if (point === null) continue;
    summary.scored++;
    if (spot === null) {
      calibration.push(point.score);
      options.onScored?.(point, null, false);
      if (calibration.length === options.calibration) {
        spot = new Spot(calibration, options.risk, level);
        summary.calibrated = true;
      }
    } else {
      const threshold = spot.threshold;
      const flagged = spot.update(point.score);
      options.onScored?.(point, threshold, flagged);
      if (flagged) {
        summary.flagged++;
        options.onFlagged({ ...point, threshold });
      }
    }
    summary.threshold = spot?.threshold ?? null;
  }
  return summary;
}

/** A table's cells from one CSV line (a ".tsv" source is tab-separated); quoted cells as csv.ts reads them. */
function csvCells(line: string, source: string): string[] {
  const delimiter = source.toLowerCase().endsWith('.tsv') ? '\t' : ',';
  if (!line.includes('"')) return line.split(delimiter).map((cell) => cell.trim());
  let cells: string[] = [];
  parseQuoted(line, source, delimiter, (record) => {
    cells = record;
  });
  return cells;
}

/** One data row of a CSV stream (csvRows): its number (1-based, headers not counted), cells, the header's names, the wanted columns' indices in it, and its id. */
interface CsvRow {
  row: number;
  cells: string[];
  names: readonly string[];
  columns: readonly number[];
  id: string;
}

/**
 * The rows of a CSV stream read by column name: each file's first line (after restart) is its
 * header, in which the `wanted` columns (the `what`, for messages) and the id column (else a row's
 * number) are found; then every non-blank line is a row whose cells the header counts.
 */
function csvRows(source: string, wanted: readonly string[], what: string, idColumn: { name: string; what: string } | null): {
  restart(): void;
  next(line: string): CsvRow | null;
} {
  let names: string[] | null = null;
  let columns: number[] = [];
  let idIndex = -1;
  let row = 0;
  return {
    restart() {
      names = null;
    },
    next(line) {
      if (line.trim() === '') return null;
      const cells = csvCells(line, source);
      if (names === null) {
        names = columnNames(cells, source);
        const header = names;
        columns = wanted.map((name) => columnIndex(header, name, what, source));
        idIndex = idColumn === null ? -1 : columnIndex(header, idColumn.name, idColumn.what, source);
        return null;
      }
      row++;
      if (cells.length !== names.length) throw new VaekitError(`${source}: row ${row} has ${cells.length} cells but the header names ${names.length} columns.`);
      return { row, cells, names, columns, id: idIndex < 0 ? String(row) : cells[idIndex]! };
    },
  };
}

export interface TableScorerOptions {
  /** Posterior samples averaged per score. */
  samples: number;
  seed: number;
  /** Where the lines come from, for messages (a file's name, "standard input"). */
  source: string;
  /** The column that names each row; by default a row is its number in the stream (1-based, headers not counted). */
  idColumn?: string;
}

/**
 * Rows of a CSV table scored by a table model: each file's first line is its header, which must
 * name the model's features (other columns, such as a time, an id or a label, are ignored).
 */
export function tableScorer(bundle: Bundle, options: TableScorerOptions): StreamScorer {
  const { vae, data } = bundle;
  const { source } = options;
  const features = data.featureNames ?? null;
  if (data.shape.length !== 1) throw new VaekitError(`Following a stream scores rows of a table, and this is an image model (its examples are [${data.shape.join(', ')}]).`);
  if (features === null) throw new VaekitError('This table model does not know its features\' names (it was trained on unnamed columns), so the columns of a streamed CSV header cannot be matched to them.');
  if (vae.classes > 0) throw new VaekitError('This is a conditional model, which scores a row given its class: a stream\'s anomaly scores need a model that is not conditional.');
  const rng = anomalyScoreRng(options.seed);
  const rows = csvRows(source, features, 'model\'s features', options.idColumn === undefined ? null : { name: options.idColumn, what: 'ids' });
  return {
    scoreName: 'negative ELBO, nats',
    restart() {
      rows.restart();
    },
    push(line) {
      const next = rows.next(line);
      if (next === null) return null;
      const { row, cells, names, columns } = next;
      const values = new Float32Array(columns.length);
      columns.forEach((j, f) => {
        const cell = cells[j]!;
        const where = `${source}: row ${row}, column "${clip(names[j]!)}"`;
        if (!NUMBER.test(cell)) {
          throw new VaekitError(cell === '' || MISSING.test(cell) ? `${where} is missing a value; every feature must hold a number.` : `${where}: "${clip(cell)}" is not a number.`);
        }
        values[f] = Number(cell);
        if (!Number.isFinite(values[f]!)) throw new VaekitError(`${where}: ${clip(cell)} is too large for a float32 number.`);
      });
      const set = prepareForModel(data, arrayDataset({ values, shape: [values.length], featureNames: features, source }), false);
      return { id: next.id, score: anomalyScores(vae, set, options.samples, options.seed, rng)[0]! };
    },
  };
}

/** Lines of text scored by a text model, each a sentence (blank lines skipped), by its negative log-likelihood per token. */
export function textScorer(model: TextBundle, options: { samples: number; seed: number; source: string }): StreamScorer {
  if (model.vae.classes > 0) throw new VaekitError('This is a conditional text model, which scores a sentence given its class: a stream\'s anomaly scores need a model that is not conditional.');
  const rng = evalSampleRng(options.seed);
  let row = 0;
  return {
    scoreName: 'negative log-likelihood per token, nats',
    restart() {},
    push(line) {
      if (line.trim() === '') return null;
      row++;
      const set = textsForModel(model, [line], `${options.source}, line ${row}`);
      return { id: String(row), score: scoreTextAnomalies(model.vae, set, { samples: options.samples, seed: options.seed, rng }).scores[0]! };
    },
  };
}

/**
 * Points of a series model's CSV stream (see the top of this file): each file's first line is its
 * header, naming the model's time column (the point's id) and value columns; an empty or NaN cell is
 * a missing value (left out of the score, as in training). A rotated file's points continue the
 * window. A point whose values are all missing scores nothing (null).
 */
export function seriesScorer(bundle: Bundle, info: SeriesDataInfo, options: { samples: number; seed: number; source: string }): StreamScorer {
  const { vae } = bundle;
  const { source } = options;
  if (info.valueColumns === null) throw new VaekitError('This series model was trained on NPY arrays, whose channels have no names, so the columns of a streamed CSV header cannot be matched to them.');
  if (vae.classes > 0) throw new VaekitError('This is a conditional model, which scores a window given its class: a stream\'s anomaly scores need a model that is not conditional.');
  const valueColumns = info.valueColumns;
  const W = info.window;
  const C = valueColumns.length;
  const { mean, std } = info.standardization;
  const rng = anomalyScoreRng(options.seed);
  // The last W points, oldest first: standardized values (0 where missing) and their mask.
  const values = new Float32Array(W * C);
  const mask = new Uint8Array(W * C);
  const nll = new Float64Array(W * C);
  let filled = 0;
  const rows = csvRows(source, valueColumns, 'model\'s value columns', info.timeColumn === null ? null : { name: info.timeColumn, what: 'times' });
  return {
    scoreName: 'negative log-likelihood of the newest point of its window, nats',
    restart() {
      rows.restart();
    },
    push(line) {
      const next = rows.next(line);
      if (next === null) return null;
      const { row, cells, names, columns } = next;
      values.copyWithin(0, C);
      mask.copyWithin(0, C);
      const at = (W - 1) * C;
      columns.forEach((j, c) => {
        const cell = cells[j]!;
        if (cell.trim() === '' || MISSING.test(cell)) {
          values[at + c] = 0;
          mask[at + c] = 0;
          return;
        }
        if (!NUMBER.test(cell)) throw new VaekitError(`${source}: row ${row}, column "${clip(names[j]!)}": "${clip(cell)}" is not a number.`);
        // Read as float32 first, as a series file's values are (series.ts), then standardized as windows.ts does.
        values[at + c] = (Math.fround(Number(cell)) - mean[c]!) / std[c]!;
        mask[at + c] = 1;
      });
      filled = Math.min(W, filled + 1);
      if (filled < W) return null;
      let observed = 0;
      for (let c = 0; c < C; c++) observed += mask[at + c]!;
      if (observed === 0) return null;
      vae.reconstructionNll(values, mask, 1, options.samples, rng, nll);
      let score = 0;
      for (let c = 0; c < C; c++) if (mask[at + c] === 1) score += nll[at + c]!;
      return { id: next.id, score };
    },
  };
}
