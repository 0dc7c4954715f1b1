import fc from 'fast-check';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openFile } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DiskSpool, frameRecord, RECORD_HEADER_BYTES, spoolFileBytes } from '../../src/sinks/disk-spool.ts';
import type { SpoolDrop } from '../../src/sinks/spool.ts';
import { captureLog } from './fixtures.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kovenant-spool-test-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function openSpool(dir: string, extra: { maxBytes?: number; segmentBytes?: number } = {}) {
  const drops: SpoolDrop[] = [];
  const captured = captureLog();
  const spool = await DiskSpool.open({
    dir,
    maxBytes: extra.maxBytes ?? 1 << 30,
    segmentBytes: extra.segmentBytes,
    onDrop: (d) => drops.push(d),
    log: captured.log,
  });
  return { spool, drops, ...captured };
}

/** Reads and acks everything, returning the bodies in delivery order. */
async function drain(spool: DiskSpool, maxPoints = 3): Promise<string[]> {
  const out: string[] = [];
  for (let b = await spool.readBatch(maxPoints, 1 << 20); b; b = await spool.readBatch(maxPoints, 1 << 20)) {
    out.push(...b.body.split('\n'));
    await spool.ack(b);
  }
  return out;
}

function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.ksp'))
    .sort();
}

describe('DiskSpool', () => {
  it('returns records in append order and forgets acknowledged ones', async () => {
    const { spool } = await openSpool(tempDir());
    for (let i = 0; i < 10; i++) await spool.append(`m v=${i}i ${i}`, 1);
    expect(spool.pendingPoints()).toBe(10);
    expect(await drain(spool)).toEqual(Array.from({ length: 10 }, (_, i) => `m v=${i}i ${i}`));
    expect(spool.pendingPoints()).toBe(0);
    await spool.close();
  });

  it('resumes after a restart from the last acknowledged record, in order', async () => {
    const dir = tempDir();
    const first = await openSpool(dir, { segmentBytes: 64 });
    for (let i = 0; i < 20; i++) await first.spool.append(`m v=${i}i ${i}`, 1);
    // Batches stay within a segment, and these segments hold a few records each.
    let acked = 0;
    while (acked < 5) {
      const batch = await first.spool.readBatch(5 - acked, 1 << 20);
      if (!batch) break;
      acked += await first.spool.ack(batch);
    }
    expect(acked).toBe(5);
    await first.spool.close();

    const second = await openSpool(dir, { segmentBytes: 64 });
    expect(second.spool.pendingPoints()).toBe(15);
    await second.spool.append('m v=20i 20', 1);
    expect(await drain(second.spool)).toEqual(Array.from({ length: 16 }, (_, i) => `m v=${i + 5}i ${i + 5}`));
    await second.spool.close();

    const third = await openSpool(dir, { segmentBytes: 64 });
    expect(third.spool.pendingPoints()).toBe(0);
    await third.spool.close();
  });

  it('detects a torn tail after a crash, cuts it off and never parses it', async () => {
    const dir = tempDir();
    const { spool } = await openSpool(dir);
    await spool.append('m v=1i 1', 1);
    await spool.append('m v=2i 2', 1);
    await spool.close();
    const [segment] = segmentFiles(dir);
    const path = join(dir, segment ?? '');
    const intact = readFileSync(path).length;
    // A crash in the middle of a write: the header and half the payload made it to disk.
    const torn = frameRecord('m v=3i 3\nm v=4i 4', 2);
    appendFileSync(path, torn.subarray(0, RECORD_HEADER_BYTES + 5));

    const reopened = await openSpool(dir);
    expect(reopened.spool.pendingPoints()).toBe(2);
    expect(reopened.lines.some((l) => l.level === 40 && /torn record/.test(l.msg))).toBe(true);
    expect(readFileSync(path).length).toBe(intact);
    expect(await drain(reopened.spool)).toEqual(['m v=1i 1', 'm v=2i 2']);
    await reopened.spool.close();
  });

  it('detects a corrupt record by its checksum, drops only it (counted) and resynchronises on the next', async () => {
    const dir = tempDir();
    const { spool } = await openSpool(dir);
    for (let i = 0; i < 3; i++) await spool.append(`m v=${i}i ${i}`, 1);
    await spool.close();
    const path = join(dir, segmentFiles(dir)[0] ?? '');
    const bytes = readFileSync(path);
    const second = frameRecord('m v=0i 0', 1).length;
    bytes[second + RECORD_HEADER_BYTES + 2] = 'X'.charCodeAt(0); // flip a payload byte of record 2
    writeFileSync(path, bytes);
    const reopened = await openSpool(dir);
    expect(await drain(reopened.spool)).toEqual(['m v=0i 0', 'm v=2i 2']);
    expect(reopened.lines.some((l) => /corrupt record/.test(l.msg))).toBe(true);
    expect(reopened.drops.map((d) => d.points)).toEqual([1]);
    await reopened.spool.close();
  });

  it('a segment with 64 flipped bytes in the middle loses only the records they hit, counted exactly', async () => {
    const dir = tempDir();
    const { spool } = await openSpool(dir, { segmentBytes: 4 << 20 });
    const records = 300;
    for (let i = 0; i < records; i++)
      await spool.append(
        Array.from({ length: 16 }, (_, k) => `kovenant_io,pod=p${i}-${k},x=${'y'.repeat(250)} v=${i}i ${i}`).join('\n'),
        16,
      );
    // Acknowledge the first 10 records, so the cursor is inside the segment.
    for (let acked = 0; acked < 10;) {
      const b = (await spool.readBatch(16, 1 << 20))!;
      await spool.ack(b);
      acked++;
    }
    await spool.close();
    const path = join(dir, segmentFiles(dir)[0] ?? '');
    const bytes = readFileSync(path);
    expect(bytes.length).toBeGreaterThan(1_000_000);
    const at = Math.floor(bytes.length / 2);
    for (let k = 0; k < 64; k++) bytes[at + k] = bytes[at + k]! ^ 0xff;
    writeFileSync(path, bytes);

    const reopened = await openSpool(dir);
    const got = await drain(reopened.spool, 1000);
    const lost = reopened.drops.reduce((n, d) => n + d.points, 0);
    // 64 bytes touch one or two records of 16 points.
    expect([16, 32]).toContain(lost);
    expect(got.length + lost).toBe((records - 10) * 16);
    expect(got.at(-1)).toMatch(new RegExp(`v=${records - 1}i`));
    expect(got[0]).toMatch(/v=10i/);
    expect(reopened.drops[0]?.reason).toMatch(/corrupt/);
    await reopened.spool.close();
    // The repaired segment and cursor read back the same after another restart.
    const again = await openSpool(dir);
    expect(again.spool.pendingPoints()).toBe(0);
    expect(again.drops).toEqual([]);
    await again.spool.close();
  });

  it('counts the points of a corrupt record whose header was hit too, by estimate', async () => {
    const dir = tempDir();
    const { spool } = await openSpool(dir);
    for (let i = 0; i < 5; i++) await spool.append(Array.from({ length: 10 }, (_, k) => `m,k=${k} v=${i}i ${i}`).join('\n'), 10);
    await spool.close();
    const path = join(dir, segmentFiles(dir)[0] ?? '');
    const bytes = readFileSync(path);
    const size = bytes.length / 5;
    bytes.fill(0, size * 2, size * 2 + 8); // magic and length of record 3
    writeFileSync(path, bytes);
    const reopened = await openSpool(dir);
    expect(await drain(reopened.spool, 100)).toHaveLength(40);
    expect(reopened.drops.map((d) => d.points)).toEqual([10]);
    expect(reopened.drops[0]?.reason).toMatch(/about 10 unsent points/);
    await reopened.spool.close();
  });

  it('drops the oldest segments at the bound, counting every dropped point', async () => {
    const dir = tempDir();
    const { spool, drops } = await openSpool(dir, { maxBytes: 2000, segmentBytes: 250 });
    const body = (i: number): string => `m,k=${'x'.repeat(20)} v=${i}i ${1_000_000 + i}`;
    for (let i = 0; i < 100; i++) await spool.append(body(i), 1);
    const dropped = drops.reduce((s, d) => s + d.points, 0);
    expect(dropped).toBeGreaterThan(0);
    expect(dropped + spool.pendingPoints()).toBe(100);
    expect(await spoolFileBytes(dir)).toBeLessThanOrEqual(2000);
    const left = await drain(spool, 1000);
    // What is left is the newest, contiguous and in order.
    expect(left).toEqual(Array.from({ length: 100 - dropped }, (_, i) => body(dropped + i)));
    await spool.close();
  });

  it('deletes segments that were sent while being written, so a healthy system keeps the spool small', async () => {
    const dir = tempDir();
    const { spool } = await openSpool(dir, { segmentBytes: 200 });
    for (let i = 0; i < 200; i++) {
      await spool.append(`m,k=${'x'.repeat(40)} v=${i}i ${i}`, 1);
      expect(await drain(spool)).toEqual([`m,k=${'x'.repeat(40)} v=${i}i ${i}`]);
      expect(segmentFiles(dir).length).toBeLessThanOrEqual(1);
      expect(spool.bytes()).toBeLessThan(200 + 100);
    }
    expect(await spoolFileBytes(dir)).toBeLessThan(200 + 100);
    await spool.close();
    const reopened = await openSpool(dir, { segmentBytes: 200 });
    expect(reopened.spool.pendingPoints()).toBe(0);
    await reopened.spool.close();
  });

  it.each([
    { how: 'throws after writing part of a frame (ENOSPC)', fails: true },
    { how: 'reports a short write', fails: false },
  ])('when a write $how once, the torn bytes are cut off and the record goes to a new segment: nothing lost', async ({ fails }) => {
    const dir = tempDir();
    const { spool } = await openSpool(dir);
    await spool.append('m v=1i 1', 1);
    // FileHandle is not exported; its prototype is reachable through any handle.
    const probe = await openFile(dir, 'r');
    const proto = Object.getPrototypeOf(probe) as {
      write: (buf: Buffer, offset: number, length: number) => Promise<{ bytesWritten: number }>;
    };
    await probe.close();
    const real = proto.write;
    const spy = vi.spyOn(proto, 'write').mockImplementationOnce(async function (
      this: unknown,
      buf: Buffer,
      offset: number,
      length: number,
    ) {
      const half = Math.floor(length / 2);
      const done = await real.call(this, buf, offset, half);
      if (fails) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return done;
    });
    try {
      await spool.append('m v=2i 2\nm v=3i 3', 2);
    } finally {
      spy.mockRestore();
    }
    await spool.append('m v=4i 4', 1);
    expect(spool.pendingPoints()).toBe(4);
    expect(segmentFiles(dir)).toHaveLength(2);
    await spool.close();

    const reopened = await openSpool(dir);
    expect(reopened.lines.some((l) => /torn record/.test(l.msg))).toBe(false);
    expect(reopened.drops).toEqual([]);
    expect(await drain(reopened.spool)).toEqual(['m v=1i 1', 'm v=2i 2', 'm v=3i 3', 'm v=4i 4']);
    await reopened.spool.close();
  });

  it('keeps order and loses nothing across random appends, acks and restarts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('append' as const), n: fc.integer({ min: 1, max: 4 }) }),
            fc.constant({ op: 'ack' as const, n: 0 }),
            fc.constant({ op: 'restart' as const, n: 0 }),
          ),
          { maxLength: 40 },
        ),
        async (ops) => {
          const dir = tempDir();
          let { spool } = await openSpool(dir, { segmentBytes: 80 });
          let next = 0;
          const delivered: number[] = [];
          for (const { op, n } of ops) {
            if (op === 'append') {
              const lines = Array.from({ length: n }, () => `m v=${next++}i`);
              await spool.append(lines.join('\n'), n);
            } else if (op === 'ack') {
              const b = await spool.readBatch(3, 1 << 20);
              if (b) {
                delivered.push(...b.body.split('\n').map((l) => Number(/v=(\d+)i/.exec(l)?.[1])));
                await spool.ack(b);
              }
            } else {
              await spool.close();
              ({ spool } = await openSpool(dir, { segmentBytes: 80 }));
            }
          }
          for (let b = await spool.readBatch(3, 1 << 20); b; b = await spool.readBatch(3, 1 << 20)) {
            delivered.push(...b.body.split('\n').map((l) => Number(/v=(\d+)i/.exec(l)?.[1])));
            await spool.ack(b);
          }
          await spool.close();
          expect(delivered).toEqual(Array.from({ length: next }, (_, i) => i));
        },
      ),
      { numRuns: 40, seed: 4242 },
    );
  });
});

describe('kovenant_spool_bytes: unsent bytes', () => {
  it('returns to 0 once everything is acknowledged, also within the active segment', async () => {
    const dir = tempDir();
    const drops: SpoolDrop[] = [];
    const spool = await DiskSpool.open({ dir, maxBytes: 1 << 30, onDrop: (d) => drops.push(d) });
    for (let i = 0; i < 10; i++) await spool.append(`m v=${i}i ${i}`, 1);
    expect(spool.unsentBytes()).toBe(10 * frameRecord('m v=0i 0', 1).length);
    expect(await drain(spool)).toHaveLength(10);
    expect(spool.unsentBytes()).toBe(0);
    await spool.append('m v=10i 10', 1);
    expect(spool.unsentBytes()).toBe(frameRecord('m v=10i 10', 1).length);
    await spool.close();
  });
});
