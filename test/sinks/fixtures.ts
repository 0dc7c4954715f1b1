/** Shared test fixtures for sink tests: points, a capturing logger, sums. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/telemetry/logger.ts';
import type { MetricPoint } from '../../src/core/metric-point.ts';

export interface CapturedLog {
  log: Logger;
  lines: Array<{ level: number; msg: string } & Record<string, unknown>>;
}

export function captureLog(): CapturedLog {
  const lines: CapturedLog['lines'] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as CapturedLog['lines'][number]);
      cb();
    },
  });
  return { log: pino({ level: 'debug', redact: ['token', '*.token'] }, stream), lines };
}

/** `n` distinct tcp points in window `window` (10 s windows), bytes_sent = seed-derived. */
export function tcpPoints(window: number, n: number, seed = 1): MetricPoint[] {
  const out: MetricPoint[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      measurement: 'kovenant_tcp',
      tags: {
        node: `node-${i % 3}`,
        namespace: 'shop',
        pod: `api-${i}`,
        remote_kind: 'service',
        remote_name: 'db',
        remote_namespace: 'shop',
      },
      ints: {
        bytes_sent: ((window * 7919 + i * 104729 + seed) % 100_000) + 1,
        bytes_received: i + 1,
        sends: 1,
        receives: 1,
        connects: 0,
        closes: 0,
      },
      timeMs: 1_700_000_000_000 + window * 10_000,
    });
  }
  return out;
}

export function sumField(points: readonly MetricPoint[], field: string): number {
  let s = 0;
  for (const p of points) s += p.ints[field] ?? 0;
  return s;
}
