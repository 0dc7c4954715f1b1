import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/sinks/delivery-stats.ts';
import { DiskSpool } from '../../src/sinks/disk-spool.ts';
import { InfluxDeliverySink } from '../../src/sinks/influx-delivery.ts';
import type { LineTransport } from '../../src/sinks/line-transport.ts';
import { MemorySpool, type SpoolBatch } from '../../src/sinks/spool.ts';
import { captureLog, tcpPoints } from './fixtures.ts';

/** A server that accepts everything, slowly. */
class SlowTransport implements LineTransport {
  readonly destination = 'slow.test';
  sent = 0;
  constructor(private readonly delayMs: number) {}
  async send(_body: string, points: number, signal?: AbortSignal): Promise<void> {
    // The delay is the slow server under test (not a wait for a result). Like fetch: an
    // abort (the drain deadline) ends the request unanswered.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, this.delayMs);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        },
        { once: true },
      );
    });
    this.sent += points;
  }
  async close(): Promise<void> {}
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('InfluxDeliverySink lifecycle', () => {
  it('with the memory spool, write() rejects when the sender died instead of reporting undelivered points as delivered', async () => {
    class BrokenSpool extends MemorySpool {
      override async readBatch(): Promise<SpoolBatch | undefined> {
        throw new Error('spool broke');
      }
    }
    const { log } = captureLog();
    const sink = new InfluxDeliverySink(new BrokenSpool(1 << 20, () => {}), new SlowTransport(0), log, { flushIntervalMs: 1 });
    await expect(sink.write(tcpPoints(0, 3))).rejects.toThrow('spool broke');
    await expect(sink.close()).rejects.toThrow('spool broke');
  });

  it('close() keeps to --drain-timeout against a slow but healthy server (memory spool: the rest counts as failed)', async () => {
    const { log, lines } = captureLog();
    const transport = new SlowTransport(150);
    const sink = new InfluxDeliverySink(new MemorySpool(1 << 20, () => {}), transport, log, {
      batchPoints: 10,
      flushIntervalMs: 1,
      drainTimeoutMs: 300,
    });
    // Twenty batches of 150 ms each: 3 s to drain, ten times the timeout.
    const writes = Array.from({ length: 20 }, (_, w) => sink.write(tcpPoints(w, 10)));
    const started = Date.now();
    const closing = sink.close();
    await expect(closing).rejects.toBeInstanceOf(DeliveryError);
    expect(Date.now() - started).toBeLessThan(1000);
    await Promise.all(writes);
    const stats = sink.stats();
    expect(stats.acknowledged).toBe(transport.sent);
    expect(stats.acknowledged + stats.failed).toBe(200);
    expect(stats.failed).toBeGreaterThan(0);
    expect(stats.pending).toBe(0);
    expect(lines.some((l) => l.level === 50 && l.msg.startsWith('DATA LOSS: drain timeout'))).toBe(true);
  });

  it('close() keeps to --drain-timeout with a disk spool, leaving the rest on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kovenant-drain-test-'));
    dirs.push(dir);
    const { log } = captureLog();
    const spool = await DiskSpool.open({ dir, maxBytes: 1 << 30, fsync: 'never', onDrop: () => {}, log });
    const transport = new SlowTransport(150);
    const sink = new InfluxDeliverySink(spool, transport, log, { batchPoints: 10, flushIntervalMs: 1, drainTimeoutMs: 300 });
    for (let w = 0; w < 20; w++) await sink.write(tcpPoints(w, 10));
    const started = Date.now();
    await sink.close().catch(() => undefined);
    expect(Date.now() - started).toBeLessThan(1000);
    const stats = sink.stats();
    expect(stats.acknowledged).toBe(transport.sent);
    expect(stats.pending).toBe(200 - transport.sent);
    expect(stats.pending).toBeGreaterThan(0);
    const reopened = await DiskSpool.open({ dir, maxBytes: 1 << 30, onDrop: () => {}, log });
    expect(reopened.pendingPoints()).toBe(200 - transport.sent);
    await reopened.close();
  });
});
