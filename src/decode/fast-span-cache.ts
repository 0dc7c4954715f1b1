/**
 * A bounded cache of JSON values already validated (and read) in earlier lines, so that a
 * value seen again is skipped with one native memcmp instead of a JS byte scan.
 *
 * Why this is sound: whether a JSON value is valid, where it ends and what it contains are
 * functions of its own bytes alone — a parser reading a value never looks past its last
 * byte to decide any of that. So if the bytes at `p` equal, byte for byte, a value that
 * was fully validated before, the value at `p` is valid, ends at `p + length` and yields
 * the results recorded for it. What follows the value is still checked by the caller.
 *
 * Why it pays: on a node, events come from a modest number of long-lived processes, and
 * consecutive events of one process carry byte-identical `process` and `parent` objects
 * (~1 KB each, most of a line). A hit costs a prefix hash and `Buffer#compare` (~0.1 µs
 * measured) where validating costs several µs.
 *
 * Layout: 2-way set-associative, indexed by a hash of bytes near the value's start (for
 * Tetragon's process objects, `"exec_id":"…"`, unique per process). Two
 * ways because with direct mapping a few hundred live processes already collide often
 * enough to thrash in pairs. Each way keeps its own byte copy, reused in place when the
 * next value fits, so that misses (every line, when processes never repeat) allocate only
 * when a way first holds a longer value.
 */

/** Values shorter than this are not cached (cheap to scan anyway); the hash reads within it. */
export const SPAN_PREFIX = 64;
/**
 * The hashed bytes: 32 from offset 8, which for a Tetragon process object are most of the
 * exec_id (`{"exec_id":"` is 12 bytes); fewer loads than hashing the whole prefix, and a
 * set collision only costs a failed memcmp.
 */
const HASH_FROM = 8;
const HASH_TO = 40;

export class SpanCache<V> {
  /** Byte copies per way; a way's copy may be longer than its value (reused capacity). */
  private readonly bytes: Buffer[];
  /** Value length per way; 0 when the way is empty. */
  private readonly lengths: Int32Array;
  /** Full prefix hash per way, so that most mismatches cost no memcmp. */
  private readonly tags: Int32Array;
  private readonly values: (V | undefined)[];
  /** Per set: the way used last, so that `store` evicts the other. */
  private readonly recent: Uint8Array;
  private readonly setMask: number;
  /** Hash of the last `lookup`, which `store` files the value under. */
  private lastHash = 0;

  /** Lookups answered from the cache / not, since construction. */
  hits = 0;
  misses = 0;
  /** The values of the last hit. */
  value: V | undefined = undefined;

  constructor(
    sets: number,
    /** Longer values are not cached, which bounds memory at about 2 × sets × maxBytes. */
    readonly maxBytes: number,
  ) {
    if (sets < 1 || (sets & (sets - 1)) !== 0) throw new Error('SpanCache sets must be a power of two');
    this.bytes = new Array<Buffer>(2 * sets).fill(EMPTY);
    this.lengths = new Int32Array(2 * sets);
    this.tags = new Int32Array(2 * sets);
    this.values = new Array<V | undefined>(2 * sets).fill(undefined);
    this.recent = new Uint8Array(sets);
    this.setMask = sets - 1;
  }

  /**
   * Length of the cached value that bytes `p..end` of `buf` begin with (its results in
   * `value`), or 0 on a miss; `dv` is a view of `buf`. After a miss, `store` may file the
   * value at `p` once it has been validated.
   */
  lookup(buf: Buffer, dv: DataView, p: number, end: number): number {
    if (end - p < SPAN_PREFIX) {
      this.lastHash = 0;
      this.misses++;
      return 0;
    }
    // 32 bits at a time: a hash per lookup must stay far cheaper than the memcmp it guards.
    let h = 0x811c9dc5;
    for (let k = p + HASH_FROM; k < p + HASH_TO; k += 4) h = Math.imul(h ^ dv.getInt32(k, true), 0x01000193) ^ (h >>> 15);
    h ^= h >>> 13;
    this.lastHash = h;
    const set = (h & this.setMask) << 1;
    const room = end - p;
    for (let w = set; w < set + 2; w++) {
      const n = this.lengths[w]!;
      if (n !== 0 && n <= room && this.tags[w] === h && buf.compare(this.bytes[w]!, 0, n, p, p + n) === 0) {
        this.recent[set >> 1] = w - set;
        this.value = this.values[w];
        this.hits++;
        return n;
      }
    }
    this.misses++;
    return 0;
  }

  /**
   * Files the value at bytes `s..e` of `buf` — the one at `s` of the last missed `lookup`,
   * now fully validated — with its results. Ignored when too short or too long to cache.
   */
  store(buf: Buffer, s: number, e: number, value: V): void {
    const n = e - s;
    if (n < SPAN_PREFIX || n > this.maxBytes) return;
    const h = this.lastHash;
    const set = (h & this.setMask) << 1;
    const way = this.lengths[set] === 0 ? set : this.lengths[set + 1] === 0 ? set + 1 : set + 1 - this.recent[set >> 1]!;
    let copy = this.bytes[way]!;
    if (copy.length < n) {
      // Rounded up so that a way settles on one copy however its values' lengths vary;
      // allocUnsafeSlow keeps long-lived copies out of Node's shared small-buffer pool.
      copy = Buffer.allocUnsafeSlow(Math.min(this.maxBytes, (n + 511) & ~511));
      this.bytes[way] = copy;
    }
    buf.copy(copy, 0, s, e);
    this.lengths[way] = n;
    this.tags[way] = h;
    this.values[way] = value;
    this.recent[set >> 1] = way - set;
  }
}

const EMPTY = Buffer.alloc(0);
