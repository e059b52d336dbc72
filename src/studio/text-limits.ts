/**
 * The limits of the Text page's requests (docs/studio.md), in one place for the server that checks
 * them (routes/requests.ts) and the page that offers them (web/src/pages/Text.tsx). Nothing of
 * Node: the page bundles this file.
 */

/** Sentences one samples request decodes. */
export const MAX_TEXT_SAMPLES = 32;
/** The widest beam of beam search. */
export const MAX_BEAM_WIDTH = 16;
/** The highest sampling temperature. */
export const MAX_TEMPERATURE = 5;
/** Nearest sentences one request may ask for. */
export const MAX_NEAREST = 50;
/** Points of an interpolation, both ends included. */
export const INTERPOLATION_STEPS = { min: 5, max: 9, fallback: 7 } as const;
/** Characters of one sentence sent to a text model (the model reads at most its maximum length of tokens of it). */
export const MAX_SENTENCE_CHARS = 10_000;
