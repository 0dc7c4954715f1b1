/**
 * 401/403/404 with a disk spool: the points stay spooled and are retried with a long
 * backoff, the error is logged once a minute, `blockedReason` (kovenant_sink_blocked)
 * says why; once fixed, everything is delivered. Without a spool, the batch is rejected
 * as before.
 */
import nock from 'nock';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createInfluxSink, type InfluxTarget } from '../../src/sinks/influx-sink.ts';
import { RetryPolicy } from '../../src/sinks/retry-policy.ts';
import { DaemonMetrics } from '../../src/telemetry/metrics.ts';
import { EventCounters } from '../../src/pipeline/event-counters.ts';
import { influxQuery, requireBinary, startInfluxd, type RunningServer } from '../support/servers.ts';
import { waitFor } from '../support/wait.ts';
import { captureLog, tcpPoints } from './fixtures.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function sinkTo(target: InfluxTarget, spool: boolean) {
  const captured = captureLog();
  let spoolDir: string | undefined;
  if (spool) {
    spoolDir = mkdtempSync(join(tmpdir(), 'kovenant-blocked-'));
    dirs.push(spoolDir);
  }
  const sink = await createInfluxSink({
    target,
    spoolDir,
    spoolMaxBytes: 64 << 20,
    log: captured.log,
    delivery: {
      retryPolicy: new RetryPolicy({ minDelayMs: 10, maxDelayMs: 50, base: 2 }),
      blockedRetryMs: 20,
      flushIntervalMs: 5,
      drainTimeoutMs: 20_000,
      maxRetryTimeMs: 2_000,
    },
  });
  return { sink, ...captured };
}

describe('401 and 403 (nock)', () => {
  const URL_BASE = 'http://influx.test:8086';
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  it.each([
    [401, 'unauthorized'],
    [403, 'forbidden'],
  ])(
    '%i with a spool: kept, retried, logged once, then delivered',
    async (status, reason) => {
      let refusals = 0;
      const scope = nock(URL_BASE)
        .post(/^\/write/)
        .times(6)
        .reply(() => (refusals++, [status, { error: 'authorization failed' }]))
        .post(/^\/write/)
        .reply(204);
      const { sink, lines } = await sinkTo({ api: 'v1', url: URL_BASE, db: 'k' }, true);
      const metrics = new DaemonMetrics({
        counters: new EventCounters(),
        openWindows: () => 0,
        lagSeconds: () => undefined,
        metadataSynced: () => true,
        sinkStats: () => sink.stats(),
      });
      await sink.write(tcpPoints(0, 5));
      await waitFor('two refusals', () => refusals >= 2, 20_000);
      expect(sink.stats().blockedReason).toBe(reason);
      expect(await metrics.registry.getSingleMetricAsString('kovenant_sink_blocked')).toContain(
        `kovenant_sink_blocked{reason="${reason}"} 1`,
      );
      await waitFor('delivery', () => sink.stats().acknowledged === 5, 30_000);
      expect(sink.stats()).toMatchObject({ rejected: 0, acknowledged: 5, blockedReason: undefined });
      expect(await metrics.registry.getSingleMetricAsString('kovenant_sink_blocked')).toContain(
        `kovenant_sink_blocked{reason="${reason}"} 0`,
      );
      // Six refusals within a minute: one error line.
      expect(lines.filter((l) => l.level === 50 && l.msg.includes('refuses every write'))).toHaveLength(1);
      await sink.close();
      expect(scope.isDone()).toBe(true);
    },
    60_000,
  );

  it('401 without a spool: rejected, as documented', async () => {
    nock(URL_BASE)
      .post(/^\/write/)
      .reply(401, { error: 'authorization failed' });
    const { sink } = await sinkTo({ api: 'v1', url: URL_BASE, db: 'k' }, false);
    await sink.write(tcpPoints(0, 5));
    await sink.close().catch(() => undefined);
    expect(sink.stats()).toMatchObject({ rejected: 5, acknowledged: 0 });
  });
});

describe.skipIf(!requireBinary('/usr/bin/influxd'))('404 from a real InfluxDB 1.x: the database does not exist yet', () => {
  let influx: RunningServer;
  beforeAll(async () => {
    influx = await startInfluxd();
  });
  afterAll(async () => influx?.dispose());

  it('keeps the points spooled until the database is created, then delivers them all', async () => {
    const { sink } = await sinkTo({ api: 'v1', url: influx.url, db: 'later' }, true);
    await sink.write(tcpPoints(0, 40));
    await waitFor('blocked', () => sink.stats().blockedReason === 'not_found', 20_000);
    expect(sink.stats().pending).toBe(40);
    await fetch(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE later')}`, { method: 'POST' });
    await waitFor('delivery', () => sink.stats().acknowledged === 40, 30_000);
    await sink.close();
    const rows = await influxQuery(influx.url, 'later', 'SELECT count(bytes_sent) FROM kovenant_tcp');
    expect(rows[0]?.values[0]?.[1]).toBe(40);
  }, 60_000);
});
