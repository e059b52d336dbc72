/**
 * A saved model folder seen by the commands that take any model: whether it holds a text model
 * (they branch on it first), and a text model described in words (its vocabulary and how it was
 * trained) beside its layer table.
 */
import { loadAnyBundle, type TextBundle } from '../run/bundle.js';
import { SPECIAL_TOKENS } from '../data/text/vocab.js';
import { TextVae } from '../vae/text/model.js';

/**
 * The text model in `dir`, or null when `dir` holds an image or table model, or nothing that loads
 * (the image and table path then reads it again and says what is wrong, in its own order).
 */
export function textModelAt(dir: string | undefined): TextBundle | null {
  if (dir === undefined) return null;
  let bundle: ReturnType<typeof loadAnyBundle>;
  try {
    bundle = loadAnyBundle(dir);
  } catch {
    return null;
  }
  return bundle.vae instanceof TextVae ? bundle as TextBundle : null;
}

/** The most frequent tokens shown by describeVocabulary. */
const SHOWN_TOKENS = 12;

/** A few lines on how the model reads and writes text: its tokenizer, vocabulary, length, classes and training settings. */
export function describeVocabulary(model: TextBundle): string[] {
  const v = model.vocabulary;
  const t = v.tokenizer;
  const words = v.tokens.slice(SPECIAL_TOKENS.length);
  const kind = t.kind === 'bpe' ? `bpe pieces (${(t.merges?.length ?? 0).toLocaleString('en-US')} merges)` : `${t.kind} tokens`;
  const lines = [
    `tokens: ${kind}, ${t.lowercase ? 'lower-cased first' : 'case kept'}`,
    `vocabulary: ${v.size.toLocaleString('en-US')} tokens (${SPECIAL_TOKENS.join(' ')} and ${words.length.toLocaleString('en-US')} from the training text; any other token reads as <unk>)`,
    `${t.kind === 'bpe' ? 'first tokens' : 'most frequent tokens'}: ${words.slice(0, SHOWN_TOKENS).map((w) => JSON.stringify(w)).join(' ')}${words.length > SHOWN_TOKENS ? ' ...' : ''}`,
    `max length: ${model.vae.maxLength} tokens per sentence (longer sentences are cut to it when read)`,
  ];
  if (model.vae.classes > 0) lines.push(`classes: ${model.data.classNames?.join(', ') ?? `0 to ${model.vae.classes - 1}`} (a conditional model)`);
  lines.push(`trained on: ${model.data.source}`);
  const tr = model.training;
  const settings = [
    ['epochs', tr['epochsTrained'] ?? tr['epochs']],
    ['word dropout', tr['wordDropout']],
    ['free bits', tr['freeBits']],
    ['KL warm-up', tr['klWarmup']],
    ['beta', tr['beta']],
  ].filter(([, value]) => typeof value === 'number' || typeof value === 'string').map(([name, value]) => `${String(name)} ${String(value)}`);
  if (settings.length > 0) lines.push(`training: ${settings.join(', ')}`);
  return lines;
}
