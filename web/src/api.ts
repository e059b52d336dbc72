// The studio's HTTP API (src/studio/CONTRACT.md) as typed functions. The session token travels in
// the cookie the first page load set, so every request here is a plain same-origin fetch.
import type { EpochRecord } from '../../src/train/fit.js';
import type { TestMetrics } from '../../src/eval/evaluate.js';
import type { VaeConfig } from '../../src/vae/config.js';
import type { DataInfo } from '../../src/run/bundle-format.js';

import type { EndEvent, FiguresEvent, ProgressEvent, RunSpecInput, RunStatus, RunSummary } from '../../src/studio/messages.js';

export type { EpochRecord, TestMetrics, VaeConfig, DataInfo };
// The run and event types are the server's own (src/studio/messages.ts: types only, nothing of Node).
export type { EndEvent, FiguresEvent, ProgressEvent, RunSpecInput, RunStatus, RunSummary };

export type Preset = 'seed' | 'mlp' | 'conv';
export type ImageShape = [number, number, number];

export interface Info {
  version: string;
  backend: { backend: string; blas: string | boolean | null; threads: number; bf16: boolean; bf16Reason: string | null };
  runsDir: string;
  dataRoots: string[];
  presets: string[];
  training: string | null;
}

export interface DataDescription {
  source: string;
  count: number;
  shape: number[];
  classNames: string[] | null;
}

export interface RunDetail extends RunSummary {
  records: EpochRecord[];
}

/** POST /api/runs: a run spec as the library takes it (src/run/spec.ts; the server fills in the rest), and a name for its folder. */
export interface NewRun {
  name?: string;
  spec: RunSpecInput;
}

export interface Examples {
  images: number[][];
  labels: number[] | null;
  labelNames: string[] | null;
  shape: number[];
}

export interface KlRanking {
  dims: { dim: number; kl: number; inactive: boolean }[];
}

export interface LatentMap {
  x: number[];
  y: number[];
  z: number[][];
  labels: number[] | null;
  labelNames: string[];
  xTitle: string;
  yTitle: string;
  pca?: { center: number[]; axes: [number[], number[]] };
}

export interface AnomalyResult {
  count: number;
  scores: number[];
  labels: number[] | null;
  labelNames: string[] | null;
  normalClass: string | null;
  auroc: number | null;
  top: { index: number; score: number; image: number[] | null }[];
  histogram: object;
}

/** A refusal from the server: its status and its one-sentence message. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

async function failure(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`.trim();
  try {
    const body = (await response.json()) as { error?: unknown };
    if (typeof body.error === 'string') message = body.error;
  } catch {
    // Not JSON: keep the status line.
  }
  if (response.status === 401) message = `${message} (open the address vaekit studio printed, with its ?token=, again)`;
  return new ApiError(response.status, message);
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(path, { credentials: 'same-origin', ...init });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

function post<T>(path: string, body: unknown): Promise<T> {
  return call<T>(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

const run = (id: string): string => `/api/runs/${encodeURIComponent(id)}`;

/** The URL of a file of a run's folder. */
export const runFileUrl = (id: string, name: string): string => `${run(id)}/files/${encodeURIComponent(name)}`;
export const reportUrl = (id: string): string => `${run(id)}/report`;
export const exportUrl = (id: string, format: 'onnx' | 'tfjs' | 'pytorch'): string => `${run(id)}/export/${format}`;
export const eventsUrl = (id: string): string => `${run(id)}/events`;
export const scoresCsvUrl = (id: string): string => `${run(id)}/anomaly/scores.csv`;

export const api = {
  info: () => call<Info>('/api/info'),
  describe: (request: { data: string; labels?: string; labelColumn?: string }) => post<DataDescription>('/api/data/describe', request),
  runs: async () => (await call<{ runs: RunSummary[] }>('/api/runs')).runs,
  run: (id: string) => call<RunDetail>(run(id)),
  start: (request: NewRun) => post<{ id: string }>('/api/runs', request),
  stop: (id: string) => post<{ status: RunStatus }>(`${run(id)}/stop`, {}),
  resume: (id: string) => post<{ id: string }>(`${run(id)}/resume`, {}),
  examples: (id: string, start: number, count: number) => call<Examples>(`${run(id)}/examples?start=${start}&count=${count}`),
  klRanking: (id: string) => call<KlRanking>(`${run(id)}/kl-ranking`),
  latentMap: (id: string, method: 'pca' | 'umap', limit: number) => call<LatentMap>(`${run(id)}/latent-map?method=${method}&limit=${limit}`),
  anomaly: (id: string, form: FormData) => call<AnomalyResult>(`${run(id)}/anomaly`, { method: 'POST', body: form }),
  /** The bytes of a file of the run folder. */
  fileBytes: async (id: string, name: string): Promise<Uint8Array> => {
    const response = await fetch(runFileUrl(id, name), { credentials: 'same-origin' });
    if (!response.ok) throw await failure(response);
    return new Uint8Array(await response.arrayBuffer());
  },
};

/** The message of anything thrown, for the page. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
