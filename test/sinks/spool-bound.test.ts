import nock from 'nock';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { DeliveryError } from '../../src/sinks/delivery-stats.ts';
import { createInfluxSink } from '../../src/sinks/influx-sink.ts';
import { RetryPolicy } from '../../src/sinks/retry-policy.ts';
import { captureLog, tcpPoints } from './fixtures.ts';

const URL_BASE = 'http://influx-down.test:8086';
let dir: string;
beforeAll(() => {
  nock.disableNetConnect();
  dir = mkdtempSync(join(tmpdir(), 'kovenant-bound-test-'));
});
afterAll(() => {
  nock.enableNetConnect();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => nock.cleanAll());

it('while InfluxDB is down, write() keeps resolving, the bound drops the oldest points loudly, and close() counts them', async () => {
  nock(URL_BASE)
    .post(/^\/write/)
    .times(1000)
    .reply(503, '{"error":"overloaded"}');
  const { log, lines } = captureLog();
  const sink = await createInfluxSink({
    target: { api: 'v1', url: URL_BASE, db: 'k' },
    spoolDir: dir,
    spoolMaxBytes: 256 * 1024,
    log,
    delivery: {
      retryPolicy: new RetryPolicy({ minDelayMs: 20, maxDelayMs: 50, base: 2 }),
      flushIntervalMs: 5,
      drainTimeoutMs: 100,
      batchPoints: 100,
    },
  });
  const windows = 60;
  for (let w = 0; w < windows; w++) await sink.write(tcpPoints(w, 100));
  const err: unknown = await sink.close().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DeliveryError);
  const s = sink.stats();
  expect(s.accepted).toBe(windows * 100);
  expect(s.dropped).toBeGreaterThan(0);
  expect(s.acknowledged).toBe(0);
  // Every point is accounted for: dropped at the bound or still spooled for the next run.
  expect(s.dropped + s.pending).toBe(windows * 100);
  expect(s.spoolBytes).toBeLessThanOrEqual(256 * 1024);
  expect(lines.some((l) => l.level === 50 && l.msg.startsWith('DATA LOSS: dropped') && l.points !== undefined)).toBe(true);
  expect((err as Error).message).toMatch(/dropped from the spool \(over --spool-max-bytes/);
});
