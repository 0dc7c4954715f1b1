/** The resolver's one cache: an exact bound, recently used entries kept, evictions counted. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AttributionCache } from '../../src/enrich/attribution-cache.ts';

describe('AttributionCache', () => {
  it('never holds more than its bound, and what it returns is the last value set for the key', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 })), { maxLength: 300 }),
        (max, ops) => {
          const cache = new AttributionCache(max);
          const truth = new Map<string, object>();
          let sets = 0;
          for (const [isSet, k] of ops) {
            const key = `k${k}`;
            if (isSet) {
              const value = { k, n: sets++ };
              cache.set(key, value);
              truth.set(key, value);
            } else {
              const got = cache.get(key);
              if (got !== undefined) expect(got).toBe(truth.get(key));
            }
            expect(cache.size).toBeLessThanOrEqual(max);
          }
          // Every distinct key set and not held any more was counted as evicted (a key
          // evicted, set again and evicted again counts twice).
          let held = 0;
          for (const key of truth.keys()) if (cache.get(key) !== undefined) held++;
          expect(held).toBe(cache.size);
          expect(cache.evictions).toBeGreaterThanOrEqual(truth.size - cache.size);
          expect(cache.evictions).toBeLessThanOrEqual(sets - cache.size);
        },
      ),
    );
  });

  it('keeps an entry used all the time while many others come and go', () => {
    const cache = new AttributionCache(10);
    const hot = {};
    cache.set('hot', hot);
    for (let i = 0; i < 1000; i++) {
      cache.set(`cold${i}`, {});
      expect(cache.get('hot')).toBe(hot);
    }
    expect(cache.size).toBeLessThanOrEqual(10);
    expect(cache.evictions).toBe(1001 - cache.size);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get('hot')).toBeUndefined();
  });
});
