/**
 * A bounded cache from raw bytes to the value they decode to, for the strings that repeat
 * on almost every event (pod namespace and name, node, workload, label sets).
 *
 * Keyed by the exact bytes rather than by a decoded string so that a hit costs one hash
 * and one comparison loop and allocates nothing; the decoded value is a pure function of
 * the bytes, so a hit returns exactly what decoding would. Direct-mapped (one entry per
 * slot, newest wins) so that memory stays bounded however many distinct values a stream
 * carries, with no eviction bookkeeping.
 */
export class ByteCache<V> {
  private readonly keys: (Uint8Array | undefined)[];
  private readonly values: (V | undefined)[];
  private readonly mask: number;
  /** Slot of the last `lookup`, so that `store` after a miss needs no second hash. */
  private slot = 0;

  constructor(
    slots: number,
    /** Longer spans are not cached: hashing them costs more than decoding saves. */
    readonly maxBytes: number,
  ) {
    if ((slots & (slots - 1)) !== 0) throw new Error('ByteCache slots must be a power of two');
    this.keys = new Array<Uint8Array | undefined>(slots).fill(undefined);
    this.values = new Array<V | undefined>(slots).fill(undefined);
    this.mask = slots - 1;
  }

  /** The cached value of bytes `start..end` of `buf`, or undefined (then call `store`). */
  lookup(buf: Buffer, start: number, end: number): V | undefined {
    const n = end - start;
    // FNV-1a, seeded with the length so that prefixes land apart.
    let h = 0x811c9dc5 ^ n;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const slot = (h ^ (h >>> 15)) & this.mask;
    this.slot = slot;
    const key = this.keys[slot];
    if (key === undefined || key.length !== n) return undefined;
    for (let k = 0; k < n; k++) if (key[k] !== buf[start + k]) return undefined;
    return this.values[slot];
  }

  /** Remembers `value` for bytes `start..end`; must follow a missed `lookup` of the same bytes. */
  store(buf: Buffer, start: number, end: number, value: V): void {
    // A copy, not a view: the caller's buffer is reused for the next chunk.
    this.keys[this.slot] = Uint8Array.prototype.slice.call(buf, start, end);
    this.values[this.slot] = value;
  }
}
