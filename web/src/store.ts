// What several pages share: the studio's info, the list of runs, the run picked (kept in the hash
// route as ?run=ID so a page can be linked to), and the current route.
import { useEffect, useState } from 'preact/hooks';
import { api, changesUrl, messageOf, onRunChange, type Info, type RunSummary } from './api.js';

type Listener = () => void;

/** A value pages subscribe to. */
class Shared<T> {
  #listeners = new Set<Listener>();
  constructor(public value: T) {}
  set(value: T): void {
    this.value = value;
    for (const l of this.#listeners) l();
  }
  use(): T {
    const [, redraw] = useState(0);
    useEffect(() => {
      const listener = (): void => redraw((n) => n + 1);
      this.#listeners.add(listener);
      return () => { this.#listeners.delete(listener); };
    }, []);
    return this.value;
  }
}

export interface Loaded<T> {
  value: T | null;
  error: string | null;
}

const runs = new Shared<Loaded<RunSummary[]>>({ value: null, error: null });
const info = new Shared<Loaded<Info>>({ value: null, error: null });

/**
 * A function that fetches a shared value again: at most one request at a time, and one more after
 * it when asked while it is on its way (it may have been answered before what the caller wants
 * seen, a run's end), so the last answer shown is never older than the last ask.
 */
function refresher<T>(shared: Shared<Loaded<T>>, fetch: () => Promise<T>): () => Promise<void> {
  let request: Promise<void> | null = null;
  let again: Promise<void> | null = null;
  const refresh = (): Promise<void> => {
    if (request === null) {
      request = fetch()
        .then((value) => shared.set({ value, error: null }))
        .catch((err: unknown) => shared.set({ value: shared.value.value, error: messageOf(err) }))
        .finally(() => { request = null; });
      return request;
    }
    again ??= request.then(() => {
      again = null;
      return refresh();
    });
    return again;
  };
  return refresh;
}

export const refreshRuns = refresher(runs, () => api.runs());
export const refreshInfo = refresher(info, () => api.info());

/**
 * The tab's link to the studio, as its stream of changes tells it: `open`; `reconnecting` while
 * the studio does not answer (stopped, or restarting); `refused` when it answers but refuses this
 * tab (a restart with another token): the page must be loaded again from the address it printed.
 */
export type Connection = 'open' | 'reconnecting' | 'refused';
const connection = new Shared<Connection>('open');
/** Whether this tab hears the studio (watching every run's changes starts with it, on every page). */
export function useConnection(): Connection {
  const value = connection.use();
  useEffect(() => { watchRuns(); }, []);
  return value;
}

let changes: EventSource | null = null;

/**
 * One stream per tab of every run's changes (GET /api/events): a training started, an epoch, an
 * end, in this tab or any other, refreshes the runs and the studio's info. After a restart of the
 * studio the browser reconnects (the token kept in the runs folder still signs this tab in), and
 * both are fetched again then, so the page shows the runs as the restarted studio has them.
 */
function watchRuns(): void {
  if (changes !== null) return;
  const source = new EventSource(changesUrl);
  changes = source;
  const refresh = (): void => {
    void refreshRuns();
    void refreshInfo();
  };
  onRunChange(source, refresh);
  source.addEventListener('open', () => {
    connection.set('open');
    refresh();
  });
  source.addEventListener('error', () => connection.set(source.readyState === EventSource.CLOSED ? 'refused' : 'reconnecting'));
}

/** The runs, newest first (fetched on first use, and again whenever a run changes). */
export function useRuns(): Loaded<RunSummary[]> {
  const value = runs.use();
  useEffect(() => {
    watchRuns();
    if (runs.value.value === null) void refreshRuns();
  }, []);
  return value;
}

export function useInfo(): Loaded<Info> {
  const value = info.use();
  useEffect(() => { if (info.value.value === null) void refreshInfo(); }, []);
  return value;
}

// ---- the route --------------------------------------------------------------------------------

export const PAGES = ['train', 'denoise', 'latent', 'text', 'series', 'anomalies', 'models'] as const;
export type Page = (typeof PAGES)[number];

export interface Route {
  page: Page;
  run: string | null;
}

function parseHash(hash: string): Route {
  const m = /^#\/([a-z]+)(?:\?(.*))?$/.exec(hash);
  const page = m !== null && (PAGES as readonly string[]).includes(m[1]!) ? (m[1] as Page) : 'train';
  const params = new URLSearchParams(m?.[2] ?? '');
  return { page, run: params.get('run') };
}

function hashOf(route: Route): string {
  return `#/${route.page}${route.run !== null ? `?run=${encodeURIComponent(route.run)}` : ''}`;
}

const route = new Shared<Route>(parseHash(window.location.hash));
window.addEventListener('hashchange', () => {
  const next = parseHash(window.location.hash);
  // The run picked on one page stays picked on the next unless the link names another.
  route.set({ page: next.page, run: next.run ?? route.value.run });
});

export const useRoute = (): Route => route.use();

/** The link to a page, keeping the run picked. */
export const pageHref = (page: Page): string => hashOf({ page, run: route.value.run });

/** Picks a run for the pages that show one (the address changes without a new history entry). */
export function pickRun(id: string | null): void {
  const next = { ...route.value, run: id };
  window.history.replaceState(null, '', hashOf(next));
  route.set(next);
}

/** The route and the run it picks (null until the runs are loaded, or when none is picked or it is gone). */
export function usePickedRun(): { route: Route; run: RunSummary | null } {
  const current = useRoute();
  const { value: list } = useRuns();
  return { route: current, run: list?.find((r) => r.id === current.run) ?? null };
}

/** Whether a run's folder holds a model the pages can load: a finished run (a stopped one has only its checkpoint until it is resumed and finishes). */
export function hasModel(run: RunSummary): boolean {
  return run.status === 'done';
}

/** Whether a run's model is a text model (vaekit train --preset text or text-lm): the Text page's, not the image pages'. */
export function isTextRun(run: Pick<RunSummary, 'config'>): boolean {
  return run.config !== null && 'kind' in run.config && run.config.kind === 'text';
}

/** A finished text run, for the Text page. */
export function hasTextModel(run: RunSummary): boolean {
  return hasModel(run) && isTextRun(run);
}

/** Whether a run's model reads time series (vaekit train --window): the Series page's, not the image pages'. */
export function isSeriesRun(run: Pick<RunSummary, 'data'>): boolean {
  return run.data !== null && run.data.series !== undefined && run.data.series !== null;
}

/** A finished series run, for the Series page. */
export function hasSeriesModel(run: RunSummary): boolean {
  return hasModel(run) && isSeriesRun(run);
}

/** The page of its own a run's model is explored on (a text or a series model), or null for an image or table model (the image pages'). */
export function ownPage(run: Pick<RunSummary, 'config' | 'data'>): 'text' | 'series' | null {
  return isTextRun(run) ? 'text' : isSeriesRun(run) ? 'series' : null;
}
