/**
 * The compiled build as users run it: `npm run build`'s tsc config emitted into a temp
 * directory laid out like the package (bin/kovenant.js beside dist/), then the real bin
 * run on the bundled example. Built here rather than read from the worktree's dist/, so
 * the test never passes on a stale build; the other tests run the sources.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, cliOutput, runCli } from '../support/cli.ts';

const run = promisify(execFile);
let root: string;

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => join(e.parentPath, e.name));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'kovenant-build-'));
  mkdirSync(join(root, 'bin'));
  copyFileSync(join(REPO, 'bin', 'kovenant.js'), join(root, 'bin', 'kovenant.js'));
  copyFileSync(join(REPO, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  symlinkSync(join(REPO, 'examples'), join(root, 'examples'));
  await run(
    process.execPath,
    [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(root, 'dist')],
    { cwd: REPO },
  );
}, 180_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the compiled build (npm run build, bin/kovenant.js)', () => {
  it('imports only .js files and no TypeScript loader', () => {
    const files = jsFiles(join(root, 'dist'));
    expect(files.length).toBeGreaterThan(20);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(/from ["']\.{1,2}\/[^"']*\.ts["']|import\(["']\.{1,2}\/[^"']*\.ts["']\)/);
      expect(text, f).not.toMatch(/["']tsx(\/[^"']*)?["']/);
    }
  });

  it('replays the bundled example to the golden output', async () => {
    const stdout = await cliOutput(['replay', 'examples/events.jsonl.gz', '--kube', 'examples/snapshot.json', '--window', '10s'], {
      bin: join(root, 'bin/kovenant.js'),
    });
    expect(stdout).toBe(gunzipSync(readFileSync(join(REPO, 'test/golden/example.lp.gz'))).toString('utf8'));
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
