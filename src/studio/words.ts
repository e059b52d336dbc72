/**
 * The studio's words for the settings the library names (src/errors.ts inOwnWords): a run spec's
 * field by the label the Train form gives it (web/src/pages/Train.tsx takes its labels from here,
 * so a message and the form say the same). Batch size and learning rate are not on the form; the
 * Models page shows them by these names. Any other setting keeps its dotted name, which is the name
 * in the run spec the page sends.
 */
import { inOwnWords } from '../errors.js';

export const FORM_LABELS = {
  'data.source': 'Data', 'data.labels': 'Labels', 'data.labelColumn': 'Label column', 'data.limit': 'First N examples',
  'model.preset': 'Preset', 'model.latent': 'Latent size', 'model.likelihood': 'Likelihood', 'model.conditional': 'Conditional on the label',
  'objective.beta': 'β (KL weight)', 'objective.freeBits': 'Free bits', 'objective.klWarmup': 'KL warm-up',
  'noise.input': 'Noise', 'training.epochs': 'Epochs', 'training.batchSize': 'Batch size',
  'training.learningRate': 'Learning rate', 'training.precision': 'Precision', seed: 'Seed',
} as const;

/** The studio's label of a setting, or null when it has none. */
export function formFieldOf(setting: string): string | null {
  return Object.hasOwn(FORM_LABELS, setting) ? FORM_LABELS[setting as keyof typeof FORM_LABELS] : null;
}

/** A library message in the page's words: each dotted setting the form shows, by its label. */
export function inFormWords(text: string): string {
  return inOwnWords(text, formFieldOf);
}
