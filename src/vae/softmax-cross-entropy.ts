/**
 * The categorical likelihood over a vocabulary, fused with its gradient: for logits l [rows, V]
 * and target ids y [rows],
 *
 *   nll[r] = -log softmax(l_r)[y_r] = logsumexp(l_r) - l_r[y_r]   (max-subtracted, sums in float64)
 *   dL/dl_r = scale_r (softmax(l_r) - onehot(y_r))                  (written in place over the logits
 *                                                                     when dLogits is the logits)
 *
 * with scale_r = gradScale * (rowScale[r], or 1). Rows whose mask is 0 (padding) get nll 0 and a
 * zero gradient. Rows are tokens: a caller who wants per-example sums adds up each example's rows
 * (sumPerExample), and picks gradScale for the reduction it trains on (1 / examples for the mean
 * per example, 1 / tokens for the mean per token).
 */

export interface SoftmaxCrossEntropyArgs {
  /** [rows, vocab] */
  logits: Float32Array;
  /** [rows]: ids in [0, vocab) where the mask is 1 (not read where it is 0). */
  targets: Int32Array;
  rows: number;
  vocab: number;
  /** [rows]: 1 where a row counts, 0 for padding; null: every row counts. */
  mask: Uint8Array | null;
  /** [rows]: written with each row's negative log-likelihood (nats); 0 where masked. */
  rowNll: Float32Array;
  /** [rows, vocab]: the gradient; may be `logits` itself (in place); null: loss only. */
  dLogits: Float32Array | null;
  /** Multiplies every row's gradient. */
  gradScale: number;
  /** [rows]: multiplies row r's gradient too (importance weights); null: 1. */
  rowScale?: Float32Array | null;
}

/** Writes rowNll (and dLogits) as above and returns the sum of rowNll, accumulated in float64. */
export function softmaxCrossEntropy(args: SoftmaxCrossEntropyArgs): number {
  const { logits, targets, rows, vocab: V, mask, rowNll, dLogits, gradScale } = args;
  const rowScale = args.rowScale ?? null;
  if (logits.length < rows * V) throw new Error(`softmaxCrossEntropy: ${rows} x ${V} logits needed, got ${logits.length}.`);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * V;
    if (mask !== null && mask[r] === 0) {
      rowNll[r] = 0;
      dLogits?.fill(0, base, base + V);
      continue;
    }
    const y = targets[r]!;
    if (!(y >= 0 && y < V)) throw new Error(`softmaxCrossEntropy: target ${y} of row ${r} is outside the vocabulary [0, ${V}).`);
    let max = -Infinity;
    for (let j = 0; j < V; j++) if (logits[base + j]! > max) max = logits[base + j]!;
    const target = logits[base + y]!;
    let sum = 0;
    if (dLogits === null) {
      for (let j = 0; j < V; j++) sum += Math.exp(logits[base + j]! - max);
    } else {
      // exp(l - max) kept in the gradient's row, then scaled into softmax - onehot.
      for (let j = 0; j < V; j++) {
        const e = Math.exp(logits[base + j]! - max);
        dLogits[base + j] = e;
        sum += e;
      }
    }
    const nll = max + Math.log(sum) - target;
    rowNll[r] = nll;
    total += nll;
    if (dLogits !== null) {
      const scale = gradScale * (rowScale === null ? 1 : rowScale[r]!);
      const k = scale / sum;
      for (let j = 0; j < V; j++) dLogits[base + j] = dLogits[base + j]! * k;
      dLogits[base + y] = scale * (Math.exp(target - max) / sum - 1);
    }
  }
  return total;
}

/** out[b] = sum over t < time of rowNll[b * time + t]: per-example sums of per-token rows [batch, time]. */
export function sumPerExample(rowNll: Float32Array, batch: number, time: number, out: Float32Array): void {
  for (let b = 0; b < batch; b++) {
    let s = 0;
    for (let t = 0; t < time; t++) s += rowNll[b * time + t]!;
    out[b] = s;
  }
}
