/** The byte bound deletes segments without awaiting; a failing delete must be logged, not crash. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { captureLog } from './fixtures.ts';
import { waitFor } from '../support/wait.ts';

const failing = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    rm: (...args: Parameters<typeof real.rm>) =>
      failing.on ? Promise.reject(Object.assign(new Error('EBUSY: resource busy or locked, rm'), { code: 'EBUSY' })) : real.rm(...args),
  };
});

const { DiskSpool } = await import('../../src/sinks/disk-spool.ts');

const dirs: string[] = [];
afterEach(() => {
  failing.on = false;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

it('a segment the bound cannot delete is logged, and the spool keeps working', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kovenant-spool-rm-test-'));
  dirs.push(dir);
  const { log, lines } = captureLog();
  let dropped = 0;
  const spool = await DiskSpool.open({ dir, maxBytes: 600, segmentBytes: 200, fsync: 'never', onDrop: (d) => (dropped += d.points), log });
  failing.on = true;
  for (let i = 0; i < 20; i++) await spool.append(`m,k=${'x'.repeat(40)} v=${i}i ${i}`, 1);
  // The un-awaited deletes settle (an unhandled rejection would fail this file) and are logged.
  await waitFor('the failed delete to be logged', () =>
    lines.some((l) => l.level === 50 && /cannot delete a dropped segment/.test(l.msg) && l.err === 'EBUSY: resource busy or locked, rm'),
  );
  expect(dropped).toBeGreaterThan(0);
  expect(dropped + spool.pendingPoints()).toBe(20);
  failing.on = false;
  await spool.close();
});
