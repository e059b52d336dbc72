/**
 * Every example's text, as a text set keeps it for output files and pages (TextInfo.texts): a list
 * in memory, or, for a corpus larger than memory (data/stream/text.ts), UTF-8 in a file that was
 * removed as soon as it was made, read one text at a time. A view (a subset's) picks from its
 * parent's and shares its file.
 */
import { closeSync } from 'node:fs';
import { readExactly } from '../../io/fs-errors.js';
import { arrayDataset, type Dataset, type ExampleIds } from '../dataset.js';
import type { TokenizerSettings } from './tokenize.js';
import { SPECIAL_TOKENS, Vocabulary } from './vocab.js';

export interface Texts extends Iterable<string> {
  readonly length: number;
  /** Whether they are read from a file (a corpus that streams) rather than held in memory. */
  readonly onDisk: boolean;
  /** Example i's text. */
  text(i: number): string;
  /** The texts of examples `indices`, in that order. */
  pick(indices: ArrayLike<number>): Texts;
}

/** A set of texts not split into tokens yet (TextReadOptions.textsOnly), with `parts`' labels, names, source and ids. */
export function textsOnlySet(texts: Texts, tokenizer: TokenizerSettings, parts: { labels: Int32Array | null; labelNames: readonly string[] | null; source: string; ids: ExampleIds }): Dataset {
  return arrayDataset({
    values: new Float32Array(texts.length), shape: [1], ...parts,
    text: { vocabulary: new Vocabulary(tokenizer, SPECIAL_TOKENS), lengths: new Int32Array(texts.length), texts, cut: 0 },
  });
}

/** Texts held in memory. */
export function textsInMemory(list: readonly string[]): Texts {
  return {
    length: list.length,
    onDisk: false,
    text: (i) => list[i]!,
    pick: (indices) => textsInMemory(Array.from(indices, (i) => list[i]!)),
    [Symbol.iterator]: () => list[Symbol.iterator](),
  };
}

/** An open file of UTF-8 texts, and where each one starts (byte offsets, one more than texts: the end). */
export interface TextsFile {
  fd: number;
  starts: Float64Array;
}

/** Bytes read at once by a pass over the texts in order. */
const WINDOW_BYTES = 4 << 20;

// The file is closed once no set reads it any more.
const files = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // closed already
  }
});

/** The texts of `file`, all in order; the texts own it: it is closed once no view of them is left. */
export function textsInFile(file: TextsFile): Texts {
  files.register(file, file.fd, file);
  return new FileTexts(file, null);
}

/** Closes the file of texts a failed read leaves (no view of them is used again). */
export function closeTextsFile(file: TextsFile): void {
  files.unregister(file);
  closeSync(file.fd);
}

class FileTexts implements Texts {
  readonly length: number;
  readonly onDisk = true;

  /** `map` picks the file's texts (null: all, in order). */
  constructor(private readonly file: TextsFile, private readonly map: Uint32Array | null) {
    this.length = map === null ? file.starts.length - 1 : map.length;
  }

  text(i: number): string {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`texts: example ${i} is out of range (0..${this.length - 1}).`);
    const k = this.map === null ? i : this.map[i]!;
    const start = this.file.starts[k]!;
    const bytes = Buffer.allocUnsafe(this.file.starts[k + 1]! - start);
    readExactly(this.file.fd, bytes, start, 'The file of texts');
    return bytes.toString('utf8');
  }

  pick(indices: ArrayLike<number>): Texts {
    const map = Uint32Array.from(indices, (i) => {
      if (!(i >= 0 && i < this.length)) throw new RangeError(`texts: example ${i} is out of range (0..${this.length - 1}).`);
      return this.map === null ? i : this.map[i]!;
    });
    return new FileTexts(this.file, map);
  }

  /** The texts in order; where they lie in the file in order too (all, or a sorted subset), read a window of the file at a time. */
  *[Symbol.iterator](): Generator<string> {
    const { starts, fd } = this.file;
    const window = Buffer.allocUnsafe(WINDOW_BYTES);
    let from = 0; // the file's bytes [from, to) are in the window
    let to = 0;
    let last = -1;
    for (let i = 0; i < this.length; i++) {
      const k = this.map === null ? i : this.map[i]!;
      const start = starts[k]!;
      const end = starts[k + 1]!;
      if (k < last || end - start > WINDOW_BYTES) {
        yield this.text(i);
        continue;
      }
      last = k;
      if (start < from || end > to) {
        from = start;
        to = Math.min(starts[starts.length - 1]!, start + WINDOW_BYTES);
        readExactly(fd, window.subarray(0, to - from), from, 'The file of texts');
      }
      yield window.toString('utf8', start - from, end - from);
    }
  }
}
