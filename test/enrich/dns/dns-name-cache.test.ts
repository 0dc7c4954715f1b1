/** The DNS name cache: time-aware (TTL + grace, in event time) and bounded (LRU, counted). */
import { describe, expect, it } from 'vitest';
import { DnsNameCache } from '../../../src/enrich/dns/dns-name-cache.ts';

const T = Date.UTC(2024, 4, 1, 12, 0, 0);
const answer = (address: string, asked: string, ttlSeconds: number, answered = asked) => ({ address, asked, answered, ttlSeconds });

describe('DnsNameCache', () => {
  it('names an address from its answer (less 2 s of clock skew) until TTL + grace, counting hits and misses', () => {
    const c = new DnsNameCache({ max: 10, graceMs: 60_000 });
    c.learn(answer('52.216.1.2', 's3.amazonaws.com', 5, 'edge.aws.example'), T);
    expect(c.nameAt('52.216.1.2', T)).toEqual({
      asked: 's3.amazonaws.com',
      answered: 'edge.aws.example',
      fromMs: T - 2000,
      untilMs: T + 65_000,
    });
    expect(c.nameAt('52.216.1.2', T - 2000)?.asked).toBe('s3.amazonaws.com');
    expect(c.nameAt('52.216.1.2', T + 65_000)?.asked).toBe('s3.amazonaws.com');
    expect(c.nameAt('52.216.1.2', T - 2001)).toBeUndefined();
    expect(c.nameAt('52.216.1.2', T + 65_001)).toBeUndefined();
    expect(c.nameAt('192.0.2.1', T)).toBeUndefined();
    expect(c.stats()).toEqual({ size: 1, max: 10, answers: 1, evictions: 0, hits: 3, misses: 3 });
  });

  it('widens the period of a name answered again; a later answer of another name takes the address over; an older one does not', () => {
    const c = new DnsNameCache({ max: 10, graceMs: 0 });
    c.learn(answer('203.0.113.5', 'a.example', 10), T);
    c.learn(answer('203.0.113.5', 'a.example', 10), T + 8000);
    expect(c.nameAt('203.0.113.5', T + 17_000)?.asked).toBe('a.example');
    c.learn(answer('203.0.113.5', 'b.example', 10), T + 20_000);
    expect(c.nameAt('203.0.113.5', T + 21_000)?.asked).toBe('b.example');
    // Another replica's older answer arriving late.
    c.learn(answer('203.0.113.5', 'a.example', 10), T + 5000);
    expect(c.nameAt('203.0.113.5', T + 21_000)?.asked).toBe('b.example');
  });

  it('stays at its bound under a flood of distinct addresses, evicting the least recently used and counting it', () => {
    const c = new DnsNameCache({ max: 1000, graceMs: 0 });
    c.learn(answer('198.51.100.1', 'kept.example', 3600), T);
    for (let i = 0; i < 100_000; i++) {
      c.learn(answer(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `h${i}.example`, 60), T);
      // Looked up by events all along: recently used, so never the one to go.
      if (i % 500 === 0) expect(c.nameAt('198.51.100.1', T)?.asked).toBe('kept.example');
    }
    expect(c.stats()).toMatchObject({ size: 1000, answers: 100_001, evictions: 99_001 });
    expect(c.nameAt('198.51.100.1', T)?.asked).toBe('kept.example');
  });

  it('refuses a bound below 1', () => {
    expect(() => new DnsNameCache({ max: 0, graceMs: 0 })).toThrow(/at least 1/);
  });
});
