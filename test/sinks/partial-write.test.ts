/**
 * InfluxDB 1.x partial writes: the server stores what it can and answers 400
 * `partial write: ... dropped=N`. kovenant counts the stored points as acknowledged and
 * only the dropped ones as rejected, and never logs a whole 100 KB server message.
 */
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/sinks/delivery-stats.ts';
import { InfluxDeliverySink } from '../../src/sinks/influx-delivery.ts';
import { createTransport } from '../../src/sinks/influx-sink.ts';
import type { MetricPoint } from '../../src/core/metric-point.ts';
import { RetryPolicy, partialWriteDropped } from '../../src/sinks/retry-policy.ts';
import { MemorySpool } from '../../src/sinks/spool.ts';
import { influxQuery, requireBinary, startInfluxd, type RunningServer } from '../support/servers.ts';
import { captureLog, tcpPoints } from './fixtures.ts';

function sinkTo(url: string, db: string) {
  const captured = captureLog();
  let sink: InfluxDeliverySink | undefined;
  const spool = new MemorySpool(1 << 24, (d) => sink?.recordDrop(d.points, d.bytes, d.reason));
  sink = new InfluxDeliverySink(spool, createTransport({ api: 'v1', url, db }, 1000, 10_000), captured.log, {
    retryPolicy: new RetryPolicy({ minDelayMs: 10, maxDelayMs: 100, base: 2 }),
    maxRetryTimeMs: 5_000,
    flushIntervalMs: 5,
    batchPoints: 1000,
  });
  return { sink, ...captured };
}

function at(points: MetricPoint[], timeMs: number): MetricPoint[] {
  return points.map((p) => ({ ...p, timeMs }));
}

describe('partial write answers', () => {
  it('reads dropped=N from the messages InfluxDB 1.x sends', () => {
    expect(partialWriteDropped('partial write: points beyond retention policy dropped=7')).toBe(7);
    expect(partialWriteDropped("partial write: unable to parse 'x y': invalid field format dropped=1")).toBe(1);
    expect(partialWriteDropped('database not found: "k"')).toBeUndefined();
  });
});

describe.skipIf(!requireBinary('/usr/bin/influxd'))('InfluxDB 1.x with a retention policy that drops old points', () => {
  let influx: RunningServer;
  beforeAll(async () => {
    influx = await startInfluxd();
    for (const q of ['CREATE DATABASE rp', 'CREATE RETENTION POLICY short ON rp DURATION 1h REPLICATION 1 DEFAULT']) {
      const res = await fetch(`${influx.url}/query?q=${encodeURIComponent(q)}`, { method: 'POST' });
      expect(res.ok, await res.text()).toBe(true);
    }
  });
  afterAll(async () => influx?.dispose());

  it('counts 34 stored points as acknowledged and 7 beyond retention as rejected', async () => {
    const now = Math.floor(Date.now() / 10_000) * 10_000;
    const points = [...at(tcpPoints(0, 34), now), ...at(tcpPoints(1, 7, 99), now - 3 * 86_400_000)];
    const { sink, lines } = sinkTo(influx.url, 'rp');
    await sink.write(points);
    const err = await sink.close().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeliveryError);
    expect(sink.stats()).toMatchObject({ accepted: 41, acknowledged: 34, rejected: 7, failed: 0, dropped: 0 });
    expect((err as Error).message).toMatch(/^7 points not acknowledged/);
    const rows = await influxQuery(influx.url, 'rp', 'SELECT count(bytes_sent) FROM kovenant_tcp');
    expect(rows[0]?.values[0]?.[1]).toBe(34);
    const logged = lines.find((l) => l.msg.includes('partial write'));
    expect(logged?.msg).toMatch(/stored 34 of 41 points and refused 7/);
  });
});

describe('a 100 KB server message', () => {
  beforeAll(() => nock.disableNetConnect());
  afterAll(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('is cut to a readable length in the log and the error', async () => {
    const huge = `unable to parse '${'x'.repeat(100_000)}': invalid field format`;
    nock('http://influx.test:8086')
      .post(/^\/write/)
      .reply(400, { error: huge });
    const { sink, lines } = sinkTo('http://influx.test:8086', 'k');
    await sink.write(tcpPoints(0, 3));
    await sink.close().catch(() => undefined);
    const refused = lines.find((l) => l.msg.includes('refused'));
    expect(refused).toBeDefined();
    expect(JSON.stringify(refused).length).toBeLessThan(2_000);
    expect(refused!.msg).toContain('more characters');
    expect(sink.stats()).toMatchObject({ rejected: 3 });
  });
});
