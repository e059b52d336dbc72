/**
 * vaekit studio: a local web app over the library. startStudio serves the web UI (dist/web, built
 * by vite from web/) and the JSON API (api.ts, its routers in routes/) on 127.0.0.1, behind a
 * session token and a Host check (security.ts); training runs in a worker thread, one at a time
 * (runs.ts). The API is described in docs/studio.md.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { clip, VaekitError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { describeFsError } from '../io/fs-errors.js';
import { apiRoutes } from './api.js';
import type { Refusal } from './messages.js';
import { Inference, Jobs } from './jobs.js';
import { Models } from './models.js';
import { SERIES_UPLOAD_PATH } from './routes/series.js';
import { RunStore } from './runs.js';
import { inFormWords } from './words.js';
import {
  bearerToken, cookieName, cookieValue, foreignRequest, HttpError, hostAllowed, isInside, JSON_LIMIT, newToken, realFolder, sessionCookie, tokenMatches, UPLOAD_LIMIT,
} from './security.js';

export interface StudioOptions {
  /** The port on 127.0.0.1 (default 7860; 0: any free port). */
  port?: number;
  /** The runs folder (made when missing). */
  runsDir: string;
  /** Folders data may be read from (default: the current folder); the runs folder may always be read. */
  dataRoots?: string[];
  /**
   * The session token. Default: the one kept in the runs folder's TOKEN_FILE (made, readable by
   * this user alone, with 32 random bytes as hex when missing), so a restarted studio keeps its
   * open tabs signed in.
   */
  token?: string;
  /** Print nothing (failed runs, internal errors). */
  quiet?: boolean;
  /** The largest upload in bytes (default 50 MiB). */
  uploadLimit?: number;
  /** The built web UI (default: dist/web of this package). */
  webDir?: string;
}

export interface Studio {
  /** http://127.0.0.1:PORT/?token=T: opening it signs the browser in. */
  url: string;
  port: number;
  token: string;
  /** The file the token is kept in, or null when it was given. */
  tokenFile: string | null;
  /** Stops a running training (its checkpoint kept), ends the event streams and closes the server. */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 7860;
const TOKEN = /^[A-Za-z0-9._~-]{16,256}$/;
/** The runs folder's file that keeps the session token between starts. */
export const TOKEN_FILE = '.studio-token';

/** The token kept in the runs folder: read when it holds a valid one, else made and written (mode 0600). */
function keptToken(runsDir: string): { token: string; file: string } {
  const file = join(runsDir, TOKEN_FILE);
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (TOKEN.test(kept)) return { token: kept, file };
  } catch {
    // None yet (or unreadable): a new one replaces it.
  }
  const token = newToken();
  try {
    writeFileAtomic(file, `${token}\n`, { mode: 0o600 });
  } catch (err) {
    throw new VaekitError(`Cannot keep the session token in ${file}: ${describeFsError(err)}.`);
  }
  return { token, file };
}

/** The API paths that take an upload (a multipart form, up to the upload limit). */
function isUpload(path: string): boolean {
  return /\/anomaly$/.test(path) || SERIES_UPLOAD_PATH.test(path);
}

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json',
  '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf', '.map': 'application/json', '.wasm': 'application/wasm', '.txt': 'text/plain; charset=utf-8',
};

/** Where the built web UI is: dist/web of this package (from src/studio under tsx and from dist/studio alike). */
export function defaultWebDir(): string {
  return fileURLToPath(new URL('../../dist/web/', import.meta.url));
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function isApi(c: Context): boolean {
  return c.req.path === '/api' || c.req.path.startsWith('/api/');
}

/** A refusal as the client reads it: JSON { error } under /api, plain text elsewhere. */
function refuse(c: Context, status: number, message: string): Response {
  const code = status as 400;
  return isApi(c) ? c.json<Refusal>({ error: message }, code) : c.text(message, code);
}

/** The status and one sentence of an error a request caused; null for a bug. */
function describe(err: unknown): { status: number; message: string } | null {
  if (err instanceof HttpError) return { status: err.status, message: inFormWords(err.message) };
  if (err instanceof VaekitError) return { status: 400, message: inFormWords(err.message) };
  if (err instanceof HTTPException) return { status: err.status, message: err.message || 'The request was refused.' };
  const e = err as NodeJS.ErrnoException;
  if (e !== null && typeof e === 'object' && typeof e.code === 'string' && typeof e.path === 'string') {
    return { status: 400, message: `Cannot read ${clip(e.path)} (${e.code}).` };
  }
  return null;
}

function mebibytes(bytes: number): string {
  return (bytes / 1024 / 1024).toPrecision(3).replace(/\.?0+$/, '');
}

/**
 * Reads and drops what is left of a refused request's body (up to `cap` bytes), so the client,
 * still sending, reads the refusal instead of a reset connection.
 */
async function drain(body: ReadableStream<Uint8Array> | null, cap: number): Promise<void> {
  if (body === null || body.locked) return;
  const reader = body.getReader();
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.length;
      if (seen > cap) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The client went away: nothing to drain.
  }
}

export async function startStudio(options: StudioOptions): Promise<Studio> {
  const requestedPort = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) throw new VaekitError(`The port must be a whole number from 0 to 65535, not ${requestedPort}.`);
  if (options.token !== undefined && !TOKEN.test(options.token)) throw new VaekitError('The session token must be 16 to 256 letters, digits, ".", "_", "~" or "-".');
  const uploadLimit = options.uploadLimit ?? UPLOAD_LIMIT;
  if (!Number.isInteger(uploadLimit) || uploadLimit < 1) throw new VaekitError(`The upload limit must be a positive whole number of bytes, not ${uploadLimit}.`);
  const log = options.quiet === true ? (): void => undefined : (line: string): void => { process.stderr.write(`${line}\n`); };
  const dataRoots = (options.dataRoots ?? [process.cwd()]).map((dir) => {
    if (!existsSync(dir)) throw new VaekitError(`The data folder ${dir} does not exist.`);
    if (!statSync(dir).isDirectory()) throw new VaekitError(`The data folder ${dir} is a file, not a folder.`);
    return realpathSync(dir);
  });
  if (dataRoots.length === 0) throw new VaekitError('Give at least one folder the studio may read data from.');
  if (existsSync(options.runsDir) && !statSync(options.runsDir).isDirectory()) throw new VaekitError(`The runs folder ${options.runsDir} is a file, not a folder.`);
  // Made now, and removed again when the server cannot listen.
  let madeRunsDir: string | undefined;
  try {
    madeRunsDir = mkdirSync(options.runsDir, { recursive: true });
  } catch (err) {
    throw new VaekitError(`Cannot make the runs folder ${options.runsDir}: ${describeFsError(err)}.`);
  }
  const runsDir = realpathSync(options.runsDir);
  const kept = options.token === undefined ? keptToken(runsDir) : null;
  const token = options.token ?? kept!.token;
  const webDir = realFolder(options.webDir ?? defaultWebDir());
  const readRoots = [...dataRoots, runsDir];
  const runs = new RunStore(runsDir, readRoots, log);
  const models = new Models(runs, readRoots);
  const jobs = new Jobs(runsDir, readRoots, () => runs.training);
  const inference = new Inference(runsDir, readRoots, () => runs.training);
  const streams = new Set<() => void>();
  let port = requestedPort;

  const app = new Hono();
  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Frame-Options', 'DENY');
    if (isApi(c)) c.header('Cache-Control', 'no-store');
  });
  // Only the studio's own pages use the API: checked before the token, so a forged request is refused whatever it carries.
  app.use('/api/*', (c, next) => {
    const why = foreignRequest(c.req.method, {
      origin: c.req.header('origin'), fetchSite: c.req.header('sec-fetch-site'), contentType: c.req.header('content-type'),
    }, port, isUpload(c.req.path));
    return why === null ? next() : Promise.resolve(refuse(c, 403, why));
  });
  app.use('*', async (c, next) => {
    if (!hostAllowed(c.req.header('host'), port)) return refuse(c, 403, `This studio answers only to the hosts 127.0.0.1:${port} and localhost:${port}.`);
    const query = c.req.query('token');
    if (query !== undefined && tokenMatches(query, token)) {
      if (c.req.method === 'GET' && !isApi(c)) {
        // A page opened with the token: keep it in the cookie and take it out of the address bar.
        const url = new URL(c.req.url);
        url.searchParams.delete('token');
        c.header('Set-Cookie', sessionCookie(token, port));
        return c.redirect(`${url.pathname}${url.search}`, 302);
      }
      return next();
    }
    if (tokenMatches(cookieValue(c.req.header('cookie'), cookieName(port)), token) || tokenMatches(bearerToken(c.req.header('authorization')), token)) return next();
    return refuse(c, 401, 'This studio needs its session token: open the address vaekit studio printed.');
  });
  const tooLarge = (limit: number, message: string) => bodyLimit({
    maxSize: limit,
    onError: async (c) => {
      await drain(c.req.raw.body, 2 * limit + JSON_LIMIT);
      return refuse(c, 413, message);
    },
  });
  const jsonLimit = tooLarge(JSON_LIMIT, `The request body is larger than ${JSON_LIMIT / 1024 / 1024} MiB.`);
  const uploadBodyLimit = tooLarge(uploadLimit, `The upload is larger than the studio's limit of ${mebibytes(uploadLimit)} MiB.`);
  app.use('/api/*', (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    return isUpload(c.req.path) ? uploadBodyLimit(c, next) : jsonLimit(c, next);
  });

  app.route('/api', apiRoutes({
    runs, models, jobs, inference, readRoots, dataRoots, version: packageVersion(),
    track(close) {
      streams.add(close);
      return () => { streams.delete(close); };
    },
  }));

  app.get('*', (c) => {
    if (isApi(c)) throw new HttpError(404, `There is no ${c.req.path}.`);
    const index = join(webDir, 'index.html');
    if (!existsSync(index)) return c.text('The studio\'s web UI is not built: run npm run build.', 503);
    let file = index;
    if (c.req.path !== '/' && c.req.path !== '/index.html') {
      let rel: string;
      try {
        rel = decodeURIComponent(c.req.path.slice(1));
      } catch {
        throw new HttpError(400, 'The path is not valid.');
      }
      const path = resolve(webDir, rel);
      if (!isInside(webDir, path) || !existsSync(path) || !isInside(webDir, realpathSync(path)) || !statSync(path).isFile()) throw new HttpError(404, `There is no ${c.req.path}.`);
      file = path;
    }
    c.header('Content-Type', STATIC_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream');
    return c.body(new Uint8Array(readFileSync(file)));
  });

  app.notFound((c) => refuse(c, 404, `There is no ${c.req.method} ${c.req.path}.`));
  app.onError((err, c) => {
    const known = describe(err);
    if (known !== null) return refuse(c, known.status, known.message);
    log(`vaekit studio: ${c.req.method} ${c.req.path} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    return refuse(c, 500, `The studio failed on this request: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`);
  });

  let server: Server;
  port = await new Promise<number>((resolvePort, reject) => {
    const s = serve({ fetch: app.fetch, port: requestedPort, hostname: '127.0.0.1' }, (info) => resolvePort(info.port)) as Server;
    s.once('error', (err: NodeJS.ErrnoException) => {
      if (madeRunsDir !== undefined) rmSync(madeRunsDir, { recursive: true, force: true });
      reject(err.code === 'EADDRINUSE'
        ? new VaekitError(`Port ${requestedPort} on 127.0.0.1 is in use: give studio.port another port (0 for any free one).`)
        : new VaekitError(`Cannot listen on port ${requestedPort} of 127.0.0.1: ${describeFsError(err)}.`));
    });
    server = s;
  });

  let closing: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    tokenFile: kept?.file ?? null,
    close() {
      closing ??= (async () => {
        await Promise.all([runs.close(), jobs.close(), inference.close()]);
        for (const close of [...streams]) close();
        // Connections close as their last answers go out (a job's refusal is still on its way);
        // any still open after half a second are cut.
        await new Promise<void>((done) => {
          const idle = setInterval(() => server.closeIdleConnections(), 20);
          server.close(() => {
            clearInterval(idle);
            done();
          });
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 500).unref();
        });
      })();
      return closing;
    },
  };
}
