// The studio's HTTP API (docs/studio.md) as typed functions. Every request and response body is a
// type of the server's own (src/studio/messages.ts: types only, nothing of Node), so a change on
// either side breaks the other's type check. The session token travels in the cookie the first
// page load set, so every request here is a plain same-origin fetch.
import type {
  AnomalyResult, AnomalyUpload, CodeDistance, DataDescription, DecodeMode, DescribeRequest, EndEvent, EpochRecord, Examples, ExamplesQuery, FiguresEvent, Info, KlRanking, LatentMap,
  LatentMapQuery, ModelConfig, NewRun, ProgressEvent, Refusal, RunChange, RunDetail, RunEventData, RunEventName, RunList, RunMetrics, RunSpecInput, RunStarted, RunStatus, RunStopped, RunSummary,
  ScoredSeries, SeriesScoreRequest, SeriesScores, SeriesUpload,
  TestMetrics, TextInterpolateRequest, TextInterpolation, TextMetrics, TextNearest, TextNearestRequest, TextReconstruction, TextReconstructRequest, TextSamples, TextSamplesQuery,
  TextVaeConfig,
} from '../../src/studio/messages.js';

export type {
  AnomalyResult, AnomalyUpload, CodeDistance, DataDescription, DecodeMode, EndEvent, EpochRecord, Examples, FiguresEvent, Info, KlRanking, LatentMap, LatentMapQuery, ModelConfig, NewRun, ProgressEvent,
  RunMetrics, RunSpecInput, RunStatus, RunSummary, ScoredSeries, SeriesScores, TestMetrics, TextInterpolation, TextMetrics, TextNearest, TextReconstruction, TextSamples, TextSamplesQuery, TextVaeConfig,
};

export type ImageShape = [number, number, number];

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
    const body = (await response.json()) as Partial<Refusal>;
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

function post<T, B extends object = Record<string, never>>(path: string, body: B): Promise<T> {
  return call<T>(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

/** A query string of the parameters given. */
function query<Q extends object>(parameters: Q): string {
  const given = Object.entries(parameters).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]);
  return given.length === 0 ? '' : `?${new URLSearchParams(given).toString()}`;
}

/** An AnomalyUpload as the multipart form the server reads. */
function formOf(upload: AnomalyUpload): FormData {
  const form = new FormData();
  form.append('file', upload.file, upload.file.name);
  if (upload.labels !== undefined) form.append('labels', upload.labels, upload.labels.name);
  if (upload.labelColumn !== undefined) form.append('labelColumn', upload.labelColumn);
  if (upload.normalClass !== undefined) form.append('normalClass', upload.normalClass);
  return form;
}

const run = (id: string): string => `/api/runs/${encodeURIComponent(id)}`;

/** The URL of a file of a run's folder. */
export const runFileUrl = (id: string, name: string): string => `${run(id)}/files/${encodeURIComponent(name)}`;
export const reportUrl = (id: string): string => `${run(id)}/report`;
export const exportUrl = (id: string, format: 'onnx' | 'tfjs' | 'pytorch'): string => `${run(id)}/export/${format}`;
export const eventsUrl = (id: string): string => `${run(id)}/events`;
export const scoresCsvUrl = (id: string): string => `${run(id)}/anomaly/scores.csv`;
/** GET /api/events: every run's changes, pushed to every tab. */
export const changesUrl = '/api/events';

/** Listens to the studio's `run` changes (GET /api/events), each parsed as the server sends it. */
export function onRunChange(source: EventSource, listener: (change: RunChange) => void): void {
  source.addEventListener('run', (e) => listener(JSON.parse((e as MessageEvent<string>).data) as RunChange));
}

/** Listens to one kind of a run's events, its data parsed as the server sends it. */
export function onRunEvent<E extends RunEventName>(source: EventSource, event: E, listener: (data: RunEventData<E>) => void): void {
  source.addEventListener(event, (e) => listener(JSON.parse((e as MessageEvent<string>).data) as RunEventData<E>));
}

export const api = {
  info: () => call<Info>('/api/info'),
  describe: (request: DescribeRequest) => post<DataDescription, DescribeRequest>('/api/data/describe', request),
  runs: async () => (await call<RunList>('/api/runs')).runs,
  run: (id: string) => call<RunDetail>(run(id)),
  start: (request: NewRun) => post<RunStarted, NewRun>('/api/runs', request),
  stop: (id: string) => post<RunStopped>(`${run(id)}/stop`, {}),
  resume: (id: string) => post<RunStarted>(`${run(id)}/resume`, {}),
  examples: (id: string, q: ExamplesQuery) => call<Examples>(`${run(id)}/examples${query(q)}`),
  klRanking: (id: string) => call<KlRanking>(`${run(id)}/kl-ranking`),
  latentMap: (id: string, q: LatentMapQuery) => call<LatentMap>(`${run(id)}/latent-map${query(q)}`),
  anomaly: (id: string, upload: AnomalyUpload) => call<AnomalyResult>(`${run(id)}/anomaly`, { method: 'POST', body: formOf(upload) }),
  /** A text run's model (the Text page). */
  text: {
    reconstruct: (id: string, request: TextReconstructRequest) => post<TextReconstruction, TextReconstructRequest>(`${run(id)}/text/reconstruct`, request),
    nearest: (id: string, request: TextNearestRequest) => post<TextNearest, TextNearestRequest>(`${run(id)}/text/nearest`, request),
    samples: (id: string, q: TextSamplesQuery) => call<TextSamples>(`${run(id)}/text/samples${query(q)}`),
    interpolate: (id: string, request: TextInterpolateRequest) => post<TextInterpolation, TextInterpolateRequest>(`${run(id)}/text/interpolate`, request),
  },
  /** A series run's model (the Series page): a series on this machine, or an upload, scored point by point. */
  series: {
    score: (id: string, request: SeriesScoreRequest) => post<SeriesScores, SeriesScoreRequest>(`${run(id)}/series/score`, request),
    upload: (id: string, upload: SeriesUpload) => {
      const form = new FormData();
      form.append('file', upload.file, upload.file.name);
      if (upload.labelColumn !== undefined) form.append('labelColumn', upload.labelColumn);
      return call<SeriesScores>(`${run(id)}/series/upload`, { method: 'POST', body: form });
    },
  },
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
