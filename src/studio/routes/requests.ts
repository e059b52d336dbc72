/**
 * Reading what a request sends: its JSON body, one parser per body shape of messages.ts (a
 * refusal is a 400 that names the field; 415 for an upload that is not multipart), and its query
 * parameters. The run spec of POST /api/runs is not read here: the library's validateRunSpec
 * checks it (routes/runs.ts).
 */
import { extname } from 'node:path';
import type { Context } from 'hono';
import { isImageShape } from '../../data/dataset.js';
import { parseNoise, type NoiseSpec } from '../../data/transforms/noise.js';
import { CODE_DISTANCES, type CodeDistance } from '../../pipelines/text-nearest.js';
import type { TextBundle } from '../../run/bundle-format.js';
import { classIndex } from '../../run/data.js';
import type { Vae } from '../../vae/model.js';
import { DECODE_MODES, type DecodeMode } from '../../vae/text/model.js';
import type {
  AnomalyUpload, DecodeRequest, DenoiseRequest, DescribeRequest, EncodeRequest, SeriesScoreRequest, SeriesUpload, TextInterpolateRequest, TextNearestRequest, TextReconstructRequest, TextSamplesQuery,
} from '../messages.js';
import { isMnistSpec } from '../../data/load.js';
import { confineDataPath, HttpError, MAX_ROWS } from '../security.js';
import { INTERPOLATION_STEPS, MAX_BEAM_WIDTH, MAX_NEAREST, MAX_SENTENCE_CHARS, MAX_TEMPERATURE, MAX_TEXT_SAMPLES } from '../text-limits.js';

/** A body as it arrives: the fields of shape T, each of them unchecked. */
export type Unchecked<T> = { [K in keyof T]?: unknown };

type Json = Record<string, unknown>;

export function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The request's body: a JSON object, its fields still to be checked. */
export async function jsonBody<T>(c: Context): Promise<Unchecked<T>> {
  return parseBody<T>(await c.req.text());
}

/** A body's text as a JSON object, its fields still to be checked (the inference worker parses the text it is passed). */
export function parseBody<T>(text: string): Unchecked<T> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON.');
  }
  if (!isObject(body)) throw new HttpError(400, 'The request body must be a JSON object.');
  return body as Unchecked<T>;
}

// ---- fields -----------------------------------------------------------------------------------

export function optString<T>(b: Unchecked<T>, key: keyof T & string): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, `"${key}" must be a string.`);
  return v;
}

function optInt<T>(b: Unchecked<T>, key: keyof T & string, min: number, max: number): number | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new HttpError(400, `"${key}" must be a whole number from ${min} to ${max}.`);
  return v;
}

/** A query parameter of shape T, as sent. */
export function queryText<T>(c: Context, key: keyof T & string): string | undefined {
  return c.req.query(key);
}

/** A query's parameters as sent (the text after `=`), or absent. */
export type Query<T> = { [K in keyof T]?: string };

/** A query parameter of shape T as a whole number in [min, max], or the default. */
export function queryInt<T>(c: Context, key: keyof T & string, min: number, max: number, fallback: number): number {
  return queryNumber<T>(c.req.query() as Query<T>, key, min, max, fallback);
}

/** queryInt of a query already read (the inference worker gets the query, not the request). */
export function queryNumber<T>(query: Query<T>, key: keyof T & string, min: number, max: number, fallback: number): number {
  const text = query[key];
  if (text === undefined || text === '') return fallback;
  const v = Number(text);
  if (!/^\d+$/.test(text) || v < min || v > max) throw new HttpError(400, `The query parameter "${key}" must be a whole number from ${min} to ${max}.`);
  return v;
}

/** Rows of numbers, each `width` long (at most MAX_ROWS rows): images in [0, 1] when `unit`. */
function matrix(v: unknown, key: string, width: number, unit: boolean): { values: Float32Array; rows: number } {
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
function labelsOf(v: unknown, vae: Vae, rows: number): Int32Array | null {
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

// ---- one parser per body shape ----------------------------------------------------------------

/** DescribeRequest, its paths confined to `roots`. */
export function describeRequest(b: Unchecked<DescribeRequest>, roots: readonly string[]): DescribeRequest {
  const data = confineDataPath(b.data, roots);
  const labels = optString(b, 'labels');
  const labelColumn = optString(b, 'labelColumn');
  return {
    data,
    ...(labels !== undefined ? { labels: confineDataPath(labels, roots, 'labels') } : {}),
    ...(labelColumn !== undefined ? { labelColumn } : {}),
  };
}

/** Rows for the model, as it takes them, and their labels. */
export interface ModelRows {
  values: Float32Array;
  rows: number;
  labels: Int32Array | null;
}

/** Images for `vae`: rows of its input's size, values in [0, 1] for an image model. */
function imagesFor(v: unknown, vae: Vae): { values: Float32Array; rows: number } {
  return matrix(v, 'images', vae.pixels, isImageShape(vae.config.inputShape));
}

export function encodeRequest(b: Unchecked<EncodeRequest>, vae: Vae): ModelRows {
  const { values, rows } = imagesFor(b.images, vae);
  return { values, rows, labels: labelsOf(b.labels, vae, rows) };
}

export function decodeRequest(b: Unchecked<DecodeRequest>, vae: Vae): ModelRows {
  const { values, rows } = matrix(b.z, 'z', vae.latent, false);
  return { values, rows, labels: labelsOf(b.labels, vae, rows) };
}

/** A DenoiseRequest: its images, noise (default "none"), seed (default 0) and labels. */
export function denoiseRequest(b: Unchecked<DenoiseRequest>, vae: Vae): ModelRows & { noise: NoiseSpec; seed: number } {
  const { values, rows } = imagesFor(b.images, vae);
  const noise = b.noise ?? 'none';
  if (typeof noise !== 'string') throw new HttpError(400, '"noise" must be a string such as "gaussian:0.2" or "none".');
  const parsed = parseNoise(noise);
  const seed = optInt(b, 'seed', 0, 0xffffffff) ?? 0;
  return { values, rows, noise: parsed, seed, labels: labelsOf(b.labels, vae, rows) };
}

/** The fields of a multipart form, still to be checked (415 when the body is not one; `what`: what it sends, in words). */
async function multipartForm<T>(c: Context, what: string): Promise<Unchecked<T>> {
  if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('multipart/form-data')) {
    throw new HttpError(415, `Send ${what} as multipart/form-data, its file in the field "file".`);
  }
  try {
    return await c.req.parseBody();
  } catch {
    throw new HttpError(400, 'The upload is not a readable multipart form.');
  }
}

/** A form's field "file": a file whose name ends in one of `exts` (".csv"); `what`: what it sends, in words. */
function formFile(v: unknown, exts: readonly string[], what: string): File {
  const kinds = `${exts.slice(0, -1).join(', ')}${exts.length > 1 ? ' or ' : ''}${exts.at(-1)!}`;
  if (!(v instanceof File)) throw new HttpError(400, `Send ${what} in the form field "file" (a ${kinds} file).`);
  if (!exts.includes(extname(v.name).toLowerCase())) throw new HttpError(400, `"file" must be a ${kinds} file, not "${v.name}".`);
  return v;
}

/** A form's text field, or undefined when it is absent or empty. */
function formText(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The multipart form of an AnomalyUpload (415 when the body is not one). */
export async function anomalyUpload(c: Context): Promise<AnomalyUpload> {
  const what = 'the data to score';
  const form = await multipartForm<AnomalyUpload>(c, what);
  const file = formFile(form.file, ['.csv', '.npy'], what);
  const { labels } = form;
  if (labels !== undefined && !(labels instanceof File)) throw new HttpError(400, 'The form field "labels" must be an .npy file.');
  const labelColumn = formText(form.labelColumn);
  const normalClass = formText(form.normalClass);
  return {
    file,
    ...(labels !== undefined ? { labels } : {}),
    ...(labelColumn !== undefined ? { labelColumn } : {}),
    ...(normalClass !== undefined ? { normalClass } : {}),
  };
}

// ---- a series model's requests (the Series page) ---------------------------------------------------

/** The files a series is read from. */
export const SERIES_EXTENSIONS = ['.csv', '.tsv', '.npy'] as const;

/** A label column's name: a string that is not blank, or undefined when absent or empty. */
function labelColumnOf(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new HttpError(400, '"labelColumn" must be the name of a column of the file.');
  return v.trim();
}

/** A SeriesScoreRequest, its path confined to `roots`. */
export function seriesScoreRequest(b: Unchecked<SeriesScoreRequest>, roots: readonly string[]): SeriesScoreRequest {
  const given = b.path;
  if (typeof given !== 'string' || given.trim() === '') throw new HttpError(400, 'Give "path": the path of a series file (.csv, .tsv or .npy) or a folder of them.');
  if (isMnistSpec(given)) throw new HttpError(400, `"${given}" is a set of images: give the path of a series file (.csv, .tsv or .npy) or a folder of them.`);
  const path = confineDataPath(given, roots, 'series');
  const labelColumn = labelColumnOf(b.labelColumn);
  return { path, ...(labelColumn !== undefined ? { labelColumn } : {}) };
}

/** The multipart form of a SeriesUpload (415 when the body is not one). */
export async function seriesUpload(c: Context): Promise<SeriesUpload> {
  const what = 'the series to score';
  const form = await multipartForm<SeriesUpload>(c, what);
  const file = formFile(form.file, SERIES_EXTENSIONS, what);
  const labelColumn = labelColumnOf(formText(form.labelColumn));
  return { file, ...(labelColumn !== undefined ? { labelColumn } : {}) };
}

// ---- a text model's requests (the Text page) ----------------------------------------------------

/** A typed sentence: a string with a token or more in it, of at most MAX_SENTENCE_CHARS characters. */
function sentenceOf<T>(b: Unchecked<T>, key: keyof T & string): string {
  const v = b[key];
  if (v === undefined || v === null) throw new HttpError(400, `Send the sentence as "${key}".`);
  if (typeof v !== 'string') throw new HttpError(400, `"${key}" must be a string: the sentence.`);
  if (v.trim() === '') throw new HttpError(400, `"${key}" is blank: type a sentence.`);
  if (v.length > MAX_SENTENCE_CHARS) {
    throw new HttpError(400, `"${key}" has ${v.length.toLocaleString('en-US')} characters, and a sentence may have at most ${MAX_SENTENCE_CHARS.toLocaleString('en-US')}.`);
  }
  return v;
}

/** A conditional text model's class index from its name (or index); undefined for a model that is not conditional. */
export function textLabelOf(label: unknown, model: TextBundle): number | undefined {
  const given = label === undefined || label === null || label === '' ? undefined : label;
  if (given !== undefined && typeof given !== 'string') throw new HttpError(400, '"label" must be a string: a class name (or index).');
  if (model.vae.classes === 0) {
    if (given !== undefined) throw new HttpError(400, 'This text model is not conditional: send no label.');
    return undefined;
  }
  if (given === undefined) throw new HttpError(400, 'This text model is conditional: send "label", the class of the sentences.');
  return classIndex(model.data, model.vae.classes, given);
}

/** A text model with a latent code (not a language model), for the requests that encode sentences. */
export function requireLatent(model: TextBundle, id: string, what: string): void {
  if (model.vae.latent === 0) {
    throw new HttpError(400, `The run "${id}" is a language model (no latent code), so it cannot ${what}: it only samples sentences.`);
  }
}

export function textReconstructRequest(b: Unchecked<TextReconstructRequest>, model: TextBundle): { sentence: string; label: number | undefined } {
  return { sentence: sentenceOf(b, 'sentence'), label: textLabelOf(b.label, model) };
}

export function textNearestRequest(b: Unchecked<TextNearestRequest>, model: TextBundle): { sentence: string; label: number | undefined; metric: CodeDistance; count: number } {
  const sentence = sentenceOf(b, 'sentence');
  const metric = b.metric ?? 'cosine';
  if (typeof metric !== 'string' || !(CODE_DISTANCES as readonly string[]).includes(metric)) throw new HttpError(400, `"metric" must be ${CODE_DISTANCES.map((m) => `"${m}"`).join(' or ')}.`);
  return { sentence, label: textLabelOf(b.label, model), metric: metric as CodeDistance, count: optInt(b, 'count', 1, MAX_NEAREST) ?? 8 };
}

export function textInterpolateRequest(b: Unchecked<TextInterpolateRequest>, model: TextBundle): { from: string; to: string; steps: number; label: number | undefined } {
  const { min, max, fallback } = INTERPOLATION_STEPS;
  return { from: sentenceOf(b, 'from'), to: sentenceOf(b, 'to'), steps: optInt(b, 'steps', min, max) ?? fallback, label: textLabelOf(b.label, model) };
}

/** A query parameter as a number greater than 0 and at most `max`, or the default. */
function queryPositive<T>(query: Query<T>, key: keyof T & string, max: number, fallback: number): number {
  const text = query[key];
  if (text === undefined || text === '') return fallback;
  const v = Number(text);
  if (!/^\d*\.?\d+$/.test(text) || !(v > 0 && v <= max)) throw new HttpError(400, `The query parameter "${key}" must be a number greater than 0 and at most ${max}.`);
  return v;
}

export function textSamplesQuery(query: Query<TextSamplesQuery>, model: TextBundle): { count: number; seed: number; mode: DecodeMode; temperature: number; beamWidth: number; label: number | undefined } {
  const mode = query.mode === undefined || query.mode === '' ? 'sample' : query.mode;
  if (!(DECODE_MODES as readonly string[]).includes(mode)) throw new HttpError(400, `The query parameter "mode" must be ${DECODE_MODES.slice(0, -1).map((m) => `"${m}"`).join(', ')} or "${DECODE_MODES.at(-1)!}".`);
  return {
    count: queryNumber(query, 'count', 1, MAX_TEXT_SAMPLES, 8),
    seed: queryNumber(query, 'seed', 0, 0xffffffff, 0),
    mode: mode as DecodeMode,
    temperature: queryPositive(query, 'temperature', MAX_TEMPERATURE, 1),
    beamWidth: queryNumber(query, 'beamWidth', 1, MAX_BEAM_WIDTH, 5),
    label: textLabelOf(query.label, model),
  };
}
