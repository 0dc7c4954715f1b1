/**
 * A small tmpfs for full-disk tests (ENOSPC). Needs root (mount); without it the tests
 * skip, except under CI, where they must run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  dir: string;
  dispose(): void;
}

function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    const disk = mountSmallDisk(64 * 1024);
    disk.dispose();
    return true;
  } catch {
    return false;
  }
}

let mountable: boolean | undefined;

/** True when the tests can mount a tmpfs; false (with a message) skips them outside CI. */
export function requireSmallDisk(): boolean {
  mountable ??= canMount();
  if (mountable) return true;
  if (process.env.CI) throw new Error('CI is set but a tmpfs cannot be mounted (needs root): the full-disk tests must run in CI');
  console.warn('skipping the full-disk tests: mounting a tmpfs needs root');
  return false;
}

/** Mounts a tmpfs of `bytes` on a new temporary directory. */
export function mountSmallDisk(bytes: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'kovenant-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    dispose() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
