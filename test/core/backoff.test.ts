import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelayMs } from '../../src/core/backoff.ts';

describe('backoff', () => {
  it('grows by the factor from the first wait up to the cap; no jitter is the ceiling itself', () => {
    const waits = [1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, { initialMs: 100, maxMs: 1_000, jitter: 'none' }));
    expect(waits).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffDelayMs(3, { initialMs: 100, maxMs: 10_000, factor: 3, jitter: 'none' })).toBe(900);
  });

  it('equal jitter waits between half the ceiling and the ceiling; a spread stays within ± spread', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2_000 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const ceiling = Math.min(60_000, 500 * 2 ** Math.min(attempt - 1, 64));
        const equal = backoffDelayMs(attempt, { initialMs: 500, maxMs: 60_000, jitter: 'equal', random: () => r });
        expect(equal).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(equal).toBeLessThanOrEqual(ceiling);
        const spread = backoffDelayMs(attempt, { initialMs: 500, maxMs: 60_000, jitter: { spread: 0.2 }, random: () => r });
        expect(spread).toBeGreaterThanOrEqual(Math.floor(ceiling * 0.8));
        expect(spread).toBeLessThanOrEqual(Math.ceil(ceiling * 1.2));
      }),
      { seed: 12 },
    );
  });

  it('stays a number after any number of failures, even from a zero first wait', () => {
    expect(backoffDelayMs(100_000, { initialMs: 0, maxMs: 1_000, jitter: 'none' })).toBe(0);
    expect(backoffDelayMs(100_000, { initialMs: 10, maxMs: 1_000, jitter: 'none' })).toBe(1_000);
  });

  it('counts failures in a row until reset', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 1_000, jitter: 'none' });
    expect([b.next(), b.next(), b.next()]).toEqual([10, 20, 40]);
    expect(b.failures).toBe(3);
    b.reset();
    expect(b.next()).toBe(10);
  });
});
