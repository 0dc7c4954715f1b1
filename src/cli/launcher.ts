/**
 * The compiled CLI's entry (dist/main.js, what bin/kovenant.js imports): it runs the
 * bundle dist/cli.cjs through V8's code cache, dist/cli.cjs.cache, which `npm run build`
 * records from a replay and a daemon run of the bundled example (build.mjs).
 *
 * Why: compiling is most of a start. Node 20 keeps no compile cache for ES modules
 * (`module.enableCompileCache` came with Node 22), so every start parsed and compiled the
 * chunks again, and then each function on its first call. A `vm.Script` given the cache
 * deserializes the bytecode of every function the recorded runs compiled instead: a
 * replay of 40 events started in 138 ms instead of 194 (best of 12 alternating runs;
 * `node -e 0` 76 ms), and the whole 338 MB busy-node replay took 0.85-0.90 s instead of
 * 0.90-0.98 s (five alternating runs each; README, Start-up). The bundle is CommonJS
 * because only a classic script takes a cache without `--experimental-vm-modules`.
 *
 * Nothing here imports the rest of kovenant: this module must stay a few lines of start-up.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const BUNDLE = fileURLToPath(new URL('./cli.cjs', import.meta.url));
const CACHE = `${BUNDLE}.cache`;

interface CliModule {
  main(argv: readonly string[]): Promise<number>;
}

let script: vm.Script | undefined;
let cacheGiven = false;

/**
 * The cache recorded from exactly these bytes, else undefined. V8 itself checks only its
 * version, its flags and the source's length: a cache of another build of the same
 * length would be taken, and run that build's bytecode. So a cache file starts with a
 * copy of the bundle it was recorded from, compared whole (one memcmp of ~1 MB, ~0.1 ms):
 * exact, and without node:crypto, whose loading for a SHA-256 cost every start ~5 ms.
 */
function cacheFor(bundle: Buffer): Buffer | undefined {
  let cache: Buffer;
  try {
    cache = readFileSync(CACHE);
  } catch {
    return undefined; // not recorded (a build that could not run the example): compiled as usual
  }
  return cache.length > bundle.length && cache.subarray(0, bundle.length).equals(bundle) ? cache.subarray(bundle.length) : undefined;
}

/** Runs the command line `argv`; its exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const source = readFileSync(BUNDLE);
  // A cache V8 rejects (another Node version, a V8 flag such as --max-old-space-size)
  // costs nothing but the compile it would have saved.
  const cachedData = cacheFor(source);
  cacheGiven = cachedData !== undefined;
  script = new vm.Script(Module.wrap(source.toString('utf8')), {
    filename: BUNDLE,
    cachedData,
    // Dynamic import() in the bundle resolves as in any module of the process.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} as CliModule };
  const wrapper = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: { exports: CliModule },
    filename: string,
    dirname: string,
  ) => void;
  wrapper(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  return module.exports.main(argv);
}

/** Whether `main` ran the bundle from its code cache: one recorded from these bytes, and V8 took it. */
export function ranFromCodeCache(): boolean {
  return cacheGiven && script?.cachedDataRejected === false;
}

/**
 * Records the code cache of the bundle as `main` ran it (build.mjs calls it after a
 * replay and a daemon run): the bytecode of every function compiled so far, behind a
 * copy of the bundle, read again here rather than held by every run for this build step.
 */
export function writeCodeCache(): void {
  if (!script) throw new Error('writeCodeCache: main has not run');
  writeFileSync(CACHE, Buffer.concat([readFileSync(BUNDLE), script.createCachedData()]));
}
