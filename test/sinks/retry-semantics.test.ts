import nock from 'nock';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/sinks/delivery-stats.ts';
import { InfluxDeliverySink } from '../../src/sinks/influx-delivery.ts';
import { formatPoint } from '../../src/sinks/line-protocol.ts';
import { createTransport, type InfluxTarget } from '../../src/sinks/influx-sink.ts';
import { RetryPolicy } from '../../src/sinks/retry-policy.ts';
import { MemorySpool } from '../../src/sinks/spool.ts';
import { captureLog, tcpPoints } from './fixtures.ts';

const URL_BASE = 'http://influx.test:8086';

interface Api {
  name: string;
  target: InfluxTarget;
  path: RegExp;
  /** How this API phrases an error body. */
  errorBody: (message: string) => object;
}

const APIS: Api[] = [
  {
    name: 'v1 /write',
    target: { api: 'v1', url: URL_BASE, db: 'k' },
    path: /^\/write\?db=k&precision=ns$/,
    errorBody: (m) => ({ error: m }),
  },
  {
    name: 'v2 client',
    target: { api: 'v2', url: URL_BASE, org: 'o', bucket: 'b', token: 'secret-token' },
    path: /^\/api\/v2\/write\?org=o&bucket=b&precision=ns$/,
    errorBody: (m) => ({ code: 'invalid', message: m }),
  },
];

function sinkFor(api: Api, opts: { maxRetryTimeMs?: number } = {}) {
  const captured = captureLog();
  let sink: InfluxDeliverySink | undefined;
  const spool = new MemorySpool(1 << 20, (d) => sink?.recordDrop(d.points, d.bytes, d.reason));
  sink = new InfluxDeliverySink(spool, createTransport(api.target, 1000, 1000), captured.log, {
    retryPolicy: new RetryPolicy({ minDelayMs: 10, maxDelayMs: 5000, base: 2 }, () => 0.5),
    maxRetryTimeMs: opts.maxRetryTimeMs ?? 10_000,
    flushIntervalMs: 5,
    batchPoints: 1000,
  });
  return { sink, ...captured };
}

beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());
afterEach(() => nock.cleanAll());

describe.each(APIS)('retry semantics through $name', (api) => {
  it('waits as long as Retry-After says on 429 (seconds, not milliseconds), then delivers', async () => {
    const times: number[] = [];
    const scope = nock(URL_BASE)
      .post(api.path)
      .reply(
        () => (
          times.push(Date.now()),
          [429, api.errorBody('too many requests'), { 'Retry-After': '1', 'Content-Type': 'application/json' }]
        ),
      )
      .post(api.path)
      .reply(() => (times.push(Date.now()), [204, '']));
    const { sink } = sinkFor(api);
    await sink.write(tcpPoints(0, 3));
    await sink.close();
    expect(scope.isDone()).toBe(true);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(sink.stats()).toMatchObject({ accepted: 3, acknowledged: 3, retries: 1, rejected: 0, pending: 0 });
  });

  it('retries 503 with backoff and delivers', async () => {
    const scope = nock(URL_BASE)
      .post(api.path)
      .reply(503, 'unavailable')
      .post(api.path)
      .reply(503, 'unavailable')
      .post(api.path)
      .reply(204);
    const { sink } = sinkFor(api);
    await sink.write(tcpPoints(0, 5));
    await sink.close();
    expect(scope.isDone()).toBe(true);
    expect(sink.stats()).toMatchObject({ acknowledged: 5, retries: 2, requests: 1 });
  });

  it('does not retry 400, logs the server message, counts the points and fails close()', async () => {
    const scope = nock(URL_BASE)
      .post(api.path)
      .reply(400, api.errorBody('unable to parse: bad timestamp'), { 'Content-Type': 'application/json' });
    const { sink, lines } = sinkFor(api);
    await sink.write(tcpPoints(0, 4));
    const closing = sink.close();
    await expect(closing).rejects.toBeInstanceOf(DeliveryError);
    await expect(closing).rejects.toThrow(/^4 points not acknowledged .*4 rejected by the server/);
    expect(scope.isDone()).toBe(true);
    expect(sink.stats()).toMatchObject({ rejected: 4, acknowledged: 0, retries: 0 });
    const error = lines.find((l) => l.level === 50);
    expect(error?.server).toBe('unable to parse: bad timestamp');
    expect(error?.status).toBe(400);
    expect(JSON.stringify(lines)).not.toContain('secret-token');
  });

  it('retries a connection reset', async () => {
    const scope = nock(URL_BASE)
      .post(api.path)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .post(api.path)
      .reply(204);
    const { sink } = sinkFor(api);
    await sink.write(tcpPoints(0, 2));
    await sink.close();
    expect(scope.isDone()).toBe(true);
    expect(sink.stats()).toMatchObject({ acknowledged: 2, retries: 1 });
  });

  it('gzips large bodies and sends every line exactly once', async () => {
    const bodies: string[] = [];
    nock(URL_BASE)
      .matchHeader('content-encoding', 'gzip')
      .post(api.path)
      .times(10)
      .reply(function (_uri, body) {
        const raw =
          this.req.headers['content-encoding'] === 'gzip' && typeof body === 'string' ? Buffer.from(body, 'hex') : Buffer.alloc(0);
        bodies.push(raw.length ? gunzipSync(raw).toString('utf8') : String(body));
        return [204, ''];
      });
    const { sink } = sinkFor(api);
    await sink.write(tcpPoints(0, 2500));
    await sink.close();
    const lines = bodies.join('\n').split('\n');
    expect(lines).toHaveLength(2500);
    expect(new Set(lines).size).toBe(2500);
    expect(sink.stats().requests).toBe(3);
  });

  it('without a disk spool, gives up after the retry time and reports the loss', async () => {
    nock(URL_BASE).post(api.path).times(100).reply(503, 'down');
    const { sink, lines } = sinkFor(api, { maxRetryTimeMs: 100 });
    await sink.write(tcpPoints(0, 7));
    await expect(sink.close()).rejects.toThrow(/7 points not acknowledged.*7 failed after retries/);
    expect(lines.some((l) => l.level === 50 && l.msg.startsWith('DATA LOSS'))).toBe(true);
  });
});

describe('credentials', () => {
  it('v2 sends the token as "Token …", v1 sends basic auth, and neither is logged', async () => {
    const v2 = nock(URL_BASE)
      .matchHeader('authorization', 'Token secret-token')
      .post(/^\/api\/v2\/write/)
      .reply(204);
    const v1 = nock(URL_BASE)
      .matchHeader('authorization', `Basic ${Buffer.from('kov:pa55word').toString('base64')}`)
      .post(/^\/write\?db=k&rp=short&precision=ns$/)
      .reply(204);
    const { log, lines } = captureLog();
    for (const target of [
      { api: 'v2', url: URL_BASE, org: 'o', bucket: 'b', token: 'secret-token' },
      { api: 'v1', url: URL_BASE, db: 'k', rp: 'short', username: 'kov', password: 'pa55word' },
    ] as const) {
      const sink = new InfluxDeliverySink(new MemorySpool(1 << 20, () => {}), createTransport(target, 100), log, { flushIntervalMs: 1 });
      await sink.write(tcpPoints(0, 1));
      await sink.close();
      expect(sink.destination).not.toMatch(/secret|pa55/);
    }
    expect(v2.isDone() && v1.isDone()).toBe(true);
    expect(JSON.stringify(lines)).not.toMatch(/secret-token|pa55word/);
  });
});

describe('v2 client batching', () => {
  const v2 = APIS[1];
  if (!v2) throw new Error('APIS lost its v2 entry');

  it('sends a spooled record larger than the batch size as one request, retried until every line arrives', async () => {
    const received: string[] = [];
    const scope = nock(URL_BASE)
      .post(v2.path)
      .reply(503, 'unavailable')
      .post(v2.path)
      .reply((_uri, body) => (received.push(String(body)), [204, '']));
    const { log } = captureLog();
    const spool = new MemorySpool(1 << 20, () => {});
    // A record from an earlier run with --batch-size 10, delivered by a run with 2.
    const record = tcpPoints(0, 10);
    await spool.append(record.map(formatPoint).join('\n'), record.length);
    const sink = new InfluxDeliverySink(spool, createTransport(v2.target, 2, 1 << 20), log, {
      retryPolicy: new RetryPolicy({ minDelayMs: 10, maxDelayMs: 50, base: 2 }, () => 0.5),
      flushIntervalMs: 5,
      batchPoints: 2,
    });
    await sink.close();
    expect(scope.isDone()).toBe(true);
    expect(received.join('\n').split('\n')).toEqual(record.map(formatPoint));
    expect(sink.stats()).toMatchObject({ acknowledged: 10, retries: 1, requests: 1, pending: 0 });
  });

  it('counts a 2xx other than 204 (a proxy answering 200) as written, like v1', async () => {
    const scope = nock(URL_BASE).post(v2.path).reply(200, 'ok');
    const { sink } = sinkFor(v2);
    await sink.write(tcpPoints(0, 3));
    await sink.close();
    expect(scope.isDone()).toBe(true);
    expect(sink.stats()).toMatchObject({ acknowledged: 3, rejected: 0, retries: 0 });
  });
});
