// Vega-Lite specs drawn in the page by vega (SVG renderer). This module is loaded on the first
// chart (its own chunk), so pages without charts do not pay for it.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { BROWSER_CHART_FONT } from '../../src/viz/chart-specs.js';

/** The spec with the page's fonts (the server's specs name the DejaVu fonts it renders PNGs with). */
function withBrowserFont(spec: object): TopLevelSpec {
  const s = spec as TopLevelSpec & { config?: Record<string, unknown> };
  return { ...s, config: { ...(s.config ?? {}), font: BROWSER_CHART_FONT } } as TopLevelSpec;
}

/** Draws `spec` into `container` (replacing what was there) and returns the view. */
export async function drawSpec(container: HTMLElement, spec: object): Promise<View> {
  const compiled = compile(withBrowserFont(spec)).spec;
  const view = new View(parse(compiled), { renderer: 'svg', container, hover: true });
  await view.runAsync();
  return view;
}
