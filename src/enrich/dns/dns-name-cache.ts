/**
 * What DNS said of external addresses: address → the name a workload asked for, valid
 * from the answer until its TTL (plus a grace) ran out, in event time. Bounded: at
 * `max` addresses the least recently answered or looked-up one goes (counted), so a
 * flood of answers cannot grow memory past the bound.
 */
import { LRUCache } from 'lru-cache';
import type { AddressAnswer } from '../../sources/dnstap/dns-answers.ts';

export interface DnsName {
  /** The name the client asked (head of the CNAME chain). */
  readonly asked: string;
  /** The name on the address record (end of the chain). */
  readonly answered: string;
  /** Event time from which the name holds (the answer's time, less the clock skew allowed). */
  readonly fromMs: number;
  /** Event time until which it holds: the answer's time + TTL + grace. */
  readonly untilMs: number;
}

/** The lookup the resolver uses; DnsNameCache is the one implementation. */
export interface DnsNames {
  nameAt(address: string, atMs: number): DnsName | undefined;
}

export interface DnsNameCacheOptions {
  /** Addresses kept at most. */
  max: number;
  /**
   * How long past its TTL a name still holds: connections outlive the TTL of the answer
   * that opened them (S3 answers with 5 s TTLs; clients keep connections for minutes).
   */
  graceMs: number;
}

/**
 * CoreDNS and the node stamp times with different clocks, and a connection follows its
 * answer within milliseconds: an event this much before the answer still takes its name.
 */
const CLOCK_SKEW_MS = 2000;

export interface DnsNameCacheStats {
  size: number;
  max: number;
  /** Address records learned. */
  answers: number;
  evictions: number;
  hits: number;
  misses: number;
}

export class DnsNameCache implements DnsNames {
  private readonly cache: LRUCache<string, DnsName>;
  private evicted = 0;
  private learned = 0;
  private hit = 0;
  private missed = 0;

  constructor(readonly options: DnsNameCacheOptions) {
    if (!Number.isInteger(options.max) || options.max < 1)
      throw new RangeError(`DNS cache size must be a whole number of at least 1, not ${options.max}`);
    this.cache = new LRUCache<string, DnsName>({
      max: options.max,
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') this.evicted++;
      },
    });
  }

  /**
   * Records one answer sent at `atMs`. The same name answered again widens its period;
   * another name answered later takes the address over. Frames of several CoreDNS
   * replicas interleave, so an older answer never replaces a newer one.
   */
  learn(answer: AddressAnswer, atMs: number): void {
    this.learned++;
    const fromMs = atMs - CLOCK_SKEW_MS;
    const untilMs = atMs + answer.ttlSeconds * 1000 + this.options.graceMs;
    const previous = this.cache.peek(answer.address);
    if (previous && previous.asked === answer.asked) {
      if (fromMs < previous.fromMs || untilMs > previous.untilMs) {
        this.cache.set(answer.address, {
          ...previous,
          fromMs: Math.min(fromMs, previous.fromMs),
          untilMs: Math.max(untilMs, previous.untilMs),
        });
      } else {
        this.cache.get(answer.address);
      }
      return;
    }
    if (previous && fromMs < previous.fromMs) return;
    this.cache.set(answer.address, { asked: answer.asked, answered: answer.answered, fromMs, untilMs });
  }

  nameAt(address: string, atMs: number): DnsName | undefined {
    const name = this.cache.get(address);
    if (name !== undefined && atMs >= name.fromMs && atMs <= name.untilMs) {
      this.hit++;
      return name;
    }
    this.missed++;
    return undefined;
  }

  stats(): DnsNameCacheStats {
    return {
      size: this.cache.size,
      max: this.options.max,
      answers: this.learned,
      evictions: this.evicted,
      hits: this.hit,
      misses: this.missed,
    };
  }
}
