/**
 * The series figure's Vega-Lite spec as plain data (no Node modules, like chart-specs.ts, so the
 * studio draws the same figure): a time series above its anomaly score, the two panels sharing
 * the time axis; the points flagged as anomalous shaded light red on both, the labelled anomalies
 * (e.g. NAB's windows) as a band along the top of both, the threshold a dashed rule labelled with
 * its value. A long series is drawn from the smallest and the largest value of each pixel's time
 * bucket (minMaxIndices), so a one-point spike stays visible, and the subtitle says so.
 * series-chart.ts renders it.
 */
import type { TimeKind } from '../data/sources/series.js';
import { VaekitError } from '../errors.js';
import { short, withConfig, type SpecOptions } from './chart-specs.js';

type Json = Record<string, unknown>;

/** A run of points, both ends included, as indices into the series. */
export interface PointInterval {
  start: number;
  end: number;
}

export interface SeriesChartInput {
  title: string;
  /** A line under the title (e.g. the model, the data). */
  subtitle?: string;
  /** Each point's time, increasing: epoch milliseconds for dates, the time column's numbers, or the index. */
  times: ArrayLike<number>;
  timeKind: TimeKind;
  /** One line each, on one value axis; NaN where a value is missing (drawn as a gap). */
  channels: ReadonlyArray<{ name: string; values: ArrayLike<number> }>;
  /** Each point's anomaly score; NaN where a point has none. */
  scores: ArrayLike<number>;
  /** The decision threshold, drawn as a rule on the score panel; null for none. */
  threshold: number | null;
  /** The runs of points flagged as anomalous, shaded light red on both panels. */
  flaggedIntervals: readonly PointInterval[];
  /** The runs of points labelled anomalous (e.g. NAB's windows), a band along the top of both panels. */
  labelIntervals?: readonly PointInterval[];
  /** The score axis' title (default "anomaly score"). */
  scoreTitle?: string;
}

/** The panels' width in pixels, and the time buckets of a downsampled line (one a pixel). */
export const SERIES_CHART_WIDTH = 880;
const SERIES_HEIGHT = 220;
const SCORE_HEIGHT = 130;
/** The height of the labelled-anomaly band just above each panel, and its gap to the panel, pixels. */
const LABEL_BAND = 6;
const LABEL_GAP = 2;
/** The narrowest a shaded interval is drawn, pixels (a one-point interval of a long series would not show). */
const MIN_INTERVAL_PX = 3;

const FLAGGED = 'flagged';
const LABELLED = 'labelled anomaly';
/** Light red, opaque (so the legend shows it as drawn; the lines are drawn over it). */
const FLAGGED_COLOR = '#f6c4c4';
const LABELLED_COLOR = '#6a51a3';
/** The channels' colours: category10 without its red and purple (the flagged and labelled marks'). */
const CHANNEL_COLORS = ['#1f77b4', '#2ca02c', '#ff7f0e', '#8c564b', '#17becf', '#7f7f7f', '#bcbd22', '#e377c2'];
const SCORE_COLOR = '#1f77b4';

/**
 * The indices of the points drawn of a line of values over `buckets` equal spans of time: every
 * point where there are at most twice as many points as buckets; else, from each bucket, the point
 * of its smallest and the point of its largest value, and its first missing point (NaN: the line's
 * gap), in time order. Of a run of missing points only the first is kept (one breaks the line).
 */
export function minMaxIndices(times: ArrayLike<number>, values: ArrayLike<number>, buckets: number): Int32Array {
  const n = values.length;
  const kept: number[] = [];
  const keep = (i: number): void => {
    const last = kept.length === 0 ? -1 : kept[kept.length - 1]!;
    if (last === i || (Number.isNaN(values[i]!) && last >= 0 && Number.isNaN(values[last]!))) return;
    kept.push(i);
  };
  if (n <= 2 * buckets) {
    for (let i = 0; i < n; i++) keep(i);
    return Int32Array.from(kept);
  }
  const t0 = times[0]!;
  const span = times[n - 1]! - t0;
  const bucketOf = (i: number): number => (span > 0 ? Math.min(buckets - 1, Math.floor(((times[i]! - t0) / span) * buckets)) : 0);
  for (let i = 0; i < n;) {
    const bucket = bucketOf(i);
    let low = -1;
    let high = -1;
    let gap = -1;
    for (; i < n && bucketOf(i) === bucket; i++) {
      const v = values[i]!;
      if (Number.isNaN(v)) {
        if (gap < 0) gap = i;
      } else {
        if (low < 0 || v < values[low]!) low = i;
        if (high < 0 || v > values[high]!) high = i;
      }
    }
    for (const k of [low, high, gap].filter((k) => k >= 0).sort((a, b) => a - b)) keep(k);
  }
  return Int32Array.from(kept);
}

/**
 * The span of time shaded for a run of points: from half a step before its first point to half a
 * step after its last (the axis' ends at the series' ends), widened about its middle to at least
 * `minWidth` and kept within the axis, [times[0], times[n - 1]] unless given.
 */
export function intervalSpan(times: ArrayLike<number>, interval: PointInterval, minWidth: number, axis: readonly [number, number] = [times[0]!, times[times.length - 1]!]): [number, number] {
  const n = times.length;
  const { start, end } = interval;
  const [low, high] = axis;
  let from = start > 0 ? (times[start - 1]! + times[start]!) / 2 : low;
  let to = end < n - 1 ? (times[end]! + times[end + 1]!) / 2 : high;
  if (to - from < minWidth) {
    const middle = (from + to) / 2;
    from = Math.max(low, middle - minWidth / 2);
    to = Math.min(high, from + minWidth);
    from = Math.max(low, to - minWidth);
  }
  return [from, to];
}

/** A threshold or other value as the chart writes it: 4 significant digits, exponent form when very large or small. */
export function formatValue(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(4)));
}

/** A date as the axis title writes it: "2014-02-14 14:30" (UTC), with seconds and milliseconds only where it has them. */
export function formatDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  const day = iso.slice(0, 10);
  const time = iso.endsWith(':00.000Z') ? iso.slice(11, 16) : iso.endsWith('.000Z') ? iso.slice(11, 19) : iso.slice(11, 23);
  return `${day} ${time}`;
}

const DAY = 86_400_000;

/**
 * The date axis' labels for a span of time (d3's UTC format): years over 3 years, months with
 * their year over 3 months, days with their month over 3 days, hours and minutes with the day
 * over 6 hours, then times of day (with seconds under 10 minutes).
 */
function dateFormat(span: number): string {
  if (span > 3 * 365 * DAY) return '%Y';
  if (span > 90 * DAY) return '%b %Y';
  if (span > 3 * DAY) return '%b %-d';
  if (span > DAY / 4) return '%b %-d %H:%M';
  return span > 600_000 ? '%H:%M' : '%H:%M:%S';
}

/** The most ticks a date axis gets when its labels name whole years, months or days. */
const DATE_TICKS = 10;

/**
 * The ticks of a date axis whose labels name whole years, months or days (dateFormat): on whole
 * ones, every `step` of them (else vega may put two ticks in one day, each labelled with it); null
 * for the finer formats, whose ticks vega chooses.
 */
function dateTicks(span: number): { interval: string; step: number } | null {
  const format = dateFormat(span);
  const unit = format === '%Y' ? ['year', 365 * DAY] as const : format === '%b %Y' ? ['month', 30 * DAY] as const : format === '%b %-d' ? ['day', DAY] as const : null;
  return unit === null ? null : { interval: unit[0], step: Math.max(1, Math.ceil(span / unit[1] / DATE_TICKS)) };
}

/** A value axis' scale: the values' extent and 4 pixels, or where they are all one value, that value and 1 (or a tenth of it) either side. */
function valueScale(lines: ReadonlyArray<ArrayLike<number>>): Json {
  let low = Infinity;
  let high = -Infinity;
  for (const values of lines) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < low) low = v;
      if (v > high) high = v;
    }
  }
  if (low !== high) return { zero: false, padding: 4 };
  const d = Math.abs(low) / 10 || 1;
  return { zero: false, domain: [low - d, low + d] };
}

function checkInput(input: SeriesChartInput): void {
  const n = input.times.length;
  if (n === 0) throw new VaekitError('A series chart needs at least one point.');
  for (let i = 0; i < n; i++) {
    const t = input.times[i]!;
    if (!Number.isFinite(t)) throw new VaekitError(`A series chart's times must be finite numbers, but point ${i}'s is ${t}.`);
    if (i > 0 && !(t > input.times[i - 1]!)) throw new VaekitError(`A series chart's times must increase, but point ${i}'s (${t}) is not after point ${i - 1}'s (${input.times[i - 1]!}).`);
  }
  if (input.channels.length === 0) throw new VaekitError('A series chart needs at least one channel.');
  const names = input.channels.map((c) => c.name);
  if (new Set(names).size !== names.length) throw new VaekitError(`A series chart's channels need distinct names, not ${names.join(', ')}.`);
  const lines = [...input.channels.map((c) => ({ what: `the channel "${c.name}"`, values: c.values })), { what: 'the scores', values: input.scores }];
  for (const { what, values } of lines) {
    if (values.length !== n) throw new VaekitError(`A series chart needs one value a point: ${what} has ${values.length} for ${n} times.`);
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (v === Infinity || v === -Infinity) throw new VaekitError(`A series chart draws finite values (NaN where missing), but ${what} has ${v} at point ${i}.`);
    }
  }
  if (input.threshold !== null && !Number.isFinite(input.threshold)) throw new VaekitError(`The threshold must be a finite number, not ${input.threshold}.`);
  const all = [...input.flaggedIntervals.map((iv) => ['flagged', iv] as const), ...(input.labelIntervals ?? []).map((iv) => ['labelled', iv] as const)];
  for (const [kind, { start, end }] of all) {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end >= n) {
      throw new VaekitError(`A ${kind} interval must run from a point index to one at or after it within the ${n} points, not from ${start} to ${end}.`);
    }
  }
}

interface LineRows {
  /** Each drawn point's time and value (null at a gap); none where every value is missing. */
  rows: Json[];
  /** The points with no drawn neighbour on the line: a line alone would not show them, so they get a dot. */
  isolated: Json[];
}

function lineRows(times: ArrayLike<number>, values: ArrayLike<number>, buckets: number, extra: Json): LineRows {
  const kept = minMaxIndices(times, values, buckets);
  const present = (k: number): boolean => k >= 0 && k < kept.length && !Number.isNaN(values[kept[k]!]!);
  const rows: Json[] = [];
  const isolated: Json[] = [];
  if (!kept.some((_, k) => present(k))) return { rows, isolated };
  kept.forEach((i, k) => {
    const v = values[i]!;
    const row = { ...extra, t: times[i]!, value: Number.isNaN(v) ? null : short(v) };
    rows.push(row);
    if (present(k) && !present(k - 1) && !present(k + 1)) isolated.push(row);
  });
  return { rows, isolated };
}

/**
 * The series figure: on top the series (one line per channel, a legend when there are several, gaps
 * where values are missing), below it the anomaly score with the threshold as a dashed rule labelled
 * with its value; both share the time axis (dates in UTC for date times). Flagged intervals are
 * shaded light red on both panels, labelled anomalies a purple band along the top of both (see
 * intervalSpan for the span of time shaded). A series of more than two points a pixel is drawn from
 * each pixel's minimum and maximum (minMaxIndices), said in the subtitle.
 */
export function seriesChartSpec(input: SeriesChartInput, options: SpecOptions = {}): object {
  checkInput(input);
  const { times } = input;
  const n = times.length;
  const t0 = times[0]!;
  const t1 = n > 1 ? times[n - 1]! : t0;
  // One point: a little time either side of it, so the axis has a span.
  const pad = n > 1 ? 0 : input.timeKind === 'date' ? 60_000 : 0.5;
  const domain: [number, number] = [t0 - pad, t1 + pad];
  const buckets = SERIES_CHART_WIDTH;
  const downsampled = n > 2 * buckets;

  const date = input.timeKind === 'date';
  const timeTitle = date ? 'time (UTC)' : input.timeKind === 'number' ? 'time' : 'point';
  const xScale = date ? { type: 'utc', domain } : { domain, nice: false, zero: false };
  const xType = date ? 'temporal' : 'quantitative';
  const xAxis = {
    title: date ? `${timeTitle}: ${formatDate(t0)} to ${formatDate(t1)}` : timeTitle,
    labelOverlap: true, labelFlush: true,
    ...(date ? { format: dateFormat(t1 - t0) } : {}),
    ...(date && dateTicks(t1 - t0) !== null ? { tickCount: dateTicks(t1 - t0) } : {}),
  };
  // The series panel shows the shared axis' grid only; its labels are the score panel's.
  const hiddenAxis = { title: null, labels: false, ticks: false, domain: false };
  // The lines carry the scale (domain and type) and the axis; the shading takes them from them.
  const x = (field: string, axis: object): Json => ({ field, type: xType, scale: xScale, axis });
  const xOf = (field: string): Json => ({ field, type: xType });

  // The shaded intervals: flagged full height, labelled as a band along the top.
  const minWidth = ((domain[1]! - domain[0]!) * MIN_INTERVAL_PX) / SERIES_CHART_WIDTH;
  const spans = (list: readonly PointInterval[], kind: string): Json[] => list.map((iv) => {
    const [from, to] = intervalSpan(times, iv, minWidth, domain);
    return { from, to, kind };
  });
  const flaggedRows = spans(input.flaggedIntervals, FLAGGED);
  const labelRows = spans(input.labelIntervals ?? [], LABELLED);
  const kinds = [...(flaggedRows.length > 0 ? [FLAGGED] : []), ...(labelRows.length > 0 ? [LABELLED] : [])];
  const fill = {
    field: 'kind', type: 'nominal', title: null,
    scale: { domain: kinds, range: kinds.map((k) => (k === FLAGGED ? FLAGGED_COLOR : LABELLED_COLOR)) },
    legend: { orient: 'top', direction: 'horizontal', symbolType: 'square', symbolSize: 140, symbolOpacity: 1, symbolStrokeWidth: 0 },
  };
  const shading = (): Json[] => [
    ...(flaggedRows.length > 0 ? [{
      data: { values: flaggedRows },
      mark: { type: 'rect' },
      encoding: { x: xOf('from'), x2: { field: 'to' }, fill },
    }] : []),
    ...(labelRows.length > 0 ? [{
      data: { values: labelRows },
      mark: { type: 'rect' },
      encoding: { x: xOf('from'), x2: { field: 'to' }, y: { value: -LABEL_GAP - LABEL_BAND }, y2: { value: -LABEL_GAP }, fill },
    }] : []),
  ];

  // The lines: null values break them; a point alone between gaps is a dot. Vega cannot draw a
  // mark without data, so a panel without any value has a note instead (which carries the axis).
  const lineLayers = (lines: readonly LineRows[], encoding: Json, lineEncoding: Json, note: string, height: number): Json[] => {
    const rows = lines.flatMap((l) => l.rows);
    const dots = lines.flatMap((l) => l.isolated);
    if (rows.length === 0) {
      return [{
        data: { values: [{ t: (domain[0]! + domain[1]!) / 2 }] },
        mark: { type: 'text', fontSize: 12, color: '#555555' },
        encoding: { x: encoding['x'], y: { value: height / 2 }, text: { value: note } },
      }];
    }
    return [
      { data: { values: rows }, mark: { type: 'line', strokeWidth: 1.2, invalid: 'break-paths-show-domains' }, encoding: { ...encoding, ...lineEncoding } },
      ...(dots.length > 0 ? [{ data: { values: dots }, mark: { type: 'point', filled: true, size: 14, opacity: 1 }, encoding }] : []),
    ];
  };
  const many = input.channels.length > 1;
  const names = input.channels.map((c) => c.name);
  const seriesLines = input.channels.map((c) => lineRows(times, c.values, buckets, { channel: c.name }));
  const valueY = { field: 'value', type: 'quantitative', title: many ? 'value' : names[0]!, scale: valueScale(input.channels.map((c) => c.values)) };
  const color = many
    ? { field: 'channel', type: 'nominal', title: null, scale: { domain: names, range: CHANNEL_COLORS }, legend: { orient: 'top', direction: 'horizontal', symbolType: 'stroke', symbolStrokeWidth: 2 } }
    : { value: CHANNEL_COLORS[0] };
  const seriesPanel = {
    width: SERIES_CHART_WIDTH,
    height: SERIES_HEIGHT,
    layer: [
      ...shading(),
      ...lineLayers(seriesLines, { x: x('t', hiddenAxis), y: valueY, color }, { detail: { field: 'channel' } }, 'every value is missing', SERIES_HEIGHT),
    ],
  };

  const scoreLine = lineRows(times, input.scores, buckets, {});
  const t = input.threshold;
  const scoreTitle = input.scoreTitle ?? 'anomaly score';
  const scoreY = { field: 'value', type: 'quantitative', title: scoreTitle, scale: valueScale([input.scores, ...(t === null ? [] : [[t]])]) };
  const thresholdLayers = t === null ? [] : [{
    data: { values: [{ threshold: t, label: `threshold ${formatValue(t)}` }] },
    layer: [
      { mark: { type: 'rule', color: '#111111', strokeDash: [5, 4], strokeWidth: 1.2 }, encoding: { y: { field: 'threshold', type: 'quantitative', title: scoreTitle } } },
      // Its value just right of the panel, level with the rule: never on the data.
      {
        mark: { type: 'text', align: 'left', baseline: 'middle', dx: 6, fontSize: 11, color: '#111111' },
        encoding: { x: { value: 'width' }, y: { field: 'threshold', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
  }];
  const scorePanel = {
    width: SERIES_CHART_WIDTH,
    height: SCORE_HEIGHT,
    layer: [
      ...shading(),
      ...lineLayers([scoreLine], { x: x('t', xAxis), y: scoreY, color: { value: SCORE_COLOR } }, {}, 'no point has a score', SCORE_HEIGHT),
      ...thresholdLayers,
    ],
  };

  const count = (k: number): string => k.toLocaleString('en-US');
  const notes = downsampled ? [`${count(n)} points, drawn from the lowest and highest value of each of ${count(buckets)} time buckets (one a pixel)`] : [];
  const subtitle = [...(input.subtitle === undefined ? [] : [input.subtitle]), ...notes];
  return withConfig(options.config, {
    title: subtitle.length === 0 ? input.title : { text: input.title, subtitle: subtitle.length === 1 ? subtitle[0] : subtitle },
    vconcat: [seriesPanel, scorePanel],
    spacing: labelRows.length > 0 ? 8 + LABEL_GAP + LABEL_BAND : 8,
    resolve: { scale: { x: 'shared' } },
  });
}
