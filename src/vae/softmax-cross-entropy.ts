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
import type { Backend } from '../engine/backend.js';
import { getBackend } from '../engine/index.js';

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
  /** The backend whose softmaxCrossEntropy kernel runs it (default: the process-wide one). */
  backend?: Backend;
}

/**
 * Writes rowNll (and dLogits) as above and returns the sum of rowNll, accumulated in float64: the
 * backend's fused softmaxCrossEntropy kernel, which throws a RangeError on a target outside the
 * vocabulary before writing anything.
 */
export function softmaxCrossEntropy(args: SoftmaxCrossEntropyArgs): number {
  const { logits, targets, rows, vocab: V, mask, rowNll, dLogits, gradScale } = args;
  if (logits.length < rows * V) throw new Error(`softmaxCrossEntropy: ${rows} x ${V} logits needed, got ${logits.length}.`);
  const backend = args.backend ?? getBackend();
  return backend.softmaxCrossEntropy(logits, targets, mask, rows, V, rowNll, dLogits, gradScale, args.rowScale ?? null);
}

/** out[b] = sum over t < time of rowNll[b * time + t]: per-example sums of per-token rows [batch, time]. */
export function sumPerExample(rowNll: Float32Array, batch: number, time: number, out: Float32Array): void {
  for (let b = 0; b < batch; b++) {
    let s = 0;
    for (let t = 0; t < time; t++) s += rowNll[b * time + t]!;
    out[b] = s;
  }
}
