/**
 * One bound on everything the resolver remembers: local parties, remote-address
 * classifications, interned remote parties, tcp series and owner-chain results share a
 * single cache, so the total is bounded however many pods, peers or names the input
 * brings, not each kind (or each pod) on its own. An evicted result is recomputed when
 * asked again: eviction costs time, never correctness.
 *
 * Keys are strings with a one-letter kind prefix, so kinds cannot collide.
 */

/**
 * Entries kept by default. An entry costs about 0.5 KB (a tcp series with its tags and
 * line-protocol key is the largest kind), so the default holds the cache near 15 MB of live heap (measured: about 3 KB of peak RSS per entry, with the garbage collector's headroom).
 */
export const DEFAULT_MAX_CACHED_ENTRIES = 20_000;

/**
 * Two generations of maps: new entries go to the current one; once it holds half the
 * bound it becomes the older generation, and what the previous older one still held is
 * dropped. A hit in the older generation moves the entry back to the current one, so an
 * entry used at least once per half-bound of new entries stays, and what is not used
 * goes, as in a least-recently-used cache. (When hits have grown the current generation,
 * the bound is kept by dropping the older generation's oldest entries first.)
 * Hand-written rather than lru-cache (which the DNS name cache uses): its `get` builds an options object and checks a diagnostics channel on every
 * call, which was a third of the attribution's time on a busy node (profiled), and the
 * resolver asks on most events; here a hit is one Map lookup.
 */
export class AttributionCache {
  private current = new Map<string, object>();
  private older = new Map<string, object>();
  /**
   * The older generation's keys, oldest first: one iterator for its whole life, so that
   * the entries already promoted or evicted are passed once, not on every eviction.
   */
  private olderKeys: IterableIterator<string> = this.older.keys();
  /** Entries dropped to stay within the bound (not those dropped by `clear`). */
  evictions = 0;

  /** New entries a generation takes before it becomes the older one. */
  private readonly generationSize: number;

  constructor(readonly maxEntries: number = DEFAULT_MAX_CACHED_ENTRIES) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`the attribution cache needs at least 1 entry, got ${maxEntries}`);
    this.generationSize = Math.ceil(maxEntries / 2);
  }

  get<T extends object>(key: string): T | undefined {
    const hit = this.current.get(key);
    if (hit !== undefined) return hit as T;
    const old = this.older.get(key);
    if (old === undefined) return undefined;
    this.older.delete(key);
    this.current.set(key, old);
    return old as T;
  }

  set(key: string, value: object): void {
    if (this.current.has(key)) {
      this.current.set(key, value);
      return;
    }
    this.older.delete(key);
    if (this.current.size >= this.generationSize) {
      // What the older generation still holds was not used for a generation: it goes.
      this.evictions += this.older.size;
      this.older = this.current;
      this.olderKeys = this.older.keys();
      this.current = new Map();
    }
    while (this.current.size + this.older.size >= this.maxEntries) {
      // Maps iterate in insertion order: the next key is the one unused longest.
      this.older.delete(this.olderKeys.next().value!);
      this.evictions++;
    }
    this.current.set(key, value);
  }

  get size(): number {
    return this.current.size + this.older.size;
  }

  /** Metadata changed: every result may be stale. */
  clear(): void {
    this.current.clear();
    this.older = new Map();
    this.olderKeys = this.older.keys();
  }
}
