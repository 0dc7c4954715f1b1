/**
 * One bound on everything the resolver remembers: local parties, remote-address
 * classifications, interned remote parties, tcp series and owner-chain results share a
 * single least-recently-used cache (lru-cache), so the total is bounded however many pods,
 * peers or names the input brings, not each kind (or each pod) on its own. An evicted
 * result is recomputed when asked again: eviction costs time, never correctness.
 *
 * Keys are strings with a one-letter kind prefix, so kinds cannot collide.
 */
import { LRUCache } from 'lru-cache';

/**
 * Entries kept by default. An entry costs about 0.5 KB (a tcp series with its tags and
 * line-protocol key is the largest kind), so the default holds the cache near 15 MB of live heap (measured: about 3 KB of peak RSS per entry, with the garbage collector's headroom).
 */
export const DEFAULT_MAX_CACHED_ENTRIES = 20_000;

export class AttributionCache {
  private readonly lru: LRUCache<string, object>;
  /** Entries dropped to stay within the bound (not those dropped by `clear`). */
  evictions = 0;

  constructor(readonly maxEntries: number = DEFAULT_MAX_CACHED_ENTRIES) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError(`the attribution cache needs at least 1 entry, got ${maxEntries}`);
    this.lru = new LRUCache<string, object>({
      max: maxEntries,
      disposeAfter: (_value, _key, reason) => {
        if (reason === 'evict') this.evictions++;
      },
    });
  }

  get<T extends object>(key: string): T | undefined {
    return this.lru.get(key) as T | undefined;
  }

  set(key: string, value: object): void {
    this.lru.set(key, value);
  }

  get size(): number {
    return this.lru.size;
  }

  /** Metadata changed: every result may be stale. */
  clear(): void {
    this.lru.clear();
  }
}
