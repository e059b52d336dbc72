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
