#!/usr/bin/env node
// Runs the compiled CLI in dist/ (built by `npm run build`, which `npm ci` runs through `prepare`).
let cli;
try {
  cli = require('../dist/src/cli.js');
} catch (err) {
  if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes('dist/src/cli.js')) throw err;
  console.error('sluice: not built yet: run `npm run build` (`npm ci` does it)');
  process.exit(1);
}
cli.main();
