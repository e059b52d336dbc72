/**
 * The studio's words for the settings the library names (src/errors.ts inOwnWords): a run spec's
 * field as the Train form labels it. A setting the form does not show keeps its dotted name, which
 * is the name in the run spec the page sends.
 */
import { inOwnWords } from '../errors.js';

const FORM_FIELDS: Readonly<Record<string, string>> = {
  'data.source': 'Data', 'data.labels': 'Labels file', 'data.labelColumn': 'Label column', 'data.limit': 'Example limit',
  'model.preset': 'Preset', 'model.latent': 'Latent size', 'model.likelihood': 'Likelihood', 'model.conditional': 'Conditional',
  'objective.beta': 'Beta', 'noise.input': 'Noise', 'training.epochs': 'Epochs', 'training.batchSize': 'Batch size',
  'training.learningRate': 'Learning rate', 'training.precision': 'Precision', seed: 'Seed',
};

/** The Train form's label of a setting, or null when the form does not show it. */
export function formFieldOf(setting: string): string | null {
  return Object.hasOwn(FORM_FIELDS, setting) ? FORM_FIELDS[setting]! : null;
}

/** A library message in the page's words: each dotted setting the form shows, by its label. */
export function inFormWords(text: string): string {
  return inOwnWords(text, formFieldOf);
}
