// vaekit studio's server (src/studio): its defences (token, Host, path confinement, ids, limits),
// the training worker (events, stop, resume, a responsive server), and inference that agrees with
// the library's own calls on the same model. Each test makes its own data: tiny 8x8 NPY images.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { unzipSync } from 'fflate';
import { arrayDataset } from '../src/data/dataset.js';
import { loadNpy } from '../src/data/sources/npy.js';
import { parseNoise } from '../src/data/transforms/noise.js';
import { Random } from '../src/engine/random.js';
import { Tensor } from '../src/engine/tensor.js';
import { exportFiles } from '../src/export/index.js';
import { loadBundle } from '../src/run/bundle.js';
import { decodeBundle } from '../src/run/bundle-format.js';
import { checkpointFiles, latestCheckpoint } from '../src/run/checkpoints.js';
import { RUN_FILES } from '../src/run/names.js';
import { rankLatentDimensions } from '../src/latent/traverse.js';
import { scoreAnomalies } from '../src/pipelines/anomaly.js';
import { prepareForModel } from '../src/run/data.js';
import { denoiseDataset } from '../src/pipelines/denoise.js';
import { trainAndTestSets } from '../src/run/plan.js';
import { Inference } from '../src/studio/jobs.js';
import { startStudio, type Studio } from '../src/studio/server.js';
import type { VaeConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';
import { twoClassNpy } from './helpers/cli.js';

type Json = Record<string, unknown>;

interface RawResponse { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** A request exactly as written (path and Host untouched by a URL parser). */
function raw(port: number, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Every file under `dir` with its size and modification time: what a refusal must leave as it was. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      out.push(`${p} ${s.size} ${s.mtimeMs}`);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

interface SseEvent { event: string; data: Json }

/** Reads a text/event-stream response event by event. */
class SseReader {
  private buffer = '';
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();

  constructor(response: Response) {
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    this.reader = response.body!.getReader();
  }

  async next(): Promise<SseEvent | null> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        let event = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trim();
        }
        if (data !== '') return { event, data: JSON.parse(data) as Json };
        continue;
      }
      const { done, value } = await this.reader.read();
      if (done) return null;
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** Events until (and with) the first one `stop` accepts. */
  async until(stop: (e: SseEvent, seen: SseEvent[]) => boolean): Promise<SseEvent[]> {
    const seen: SseEvent[] = [];
    for (;;) {
      const e = await this.next();
      assert.ok(e !== null, `the stream ended after ${seen.map((s) => s.event).join(', ')}`);
      seen.push(e);
      if (stop(e, seen)) return seen;
    }
  }

  async cancel(): Promise<void> {
    await this.reader.cancel();
  }
}

/** Each value of `rows` is the float32 at the same place of `expected`, exactly. */
function assertSameFloats(rows: unknown, expected: Float32Array, what: string): void {
  const flat = (rows as number[][]).flat();
  assert.equal(flat.length, expected.length, `${what}: ${flat.length} values, expected ${expected.length}`);
  for (let i = 0; i < flat.length; i++) {
    if (flat[i] !== expected[i]) assert.fail(`${what}: value ${i} is ${flat[i]}, the library gives ${expected[i]}`);
  }
}

const N = 200;

describe('vaekit studio server', () => {
  let root: string;
  let data: string;
  let runsDir: string;
  let outside: string;
  let studio: Studio;
  let base: string;
  let auth: Record<string, string>;

  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${base}${path}`, { ...init, headers: { ...auth, ...(init.body !== undefined && typeof init.body === 'string' ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string> | undefined) } });
  const post = (path: string, body: unknown): Promise<Response> => api(path, { method: 'POST', body: JSON.stringify(body) });
  const json = async (res: Response, status: number): Promise<Json> => {
    const body = await res.text();
    assert.equal(res.status, status, body);
    return JSON.parse(body) as Json;
  };
  /** A refusal: the status, JSON { error } with one sentence. */
  const refused = async (res: Response, status: number, pattern?: RegExp): Promise<void> => {
    const body = await json(res, status);
    assert.equal(typeof body['error'], 'string');
    const error = body['error'] as string;
    assert.ok(!error.includes('\n') && /[.?]$/.test(error), `one sentence: ${error}`);
    if (pattern !== undefined) assert.match(error, pattern);
  };
  const events = async (id: string): Promise<SseReader> => new SseReader(await api(`/api/runs/${id}/events`));

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'vaekit-studio-'));
    data = join(root, 'data');
    runsDir = join(root, 'runs');
    outside = join(root, 'outside');
    mkdirSync(data);
    mkdirSync(outside);
    twoClassNpy(data, N);
    twoClassNpy(outside, 10);
    symlinkSync(join(outside, 'x.npy'), join(data, 'link.npy'));
    mkdirSync(join(data, 'images', 'a'), { recursive: true });
    symlinkSync(join(outside, 'x.npy'), join(data, 'images', 'a', 'link.png'));
    const web = join(root, 'web');
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>vaekit studio</title>');
    writeFileSync(join(web, 'assets', 'app.js'), 'console.log(1);');
    writeFileSync(join(root, 'secret.txt'), 'TOP-SECRET-CONTENT');
    studio = await startStudio({ port: 0, runsDir, dataRoots: [data], quiet: true, uploadLimit: 64 * 1024, webDir: web });
    base = `http://127.0.0.1:${studio.port}`;
    auth = { authorization: `Bearer ${studio.token}` };
  });

  after(async () => {
    await studio.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('prints its address with the token and answers only with it', async () => {
    assert.equal(studio.url, `http://127.0.0.1:${studio.port}/?token=${studio.token}`);
    assert.match(studio.token, /^[0-9a-f]{64}$/);
    await refused(await fetch(`${base}/api/info`), 401);
    await refused(await fetch(`${base}/api/info`, { headers: { authorization: 'Bearer wrong' } }), 401);
    await refused(await fetch(`${base}/api/info`, { headers: { cookie: `vaekit_studio_${studio.port}=wrong` } }), 401);
    // Another studio's cookie (another port) does not sign in here.
    await refused(await fetch(`${base}/api/info`, { headers: { cookie: `vaekit_studio=${studio.token}; vaekit_studio_1=${studio.token}` } }), 401);
    await refused(await fetch(`${base}/api/info?token=wrong`), 401);
    await refused(await fetch(`${base}/api/runs/x/events`), 401);
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 401);
    assert.match(page.headers.get('content-type') ?? '', /text\/plain/);
    const info = await json(await api('/api/info'), 200);
    assert.equal(info['runsDir'], realpathSync(runsDir));
    assert.deepEqual(info['dataRoots'], [realpathSync(data)]);
    assert.equal(info['version'], JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')).version);
    assert.deepEqual(info['presets'], ['seed', 'mlp', 'conv']);
    assert.equal(info['training'], null);
    assert.equal(info['jobs'], 0);
    assert.ok(['native', 'js'].includes((info['backend'] as Json)['backend'] as string));
  });

  it('sets its cookie from ?token= and redirects to the address without it', async () => {
    const res = await fetch(`${base}/?token=${studio.token}&x=1`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/?x=1');
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(cookie, new RegExp(`^vaekit_studio_${studio.port}=${studio.token};`));
    for (const part of ['HttpOnly', 'SameSite=Strict', 'Path=/']) assert.ok(cookie.includes(part), cookie);
    const page = await fetch(`${base}/`, { headers: { cookie: `vaekit_studio_${studio.port}=${studio.token}` } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /vaekit studio/);
    const asset = await fetch(`${base}/assets/app.js`, { headers: { cookie: `vaekit_studio_${studio.port}=${studio.token}` } });
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type') ?? '', /javascript/);
    // The API takes the query token as it is (an EventSource cannot send headers), without a redirect.
    assert.equal((await fetch(`${base}/api/info?token=${studio.token}`, { redirect: 'manual' })).status, 200);
    // No way out of the UI folder.
    const escape = await raw(studio.port, '/assets/..%2F..%2Fsecret.txt', { cookie: `vaekit_studio_${studio.port}=${studio.token}` });
    assert.equal(escape.status, 404);
    assert.ok(!escape.body.includes('TOP-SECRET-CONTENT'));
  });

  it('answers 503 with one sentence when the web UI is not built', async () => {
    const bare = await startStudio({ port: 0, runsDir: join(root, 'bare-runs'), dataRoots: [data], quiet: true, webDir: join(root, 'no-web') });
    try {
      const res = await fetch(`http://127.0.0.1:${bare.port}/`, { headers: { authorization: `Bearer ${bare.token}` } });
      assert.equal(res.status, 503);
      assert.match(await res.text(), /npm run build/);
      assert.equal((await fetch(`http://127.0.0.1:${bare.port}/api/info`, { headers: { authorization: `Bearer ${bare.token}` } })).status, 200);
    } finally {
      await bare.close();
    }
  });

  it('refuses a Host header other than its own (DNS rebinding)', async () => {
    const bearer = { authorization: `Bearer ${studio.token}` };
    for (const host of ['evil.example', `evil.example:${studio.port}`, `127.0.0.1:${studio.port + 1}`]) {
      const res = await raw(studio.port, '/api/info', { ...bearer, host });
      assert.equal(res.status, 403, host);
      assert.match(JSON.parse(res.body).error as string, /hosts/);
    }
    assert.equal((await raw(studio.port, '/api/info', { ...bearer, host: `localhost:${studio.port}` })).status, 200);
    assert.equal((await raw(studio.port, '/', { host: 'evil.example' })).status, 403);
  });

  it('reads data only inside its roots, symlinks resolved', async () => {
    const before = [snapshot(runsDir), snapshot(data)];
    const described = await json(await post('/api/data/describe', { data: 'x.npy', labels: 'y.npy' }), 200);
    assert.deepEqual({ ...described, source: null }, { source: null, count: N, shape: [8, 8, 1], classNames: ['0', '1'] });
    for (const spec of ['../..', '../outside/x.npy', join(outside, 'x.npy'), '/etc/passwd', 'link.npy', 'images']) {
      await refused(await post('/api/data/describe', { data: spec }), 403, /outside the folders this studio may read/);
      await refused(await post('/api/runs', { spec: { data: { source: spec }, training: { epochs: 1 } } }), 403);
    }
    await refused(await post('/api/runs', { spec: { data: { source: 'x.npy', labels: join(outside, 'y.npy') }, training: { epochs: 1 } } }), 403);
    await refused(await post('/api/data/describe', { data: 'nothing.npy' }), 404);
    await refused(await post('/api/data/describe', { data: 42 }), 400);
    assert.deepEqual([snapshot(runsDir), snapshot(data)], before);
  });

  it('refuses malformed training requests before it makes a folder', async () => {
    const before = snapshot(runsDir);
    await refused(await api('/api/runs', { method: 'POST', body: '{"data": "x.npy",' }), 400, /not valid JSON/);
    await refused(await api('/api/runs', { method: 'POST', body: '[1, 2]' }), 400);
    await refused(await post('/api/runs', { spec: { data: { source: 'x.npy' }, training: { epochs: 0 } } }), 400, /^Epochs must be a whole number from 1/);
    await refused(await post('/api/runs', { data: 'x.npy', epochs: 1 }), 400, /"spec" must be a run spec/);
    await refused(await post('/api/runs', { spec: { data: { source: 'x.npy' }, model: { latnet: 4 } } }), 400, /model\.latnet is not a field/);
    await refused(await post('/api/runs', { spec: { data: { source: 'x.npy' }, model: { preset: 'bogus' } } }), 400, /^Preset must be one of/);
    await refused(await post('/api/runs', { spec: { data: { source: 'x.npy' }, noise: { input: 'loud' } } }), 400);
    await refused(await post('/api/runs', { spec: { data: { source: 'x.npy' }, training: { epochs: 1.5 } } }), 400);
    await refused(await post('/api/runs', { spec: { data: { source: 'x.npy' }, training: { precision: 'fp16' } } }), 400, /^Precision must be one of/);
    for (const name of ['..', 'a/b', '.hidden', '../x', 'a'.repeat(65)]) await refused(await post('/api/runs', { name, spec: { data: { source: 'x.npy' }, training: { epochs: 1 } } }), 400, /run id/);
    // Refused by the worker (no labels for a conditional model) before the run folder exists.
    await refused(await post('/api/runs', { name: 'cond', spec: { data: { source: 'x.npy' }, model: { conditional: true }, training: { epochs: 1 } } }), 400, /labels/);
    await refused(await post('/api/runs', { name: 'big', spec: { data: { source: 'x.npy', limit: N + 1 }, training: { epochs: 1 } } }), 400);
    assert.deepEqual(snapshot(runsDir), before);
    assert.deepEqual((await json(await api('/api/runs'), 200))['runs'], []);
  });

  it('names the train form\'s fields when it refuses what the form sends (the page checks none of them)', async () => {
    const before = snapshot(runsDir);
    // What the page's form sends for a blank path, a blank epochs field, and numbers out of range.
    const form = (spec: Json): Promise<Response> => post('/api/runs', { spec: { data: { source: 'x.npy' }, training: { epochs: 1 }, ...spec } });
    await refused(await form({ data: { source: '' } }), 400, /^Data must be a non-empty text/);
    await refused(await form({ training: { epochs: 0 } }), 400, /^Epochs must be a whole number from 1/);
    await refused(await form({ model: { latent: 0 } }), 400, /^Latent size must be a whole number from 1/);
    await refused(await form({ objective: { beta: -1 } }), 400, /^β \(KL weight\) must be a number from 0/);
    await refused(await form({ data: { source: 'x.npy', limit: 0 } }), 400, /^First N examples must be a whole number from 1/);
    await refused(await form({ seed: 1.5 }), 400, /^Seed must be a whole number from 0/);
    assert.deepEqual(snapshot(runsDir), before);
  });

  it('trains a run in a worker thread and streams its epochs, figures and progress', async () => {
    const created = await json(await post('/api/runs', { name: 'flow', spec: { data: { source: 'x.npy', labels: 'y.npy' }, model: { latent: 4 }, training: { epochs: 2, batchSize: 16 } } }), 201);
    assert.deepEqual(created, { id: 'flow' });
    const seen = await (await events('flow')).until((e) => e.event === 'end');
    const epochs = seen.filter((e) => e.event === 'epoch');
    assert.deepEqual(epochs.map((e) => e.data['epoch']), [1, 2]);
    for (const e of epochs) for (const key of ['loss', 'recon', 'kl', 'valLoss', 'seconds']) assert.equal(typeof e.data[key], 'number', key);
    const figures = seen.filter((e) => e.event === 'figures');
    assert.ok(figures.length >= 1);
    for (const key of ['reconstructions', 'samples']) {
      const uri = figures.at(-1)!.data[key] as string;
      assert.match(uri, /^data:image\/png;base64,/);
      assert.deepEqual([...Buffer.from(uri.slice(uri.indexOf(',') + 1), 'base64').subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    }
    const progress = seen.filter((e) => e.event === 'progress');
    assert.ok(progress.length >= 1, seen.map((e) => e.event).join(', '));
    assert.equal(progress[0]!.data['steps'], Math.ceil((N - N / 10) / 16));
    assert.equal(typeof (progress[0]!.data['running'] as Json)['loss'], 'number');
    const end = seen.at(-1)!;
    assert.equal(end.data['status'], 'done');
    assert.equal(typeof (end.data['testMetrics'] as Json)['negElboNats'], 'number');

    const runs = (await json(await api('/api/runs'), 200))['runs'] as Json[];
    assert.equal(runs.length, 1);
    const run = runs[0]!;
    assert.equal(run['id'], 'flow');
    assert.equal(run['status'], 'done');
    assert.equal(run['epochsDone'], 2);
    assert.equal(run['epochs'], 2);
    assert.equal(run['hasCheckpoint'], true);
    assert.equal((run['lastEpoch'] as Json)['epoch'], 2);
    assert.deepEqual(run['testMetrics'], JSON.parse(readFileSync(join(runsDir, 'flow', 'test-metrics.json'), 'utf8')));
    assert.equal((run['config'] as Json)['latent'], 4);
    assert.deepEqual((run['data'] as Json)['classNames'], ['0', '1']);
    assert.ok(!Number.isNaN(Date.parse(run['createdAt'] as string)));
    const details = await json(await api('/api/runs/flow'), 200);
    assert.deepEqual((details['records'] as Json[]).map((r) => r['epoch']), [1, 2]);
    // A stream of a finished run: its epochs, then end at once.
    const again = await (await events('flow')).until((e) => e.event === 'end');
    assert.deepEqual(again.filter((e) => e.event === 'epoch').map((e) => e.data['epoch']), [1, 2]);
  });

  it('serves a run\'s files, report and exports', async () => {
    const config = await json(await api('/api/runs/flow/files/config.json'), 200);
    assert.equal((config['model'] as Json)['latent'], 4);
    const metrics = await api('/api/runs/flow/files/metrics.jsonl');
    assert.equal((await metrics.text()).trim().split('\n').length, 2);
    const report = await api('/api/runs/flow/report');
    assert.equal(report.status, 200);
    assert.match(report.headers.get('content-type') ?? '', /text\/html/);
    assert.ok((await report.text()).includes('flow'));
    const bundle = loadBundle(join(runsDir, 'flow'));
    for (const format of ['onnx', 'pytorch'] as const) {
      const res = await api(`/api/runs/flow/export/${format}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/zip');
      assert.match(res.headers.get('content-disposition') ?? '', new RegExp(`flow-${format}\\.zip`));
      const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
      const expected = exportFiles(bundle.vae, format, bundle.data, bundle.training);
      assert.deepEqual(Object.keys(files).sort(), expected.map((f) => f.name).sort());
      for (const f of expected) assert.ok(Buffer.from(files[f.name]!).equals(Buffer.from(f.bytes)), f.name);
    }
    await refused(await api('/api/runs/flow/export/keras'), 404);
  });

  it('encodes, decodes, denoises and samples exactly as the library does', async () => {
    const bundle = loadBundle(join(runsDir, 'flow'));
    const vae = bundle.vae;
    // The run's test split, as the library splits it.
    const test = prepareForModel(bundle.data, trainAndTestSets({ train: loadNpy(join(data, 'x.npy'), { labels: join(data, 'y.npy') }) }, 0).test, false);
    const examples = await json(await api('/api/runs/flow/examples?start=2&count=5'), 200);
    assert.deepEqual(examples['shape'], [8, 8, 1]);
    const pixels = new Float32Array(5 * 64);
    test.gather(null, 2, 5, pixels);
    assertSameFloats(examples['images'], pixels, 'examples');
    assert.deepEqual(examples['labels'], Array.from(test.labels!.subarray(2, 7)));
    assert.deepEqual(examples['labelNames'], ['0', '1']);

    const images = examples['images'] as number[][];
    const encoded = await json(await post('/api/runs/flow/encode', { images }), 200);
    const lib = vae.encode(new Tensor(pixels, [5, 64]));
    assertSameFloats(encoded['mean'], lib.mean.data, 'encode mean');
    assertSameFloats(encoded['logvar'], lib.logvar.data, 'encode logvar');

    const rng = new Random(5);
    const z = Array.from({ length: 6 }, () => Array.from({ length: 4 }, () => Math.fround(rng.normal())));
    const decoded = await json(await post('/api/runs/flow/decode', { z }), 200);
    assert.deepEqual(decoded['shape'], [8, 8, 1]);
    assertSameFloats(decoded['images'], vae.decode(new Tensor(Float32Array.from(z.flat()), [6, 4])).data, 'decode');

    const denoised = await json(await post('/api/runs/flow/denoise', { images, noise: 'gaussian:0.2', seed: 3 }), 200);
    const expected = denoiseDataset(vae, arrayDataset({ values: pixels, shape: [8, 8, 1], source: 'test' }), { noise: parseNoise('gaussian:0.2'), seed: 3 });
    assertSameFloats(denoised['noisy'], expected.noisy, 'noisy');
    assertSameFloats(denoised['denoised'], expected.denoised, 'denoised');
    assertSameFloats(denoised['denoised'], vae.denoise(new Tensor(expected.noisy, [5, 64])).data, 'vae.denoise');
    assert.ok((denoised['noisy'] as number[][]).flat().some((v, i) => v !== images.flat()[i]), 'the noise changed the images');

    const samples = await json(await api('/api/runs/flow/samples?count=3&seed=7'), 200);
    assertSameFloats(samples['images'], vae.sample(3, 7).data, 'samples');
  });

  it('ranks latent dimensions by KL and maps the latent space', async () => {
    const bundle = loadBundle(join(runsDir, 'flow'));
    const test = prepareForModel(bundle.data, trainAndTestSets({ train: loadNpy(join(data, 'x.npy'), { labels: join(data, 'y.npy') }) }, 0).test, false);
    const ranking = await json(await api('/api/runs/flow/kl-ranking'), 200);
    const dims = ranking['dims'] as Array<{ dim: number; kl: number; inactive: boolean }>;
    assert.equal(dims.length, 4);
    for (let i = 1; i < dims.length; i++) assert.ok(dims[i - 1]!.kl >= dims[i]!.kl, 'most KL first');
    for (const d of dims) assert.equal(d.inactive, d.kl < 0.01);
    assert.deepEqual(dims.map((d) => d.dim), rankLatentDimensions(bundle.vae, test).dimensions.map((d) => d.dim));

    const map = await json(await api('/api/runs/flow/latent-map?method=pca&limit=2000'), 200);
    const n = test.count;
    for (const key of ['x', 'y', 'z', 'labels']) assert.equal((map[key] as unknown[]).length, n, key);
    assert.deepEqual(map['labels'], Array.from(test.labels!));
    assert.deepEqual(map['labelNames'], ['0', '1']);
    assert.match(map['xTitle'] as string, /PC1/);
    const { center, axes } = map['pca'] as { center: number[]; axes: [number[], number[]] };
    const z = map['z'] as number[][];
    const x = map['x'] as number[];
    for (let i = 0; i < n; i++) {
      const projected = z[i]!.reduce((s, v, d) => s + (v - center[d]!) * axes[0][d]!, 0) / axes[0].reduce((s, a) => s + a * a, 0);
      assert.ok(Math.abs(projected - x[i]!) < 1e-4 * (1 + Math.abs(x[i]!)), `point ${i}: ${projected} against ${x[i]}`);
    }
    const umap = await json(await api('/api/runs/flow/latent-map?method=umap&limit=12'), 200);
    assert.equal((umap['x'] as number[]).length, 12);
    await refused(await api('/api/runs/flow/latent-map?method=tsne'), 400);
    await refused(await api('/api/runs/flow/latent-map?limit=x'), 400);
  });

  it('scores an uploaded CSV as the library\'s scoreAnomalies does', async () => {
    const bundle = loadBundle(join(runsDir, 'flow'));
    const all = loadNpy(join(data, 'x.npy'), { labels: join(data, 'y.npy') });
    const rows = 40;
    const values = all.values!.subarray(0, rows * 64) as Uint8Array;
    const labels = all.labels!.subarray(0, rows);
    const header = [...Array.from({ length: 64 }, (_, i) => `p${i}`), 'label'].join(',');
    const csv = [header, ...Array.from({ length: rows }, (_, r) => [...values.subarray(r * 64, (r + 1) * 64), labels[r]].join(','))].join('\n');
    const form = new FormData();
    form.append('file', new Blob([csv]), 'upload.csv');
    form.append('labelColumn', 'label');
    form.append('normalClass', '0');
    const before = snapshot(data);
    const result = await json(await api('/api/runs/flow/anomaly', { method: 'POST', body: form }), 200);
    const set = arrayDataset({ values: Uint8Array.from(values), shape: [8, 8, 1], labels: Int32Array.from(labels), labelNames: ['0', '1'], source: 'upload.csv' });
    const expected = scoreAnomalies(bundle.vae, set, { samples: 10, seed: 0, normalClass: '0' });
    assert.equal(result['count'], rows);
    assert.deepEqual(result['scores'], Array.from(expected.scores));
    assert.equal(result['auroc'], expected.auroc);
    assert.equal(typeof result['auroc'], 'number');
    assert.equal(result['normalClass'], '0');
    assert.deepEqual(result['labels'], Array.from(labels));
    const top = result['top'] as Array<{ index: number; score: number; image: number[] }>;
    assert.equal(top.length, 8);
    for (let i = 1; i < top.length; i++) assert.ok(top[i - 1]!.score >= top[i]!.score);
    assert.equal(top[0]!.score, Math.max(...expected.scores));
    assert.equal(top[0]!.image.length, 64);
    assert.equal(typeof result['histogram'], 'object');
    const scores = await api('/api/runs/flow/anomaly/scores.csv');
    assert.equal(scores.status, 200);
    assert.equal((await scores.text()).trim().split('\n').length, rows + 1);
    assert.deepEqual(snapshot(data), before);
    // An NPY upload with its labels in a second file.
    const npy = new FormData();
    npy.append('file', new Blob([readFileSync(join(data, 'x.npy'))]), 'x.npy');
    npy.append('labels', new Blob([readFileSync(join(data, 'y.npy'))]), 'y.npy');
    const scored = await json(await api('/api/runs/flow/anomaly', { method: 'POST', body: npy }), 200);
    assert.equal(scored['count'], N);
    assert.equal(typeof scored['auroc'], 'number');
    // A vaekit command at work in the run folder (its lock, held by a live process) keeps the scores as they were.
    const kept = readFileSync(join(runsDir, 'flow', RUN_FILES.studioScores));
    writeFileSync(join(runsDir, 'flow', RUN_FILES.lock), String(process.ppid));
    try {
      await refused(await api('/api/runs/flow/anomaly', { method: 'POST', body: form }), 400, /in use by another vaekit process/);
    } finally {
      rmSync(join(runsDir, 'flow', RUN_FILES.lock));
    }
    assert.deepEqual(readFileSync(join(runsDir, 'flow', RUN_FILES.studioScores)), kept, 'the scores are as they were');
  });

  it('refuses bad ids, file names, oversized bodies and too many rows, changing nothing', async () => {
    const before = [snapshot(runsDir), snapshot(data)];
    for (const path of ['/api/runs/a%2Fb', '/api/runs/.hidden', '/api/runs/..%2F..%2Fetc', '/api/runs/%2E%2E%2Fflow/files/config.json']) {
      const res = await raw(studio.port, path, auth);
      assert.equal(res.status, 400, path);
      assert.match(JSON.parse(res.body).error as string, /run id/);
    }
    for (const path of ['/api/runs/..', '/api/runs/a/b', '/api/runs/nope', '/api/runs/nope/events']) {
      assert.equal((await raw(studio.port, path, auth)).status, 404, path);
    }
    for (const name of ['..%2Fstudio.json', '.hidden', '%2Fetc%2Fpasswd', 'a%5C..%5Cb']) {
      assert.equal((await raw(studio.port, `/api/runs/flow/files/${name}`, auth)).status, 400, name);
    }
    await refused(await api('/api/runs/flow/files/nothing.png'), 404);
    // Bodies: JSON over 1 MiB, an upload over the limit (64 KiB here), malformed JSON, 257 rows.
    await refused(await api('/api/runs', { method: 'POST', body: JSON.stringify({ data: 'x.npy', pad: 'x'.repeat(1024 * 1024) }) }), 413, /1 MiB/);
    const big = new FormData();
    big.append('file', new Blob([`a\n${'1\n'.repeat(40 * 1024)}`]), 'big.csv');
    await refused(await api('/api/runs/flow/anomaly', { method: 'POST', body: big }), 413, /upload/);
    await refused(await api('/api/runs/flow/encode', { method: 'POST', body: '{"images": [[0' }), 400, /JSON/);
    const rows = Array.from({ length: 257 }, () => new Array<number>(64).fill(0));
    await refused(await post('/api/runs/flow/encode', { images: rows }), 400, /256 rows/);
    await refused(await post('/api/runs/flow/decode', { z: rows.map((r) => r.slice(0, 4)) }), 400, /256 rows/);
    await refused(await post('/api/runs/flow/encode', { images: [new Array<number>(63).fill(0)] }), 400);
    await refused(await post('/api/runs/flow/encode', { images: [new Array<number>(64).fill(2)] }), 400, /\[0, 1\]/);
    await refused(await post('/api/runs/flow/decode', { z: [[0, 0, 0, 0]], labels: [1] }), 400, /not conditional/);
    await refused(await api('/api/runs/flow/examples?count=257'), 400);
    await refused(await api('/api/runs/flow/samples?label=1'), 400, /not conditional/);
    await refused(await post('/api/runs/flow/stop', {}), 409);
    await refused(await post('/api/runs/flow/resume', {}), 409);
    await refused(await post('/api/runs', { name: 'flow', spec: { data: { source: 'x.npy' }, training: { epochs: 1 } } }), 409);
    const form = new FormData();
    form.append('file', new Blob(['1,2']), 'data.txt');
    await refused(await api('/api/runs/flow/anomaly', { method: 'POST', body: form }), 400, /\.csv or \.npy/);
    const bad = new FormData();
    bad.append('file', new Blob(['a,b\n1,x\n']), 'bad data.csv');
    const res = await api('/api/runs/flow/anomaly', { method: 'POST', body: bad });
    const body = await res.clone().json() as Json;
    await refused(res, 400, /bad_data\.csv/);
    assert.ok(!(body['error'] as string).includes('vaekit-studio-'), body['error'] as string);
    await refused(await api('/api/runs/flow/anomaly', { method: 'POST', body: JSON.stringify({}) }), 415);
    assert.deepEqual([snapshot(runsDir), snapshot(data)], before);
  });

  it('shows a run whose end was not recorded (its studio was killed) for what its folder holds', async () => {
    const asKilled = (id: string, drop: string[]): void => {
      const dir = join(runsDir, id);
      cpSync(join(runsDir, 'flow'), dir, { recursive: true });
      for (const name of drop) rmSync(join(dir, name), { force: true });
      const meta = JSON.parse(readFileSync(join(dir, 'studio.json'), 'utf8')) as Json;
      writeFileSync(join(dir, 'studio.json'), JSON.stringify({ ...meta, status: 'running' }));
    };
    asKilled('killed-whole', []);
    asKilled('killed-midway', ['weights.safetensors', 'config.json', 'test-metrics.json']);
    try {
      assert.equal((await json(await api('/api/runs/killed-whole'), 200))['status'], 'done', 'a whole model: finished');
      const midway = await json(await api('/api/runs/killed-midway'), 200);
      assert.equal(midway['status'], 'stopped', 'a checkpoint and no model: resumable');
      assert.equal(midway['hasCheckpoint'], true);
    } finally {
      for (const id of ['killed-whole', 'killed-midway']) rmSync(join(runsDir, id), { recursive: true, force: true });
    }
  });

  it('refuses what another origin sends, with the cookie or not, and changes nothing', async () => {
    const before = [snapshot(runsDir), snapshot(data)];
    const cookie = { cookie: `vaekit_studio_${studio.port}=${studio.token}` };
    const spec = JSON.stringify({ name: 'forged', spec: { data: { source: 'x.npy', labels: 'y.npy' }, training: { epochs: 1 } } });
    // A page of another local server (another port) or of any site, with the studio's cookie: 403.
    for (const origin of [`http://127.0.0.1:${studio.port + 1}`, 'http://evil.example', 'null', `http://localhost:${studio.port}.evil.example`]) {
      await refused(await api('/api/runs', { method: 'POST', body: spec, headers: { ...cookie, origin } }), 403, /only this studio's own pages/);
      await refused(await api('/api/runs/flow/stop', { method: 'POST', body: '{}', headers: { ...cookie, origin } }), 403);
      await refused(await api('/api/info', { headers: { ...cookie, origin } }), 403);
    }
    for (const site of ['cross-site', 'same-site']) {
      await refused(await api('/api/runs', { method: 'POST', body: spec, headers: { ...cookie, 'sec-fetch-site': site } }), 403, /another site/);
      await refused(await api('/api/runs/flow/files/config.json', { headers: { ...cookie, 'sec-fetch-site': site } }), 403);
    }
    // A form post or a no-cors fetch can send text/plain (or a urlencoded form) without asking first: refused.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await raw(studio.port, '/api/runs', { ...cookie, 'content-type': type }, 'POST', spec);
      assert.equal(res.status, 403, type);
      assert.match(JSON.parse(res.body).error as string, /must send JSON/);
    }
    assert.equal((await raw(studio.port, '/api/runs', cookie, 'POST', spec)).status, 403, 'no body type');
    // The studio's own page (its origin, same-origin fetches) is served.
    for (const origin of [`http://127.0.0.1:${studio.port}`, `http://localhost:${studio.port}`]) {
      assert.equal((await api('/api/info', { headers: { ...cookie, origin, 'sec-fetch-site': 'same-origin' } })).status, 200);
    }
    assert.deepEqual([snapshot(runsDir), snapshot(data)], before);
  });

  it('serves no file a link in a run folder points at outside it', async () => {
    const dir = join(runsDir, 'flow');
    symlinkSync(join(root, 'secret.txt'), join(dir, 'notes.txt'));
    symlinkSync('/etc/passwd', join(dir, 'passwd.txt'));
    try {
      for (const name of ['notes.txt', 'passwd.txt']) {
        const res = await api(`/api/runs/flow/files/${name}`);
        const body = await res.text();
        assert.equal(res.status, 403, body);
        assert.ok(!body.includes('TOP-SECRET') && !body.includes('root:'), body);
      }
      // A link inside the folder is served as the file it names.
      symlinkSync(join(dir, 'config.json'), join(dir, 'same.json'));
      assert.equal((await api('/api/runs/flow/files/same.json')).status, 200);
    } finally {
      for (const name of ['notes.txt', 'passwd.txt', 'same.json']) rmSync(join(dir, name), { force: true });
    }
  });

  it('keeps its token in the runs folder, so a restart keeps tabs signed in; --token gives one', async () => {
    const kept = join(realpathSync(runsDir), '.studio-token');
    assert.equal(studio.tokenFile, kept);
    assert.equal(readFileSync(kept, 'utf8').trim(), studio.token);
    assert.equal(statSync(kept).mode & 0o777, 0o600);
    const again = await startStudio({ port: 0, runsDir, dataRoots: [data], quiet: true });
    try {
      assert.equal(again.token, studio.token);
      assert.equal((await fetch(`http://127.0.0.1:${again.port}/api/info`, { headers: { cookie: `vaekit_studio_${again.port}=${studio.token}` } })).status, 200);
    } finally {
      await again.close();
    }
    const given = await startStudio({ port: 0, runsDir, dataRoots: [data], quiet: true, token: 'a-token-of-my-own-1234' });
    try {
      assert.equal(given.token, 'a-token-of-my-own-1234');
      assert.equal(given.tokenFile, null);
      assert.equal(readFileSync(kept, 'utf8').trim(), studio.token, 'the kept token is left as it was');
    } finally {
      await given.close();
    }
  });

  it('works on a slow request off its request thread: other requests answer at once, a cancelled one stops, close stops it', async (t) => {
    // The attack: the PCA map of a model with 4096 latent dimensions (minutes of eigen-decomposition).
    await json(await post('/api/runs', { name: 'wide', spec: { data: { source: 'x.npy', labels: 'y.npy' }, model: { latent: 4096, encoderHidden: [16], decoderHidden: [16] }, training: { epochs: 1, batchSize: 64 } } }), 201);
    await (await events('wide')).until((e) => e.event === 'end');
    const jobs = async (): Promise<number> => (await json(await api('/api/info'), 200))['jobs'] as number;
    const slow = new AbortController();
    const inFlight = api('/api/runs/wide/latent-map?method=pca', { signal: slow.signal }).catch((err: unknown) => err);
    const deadline = Date.now() + 30_000;
    while (await jobs() === 0) {
      assert.ok(Date.now() < deadline, 'the map started');
      await new Promise((r) => setTimeout(r, 50));
    }
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      await json(await api('/api/info'), 200);
      times.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 50));
    }
    t.diagnostic(`GET /api/info with the map in flight: ${times.map((ms) => ms.toFixed(1)).join(', ')} ms`);
    assert.ok(Math.max(...times) < 200, `every answer under 200 ms: ${times.join(', ')}`);
    assert.equal(await jobs(), 1, 'the map is still being worked on');
    // The client goes away: its work stops.
    slow.abort();
    await inFlight;
    while (await jobs() !== 0) {
      assert.ok(Date.now() < deadline, 'the cancelled map stopped');
      await new Promise((r) => setTimeout(r, 50));
    }
    // Inference (decode, denoise, ...) is answered by one inference worker, in order, while the map
    // would still be worked on: requests queue there, not on the request thread.
    const again = new AbortController();
    const mapAgain = api('/api/runs/wide/latent-map?method=pca', { signal: again.signal }).catch((err: unknown) => err);
    const z = Array.from({ length: 24 }, (_, r) => Array.from({ length: 4096 }, (_, d) => Math.round(100 * Math.sin(r + d)) / 100));
    const decodeBody = JSON.stringify({ z }); // Made once: the test's client shares the server's thread.
    const decodes = Array.from({ length: 12 }, () => api('/api/runs/wide/decode', { method: 'POST', body: decodeBody }));
    const during: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await json(await api('/api/info'), 200);
      during.push(performance.now() - started);
    }
    const decoded = await Promise.all(decodes.map(async (r) => (await json(await r, 200))['images'] as number[][]));
    t.diagnostic(`GET /api/info with 12 decodes of 24 rows sent (from this thread) and a map in flight: ${during.map((ms) => ms.toFixed(1)).join(', ')} ms`);
    // Not asserted: this test's client sends the 8 MB of bodies from the server's own thread (the
    // load bench, npm run bench:studio, measures the latencies from another process).
    assert.ok(decoded.every((images) => images.length === 24 && images[0]!.every((v, i) => v === decoded[0]![0]![i])), 'every decode answered, the same images for the same codes');
    const roots = [realpathSync(data), realpathSync(runsDir)];
    const queue = new Inference(realpathSync(runsDir), roots, () => null);
    try {
      const gone = new AbortController();
      const first = queue.run({ kind: 'decode', id: 'wide', body: JSON.stringify({ z: z.slice(0, 2) }) });
      const dropped = queue.run({ kind: 'decode', id: 'wide', body: JSON.stringify({ z: z.slice(0, 2) }) }, gone.signal).catch((err: unknown) => err);
      const third = queue.run({ kind: 'samples', id: 'wide', query: { count: '3' } });
      assert.equal(queue.count, 3);
      gone.abort();
      assert.deepEqual((JSON.parse(await first) as { images: number[][] }).images, decoded[0]!.slice(0, 2), 'the same images as through the server');
      assert.match(String(await dropped), /cancelled/, 'a request whose client went away before its turn is dropped');
      assert.equal((JSON.parse(await third) as { images: number[][] }).images.length, 3);
      await assert.rejects(queue.run({ kind: 'decode', id: 'nowhere', body: JSON.stringify({ z: z.slice(0, 1) }) }), /There is no run "nowhere"/);
      await assert.rejects(queue.run({ kind: 'decode', id: 'wide', body: JSON.stringify({ z: [[1, 2]] }) }), /must be an array of 4096 numbers/);
      const waiting = queue.run({ kind: 'decode', id: 'wide', body: decodeBody }).catch((err: unknown) => err);
      await queue.close();
      assert.match(String(await waiting), /stopped this request/, 'closing ends what waits');
      await assert.rejects(queue.run({ kind: 'samples', id: 'wide', query: {} }), /stopping/);
    } finally {
      await queue.close();
    }
    const training = new Inference(realpathSync(runsDir), roots, () => 'wide');
    try {
      await assert.rejects(training.run({ kind: 'samples', id: 'wide', query: {} }), /is training/, 'a training run\'s model is not served');
    } finally {
      await training.close();
    }
    again.abort();
    await mapAgain;

    // A studio stopping with such a request in flight is gone within a second.
    const second = await startStudio({ port: 0, runsDir, dataRoots: [data], quiet: true });
    const pending = fetch(`http://127.0.0.1:${second.port}/api/runs/wide/latent-map?method=pca`, { headers: auth }).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 1000));
    const closing = performance.now();
    await second.close();
    const took = performance.now() - closing;
    t.diagnostic(`close with the map in flight: ${took.toFixed(0)} ms`);
    assert.ok(took < 1000, `closed in ${took.toFixed(0)} ms`);
    await pending;
  });

  it('stays responsive while it trains, stops with a checkpoint and resumes to the end', async () => {
    const epochs = 60;
    await json(await post('/api/runs', { name: 'long', spec: { data: { source: 'x.npy' }, model: { latent: 4 }, training: { epochs, batchSize: 4 } } }), 201);
    const stream = await events('long');
    await stream.until((_, seen) => seen.filter((e) => e.event === 'epoch').length >= 3);
    const started = performance.now();
    const info = await json(await api('/api/info'), 200);
    const ms = performance.now() - started;
    assert.ok(ms < 500, `/api/info took ${ms.toFixed(0)} ms while training`);
    assert.equal(info['training'], 'long');
    assert.equal(((await json(await api('/api/runs'), 200))['runs'] as Json[]).find((r) => r['id'] === 'long')!['status'], 'running');
    const runsBefore = readdirSync(runsDir).sort();
    await refused(await post('/api/runs', { name: 'other', spec: { data: { source: 'x.npy' }, model: { preset: 'seed' }, training: { epochs: 1 } } }), 409, /Another training/);
    await refused(await post('/api/runs/long/resume', {}), 409);
    assert.deepEqual(readdirSync(runsDir).sort(), runsBefore);

    const stopped = await json(await post('/api/runs/long/stop', {}), 202);
    assert.equal(stopped['status'], 'stopped');
    const end = (await stream.until((e) => e.event === 'end')).at(-1)!;
    assert.equal(end.data['status'], 'stopped');
    const run = await json(await api('/api/runs/long'), 200);
    assert.equal(run['status'], 'stopped');
    assert.equal(run['hasCheckpoint'], true);
    assert.ok(checkpointFiles(join(runsDir, 'long')).length > 0);
    const done = run['epochsDone'] as number;
    assert.ok(done >= 3 && done < epochs, `stopped after ${done} epochs`);
    assert.equal(run['testMetrics'], null);
    assert.equal((await json(await api('/api/info'), 200))['training'], null);
    // A stopped run's model is its newest checkpoint's weights.
    const checkpoint = latestCheckpoint(join(runsDir, 'long'))!.checkpoint;
    const stoppedVae = new Vae(run['config'] as VaeConfig);
    stoppedVae.params.values.set(checkpoint.params);
    assertSameFloats((await json(await api('/api/runs/long/samples?count=3'), 200))['images'], stoppedVae.sample(3, 0).data, 'samples of a stopped run');
    const weights = new Uint8Array(await (await api('/api/runs/long/files/weights.safetensors')).arrayBuffer());
    const config = await (await api('/api/runs/long/files/config.json')).text();
    assertSameFloats([Array.from(decodeBundle(config, weights, { config: 'config.json', weights: 'weights.safetensors' }).vae.params.values)], checkpoint.params, 'weights file of a stopped run');
    assert.ok(!existsSync(join(runsDir, 'long', 'weights.safetensors')), 'the folder gets a bundle only when training completes');

    assert.ok(!existsSync(join(runsDir, 'long', '.vaekit.lock')), 'the worker released its lock');
    // Another live process holds the folder (vaekit train --resume, say): the resume is refused and changes nothing.
    writeFileSync(join(runsDir, 'long', '.vaekit.lock'), String(process.ppid));
    const held = snapshot(runsDir);
    await refused(await post('/api/runs/long/resume', {}), 400, /in use by another vaekit process/);
    assert.deepEqual(snapshot(runsDir), held);
    rmSync(join(runsDir, 'long', '.vaekit.lock'));
    assert.deepEqual(await json(await post('/api/runs/long/resume', {}), 202), { id: 'long' });
    const resumed = await (await events('long')).until((e) => e.event === 'end');
    assert.equal(resumed.at(-1)!.data['status'], 'done');
    const finished = await json(await api('/api/runs/long'), 200);
    assert.equal(finished['status'], 'done');
    assert.deepEqual((finished['records'] as Json[]).map((r) => r['epoch']), Array.from({ length: epochs }, (_, i) => i + 1));
    assert.equal(typeof (finished['testMetrics'] as Json)['negElboNats'], 'number');
    const listed = (await json(await api('/api/runs'), 200))['runs'] as Json[];
    assert.deepEqual(listed.map((r) => r['id']), ['long', 'wide', 'flow']);
  });
  it('serves a conditional model: samples of a class, decodes with labels', async () => {
    await json(await post('/api/runs', { name: 'cvae', spec: { data: { source: 'x.npy', labels: 'y.npy' }, model: { preset: 'mlp', latent: 3, conditional: true }, training: { epochs: 1 } } }), 201);
    assert.equal((await (await events('cvae')).until((e) => e.event === 'end')).at(-1)!.data['status'], 'done');
    const vae = loadBundle(join(runsDir, 'cvae')).vae;
    assert.equal(vae.classes, 2);
    assertSameFloats((await json(await api('/api/runs/cvae/samples?count=4&label=1'), 200))['images'], vae.sample(4, 0, 1).data, 'samples of class 1');
    const z = [[0.5, -1, 0.25], [0, 0, 0]];
    const decoded = await json(await post('/api/runs/cvae/decode', { z, labels: [1, 0] }), 200);
    assertSameFloats(decoded['images'], vae.decode(new Tensor(Float32Array.from(z.flat()), [2, 3]), Int32Array.of(1, 0)).data, 'conditional decode');
    await refused(await post('/api/runs/cvae/decode', { z }), 400, /conditional/);
    await refused(await post('/api/runs/cvae/decode', { z, labels: [2, 0] }), 400);
    await refused(await api('/api/runs/cvae/samples?label=7'), 400, /no class/);
  });
});

describe('vaekit studio (the command)', () => {
  it('prints one line with its address, and on SIGINT stops the training with a checkpoint and exits 0', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vaekit-studio-cli-'));
    let child: ReturnType<typeof spawn> | null = null;
    try {
      twoClassNpy(root, 64);
      const runs = join(root, 'runs');
      const cli = pathToFileURL(join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')).href;
      const code = `const { main } = await import(${JSON.stringify(cli)}); await main(['node', 'vaekit', ...process.argv.slice(1)]);`;
      const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, 'studio', '--port', '0', '--runs', runs, '--data-root', root], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      let stdout = '';
      let stderr = '';
      proc.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      const exited = new Promise<number | null>((resolve) => proc.on('exit', (status) => resolve(status)));
      const url = await new Promise<string>((resolve, reject) => {
        proc.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64})/.exec(stdout);
          if (m !== null && stdout.includes('\n')) resolve(m[1]!);
        });
        void exited.then(() => reject(new Error(`vaekit studio exited: ${stderr}`)));
      });
      const { origin, searchParams } = new URL(url);
      const headers = { authorization: `Bearer ${searchParams.get('token')}`, 'content-type': 'application/json' };
      const info = await fetch(`${origin}/api/info`, { headers });
      assert.equal(info.status, 200);
      const created = await fetch(`${origin}/api/runs`, { method: 'POST', headers, body: JSON.stringify({ name: 'cli', spec: { data: { source: 'x.npy' }, model: { preset: 'seed', latent: 2 }, training: { epochs: 5000, batchSize: 4 } } }) });
      assert.equal(created.status, 201, await created.clone().text());
      const stream = new SseReader(await fetch(`${origin}/api/runs/cli/events`, { headers }));
      await stream.until((e) => e.event === 'epoch');
      proc.kill('SIGINT');
      const end = await stream.until((e) => e.event === 'end').catch(() => null);
      assert.equal(await exited, 0, stderr);
      if (end !== null) assert.equal(end.at(-1)!.data['status'], 'stopped');
      const lines = stdout.trim().split('\n');
      assert.equal(lines.length, 1, stdout);
      assert.ok(lines[0]!.includes(url));
      const meta = JSON.parse(readFileSync(join(runs, 'cli', 'studio.json'), 'utf8')) as Json;
      assert.equal(meta['status'], 'stopped');
      assert.ok(checkpointFiles(join(runs, 'cli')).length > 0);
    } finally {
      // A failed assertion must not leave the studio running: it would keep the test process (and CI) alive.
      if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    }
  });
});
