// `npm run build`: src/ bundled by esbuild into a flat dist/ (what bin/kovenant.js and the
// image run). `npm run typecheck` (tsc --noEmit) checks the types; esbuild only strips them.
//
// Why a bundle rather than tsc's one file per module: start-up. A replay loaded ~190 ES
// modules from dist/ and node_modules, 94 of them zod's (all its locales, which zod's
// `export * as locales` pulls in at run time); bundled, zod's unused exports (the locales
// among them) are shaken out and the modules come in a few files. Measured on a tiny
// replay (40 events), best of 20 alternating runs: +0.177 s over `node -e 0` with tsc's
// output, +0.095 s bundled (see the README, "Start-up").
//
// Layout (a contract with src/pipeline/decode-stage.ts): every entry and every chunk sits
// directly in dist/, so `new URL('./decode-worker.js', import.meta.url)` from whichever
// chunk the stage lands in finds the worker entry.
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = import.meta.dirname;
// `node build.mjs [DIR [NAME=SOURCE...]]`: dist/ and kovenant's entries unless told.
// test/cli/build.test.ts builds into a temp dir; `KOVENANT_BENCH_DIST=1 npm run
// bench:decoder` builds the decoders alone, bundled as kovenant's are.
const [outArg, ...entryArgs] = process.argv.slice(2);
const OUT = resolve(outArg ?? join(ROOT, 'dist'));
const ENTRIES = entryArgs.length
  ? Object.fromEntries(entryArgs.map((arg) => arg.split('=', 2)))
  : { main: 'src/cli/main.ts', 'decode-worker': 'src/pipeline/decode-worker.ts' };

// Kept in node_modules, loaded only on the paths whose options need them (the code imports
// them lazily): @kubernetes/client-node (watches, k8s-logs), the InfluxDB client (influx
// outputs), prom-client (the metrics server), protobufjs and dns-packet (dnstap). These are
// paths of the long-running daemon, where a one-off load does not matter. Bundled as
// chunks they would load faster (client-node 0.40 s -> 0.20 s, the others ~15 ms each,
// measured alone), but client-node alone is 14.5 MB of bundle and, like protobufjs,
// resolves modules at run time in ways a bundler may silently break; the tests run the
// sources, so a bundling break there would be found by users first.
//
// Bundled: what every replay loads (zod, rxjs, commander, lru-cache, yaml, pino). pino is
// CommonJS (~30 files, ~20 ms to require); its worker-thread transports would not work
// bundled (pino resolves their files from __dirname), but kovenant does not use them: the
// logger (src/telemetry/logger.ts) writes with pino.destination, synchronously, in-thread.
const EXTERNAL = ['@kubernetes/client-node', '@influxdata/influxdb-client', 'prom-client', 'protobufjs', 'dns-packet'];

rmSync(OUT, { recursive: true, force: true });
await build({
  absWorkingDir: ROOT,
  entryPoints: ENTRIES,
  outdir: OUT,
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.12',
  external: EXTERNAL,
  // Bundled CommonJS (commander, pino) calls require() for Node's built-ins, which an ES
  // module does not have.
  banner: { js: "import { createRequire as __kovenantRequire } from 'node:module'; const require = __kovenantRequire(import.meta.url);" },
  // Maps beside the chunks, pointing at src/, so that stack traces name the sources
  // (src/telemetry/stack-traces.ts reads them when a stack is printed). Without the
  // sources' text: the image has no src/ and the frames need only file and line.
  sourcemap: 'linked',
  sourcesContent: false,
  // Whitespace only (names and code stay as written, so profiles still name functions):
  // fewer bytes for V8 to parse at every start (1.33 -> 0.90 MB of chunks, a third less): the
  // example replay started ~9 ms sooner (40 alternating runs: best 239 -> 230 ms, median
  // 258 -> 250). Stack traces still name src/ lines through the maps.
  minifyWhitespace: true,
  logLevel: 'warning',
});
