/**
 * The studio's JSON API (docs/studio.md): runs (start, list, stop, resume, events), their files,
 * report and exports, and inference with a run's model (examples, samples, encode, decode,
 * denoise, KL ranking, latent map, anomaly scores). Every route is a few calls into the library.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join, sep } from 'node:path';
import { zipSync } from 'fflate';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { arrayDataset, isImageShape, takeFirst, type Dataset } from '../data/dataset.js';
import { loadData } from '../data/load.js';
import { parseNoise } from '../data/transforms/noise.js';
import { getBackend } from '../engine/index.js';
import { VaekitError } from '../errors.js';
import { Tensor } from '../engine/tensor.js';
import { EXPORT_FORMATS, exportFiles, type ExportFormat } from '../export/index.js';
import { encodeBundle } from '../run/bundle-format.js';
import { writeRows } from '../io/rows.js';
import { encodeDataset } from '../latent/encode.js';
import { projectLatents, PROJECTION_METHODS, UMAP_MAX_POINTS, type ProjectionMethod } from '../latent/map.js';
import { rankLatentDimensions } from '../latent/traverse.js';
import { scoreAnomalies } from '../pipelines/anomaly.js';
import { classIndex, prepareForModel } from '../run/data.js';
import { denoiseDataset } from '../pipelines/denoise.js';
import { writeReport } from '../report/report.js';
import { PRESETS } from '../vae/config.js';
import { SpecFieldError, validateRunSpec, type RunSpec } from '../run/spec.js';
import type { Vae } from '../vae/model.js';
import { scoreHistogramChart } from '../viz/charts.js';
import { asModelShape, type Models, type RunModel } from './models.js';
import type { RunEvent, RunStore } from './runs.js';
import { checkFileName, confineDataPath, confineRunData, HttpError, MAX_ROWS } from './security.js';
import { RUN_FILES } from '../run/names.js';

export interface ApiContext {
  runs: RunStore;
  models: Models;
  /** Real paths of the folders data may come from (the data roots and the runs folder). */
  readRoots: string[];
  dataRoots: string[];
  version: string;
  /** Called with a closer for each open event stream (the server ends them on close). */
  track(close: () => void): () => void;
}

const ANOMALY_SAMPLES = 10;
const TOP_ANOMALIES = 8;

type Body = Record<string, unknown>;

function isObject(x: unknown): x is Body {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export async function jsonBody(c: Context): Promise<Body> {
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON.');
  }
  if (!isObject(body)) throw new HttpError(400, 'The request body must be a JSON object.');
  return body;
}

// ---- checking fields --------------------------------------------------------------------------

function optInt(b: Body, key: string, min: number, max: number): number | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new HttpError(400, `"${key}" must be a whole number from ${min} to ${max}.`);
  return v;
}

function optString(b: Body, key: string): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, `"${key}" must be a string.`);
  return v;
}

/** A query parameter as a whole number in [min, max], or the default. */
function queryInt(c: Context, key: string, min: number, max: number, fallback: number): number {
  const text = c.req.query(key);
  if (text === undefined || text === '') return fallback;
  const v = Number(text);
  if (!/^\d+$/.test(text) || v < min || v > max) throw new HttpError(400, `The query parameter "${key}" must be a whole number from ${min} to ${max}.`);
  return v;
}

/** Rows of numbers, each `width` long (at most MAX_ROWS rows): images in [0, 1] when `unit`. */
function matrix(b: Body, key: string, width: number, unit: boolean): { values: Float32Array; rows: number } {
  const v = b[key];
  if (!Array.isArray(v) || v.length === 0) throw new HttpError(400, `"${key}" must be a non-empty array of rows.`);
  if (v.length > MAX_ROWS) throw new HttpError(400, `At most ${MAX_ROWS} rows per request, not ${v.length}.`);
  const values = new Float32Array(v.length * width);
  v.forEach((row: unknown, r) => {
    if (!Array.isArray(row) || row.length !== width) throw new HttpError(400, `Row ${r} of "${key}" must be an array of ${width} numbers.`);
    row.forEach((x: unknown, j) => {
      if (typeof x !== 'number' || !Number.isFinite(x) || (unit && (x < 0 || x > 1))) {
        throw new HttpError(400, `Value ${j} of row ${r} of "${key}" must be a ${unit ? 'number in [0, 1]' : 'finite number'}.`);
      }
      values[r * width + j] = x;
    });
  });
  return { values, rows: v.length };
}

/** The labels a conditional model needs (one class index per row), or null for an unconditional one. */
function labelsOf(b: Body, vae: Vae, rows: number): Int32Array | null {
  const v = b['labels'];
  if (vae.classes === 0) {
    if (v !== undefined && v !== null) throw new HttpError(400, 'This model is not conditional: send no labels.');
    return null;
  }
  if (!Array.isArray(v) || v.length !== rows) throw new HttpError(400, `This is a conditional model: send "labels", one class index (0 to ${vae.classes - 1}) per row.`);
  return Int32Array.from(v, (y: unknown, r) => {
    if (typeof y !== 'number' || !Number.isInteger(y) || y < 0 || y >= vae.classes) throw new HttpError(400, `Label ${r} must be a class index from 0 to ${vae.classes - 1}.`);
    return y;
  });
}

function rowsOf(values: Float32Array, rows: number, width: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from(values.subarray(r * width, (r + 1) * width)));
}

/** The shape images travel with: [H, W, C] for images, [D] for features. */
function shapeOf(vae: Vae): number[] {
  return [...vae.config.inputShape];
}

function noiseOf(text: unknown): ReturnType<typeof parseNoise> {
  if (typeof text !== 'string') throw new HttpError(400, '"noise" must be a string such as "gaussian:0.2" or "none".');
  return parseNoise(text);
}

/** The form's words for the run spec's fields, for a refused field (the rest are named as they are). */
const FORM_FIELDS: Readonly<Record<string, string>> = {
  'data.source': 'Data', 'data.labels': 'Labels file', 'data.labelColumn': 'Label column', 'data.limit': 'Example limit',
  'model.preset': 'Preset', 'model.latent': 'Latent size', 'model.likelihood': 'Likelihood', 'model.conditional': 'Conditional',
  'objective.beta': 'Beta', 'noise.input': 'Noise', 'training.epochs': 'Epochs', 'training.batchSize': 'Batch size',
  'training.learningRate': 'Learning rate', 'training.precision': 'Precision', seed: 'Seed',
};

/**
 * The run spec of POST /api/runs ({ name?, spec }), checked by the library's one validation, with
 * the studio's own: data paths confined to the data folders, the run folder its own, a checkpoint
 * every epoch. A refused field is named as the form names it.
 */
export function trainRequest(b: Body, roots: readonly string[], runDir: string): RunSpec {
  const given = b['spec'];
  if (!isObject(given)) throw new HttpError(400, '"spec" must be a run spec (an object with data, model, objective, training, noise and seed).');
  let spec: RunSpec;
  try {
    spec = validateRunSpec({ ...given, outputs: { dir: runDir, figures: false } });
  } catch (err) {
    if (err instanceof SpecFieldError) throw new HttpError(400, `${FORM_FIELDS[err.field] ?? err.field} ${err.detail}`);
    throw err;
  }
  return {
    ...spec,
    data: confineRunData(spec.data, roots),
    training: { ...spec.training, checkpoint: { everyEpochs: 1, everySteps: null, everySeconds: null } },
  };
}

const FILE_TYPES: Record<string, string> = {
  '.json': 'application/json', '.jsonl': 'application/x-ndjson', '.png': 'image/png', '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8', '.md': 'text/markdown; charset=utf-8', '.csv': 'text/csv; charset=utf-8',
  '.safetensors': 'application/octet-stream', '.txt': 'text/plain; charset=utf-8',
};

/** Pages and files of a run are shown as they are, never run: no scripts, no requests elsewhere. */
const SANDBOX = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'";

/** A file name for an upload: its own name's safe characters, ending in `ext`. */
function uploadName(name: string, ext: string): string {
  const base = basename(name).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 100);
  return base.toLowerCase().endsWith(ext) ? base : `${base || 'upload'}${ext}`;
}

export function apiRoutes(ctx: ApiContext): Hono {
  const { runs, models } = ctx;
  const api = new Hono();

  api.get('/info', (c) => {
    const b = getBackend().info();
    return c.json({
      version: ctx.version, backend: { backend: b.backend, blas: b.blas, threads: b.threads, bf16: b.bf16.available, bf16Reason: b.bf16.reason ?? null },
      runsDir: runs.runsDir, dataRoots: ctx.dataRoots, presets: Object.keys(PRESETS), training: runs.training,
    });
  });

  api.post('/data/describe', async (c) => {
    const b = await jsonBody(c);
    const data = confineDataPath(b['data'], ctx.readRoots);
    const labels = optString(b, 'labels');
    const labelColumn = optString(b, 'labelColumn');
    const set = await loadData(data, 'train', {
      ...(labels !== undefined ? { labels: confineDataPath(labels, ctx.readRoots, 'labels') } : {}),
      ...(labelColumn !== undefined ? { labelColumn } : {}),
    });
    return c.json({ source: set.source, count: set.count, shape: [...set.shape], classNames: set.labelNames === null ? null : [...set.labelNames] });
  });

  // ---- runs ------------------------------------------------------------------------------------

  api.get('/runs', (c) => c.json({ runs: runs.list() }));

  api.post('/runs', async (c) => {
    const body = await jsonBody(c);
    const id = runs.newId(optString(body, 'name'));
    await runs.start(trainRequest(body, ctx.readRoots, join(runs.runsDir, id)), id);
    return c.json({ id }, 201);
  });

  api.get('/runs/:id', (c) => c.json(runs.details(c.req.param('id'))));

  api.get('/runs/:id/events', (c) => {
    const id = c.req.param('id');
    runs.runDir(id);
    return streamSSE(c, async (stream) => {
      const queue: RunEvent[] = [];
      let wake: (() => void) | null = null;
      let closed = false;
      const close = (): void => {
        closed = true;
        wake?.();
      };
      const untrack = ctx.track(close);
      stream.onAbort(close);
      const unsubscribe = runs.subscribe(id, (e) => {
        queue.push(e);
        wake?.();
      });
      try {
        for (;;) {
          while (queue.length > 0 && !closed) {
            const e = queue.shift()!;
            await stream.writeSSE({ event: e.event, data: JSON.stringify(e.data) });
            if (e.event === 'end') return;
          }
          if (closed) return;
          await new Promise<void>((resolve) => { wake = resolve; });
          wake = null;
        }
      } finally {
        unsubscribe();
        untrack();
      }
    });
  });

  api.post('/runs/:id/stop', async (c) => {
    const status = await runs.stop(c.req.param('id'));
    return c.json({ status }, 202);
  });

  api.post('/runs/:id/resume', async (c) => {
    const id = await runs.resume(c.req.param('id'));
    return c.json({ id }, 202);
  });

  /** A stopped run's bundle files, made from its newest checkpoint (the folder gets a bundle only when training completes). */
  const checkpointFile = (id: string, name: string): Uint8Array<ArrayBuffer> => {
    const missing = new HttpError(404, `The run has no file "${name}".`);
    if (name !== RUN_FILES.config && name !== RUN_FILES.weights) throw missing;
    let model: RunModel;
    try {
      model = models.bundle(id);
    } catch {
      throw missing;
    }
    if (model.checkpoint === null) throw missing;
    const files = encodeBundle(model.bundle.vae, model.bundle.training, model.bundle.data);
    return new Uint8Array(name === RUN_FILES.config ? new TextEncoder().encode(files.config) : files.weights);
  };

  api.get('/runs/:id/files/:name', (c) => {
    const dir = runs.runDir(c.req.param('id'));
    const name = checkFileName(c.req.param('name'));
    const path = join(dir, name);
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(readFileSync(path));
    } catch {
      bytes = checkpointFile(c.req.param('id'), name);
    }
    c.header('Content-Type', FILE_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream');
    c.header('Content-Security-Policy', SANDBOX);
    if (!(extname(name).toLowerCase() in FILE_TYPES)) c.header('Content-Disposition', `attachment; filename="${name}"`);
    return c.body(bytes);
  });

  api.get('/runs/:id/report', async (c) => {
    const id = c.req.param('id');
    const { bundle, dir } = models.bundle(id);
    let data: Dataset | undefined;
    try {
      data = (await models.testSet(id)).set;
    } catch {
      data = undefined; // The page is drawn without the figures that need data.
    }
    const path = await writeReport(dir, { bundle, ...(data !== undefined ? { data } : {}) });
    c.header('Content-Security-Policy', SANDBOX);
    return c.html(readFileSync(path, 'utf8'));
  });

  api.get('/runs/:id/export/:format', (c) => {
    const id = c.req.param('id');
    const format = c.req.param('format');
    if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new HttpError(404, `There is no export format "${format}": use ${EXPORT_FORMATS.join(', ')}.`);
    const { bundle } = models.bundle(id);
    const files = exportFiles(bundle.vae, format as ExportFormat, bundle.data, bundle.training);
    const zip = zipSync(Object.fromEntries(files.map((f) => [f.name, f.bytes])));
    c.header('Content-Type', 'application/zip');
    c.header('Content-Disposition', `attachment; filename="${id}-${format}.zip"`);
    return c.body(zip);
  });

  // ---- inference -------------------------------------------------------------------------------

  api.get('/runs/:id/examples', async (c) => {
    const { set, bundle } = await models.testSet(c.req.param('id'));
    const start = queryInt(c, 'start', 0, Math.max(0, set.count - 1), 0);
    const count = Math.min(queryInt(c, 'count', 1, MAX_ROWS, 16), set.count - start);
    const values = new Float32Array(count * set.size);
    set.gather(null, start, count, values);
    return c.json({
      images: rowsOf(values, count, set.size),
      labels: set.labels === null ? null : Array.from(set.labels.subarray(start, start + count)),
      labelNames: set.labelNames === null ? null : [...set.labelNames],
      shape: shapeOf(bundle.vae),
    });
  });

  api.get('/runs/:id/samples', (c) => {
    const { bundle } = models.bundle(c.req.param('id'));
    const vae = bundle.vae;
    const count = queryInt(c, 'count', 1, MAX_ROWS, 16);
    const seed = queryInt(c, 'seed', 0, 0xffffffff, 0);
    const name = c.req.query('label');
    if (name !== undefined && name !== '' && vae.classes === 0) throw new HttpError(400, 'This model is not conditional: it takes no label.');
    const label = name === undefined || name === '' ? undefined : classIndex(bundle.data, vae.classes, name);
    const images = vae.sample(count, seed, label);
    return c.json({ images: rowsOf(images.data, count, vae.pixels), shape: shapeOf(vae) });
  });

  api.post('/runs/:id/encode', async (c) => {
    const b = await jsonBody(c);
    const vae = models.bundle(c.req.param('id')).bundle.vae;
    const { values, rows } = matrix(b, 'images', vae.pixels, isImageShape(vae.config.inputShape));
    const { mean, logvar } = vae.encode(new Tensor(values, [rows, vae.pixels]), labelsOf(b, vae, rows));
    return c.json({ mean: rowsOf(mean.data, rows, vae.latent), logvar: rowsOf(logvar.data, rows, vae.latent) });
  });

  api.post('/runs/:id/decode', async (c) => {
    const b = await jsonBody(c);
    const vae = models.bundle(c.req.param('id')).bundle.vae;
    const { values, rows } = matrix(b, 'z', vae.latent, false);
    const images = vae.decode(new Tensor(values, [rows, vae.latent]), labelsOf(b, vae, rows));
    return c.json({ images: rowsOf(images.data, rows, vae.pixels), shape: shapeOf(vae) });
  });

  api.post('/runs/:id/denoise', async (c) => {
    const b = await jsonBody(c);
    const vae = models.bundle(c.req.param('id')).bundle.vae;
    const { values, rows } = matrix(b, 'images', vae.pixels, isImageShape(vae.config.inputShape));
    const noise = noiseOf(b['noise'] ?? 'none');
    const seed = optInt(b, 'seed', 0, 0xffffffff) ?? 0;
    const labels = labelsOf(b, vae, rows);
    const classes = Math.max(vae.classes, 1);
    const set = arrayDataset({
      values, shape: vae.config.inputShape, source: 'the request',
      ...(labels !== null ? { labels, labelNames: Array.from({ length: classes }, (_, i) => String(i)) } : {}),
    });
    const out = denoiseDataset(vae, set, { noise, seed });
    return c.json({ noisy: rowsOf(out.noisy, rows, vae.pixels), denoised: rowsOf(out.denoised, rows, vae.pixels), shape: shapeOf(vae) });
  });

  api.get('/runs/:id/kl-ranking', async (c) => {
    const { set, bundle } = await models.testSet(c.req.param('id'));
    const ranking = rankLatentDimensions(bundle.vae, set, { binarize: bundle.training['binarize'] === true, seed: Number(bundle.training['seed'] ?? 0) || 0 });
    return c.json({
      dims: ranking.dimensions.map((d) => ({ dim: d.dim, kl: d.kl, inactive: !d.active })),
      examples: ranking.examples, klToPrior: ranking.klToPrior,
    });
  });

  api.get('/runs/:id/latent-map', async (c) => {
    const { set, bundle } = await models.testSet(c.req.param('id'));
    const method = c.req.query('method') ?? 'pca';
    if (!(PROJECTION_METHODS as readonly string[]).includes(method)) throw new HttpError(400, `"method" must be ${PROJECTION_METHODS.join(' or ')}.`);
    const limit = queryInt(c, 'limit', 2, UMAP_MAX_POINTS, 2000);
    const vae = bundle.vae;
    const first = takeFirst(set, limit);
    const codes = encodeDataset(vae, first, { binarize: bundle.training['binarize'] === true });
    const L = vae.latent;
    const p = projectLatents(new Tensor(codes.mean, [codes.count, L]), method as ProjectionMethod, 0);
    const z = Array.from(p.indices, (i) => Array.from(codes.mean.subarray(i * L, (i + 1) * L)));
    return c.json({
      method: p.method, x: Array.from(p.x), y: Array.from(p.y), z,
      labels: first.labels === null ? null : Array.from(p.indices, (i) => first.labels![i]!),
      labelNames: first.labelNames === null ? [] : [...first.labelNames],
      xTitle: p.xTitle, yTitle: p.yTitle,
      ...(p.pca !== null ? { pca: p.pca } : {}),
    });
  });

  api.post('/runs/:id/anomaly', async (c) => {
    const id = c.req.param('id');
    const { bundle, dir } = models.bundle(id);
    if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('multipart/form-data')) {
      throw new HttpError(415, 'Send the data to score as multipart/form-data, its file in the field "file".');
    }
    let form: Record<string, string | File>;
    try {
      form = await c.req.parseBody();
    } catch {
      throw new HttpError(400, 'The upload is not a readable multipart form.');
    }
    const file = form['file'];
    if (!(file instanceof File)) throw new HttpError(400, 'Send the data to score in the form field "file" (a .csv or .npy file).');
    const ext = extname(file.name).toLowerCase();
    if (ext !== '.csv' && ext !== '.npy') throw new HttpError(400, `"file" must be a .csv or .npy file, not "${file.name}".`);
    const labelsFile = form['labels'];
    if (labelsFile !== undefined && !(labelsFile instanceof File)) throw new HttpError(400, 'The form field "labels" must be an .npy file.');
    const labelColumn = typeof form['labelColumn'] === 'string' && form['labelColumn'] !== '' ? form['labelColumn'] : undefined;
    const normalClass = typeof form['normalClass'] === 'string' && form['normalClass'] !== '' ? form['normalClass'] : undefined;
    const tmp = mkdtempSync(join(tmpdir(), 'vaekit-studio-'));
    let loaded: Dataset;
    try {
      // Named as uploaded (letters, digits, ".", "_" and "-" kept), so the library's messages name the user's files.
      const path = join(tmp, uploadName(file.name, ext));
      writeFileSync(path, new Uint8Array(await file.arrayBuffer()));
      let labels: string | undefined;
      if (labelsFile instanceof File) {
        labels = join(tmp, `labels-${uploadName(labelsFile.name, '.npy')}`);
        writeFileSync(labels, new Uint8Array(await labelsFile.arrayBuffer()));
      }
      loaded = await loadData(path, 'test', {
        ...(labels !== undefined ? { labels } : {}),
        ...(labelColumn !== undefined ? { labelColumn } : {}),
      });
    } catch (err) {
      if (err instanceof VaekitError) throw new HttpError(400, err.message.split(`${tmp}${sep}`).join(''));
      throw err;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    const named = arrayDataset({ values: loaded.values, shape: loaded.shape, labels: loaded.labels, labelNames: loaded.labelNames, featureNames: loaded.featureNames, source: file.name });
    const vae = bundle.vae;
    const set = prepareForModel(bundle.data, asModelShape(named, bundle.data), vae.classes > 0);
    const result = scoreAnomalies(vae, set, { samples: ANOMALY_SAMPLES, seed: 0, ...(normalClass !== undefined ? { normalClass } : {}) });
    const normalName = result.normalClass === null ? null : set.labelNames?.[result.normalClass] ?? String(result.normalClass);
    const order = Array.from({ length: set.count }, (_, i) => i).sort((a, b) => result.scores[b]! - result.scores[a]! || a - b);
    const image = isImageShape(vae.config.inputShape);
    const one = new Float32Array(set.size);
    const top = order.slice(0, TOP_ANOMALIES).map((index) => {
      if (image) set.gather(Uint32Array.of(index), 0, 1, one);
      return { index, score: result.scores[index]!, image: image ? Array.from(one) : null };
    });
    const chart = await scoreHistogramChart({
      scores: result.scores,
      isAnomaly: set.labels === null || result.normalClass === null ? null : Array.from(set.labels, (y) => y !== result.normalClass),
      title: `Anomaly scores of ${set.count} examples of ${file.name}`,
      xTitle: 'anomaly score: negative ELBO (nats per example)',
      ...(normalName !== null ? { subtitle: `class ${normalName} normal, the rest anomalous${result.auroc !== null ? ` · AUROC ${(100 * result.auroc).toFixed(2)}%` : ''}` } : {}),
    });
    writeRows(join(dir, RUN_FILES.studioScores), {
      values: Float32Array.from(result.scores), count: set.count, shape: [1], columns: ['score'], labels: set.labels, labelNames: set.labelNames,
    }, ['csv']);
    return c.json({
      count: set.count, scores: Array.from(result.scores),
      labels: set.labels === null ? null : Array.from(set.labels),
      labelNames: set.labelNames === null ? null : [...set.labelNames],
      normalClass: normalName, auroc: result.auroc, top, histogram: chart.spec,
    });
  });

  api.get('/runs/:id/anomaly/scores.csv', (c) => {
    const dir = runs.runDir(c.req.param('id'));
    let text: string;
    try {
      text = readFileSync(join(dir, RUN_FILES.studioScores), 'utf8');
    } catch {
      throw new HttpError(404, 'This run has scored no data yet: POST a file to its anomaly endpoint first.');
    }
    c.header('Content-Type', 'text/csv; charset=utf-8');
    c.header('Content-Disposition', `attachment; filename="${c.req.param('id')}-scores.csv"`);
    return c.body(text);
  });

  return api;
}

