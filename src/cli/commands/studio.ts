import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { say } from '../options.js';

/** The studio's port unless --port says otherwise (server.ts' DEFAULT_PORT; the server is loaded only when the command runs). */
const DEFAULT_PORT = 7860;

interface StudioFlags {
  port: number;
  runs: string;
  dataRoot?: string[];
  token?: string;
}

function portValue(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535) throw new InvalidArgumentError('It must be a port number from 0 to 65535 (0: any free port).');
  return n;
}

function collect(value: string, earlier: string[] | undefined): string[] {
  return [...(earlier ?? []), value];
}

/** Resolves on the first SIGINT or SIGTERM; a second one ends the process at once. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export function register(program: Command): void {
  program.command('studio')
    .description('the local web app: train, watch, explore and export models in a browser (on 127.0.0.1, behind a session token; never opens a browser itself)')
    .option('--port <n>', 'port on 127.0.0.1 (0: any free port)', portValue, DEFAULT_PORT)
    .option('--runs <dir>', 'the folder of the studio\'s runs', 'runs/studio')
    .option('--data-root <dir>', 'a folder the studio may read data from (repeat for more; default: the current folder)', collect)
    .option('--token <token>', 'the session token, 16 to 256 letters, digits, ".", "_", "~" or "-" (default: the one kept in the runs folder, made on the first start)')
    .action(async (flags: StudioFlags) => {
      const { defaultWebDir, startStudio } = await import('../../studio/server.js');
      const studio = await startStudio({
        port: flags.port, runsDir: flags.runs, ...(flags.dataRoot !== undefined ? { dataRoots: flags.dataRoot } : {}), ...(flags.token !== undefined ? { token: flags.token } : {}),
      });
      say(`vaekit studio: open ${studio.url} in a browser (Ctrl-C stops it)`);
      // The address is the one line on stdout (scripts read it); where the token is goes to stderr.
      process.stderr.write(studio.tokenFile !== null
        ? `vaekit studio: the session token is kept in ${studio.tokenFile}, so open tabs stay signed in across restarts (delete the file for a new one)\n`
        : 'vaekit studio: the session token is the one given with --token\n');
      if (!existsSync(join(defaultWebDir(), 'index.html'))) {
        process.stderr.write('note: the web UI is not built, so only the API answers: run npm run build\n');
      }
      await untilSignal();
      process.stderr.write('vaekit studio: stopping (a running training keeps its checkpoint)\n');
      await studio.close();
      process.exitCode = 0;
    });
}
