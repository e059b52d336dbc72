/**
 * An error a user can cause (a bad flag or value, a missing or corrupt file, a wrong image size).
 * The CLI prints its message as one line and exits non-zero, without a stack trace. The message is
 * one sentence that says what is wrong and, where it helps, what to do.
 */
export class VaekitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VaekitError';
  }
}

/**
 * Text from a file, for a message: control characters and quotes escaped (so the message stays on
 * one line) and cut to `max` characters, "..." marking the cut.
 */
export function clip(text: string, max = 60): string {
  const escaped = JSON.stringify(text.slice(0, max)).slice(1, -1);
  return text.length > max ? `${escaped}...` : escaped;
}

/** A size in a message: "2.46 GB", "12.3 MB", "512 bytes". */
export function formatBytes(b: number): string {
  return b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${b} bytes`;
}

/**
 * The library names a setting in its messages and notes by its dotted name: a run spec's field
 * ("model.latent", "data.imageSize", src/run/spec.ts) or another call's option ("eval.samples",
 * "anomaly.normalClass"). Each shell says them in its own words with this: the CLI as flags
 * (src/cli/spec-flags.ts), the studio as its form's fields. A dotted name `words` does not know
 * (a file name, model.safetensors) stays as it is; one inside a path (runs/model.latent) or after a
 * double quote (a field of a spec file the user wrote, "model.latent") is left alone.
 */
export function inOwnWords(text: string, words: (setting: string) => string | null): string {
  return text.replace(/(?<![\w./\\"-])[a-z]+(?:\.[a-zA-Z]\w*)+/g, (name) => words(name) ?? name);
}
