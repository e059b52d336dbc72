/**
 * Isolation forest (Liu, Ting and Zhou 2008): anomalies are few and different, so random
 * axis-aligned cuts isolate them in fewer steps than normal rows. Each of `trees` trees is grown on
 * `subsample` training rows drawn without replacement: at each node a feature that varies there is
 * picked at random and cut at a uniform point between its smallest and largest value, down to one
 * row or the height limit ceil(log2 subsample). A row's path length in a tree is the depth of the
 * leaf it falls in plus c(size), the expected depth still to go among that leaf's rows; its score
 * is 2^(-E[h] / c(subsample)), in (0, 1], higher for rows isolated sooner.
 *
 * Hand-written: the npm packages (isolation-forest 0.0.9, ml-isolation-forest 0.1.0) draw from
 * Math.random, so they cannot be seeded, and neither grows its trees on subsamples. One seed gives
 * the same forest: tree t draws from Random(seed).fork(t).
 */
import { Random } from '../../engine/random.js';
import { VaekitError } from '../../errors.js';
import { rowCount, type FloatRows } from './rows.js';

export const DEFAULT_TREES = 100;
export const DEFAULT_SUBSAMPLE = 256;
export const MAX_TREES = 10_000;

export interface IsolationForestOptions {
  /** Trees in the forest (default 100). */
  trees?: number;
  /** Training rows each tree is grown on (default 256; all of them when there are fewer). */
  subsample?: number;
  /** The seed of the subsamples and the cuts (default 0). */
  seed?: number;
}

const EULER_GAMMA = 0.5772156649015329;

/** The harmonic number H(m) = 1 + 1/2 + ... + 1/m: summed below 64, else its asymptotic series (error below 1e-13). */
function harmonic(m: number): number {
  if (m < 64) {
    let h = 0;
    for (let i = m; i >= 1; i--) h += 1 / i;
    return h;
  }
  const m2 = m * m;
  return Math.log(m) + EULER_GAMMA + 1 / (2 * m) - 1 / (12 * m2) + 1 / (120 * m2 * m2);
}

/**
 * c(n) = 2 H(n - 1) - 2 (n - 1) / n, the average path length of an unsuccessful search in a binary
 * search tree of n - 1 keys: the expected depth at which n rows are all isolated (0 for n <= 1).
 */
export function averagePathLength(n: number): number {
  return n <= 1 ? 0 : 2 * harmonic(n - 1) - (2 * (n - 1)) / n;
}

/**
 * A grown forest, every tree's nodes in one set of arrays, each tree in preorder (a node's left
 * child follows it). Inner node: feature >= 0, rows with x[feature] < value go left, others to
 * `right`. Leaf: feature -1 and value = its depth + c(its rows), the path length of a row that
 * ends there.
 */
export class IsolationForest {
  constructor(
    readonly columns: number,
    /** The rows each tree was grown on. */
    readonly subsample: number,
    /** Each tree's root node. */
    private readonly roots: Int32Array,
    private readonly feature: Int32Array,
    private readonly value: Float64Array,
    private readonly right: Int32Array,
  ) {}

  get trees(): number {
    return this.roots.length;
  }

  /** Each row's anomaly score 2^(-E[h] / c(subsample)) [n], in (0, 1]. */
  score(rows: FloatRows): Float64Array {
    const d = this.columns;
    const n = rowCount(rows, d, 'rows to score');
    const { roots, feature, value, right } = this;
    const norm = averagePathLength(this.subsample);
    const scores = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      let total = 0;
      for (let t = 0; t < roots.length; t++) {
        let node = roots[t]!;
        for (let q = feature[node]!; q >= 0; q = feature[node]!) node = rows[o + q]! < value[node]! ? node + 1 : right[node]!;
        total += value[node]!;
      }
      scores[i] = 2 ** (-total / roots.length / norm);
    }
    return scores;
  }
}

/** An isolation forest grown on training `rows` [n, columns] (n >= 2). */
export function fitIsolationForest(rows: FloatRows, columns: number, options: IsolationForestOptions = {}): IsolationForest {
  const d = columns;
  const n = rowCount(rows, d, 'training rows');
  if (n < 2) throw new VaekitError(`An isolation forest needs at least 2 training rows, not ${n}.`);
  const trees = options.trees ?? DEFAULT_TREES;
  if (!Number.isInteger(trees) || trees < 1 || trees > MAX_TREES) throw new VaekitError(`An isolation forest's trees must be a whole number from 1 to ${MAX_TREES}, not ${trees}.`);
  const wanted = options.subsample ?? DEFAULT_SUBSAMPLE;
  if (!Number.isInteger(wanted) || wanted < 2) throw new VaekitError(`An isolation forest's subsample must be a whole number >= 2, not ${wanted}.`);
  const psi = Math.min(wanted, n);
  const heightLimit = Math.ceil(Math.log2(psi));
  const leafPath = Float64Array.from({ length: psi + 1 }, (_, size) => averagePathLength(size));

  const nodesPerTree = 2 * psi - 1;
  const feature = new Int32Array(trees * nodesPerTree);
  const value = new Float64Array(trees * nodesPerTree);
  const right = new Int32Array(trees * nodesPerTree);
  const roots = new Int32Array(trees);
  const order = Uint32Array.from({ length: n }, (_, i) => i); // a partial shuffle per tree draws its subsample
  const features = Int32Array.from({ length: d }, (_, j) => j); // a partial shuffle per node picks its feature
  const members = new Uint32Array(psi); // the tree's rows, partitioned in place as it grows
  const base = new Random(options.seed ?? 0);
  let next = 0;
  let rng = base;

  const grow = (lo: number, hi: number, depth: number): void => {
    const node = next++;
    const size = hi - lo;
    if (depth < heightLimit && size > 1) {
      // A feature that varies among these rows, uniform among those that do.
      for (let m = 0; m < d; m++) {
        const pick = m + rng.int(d - m);
        const q = features[pick]!;
        features[pick] = features[m]!;
        features[m] = q;
        let min = Infinity;
        let max = -Infinity;
        for (let i = lo; i < hi; i++) {
          const x = rows[members[i]! * d + q]!;
          if (x < min) min = x;
          if (x > max) max = x;
        }
        if (!(max > min)) continue;
        const cut = min + (1 - rng.uniform()) * (max - min); // in (min, max]: both sides keep a row
        let mid = lo;
        for (let i = lo; i < hi; i++) {
          const row = members[i]!;
          if (rows[row * d + q]! < cut) {
            members[i] = members[mid]!;
            members[mid++] = row;
          }
        }
        feature[node] = q;
        value[node] = cut;
        grow(lo, mid, depth + 1);
        right[node] = next;
        grow(mid, hi, depth + 1);
        return;
      }
    }
    feature[node] = -1;
    value[node] = depth + leafPath[size]!;
  };

  for (let t = 0; t < trees; t++) {
    rng = base.fork(t);
    for (let m = 0; m < psi; m++) {
      const pick = m + rng.int(n - m);
      const row = order[pick]!;
      order[pick] = order[m]!;
      order[m] = row;
      members[m] = row;
    }
    roots[t] = next;
    grow(0, psi, 0);
  }
  return new IsolationForest(d, psi, roots, feature.slice(0, next), value.slice(0, next), right.slice(0, next));
}
