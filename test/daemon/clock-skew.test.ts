/**
 * A far-future event time must not poison a node's watermark: the daemon rejects events
 * further ahead of its clock than --max-clock-skew (time_in_future) and times InfluxDB
 * cannot store (invalid_time); the events after them are written in their own windows.
 */
import { describe, expect, it } from 'vitest';
import { kprobeLine } from '../support/tetragon-lines.ts';
import { parseLineProtocol, startDaemon } from './support.ts';

const POD = { namespace: 'shop', name: 'cart-1' };

describe('kovenant run: event times ahead of the clock', () => {
  it('rejects year 9999 and year 2100 events and keeps the later events in their windows', async () => {
    const now = Date.now();
    const iso = (ms: number): string => new Date(ms).toISOString();
    const lines: string[] = [];
    for (let i = 0; i < 50; i++)
      lines.push(kprobeLine({ fn: '__x64_sys_write', node: 'n1', time: iso(now - 60_000 + i), pod: POD, size: '10' }));
    lines.push(kprobeLine({ fn: '__x64_sys_write', node: 'n1', time: '9999-12-31T23:59:59Z', pod: POD, size: '1000' }));
    lines.push(kprobeLine({ fn: '__x64_sys_write', node: 'n1', time: '2100-01-01T00:00:00Z', pod: POD, size: '1000' }));
    lines.push(kprobeLine({ fn: '__x64_sys_write', node: 'n1', time: iso(now + 10 * 60_000), pod: POD, size: '1000' }));
    for (let i = 0; i < 50; i++)
      lines.push(kprobeLine({ fn: '__x64_sys_write', node: 'n1', time: iso(now - 30_000 + i), pod: POD, size: '10' }));

    // Within the allowed skew: accepted.
    lines.push(kprobeLine({ fn: '__x64_sys_write', node: 'n1', time: iso(now + 60_000), pod: POD, size: '7' }));
    const d = startDaemon([], ['run', '--events', '-', '--metrics-addr', 'off', '--lateness', '1s'], {}, 'pipe');
    d.child.stdin!.end(lines.join('\n') + '\n');
    expect(await d.exited(60_000)).toBe(0);
    const points = parseLineProtocol(d.stdout()).filter((p) => p.measurement === 'kovenant_io');
    const total = points.reduce((s, p) => s + (p.fields.bytes_written ?? 0), 0);
    expect(total).toBe(1007);
    for (const p of points) expect(Number(p.timeNs / 1_000_000n)).toBeLessThan(now + 5 * 60_000);
    // No event was late: the rejected ones moved no watermark.
    const stopped = d
      .stderr()
      .split('\n')
      .find((l) => l.includes('"stopped"'));
    expect(JSON.parse(stopped!)).toMatchObject({ read: 104, used: 101, late: 0 });
  }, 90_000);
});
