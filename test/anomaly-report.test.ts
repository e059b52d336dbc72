// src/anomaly/report.ts: thresholds, flags and metrics on small score lists worked by hand; the
// comparison table's text and the sentence that says when a baseline beats the VAE; the
// baselines and the unigram text baseline against their own fits and a hand-computed likelihood.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auroc } from '../src/eval/auroc.js';
import { vusPr } from '../src/eval/detection.js';
import { fitIsolationForest, fitPca } from '../src/anomaly/baselines/index.js';
import { fitUnigram } from '../src/anomaly/baselines/unigram.js';
import { parseThresholdSpec, potThreshold, type ThresholdSpec } from '../src/anomaly/thresholds.js';
import {
  baselineResults, checkCalibrationCount, comparisonTable, detectionResult, flaggedLine, normalScoresOf, oneClassTable, POINT_ADJUST_WARNING, resultSummary,
  type DetectionResult,
} from '../src/anomaly/report.js';
import { textDataset } from '../src/data/sources/text.js';
import { Random } from '../src/engine/random.js';
import { VaekitError } from '../src/errors.js';

function close(got: number, want: number, what: string, tol = 1e-12): void {
  assert.ok(Math.abs(got - want) <= tol, `${what}: ${got}, want ${want}`);
}

const F = false;
const T = true;
const value = (v: number): ThresholdSpec => ({ kind: 'value', value: v });

test('a given threshold: flags strictly above it, NaN skipped; precision, recall, F1, AUROC and AUPRC by hand', () => {
  const scores = [0.1, 0.4, 0.35, 0.8, 0.7, 0.2, NaN, 0.9];
  const isAnomaly = [F, F, T, T, F, F, T, T];
  const r = detectionResult('VAE', scores, { isAnomaly, normalScores: null, threshold: value(0.7) });
  assert.equal(r.threshold.value, 0.7);
  assert.equal(r.threshold.spec, '0.7');
  assert.deepEqual(r.flagged, [3, 7], '0.7 itself is not above 0.7; the NaN at 6 is never flagged');
  assert.equal(r.scored, 7);
  assert.equal(r.skipped, 1);
  const m = r.metrics!;
  assert.equal(m.anomalies, 3);
  assert.equal(m.normals, 4);
  // Flagged 3 and 7, both anomalies; the anomalies (NaN skipped) are 2, 3, 7.
  close(m.precision, 1, 'precision');
  close(m.recall, 2 / 3, 'recall');
  close(m.f1, 0.8, 'F1');
  // Anomalies 0.35, 0.8, 0.9 against normal 0.1, 0.4, 0.7, 0.2: 2 + 4 + 4 of 12 pairs.
  close(m.auroc, 10 / 12, 'AUROC');
  // Descending: 0.9 A, 0.8 A, 0.7, 0.4, 0.35 A: (1/3)(1) + (1/3)(1) + (1/3)(3/5).
  close(m.auprc, 13 / 15, 'AUPRC');
  assert.equal(m.range, null);
  assert.equal(m.pointAdjustedF1, null);

  const lower = detectionResult('VAE', scores, { isAnomaly, normalScores: null, threshold: value(0.5) });
  assert.deepEqual(lower.flagged, [3, 4, 7]);
  close(lower.metrics!.precision, 2 / 3, 'precision at 0.5');
  close(lower.metrics!.f1, 2 / 3, 'F1 at 0.5');
  const none = detectionResult('VAE', scores, { isAnomaly, normalScores: null, threshold: value(5) });
  assert.deepEqual(none.flagged, []);
  assert.equal(none.metrics!.precision, 0, 'nothing flagged: precision 0');
  assert.equal(none.metrics!.f1, 0);
  // Without labels, or with one kind only: the flags and no metrics.
  assert.equal(detectionResult('VAE', scores, { isAnomaly: null, normalScores: null, threshold: value(0.5) }).metrics, null);
  assert.equal(detectionResult('VAE', scores, { isAnomaly: scores.map(() => F), normalScores: null, threshold: value(0.5) }).metrics, null);
});

test('quantile and fpr thresholds come from the normal scores; without them, from the scores themselves, and the words say so', () => {
  const normal = [5, 1, 4, 2, 3];
  const scores = [0.5, 3.5, 4.5, 4.7, 6];
  const q = detectionResult('VAE', scores, { isAnomaly: null, normalScores: normal, threshold: parseThresholdSpec('quantile:0.9'), calibration: 'scores of the validation split' });
  // Sorted 1..5: position 0.9 * 4 = 3.6, between 4 and 5.
  close(q.threshold.value, 4.6, 'the 0.9-quantile');
  assert.equal(q.threshold.spec, 'quantile:0.9');
  assert.equal(q.threshold.how, 'the 0.9-quantile of 5 scores of the validation split');
  assert.deepEqual(q.flagged, [3, 4]);
  const median = detectionResult('VAE', scores, { isAnomaly: null, normalScores: normal, threshold: parseThresholdSpec('quantile:0.5') });
  assert.equal(median.threshold.value, 3);
  assert.match(median.threshold.how, /of 5 held-out normal scores$/);
  // fpr 0.2 of 5 normal scores: one false positive allowed, so the threshold is the 4th smallest, 4.
  const fpr = detectionResult('VAE', scores, { isAnomaly: null, normalScores: normal, threshold: parseThresholdSpec('fpr:0.2') });
  assert.equal(fpr.threshold.value, 4);
  assert.equal(normal.filter((s) => s > fpr.threshold.value).length, 1, 'exactly 20% of the normal scores flagged');
  assert.deepEqual(fpr.flagged, [2, 3, 4]);
  // No normal scores: the scores themselves (0.5, 3.5, 4.5, 4.7, 6): the median is 4.5.
  const self = detectionResult('VAE', scores, { isAnomaly: null, normalScores: null, threshold: parseThresholdSpec('quantile:0.5') });
  assert.equal(self.threshold.value, 4.5);
  assert.match(self.threshold.how, /scores being judged themselves \(there are no held-out normal scores\)/);
  // NaN normal scores are skipped too.
  assert.equal(detectionResult('VAE', scores, { isAnomaly: null, normalScores: [...normal, NaN], threshold: parseThresholdSpec('quantile:0.5') }).threshold.value, 3);
  assert.deepEqual(normalScoresOf([1, 2, 3, 4], [T, F, T, F], null), [1, 3]);
  assert.deepEqual(normalScoresOf([1, 2, 3, 4], [T, F, T, F], [9]), [9]);
  assert.equal(normalScoresOf([1, 2], null, null), null);
});

test('pot: the normal scores calibrate it, and too few of them are refused in one sentence before any work', () => {
  const rng = new Random(3);
  const normal = Array.from({ length: 2000 }, () => -Math.log(1 - rng.uniform()));
  const scores = [0.1, 5, 9, 12];
  const r = detectionResult('VAE', scores, { isAnomaly: null, normalScores: normal, threshold: parseThresholdSpec('pot:0.001') });
  assert.equal(r.threshold.value, potThreshold(normal, 0.001, 0.98).threshold);
  assert.match(r.threshold.how, /^peaks over threshold at risk 0\.001: a generalized Pareto tail .* above their 0\.98-quantile/);
  // Exponential scores: the 0.999 quantile is log(1000), about 6.9.
  assert.ok(Math.abs(r.threshold.value - Math.log(1000)) < 1, `${r.threshold.value}`);
  assert.deepEqual(r.flagged, [2, 3]);
  assert.throws(() => checkCalibrationCount(parseThresholdSpec('pot:0.01'), 100, 'normal examples'), (e: Error) => e instanceof VaekitError && /^POT at level 0\.98 needs about 501 normal examples .* there are 100: /.test(e.message));
  checkCalibrationCount(parseThresholdSpec('pot:0.01'), 2000);
  checkCalibrationCount(parseThresholdSpec('3'), 0);
  assert.throws(() => checkCalibrationCount(parseThresholdSpec('quantile:0.9'), 0), VaekitError);
  assert.throws(() => detectionResult('VAE', scores, { isAnomaly: null, normalScores: [1, 2, 3], threshold: parseThresholdSpec('pot:0.01') }), VaekitError);
});

test('series points: range-based precision/recall/F1, VUS-PR and point-adjusted F1 by hand', () => {
  const isAnomaly = [F, F, T, T, T, F, F, F, T, T];
  const scores = [0, 0.1, 0.2, 0.9, 0.8, 0.7, 0.1, 0, 0.3, 0.95];
  const r = detectionResult('VAE', scores, { isAnomaly, normalScores: null, threshold: value(0.5), ranges: true, pointAdjust: true });
  assert.deepEqual(r.flagged, [3, 4, 5, 9]);
  const range = r.metrics!.range!;
  // Real [2, 4], [8, 9]; predicted [3, 5], [9, 9]. Recall: (2/3 + 1/2) / 2; precision: (2/3 + 1) / 2.
  close(range.recall, 7 / 12, 'range recall');
  close(range.precision, 5 / 6, 'range precision');
  close(range.f1, 35 / 51, 'range F1');
  // The default buffer: the median anomaly range length (2 and 3: the lower middle, 2).
  assert.equal(range.vusBuffer, 2);
  close(range.vusPr, vusPr(scores, isAnomaly, 2), 'VUS-PR');
  // Point-adjusted: both ranges are hit, so all 5 anomalies count as found among 6 flags.
  close(r.metrics!.pointAdjustedF1!, 10 / 11, 'point-adjusted F1');
  close(r.metrics!.f1, 2 * (3 / 4) * (3 / 5) / (3 / 4 + 3 / 5), 'plain F1: 3 of 4 flags right, 3 of 5 anomalies');
  assert.throws(() => detectionResult('VAE', scores, { isAnomaly, normalScores: null, threshold: value(0.5), pointAdjust: true }), VaekitError);
  const table = comparisonTable([r]);
  assert.match(table, /\| method \| AUROC \| AUPRC \| threshold \| flagged \| precision \| recall \| F1 \| range F1 \| VUS-PR \| point-adjusted F1 \|/);
  assert.ok(table.endsWith(POINT_ADJUST_WARNING));
  assert.match(POINT_ADJUST_WARNING, /random scores reach 0\.97 on SWaT .*Kim et al\. 2022/);
  assert.doesNotMatch(comparisonTable([detectionResult('VAE', scores, { isAnomaly, normalScores: null, threshold: value(0.5), ranges: true })]), /point-adjusted|SWaT/);
});

/** A result whose one anomaly ranks `rank`-th of ten scores (its AUPRC is 1 / rank), thresholded at 8.5 (the top two flagged). */
function withAuprc(name: string, rank: number): DetectionResult {
  const scores = Array.from({ length: 10 }, (_, i) => 10 - i);
  const isAnomaly = scores.map((_, i) => i === rank - 1);
  return detectionResult(name, scores, { isAnomaly, normalScores: null, threshold: value(8.5) });
}

test('the comparison table: one row per method, and a sentence that says plainly when a baseline beats the VAE', () => {
  const vae = withAuprc('VAE', 2);
  const pca = withAuprc('PCA', 4);
  const forest = withAuprc('isolation forest', 1);
  const table = comparisonTable([vae, pca, forest]);
  assert.equal(table, [
    '| method | AUROC | AUPRC | threshold | flagged | precision | recall | F1 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    '| VAE | 0.889 | 0.500 | 8.5 (8.5) | 2 of 10 | 0.500 | 1.000 | 0.667 |',
    '| PCA | 0.667 | 0.250 | 8.5 (8.5) | 2 of 10 | 0.000 | 0.000 | 0.000 |',
    '| isolation forest | 1.000 | 1.000 | 8.5 (8.5) | 2 of 10 | 0.500 | 1.000 | 0.667 |',
    '',
    'Best by AUPRC: isolation forest (1.000). Isolation forest scores a higher AUPRC than the VAE here (1.000 vs 0.500).',
  ].join('\n'));
  const vaeBest = comparisonTable([forest, pca]);
  assert.ok(vaeBest.endsWith('Best by AUPRC: isolation forest (1.000).'), 'no baseline beats the first method: no such sentence');
  const unlabelled = comparisonTable([detectionResult('VAE', [1, 2, 3], { isAnomaly: null, normalScores: null, threshold: value(2.5) })]);
  assert.match(unlabelled, /\| VAE \| — \| — \| 2\.5 \(2\.5\) \| 1 of 3 \| — \| — \| — \|/);
  assert.match(unlabelled, /No labels say which examples are anomalies/);
  // One-class: a row per class and method, each method's mean, the sentence on the means.
  const one = oneClassTable([{ normalClass: 'a', results: [vae, pca] }, { normalClass: 'b', results: [withAuprc('VAE', 4), withAuprc('PCA', 1)] }]);
  assert.match(one, /\| a \| VAE \| 0\.889 \| 0\.500 \|/);
  assert.match(one, /\| mean \| VAE \| 0\.778 \| 0\.375 \| — \| — \|/);
  assert.match(one, /\| mean \| PCA \| 0\.833 \| 0\.625 \|/);
  assert.ok(one.endsWith('PCA scores a higher mean AUPRC than the VAE here (0.625 vs 0.375).'));
  // The line the CLI prints and what anomaly.json keeps.
  assert.equal(flaggedLine(vae, (i) => `row${i}`, 1), 'VAE flags 2 of 10 above 8.5 (8.5: the number given (8.5)): row0, ...');
  const summary = resultSummary(vae, (i) => `row${i}`) as { flagged: number; firstFlagged: string[]; auprc: number; threshold: { value: number } };
  assert.equal(summary.flagged, 2);
  assert.deepEqual(summary.firstFlagged, ['row0', 'row1']);
  assert.equal(summary.threshold.value, 8.5);
  close(summary.auprc, 0.5, 'AUPRC kept');
});

test('baselines: PCA and isolation forest fitted on the training rows, scored and thresholded as the VAE is', () => {
  const rng = new Random(5);
  const d = 3;
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - rng.uniform())) * Math.cos(2 * Math.PI * rng.uniform());
  // Rows along one direction, plus noise; the scored ones end with two far off it.
  const rowsOf = (n: number, outliers: number): Float64Array => {
    const out = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const t = gaussian();
      for (let j = 0; j < d; j++) out[i * d + j] = t * (j + 1) + 0.05 * gaussian() + (i >= n - outliers ? (j === 0 ? 4 : -4) : 0);
    }
    return out;
  };
  const train = rowsOf(200, 0);
  const scored = rowsOf(40, 2);
  const heldOut = rowsOf(50, 0);
  const isAnomaly = Array.from({ length: 40 }, (_, i) => i >= 38);
  const results = baselineResults({ train, scored, heldOut, isNormal: null, columns: d, seed: 9 }, { isAnomaly, threshold: parseThresholdSpec('quantile:0.95') });
  assert.deepEqual(results.map((r) => r.name), ['PCA', 'isolation forest']);
  const pca = fitPca(train, d);
  const forest = fitIsolationForest(train, d, { seed: 9 });
  close(results[0]!.metrics!.auroc, auroc(pca.score(scored), isAnomaly), 'PCA AUROC');
  close(results[1]!.metrics!.auroc, auroc(forest.score(scored), isAnomaly), 'isolation forest AUROC');
  assert.equal(results[0]!.metrics!.auroc, 1, 'the planted rows are far off the line');
  assert.match(results[0]!.threshold.how, /of 50 held-out normal scores/);
  // Without held-out rows, the scored rows marked normal set it.
  const masked = baselineResults({ train, scored, heldOut: null, isNormal: isAnomaly.map((a) => !a), columns: d, seed: 9 }, { isAnomaly, threshold: parseThresholdSpec('quantile:0.95') });
  assert.match(masked[0]!.threshold.how, /of 38 held-out normal scores/);
});

test('the unigram text baseline: add-one smoothed token frequencies, negative log-likelihood per token', () => {
  const corpus = (texts: string[]): Parameters<typeof textDataset>[0] => ({ texts, ids: texts.map((_, i) => String(i + 1)), labels: null, labelNames: null, source: 'lines', blank: 0 });
  const train = textDataset(corpus(['a b', 'a a']), { tokens: 'word', lowercase: false });
  const v = train.text!.vocabulary;
  assert.deepEqual(Array.from(train.text!.lengths), [2, 2]);
  const model = fitUnigram(train);
  const scored = textDataset(corpus(['b a', 'c']), { tokens: 'word', lowercase: false, vocabulary: v });
  const total = 4 + v.size;
  const scores = model.score(scored);
  // a: 3 + 1, b: 1 + 1; c is <unk>, never seen: 0 + 1.
  close(scores[0]!, -(Math.log(2 / total) + Math.log(4 / total)) / 2, 'b a');
  close(scores[1]!, -Math.log(1 / total), 'c (<unk>)');
});
