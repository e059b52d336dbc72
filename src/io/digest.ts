/**
 * Row digests: the first ROW_DIGEST_BYTES bytes of each row's sha256. A data fingerprint is made of
 * them (run/plan.ts), so a source read once (data/stream) keeps its rows' digests and never reads its
 * rows again to fingerprint a part of them.
 */
import { createHash } from 'node:crypto';

export const ROW_DIGEST_BYTES = 16;

/** The digests of `rows` rows of `rowBytes` bytes each of `bytes`, written into out from row `at` on. */
export function digestRows(bytes: Uint8Array, rowBytes: number, rows: number, out: Uint8Array, at: number): void {
  for (let r = 0; r < rows; r++) {
    const digest = createHash('sha256').update(bytes.subarray(r * rowBytes, (r + 1) * rowBytes)).digest();
    out.set(digest.subarray(0, ROW_DIGEST_BYTES), (at + r) * ROW_DIGEST_BYTES);
  }
}

/** A typed array's bytes. */
export function bytesOf(values: Uint8Array | Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
