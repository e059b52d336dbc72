/**
 * Everything the studio says, as types: what its server and its training worker say to each other
 * (train-worker.ts), and every request and response body of its HTTP API (docs/studio.md), which
 * the server's routes (routes/) and the page (web/src/api.ts) both use. Types only, nothing of
 * Node: the page bundles this file.
 */
import type { TestMetrics } from '../eval/evaluate.js';
import type { TextMetrics } from '../eval/text.js';
import type { BackendInfo } from '../engine/backend.js';
import type { Projection, ProjectionMethod } from '../latent/map.js';
import type { KlRanking as LibraryKlRanking } from '../latent/traverse.js';
import type { DataInfo } from '../run/bundle-format.js';
import type { RunSpec, RunSpecInput } from '../run/spec.js';
import type { EpochRecord } from '../train/fit.js';
import type { VaeConfig } from '../vae/config.js';
import type { LossParts } from '../vae/objective.js';
import type { CodeDistance } from '../pipelines/text-nearest.js';
import type { TextVaeConfig } from '../vae/text/config.js';
import type { TimeKind } from '../data/sources/series.js';
import type { DecodeMode } from '../vae/text/model.js';
export type { CodeDistance, DataInfo, DecodeMode, EpochRecord, RunSpec, RunSpecInput, TestMetrics, TextMetrics, TextVaeConfig, TimeKind, VaeConfig };

/** A run's model: an image or table model's config, or a text model's (its `kind` is 'text'). */
export type ModelConfig = VaeConfig | TextVaeConfig;
/** A run's test metrics: an image or table model's, or a text model's (its `kind` is 'text'). */
export type RunMetrics = TestMetrics | TextMetrics;

// ---- the server and its training worker ------------------------------------------------------

/** The worker's input (workerData). */
export interface WorkerInput {
  /** The run, checked and confined by the server (its outputs.dir is the run folder). */
  spec: RunSpec;
  /** Go on from the run folder's newest checkpoint. */
  resume: boolean;
}

export type RunStatus = 'running' | 'done' | 'stopped' | 'failed';

export interface ProgressEvent {
  epoch: number;
  step: number;
  steps: number;
  running: LossParts;
}

export interface FiguresEvent {
  /** 8 validation examples: original, noisy, denoised (a PNG data URI). */
  reconstructions: string;
  /** 16 prior samples (a PNG data URI). */
  samples: string;
}

export interface EndEvent {
  status: Exclude<RunStatus, 'running'>;
  /** A text run's (trained with vaekit train) are TextMetrics. */
  testMetrics?: RunMetrics;
  error?: string;
}

export interface WarningEvent {
  message: string;
}

/** Worker -> server. `started` comes once the data is loaded and the model built (the run folder exists from then on). */
export type WorkerMessage =
  | { type: 'started'; config: VaeConfig; data: DataInfo; records: EpochRecord[]; trainExamples: number; testExamples: number }
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'epoch'; record: EpochRecord }
  | { type: 'figures'; event: FiguresEvent }
  | { type: 'warning'; message: string }
  | { type: 'end'; event: EndEvent };

/** Server -> worker. */
export type ServerMessage = { type: 'stop' };

// ---- the HTTP API: runs ------------------------------------------------------------------------

/** A refusal: status 4xx (or 500) with one sentence. */
export interface Refusal {
  error: string;
}

/** GET /api/info. */
export interface Info {
  version: string;
  backend: Pick<BackendInfo, 'backend' | 'blas' | 'threads'> & { bf16: boolean; bf16Reason: string | null };
  runsDir: string;
  dataRoots: string[];
  presets: string[];
  /** The id of the running training, or null. */
  training: string | null;
  /** Heavy requests (maps, reports) being worked on now, each in a worker of its own. */
  jobs: number;
  /** Inference requests (decode, denoise, ...) waiting or being answered, one at a time, in the inference worker. */
  inference: number;
}

/** POST /api/data/describe: a data spec (and its labels) as the training form names them. */
export interface DescribeRequest {
  data: string;
  labels?: string;
  labelColumn?: string;
}

export interface DataDescription {
  source: string;
  count: number;
  shape: number[];
  classNames: string[] | null;
}

/** A run as GET /api/runs lists it. */
export interface RunSummary {
  id: string;
  status: RunStatus;
  epochsDone: number;
  epochs: number;
  lastEpoch: EpochRecord | null;
  /** TextMetrics for a text run. */
  testMetrics: RunMetrics | null;
  hasCheckpoint: boolean;
  /** A TextVaeConfig (kind 'text') for a text run. */
  config: ModelConfig | null;
  data: DataInfo | null;
  /** The run spec it was trained from (its studio record's, else its folder's run.json), or null for a folder from before run specs. */
  spec: RunSpec | null;
  createdAt: string;
  error?: string;
}

/** GET /api/runs, newest first. */
export interface RunList {
  runs: RunSummary[];
}

/** GET /api/runs/:id. */
export interface RunDetail extends RunSummary {
  records: EpochRecord[];
}

/** POST /api/runs: a run spec as the library takes it (src/run/spec.ts; the server fills in the rest), and a name for its folder. */
export interface NewRun {
  name?: string;
  spec: RunSpecInput;
}

/** POST /api/runs (201) and POST /api/runs/:id/resume (202). */
export interface RunStarted {
  id: string;
}

/** POST /api/runs/:id/stop (202). */
export interface RunStopped {
  status: RunStatus;
}

/** An event of GET /api/runs/:id/events (the SSE event name and its JSON data). */
export type RunEvent =
  | { event: 'progress'; data: ProgressEvent }
  | { event: 'epoch'; data: EpochRecord }
  | { event: 'figures'; data: FiguresEvent }
  | { event: 'warning'; data: WarningEvent }
  | { event: 'end'; data: EndEvent };

export type RunEventName = RunEvent['event'];
export type RunEventData<E extends RunEventName> = Extract<RunEvent, { event: E }>['data'];

/**
 * GET /api/events: every change of any run's state, pushed to every open tab (the event `run`), so
 * a tab sees a training another tab started, its epochs and its end without a click.
 */
export interface RunChange {
  id: string;
  status: RunStatus;
  epochsDone: number;
}

// ---- the HTTP API: a run's model ----------------------------------------------------------------

/** GET /api/runs/:id/examples. */
export interface ExamplesQuery {
  start?: number;
  count?: number;
}

/** Images as arrays of numbers, channels-last [H, W, C] flattened (or a table's features), with their shape. */
export interface Images {
  images: number[][];
  shape: number[];
}

export interface Examples extends Images {
  labels: number[] | null;
  labelNames: string[] | null;
}

/** GET /api/runs/:id/samples -> Images. `label`: a class name (or index) of a conditional model. */
export interface SamplesQuery {
  count?: number;
  seed?: number;
  label?: string;
}

/** One class index per row, for a conditional model only. */
export interface RowLabels {
  labels?: number[];
}

/** POST /api/runs/:id/encode. */
export interface EncodeRequest extends RowLabels {
  images: number[][];
}

export interface Encoded {
  mean: number[][];
  logvar: number[][];
}

/** POST /api/runs/:id/decode -> Images. */
export interface DecodeRequest extends RowLabels {
  z: number[][];
}

/** POST /api/runs/:id/denoise. `noise`: e.g. "gaussian:0.2" (default "none"); `seed` default 0. */
export interface DenoiseRequest extends RowLabels {
  images: number[][];
  noise?: string;
  seed?: number;
}

export interface Denoised {
  noisy: number[][];
  denoised: number[][];
  shape: number[];
}

/** GET /api/runs/:id/kl-ranking: the library's KlRanking, its dimensions most KL first. */
export interface KlRanking extends Pick<LibraryKlRanking, 'examples' | 'klToPrior'> {
  dims: { dim: number; kl: number; inactive: boolean }[];
}

/** GET /api/runs/:id/latent-map. */
export interface LatentMapQuery {
  method?: ProjectionMethod;
  limit?: number;
}

/** The library's Projection of the latent means, with the means themselves (z) and their labels. */
export interface LatentMap extends Pick<Projection, 'method' | 'xTitle' | 'yTitle'> {
  x: number[];
  y: number[];
  z: number[][];
  labels: number[] | null;
  labelNames: string[];
  pca?: NonNullable<Projection['pca']>;
}

/** POST /api/runs/:id/anomaly: the fields of its multipart form. */
export interface AnomalyUpload {
  /** A .csv or .npy file. */
  file: File;
  /** An NPY labels file beside an NPY `file`. */
  labels?: File;
  labelColumn?: string;
  normalClass?: string;
}

export interface AnomalyResult {
  count: number;
  scores: number[];
  labels: number[] | null;
  labelNames: string[] | null;
  normalClass: string | null;
  auroc: number | null;
  top: { index: number; score: number; image: number[] | null }[];
  /** The Vega-Lite spec of the library's score histogram. */
  histogram: object;
}

// ---- the HTTP API: a text run's model (the Text page) ------------------------------------------

/** A conditional text model's class, by name (or index); required for one, refused for other models. */
export interface TextLabel {
  label?: string;
}

/** POST /api/runs/:id/text/reconstruct: a typed sentence, decoded greedily from its posterior mean. */
export interface TextReconstructRequest extends TextLabel {
  sentence: string;
}

export interface TextReconstruction {
  sentence: string;
  /** The sentence as the model reads it: its tokens in its vocabulary (unknown ones as <unk>), cut at its maximum length. */
  read: string;
  /** Its tokens, and how many of them are not in the vocabulary. */
  tokens: number;
  unknown: number;
  /** Whether it had more tokens than the model's maximum length (the rest were cut). */
  cut: boolean;
  reconstruction: string;
}

/** POST /api/runs/:id/text/nearest: the training sentences whose posterior means are nearest the sentence's. */
export interface TextNearestRequest extends TextLabel {
  sentence: string;
  /** Default cosine. */
  metric?: CodeDistance;
  /** 1 to 50, default 8. */
  count?: number;
}

export interface TextNearest {
  metric: CodeDistance;
  /** Nearest first; `index` is the sentence's place among the training sentences searched. */
  sentences: { index: number; text: string; distance: number }[];
  /** Training sentences searched (the first TEXT_NEAREST_LIMIT of the training part) and in the training part. */
  searched: number;
  total: number;
  /** Where they came from. */
  source: string;
}

/** GET /api/runs/:id/text/samples: sentences decoded from the prior. */
export interface TextSamplesQuery extends TextLabel {
  /** 1 to 32, default 8. */
  count?: number;
  seed?: number;
  /** Default sample. */
  mode?: DecodeMode;
  /** Sampling temperature, greater than 0 and at most 5 (default 1; sample mode only). */
  temperature?: number;
  /** Beam width, 1 to 16 (default 5; beam mode only). */
  beamWidth?: number;
}

export interface TextSamples {
  sentences: string[];
  mode: DecodeMode;
  temperature: number;
  beamWidth: number;
  seed: number;
}

/** POST /api/runs/:id/text/interpolate: sentences decoded (greedily) at evenly spaced points between two sentences' posterior means. */
export interface TextInterpolateRequest extends TextLabel {
  from: string;
  to: string;
  /** 5 to 9 (both ends included), default 7. */
  steps?: number;
}

export interface TextInterpolation {
  steps: { t: number; text: string }[];
}

// ---- the HTTP API: a series run's model (the Series page) ----------------------------------------

/** POST /api/runs/:id/series/score: a series file (or folder) on this machine, inside the studio's data folders. */
export interface SeriesScoreRequest {
  path: string;
  /** The CSV column of the points' anomaly labels (0/1), for the AUROC and AUPRC; none when absent. */
  labelColumn?: string;
}

/** POST /api/runs/:id/series/upload: the fields of its multipart form. */
export interface SeriesUpload {
  /** A .csv, .tsv or .npy file. */
  file: File;
  labelColumn?: string;
}

/** One series as read and scored. Numbers that are NaN (a missing value, a point no window scores) travel as null. */
export interface ScoredSeries {
  /** Its file's name. */
  name: string;
  timeKind: TimeKind;
  /** Each point's time: epoch milliseconds for dates, the time column's numbers, or the index. */
  times: number[];
  /** The values of each channel the model reads, as read (before standardization). */
  channels: { name: string; values: (number | null)[] }[];
  /** Each point's anomaly score (nats; higher is more anomalous), the library's seriesPointScores. */
  scores: (number | null)[];
  /** Each point's label (1 = anomalous), or null without a label column. */
  labels: number[] | null;
}

export interface SeriesScores {
  source: string;
  /** The model's window and stride, in points. */
  window: number;
  stride: number;
  /** Posterior samples averaged per value's score. */
  samples: number;
  series: ScoredSeries[];
  /** Points read, and those with a score. */
  points: number;
  scoredPoints: number;
  /** The starting threshold: the thresholdQuantile quantile of the scores thresholdFrom names. */
  threshold: number;
  thresholdQuantile: number;
  /**
   * Whose scores the threshold's quantile was taken on: 'held-out', those of the held-out normal
   * points of the run that trained the model, as vaekit anomaly --model takes it; 'scored', the
   * scored points' own, when that run's data cannot be read again (thresholdFallback says why).
   */
  thresholdFrom: 'held-out' | 'scored';
  /** The held-out normal points with a score the threshold was taken on; 0 with 'scored'. */
  heldOutPoints: number;
  /** With 'scored': one sentence saying why the threshold comes from this file's own scores; null with 'held-out'. */
  thresholdFallback: string | null;
  labelColumn: string | null;
  /** AUROC and AUPRC of the scores against the labels over the scored points; null without labels or when they are not both normal and anomalous. */
  metrics: { points: number; anomalous: number; auroc: number; auprc: number } | null;
}
