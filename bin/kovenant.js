#!/usr/bin/env -S node --v8-pool-size=0
// --v8-pool-size=0: V8's background threads (the optimizing compiler, the garbage
// collector's helpers) number one less than the CPUs, instead of Node's four. The pipeline
// is one busy thread; on a 2-core node four helpers took turns with it on its core while
// the compiler warmed up the decoder, and one helper made a 338 MB replay's median 3-9%
// shorter (README, Performance). `node bin/kovenant.js` without the flag runs the same,
// with Node's four. The image passes 1, its CPU limit's worth (Dockerfile).
// The CLI runs the bundled JavaScript in dist/ (`npm run build`, esbuild through build.mjs,
// which `npm ci` runs through `prepare`): no compiler at run time, so start-up stays fast
// and the image carries no TypeScript toolchain. Tests run the sources
// (test/support/kovenant-source.js). Stack traces still name src/ files and lines, through
// the maps beside the chunks (src/telemetry/stack-traces.ts, which main() installs).
let main;
try {
  ({ main } = await import('../dist/main.js'));
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('/dist/main.js')) throw err;
  process.stderr.write('kovenant: dist/ is missing: run `npm run build` (npm ci and npm install run it for you)\n');
  process.exit(1);
}
process.exitCode = await main(process.argv);
