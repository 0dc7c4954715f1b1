/**
 * The bundled build as users run it: `npm run build`'s script (build.mjs, esbuild) emitted
 * into a temp directory laid out like the package (bin/kovenant.js beside dist/), then the
 * real bin run on the bundled example. Built here rather than read from the worktree's
 * dist/, so the test never passes on a stale build; the other tests run the sources.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_REPLAY, REPO, cliOutput, runCli } from '../support/cli.ts';

const run = promisify(execFile);
let root: string;

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.c?js$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'kovenant-build-'));
  mkdirSync(join(root, 'bin'));
  copyFileSync(join(REPO, 'bin', 'kovenant.js'), join(root, 'bin', 'kovenant.js'));
  copyFileSync(join(REPO, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  symlinkSync(join(REPO, 'examples'), join(root, 'examples'));
  await run(process.execPath, [join(REPO, 'build.mjs'), join(root, 'dist')], { cwd: REPO });
  // A module-load hook that appends every URL Node loads as an ES module to a file, and at
  // exit every file require() loaded (the CLI bundle is CommonJS; its externals come
  // through require(), which Node 20's hooks do not see): what a command pulls in.
  writeFileSync(
    join(root, 'load-hooks.mjs'),
    "import { appendFileSync } from 'node:fs';\n" +
      'let log;\nexport function initialize(data) { log = data.log; }\n' +
      "export async function load(url, context, next) { appendFileSync(log, url + '\\n'); return next(url, context); }\n",
  );
  writeFileSync(
    join(root, 'log-loads.mjs'),
    "import { appendFileSync } from 'node:fs';\n" +
      "import { createRequire, register } from 'node:module';\n" +
      'const log = process.env.KOVENANT_TEST_LOAD_LOG;\n' +
      "register('./load-hooks.mjs', import.meta.url, { data: { log } });\n" +
      'const { cache } = createRequire(import.meta.url);\n' +
      "process.on('exit', () => appendFileSync(log, Object.keys(cache).map((f) => f + '\\n').join('')));\n",
  );
}, 180_000);

/** The URLs (ES modules) and paths (CommonJS) of the modules `kovenant ARGS` (the build) loads. */
async function loadedBy(args: string[], stdin?: string): Promise<string[]> {
  const log = join(root, `loads-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(log, '');
  const r = await runCli(args, {
    bin: join(root, 'bin/kovenant.js'),
    nodeArgs: ['--import', join(root, 'log-loads.mjs')],
    env: { KOVENANT_TEST_LOAD_LOG: log },
    ...(stdin === undefined ? {} : { stdin }),
  });
  expect(r.code, r.stderr).toBe(0);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

/** The packages of node_modules among `urls`. */
function packagesOf(urls: readonly string[]): Set<string> {
  const names = urls.map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((n): n is string => n !== undefined);
  return new Set(names);
}

const HEAVY = ['@kubernetes/client-node', '@influxdata/influxdb-client', 'prom-client', 'protobufjs', 'dns-packet'];

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the compiled build (npm run build, bin/kovenant.js)', () => {
  it('is flat: the launcher, the CLI bundle and its code cache, the worker, and their maps, all in dist/', () => {
    const entries = readdirSync(join(root, 'dist'), { withFileTypes: true });
    expect(entries.filter((e) => !e.isFile()).map((e) => e.name)).toEqual([]);
    // src/pipeline/decode-stage.ts: new URL('./decode-worker.js', import.meta.url), from cli.cjs.
    expect(entries.map((e) => e.name).sort()).toEqual(
      ['cli.cjs', 'cli.cjs.cache', 'cli.cjs.map', 'decode-worker.js', 'decode-worker.js.map', 'main.js', 'main.js.map'].sort(),
    );
    // Maps beside the files, naming the sources (NODE_OPTIONS=--enable-source-maps).
    const sourcesOf = (file: string): string[] =>
      (JSON.parse(readFileSync(join(root, 'dist', file), 'utf8')) as { sources: string[] }).sources.map((s) => resolve(root, 'dist', s));
    expect(sourcesOf('cli.cjs.map')).toContain(join(REPO, 'src/cli/main.ts'));
    expect(sourcesOf('main.js.map')).toEqual([join(REPO, 'src/cli/launcher.ts')]);
  });

  /** Whether `kovenant --help` from `dist` ran from the code cache, as the launcher says, in a plain node process. */
  async function ranFromCache(dist: string, nodeOptions: readonly string[] = []): Promise<boolean> {
    const check =
      `const launcher = await import(${JSON.stringify(pathToFileURL(join(dist, 'main.js')).href)});\n` +
      "await launcher.main([process.execPath, 'kovenant', '--help']);\n" +
      'process.stdout.write(`\\n${launcher.ranFromCodeCache()}`);\n';
    const { stdout } = await run(process.execPath, [...nodeOptions, '--input-type=module', '--eval', check]);
    return JSON.parse(stdout.trimEnd().split('\n').pop()!) as boolean;
  }

  /** The node options users' processes start with: bin/kovenant.js's shebang's, and the image's entrypoint's. */
  const shebangOptions = /^#!\/usr\/bin\/env -S node((?: --[\w-]+=\w+)*)\n/.exec(readFileSync(join(REPO, 'bin/kovenant.js'), 'utf8'));
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));

  it('records a code cache that the launcher gives V8 and V8 takes, in a process started as users start one', async () => {
    expect(await ranFromCache(join(root, 'dist'))).toBe(true);
    // The shebang's and the image's options are node's, not V8 flags, which would make V8
    // refuse a cache recorded without them.
    expect(shebangOptions, 'bin/kovenant.js: #!/usr/bin/env -S node --option=value ...').not.toBeNull();
    const fromShebang = shebangOptions![1]!.split(' ').filter(Boolean);
    expect(fromShebang).toEqual(['--v8-pool-size=0']);
    expect(await ranFromCache(join(root, 'dist'), fromShebang)).toBe(true);
    const image = JSON.parse(entrypoint![1]!) as string[];
    expect(image.slice(0, 3)).toEqual(['/opt/kovenant/bin/kovenant-node', '--v8-pool-size=1', '/opt/kovenant/bin/kovenant.js']);
    expect(await ranFromCache(join(root, 'dist'), image.slice(1, -1))).toBe(true);
  });

  it("runs as an executable, node started with its shebang's options", async () => {
    const probe = 'data:text/javascript,process.stderr.write(JSON.stringify(process.execArgv))';
    const { stdout, stderr } = await run(join(root, 'bin/kovenant.js'), ['--help'], {
      env: { ...process.env, NODE_OPTIONS: `--import=${probe}`, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
    });
    expect(stdout).toContain('Usage: kovenant');
    expect(JSON.parse(stderr)).toEqual(['--v8-pool-size=0']);
  });

  it('runs the bundle as it is, not the bytecode of the build its code cache was recorded from', async () => {
    // V8 checks a cache against the source's length only: an edit that keeps the length
    // (the TCP measurement's name, one letter) must still be what runs.
    const edited = join(root, 'edited');
    mkdirSync(edited);
    for (const name of ['bin', 'dist', 'package.json']) cpSync(join(root, name), join(edited, name), { recursive: true });
    symlinkSync(join(REPO, 'node_modules'), join(edited, 'node_modules'));
    const bundle = join(edited, 'dist/cli.cjs');
    const source = readFileSync(bundle, 'utf8');
    expect(source).toContain('TCP="kovenant_tcp"');
    writeFileSync(bundle, source.replace('TCP="kovenant_tcp"', 'TCP="kovenant_tcq"'));
    const stdout = await cliOutput([...EXAMPLE_REPLAY], { bin: join(edited, 'bin/kovenant.js') });
    expect(stdout).toMatch(/^kovenant_tcq,/m);
    expect(stdout).not.toMatch(/^kovenant_tcp,/m);
    expect(await ranFromCache(join(edited, 'dist'))).toBe(false);
  }, 60_000);

  it('loads no heavy package for a replay, --help or a daemon without watches or a metrics server', async () => {
    const help = await loadedBy(['--help']);
    expect([...packagesOf(help)]).toEqual([]);
    const replay = packagesOf(
      await loadedBy(['replay', 'examples/events.jsonl.gz', '--kube', 'examples/snapshot.json', '--out', '/dev/null']),
    );
    const daemon = packagesOf(
      await loadedBy(
        ['run', '--events', '-', '--output', 'line', '--out', '/dev/null', '--kube', 'examples/snapshot.json', '--metrics-addr', 'off'],
        gunzipSync(readFileSync(join(REPO, 'examples/events.jsonl.gz'))).toString('utf8'),
      ),
    );
    for (const name of HEAVY) {
      expect(replay, `replay loaded ${name}`).not.toContain(name);
      expect(daemon, `run loaded ${name}`).not.toContain(name);
    }
    // The hook sees what it should: a metrics server does load prom-client.
    const served = packagesOf(
      await loadedBy(
        [
          'run',
          '--events',
          '-',
          '--output',
          'line',
          '--out',
          '/dev/null',
          '--kube',
          'examples/snapshot.json',
          '--metrics-addr',
          '127.0.0.1:0',
        ],
        '',
      ),
    );
    expect(served).toContain('prom-client');
  }, 60_000);

  it('names src/ files and lines in the stack trace of an unexpected error', async () => {
    // A stdout whose write throws: an error no path of kovenant expects, so its stack is printed.
    const r = await runCli(['replay', 'examples/events.jsonl.gz', '--kube', 'examples/snapshot.json'], {
      bin: join(root, 'bin/kovenant.js'),
      nodeArgs: ['--import', 'data:text/javascript,process.stdout.write = () => { throw new TypeError("unexpected") }'],
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('kovenant: TypeError: unexpected');
    expect(r.stderr).toContain(`(${join(REPO, 'src/')}`);
    expect(r.stderr).not.toMatch(/dist\/[\w-]+\.c?js/);
  });

  it('imports only .js files and no TypeScript loader', () => {
    const files = jsFiles(join(root, 'dist'));
    expect(files.length).toBe(3);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(/from ["']\.{1,2}\/[^"']*\.ts["']|(import|require)\(["']\.{1,2}\/[^"']*\.ts["']\)/);
      expect(text, f).not.toMatch(/["']tsx(\/[^"']*)?["']/);
    }
  });

  it('replays the bundled example to the golden output, also with a decoding thread (dist/decode-worker.js)', async () => {
    const golden = gunzipSync(readFileSync(join(REPO, 'test/golden/example.lp.gz'))).toString('utf8');
    const bin = join(root, 'bin/kovenant.js');
    expect(await cliOutput([...EXAMPLE_REPLAY], { bin })).toBe(golden);
    expect(await cliOutput([...EXAMPLE_REPLAY, '--decode-threads', '1'], { bin })).toBe(golden);
  }, 60_000);

  it('runs the demo (npm start), which finds the examples from dist/', async () => {
    const out = join(root, 'demo.lp');
    const stdout = await cliOutput(['demo', '--out', out], { bin: join(root, 'bin/kovenant.js'), cwd: root });
    expect(stdout).toContain('Top talkers in examples/events.jsonl.gz');
    expect(readFileSync(out, 'utf8').split('\n').length).toBeGreaterThan(100);
  }, 60_000);

  it('says how to build when dist/ is missing', async () => {
    const bare = join(root, 'bare');
    mkdirSync(join(bare, 'bin'), { recursive: true });
    copyFileSync(join(REPO, 'bin', 'kovenant.js'), join(bare, 'bin', 'kovenant.js'));
    copyFileSync(join(REPO, 'package.json'), join(bare, 'package.json'));
    const r = await runCli(['--help'], { bin: join(bare, 'bin/kovenant.js') });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('kovenant: dist/ is missing: run `npm run build` (npm ci and npm install run it for you)\n');
  });
});
