// `npm run bench:studio`: the studio under load (issue 11). It starts `vaekit studio` from the
// sources as a child process (so the load generator here and the server do not share a thread),
// trains a small model through the API to have something to serve, starts a second, longer
// training, and while it runs sends `--connections` concurrent connections for `--seconds` at the
// first model's inference endpoints (a mix: decode 16 latent rows, denoise 4 images, GET /api/info)
// with autocannon, while (issue 19; --no-slow leaves it out) one slow request is kept in flight:
// the UMAP map of 5,000 codes, asked again whenever it ends. It prints the requests per second, latencies, errors and non-2xx responses per
// endpoint, and the training's epoch time without and with the load, as Markdown. A bounded
// script, not a test: every wait has a limit, the child is always killed, the temporary runs
// folder is removed. See BENCHMARKS.md, "Studio under load (issue 11)".
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { Command } from 'commander';
import type { EpochRecord } from '../src/train/fit.js';
import { positiveInt } from '../src/cli/options.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href;

/** How long the studio may take to print its URL. */
const START_LIMIT_MS = 60_000;
/** The first (served) model's training: MNIST seed preset, this many examples, one epoch. */
const SERVED_LIMIT = 5000;
/** The second training, timed under load. It is stopped through the API long before it ends. */
const TIMED_LIMIT = 20_000;
const TIMED_EPOCHS = 1000;
const DECODE_ROWS = 16;
const DENOISE_IMAGES = 4;
/** Points of the slow request's UMAP map (the most the API takes). */
const SLOW_POINTS = 5000;
/** Issue 19's target: p99 of GET /api/info under load, with the slow request in flight. */
const INFO_P99_MS = 200;

/** A failure the script reports as one sentence. */
class BenchFailure extends Error {}

interface Options {
  seconds: number;
  connections: number;
  baselineEpochs: number;
  slow: boolean;
  keep: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A free TCP port on 127.0.0.1 (the studio's default, 7860, may be taken). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The studio child process.

interface Studio {
  child: ChildProcess;
  base: string;
  port: number;
  token: string;
  /** The last few KB of the child's stdout and stderr, for error messages. */
  tail(): string;
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.at(-1) ?? '';
}

/** Starts the studio; `started` gets the child at once, so the caller can kill it whatever happens next. */
async function startStudio(runsDir: string, started: (child: ChildProcess) => void): Promise<Studio> {
  const port = await freePort();
  const run = `const { main } = await import(${JSON.stringify(CLI)}); await main(['node', 'vaekit', ...process.argv.slice(1)]);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', run, 'studio', '--port', String(port), '--runs', runsDir], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
  });
  started(child);
  let output = '';
  // Keep draining both pipes for the child's whole life, or it blocks once one is full.
  const onData = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => {
      finish();
      const said = lastLine(output);
      reject(new BenchFailure(`The studio did not print its URL within ${START_LIMIT_MS / 1000} s${said !== '' ? ` (its last output: ${said})` : ''}.`));
    }, START_LIMIT_MS);
    const check = (): void => {
      const m = /https?:\/\/(?:127\.0\.0\.1|localhost):\d+\/\S*token=[0-9A-Za-z_-]+/.exec(output);
      if (m !== null) {
        finish();
        resolve(new URL(m[0]));
      }
    };
    const exited = (code: number | null, signal: NodeJS.Signals | null): void => {
      finish();
      const said = lastLine(output);
      reject(new BenchFailure(`The studio exited (${code !== null ? `status ${code}` : `signal ${String(signal)}`}) before printing its URL${said !== '' ? `: ${said}` : ''}.`));
    };
    const finish = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.stderr?.off('data', check);
      child.off('exit', exited);
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', exited);
  });
  const token = url.searchParams.get('token') ?? '';
  return { child, base: `${url.protocol}//${url.host}`, port: Number(url.port), token, tail: () => output };
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM (the studio stops a running training with its checkpoint), then SIGKILL after 15 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (!alive(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const gone = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
  if (!gone && alive(child)) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(5000)]);
  }
}

// ---------------------------------------------------------------------------------------------
// The API.

class Api {
  constructor(private readonly studio: Studio) {}

  headers(json: boolean): Record<string, string> {
    return { authorization: `Bearer ${this.studio.token}`, ...(json ? { 'content-type': 'application/json' } : {}) };
  }

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.studio.base}${path}`, {
        method, headers: this.headers(body !== undefined), signal: AbortSignal.timeout(60_000),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new BenchFailure(`${method} ${path} failed: ${err instanceof Error ? err.message : String(err)}.`);
    }
    const text = await res.text();
    if (!res.ok) {
      let said = text.slice(0, 300);
      try {
        const j = JSON.parse(text) as { error?: unknown };
        if (typeof j.error === 'string') said = j.error;
      } catch {
        // not JSON: keep the text
      }
      throw new BenchFailure(`${method} ${path} answered ${res.status}: ${said}`);
    }
    return JSON.parse(text) as T;
  }
}

interface SseEvent { event: string; data: unknown; at: number }

/** The events of one run (GET /api/runs/:id/events), read in the background. */
class RunEvents {
  readonly events: SseEvent[] = [];
  private readonly controller = new AbortController();
  private waiters: Array<() => void> = [];
  private failure: string | null = null;
  private closed = false;

  constructor(studio: Studio, api: Api, id: string) {
    void this.read(`${studio.base}/api/runs/${encodeURIComponent(id)}/events`, api.headers(false));
  }

  private notify(): void {
    for (const w of this.waiters) w();
  }

  private async read(url: string, headers: Record<string, string>): Promise<void> {
    try {
      const res = await fetch(url, { headers, signal: this.controller.signal });
      if (!res.ok || res.body === null) throw new Error(`status ${res.status}`);
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let cut: number;
        while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, '');
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split(/\r?\n/)) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length === 0) continue;
          let parsed: unknown;
          try {
            parsed = JSON.parse(data.join('\n'));
          } catch {
            parsed = data.join('\n');
          }
          this.events.push({ event, data: parsed, at: performance.now() });
          this.notify();
        }
      }
    } catch (err) {
      if (!this.controller.signal.aborted) this.failure = err instanceof Error ? err.message : String(err);
    }
    this.closed = true;
    this.notify();
  }

  epochs(): Array<{ record: EpochRecord; at: number }> {
    return this.events.filter((e) => e.event === 'epoch').map((e) => ({ record: e.data as EpochRecord, at: e.at }));
  }

  end(): { status: string; error?: string } | null {
    const e = this.events.find((x) => x.event === 'end');
    return e === undefined ? null : e.data as { status: string; error?: string };
  }

  /** Resolves once `done()` holds; a BenchFailure after `limitMs`, or when the stream ends first. */
  async until(done: () => boolean, limitMs: number, what: string): Promise<void> {
    const deadline = performance.now() + limitMs;
    while (!done()) {
      if (this.closed) {
        const end = this.end();
        throw new BenchFailure(`The run's event stream ended before ${what}${end !== null ? ` (status ${end.status}${end.error !== undefined ? `: ${end.error}` : ''})` : this.failure !== null ? ` (${this.failure})` : ''}.`);
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new BenchFailure(`Timed out after ${Math.round(limitMs / 1000)} s waiting for ${what}.`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done2, Math.min(left, 1000));
        function done2(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.push(done2);
      });
      this.waiters = [];
    }
  }

  close(): void {
    this.controller.abort();
  }
}

// ---------------------------------------------------------------------------------------------
// The load.

type Endpoint = 'decode' | 'denoise' | 'info';
const ENDPOINTS: Endpoint[] = ['decode', 'denoise', 'info'];

interface EndpointStats {
  label: string;
  responses: number;
  non2xx: number;
  /** 2xx answers whose body lacks the field the endpoint must return. */
  badBodies: number;
  latencies: number[];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

interface LoadResult {
  stats: Record<Endpoint, EndpointStats>;
  result: autocannon.Result;
  startedAt: number;
  endedAt: number;
  slow: SlowRequests;
}

/** The slow request kept in flight during the load (issue 19): its answers' statuses and seconds. */
interface SlowRequests { label: string; answers: Array<{ status: number; seconds: number }>; inFlightAtEnd: boolean }

/**
 * Keeps one slow request in flight until `stop` aborts: the UMAP map of 5,000 validation codes
 * (16 to 44 s, which blocked every other request before issue 19), asked again as soon as it ends.
 */
function keepSlowRequest(studio: Studio, runId: string, o: Options, stop: AbortSignal): { done: Promise<void>; slow: SlowRequests } {
  const path = `/api/runs/${encodeURIComponent(runId)}/latent-map?method=umap&limit=${SLOW_POINTS}`;
  const slow: SlowRequests = { label: `GET ${path.replace(encodeURIComponent(runId), ':id')}`, answers: [], inFlightAtEnd: false };
  const done = (async () => {
    if (!o.slow) return;
    while (!stop.aborted) {
      const started = performance.now();
      try {
        const res = await fetch(`${studio.base}${path}`, { headers: { authorization: `Bearer ${studio.token}` }, signal: stop });
        await res.arrayBuffer();
        slow.answers.push({ status: res.status, seconds: (performance.now() - started) / 1000 });
      } catch {
        slow.inFlightAtEnd = true; // aborted as the load ended
      }
    }
  })();
  return { done, slow };
}

async function runLoad(studio: Studio, runId: string, latent: number, examples: number[][], o: Options): Promise<LoadResult> {
  const rows: number[][] = [];
  for (let i = 0; i < DECODE_ROWS; i++) {
    // Fixed, prior-like codes (deterministic, no RNG needed): a few values in [-2, 2].
    rows.push(Array.from({ length: latent }, (_, d) => Number((2 * Math.sin(1.7 * i + 0.9 * d)).toFixed(4))));
  }
  const decodeBody = JSON.stringify({ z: rows });
  const denoiseBody = JSON.stringify({ images: examples.slice(0, DENOISE_IMAGES), noise: 'gaussian:0.2', seed: 0 });
  const id = encodeURIComponent(runId);
  const stats: Record<Endpoint, EndpointStats> = {
    decode: { label: `POST /api/runs/:id/decode (${DECODE_ROWS} z rows)`, responses: 0, non2xx: 0, badBodies: 0, latencies: [] },
    denoise: { label: `POST /api/runs/:id/denoise (${DENOISE_IMAGES} images)`, responses: 0, non2xx: 0, badBodies: 0, latencies: [] },
    info: { label: 'GET /api/info', responses: 0, non2xx: 0, badBodies: 0, latencies: [] },
  };
  // autocannon calls a request's onResponse and then, synchronously, emits `response` with the
  // latency: the endpoint of the latest onResponse is the one the latency belongs to.
  let last: Endpoint | null = null;
  const expect: Record<Endpoint, string> = { decode: '"images"', denoise: '"denoised"', info: '"backend"' };
  const onResponse = (endpoint: Endpoint) => (status: number, body: string): void => {
    last = endpoint;
    const s = stats[endpoint];
    s.responses++;
    if (status < 200 || status > 299) s.non2xx++;
    else if (!body.includes(expect[endpoint])) s.badBodies++;
  };
  const json = { 'content-type': 'application/json' };
  const stopSlow = new AbortController();
  const { done: slowDone, slow } = keepSlowRequest(studio, runId, o, stopSlow.signal);
  const startedAt = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({
      url: studio.base,
      connections: o.connections,
      duration: o.seconds,
      headers: { authorization: `Bearer ${studio.token}` },
      requests: [
        { method: 'POST', path: `/api/runs/${id}/decode`, headers: json, body: decodeBody, onResponse: onResponse('decode') },
        { method: 'POST', path: `/api/runs/${id}/denoise`, headers: json, body: denoiseBody, onResponse: onResponse('denoise') },
        { method: 'GET', path: '/api/info', onResponse: onResponse('info') },
      ],
    }, (err: unknown, res: autocannon.Result) => {
      if (err !== null && err !== undefined) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(res);
    });
    instance.on('response', (_client, _status, _bytes, latency) => {
      if (last !== null) stats[last].latencies.push(latency);
      last = null;
    });
  });
  const endedAt = performance.now();
  stopSlow.abort();
  await slowDone;
  return { stats, result, startedAt, endedAt, slow };
}

// ---------------------------------------------------------------------------------------------
// The run.

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function ms(v: number): string {
  return Number.isFinite(v) ? `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms` : 'n/a';
}

function secs(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(2)} s` : 'n/a';
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a';
}

interface TimedEpoch { epoch: number; seconds: number; wall: number; phase: 'before' | 'during' | 'partly' | 'after' }

/** Each epoch of the timed run: its training seconds (the worker's clock), the wall time since the previous epoch event (validation and checkpoint included), and whether it ran wholly before, during or after the load. */
function timedEpochs(events: RunEvents, loadStart: number, loadEnd: number): TimedEpoch[] {
  const list = events.epochs();
  return list.map(({ record, at }, i) => {
    const prev = i > 0 ? list[i - 1]!.at : at - record.seconds * 1000;
    const phase = at <= loadStart ? 'before' : prev >= loadStart && at <= loadEnd ? 'during' : prev >= loadEnd ? 'after' : 'partly';
    return { epoch: record.epoch, seconds: record.seconds, wall: (at - prev) / 1000, phase };
  });
}

async function measure(o: Options, studio: Studio, say: (line: string) => void): Promise<boolean> {
  const api = new Api(studio);
  const info = await api.call<{ backend: { backend: string; blas: string; threads: number } }>('GET', '/api/info');

  say(`training the served model (MNIST, seed preset, ${SERVED_LIMIT} examples, 1 epoch)`);
  const served = await api.call<{ id: string }>('POST', '/api/runs', { name: 'served', spec: { data: { source: 'mnist', limit: SERVED_LIMIT }, training: { epochs: 1 }, noise: { input: 'gaussian:0.2' }, seed: 0 } });
  const servedEvents = new RunEvents(studio, api, served.id);
  try {
    await servedEvents.until(() => servedEvents.end() !== null, 300_000, 'the served model\'s training to end');
  } finally {
    servedEvents.close();
  }
  const servedEnd = servedEvents.end();
  if (servedEnd?.status !== 'done') throw new BenchFailure(`The served model's training ended ${servedEnd?.status ?? 'without a status'}${servedEnd?.error !== undefined ? `: ${servedEnd.error}` : ''}.`);
  const summary = await api.call<{ config: { latent: number } | null }>('GET', `/api/runs/${encodeURIComponent(served.id)}`);
  if (summary.config === null) throw new BenchFailure('The served run has no model config.');
  const examples = await api.call<{ images: number[][] }>('GET', `/api/runs/${encodeURIComponent(served.id)}/examples?start=0&count=${DENOISE_IMAGES}`);

  say(`starting the timed training (MNIST, seed preset, ${TIMED_LIMIT} examples); waiting for ${o.baselineEpochs} epochs without load after the first`);
  const timed = await api.call<{ id: string }>('POST', '/api/runs', { name: 'timed', spec: { data: { source: 'mnist', limit: TIMED_LIMIT }, training: { epochs: TIMED_EPOCHS }, noise: { input: 'gaussian:0.2' }, seed: 0 } });
  const events = new RunEvents(studio, api, timed.id);
  try {
    await events.until(() => events.epochs().length >= o.baselineEpochs + 1, 300_000, `${o.baselineEpochs + 1} epochs of the timed training`);

    say(`load: ${o.connections} connections for ${o.seconds} s`);
    const loadAverageBefore = loadavg()[0]!;
    const load = await runLoad(studio, served.id, summary.config.latent, examples.images, o);
    const loadAverageAfter = loadavg()[0]!;
    const duringCount = events.epochs().filter((e) => e.at >= load.startedAt && e.at <= load.endedAt).length;

    say('waiting for 2 epochs after the load');
    const afterLoad = (): number => events.epochs().filter((_e, i, all) => i > 0 && all[i - 1]!.at >= load.endedAt).length;
    const baselineWall = median(timedEpochs(events, load.startedAt, load.endedAt).filter((e) => e.phase === 'before' && e.epoch > 1).map((e) => e.wall));
    await events.until(() => afterLoad() >= 2, Math.max(120_000, 20 * baselineWall * 1000), '2 epochs after the load');
    const stillRunning = events.end() === null;
    await api.call('POST', `/api/runs/${encodeURIComponent(timed.id)}/stop`, {});
    await events.until(() => events.end() !== null, 60_000, 'the timed training to stop');
    const timedEnd = events.end();

    const epochs = timedEpochs(events, load.startedAt, load.endedAt);
    const before = epochs.filter((e) => e.phase === 'before' && e.epoch > 1);
    const during = epochs.filter((e) => e.phase === 'during');
    const after = epochs.filter((e) => e.phase === 'after');
    const [b, d, a] = [before, during, after].map((list) => ({ seconds: median(list.map((e) => e.seconds)), wall: median(list.map((e) => e.wall)) })) as [{ seconds: number; wall: number }, { seconds: number; wall: number }, { seconds: number; wall: number }];

    const all: EndpointStats = { label: 'all', responses: 0, non2xx: 0, badBodies: 0, latencies: [] };
    for (const k of ENDPOINTS) {
      const s = load.stats[k];
      all.responses += s.responses;
      all.non2xx += s.non2xx;
      all.badBodies += s.badBodies;
      all.latencies.push(...s.latencies);
    }
    const r = load.result;
    const duration = r.duration;
    const c = cpus();
    const lines: string[] = [];
    lines.push(`Machine: ${c[0]?.model ?? 'unknown'}, ${c.length} cores, Node ${process.version}; the studio's backend: ${info.backend.backend}, ${info.backend.blas}, ${info.backend.threads} threads. Load: autocannon ${o.connections} connections for ${o.seconds} s (measured ${duration.toFixed(1)} s), in this process; the studio in a child process; the same cores. The machine's 1-minute load average: ${loadAverageBefore.toFixed(2)} as the load began (the timed training alone), ${loadAverageAfter.toFixed(2)} as it ended.`);
    lines.push('');
    lines.push('| endpoint | responses | requests/s | p50 | p97.5 | p99 | max | non-2xx | bad bodies |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const s of [...ENDPOINTS.map((k) => load.stats[k]), all]) {
      const sorted = [...s.latencies].sort((x, y) => x - y);
      lines.push(`| ${s.label} | ${s.responses} | ${(s.responses / duration).toFixed(1)} | ${ms(percentile(sorted, 50))} | ${ms(percentile(sorted, 97.5))} | ${ms(percentile(sorted, 99))} | ${ms(sorted.at(-1) ?? NaN)} | ${s.non2xx} | ${s.badBodies} |`);
    }
    const sl = load.slow;
    if (o.slow) {
      lines.push('');
      lines.push(`The slow request in flight during the load, asked again as soon as it ended: ${sl.label}: ${sl.answers.length} answered (${sl.answers.map((a) => `${a.status} in ${a.seconds.toFixed(1)} s`).join(', ') || 'none'})${sl.inFlightAtEnd ? ', one more in flight as the load ended' : ''}.`);
    }
    lines.push('');
    lines.push(`autocannon's own count: ${r.requests.total} requests (${r.requests.sent} sent), ${r.errors} errors (${r.timeouts} timeouts), ${r.non2xx} non-2xx, latency p50 ${r.latency.p50} ms, p97.5 ${r.latency.p97_5} ms, p99 ${r.latency.p99} ms.`);
    lines.push('');
    lines.push(`| timed training (MNIST, seed preset, ${TIMED_LIMIT} examples, batch 128) | training seconds per epoch (median) | wall seconds between epochs, validation included (median) | epochs |`);
    lines.push('| --- | --- | --- | --- |');
    lines.push(`| without load (before, epoch 1 left out) | ${secs(b.seconds)} | ${secs(b.wall)} | ${before.map((e) => e.epoch).join(', ')} |`);
    lines.push(`| under load (epochs wholly inside the load) | ${secs(d.seconds)} | ${secs(d.wall)} | ${during.map((e) => e.epoch).join(', ') || 'none'} |`);
    lines.push(`| after the load | ${secs(a.seconds)} | ${secs(a.wall)} | ${after.map((e) => e.epoch).join(', ')} |`);
    lines.push(`| slowdown under load | ${ratio(d.seconds, b.seconds)} | ${ratio(d.wall, b.wall)} | ${duringCount} epoch events during the ${duration.toFixed(0)} s of load |`);
    lines.push('');
    lines.push(`Each epoch (training seconds / wall seconds, phase): ${epochs.map((e) => `${e.epoch}: ${e.seconds.toFixed(2)} / ${e.wall.toFixed(2)} ${e.phase}`).join('; ')}.`);
    lines.push('');
    const errors = r.errors + all.non2xx + all.badBodies + sl.answers.filter((a) => a.status !== 200).length;
    const infoP99 = percentile([...load.stats.info.latencies].sort((x, y) => x - y), 99);
    const pass = errors === 0 && duringCount > 0 && stillRunning && infoP99 < INFO_P99_MS;
    lines.push(`Acceptance (no errors; p99 of GET /api/info under ${INFO_P99_MS} ms${o.slow ? ' with the slow request in flight' : ''}; the training's epochs still complete during the load): ${pass ? 'pass' : 'FAIL'} (${errors} errors or non-2xx or bad bodies; /api/info p99 ${ms(infoP99)}; ${duringCount} epochs completed during the load; the training ${stillRunning ? 'was still running after the load' : `had ended (${events.end()?.status ?? '?'})`}; stopped through the API: ${timedEnd?.status ?? '?'}).`);
    process.stdout.write(`\n${lines.join('\n')}\n`);
    return pass;
  } finally {
    events.close();
  }
}

async function main(): Promise<number> {
  const program = new Command()
    .option('--seconds <n>', 'seconds of load', positiveInt, 30)
    .option('--connections <n>', 'concurrent connections', positiveInt, 50)
    .option('--baseline-epochs <n>', 'epochs timed without load (after the first)', positiveInt, 3)
    .option('--no-slow', 'no slow request (a UMAP map of 5,000 points) in flight during the load')
    .option('--keep', 'keep the temporary runs folder')
    .parse(process.argv);
  const o = program.opts<Options>();
  const say = (line: string): void => {
    process.stderr.write(`  ${line}\n`);
  };
  const runsDir = mkdtempSync(join(tmpdir(), 'vaekit-studio-load-'));
  let studio: Studio | null = null;
  let child: ChildProcess | null = null;
  const killNow = (): void => {
    if (child !== null && alive(child)) child.kill('SIGKILL');
  };
  process.on('exit', killNow);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killNow();
      if (o.keep !== true) rmSync(runsDir, { recursive: true, force: true });
      process.exit(130);
    });
  }
  try {
    say(`starting the studio (runs in ${runsDir})`);
    studio = await startStudio(runsDir, (c) => {
      child = c;
    });
    say(`studio at ${studio.base}`);
    return (await measure(o, studio, say)) ? 0 : 1;
  } catch (err) {
    if (err instanceof BenchFailure) {
      process.stderr.write(`error: ${err.message}\n`);
      if (studio !== null && !alive(studio.child)) process.stderr.write(`(the studio had exited: ${lastLine(studio.tail())})\n`);
      return 1;
    }
    throw err;
  } finally {
    if (child !== null) await stopChild(child);
    if (o.keep !== true) rmSync(runsDir, { recursive: true, force: true });
    else say(`kept ${runsDir}`);
  }
}

process.exitCode = await main();
