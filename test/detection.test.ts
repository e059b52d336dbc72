// Detection metrics against brute force, closed forms and cases worked by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Random } from '../src/engine/random.js';
import { VaekitError } from '../src/errors.js';
import type { Interval } from '../src/anomaly/thresholds.js';
import {
  auprc, bufferedLabels, pointAdjustedF1, pointScores, rangeF1, rangePrAuc, rangePrecision, rangeRecall, scoresAtThreshold, vusPr,
} from '../src/eval/detection.js';

const close = (a: number, b: number, what: string, tolerance = 1e-12): void => assert.ok(Math.abs(a - b) <= tolerance, `${what}: ${a} vs ${b}`);
const closeAll = (a: ArrayLike<number>, b: number[], what: string): void => {
  assert.equal(a.length, b.length, what);
  b.forEach((v, i) => close(a[i]!, v, `${what}[${i}]`));
};

/** Average precision from its definition: every distinct score, the flagged set rebuilt from scratch. */
function bruteAveragePrecision(scores: number[], positive: boolean[]): number {
  const positives = positive.filter(Boolean).length;
  let area = 0;
  let previous = 0;
  for (const s of [...new Set(scores)].sort((a, b) => b - a)) {
    const flaggedIdx = scores.flatMap((v, i) => (v >= s ? [i] : []));
    const tp = flaggedIdx.filter((i) => positive[i]).length;
    area += (tp / positives - previous) * (tp / flaggedIdx.length);
    previous = tp / positives;
  }
  return area;
}

/** The runs of true values, found by comparing each point with its neighbours. */
function runsOf(positive: boolean[]): Interval[] {
  const starts = positive.flatMap((v, i) => (v && !positive[i - 1] ? [i] : []));
  const ends = positive.flatMap((v, i) => (v && !positive[i + 1] ? [i] : []));
  return starts.map((s, k) => [s, ends[k]!]);
}

/** Range-PR AUC from the definition in detection.ts' top comment, point by point and threshold by threshold. */
function bruteRangePrAuc(scores: number[], positive: boolean[], buffer: number): number {
  const ranges = runsOf(positive);
  const half = Math.floor(buffer / 2);
  const labels = positive.map((v, i) => {
    if (v) return 1;
    let best = 0;
    for (const [s, e] of ranges) {
      const d = i < s ? s - i : i - e;
      if (d >= 1 && d <= half) best = Math.max(best, Math.sqrt(1 - d / buffer));
    }
    return best;
  });
  const target = (positive.filter(Boolean).length + labels.reduce((a, b) => a + b, 0)) / 2;
  let area = 0;
  let previous = 0;
  for (const s of [...new Set(scores)].sort((a, b) => b - a)) {
    const flaggedIdx = scores.flatMap((v, i) => (v >= s ? [i] : []));
    const tp = flaggedIdx.reduce((sum, i) => sum + labels[i]!, 0);
    const found = ranges.filter(([a, b]) => flaggedIdx.some((i) => i >= a - half && i <= b + half)).length;
    const recall = (found / ranges.length) * Math.min(1, tp / target);
    area += (recall - previous) * (tp / flaggedIdx.length);
    previous = recall;
  }
  return area;
}

test('AUPRC equals a brute-force average precision on small random cases, ties included', () => {
  // By hand: ranks T F T F give 1/2 * 1 + 1/2 * 2/3 = 5/6; a tie of T and F at the top, then T:
  // 1/2 * 1/2 + 1/2 * 2/3 = 7/12.
  close(auprc([0.9, 0.8, 0.7, 0.6], [true, false, true, false]), 5 / 6, 'T F T F');
  close(auprc([0.5, 0.5, 0.1], [true, false, true]), 7 / 12, 'tie at the top');
  const rng = new Random(1);
  for (let trial = 0; trial < 300; trial++) {
    const n = 1 + rng.int(14);
    const scores = Array.from({ length: n }, () => rng.int(5)); // many ties
    const positive = Array.from({ length: n }, () => rng.uniform() < 0.4);
    if (!positive.some(Boolean)) positive[0] = true;
    close(auprc(scores, positive), bruteAveragePrecision(scores, positive), `[${scores}] [${positive.map(Number)}]`, 1e-12);
  }
});

test('AUPRC is 1 for a perfect ranking, (1/P) sum k/(N+k) for an inverted one, and about the positive rate for random scores', () => {
  for (const [P, N] of [[1, 1], [3, 7], [10, 90]] as const) {
    const positive = Array.from({ length: P + N }, (_, i) => i < P);
    const perfect = positive.map((p, i) => (p ? 100 - i : -i));
    close(auprc(perfect, positive), 1, `perfect ${P}/${N}`);
    let exact = 0;
    for (let k = 1; k <= P; k++) exact += k / (N + k) / P;
    close(auprc(perfect.map((s) => -s), positive), exact, `inverted ${P}/${N}`);
  }
  const rng = new Random(2);
  const positive = Array.from({ length: 20_000 }, () => rng.uniform() < 0.1);
  const rate = positive.filter(Boolean).length / positive.length;
  const ap = auprc(Array.from(positive, () => rng.uniform()), positive);
  assert.ok(Math.abs(ap - rate) < 0.015, `random AP ${ap} vs positive rate ${rate}`);
  assert.throws(() => auprc([1, 2], [false, false]), VaekitError);
  assert.throws(() => auprc([1, NaN], [true, false]), VaekitError);
});

test('precision, recall and F1 at a threshold flag the scores strictly above it', () => {
  // Flags: 0.9, 0.7 (not 0.5: strictly above). TP 1 of 2 flagged, 1 of 3 positives.
  const s = scoresAtThreshold([0.9, 0.5, 0.7, 0.1, 0.2], [true, true, false, true, false], 0.5);
  close(s.precision, 1 / 2, 'precision');
  close(s.recall, 1 / 3, 'recall');
  close(s.f1, 2 / 5, 'F1 = 2 * 1/2 * 1/3 / (1/2 + 1/3)');
  assert.deepEqual(pointScores([false, false], [true, false]), { precision: 0, recall: 0, f1: 0 });
  assert.throws(() => pointScores([true], [true, false]), /1 flags but 2 labels/);
});

test('range precision and recall on one real range and a prediction overlapping half of it', () => {
  const real: Interval[] = [[0, 9]];
  const predicted: Interval[] = [[5, 14]];
  // Flat: 5 of 10 points each way.
  assert.deepEqual(rangeF1(real, predicted), { precision: 0.5, recall: 0.5, f1: 0.5 });
  // The existence reward: alpha + (1 - alpha) * overlap = 0.5 + 0.5 * 0.5.
  close(rangeRecall(real, predicted, { alpha: 0.5 }), 0.75, 'alpha 0.5');
  // Front bias weights the real range's positions 10, 9, ..., 1 (sum 55); the prediction covers
  // the last five (5 + 4 + 3 + 2 + 1 = 15). Back: 6 + ... + 10 = 40. Middle: 1 2 3 4 5 5 4 3 2 1
  // (sum 30), the last five 15. The prediction's own first five positions hold the overlap, so
  // its front-biased precision is (10 + 9 + 8 + 7 + 6) / 55.
  close(rangeRecall(real, predicted, { bias: 'front' }), 15 / 55, 'front recall');
  close(rangeRecall(real, predicted, { bias: 'back' }), 40 / 55, 'back recall');
  close(rangeRecall(real, predicted, { bias: 'middle' }), 15 / 30, 'middle recall');
  close(rangePrecision(real, predicted, { bias: 'front' }), 40 / 55, 'front precision');
  // Two predictions inside one real range: 4 of 10 points, halved by the reciprocal cardinality;
  // each prediction lies wholly inside, so precision is 1.
  const split: Interval[] = [[0, 1], [4, 5]];
  close(rangeRecall(real, split), 0.4, 'cardinality one');
  close(rangeRecall(real, split, { cardinality: 'reciprocal' }), 0.2, 'reciprocal');
  close(rangePrecision(real, split, { cardinality: 'reciprocal' }), 1, 'precision of the split');
  // Two real ranges, one missed: recall averages 1 and 0; a miss earns no existence reward.
  close(rangeRecall([[0, 3], [10, 12]], [[0, 3]], { alpha: 1 }), 0.5, 'one of two found');
  assert.equal(rangePrecision(real, []), 0);
  assert.throws(() => rangeRecall([], predicted), VaekitError);
  assert.throws(() => rangeRecall([[5, 9], [0, 3]], predicted), /sorted and disjoint/);
  assert.throws(() => rangeRecall(real, predicted, { alpha: 2 }), /alpha/);
});

test('range precision and recall equal point precision and recall when every range is one point', () => {
  const rng = new Random(3);
  for (let trial = 0; trial < 100; trial++) {
    const n = 5 + rng.int(40);
    const positive = Array.from({ length: n }, () => rng.uniform() < 0.3);
    const flags = Array.from({ length: n }, () => rng.uniform() < 0.3);
    if (!positive.some(Boolean)) positive[0] = true;
    const single = (v: boolean[]): Interval[] => v.flatMap((f, i) => (f ? [[i, i] as Interval] : []));
    const points = pointScores(flags, positive);
    const ranges = rangeF1(single(positive), single(flags), { precision: { bias: 'middle' }, recall: { bias: 'back', cardinality: 'reciprocal' } });
    close(ranges.precision, points.precision, 'precision');
    close(ranges.recall, points.recall, 'recall');
  }
});

test('buffered labels: 1 inside, sqrt(1 - d/l) for d up to floor(l/2) outside, the larger where buffers meet', () => {
  const positive = [false, false, false, false, true, true, false, false, false, false];
  const r = Math.sqrt;
  closeAll(bufferedLabels(positive, 4), [0, 0, r(0.5), r(0.75), 1, 1, r(0.75), r(0.5), 0, 0], 'buffer 4');
  closeAll(bufferedLabels(positive, 5), [0, 0, r(0.6), r(0.8), 1, 1, r(0.8), r(0.6), 0, 0], 'buffer 5');
  closeAll(bufferedLabels(positive, 1), positive.map(Number), 'buffer 1');
  // Ranges at 1 and 5 with buffer 6 (half 3): point 3 is 2 from both (sqrt(2/3)); point 4 is 3
  // from the first (sqrt(1/2)) and 1 from the second (sqrt(5/6)), which wins.
  const two = [false, true, false, false, false, true, false];
  closeAll(bufferedLabels(two, 6), [r(5 / 6), 1, r(5 / 6), r(2 / 3), r(5 / 6), 1, r(5 / 6)], 'two ranges');
  assert.throws(() => bufferedLabels(positive, 1.5), /whole number/);
});

test('range-PR AUC: worked by hand, equal to AUPRC for one range at buffer 0, and equal to its definition by brute force', () => {
  // One range [2, 3]; flags in score order: 1, 2, 3, then the rest. Buffer 0: the first flag
  // misses (recall 0), then precision 1/2 at recall 1/2 and 2/3 at recall 1: 1/4 + 1/3 = 7/12.
  // Buffer 2 (labels 1/sqrt2 at points 1 and 4, a = 1/sqrt2, P_l = 2 + a): the steps sum to
  // (1 + a/2) / (2 + a) + 1/3 = 5/6. VUS-PR up to buffer 2 averages 7/12, 7/12 and 5/6: 2/3.
  const positive = [false, false, true, true, false, false];
  const scores = [0, 0.9, 0.8, 0.1, 0, 0];
  close(rangePrAuc(scores, positive, 0), 7 / 12, 'buffer 0');
  close(rangePrAuc(scores, positive, 2), 5 / 6, 'buffer 2');
  close(vusPr(scores, positive, 2), 2 / 3, 'VUS-PR to buffer 2');
  close(auprc(scores, positive), 7 / 12, 'AUPRC');
  const rng = new Random(4);
  for (let trial = 0; trial < 60; trial++) {
    const n = 20 + rng.int(30);
    const start = rng.int(n - 5);
    const end = start + rng.int(5);
    const one = Array.from({ length: n }, (_, i) => i >= start && i <= end);
    const s = Array.from({ length: n }, () => rng.int(8));
    close(rangePrAuc(s, one, 0), auprc(s, one), 'one range, buffer 0', 1e-12);
    // Several ranges, close enough for buffers to meet.
    const many = Array.from({ length: n }, () => rng.uniform() < 0.25);
    if (!many.some(Boolean)) many[0] = true;
    const maxBuffer = rng.int(8);
    let brute = 0;
    for (let l = 0; l <= maxBuffer; l++) brute += bruteRangePrAuc(s, many, l) / (maxBuffer + 1);
    close(vusPr(s, many, maxBuffer), brute, `VUS-PR to buffer ${maxBuffer}`, 1e-12);
  }
});

test('VUS-PR rewards a detector that fires just before each anomaly more as the buffer grows', () => {
  const n = 2000;
  const positive = Array.from({ length: n }, (_, i) => i % 200 >= 100 && i % 200 < 110);
  const rng = new Random(5);
  // High scores 3 points early, on points labelled normal: nothing at buffer 0 until the ranges'
  // own middling scores come in.
  const scores = Array.from({ length: n }, (_, i) => (positive[i + 3] && !positive[i] ? 2 : positive[i] ? 1 : 0) + 0.5 * rng.uniform());
  const atZero = rangePrAuc(scores, positive, 0);
  const vus = vusPr(scores, positive, 12);
  assert.ok(vus > atZero + 0.1, `VUS-PR ${vus} vs buffer-0 ${atZero}`);
  // The perfect detector is perfect at buffer 0.
  close(rangePrAuc(positive.map(Number), positive, 0), 1, 'perfect at buffer 0');
  assert.throws(() => vusPr([1, 2], [false, false], 3), VaekitError);
});

test('point adjustment lifts random flags on long anomaly ranges to a high F1 while the plain F1 stays low', () => {
  // By hand: one flag inside the range [2, 5] credits all four points.
  assert.deepEqual(pointAdjustedF1([false, false, false, true, false, false], [false, false, true, true, true, true]), { precision: 1, recall: 1, f1: 1 });
  // Five ranges of 100 points in 10,000; random flags at rate 0.05 hit each range almost surely
  // (1 - 0.95^100 = 0.994), so adjusted recall is about 1 and precision about 500 / (500 + 475).
  const rng = new Random(6);
  const positive = Array.from({ length: 10_000 }, (_, i) => i % 2000 >= 1000 && i % 2000 < 1100);
  const flags = positive.map(() => rng.uniform() < 0.05);
  const plain = pointScores(flags, positive);
  const adjusted = pointAdjustedF1(flags, positive);
  assert.ok(plain.f1 < 0.1, `plain F1 ${plain.f1}`);
  assert.ok(adjusted.f1 > 0.6 && adjusted.recall > 0.95, `point-adjusted F1 ${adjusted.f1}, recall ${adjusted.recall}`);
});
