// A Vega-Lite chart as a component: redrawn whenever its spec object changes.
import { useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from './api.js';

type Drawn = { finalize(): void };

let vega: Promise<typeof import('./vega.js')> | null = null;
/** The vega chunk, fetched once: from the first chart on a page, even before it has a spec, so the first drawing is quick. */
const loadVega = (): Promise<typeof import('./vega.js')> => (vega ??= import('./vega.js'));

export interface ChartProps {
  spec: object | null;
  testid?: string;
  /** Shown while there is no spec. */
  placeholder?: string;
}

export function Chart({ spec, testid, placeholder }: ChartProps) {
  const ref = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => { void loadVega().catch(() => { vega = null; }); }, []);
  useEffect(() => {
    const container = ref.current;
    if (container === null) return undefined;
    // No spec (a new run before its first data): nothing of an earlier drawing stays.
    if (spec === null) { container.replaceChildren(); return undefined; }
    let view: Drawn | null = null;
    let cancelled = false;
    loadVega()
      .then(async ({ drawSpec }) => {
        if (cancelled) return;
        const drawn = await drawSpec(container, spec);
        if (cancelled) drawn.finalize();
        else {
          view = drawn;
          setError(null);
          container.dataset['drawn'] = String(Number(container.dataset['drawn'] ?? '0') + 1);
        }
      })
      .catch((err: unknown) => { if (!cancelled) setError(messageOf(err)); });
    return () => {
      cancelled = true;
      view?.finalize();
    };
  }, [spec]);
  return (
    <div class="chart-box">
      {spec === null && placeholder !== undefined ? <p class="muted">{placeholder}</p> : null}
      {error !== null ? <p class="error">Could not draw the chart: {error}</p> : null}
      <div class="chart" ref={ref} data-testid={testid} />
    </div>
  );
}
