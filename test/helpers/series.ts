// Time series the tests make: a Series in memory from a function of (t, c), and the small labelled
// CSV of the series CLI tests (two hourly noisy sines, channel a jumping on planted points).
import { writeFileSync } from 'node:fs';
import type { Dataset } from '../../src/data/dataset.js';
import type { Series } from '../../src/data/sources/series.js';
import { Random } from '../../src/engine/random.js';

/** One series of T points of C channels from value(t, c) (NaN: missing), with labels when given. */
export function makeSeries(T: number, C: number, value: (t: number, c: number) => number, labels: Uint8Array | null = null): Series {
  const values = new Float32Array(T * C);
  const mask = new Uint8Array(T * C);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      const v = value(t, c);
      values[t * C + c] = v;
      mask[t * C + c] = Number.isNaN(v) ? 0 : 1;
    }
  }
  return {
    name: 'synthetic.csv', time: 'index', timestamps: Float64Array.from({ length: T }, (_, t) => t), values, mask,
    channels: Array.from({ length: C }, (_, c) => `v${c}`), labels,
  };
}

export const HOUR = 3_600_000;
/** The first point of the labelled CSV series: 2021-03-01 00:00 UTC. */
export const T0 = Date.UTC(2021, 2, 1);
/** Points of the labelled CSV series. */
export const SERIES_POINTS = 480;
/** The planted anomaly of the labelled CSV series: a jump of channel a at these points. */
export const PLANTED = { from: 380, to: 390 };

/**
 * The labelled CSV series at `path`: hourly points from T0 (column time) of two noisy sines of
 * period 24 h (columns a, b); a jumps by 4 on the PLANTED points, labelled 1 (column label).
 */
export function writeLabelledSeries(path: string, seed = 3): void {
  const rng = new Random(seed);
  const rows: string[] = [];
  for (let t = 0; t < SERIES_POINTS; t++) {
    const planted = t >= PLANTED.from && t < PLANTED.to;
    const a = Math.sin((2 * Math.PI * t) / 24) + 0.05 * rng.normal() + (planted ? 4 : 0);
    const b = Math.cos((2 * Math.PI * t) / 24) + 0.05 * rng.normal();
    const time = new Date(T0 + t * HOUR).toISOString().slice(0, 19).replace('T', ' ');
    rows.push(`${time},${a.toFixed(4)},${b.toFixed(4)},${planted ? 1 : 0}`);
  }
  writeFileSync(path, `time,a,b,label\n${rows.join('\n')}\n`);
}

/** Every window of a window set, gathered in order, and their mask: the rows it is cut into as batches ask for them. */
export function windowRows(set: Dataset): { values: Float32Array; mask: Uint8Array } {
  const values = new Float32Array(set.count * set.size);
  set.gather(null, 0, set.count, values);
  const mask = new Uint8Array(set.count * set.size);
  set.streamed!.gatherMask(Uint32Array.from({ length: set.count }, (_, k) => k), set.count, mask);
  return { values, mask };
}
