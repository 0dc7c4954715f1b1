/** The cardinality guard: totals unchanged, at most N+1 external names per window, folds counted. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FOLDED_PEER_NAME, guardExternalPeers } from '../../src/aggregate/external-peer-guard.ts';
import type { MetricPoint } from '../../src/core/metric-point.ts';
import { seriesKey } from '../../src/core/series.ts';

const point = (measurement: string, timeMs: number, tags: Record<string, string>, ints: Record<string, number>): MetricPoint => ({
  measurement,
  timeMs,
  tags,
  ints,
  key: seriesKey(measurement, tags),
});

/** Points as the aggregator closes them: one per (window, series). */
const batch = fc
  .array(
    fc.record({
      measurement: fc.constantFrom('kovenant_tcp', 'kovenant_conntrack', 'kovenant_io'),
      window: fc.constantFrom(0, 10_000, 20_000),
      pod: fc.constantFrom('a', 'b'),
      kind: fc.constantFrom('external', 'external', 'pod'),
      peer: fc.integer({ min: 1, max: 12 }).map((n) => `203.0.113.${n}`),
      sent: fc.nat(1000),
      received: fc.nat(1000),
    }),
    { maxLength: 80 },
  )
  .map((rows) => {
    const byKey = new Map<string, MetricPoint>();
    for (const r of rows) {
      const tags: Record<string, string> =
        r.measurement === 'kovenant_io' ? { pod: r.pod } : { pod: r.pod, remote_kind: r.kind, remote_name: r.peer };
      const p = point(r.measurement, r.window, tags, { bytes_sent: r.sent, bytes_received: r.received, sends: 1 });
      byKey.set(`${r.window} ${p.key}`, p);
    }
    return [...byKey.values()];
  });

function totals(points: readonly MetricPoint[], by: (p: MetricPoint) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of points) for (const [f, v] of Object.entries(p.ints)) out.set(`${by(p)} ${f}`, (out.get(`${by(p)} ${f}`) ?? 0) + v);
  return out;
}

describe('guardExternalPeers', () => {
  it('changes no sum but the per-peer detail, keeps at most max+1 external names per window, counts the folded peers', () => {
    fc.assert(
      fc.property(batch, fc.integer({ min: 1, max: 6 }), (points, max) => {
        const { points: out, foldedPeers } = guardExternalPeers(points, max);
        // Sums by window, measurement and every tag but remote_name are unchanged.
        const keyWithoutPeer = (p: MetricPoint): string => `${p.timeMs} ${p.measurement} ${p.tags.pod} ${p.tags.remote_kind ?? ''}`;
        expect(totals(out, keyWithoutPeer)).toEqual(totals(points, keyWithoutPeer));
        let expectedFolded = 0;
        for (const window of new Set(points.map((p) => `${p.timeMs} ${p.measurement}`))) {
          const external = (ps: readonly MetricPoint[]): MetricPoint[] =>
            ps.filter((p) => `${p.timeMs} ${p.measurement}` === window && p.tags.remote_kind === 'external');
          const before = new Set(external(points).map((p) => p.tags.remote_name));
          const after = new Set(external(out).map((p) => p.tags.remote_name));
          const guarded = !window.endsWith('kovenant_io');
          if (guarded && before.size > max) {
            expectedFolded += before.size - max;
            expect(after.size).toBe(max + 1);
            expect(after.has(FOLDED_PEER_NAME)).toBe(true);
            // The kept peers are the biggest: none folded has more bytes than one kept.
            const bytes = (name: string): number =>
              external(points)
                .filter((p) => p.tags.remote_name === name)
                .reduce((s, p) => s + p.ints.bytes_sent! + p.ints.bytes_received!, 0);
            const kept = [...after].filter((n): n is string => n !== undefined && n !== FOLDED_PEER_NAME);
            const folded = [...before].filter((n): n is string => n !== undefined && !after.has(n));
            for (const f of folded) for (const k of kept) expect(bytes(f)).toBeLessThanOrEqual(bytes(k));
          } else {
            expect(after).toEqual(before);
          }
        }
        expect(foldedPeers).toBe(expectedFolded);
        // Still one point per (window, series).
        const ids = out.map((p) => `${p.timeMs} ${p.key}`);
        expect(new Set(ids).size).toBe(ids.length);
        for (const p of out) expect(p.key).toBe(seriesKey(p.measurement, p.tags));
      }),
    );
  });

  it('returns the batch itself when nothing is folded, and 0 disables it', () => {
    const points = [1, 2, 3].map((n) =>
      point('kovenant_tcp', 0, { remote_kind: 'external', remote_name: `203.0.113.${n}` }, { bytes_sent: n }),
    );
    expect(guardExternalPeers(points, 3).points).toBe(points);
    expect(guardExternalPeers(points, 0)).toEqual({ points, foldedPeers: 0 });
    const folded = guardExternalPeers(points, 1);
    expect(folded.foldedPeers).toBe(2);
    expect(folded.points.map((p) => [p.tags.remote_name, p.ints.bytes_sent])).toEqual([
      [FOLDED_PEER_NAME, 3],
      ['203.0.113.3', 3],
    ]);
  });
});

describe('ranking per node', () => {
  it("one node's window folds the same peers whether or not another node's window is in the batch", () => {
    const point = (node: string, peer: string, bytes: number): MetricPoint => ({
      measurement: 'kovenant_tcp',
      tags: { node, remote_kind: 'external', remote_name: peer, workload: node, workload_kind: 'host' },
      ints: { bytes_sent: bytes, bytes_received: 0 },
      timeMs: 0,
    });
    const a = [point('a', '203.0.113.1', 10), point('a', '203.0.113.2', 5)];
    // Node b makes 203.0.113.2 big in the batch as a whole; node a's choice must not change.
    const b = [point('b', '203.0.113.2', 1000), point('b', '203.0.113.3', 1)];
    const names = (points: readonly MetricPoint[]): string[] =>
      points
        .filter((p) => p.tags.node === 'a')
        .map((p) => p.tags.remote_name ?? '')
        .sort();
    const alone = guardExternalPeers(a, 1).points;
    const together = guardExternalPeers([...a, ...b], 1).points;
    expect(names(alone)).toEqual(['203.0.113.1', 'other']);
    expect(names(together)).toEqual(names(alone));
  });
});

describe('guardExternalPeers with DNS names (remote_dns)', () => {
  const ext = (ip: string, bytes: number, dns?: string): MetricPoint =>
    point(
      'kovenant_tcp',
      0,
      { node: 'n1', pod: 'api', remote_kind: 'external', remote_name: ip, ...(dns ? { remote_dns: dns } : {}) },
      { bytes_sent: bytes, bytes_received: 0 },
    );

  it('counts a name once however many addresses it has, and keeps or folds them together', () => {
    const s3 = Array.from({ length: 500 }, (_, i) => ext(`52.216.${i >> 8}.${i & 255}`, 10, 's3.eu-west-1.amazonaws.com'));
    const points = [...s3, ext('203.0.113.1', 3000), ext('203.0.113.2', 20), ext('198.51.100.1', 5, 'tiny.example')];
    // Two places: the S3 name (5000 bytes over 500 addresses) and 203.0.113.1.
    const { points: out, foldedPeers } = guardExternalPeers(points, 2);
    expect(foldedPeers).toBe(2);
    expect(out.filter((p) => p.tags.remote_dns === 's3.eu-west-1.amazonaws.com')).toHaveLength(500);
    expect(out.find((p) => p.tags.remote_name === '203.0.113.1')?.ints.bytes_sent).toBe(3000);
    // Folded: one `other` series, without the names that went into it.
    const other = out.filter((p) => p.tags.remote_name === FOLDED_PEER_NAME);
    expect(other).toHaveLength(1);
    expect(other[0]!.tags.remote_dns).toBeUndefined();
    expect(other[0]!.ints.bytes_sent).toBe(25);
    expect(other[0]!.key).toBe(
      seriesKey('kovenant_tcp', { node: 'n1', pod: 'api', remote_kind: 'external', remote_name: FOLDED_PEER_NAME }),
    );
  });

  it('folds all the addresses of a small name', () => {
    const points = [ext('203.0.113.1', 3000), ext('198.51.100.1', 5, 'tiny.example'), ext('198.51.100.2', 5, 'tiny.example')];
    const { points: out, foldedPeers } = guardExternalPeers(points, 1);
    expect(foldedPeers).toBe(1);
    expect(out.map((p) => [p.tags.remote_name, p.tags.remote_dns, p.ints.bytes_sent])).toEqual([
      ['203.0.113.1', undefined, 3000],
      ['other', undefined, 10],
    ]);
  });
});
