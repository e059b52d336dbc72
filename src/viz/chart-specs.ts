/**
 * The Vega-Lite specs of vaekit's charts (training curves, latent maps, anomaly-score histograms)
 * as plain data: no Node modules, no rendering, so a web page (vaekit studio) builds the same
 * charts as the CLI and draws them with vega in the browser. charts.ts renders them to SVG and PNG.
 */
import { VaekitError } from '../errors.js';
import type { LossName } from '../vae/objective.js';

type Json = Record<string, unknown>;

/** The fonts a browser draws the charts with (charts.ts uses the bundled DejaVu Sans instead). */
export const BROWSER_CHART_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';

/** The look shared by vaekit's charts, in the given font; a spec's own config wins. */
export function chartConfig(font: string): Json {
  return {
    font,
    background: 'white',
    padding: 12,
    title: { fontSize: 16, subtitleFontSize: 12, subtitleColor: '#444444', anchor: 'start', offset: 10 },
    axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', titleColor: '#222222', labelColor: '#333333', gridColor: '#e6e6e6' },
    legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
    header: { labelFontSize: 12, titleFontSize: 12 },
    view: { stroke: '#cccccc' },
    concat: { spacing: 28 },
  };
}

export interface SpecOptions {
  /** The Vega-Lite config the spec carries (default: chartConfig(BROWSER_CHART_FONT)). */
  config?: object;
}

/** A number with 6 significant digits (keeps the inline data of a spec small). */
export function short(v: number): number {
  return Number(v.toPrecision(6));
}

/** A spec with vaekit's schema and the given config (default: chartConfig(BROWSER_CHART_FONT)). */
export function withConfig(config: object | undefined, spec: Json): Json {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec, config: config ?? chartConfig(BROWSER_CHART_FONT) };
}

// ---------------------------------------------------------------------------------------------
// The latent map.

export interface LatentMapInput {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  labels: ArrayLike<number> | null;
  labelNames: readonly string[];
  title: string;
  xTitle: string;
  yTitle: string;
  /** A line under the title (e.g. the model, the projection). */
  subtitle?: string;
}

/** The latent codes in two dimensions as a scatter plot, coloured by class (with a legend) when there are labels. */
export function latentMapSpec(input: LatentMapInput, options: SpecOptions = {}): object {
  const n = input.x.length;
  if (input.y.length !== n) throw new VaekitError(`A latent map needs as many y values as x values, not ${input.y.length} and ${n}.`);
  if (input.labels !== null && input.labels.length !== n) throw new VaekitError(`A latent map needs one label per point: ${input.labels.length} labels for ${n} points.`);
  if (n === 0) throw new VaekitError('A latent map needs at least one point.');
  const nameOf = (label: number): string => input.labelNames[label] ?? String(label);
  const rows: Json[] = [];
  const present = new Set<number>();
  for (let i = 0; i < n; i++) {
    const x = input.x[i]!;
    const y = input.y[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const row: Json = { x: short(x), y: short(y) };
    if (input.labels !== null) {
      const label = input.labels[i]!;
      present.add(label);
      row['class'] = nameOf(label);
    }
    rows.push(row);
  }
  if (rows.length === 0) throw new VaekitError('A latent map needs at least one point with finite coordinates.');
  const many = rows.length > 2000;
  const classes = [...present].sort((a, b) => a - b).map(nameOf);
  const encoding: Json = {
    x: { field: 'x', type: 'quantitative', title: input.xTitle, scale: { zero: false, nice: true } },
    y: { field: 'y', type: 'quantitative', title: input.yTitle, scale: { zero: false, nice: true } },
  };
  if (input.labels !== null) {
    encoding['color'] = {
      field: 'class', type: 'nominal', title: 'class',
      scale: { domain: classes, scheme: classes.length <= 10 ? 'category10' : 'tableau20' },
      legend: { symbolOpacity: 1, symbolSize: 60, symbolLimit: 30, ...(classes.length > 15 ? { columns: 2 } : {}) },
    };
  }
  return withConfig(options.config, {
    title: input.subtitle === undefined ? input.title : { text: input.title, subtitle: input.subtitle },
    width: 440,
    height: 440,
    data: { values: rows },
    mark: { type: 'circle', size: many ? 9 : 24, opacity: many ? 0.55 : 0.75, ...(input.labels === null ? { color: '#1f77b4' } : {}) },
    encoding,
  });
}

// ---------------------------------------------------------------------------------------------
// Training curves from metrics.jsonl.

interface Series {
  key: string;
  valKey: string;
  /** The panel's header. */
  title: string;
}

function numberField(record: object, ...keys: string[]): number | null {
  for (const key of keys) {
    const v = (record as Record<string, unknown>)[key];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

export interface TrainingCurvesSpecOptions extends SpecOptions {
  /** The objective trained (a bundle's training.loss); without it, it is inferred from the records where they tell. */
  loss?: LossName;
  /** A line under the title (e.g. the model). */
  subtitle?: string;
  /** The size of each panel (default 250 x 190). */
  panelWidth?: number;
  panelHeight?: number;
  /**
   * The training loss while epochs run (the studio's progress events): each point's running mean
   * of the epoch so far, at x = epochs done (fractional), drawn as a thin line beside the epochs'
   * points. With these, the records may be empty (the first epoch has not ended yet).
   */
  running?: readonly RunningLoss[];
}

/** The running means of an epoch so far, after `epochs` epochs (epoch e, step s of S: e - 1 + s / S). */
export interface RunningLoss {
  epochs: number;
  loss: number;
  recon: number;
  kl: number;
}

/** The legend's name of the running means. */
export const RUNNING_SPLIT = 'training, within the epoch';

/**
 * One panel per quantity of metrics.jsonl rows ({epoch, loss, recon, kl, beta, valLoss, valRecon,
 * valKl}): the loss, the reconstruction and the KL, each with its training (solid) and validation
 * (dashed) values where present. The notebook's squared error has one panel: its loss is its
 * reconstruction term, and it trains no KL. The records tell that objective by loss = recon with
 * a KL weight above 0; a KL weight of 0 in every epoch also trains no KL.
 */
export function trainingCurvesSpec(records: readonly object[], title: string, options: TrainingCurvesSpecOptions = {}): object {
  const epochs = records.map((r) => numberField(r, 'epoch'));
  const usable = records.filter((_, i) => epochs[i] !== null);
  const running = options.running ?? [];
  if (usable.length === 0 && running.length === 0) throw new VaekitError('No training curves to draw: the metrics have no epochs.');
  const same = (a: string, b: string): boolean => usable.every((r) => numberField(r, a) === numberField(r, b));
  const lossIsRecon = same('loss', 'recon') && same('valLoss', 'valRecon') && usable.some((r) => numberField(r, 'loss') !== null);
  const betas = usable.map((r) => numberField(r, 'beta'));
  const noKlWeight = usable.length > 0 && betas.every((b) => b === 0);
  const loss: LossName | null = options.loss ?? (lossIsRecon && betas.every((b) => b !== null && b > 0) ? 'notebook-mse' : null);
  const mse = loss === 'notebook-mse';
  const unit = mse ? 'mean squared error per value' : 'nats per example';
  const lossTitle = mse ? 'Loss: mean squared error' : loss === 'iwae' ? 'Loss: negative IWAE bound'
    : loss === 'elbo' ? (betas.every((b) => b === 1) ? 'Loss: negative ELBO' : 'Loss: reconstruction + β·KL') : 'Loss';
  const series: Series[] = [{ key: 'loss', valKey: 'valLoss', title: lossIsRecon && !mse ? `${lossTitle} (= reconstruction)` : lossTitle }];
  if (!lossIsRecon) series.push({ key: 'recon', valKey: 'valRecon', title: 'Reconstruction: negative log-likelihood' });
  if (!mse && !noKlWeight) series.push({ key: 'kl', valKey: 'valKl', title: 'KL divergence to the prior' });

  const rows: Json[] = [];
  const panels: string[] = [];
  for (const s of series) {
    const before = rows.length;
    for (const r of usable) {
      const epoch = numberField(r, 'epoch')!;
      const train = numberField(r, s.key);
      const val = numberField(r, s.valKey, `val_${s.key}`);
      if (train !== null) rows.push({ quantity: s.title, epoch, split: 'training', value: short(train) });
      if (val !== null) rows.push({ quantity: s.title, epoch, split: 'validation', value: short(val) });
    }
    for (const p of running) {
      const value = numberField(p, s.key);
      if (value !== null) rows.push({ quantity: s.title, epoch: short(p.epochs), split: RUNNING_SPLIT, value: short(value) });
    }
    if (rows.length > before) panels.push(s.title);
  }
  if (panels.length === 0) throw new VaekitError('No training curves to draw: the metrics have no loss values.');
  const split = { field: 'split', type: 'nominal', title: null };
  // The legend names only the series drawn: training solid and blue, validation dashed and orange.
  const shown = (['training', 'validation', RUNNING_SPLIT] as const).filter((name) => rows.some((r) => r['split'] === name));
  const style = { training: { color: '#1f77b4', dash: [1, 0] }, validation: { color: '#ff7f0e', dash: [6, 4] }, [RUNNING_SPLIT]: { color: '#8fbbe0', dash: [1, 0] } };
  const epochLine = { type: 'line', strokeWidth: 2, ...(usable.length <= 30 ? { point: { size: 24, filled: true } } : {}) };
  const size = { width: options.panelWidth ?? 250, height: options.panelHeight ?? 190 };
  const encoding = {
    x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' }, scale: { nice: false, zero: false } },
    y: { field: 'value', type: 'quantitative', title: unit, scale: { zero: false } },
    color: { ...split, scale: { domain: shown, range: shown.map((k) => style[k].color) }, legend: { orient: 'right', symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 300 } },
    strokeDash: { ...split, scale: { domain: shown, range: shown.map((k) => style[k].dash) } },
  };
  // The running means as a thin line under the epochs' lines and points, on an x axis from a whole
  // epoch to the end of the epoch in progress (so its ticks are whole epochs).
  const isRunning = `datum.split === ${JSON.stringify(RUNNING_SPLIT)}`;
  const xs = rows.map((r) => r['epoch'] as number);
  const [low, high] = xs.reduce(([lo, hi], x) => [Math.min(lo, x), Math.max(hi, x)], [Infinity, -Infinity]);
  const runningX = { ...encoding.x, scale: { ...encoding.x.scale, domain: [Math.floor(low), Math.max(1, Math.ceil(high))] } };
  const spec = running.length === 0 ? { ...size, mark: epochLine, encoding } : {
    ...size, encoding: { ...encoding, x: runningX },
    layer: [
      { transform: [{ filter: isRunning }], mark: { type: 'line', strokeWidth: 1.5 } },
      { transform: [{ filter: `!(${isRunning})` }], mark: epochLine },
    ],
  };
  return withConfig(options.config, {
    title: options.subtitle === undefined ? title : { text: title, subtitle: options.subtitle },
    data: { values: rows },
    // One panel per quantity, side by side, each with its own y scale; the headers share one row.
    facet: { column: { field: 'quantity', type: 'nominal', title: null, sort: panels, header: { labelFontSize: 13, labelPadding: 6 } } },
    spec,
    resolve: { scale: { y: 'independent' } },
    spacing: 28,
  });
}

// ---------------------------------------------------------------------------------------------
// Anomaly scores.

export interface ScoreHistogramInput {
  scores: ArrayLike<number>;
  /** Which examples are anomalies (two overlaid histograms), or null for one histogram. */
  isAnomaly: ArrayLike<boolean> | null;
  /** A vertical rule at the decision threshold. */
  threshold?: number;
  title: string;
  xTitle: string;
  subtitle?: string;
}

/**
 * The bars of a score histogram: `count` bins of width `step` from `start` (a multiple of `step`).
 * A score below `start`, or at `start + count * step` or above, is counted in a bar of its own at
 * that end, which the chart marks "< start" or "≥ end".
 */
export interface ScoreBins {
  start: number;
  step: number;
  count: number;
}

/** At most this many bins span the bulk of the scores. */
const MAX_BINS = 40;

/** A round width (1, 2, 2.5 or 5 times a power of ten) of at least span / most. */
function roundStep(span: number, most: number): number {
  const least = span / most;
  const power = 10 ** Math.floor(Math.log10(least));
  const m = [1, 2, 2.5, 5, 10].find((k) => k * power >= least * (1 - 1e-9)) ?? 10;
  return short(m * power);
}

/** The decimals a multiple of a round step needs (0 for 5, 1 for 2.5, 2 for 0.25). */
function decimalsOf(step: number): number {
  for (let d = 0; d < 12; d++) {
    const v = step * 10 ** d;
    if (Math.abs(v - Math.round(v)) < 1e-6 * v) return d;
  }
  return 12;
}

/** A number as the axis writes it: thousands separated, `decimals` after the point. */
function withDecimals(v: number, decimals: number): string {
  return v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** The q-quantile of sorted values, interpolated. */
function quantileOf(sorted: readonly number[], q: number): number {
  const at = q * (sorted.length - 1);
  const i = Math.floor(at);
  return sorted[i]! + (sorted[Math.min(i + 1, sorted.length - 1)]! - sorted[i]!) * (at - i);
}

/**
 * The bins of a score histogram. The bulk of the scores, those within Tukey's far-out fences (the
 * quartiles 3 interquartile ranges out), gets up to 40 round bins; where the scores beyond the
 * fences would stretch the axis by half or more, they fall in a bar of their own at either end, so a
 * few extreme scores (10,000 nats among 100-nat ones) do not squash every other score into a bar or
 * two. A threshold beyond the bulk widens the bins to it when that at most doubles their span; else
 * it stays off the axis.
 */
export function scoreHistogramBins(scores: readonly number[], threshold?: number): ScoreBins {
  const sorted = scores.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) throw new VaekitError('A score histogram needs at least one finite score.');
  let low = sorted[0]!;
  let high = sorted[sorted.length - 1]!;
  if (sorted.length >= 4) {
    const q1 = quantileOf(sorted, 0.25);
    const q3 = quantileOf(sorted, 0.75);
    if (q3 > q1) {
      const bulkLow = sorted.find((s) => s >= q1 - 3 * (q3 - q1))!;
      const bulkHigh = [...sorted].reverse().find((s) => s <= q3 + 3 * (q3 - q1))!;
      // Scores beyond the fences get an end bar only where they would stretch the axis by half or more.
      if (high - low >= 1.5 * (bulkHigh - bulkLow)) {
        low = bulkLow;
        high = bulkHigh;
      }
    }
  }
  if (threshold !== undefined && Number.isFinite(threshold)) {
    const wideLow = Math.min(low, threshold);
    const wideHigh = Math.max(high, threshold);
    if (wideHigh - wideLow <= 2 * (high - low)) {
      low = wideLow;
      high = wideHigh;
    }
  }
  const step = roundStep(high > low ? high - low : Math.abs(low) * 0.1 || 1, high > low ? MAX_BINS : 1);
  const first = Math.floor(low / step);
  return { start: short(first * step), step, count: Math.floor(high / step) - first + 1 };
}

/** Tick values for an axis over [start, end] and their decimals: as many round ticks as fit `width` pixels with their labels apart. */
function axisTicks(start: number, end: number, width: number): { values: number[]; decimals: number } {
  let fit = { values: [start, end], decimals: decimalsOf(end - start) };
  for (let most = 10; most >= 2; most--) {
    const step = roundStep(end - start, most);
    const decimals = decimalsOf(step);
    const values: number[] = [];
    for (let k = Math.ceil(start / step - 1e-9); k * step <= end + 1e-9 * step; k++) values.push(short(k * step));
    // 11 px digits are about 7 px wide: a label's width plus 12 px between labels.
    const widest = Math.max(...values.map((v) => withDecimals(v, decimals).length)) * 7 + 12;
    fit = { values, decimals };
    if ((step / (end - start)) * width >= widest) return fit;
  }
  return fit;
}

/**
 * The distribution of anomaly scores: the normal and the anomalous examples' as two overlaid
 * histograms on the same bins (each as shares of its own group, so a small group shows as well as a
 * large one), or one histogram of counts without labels; a dashed rule at the threshold. The bins
 * are scoreHistogramBins' and counted here: each bar's row holds its bin's edges and count, and the
 * scores beyond the bins are counted in an end bar on a grey band, marked "≥" or "<" its edge and
 * told in the subtitle.
 */
export function scoreHistogramSpec(input: ScoreHistogramInput, options: SpecOptions = {}): object {
  const n = input.scores.length;
  if (input.isAnomaly !== null && input.isAnomaly.length !== n) {
    throw new VaekitError(`A score histogram needs one anomaly flag per score: ${input.isAnomaly.length} flags for ${n} scores.`);
  }
  if (input.threshold !== undefined && !Number.isFinite(input.threshold)) throw new VaekitError(`The threshold must be a finite number, not ${input.threshold}.`);
  const all = Array.from(input.scores);
  const { start, step, count } = scoreHistogramBins(all, input.threshold);
  const first = Math.round(start / step);
  // Bar b spans [edges[b + 1], edges[b + 2]): bar -1 is the lower end bar, bar `count` the upper one.
  const edges = Array.from({ length: count + 3 }, (_, i) => short((first + i - 1) * step));
  const end = edges[count + 1]!;
  const barOf = (s: number): number => {
    if (s < start) return -1;
    if (s >= end) return count;
    let b = Math.min(count - 1, Math.max(0, Math.floor((s - start) / step)));
    while (s < edges[b + 1]!) b--;
    while (s >= edges[b + 2]!) b++;
    return b;
  };
  const groups = [0, 0];
  const counts = new Map<string, { bar: number; group: number; examples: number }>();
  const beyond = [{ count: 0, extreme: Infinity }, { count: 0, extreme: -Infinity }];
  for (let i = 0; i < n; i++) {
    const s = all[i]!;
    if (!Number.isFinite(s)) continue;
    const bar = barOf(s);
    const group = input.isAnomaly !== null && input.isAnomaly[i] === true ? 1 : 0;
    groups[group]! += 1;
    const key = `${bar} ${group}`;
    const cell = counts.get(key) ?? { bar, group, examples: 0 };
    cell.examples++;
    counts.set(key, cell);
    if (bar === -1 || bar === count) {
      const side = beyond[bar === -1 ? 0 : 1]!;
      side.count++;
      side.extreme = bar === -1 ? Math.min(side.extreme, s) : Math.max(side.extreme, s);
    }
  }
  if (groups[0]! + groups[1]! === 0) throw new VaekitError('A score histogram needs at least one finite score.');
  const names = [`normal (${groups[0]!.toLocaleString('en-US')})`, `anomalous (${groups[1]!.toLocaleString('en-US')})`];
  const rows: Json[] = [...counts.values()].sort((a, b) => a.bar - b.bar || a.group - b.group).map((c) => ({
    bin_start: edges[c.bar + 1], bin_end: edges[c.bar + 2], examples: c.examples,
    ...(input.isAnomaly === null ? {} : { group: names[c.group], share: c.examples / groups[c.group]! }),
  }));

  const low = beyond[0]!.count > 0 ? edges[0]! : start;
  const high = beyond[1]!.count > 0 ? edges[count + 2]! : end;
  const decimals = decimalsOf(step);
  const edge = (v: number): string => withDecimals(v, decimals);
  const bound = (v: number): string => short(v).toLocaleString('en-US');
  const ticks = axisTicks(start, end, 520 * (end - start) / (high - low));
  const x = {
    field: 'bin_start', type: 'quantitative', bin: { binned: true }, title: input.xTitle,
    scale: { domain: [low, high], nice: false, zero: false },
    axis: { values: ticks.values, format: `,.${ticks.decimals}f`, labelOverlap: true },
  };
  const layers: Json[] = [];
  const ends = [
    { side: 0, from: low, to: start, mark: `< ${edge(start)}`, align: 'left' },
    { side: 1, from: end, to: high, mark: `\u2265 ${edge(end)}`, align: 'right' },
  ].filter((e) => beyond[e.side]!.count > 0);
  if (ends.length > 0) {
    layers.push({
      data: { values: ends.map((e) => ({ from: e.from, to: e.to })) },
      mark: { type: 'rect', color: '#eeeeee' },
      encoding: { x: { field: 'from', type: 'quantitative' }, x2: { field: 'to' } },
    });
  }
  layers.push(input.isAnomaly === null
    ? {
        data: { values: rows },
        mark: { type: 'bar', color: '#1f77b4', opacity: 0.85 },
        encoding: { x, x2: { field: 'bin_end' }, y: { field: 'examples', type: 'quantitative', title: 'examples' } },
      }
    : {
        data: { values: rows },
        mark: { type: 'bar', opacity: 0.55, binSpacing: 0 },
        encoding: {
          x,
          x2: { field: 'bin_end' },
          y: { field: 'share', type: 'quantitative', title: 'share of the group\'s examples', axis: { format: '.0%' }, stack: null },
          color: { field: 'group', type: 'nominal', title: null, scale: { domain: names, range: ['#1f77b4', '#d62728'] }, legend: { orient: 'top', direction: 'horizontal', symbolOpacity: 0.7 } },
        },
      });
  // Each end bar is marked above the chart with what it holds.
  for (const e of ends) {
    layers.push({
      data: { values: [{ at: e.side === 0 ? low : high, label: e.mark }] },
      mark: { type: 'text', align: e.align, baseline: 'bottom', dy: -2, fontSize: 11, color: '#555555' },
      encoding: { x: { field: 'at', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
    });
  }
  const notes = [
    ...(beyond[0]!.count > 0 ? [`${beyond[0]!.count.toLocaleString('en-US')} score${beyond[0]!.count === 1 ? '' : 's'} below ${edge(start)} (down to ${bound(beyond[0]!.extreme)}) counted in the first bar, marked < ${edge(start)}`] : []),
    ...(beyond[1]!.count > 0 ? [`${beyond[1]!.count.toLocaleString('en-US')} score${beyond[1]!.count === 1 ? '' : 's'} of ${edge(end)} or more (up to ${bound(beyond[1]!.extreme)}) counted in the last bar, marked \u2265 ${edge(end)}`] : []),
  ];
  const t = input.threshold;
  if (t !== undefined) {
    const label = `threshold ${bound(t)}`;
    if (t >= start && t <= end) {
      // The label goes on the side of the rule with more room.
      const right = t > low + 0.7 * (high - low);
      const at = { data: { values: [{ threshold: t, label }] } };
      layers.push({ ...at, mark: { type: 'rule', color: '#111111', strokeDash: [5, 4], strokeWidth: 1.5 }, encoding: { x: { field: 'threshold', type: 'quantitative' } } });
      layers.push({
        ...at,
        mark: { type: 'text', align: right ? 'right' : 'left', baseline: 'top', dx: right ? -4 : 4, dy: 2, fontSize: 11, color: '#111111' },
        encoding: { x: { field: 'threshold', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
      });
    } else {
      // Off the axis: said at the side it lies on, inside the chart.
      const above = t > end;
      notes.push(`the ${label} lies off the axis, ${above ? 'above' : 'below'} the bins`);
      layers.push({
        data: { values: [{ at: above ? high : low, label: above ? `${label} \u2192` : `\u2190 ${label}` }] },
        mark: { type: 'text', align: above ? 'right' : 'left', baseline: 'top', dx: above ? -4 : 4, dy: 2, fontSize: 11, color: '#111111' },
        encoding: { x: { field: 'at', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
      });
    }
  }
  const subtitle = [...(input.subtitle === undefined ? [] : [input.subtitle]), ...notes];
  return withConfig(options.config, {
    title: subtitle.length === 0 ? input.title : { text: input.title, subtitle: subtitle.length === 1 ? subtitle[0] : subtitle },
    width: 520,
    height: 260,
    layer: layers,
  });
}
