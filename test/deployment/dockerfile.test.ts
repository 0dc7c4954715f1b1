/**
 * The image's build stage, without Docker (these machines have no daemon): the files its
 * COPY lines bring in, and nothing else, laid out as in the stage, must be enough for
 * `npm run build` to write dist/ with its code cache (build.mjs records it from a replay
 * of examples/). A file the build starts to need and the Dockerfile does not copy fails
 * here rather than in the first `docker build` after the change.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/cli.ts';

const run = promisify(execFile);
const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
/** The stages, each the lines from its FROM up to the next. */
const stages = dockerfile.split(/^(?=FROM )/m).filter((s) => s.startsWith('FROM '));
let root: string | undefined;

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** The COPY sources and destinations of a stage (not those --from another stage). */
function copies(stage: string): Array<{ sources: string[]; dest: string }> {
  return stage
    .split('\n')
    .filter((l) => /^COPY (?!--from)/.test(l))
    .map((l) => {
      const words = l.split(/\s+/).slice(1);
      return { sources: words.slice(0, -1), dest: words[words.length - 1]! };
    });
}

describe('the Dockerfile', () => {
  it('has a build stage and an image stage that takes dist/ from it', () => {
    expect(stages).toHaveLength(2);
    expect(stages[1]).toMatch(/^COPY --from=build \/opt\/kovenant\/dist \.\/dist$/m);
  });

  it("copies into its build stage everything `npm run build` reads, the code cache's example included", async () => {
    root = mkdtempSync(join(tmpdir(), 'kovenant-image-build-'));
    for (const { sources, dest } of copies(stages[0]!)) {
      for (const source of sources) {
        const target = dest.endsWith('/') ? join(root, dest, source.split('/').pop()!) : join(root, dest);
        cpSync(join(REPO, source), target, { recursive: true });
      }
    }
    // `npm ci` of the stage: the repository's own dependencies stand in for it.
    symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
    await run(process.execPath, [join(root, 'build.mjs')], { cwd: root });
    expect(readdirSync(join(root, 'dist'))).toContain('cli.cjs.cache');
    expect(existsSync(join(root, 'dist/main.js'))).toBe(true);
  }, 120_000);
});
