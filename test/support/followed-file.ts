/** Scratch directories, stop signals and a background reader for FileFollower tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileFollower } from '../../src/sources/file-follower.ts';
import { waitFor } from './wait.ts';

/** Everything a test made; `dispose()` (in afterEach) stops the followers and removes the files. */
export class FollowerScratch {
  private readonly dirs: string[] = [];
  private readonly controllers: AbortController[] = [];

  dir(): string {
    const d = mkdtempSync(join(tmpdir(), 'kovenant-follow-'));
    this.dirs.push(d);
    return d;
  }

  /** A stop signal aborted at the latest by `dispose()`. */
  stopper(): AbortController {
    const c = new AbortController();
    this.controllers.push(c);
    return c;
  }

  dispose(): void {
    for (const c of this.controllers.splice(0)) c.abort();
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

/** Reads a follower in the background, keeping all the text it gave. */
export function readInBackground(follower: FileFollower): {
  text(): string;
  untilText(done: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  until(lines: number, timeoutMs?: number): Promise<string[]>;
  done: Promise<void>;
} {
  let text = '';
  const done = (async () => {
    for await (const chunk of follower.chunks) text += chunk.toString();
  })();
  const lines = (): string[] => text.split('\n').filter(Boolean);
  const untilText = async (finished: (t: string) => boolean, timeoutMs = 15_000): Promise<string> => {
    await waitFor('the follower to give the text awaited', () => finished(text), timeoutMs).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; it gave ${JSON.stringify(text)}`);
    });
    return text;
  };
  return {
    text: () => text,
    untilText,
    async until(n, timeoutMs) {
      await untilText(() => lines().length >= n, timeoutMs);
      return lines();
    },
    done,
  };
}
