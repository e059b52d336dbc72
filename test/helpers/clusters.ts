// The planted-outlier table of test/own-data.test.ts, also measured by bench/tables.ts: 3,000 rows of
// 20 features from three correlated Gaussian clusters, with every hundredth row (30 in all) an
// outlier of the same overall spread and none of the correlation; column "outlier" says which.
import { Random } from '../../src/engine/random.js';

/** The table's lines (a header f0..f19,outlier, then rows ending "yes" or "no"), its features and outliers. */
export function clustersTable(): { lines: string[]; features: number; outliers: number } {
  const rng = new Random(4);
  const D = 20;
  const n = 3000;
  let outliers = 0;
  // Three clusters, each x = centre + A z + 0.1 e with z in 3 dimensions: strongly correlated features.
  const clusters = Array.from({ length: 3 }, () => ({
    centre: Array.from({ length: D }, () => 3 * rng.normal()),
    a: Array.from({ length: D * 3 }, () => rng.normal()),
  }));
  const lines = [[...Array.from({ length: D }, (_, j) => `f${j}`), 'outlier'].join(',')];
  for (let i = 0; i < n; i++) {
    const isOutlier = i % 100 === 37;
    const row: number[] = [];
    if (isOutlier) {
      outliers++;
      // Same overall spread, none of the correlation.
      for (let j = 0; j < D; j++) row.push(3 * rng.normal());
    } else {
      const c = clusters[i % 3]!;
      const z = [rng.normal(), rng.normal(), rng.normal()];
      for (let j = 0; j < D; j++) row.push(c.centre[j]! + c.a[j * 3]! * z[0]! + c.a[j * 3 + 1]! * z[1]! + c.a[j * 3 + 2]! * z[2]! + 0.1 * rng.normal());
    }
    lines.push([...row.map((v) => v.toFixed(5)), isOutlier ? 'yes' : 'no'].join(','));
  }
  return { lines, features: D, outliers };
}
