/**
 * Area under the ROC curve: the probability that a random positive scores higher than a random
 * negative, ties counting one half (the Mann-Whitney U statistic over positives x negatives).
 */
export function auroc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => scores[i]! - scores[j]!);
  // Average ranks (1-based) over runs of tied scores.
  const rank = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const average = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) rank[order[t]!] = average;
    i = j + 1;
  }
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    if (positive[i]) {
      positives++;
      rankSum += rank[i]!;
    }
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) throw new RangeError('AUROC needs both positive and negative examples.');
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
