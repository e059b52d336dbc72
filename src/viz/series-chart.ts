/**
 * The series figure as a chart (SVG, PNG, the spec): a time series above its anomaly score, the
 * flagged and the labelled anomalies marked on both (see seriesChartSpec for what it draws).
 */
import { chartFromSpec, CHART_CONFIG, type Chart, type ChartOptions } from './charts.js';
import { seriesChartSpec, type SeriesChartInput } from './series-chart-spec.js';

export type { PointInterval, SeriesChartInput } from './series-chart-spec.js';

/** A time series above its anomaly score, sharing the time axis, with the threshold, the flagged intervals and the labelled anomalies. */
export async function seriesChart(input: SeriesChartInput, options: ChartOptions = {}): Promise<Chart> {
  return chartFromSpec(seriesChartSpec(input, { config: CHART_CONFIG }), options);
}
