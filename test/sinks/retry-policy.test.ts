import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRetryableStatus, parseRetryAfter, RetryPolicy, WriteFailure } from '../../src/sinks/retry-policy.ts';

describe('RetryPolicy', () => {
  it('backs off exponentially with jitter, between half the ceiling and the ceiling, capped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const policy = new RetryPolicy({ minDelayMs: 100, maxDelayMs: 10_000, base: 2 }, () => r);
        const ceiling = Math.min(10_000, 100 * 2 ** (attempt - 1));
        const d = policy.delayMs(attempt, undefined);
        expect(d).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(d).toBeLessThanOrEqual(ceiling);
      }),
      { seed: 7 },
    );
  });

  it('spreads writers that failed together', () => {
    const low = new RetryPolicy(undefined, () => 0).delayMs(3, undefined);
    const high = new RetryPolicy(undefined, () => 0.99).delayMs(3, undefined);
    expect(high - low).toBeGreaterThan(500);
  });

  it("prefers the server's Retry-After, within the cap", () => {
    const policy = new RetryPolicy({ minDelayMs: 100, maxDelayMs: 60_000, base: 2 }, () => 0);
    expect(policy.delayMs(1, new WriteFailure('429', 429, 30_000, undefined))).toBe(30_000);
    expect(policy.delayMs(1, new WriteFailure('429', 429, 3_600_000, undefined))).toBe(60_000);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:05 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('retries 429, 5xx and network errors, never other 4xx', () => {
    for (const s of [429, 500, 502, 503, 504, undefined]) expect(isRetryableStatus(s)).toBe(true);
    for (const s of [400, 401, 403, 404, 408, 413, 422]) expect(isRetryableStatus(s)).toBe(false);
  });
});
