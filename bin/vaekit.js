#!/usr/bin/env node
// The vaekit command: runs the compiled CLI from dist/ (built by `npm ci` through the prepare script).
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist')) {
    process.stderr.write('error: vaekit is not built; run "npm ci" (or "npm run build") in its folder first.\n');
    process.exit(1);
  }
  throw err;
}
await cli.main(process.argv);
