/**
 * A text corpus larger than the memory budget (load.ts): read once, a chunk at a time, by the
 * readers that load text in memory (data/text/read.ts: the same checks and messages), each example's
 * text written as UTF-8 into a removed scratch file (data/text/texts.ts reads it back, one text at a
 * time); then split into tokens by the vocabulary (built from those texts, as loading builds it, or
 * a trained model's) and the ids written, example after example, into a second scratch file, from
 * which the reading threads make rows as textDataset makes them (rows.ts: cut or padded to the
 * width). In memory stay each example's length, id and label, and where its text and ids start.
 */
import type { Dataset, ExampleIds } from '../dataset.js';
import { bytesOf } from '../../io/digest.js';
import type { TextReadOptions } from '../sources/text.js';
import { checkMaxLength, checkTextWidth } from '../text/encode.js';
import { closeTextsFile, textsInFile, textsOnlySet, type Texts } from '../text/texts.js';
import { visitTextData } from '../text/read.js';
import { buildVocabulary, type Vocabulary } from '../text/vocab.js';
import { RowPool } from './pool.js';
import { Appender } from './scratch-file.js';
import { openedDataset } from './streamed.js';
import { withRoom } from '../../io/grow.js';

/** Numbers appended one at a time, in a typed array that grows. */
class Float64List {
  private values = new Float64Array(1 << 12);
  length = 0;

  push(value: number): void {
    this.values = withRoom(this.values, this.length + 1);
    this.values[this.length++] = value;
  }

  /** The values, copied into memory the reading threads share when `shared`. */
  finish(shared = false): Float64Array {
    const out = new Float64Array(shared ? new SharedArrayBuffer(this.length * 8) : new ArrayBuffer(this.length * 8));
    out.set(this.values.subarray(0, this.length));
    return out;
  }
}

/** The examples at `path` (see data/text/read.ts) as a streamed set of rows of token ids; `chunkBytes`: a file read at once. */
export async function streamText(path: string, options: TextReadOptions, chunkBytes?: number): Promise<Dataset> {
  checkMaxLength(options.maxLength);
  const texts = new Appender('texts', path);
  const starts = new Float64List();
  const lines = new Float64List();
  const names: string[] = [];
  const encoder = new TextEncoder();
  let parts;
  try {
    parts = await visitTextData(path, {
      ...(options.textColumn !== undefined ? { textColumn: options.textColumn } : {}),
      ...(options.labelColumn !== undefined ? { labelColumn: options.labelColumn } : {}),
      ...(chunkBytes !== undefined ? { chunkBytes } : {}),
    }, (text, id) => {
      starts.push(texts.bytes);
      texts.append(encoder.encode(text));
      if (typeof id === 'number') lines.push(id);
      else names.push(id);
    });
    starts.push(texts.bytes);
    texts.flush();
  } catch (err) {
    texts.close();
    throw err;
  }
  const file = { fd: texts.fd, starts: starts.finish() };
  const all = textsInFile(file);
  const numbers = names.length === 0 ? lines.finish() : null;
  const ids: ExampleIds = numbers !== null ? (i) => String(numbers[i]!) : (i) => names[i]!;
  if (options.textsOnly === true) return textsOnlySet(all, { kind: options.tokens, lowercase: options.lowercase }, { labels: parts.labels, labelNames: parts.labelNames, source: parts.source, ids });
  try {
    const vocabulary = options.vocabulary ?? buildVocabulary(all, { kind: options.tokens, lowercase: options.lowercase }, options.vocab, parts.source);
    return await encodeStreamed(all, vocabulary, options.maxLength, { labels: parts.labels, labelNames: parts.labelNames, source: parts.source, ids });
  } catch (err) {
    closeTextsFile(file);
    throw err;
  }
}

/**
 * `texts` as a streamed set of rows of `vocabulary`'s token ids, `maxLength` wide (else as wide as
 * the longest example), with the labels, names and ids of `parts`; as textDataset makes the same
 * texts' rows in memory.
 */
export async function encodeStreamed(
  texts: Texts,
  vocabulary: Vocabulary,
  maxLength: number | undefined,
  parts: { labels: Int32Array | null; labelNames: readonly string[] | null; source: string; ids: ExampleIds | undefined },
): Promise<Dataset> {
  checkMaxLength(maxLength);
  const file = new Appender('token ids', parts.source);
  const count = texts.length;
  const starts = new Float64List();
  const lengths = new Int32Array(count);
  let longest = 0;
  try {
    let i = 0;
    for (const text of texts) {
      const ids = vocabulary.encode(text);
      starts.push(file.bytes / 4);
      file.append(bytesOf(ids));
      lengths[i++] = ids.length;
      longest = Math.max(longest, ids.length);
    }
    starts.push(file.bytes / 4);
    file.flush();
    checkTextWidth(maxLength ?? longest, parts.source, vocabulary);
  } catch (err) {
    file.close();
    throw err;
  }
  const width = maxLength ?? longest;
  let cut = 0;
  for (let i = 0; i < count; i++) {
    if (lengths[i]! > width) {
      cut++;
      lengths[i] = width;
    }
  }
  // The pool owns the file from here: it closes it when it stops, or fails to start. One thread:
  // a row is a read and a copy, with nothing to decode, and each thread is a JavaScript engine of
  // its own (tens of MB), which a training run's two parts, and the corpus they were split from, each start.
  const pool = await RowPool.start({ kind: 'tokens', path: parts.source, fd: file.fd, starts: starts.finish(true), width }, parts.source, 1);
  return openedDataset(pool, {
    count, shape: [width], labels: parts.labels, labelNames: parts.labelNames, featureNames: null, source: parts.source, ids: parts.ids,
    text: { vocabulary, lengths, texts, cut },
  });
}
