/**
 * A text file's bytes as a string, or one sentence saying why they are not UTF-8 text: a NUL byte
 * (a binary file, or UTF-16 text), or bytes that are not valid UTF-8 (the first one's byte offset
 * and line are named). A UTF-8 byte-order mark is dropped.
 */
import { readSync } from 'node:fs';
import { VaekitError } from '../../errors.js';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The text of `bytes`, read from `path` (named in the messages). */
export function decodeUtf8Text(bytes: Uint8Array, path: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new VaekitError(`${path} is UTF-16 text; vaekit reads UTF-8, so convert it first (for example: iconv -f UTF-16 -t UTF-8).`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw binaryFile(path, nul, lineAt(bytes, nul));
  try {
    return decoder.decode(bytes); // drops a UTF-8 byte-order mark
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new VaekitError(`${path} is not valid UTF-8 (byte offset ${at.toLocaleString('en-US')}, line ${lineAt(bytes, at)}); save it as UTF-8 text.`);
  }
}

/** The 1-based line that byte `offset` is on: one more than the newlines before it. */
function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/**
 * The offset of the first byte that does not start or continue a valid UTF-8 sequence (WHATWG's
 * rules: no overlong forms, no surrogates, nothing above U+10FFFF), or bytes.length when all are valid.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let low = 0x80;
    let high = 0xbf; // the allowed range of the second byte
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) low = 0xa0; // overlong
      if (b === 0xed) high = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) low = 0x90; // overlong
      if (b === 0xf4) high = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < low || c > high : c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return bytes.length;
}

/** Bytes of a file read at once by utf8Chunks. */
const CHUNK_BYTES = 4 << 20;

/**
 * The text of the open file `fd` (read from `path`), `chunkBytes` at a time, as decodeUtf8Text reads
 * a file whole: the same text, in pieces, and the same sentence for a UTF-16 file, a NUL byte or
 * bytes that are not UTF-8, with their byte offset and line in the whole file. As decodeUtf8Text,
 * it names a NUL byte anywhere in the file before bytes that are not UTF-8: it reads the rest of the
 * file for one before it names those.
 */
export function* utf8Chunks(fd: number, path: string, chunkBytes = CHUNK_BYTES): Generator<string> {
  const chunk = Buffer.allocUnsafe(Math.max(4, chunkBytes));
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let offset = 0; // bytes read before this chunk
  let lines = 1; // the line this chunk starts on
  let carry = new Uint8Array(0); // the previous chunk's incomplete last sequence, which the decoder holds
  for (;;) {
    let n = 0;
    for (let k = -1; k !== 0 && n < chunk.length; n += k) k = readSync(fd, chunk, n, chunk.length - n, offset + n);
    const bytes = chunk.subarray(0, n);
    if (offset === 0 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
      throw new VaekitError(`${path} is UTF-16 text; vaekit reads UTF-8, so convert it first (for example: iconv -f UTF-16 -t UTF-8).`);
    }
    const nul = bytes.indexOf(0);
    if (nul >= 0) throw binaryFile(path, offset + nul, lines + lineAt(bytes, nul) - 1);
    let text: string;
    try {
      text = n === 0 ? decoder.decode() : decoder.decode(bytes, { stream: true });
    } catch {
      // The carried bytes start a sequence and hold no newline.
      const joined = new Uint8Array(carry.length + n);
      joined.set(carry);
      joined.set(bytes, carry.length);
      const at = firstInvalidUtf8(joined);
      // A NUL byte further on is named first, as decodeUtf8Text names it.
      let line = lines + lineAt(bytes, n) - 1;
      for (let from = offset + n, k = -1; k !== 0; from += k) {
        k = readSync(fd, chunk, 0, chunk.length, from);
        const later = chunk.subarray(0, k).indexOf(0);
        if (later >= 0) throw binaryFile(path, from + later, line + lineAt(chunk, later) - 1);
        line += lineAt(chunk, k) - 1;
      }
      throw new VaekitError(`${path} is not valid UTF-8 (byte offset ${(offset - carry.length + at).toLocaleString('en-US')}, line ${lines + lineAt(joined, at) - 1}); save it as UTF-8 text.`);
    }
    if (n === 0) {
      if (text.length > 0) yield text;
      return;
    }
    // The bytes the decoder now holds: an unfinished sequence at the end of what it was given so far.
    const recent = new Uint8Array(carry.length + Math.min(3, n));
    recent.set(carry);
    recent.set(bytes.subarray(n - Math.min(3, n)), carry.length);
    carry = recent.slice(recent.length - incompleteTail(recent));
    lines += lineAt(bytes, n) - 1;
    offset += n;
    if (text.length > 0) yield text;
  }
}

/** The sentence for a NUL byte at `offset`, on `line`, of the file `path`. */
function binaryFile(path: string, offset: number, line: number): VaekitError {
  return new VaekitError(`${path} looks like a binary file, not text (a NUL byte at byte offset ${offset.toLocaleString('en-US')}, line ${line}); give a UTF-8 text file.`);
}

/** How many of the last bytes of `bytes` begin a UTF-8 sequence that they do not finish (0 to 3). */
function incompleteTail(bytes: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, bytes.length); k++) {
    const b = bytes[bytes.length - k]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > k ? k : 0;
  }
  return 0;
}
