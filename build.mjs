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
// Layout (a contract with src/cli/launcher.ts and src/pipeline/decode-stage.ts), flat:
//   dist/main.js          the entry bin/kovenant.js imports: src/cli/launcher.ts, alone
//   dist/cli.cjs          the whole CLI (src/cli/main.ts), one CommonJS script
//   dist/cli.cjs.cache    V8's code cache of it, recorded below from runs of the example
//   dist/decode-worker.js a decoding thread's entry, found beside cli.cjs by
//                         `new URL('./decode-worker.js', import.meta.url)`
// and each file's map beside it. One script rather than ES module chunks: only a classic
// script takes a code cache on Node 20 (launcher.ts says why it pays). Its modules still
// load lazily: esbuild runs a module loaded by import() only when it is imported.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = import.meta.dirname;
// `node build.mjs [DIR [NAME=SOURCE...]]`: dist/ and kovenant's entries unless told.
// test/cli/build.test.ts builds into a temp dir; `KOVENANT_BENCH_DIST=1 npm run
// bench:decoder` builds the decoders alone, bundled as kovenant's are.
const [outArg, ...entryArgs] = process.argv.slice(2);
const OUT = resolve(outArg ?? join(ROOT, 'dist'));
const BENCH_ENTRIES = entryArgs.length ? Object.fromEntries(entryArgs.map((arg) => arg.split('=', 2))) : undefined;

// Kept in node_modules, loaded only on the paths whose options need them (the code imports
// them lazily): @kubernetes/client-node (watches, k8s-logs), the InfluxDB client (influx
// outputs), prom-client (the metrics server), protobufjs and dns-packet (dnstap). These are
// paths of the long-running daemon, where a one-off load does not matter. Bundled as
// chunks they would load faster (client-node 0.40 s -> 0.20 s, the others ~15 ms each,
// measured alone), but client-node alone is 14.5 MB of bundle and, like protobufjs,
// resolves modules at run time in ways a bundler may silently break; the tests run the
// sources, so a bundling break there would be found by users first.
//
// In the CommonJS bundle their static imports become require(): @kubernetes/client-node
// is an ES module, which require() loads from Node 20.19 on (package.json's engines).
//
// Bundled: what every replay loads (zod, rxjs, commander, lru-cache, yaml, pino). pino's
// worker-thread transports would not work bundled (pino resolves their files from
// __dirname), but kovenant does not use them: the logger (src/telemetry/logger.ts) writes
// with pino.destination, synchronously, in-thread.
const EXTERNAL = ['@kubernetes/client-node', '@influxdata/influxdb-client', 'prom-client', 'protobufjs', 'dns-packet'];

const COMMON = {
  absWorkingDir: ROOT,
  outdir: OUT,
  entryNames: '[name]',
  bundle: true,
  platform: 'node',
  target: 'node20.19',
  external: EXTERNAL,
  // Maps beside the files, pointing at src/, so that stack traces name the sources
  // (src/telemetry/stack-traces.ts reads them when a stack is printed). Without the
  // sources' text: the image has no src/ and the frames need only file and line.
  sourcemap: 'linked',
  sourcesContent: false,
  // Whitespace only (names and code stay as written, so profiles still name functions):
  // fewer bytes for V8 to parse (1.33 -> 0.90 MB of chunks, a third less): the example
  // replay started ~9 ms sooner (40 alternating runs: best 239 -> 230 ms, median 258 ->
  // 250), before the code cache. Stack traces still name src/ lines through the maps.
  minifyWhitespace: true,
  logLevel: 'warning',
};
// Bundled CommonJS (commander, pino) calls require() for Node's built-ins, which an ES
// module does not have.
const ESM_REQUIRE = {
  js: "import { createRequire as __kovenantRequire } from 'node:module'; const require = __kovenantRequire(import.meta.url);",
};

/** How long recording the code cache may take (both runs take well under a second). */
const RECORD_TIMEOUT_MS = 120_000;

rmSync(OUT, { recursive: true, force: true });
if (BENCH_ENTRIES) {
  await build({ ...COMMON, entryPoints: BENCH_ENTRIES, chunkNames: '[name]-[hash]', splitting: true, format: 'esm', banner: ESM_REQUIRE });
} else {
  await build({
    ...COMMON,
    entryPoints: { main: 'src/cli/launcher.ts', 'decode-worker': 'src/pipeline/decode-worker.ts' },
    format: 'esm',
    banner: ESM_REQUIRE,
  });
  await build({
    ...COMMON,
    entryPoints: { cli: 'src/cli/main.ts' },
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    // The modules' own URL (the worker's and the examples' paths are relative to it),
    // which a CommonJS script knows as __filename.
    define: { 'import.meta.url': '__kovenantModuleUrl' },
    banner: { js: "const __kovenantModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  recordCodeCache();
}

/**
 * dist/cli.cjs.cache: in a process of its own, started as users start one, a replay of
 * the bundled example and then the daemon on the same events (`run --events -`, the
 * example as its stdin); then the bytecode of every function the two compiled, written by
 * the launcher. Commands and options beyond those compile as they are first called, as
 * they would without a cache.
 */
function recordCodeCache() {
  const launcher = pathToFileURL(join(OUT, 'main.js')).href;
  const example = join(ROOT, 'examples/events.jsonl.gz');
  const snapshot = join(ROOT, 'examples/snapshot.json');
  const runs = [
    ['replay', example, '--kube', snapshot, '--out', '/dev/null', '--no-summary'],
    ['run', '--events', '-', '--output', 'line', '--out', '/dev/null', '--kube', snapshot, '--metrics-addr', 'off'],
  ];
  const record =
    `const launcher = await import(${JSON.stringify(launcher)});\n` +
    `for (const args of ${JSON.stringify(runs)}) {\n` +
    '  const code = await launcher.main([process.execPath, "kovenant", ...args]);\n' +
    '  if (code !== 0) throw new Error(`kovenant ${args[0]} of the example exited ${code}`);\n' +
    '}\n' +
    'launcher.writeCodeCache();\n';
  if (!existsSync(example) || !existsSync(snapshot))
    throw new Error(`build.mjs: recording dist/cli.cjs.cache replays ${example} against ${snapshot}: copy examples/ beside build.mjs`);
  const stdin = openSync(example, 'r');
  // The daemon's log lines are kept from the build's output unless the recording fails;
  // the bound keeps a hang from stalling `npm ci`.
  const r = spawnSync(process.execPath, ['--input-type=module', '--eval', record], {
    cwd: ROOT,
    stdio: [stdin, 'ignore', 'pipe'],
    timeout: RECORD_TIMEOUT_MS,
  });
  closeSync(stdin);
  if (r.status !== 0) {
    const how = r.error?.code === 'ETIMEDOUT' ? `did not end within ${RECORD_TIMEOUT_MS / 1000} s` : `exit ${r.status ?? r.signal}`;
    throw new Error(`build.mjs: recording dist/cli.cjs.cache failed (${how}):\n${r.stderr}`);
  }
}
