/** What the studio's server and its training worker say to each other (train-worker.ts), and what the page is told of runs. */
import type { DataInfo } from '../run/bundle-format.js';
import type { EpochRecord } from '../train/fit.js';
import type { TestMetrics } from '../eval/evaluate.js';
import type { LossParts } from '../vae/objective.js';
import type { VaeConfig } from '../vae/config.js';
import type { RunSpec } from '../run/spec.js';
export type { RunSpec, RunSpecInput } from '../run/spec.js';

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
  testMetrics?: TestMetrics;
  error?: string;
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

/** A run as GET /api/runs lists it (the web UI imports this type too). */
export interface RunSummary {
  id: string;
  status: RunStatus;
  epochsDone: number;
  epochs: number;
  lastEpoch: EpochRecord | null;
  testMetrics: TestMetrics | null;
  hasCheckpoint: boolean;
  config: VaeConfig | null;
  data: DataInfo | null;
  createdAt: string;
  error?: string;
}
