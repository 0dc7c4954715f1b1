/**
 * Keeps vitest.config.ts's INTEGRATION list true: a test file that starts processes (the
 * CLI, a server, a namespace: anything reaching node:child_process through its imports)
 * must run in the integration or memory project, whose parallelism is sized for that.
 * Without this check, a new file missing from the list would silently run beside the unit
 * tests, one a core, and starve the processes whose deadlines it asserts.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { INTEGRATION, MEMORY } from '../../vitest.config.ts';

// Not from ./cli.ts: importing the spawner would make this file one of those it looks for.
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TEST_DIR = join(REPO, 'test');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** `dir/**\/*.test.ts` (a folder) or an exact path: the only two shapes the lists use. */
function matcherOf(pattern: string): (file: string) => boolean {
  const folder = /^(.*\/)\*\*\/\*\.test\.ts$/.exec(pattern);
  if (folder) return (file) => file.startsWith(folder[1]!);
  if (/[*?[{]/.test(pattern)) throw new Error(`vitest.config.ts: ${pattern}: use a folder/**/*.test.ts or an exact path`);
  return (file) => file === pattern;
}

const IMPORT = /(?:from|import)\s*\(?\s*'([^']+)'/g;

function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) => m[1]!);
}

const startsProcesses = new Map<string, boolean>();

function reachesChildProcess(file: string, seen = new Set<string>()): boolean {
  const known = startsProcesses.get(file);
  if (known !== undefined) return known;
  if (seen.has(file)) return false;
  seen.add(file);
  let result = false;
  for (const spec of importsOf(file)) {
    if (spec === 'node:child_process' || spec === 'child_process') result = true;
    else if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec);
      if (target.startsWith(TEST_DIR) && /\.(ts|js)$/.test(target) && reachesChildProcess(target, seen)) result = true;
    }
    if (result) break;
  }
  startsProcesses.set(file, result);
  return result;
}

describe('vitest projects', () => {
  const matchers = [...INTEGRATION, ...MEMORY].map(matcherOf);
  const tests = filesUnder(TEST_DIR)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => relative(REPO, f));

  it('runs every test file that starts processes in the integration or memory project', () => {
    const misplaced = tests.filter((t) => reachesChildProcess(join(REPO, t)) && !matchers.some((m) => m(t)));
    expect(misplaced, 'add these to INTEGRATION in vitest.config.ts').toEqual([]);
  });

  it('lists only files that exist', () => {
    const exact = [...INTEGRATION, ...MEMORY].filter((p) => !p.includes('*'));
    expect(exact.filter((p) => !tests.includes(p))).toEqual([]);
  });
});
