/**
 * k-nearest-neighbour classification: each query takes the majority label of its k nearest
 * reference points (Euclidean), ties broken in favour of the label whose nearest member is
 * nearer. Distances come from one matrix product per block of queries:
 * |q - r|^2 = |q|^2 + |r|^2 - 2 q.r.
 */
import type { Backend } from '../engine/backend.js';

const QUERY_BLOCK = 256;

export function knnAccuracy(backend: Backend, reference: Float32Array, referenceLabels: ArrayLike<number>,
  queries: Float32Array, queryLabels: ArrayLike<number>, dims: number, k: number): number {
  const nRef = reference.length / dims;
  const nQuery = queries.length / dims;
  const refNorms = rowNorms(reference, nRef, dims);
  const dots = new Float32Array(QUERY_BLOCK * nRef);
  const bestDist = new Float64Array(k);
  const bestLabel = new Int32Array(k);
  let correct = 0;
  for (let start = 0; start < nQuery; start += QUERY_BLOCK) {
    const rows = Math.min(QUERY_BLOCK, nQuery - start);
    const block = queries.subarray(start * dims, (start + rows) * dims);
    backend.gemm(false, true, rows, nRef, dims, 1, block, reference, 0, dots);
    const queryNorms = rowNorms(block, rows, dims);
    for (let q = 0; q < rows; q++) {
      bestDist.fill(Infinity);
      bestLabel.fill(-1);
      const o = q * nRef;
      for (let r = 0; r < nRef; r++) {
        insertNeighbour(bestDist, bestLabel, 0, k, queryNorms[q]! + refNorms[r]! - 2 * dots[o + r]!, referenceLabels[r]!);
      }
      if (vote(bestLabel) === queryLabels[start + q]) correct++;
    }
  }
  return correct / nQuery;
}

/**
 * Inserts (distance d, label) into the k nearest so far, kept sorted nearest first in
 * dist[at..at+k) and labels[at..at+k) (fill them with Infinity and -1 to start).
 */
export function insertNeighbour(dist: Float64Array, labels: Int32Array, at: number, k: number, d: number, label: number): void {
  if (d >= dist[at + k - 1]!) return;
  let i = at + k - 1;
  while (i > at && dist[i - 1]! > d) {
    dist[i] = dist[i - 1]!;
    labels[i] = labels[i - 1]!;
    i--;
  }
  dist[i] = d;
  labels[i] = label;
}

export function rowNorms(x: Float32Array, rows: number, dims: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let d = 0; d < dims; d++) s += x[r * dims + d]! * x[r * dims + d]!;
    out[r] = s;
  }
  return out;
}

/** The most frequent label among neighbours sorted nearest first; ties go to the nearest. */
export function vote(labels: Int32Array): number {
  let best = labels[0]!;
  let bestCount = 0;
  for (let i = 0; i < labels.length; i++) {
    let count = 0;
    for (let j = 0; j < labels.length; j++) if (labels[j] === labels[i]) count++;
    if (count > bestCount) {
      best = labels[i]!;
      bestCount = count;
    }
  }
  return best;
}
