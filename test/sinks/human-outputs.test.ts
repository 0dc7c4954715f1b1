import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { ConsoleSink } from '../../src/sinks/console-sink.ts';
import { pointToJson } from '../../src/sinks/json-sink.ts';
import { linesOf, TextStreamSink } from '../../src/sinks/text-stream-sink.ts';
import type { MetricPoint } from '../../src/core/metric-point.ts';
import { TrafficBoard } from '../../src/sinks/traffic-board.ts';

const tcp = (pod: string, remote: string, sent: number, received: number, timeMs = 10_000): MetricPoint => ({
  measurement: 'kovenant_tcp',
  tags: {
    namespace: 'shop',
    pod,
    workload: pod.split('-')[0] ?? pod,
    remote_kind: 'service',
    remote_namespace: 'shop',
    remote_name: remote,
  },
  ints: { bytes_sent: sent, bytes_received: received, connects: 1 },
  timeMs,
});
const io = (pod: string, read: number, written: number): MetricPoint => ({
  measurement: 'kovenant_io',
  tags: { namespace: 'shop', pod },
  ints: { bytes_read: read, bytes_written: written, reads: 1, writes: 1 },
  timeMs: 10_000,
});

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return () => text;
}

describe('TrafficBoard', () => {
  it('ranks pods and peers by total bytes summed over windows, and pods by I/O', () => {
    const board = new TrafficBoard();
    board.add([tcp('cart-1', 'redis', 100, 0), tcp('web-1', 'cart', 10, 10), io('db-0', 5000, 1), io('web-1', 1, 1)]);
    board.add([tcp('cart-1', 'redis', 100, 0, 20_000), tcp('web-1', 'cart', 1, 1, 20_000)]);
    const text = board.render(1);
    expect(text).toMatch(/^kovenant — 2 windows/);
    expect(text).toMatch(/shop\/cart-1 +cart +200 B +0 B +2\n/);
    expect(text).not.toContain('shop/web-1  ');
    expect(text).toMatch(/shop\/redis +service +200 B +0 B/);
    expect(text).toMatch(/shop\/db-0 +4\.9 KiB +1 B +2/);
  });
  it('sums the bytes sent per path in one line, in the contract order of paths', () => {
    const board = new TrafficBoard();
    expect(board.render(1).split('\n')[1]).toBe('sent by path: nothing yet');
    const at = (path: string, sent: number): MetricPoint => ({
      ...tcp('cart-1', 'redis', sent, 999),
      tags: { ...tcp('cart-1', 'redis', 0, 0).tags, path },
    });
    board.add([at('internet', 2048), at('cross-zone', 100), at('same-node', 1), at('cross-zone', 28)]);
    expect(board.render(1).split('\n')[1]).toBe('sent by path: same-node 1 B · cross-zone 128 B · internet 2.0 KiB');
  });
});

describe('ConsoleSink', () => {
  it('redraws in place on a terminal', async () => {
    vi.useFakeTimers();
    try {
      const out = Object.assign(new PassThrough(), { isTTY: true });
      const text = collect(out);
      const sink = new ConsoleSink({ out, refreshMs: 1000 });
      await sink.write([tcp('cart-1', 'redis', 1, 1)]);
      vi.advanceTimersByTime(1000);
      await sink.write([tcp('cart-1', 'redis', 1, 1, 20_000)]);
      vi.advanceTimersByTime(1000);
      await sink.close();
      expect(text().split('\x1b[H\x1b[2J')).toHaveLength(4); // two refreshes and the final frame
    } finally {
      vi.useRealTimers();
    }
  });

  it('prints plain text, without escape codes, when not a terminal', async () => {
    const out = new PassThrough();
    const text = collect(out);
    const sink = new ConsoleSink({ out });
    await sink.write([tcp('cart-1', 'redis', 1, 1)]);
    await sink.close();
    expect(text()).not.toContain('\x1b');
    expect(text()).toContain('PODS BY NETWORK BYTES');
  });
});

describe('the json output', () => {
  it('writes one parseable object per point with an exact nanosecond timestamp', async () => {
    const out = new PassThrough();
    const text = collect(out);
    const sink = new TextStreamSink(out, false, linesOf(pointToJson));
    const point = { ...tcp('cart-1', 'redis', 7, 8), timeMs: 1_790_000_000_000 };
    await sink.write([point, io('db-0', 1, 2)]);
    await sink.close();
    const lines = text().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      measurement: 'kovenant_tcp',
      time: '2026-09-21T14:13:20.000Z',
      timestamp_ns: '1790000000000000000',
      tags: point.tags,
      fields: { bytes_sent: 7, bytes_received: 8, connects: 1 },
    });
    expect(pointToJson(point)).toBe(lines[0]);
  });
});
