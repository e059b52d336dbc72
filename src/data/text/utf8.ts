/**
 * A text file's bytes as a string, or one sentence saying why they are not UTF-8 text: a NUL byte
 * (a binary file, or UTF-16 text), or bytes that are not valid UTF-8 (the first one's byte offset
 * and line are named). A UTF-8 byte-order mark is dropped.
 */
import { VaekitError } from '../../errors.js';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The text of `bytes`, read from `path` (named in the messages). */
export function decodeUtf8Text(bytes: Uint8Array, path: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new VaekitError(`${path} is UTF-16 text; vaekit reads UTF-8, so convert it first (for example: iconv -f UTF-16 -t UTF-8).`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    throw new VaekitError(`${path} looks like a binary file, not text (a NUL byte at byte offset ${nul.toLocaleString('en-US')}, line ${lineAt(bytes, nul)}); give a UTF-8 text file.`);
  }
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
