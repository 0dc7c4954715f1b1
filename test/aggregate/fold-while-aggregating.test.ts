/**
 * The cardinality guard inside the aggregator (issue 11): open windows hold at most
 * 2 × max peers' series plus one `other` per local party, whatever the number of
 * distinct peers, with exact totals; the batch guard at the write then leaves at most
 * `max` names, and merges its folds into the `other` series already there.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FOLDED_PEER_NAME, guardExternalPeers } from '../../src/aggregate/external-peer-guard.ts';
import { TCP_FIELDS } from '../../src/aggregate/field-schema.ts';
import { WindowAggregator } from '../../src/aggregate/window-aggregator.ts';
import { makeSeries, type Series } from '../../src/core/series.ts';
import type { MetricPoint } from '../../src/core/metric-point.ts';

const series = new Map<string, Series>();
function tcp(pod: string, peer: string, kind = 'external'): Series {
  const id = `${pod} ${peer} ${kind}`;
  let s = series.get(id);
  if (!s) series.set(id, (s = makeSeries('kovenant_tcp', { node: 'n1', pod, remote_kind: kind, remote_name: peer })));
  return s;
}

function send(agg: WindowAggregator, t: number, s: Series, bytes: number): void {
  const v = agg.slotValues('n1', t, s, TCP_FIELDS);
  v[0]! += bytes;
  v[2]!++;
}

function sums(points: readonly MetricPoint[], by: (p: MetricPoint) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of points) out.set(by(p), (out.get(by(p)) ?? 0) + (p.ints.bytes_sent ?? 0) * 1000 + (p.ints.sends ?? 0));
  return out;
}

describe('folding external peers while aggregating', () => {
  it('10,000 distinct peers in one window: memory bounded by the guard, totals exact, max names written', () => {
    const agg = new WindowAggregator({ windowMs: 10_000, latenessMs: Infinity, maxExternalPeers: 5 });
    let peak = 0;
    let bytes = 0;
    for (let i = 0; i < 10_000; i++) {
      const size = 1 + ((i * 7919) % 1000);
      bytes += size;
      send(agg, 1000, tcp(`p${i % 3}`, `198.51.${i >> 8}.${i & 255}`), size);
      peak = Math.max(peak, agg.openPoints);
    }
    // 2 × 5 peers' series, plus one `other` per pod.
    expect(peak).toBeLessThanOrEqual(2 * 5 + 3);
    expect(agg.externalPeersFolded).toBeGreaterThan(9_000);
    const guarded = guardExternalPeers(agg.closeAll(), 5);
    const names = new Set(guarded.points.map((p) => p.tags.remote_name));
    expect(names.size).toBe(6);
    expect(names.has(FOLDED_PEER_NAME)).toBe(true);
    expect(guarded.points.filter((p) => p.tags.remote_name === FOLDED_PEER_NAME)).toHaveLength(3);
    expect(guarded.points.reduce((n, p) => n + p.ints.bytes_sent!, 0)).toBe(bytes);
    expect(new Set(guarded.points.map((p) => p.key)).size).toBe(guarded.points.length);
  });

  it('keeps a big peer that arrives late once it outgrows the small ones', () => {
    const agg = new WindowAggregator({ windowMs: 10_000, latenessMs: Infinity, maxExternalPeers: 2 });
    for (let i = 0; i < 100; i++) send(agg, 1000, tcp('p', `198.51.100.${i}`), 1);
    for (let i = 0; i < 5; i++) send(agg, 2000, tcp('p', '203.0.113.7'), 1000);
    for (let i = 100; i < 110; i++) send(agg, 3000, tcp('p', `198.51.100.${i}`), 1);
    const points = guardExternalPeers(agg.closeAll(), 2).points;
    expect(points.find((p) => p.tags.remote_name === '203.0.113.7')?.ints.bytes_sent).toBe(5000);
  });

  it('property: per local party and per window, the sums are those of the unguarded aggregation', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            t: fc.integer({ min: 0, max: 29_999 }),
            pod: fc.constantFrom('a', 'b', 'c'),
            peer: fc.integer({ min: 0, max: 40 }),
            kind: fc.constantFrom('external', 'external', 'pod'),
            bytes: fc.nat(500),
          }),
          { maxLength: 300 },
        ),
        fc.integer({ min: 1, max: 6 }),
        (events, max) => {
          const guarded = new WindowAggregator({ windowMs: 10_000, latenessMs: Infinity, maxExternalPeers: max });
          const plain = new WindowAggregator({ windowMs: 10_000, latenessMs: Infinity });
          for (const e of events) {
            const s = tcp(e.pod, `192.0.2.${e.peer}`, e.kind);
            send(guarded, e.t, s, e.bytes);
            send(plain, e.t, s, e.bytes);
          }
          const a = guardExternalPeers(guarded.closeAll(), max).points;
          const b = plain.closeAll();
          const byParty = (p: MetricPoint): string => `${p.timeMs} ${p.tags.pod} ${p.tags.remote_kind}`;
          expect(sums(a, byParty)).toEqual(sums(b, byParty));
          // Non-external series are never touched.
          const pods = (ps: readonly MetricPoint[]): MetricPoint[] => ps.filter((p) => p.tags.remote_kind === 'pod');
          expect(sums(pods(a), (p) => `${p.timeMs} ${p.key}`)).toEqual(sums(pods(b), (p) => `${p.timeMs} ${p.key}`));
          // At most `max` names per window, each series once.
          for (const w of new Set(a.map((p) => p.timeMs))) {
            const names = new Set(
              a
                .filter((p) => p.timeMs === w && p.tags.remote_kind === 'external' && p.tags.remote_name !== FOLDED_PEER_NAME)
                .map((p) => p.tags.remote_name),
            );
            expect(names.size).toBeLessThanOrEqual(max);
          }
          expect(new Set(a.map((p) => `${p.timeMs} ${p.key}`)).size).toBe(a.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a restored checkpoint keeps folding from the saved windows', () => {
    const agg = new WindowAggregator({ windowMs: 10_000, latenessMs: Infinity, maxExternalPeers: 2 });
    for (let i = 0; i < 3; i++) send(agg, 1000, tcp('p', `198.51.100.${i}`), 10 + i);
    const restored = new WindowAggregator({ windowMs: 10_000, latenessMs: Infinity, maxExternalPeers: 2 });
    restored.restore(JSON.parse(JSON.stringify(agg.snapshot())));
    for (let i = 3; i < 50; i++) send(restored, 1000, tcp('p', `198.51.100.${i}`), 1);
    expect(restored.openPoints).toBeLessThanOrEqual(2 * 2 + 1);
    expect(restored.closeAll().reduce((n, p) => n + p.ints.bytes_sent!, 0)).toBe(10 + 11 + 12 + 47);
  });
});
