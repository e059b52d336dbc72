/**
 * Charts from a charting library: each is a Vega-Lite spec, compiled to Vega, laid out by a Vega
 * View without a browser (renderer 'none'), written as SVG and drawn to PNG by render.ts with the
 * bundled DejaVu fonts. The specs themselves are built in chart-specs.ts (no Node modules), so a
 * web page draws the same charts with vega; the spec comes back with each chart too.
 *
 * Vega places labels by their widths; without a canvas it guesses them (0.8 em a character). Here
 * it is given the DejaVu fonts' own advance widths instead (Vega's textMetrics hook, as vl-convert
 * does), so legends and axis titles sit where the drawn text ends.
 */
import type { LoggerInterface, Spec as VegaSpec } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { VaekitError } from '../errors.js';
import { chartConfig, latentMapSpec, scoreHistogramSpec, trainingCurvesSpec, type LatentMapInput, type ScoreHistogramInput, type TrainingCurvesSpecOptions } from './chart-specs.js';
import { FONT_FAMILY, svgToPng, textWidth } from './render.js';

export interface Chart {
  svg: string;
  png: Uint8Array;
  /** The Vega-Lite spec, so a web page can re-render it. */
  spec: object;
  /** What Vega-Lite and Vega warned about while drawing it (none for vaekit's own charts). */
  warnings?: string[];
}

export interface ChartOptions {
  /** PNG pixels per SVG unit (default 2, sharp on high-density screens and in print). */
  scale?: number;
}

type Json = Record<string, unknown>;

/** The look shared by vaekit's charts; a spec's own config wins. */
export const CHART_CONFIG: Json = chartConfig(FONT_FAMILY);

interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
}

type VegaModule = typeof import('vega');
type VegaLiteModule = typeof import('vega-lite');

let libraries: Promise<{ vega: VegaModule; vegaLite: VegaLiteModule }> | null = null;

/** Vega and Vega-Lite, loaded on the first chart (a third of a second that commands without charts do not pay). */
function loadLibraries(): Promise<{ vega: VegaModule; vegaLite: VegaLiteModule }> {
  libraries ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vegaLite]) => {
    installTextMetrics(vega);
    return { vega, vegaLite };
  });
  return libraries;
}

/** Vega's text widths from the DejaVu fonts' metrics (once per process). */
function installTextMetrics(vega: VegaModule): void {
  const metrics = (vega as unknown as { textMetrics?: { width: (item: TextItem, text: unknown) => number } }).textMetrics;
  if (metrics !== undefined) {
    metrics.width = (item, text) => {
      const value = text === null || text === undefined ? '' : String(text).trim();
      const size = item.fontSize !== undefined && item.fontSize !== null ? Number(item.fontSize) || 0 : 11;
      const weight = item.fontWeight;
      const bold = weight === 'bold' || weight === 'bolder' || (weight !== undefined && Number(weight) >= 600);
      return textWidth(value, size, bold);
    };
  }
}

class CollectingLogger implements LoggerInterface {
  readonly warnings: string[] = [];
  #level = 2;
  level(_?: number): number | LoggerInterface {
    if (_ === undefined) return this.#level;
    this.#level = _;
    return this;
  }
  error(...args: unknown[]): this {
    throw new VaekitError(`Could not draw the chart: ${args.map(String).join(' ')}`);
  }
  warn(...args: unknown[]): this {
    this.warnings.push(args.map(String).join(' '));
    return this;
  }
  info(): this {
    return this;
  }
  debug(): this {
    return this;
  }
}

/** Any Vega-Lite spec as a Chart (SVG, PNG, the spec), with vaekit's fonts and look unless the spec sets its own. */
export async function chartFromSpec(spec: object, options: ChartOptions = {}): Promise<Chart> {
  const { vega, vegaLite } = await loadLibraries();
  const logger = new CollectingLogger();
  let compiled: VegaSpec;
  try {
    compiled = vegaLite.compile(spec as TopLevelSpec, { config: CHART_CONFIG, logger }).spec;
  } catch (err) {
    if (err instanceof VaekitError) throw err;
    throw new VaekitError(`Could not draw the chart: its Vega-Lite spec is not valid (${err instanceof Error ? err.message : String(err)}).`);
  }
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger });
  let svg: string;
  try {
    svg = await view.toSVG();
  } catch (err) {
    if (err instanceof VaekitError) throw err;
    throw new VaekitError(`Could not draw the chart: ${err instanceof Error ? err.message : String(err)}.`);
  } finally {
    view.finalize();
  }
  const png = svgToPng(svg, { scale: options.scale ?? 2 });
  return { svg, png, spec, warnings: logger.warnings };
}

export type { LatentMapInput, ScoreHistogramInput } from './chart-specs.js';

/** The latent codes in two dimensions as a scatter plot, coloured by class (with a legend) when there are labels. */
export async function latentMapChart(input: LatentMapInput, options: ChartOptions = {}): Promise<Chart> {
  return chartFromSpec(latentMapSpec(input, { config: CHART_CONFIG }), options);
}

export interface TrainingCurvesOptions extends ChartOptions, Pick<TrainingCurvesSpecOptions, 'loss' | 'subtitle'> {}

/**
 * One panel per quantity of metrics.jsonl rows ({epoch, loss, recon, kl, beta, valLoss, valRecon,
 * valKl}): the loss, the reconstruction and the KL, each training solid and validation dashed
 * (see trainingCurvesSpec).
 */
export async function trainingCurvesChart(records: readonly object[], title: string, options: TrainingCurvesOptions = {}): Promise<Chart> {
  const { scale, ...rest } = options;
  return chartFromSpec(trainingCurvesSpec(records, title, { ...rest, config: CHART_CONFIG }), scale === undefined ? {} : { scale });
}

/** The distribution of anomaly scores, normal against anomalous where known (see scoreHistogramSpec). */
export async function scoreHistogramChart(input: ScoreHistogramInput, options: ChartOptions = {}): Promise<Chart> {
  return chartFromSpec(scoreHistogramSpec(input, { config: CHART_CONFIG }), options);
}
