/**
 * The byte encoder must spell every point exactly as the text formatter does: the same
 * UTF-8 bytes as `formatPoint(point) + '\n'`, for any tags, numbers and times, and across
 * batches that outgrow its buffer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../src/core/metric-point.ts';
import { LineEncoder, MAX_CACHED_KEYS } from '../../src/sinks/line-protocol-bytes.ts';
import { formatPoint } from '../../src/sinks/line-protocol.ts';

const text = fc.string({ unit: 'binary', maxLength: 12 });
const intValue = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double({ noNaN: false }),
  fc.constantFrom(-0, 0.5, -0.5, 2 ** 53, 2 ** 53 + 2, 1e21, -1e21, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 9.99),
);
const floatValue = fc.double({ noNaN: true, noDefaultInfinity: true });
const point: fc.Arbitrary<MetricPoint> = fc.record(
  {
    measurement: text,
    tags: fc.dictionary(text, text, { maxKeys: 4 }),
    ints: fc.dictionary(text, intValue, { maxKeys: 5 }),
    floats: fc.dictionary(text, floatValue, { maxKeys: 3 }),
    timeMs: fc.oneof(fc.nat(), fc.constantFrom(0, 1, 1_795_168_800_000)),
    key: text,
  },
  { requiredKeys: ['measurement', 'tags', 'ints', 'timeMs'] },
);

const expected = (points: readonly MetricPoint[]): Buffer => Buffer.from(points.map((p) => `${formatPoint(p)}\n`).join(''), 'utf8');

describe('line protocol as bytes', () => {
  it('gives the UTF-8 of formatPoint and a newline for every point, batch after batch', () => {
    fc.assert(
      fc.property(fc.array(fc.array(point, { maxLength: 20 }), { maxLength: 4 }), fc.constantFrom(1, 16, 1 << 20), (batches, size) => {
        const encoder = new LineEncoder(size);
        for (const batch of batches) expect(encoder.encode(batch).equals(expected(batch))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('spells a series key again right from its cached bytes, also once the cache started over', () => {
    const keyed = (key: string, n: number): MetricPoint => ({ measurement: 'm', tags: {}, ints: { n }, timeMs: 1, key });
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.tuple(fc.constantFrom('m,a=b', 'm,a=é', 'm,a=\ud800', 'm'), fc.integer()), { maxLength: 8 })),
        (batches) => {
          const encoder = new LineEncoder(16);
          for (const batch of batches) {
            const points = batch.map(([key, n]) => keyed(key, n));
            expect(encoder.encode(points).equals(expected(points))).toBe(true);
          }
        },
      ),
    );
    const encoder = new LineEncoder();
    const many = Array.from({ length: MAX_CACHED_KEYS + 2 }, (_, i) => keyed(`m,k=${i}`, i));
    expect(encoder.encode(many).equals(expected(many))).toBe(true);
    const again = [keyed('m,k=0', 7), keyed(`m,k=${MAX_CACHED_KEYS + 1}`, 8), keyed('m,k=1', 9)];
    expect(encoder.encode(again).toString()).toBe(`m,k=0 n=7i 1000000\nm,k=${MAX_CACHED_KEYS + 1} n=8i 1000000\nm,k=1 n=9i 1000000\n`);
  });

  it('hands out a copy: a later batch does not change an earlier one', () => {
    const encoder = new LineEncoder(64);
    const p = (n: number): MetricPoint => ({ measurement: 'm', tags: { a: 'b' }, ints: { n }, timeMs: 1 });
    const first = encoder.encode([p(1)]);
    encoder.encode([p(2), p(3)]);
    expect(first.toString()).toBe('m,a=b n=1i 1000000\n');
  });

  it('lends bytes that stay as they are until given back, and reuses them only after', () => {
    const encoder = new LineEncoder(64);
    const p = (n: number): MetricPoint => ({ measurement: 'm', tags: { a: 'b' }, ints: { n }, timeMs: 1 });
    const first = encoder.lend([p(1)]);
    const second = encoder.lend([p(2), p(3)]);
    expect(first.toString()).toBe('m,a=b n=1i 1000000\n');
    expect(second.buffer).not.toBe(first.buffer);
    encoder.giveBack(first);
    const third = encoder.lend([p(4)]);
    expect(third.buffer).toBe(first.buffer);
    expect(second.toString()).toBe('m,a=b n=2i 1000000\nm,a=b n=3i 1000000\n');
    expect(third.toString()).toBe('m,a=b n=4i 1000000\n');
  });

  it('refuses a float that is not finite, as the text formatter does', () => {
    const bad: MetricPoint = { measurement: 'm', tags: {}, ints: {}, floats: { f: Infinity }, timeMs: 0 };
    expect(() => new LineEncoder().encode([bad])).toThrow(RangeError);
  });
});
