/**
 * The disk spool on a full filesystem (a 2 MB tmpfs): appends never fail, the oldest
 * unsent points are dropped (counted) to make room, and what is left drains.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DiskSpool } from '../../src/sinks/disk-spool.ts';
import type { SpoolDrop } from '../../src/sinks/spool.ts';
import { mountSmallDisk, requireSmallDisk, type SmallDisk } from '../support/small-disk.ts';
import { captureLog } from './fixtures.ts';

const disks: SmallDisk[] = [];
afterEach(() => {
  for (const d of disks.splice(0)) d.dispose();
});

function record(i: number): string {
  // About 8 KB of line protocol, 40 points.
  return Array.from({ length: 40 }, (_, k) => `kovenant_io,pod=p${i}-${k},filler=${'f'.repeat(180)} bytes_read=${i}i ${i}`).join('\n');
}

describe.skipIf(!requireSmallDisk())('DiskSpool on a full disk', () => {
  it.each(['always', 'never'] as const)(
    'fsync %s: drops the oldest points, counts them, keeps appending and draining',
    async (fsync) => {
      const disk = mountSmallDisk(2 * 1024 * 1024);
      disks.push(disk);
      const drops: SpoolDrop[] = [];
      const { log, lines } = captureLog();
      const spool = await DiskSpool.open({ dir: disk.dir, maxBytes: 1 << 30, fsync, onDrop: (d) => drops.push(d), log });
      const records = 600; // ~4.8 MB into 2 MB
      for (let i = 0; i < records; i++) await spool.append(record(i), 40);
      const dropped = drops.reduce((s, d) => s + d.points, 0);
      expect(dropped).toBeGreaterThan(0);
      expect(dropped + spool.pendingPoints()).toBe(records * 40);
      expect(drops.every((d) => d.reason.includes('disk is full'))).toBe(true);
      expect(lines.some((l) => l.msg.includes('the disk is full'))).toBe(true);
      // The newest records survive, in order, and everything left drains.
      const bodies: string[] = [];
      for (let b = await spool.readBatch(1000, 1 << 20); b; b = await spool.readBatch(1000, 1 << 20)) {
        bodies.push(b.body);
        await spool.ack(b);
      }
      const got = bodies.join('\n').split('\n');
      expect(got.length).toBe(records * 40 - dropped);
      expect(got.at(-1)).toBe(
        record(records - 1)
          .split('\n')
          .at(-1),
      );
      expect(spool.pendingPoints()).toBe(0);
      // After the drain there is room again: appends land on disk, no drop.
      const before = drops.length;
      for (let i = 0; i < 20; i++) await spool.append(record(records + i), 40);
      expect(drops.length).toBe(before);
      expect(spool.pendingPoints()).toBe(20 * 40);
      await spool.close();
      // A restart resumes them.
      const again = await DiskSpool.open({ dir: disk.dir, maxBytes: 1 << 30, fsync, onDrop: (d) => drops.push(d), log });
      expect(again.pendingPoints()).toBe(20 * 40);
      await again.close();
    },
    60_000,
  );
});
