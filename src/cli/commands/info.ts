import type { Command } from 'commander';
import { getBackend } from '../../engine/index.js';
import { say } from '../options.js';

export function register(program: Command): void {
  program.command('info')
    .description('print the compute backend in use, whether OpenBLAS was found, and the thread count')
    .action(() => {
      const info = getBackend().info();
      say(`backend: ${info.backend}`);
      say(`openblas: ${info.blas === 'openblas' ? 'yes' : 'no'}`);
      say(`matrix products: ${info.blas === 'openblas' ? 'OpenBLAS cblas_sgemm' : info.blas === 'portable' ? 'bundled portable kernel' : 'TypeScript'}`);
      say(`threads: ${info.threads}`);
      if (info.note !== undefined) say(`note: ${info.note}`);
      say('(set VAEKIT_BACKEND=js to force the js backend)');
    });
}
