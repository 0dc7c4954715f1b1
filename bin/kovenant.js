#!/usr/bin/env node
// The CLI runs the compiled JavaScript in dist/ (`npm run build`, which `npm ci` runs
// through `prepare`): no compiler at run time, so start-up stays fast and the image
// carries no TypeScript toolchain. Tests run the sources (test/support/kovenant-source.js).
let main;
try {
  ({ main } = await import('../dist/cli/main.js'));
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('/dist/cli/main.js')) throw err;
  process.stderr.write('kovenant: dist/ is missing: run `npm run build` (npm ci and npm install run it for you)\n');
  process.exit(1);
}
process.exitCode = await main(process.argv);
