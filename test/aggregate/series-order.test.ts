import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SeriesOrder } from '../../src/aggregate/series-order.ts';
import type { MetricPoint } from '../../src/core/metric-point.ts';

/** The order the output has always had: by window, then key as `<` compares; stable. */
function byStrings(points: readonly MetricPoint[]): MetricPoint[] {
  return [...points].sort((a, b) => a.timeMs - b.timeMs || ((a.key ?? '') < (b.key ?? '') ? -1 : (a.key ?? '') > (b.key ?? '') ? 1 : 0));
}

let arrival = 0;
function point(key: string, timeMs: number): MetricPoint {
  // `ints.n` tells apart points with the same key and time, to check stability.
  return { measurement: 'm', tags: {}, ints: { n: arrival++ }, timeMs, key };
}

// Keys with long shared prefixes, code units either side of the ASCII range, and repeats.
const keyArb = fc.oneof(
  fc.constantFrom('kovenant_tcp,a=1', 'kovenant_tcp,a=1,b=2', 'kovenant_tcp,a=2', 'kovenant_io,a=1', '', 'é', '\uffff', 'Z'),
  fc.string({ maxLength: 6 }).map((s) => `kovenant_tcp,pod=${s}`),
  fc.string({ maxLength: 3, unit: 'binary' }),
);
const batchArb = fc.array(fc.record({ key: keyArb, time: fc.constantFrom(0, 10_000, 20_000, -10_000) }), { maxLength: 40 });

describe('the series order', () => {
  it('sorts every batch as the string comparison does, across batches that share keys', () => {
    fc.assert(
      fc.property(fc.array(batchArb, { minLength: 1, maxLength: 8 }), fc.constantFrom(8, 50, 8192), (batches, maxKnown) => {
        const order = new SeriesOrder(maxKnown);
        for (const batch of batches) {
          const points = batch.map(({ key, time }) => point(key, time));
          const expected = byStrings(points);
          const sorted = order.sort(points);
          expect(sorted).toBe(points);
          expect(sorted).toEqual(expected);
          // Same objects in the same places: ties kept in arrival order.
          expect(sorted.every((p, i) => p === expected[i])).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a batch larger than its bound in key order too', () => {
    const order = new SeriesOrder(4);
    const points = ['d', 'b', 'a', 'c', 'b', 'e'].map((k) => point(k, 0));
    expect(order.sort([...points]).map((p) => p.key)).toEqual(['a', 'b', 'b', 'c', 'd', 'e']);
    // And the next, smaller batch still sorts right.
    expect(order.sort(['c', 'a'].map((k) => point(k, 0))).map((p) => p.key)).toEqual(['a', 'c']);
  });

  it('sorts points without a key first, as the empty key', () => {
    const order = new SeriesOrder();
    const keyless: MetricPoint = { measurement: 'm', tags: {}, ints: {}, timeMs: 0 };
    const sorted = order.sort([point('a', 0), keyless]);
    expect(sorted[0]).toBe(keyless);
  });
});
