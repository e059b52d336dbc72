/**
 * The studio's runs folder: one folder per run (the library's model bundle, metrics and
 * checkpoints, plus studio.json: the request it was started with, when, and how it ended), their
 * summaries, and the one training that runs at a time, in a worker thread (train-worker.ts).
 * Folders that the CLI trained into the runs folder are listed too (status from their files).
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { DataInfo } from '../run/bundle.js';
import { checkpointFiles } from '../run/checkpoints.js';
import { readRunRecord } from '../run/folder.js';
import { readJsonLines } from '../pipelines/figures.js';
import { RUN_FILES } from '../run/names.js';
import { validateRunSpec, type RunSpec } from '../run/spec.js';
import type { EpochRecord } from '../train/fit.js';
import type { VaeConfig } from '../vae/config.js';
import type { EndEvent, FiguresEvent, ModelConfig, RunMetrics, ProgressEvent, RunChange, RunDetail, RunEvent, RunStatus, RunSummary, ServerMessage, WorkerInput, WorkerMessage } from './messages.js';
import { checkRunId, confineRunData, HttpError, isInside, RUN_ID } from './security.js';
import { inFormWords } from './words.js';
import { startWorker } from './worker-start.js';

/** What studio.json keeps. */
export interface RunMeta {
  id: string;
  createdAt: string;
  /** The run spec it trains (studio.json from before run specs kept the form's request: read as a spec). */
  spec: RunSpec;
  status: RunStatus;
  error?: string;
  config?: VaeConfig;
  data?: DataInfo;
}

/** The training that runs now. */
class Training {
  readonly records: EpochRecord[] = [];
  figures: FiguresEvent | null = null;
  progress: ProgressEvent | null = null;
  started = false;
  meta: RunMeta | null = null;
  readonly listeners = new Set<(e: RunEvent) => void>();
  readonly ended: Promise<EndEvent>;
  private finish!: (e: EndEvent) => void;
  private done = false;

  constructor(readonly id: string, readonly dir: string, readonly worker: Worker) {
    this.ended = new Promise((resolve) => { this.finish = resolve; });
  }

  emit(e: RunEvent): void {
    for (const listener of this.listeners) listener(e);
  }

  end(e: EndEvent): void {
    if (this.done) return;
    this.done = true;
    this.emit({ event: 'end', data: e });
    this.finish(e);
  }
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The epoch records of a run folder: metrics.jsonl with each epoch's time from timing.jsonl. */
export function readRecords(dir: string): EpochRecord[] {
  const metrics = join(dir, RUN_FILES.metrics);
  if (!existsSync(metrics)) return [];
  try {
    const timing = existsSync(join(dir, RUN_FILES.timing)) ? readJsonLines(join(dir, RUN_FILES.timing)) : [];
    const times = new Map(timing.map((t) => [t['epoch'], t]));
    return readJsonLines(metrics).map((r) => {
      const t = times.get(r['epoch']);
      return { ...r, seconds: Number(t?.['seconds'] ?? 0), imagesPerSecond: Number(t?.['imagesPerSecond'] ?? 0) } as unknown as EpochRecord;
    });
  } catch {
    return [];
  }
}

export class RunStore {
  private active: Training | null = null;
  /** The last figures of runs that trained since the studio started (a stream of a finished run shows them). */
  private readonly lastFigures = new Map<string, FiguresEvent>();

  /** Every open GET /api/events: told of each run's start, epochs and end. */
  private readonly watchers = new Set<(change: RunChange) => void>();

  /** `readRoots`: the real paths data may come from (a resumed run's data is confined again). */
  constructor(readonly runsDir: string, private readonly readRoots: readonly string[], private readonly log: (line: string) => void) {}

  /** The id of the running training, or null. */
  get training(): string | null {
    return this.active !== null && this.active.started ? this.active.id : null;
  }

  /** The folder of run `id` (checked: a valid id, inside the runs folder with symlinks resolved); 404 when there is none. */
  runDir(id: string): string {
    checkRunId(id);
    const dir = join(this.runsDir, id);
    if (this.active?.id === id && this.active.started) return dir;
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new HttpError(404, `There is no run "${id}".`);
    if (!isInside(this.runsDir, realpathSync(dir))) throw new HttpError(403, `The run "${id}" is outside the folders this studio may read.`);
    if (!existsSync(join(dir, RUN_FILES.studio)) && !existsSync(join(dir, RUN_FILES.config)) && checkpointFiles(dir).length === 0) {
      throw new HttpError(404, `There is no run "${id}".`);
    }
    return dir;
  }

  meta(dir: string): RunMeta | null {
    const meta = readJson(join(dir, RUN_FILES.studio));
    if (!isObject(meta)) return null;
    try {
      if (isObject(meta['spec'])) return { ...meta, spec: validateRunSpec(meta['spec']) } as unknown as RunMeta;
      if (isObject(meta['request'])) return { ...meta, spec: specOfRequest(meta['request'], dir) } as unknown as RunMeta;
    } catch {
      // A record this vaekit cannot read: the run is listed from its files.
    }
    return null;
  }

  /** The run spec of run folder `dir`: its studio record's, else its run.json's (a run vaekit train made), or null. */
  spec(dir: string): RunSpec | null {
    return this.meta(dir)?.spec ?? folderSpec(dir);
  }

  list(): RunSummary[] {
    const runs: RunSummary[] = [];
    if (existsSync(this.runsDir)) {
      for (const name of readdirSync(this.runsDir)) {
        if (!RUN_ID.test(name)) continue;
        try {
          runs.push(this.summary(name));
        } catch {
          // Not a run folder (or unreadable): not listed.
        }
      }
    }
    return runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
  }

  summary(id: string): RunSummary {
    const { records: _records, ...summary } = this.details(id);
    return summary;
  }

  details(id: string): RunDetail {
    const dir = this.runDir(id);
    const live = this.active !== null && this.active.id === id && this.active.started ? this.active : null;
    const meta = live?.meta ?? this.meta(dir);
    const bundle = readJson(join(dir, RUN_FILES.config));
    const model = isObject(bundle) && isObject(bundle['model']) ? bundle['model'] as unknown as ModelConfig : null;
    const training = isObject(bundle) && isObject(bundle['training']) ? bundle['training'] : null;
    const dataInfo = isObject(bundle) && isObject(bundle['data']) ? bundle['data'] as unknown as DataInfo : null;
    const hasCheckpoint = checkpointFiles(dir).length > 0;
    const testMetrics = readJson(join(dir, RUN_FILES.testMetrics));
    const records = live !== null ? live.records.map((r) => ({ ...r })) : readRecords(dir);
    let status: RunStatus;
    let error = meta?.error;
    if (live !== null) status = 'running';
    else if (meta === null) status = model !== null ? 'done' : 'stopped';
    else if (meta.status === 'running') {
      // Its studio stopped (or was killed) before it recorded the end: the folder says what it is. A
      // whole model (written last, when training completes) is a finished run; else a checkpoint
      // makes it resumable.
      const whole = model !== null && existsSync(join(dir, RUN_FILES.weights));
      status = whole ? 'done' : hasCheckpoint ? 'stopped' : 'failed';
      if (!whole && !hasCheckpoint) error = 'The studio stopped while this run trained, before its first checkpoint.';
    } else status = meta.status;
    const createdAt = meta?.createdAt ?? statSync(existsSync(join(dir, RUN_FILES.config)) ? join(dir, RUN_FILES.config) : dir).mtime.toISOString();
    const epochs = meta?.spec.training.epochs ?? (typeof training?.['epochs'] === 'number' ? training['epochs'] : records.length);
    return {
      id, status, epochsDone: records.length, epochs, lastEpoch: records.at(-1) ?? null,
      testMetrics: status === 'done' && isObject(testMetrics) ? testMetrics as unknown as RunMetrics : null,
      hasCheckpoint, config: model ?? meta?.config ?? null, data: dataInfo ?? meta?.data ?? null, spec: meta?.spec ?? folderSpec(dir), createdAt,
      ...(error !== undefined && status === 'failed' ? { error } : {}),
      records,
    };
  }

  /** A new run's id: the name asked for (409 when taken), else run-YYYYMMDD-HHMMSS with a suffix when taken. */
  newId(name: string | undefined): string {
    if (name !== undefined) {
      checkRunId(name);
      if (existsSync(join(this.runsDir, name)) || this.active?.id === name) throw new HttpError(409, `A run named "${name}" exists already: choose another name.`);
      return name;
    }
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    for (let i = 1; ; i++) {
      const id = i === 1 ? `run-${stamp}` : `run-${stamp}-${i}`;
      if (!existsSync(join(this.runsDir, id)) && this.active?.id !== id) return id;
    }
  }

  private checkIdle(): void {
    if (this.active !== null) {
      throw new HttpError(409, `Another training runs (${this.active?.id ?? 'starting'}): stop it or wait for it to end.`);
    }
  }

  /** Starts training a new run; resolves once the worker has loaded the data and made the folder (a refusal before that leaves nothing). */
  /** Starts training run `id` (a name newId gave) from its spec, whose outputs.dir is the run's folder. */
  async start(spec: RunSpec, id: string): Promise<string> {
    this.checkIdle();
    const meta: RunMeta = { id, createdAt: new Date().toISOString(), spec, status: 'running' };
    return this.launch(id, { spec, resume: false }, meta);
  }

  /** Goes on with a stopped run from its newest checkpoint. */
  async resume(id: string): Promise<string> {
    this.checkIdle();
    const dir = this.runDir(id);
    const meta = this.meta(dir);
    if (meta === null) throw new HttpError(409, `The run "${id}" was not started by the studio, so it does not say how to go on: vaekit train resumes it.`);
    const summary = this.summary(id);
    if (summary.status === 'done') throw new HttpError(409, `The run "${id}" is done already.`);
    if (!summary.hasCheckpoint) throw new HttpError(409, `The run "${id}" has no checkpoint to resume from.`);
    const spec: RunSpec = {
      ...meta.spec,
      // The data may have moved since (or been replaced by a link elsewhere): confined again.
      data: confineRunData(meta.spec.data, this.readRoots),
      // The folder as it is now (a runs folder may have moved).
      outputs: { ...meta.spec.outputs, dir },
    };
    const { error: _error, ...rest } = meta;
    return this.launch(id, { spec, resume: true }, { ...rest, spec, status: 'running' });
  }

  private launch(id: string, input: WorkerInput, meta: RunMeta): Promise<string> {
    const worker = startWorker('train-worker', input);
    const training = new Training(id, input.spec.outputs.dir, worker);
    this.active = training;
    return new Promise<string>((resolve, reject) => {
      worker.on('message', (m: WorkerMessage) => {
        switch (m.type) {
          case 'started':
            training.records.push(...m.records);
            training.meta = { ...meta, config: m.config, data: m.data };
            this.writeMeta(input.spec.outputs.dir, training.meta);
            training.started = true;
            resolve(id);
            this.changed({ id, status: 'running', epochsDone: training.records.length });
            break;
          case 'progress':
            training.progress = m.event;
            training.emit({ event: 'progress', data: m.event });
            break;
          case 'epoch':
            training.records.push(m.record);
            training.emit({ event: 'epoch', data: m.record });
            this.changed({ id, status: 'running', epochsDone: training.records.length });
            break;
          case 'figures':
            training.figures = m.event;
            training.emit({ event: 'figures', data: m.event });
            break;
          case 'warning':
            training.emit({ event: 'warning', data: { message: inFormWords(m.message) } });
            break;
          case 'end':
            this.ended(training, m.event, reject);
            break;
        }
      });
      worker.on('error', (err) => this.ended(training, { status: 'failed', error: `The training stopped with an error: ${err.message.split('\n')[0]}` }, reject));
      worker.on('exit', () => this.ended(training, { status: 'failed', error: 'The training worker exited before the training ended.' }, reject));
    });
  }

  private ended(training: Training, given: EndEvent, reject: (err: Error) => void): void {
    if (this.active !== training) return;
    const event: EndEvent = given.error !== undefined ? { ...given, error: inFormWords(given.error) } : given;
    this.active = null;
    if (training.figures !== null) {
      this.lastFigures.delete(training.id);
      this.lastFigures.set(training.id, training.figures);
      while (this.lastFigures.size > 16) this.lastFigures.delete(this.lastFigures.keys().next().value!);
    }
    if (!training.started) {
      // Refused before the run folder was made: nothing on disk changes.
      reject(new HttpError(400, event.error ?? 'The training could not start.'));
    } else if (training.meta !== null) {
      const { error: _error, ...meta } = training.meta;
      this.writeMeta(training.dir, { ...meta, status: event.status, ...(event.error !== undefined ? { error: event.error } : {}) });
      if (event.status === 'failed') this.log(`vaekit studio: run ${training.id} failed: ${event.error ?? 'unknown error'}`);
    }
    training.end(event);
    if (training.started) this.changed({ id: training.id, status: event.status, epochsDone: training.records.length });
  }

  private writeMeta(dir: string, meta: RunMeta): void {
    writeFileAtomic(join(dir, RUN_FILES.studio), `${JSON.stringify(meta, null, 2)}\n`);
  }

  /** Asks the running training `id` to stop after its current step; resolves with its status once it has (or after `waitMs`). */
  async stop(id: string, waitMs = 30_000): Promise<RunStatus> {
    this.runDir(id);
    const training = this.active;
    if (training === null || training.id !== id || !training.started) throw new HttpError(409, `The run "${id}" is not training.`);
    training.worker.postMessage({ type: 'stop' } satisfies ServerMessage);
    let timer: NodeJS.Timeout | undefined;
    const end = await Promise.race([training.ended, new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), waitMs); })]);
    clearTimeout(timer);
    return end === null ? 'running' : end.status;
  }

  /**
   * Subscribes to run `id`'s events: the epochs so far, the latest figures and progress at once,
   * then the live ones, `end` last (at once when the run is not training). Returns the unsubscribe.
   */
  /** Calls `listener` with every change of a run's state (started, an epoch, ended) until the returned function is called. */
  watch(listener: (change: RunChange) => void): () => void {
    this.watchers.add(listener);
    return () => { this.watchers.delete(listener); };
  }

  private changed(change: RunChange): void {
    for (const watcher of this.watchers) watcher(change);
  }

  subscribe(id: string, listener: (e: RunEvent) => void): () => void {
    const training = this.active;
    if (training !== null && training.id === id && training.started) {
      for (const r of training.records) listener({ event: 'epoch', data: { ...r } });
      if (training.figures !== null) listener({ event: 'figures', data: training.figures });
      if (training.progress !== null) listener({ event: 'progress', data: training.progress });
      training.listeners.add(listener);
      return () => { training.listeners.delete(listener); };
    }
    const details = this.details(id);
    for (const r of details.records) listener({ event: 'epoch', data: r });
    const figures = this.lastFigures.get(id);
    if (figures !== undefined && details.status !== 'running') listener({ event: 'figures', data: figures });
    listener({
      event: 'end', data: {
        status: details.status === 'running' ? 'stopped' : details.status,
        ...(details.testMetrics !== null ? { testMetrics: details.testMetrics } : {}),
        ...(details.error !== undefined ? { error: details.error } : {}),
      },
    });
    return () => undefined;
  }

  /** Stops the running training (its checkpoint kept) and waits for the worker to end. */
  async close(): Promise<void> {
    const training = this.active;
    if (training === null) return;
    training.worker.postMessage({ type: 'stop' } satisfies ServerMessage);
    let timer: NodeJS.Timeout | undefined;
    const end = await Promise.race([training.ended, new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), 60_000); })]);
    clearTimeout(timer);
    if (end === null) await training.worker.terminate();
  }
}

/** The run spec of a studio.json from before run specs (the form's request it kept). */
function specOfRequest(r: Record<string, unknown>, dir: string): RunSpec {
  const opt = <T>(key: string): T | null => (r[key] === undefined ? null : r[key] as T);
  const d = { source: r['data'], labels: opt('labels'), labelColumn: opt('labelColumn'), limit: opt('limit') };
  return validateRunSpec({
    data: d,
    model: { preset: r['preset'], latent: opt('latent'), likelihood: opt('likelihood'), conditional: r['conditional'] === true },
    ...(r['beta'] !== undefined ? { objective: { beta: r['beta'] } } : {}),
    training: {
      epochs: r['epochs'],
      ...(r['batchSize'] !== undefined ? { batchSize: r['batchSize'] } : {}),
      ...(r['learningRate'] !== undefined ? { learningRate: r['learningRate'] } : {}),
      ...(r['precision'] !== undefined ? { precision: r['precision'] } : {}),
    },
    noise: { input: r['noise'] },
    seed: r['seed'],
    outputs: { dir, figures: false },
  });
}

/** The run spec in a folder's run.json (a run the CLI made), or null when it has none or it is not valid. */
function folderSpec(dir: string): RunSpec | null {
  const record = readRunRecord(dir);
  if (record === null) return null;
  try {
    return validateRunSpec(record.spec);
  } catch {
    return null;
  }
}
