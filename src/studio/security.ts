/**
 * The studio's defences: the session token (cookie, Bearer header or ?token=), the Host header
 * check against DNS rebinding, the confinement of every path a request names to the folders the
 * studio may read (after resolving symlinks), the run id and file name rules, and the size limits.
 * A refusal is an HttpError: its status and one sentence.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { clip, VaekitError } from '../errors.js';
import { isMnistSpec } from '../data/load.js';
import type { DataSpec } from '../run/spec.js';

export type HttpStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 500 | 503;

/** A refusal with its HTTP status and a one-sentence message. */
export class HttpError extends VaekitError {
  constructor(readonly status: HttpStatus, message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

/** What a worker (job-worker.ts, inference-worker.ts) sends back for an error: a refusal keeps its status, the library's one sentence and a file that cannot be read are a 400, anything else a 500. */
export function workerError(err: unknown): { status: HttpStatus; message: string } {
  if (err instanceof HttpError) return { status: err.status, message: err.message };
  if (err instanceof VaekitError) return { status: 400, message: err.message };
  const e = err as NodeJS.ErrnoException;
  if (e !== null && typeof e === 'object' && typeof e.code === 'string' && typeof e.path === 'string') return { status: 400, message: `Cannot read ${clip(e.path)} (${e.code}).` };
  return { status: 500, message: `The studio failed on this request: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}` };
}

/** JSON request bodies: at most 1 MiB. */
export const JSON_LIMIT = 1024 * 1024;
/** Uploads (multipart): at most 50 MiB by default. */
export const UPLOAD_LIMIT = 50 * 1024 * 1024;
/** Rows (images, latent vectors) of one inference request. */
export const MAX_ROWS = 256;

/**
 * The session cookie's name, one per port: cookies are not port-scoped, so a browser sends every
 * 127.0.0.1 cookie to every local server; a name per studio keeps two studios (on two ports)
 * from signing each other out, and the name alone tells no other server the token.
 */
export function cookieName(port: number): string {
  return `vaekit_studio_${port}`;
}

/** A new session token: 32 random bytes as hex. */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** Whether `given` is the session token (compared in constant time). */
export function tokenMatches(given: string | null | undefined, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The value of cookie `name` in a Cookie header, or null. */
export function cookieValue(header: string | null | undefined, name: string): string | null {
  if (header == null) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The token of an Authorization: Bearer header, or null. */
export function bearerToken(header: string | null | undefined): string | null {
  const m = header == null ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m === null ? null : m[1]!;
}

/** The Set-Cookie value that keeps the token for this session. */
export function sessionCookie(token: string, port: number): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

/** The origins of this studio's own pages. */
function ownOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

/**
 * Why a request to the API did not come from the studio's own page, or null when it may be served
 * (a cross-site request forgery defence: another local site, another port of 127.0.0.1, carries the
 * cookie too). A browser names a request's origin (Origin, and Sec-Fetch-Site where it sends it):
 * any but this studio's is refused. A request that changes something (anything but GET and HEAD)
 * must send JSON, or a multipart form where `multipart` allows it: a form or a no-cors fetch
 * of another page can send neither without the browser asking the studio first (a preflight this
 * studio never allows).
 */
export function foreignRequest(method: string, headers: { origin?: string | undefined; fetchSite?: string | undefined; contentType?: string | undefined }, port: number, multipart: boolean): string | null {
  if (headers.origin !== undefined && !ownOrigins(port).includes(headers.origin)) return `A request from ${clip(headers.origin)} is refused: only this studio's own pages may use its API.`;
  if (headers.fetchSite !== undefined && headers.fetchSite !== 'same-origin' && headers.fetchSite !== 'none') return 'A request from another site is refused: only this studio\'s own pages may use its API.';
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return null;
  const type = (headers.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || (multipart && type === 'multipart/form-data')) return null;
  return `A ${method} to the studio's API must send ${multipart ? 'a multipart form (the upload)' : 'JSON (Content-Type: application/json)'}, not ${type === '' ? 'no body type' : clip(type)}.`;
}

/** Whether a Host header names this studio: 127.0.0.1:PORT or localhost:PORT (DNS-rebinding defence). */
export function hostAllowed(host: string | null | undefined, port: number): boolean {
  if (host == null) return false;
  const h = host.trim().toLowerCase();
  return h === `127.0.0.1:${port}` || h === `localhost:${port}`;
}

/** Whether `path` is `root` or lies below it (both absolute and resolved). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** A folder's real path (symlinks resolved), or its absolute path when it does not exist yet. */
export function realFolder(dir: string): string {
  const abs = resolve(dir);
  return existsSync(abs) ? realpathSync(abs) : abs;
}

/**
 * The file `name` of the folder `dir`, to serve: its real path when it is a regular file that,
 * with every symlink resolved, lies inside the folder (a link out of a run folder, to /etc/passwd,
 * is refused with 403); null when there is no such file.
 */
export function fileInFolder(dir: string, name: string): string | null {
  const path = join(dir, name);
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return null;
  }
  if (!isInside(realpathSync(dir), real)) throw new HttpError(403, `"${clip(name)}" links outside its run folder, so the studio does not serve it.`);
  return statSync(real).isFile() ? real : null;
}

const OUTSIDE = 'outside the folders this studio may read';

/**
 * The real path a data spec names, confined: "mnist", "mnist:train" and "mnist:test" pass as they
 * are; a path (relative ones from the first root) must exist and, with every symlink resolved, lie
 * inside one of `roots` (real paths), else 403.
 */
export function confineDataPath(spec: unknown, roots: readonly string[], what = 'data'): string {
  if (typeof spec !== 'string' || spec.trim() === '') throw new HttpError(400, `Give the ${what} as "mnist", "mnist:train", "mnist:test" or a path.`);
  if (isMnistSpec(spec)) return spec;
  if (spec.includes('\0')) throw new HttpError(400, `The ${what} path contains a NUL character.`);
  const lexical = resolve(roots[0]!, spec);
  if (!existsSync(lexical)) {
    if (!roots.some((r) => isInside(r, lexical))) throw new HttpError(403, `The path ${clip(spec)} is ${OUTSIDE}.`);
    throw new HttpError(404, `No ${what} at ${clip(spec)}.`);
  }
  const real = realpathSync(lexical);
  if (!roots.some((r) => isInside(r, real))) throw new HttpError(403, `The path ${clip(spec)} is ${OUTSIDE}.`);
  if (statSync(real).isDirectory() && symlinkOutside(real, roots, 2)) {
    throw new HttpError(403, `The folder ${clip(spec)} links to files ${OUTSIDE}.`);
  }
  return real;
}

/** A run spec's data with each path it names (the data, its labels, a validation set) confined by confineDataPath. */
export function confineRunData(data: DataSpec, roots: readonly string[]): DataSpec {
  const v = data.validation;
  return {
    ...data,
    source: confineDataPath(data.source, roots),
    labels: data.labels !== null ? confineDataPath(data.labels, roots, 'labels') : null,
    validation: v !== null && 'source' in v ? { source: confineDataPath(v.source, roots, 'validation data') } : v,
  };
}

/** Whether a folder (an image folder: flat or one subfolder per class, so `depth` 2) holds a symlink that resolves outside `roots`. */
function symlinkOutside(dir: string, roots: readonly string[], depth: number): boolean {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) {
      let real: string;
      try {
        real = realpathSync(path);
      } catch {
        continue; // A dangling link: the loader cannot read it either.
      }
      if (!roots.some((r) => isInside(r, real))) return true;
      if (depth > 1 && statSync(real).isDirectory() && symlinkOutside(real, roots, depth - 1)) return true;
    } else if (depth > 1 && entry.isDirectory() && symlinkOutside(path, roots, depth - 1)) {
      return true;
    }
  }
  return false;
}

/** Run ids: a letter or digit, then up to 63 letters, digits, dots, underscores or dashes. */
export const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Throws 400 unless `id` is a valid run id. */
export function checkRunId(id: string): string {
  if (!RUN_ID.test(id)) throw new HttpError(400, `"${clip(id)}" is not a run id: use letters, digits, ".", "_" and "-", starting with a letter or digit (at most 64).`);
  return id;
}

/** A file name inside a run folder: no slash, no leading dot, no "..". */
export const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkFileName(name: string): string {
  if (!FILE_NAME.test(name) || name.includes('..')) throw new HttpError(400, `"${clip(name)}" is not a file name of a run folder.`);
  return name;
}
