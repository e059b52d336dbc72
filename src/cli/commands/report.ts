import type { Command } from 'commander';

// Placeholder while the command is being written (issue 10); registers nothing yet.
export function register(_program: Command): void {}
