/**
 * What a test started, undone after it: servers closed, processes killed, temp dirs
 * removed, newest first, even when the test failed half way. One registry per describe
 * instead of an `afterEach` that lists every `let` again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

export interface Cleanup {
  /** Returns `value`; `dispose(value)` runs after the test. */
  add<T>(value: T, dispose: (value: T) => unknown): T;
  /** A fresh directory under the OS temp dir, removed after the test. */
  tempDir(prefix: string): string;
}

/** Call in a describe (or at top level): registers the afterEach that disposes. */
export function cleanupAfterEach(): Cleanup {
  let pending: (() => unknown)[] = [];
  afterEach(async () => {
    const undo = pending.reverse();
    pending = [];
    const errors: unknown[] = [];
    for (const step of undo) {
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  const add = <T>(value: T, dispose: (value: T) => unknown): T => {
    pending.push(() => dispose(value));
    return value;
  };
  return {
    add,
    tempDir: (prefix) => add(mkdtempSync(join(tmpdir(), prefix)), (dir) => rmSync(dir, { recursive: true, force: true })),
  };
}
