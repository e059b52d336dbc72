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
let runsRequest: Promise<void> | null = null;
let runsAgain: Promise<void> | null = null;

/**
 * Fetches the runs again: at most one request at a time, and one more after it when asked while
 * it is on its way (it may have been answered before what the caller wants seen, a run's end).
 */
export function refreshRuns(): Promise<void> {
  if (runsRequest === null) {
    runsRequest = api.runs()
      .then((value) => runs.set({ value, error: null }))
      .catch((err: unknown) => runs.set({ value: runs.value.value, error: messageOf(err) }))
      .finally(() => { runsRequest = null; });
    return runsRequest;
  }
  runsAgain ??= runsRequest.then(() => {
    runsAgain = null;
    return refreshRuns();
  });
  return runsAgain;
}

export function refreshInfo(): Promise<void> {
  return api.info()
    .then((value) => info.set({ value, error: null }))
    .catch((err: unknown) => info.set({ value: info.value.value, error: messageOf(err) }));
}

let changes: EventSource | null = null;

/**
 * One stream per tab of every run's changes (GET /api/events): a training started, an epoch, an
 * end, in this tab or any other, refreshes the runs. After a restart of the studio the browser
 * reconnects, and the runs are fetched again then too.
 */
function watchRuns(): void {
  if (changes !== null) return;
  changes = new EventSource(changesUrl);
  onRunChange(changes, () => { void refreshRuns(); });
  changes.addEventListener('open', () => { void refreshRuns(); });
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

export const PAGES = ['train', 'denoise', 'latent', 'anomalies', 'models'] as const;
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
