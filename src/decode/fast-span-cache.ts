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
 * enough to thrash in pairs. Each way owns a fixed SLOT_BYTES slot in a chunk shared by
 * CHUNK_WAYS ways, allocated when first needed: a miss (every line, when processes never
 * repeat) then costs one copy, not an allocation (measured: allocating a Buffer per way
 * made a stream without reuse 30% slower). Longer values get a buffer of their own.
 *
 * Holes: a value may be filed with up to MAX_HOLES spans that hold a plain JSON integer
 * the caller does not read (a process's `tid`, which varies among a process's threads, and
 * `refcnt`). A lookup then compares the bytes around each hole by memcmp and accepts any
 * plain integer `-?(0|[1-9][0-9]*)` in it: replacing one integer token with another keeps
 * the value valid, its structure and every result read from it, only its length changes
 * (the returned length is the line's). The byte after a hole is the first of the next
 * compared stretch, so a fraction, exponent or longer token there makes the lookup miss.
 * A line whose integers have the filed lengths is compared whole, once they are written
 * into the way; one whose integers differ in length is compared piece by piece, and then
 * filed in the set's other way too, as the threads of a process often have tids of two
 * lengths.
 */
import { intEnd } from './json-scan.ts';

/** Bytes reserved per way: a Tetragon process object is ~0.8–1.5 KB. */
const SLOT_BYTES = 2048;
const CHUNK_SHIFT = 6;
const CHUNK_WAYS = 1 << CHUNK_SHIFT;

/**
 * Lookups per adaptation period. When fewer than 1 in 32 of a period's lookups hit (a
 * stream without reuse), the next period files only 1 in 16 misses: the copies are most of
 * a miss's cost, and sampling still lets the cache fill again once processes repeat.
 */
const PERIOD = 1024;
/** In a period after one without reuse, one miss in SAMPLED_STORES is filed (a power of two). */
const SAMPLED_STORES = 16;

/** Values shorter than this are not cached (cheap to scan anyway); the hash reads within it. */
const SPAN_PREFIX = 64;
/**
 * The hashed bytes: 32 from offset 8, which for a Tetragon process object are most of the
 * exec_id (`{"exec_id":"` is 12 bytes); fewer loads than hashing the whole prefix, and a
 * set collision only costs a failed memcmp.
 */
const HASH_FROM = 8;
const HASH_TO = 40;

/** Stretches up to this long are compared in JS: measured, 120 bytes take 52 ns so against 81 ns by `Buffer#compare`, even at 200 bytes. */
const JS_COMPARE_MAX = 192;

/** Holes per cached value, at most; a value with more is filed without them (its bytes must then repeat whole). */
const MAX_HOLES = 4;

/**
 * Where a value's holes are, filled by the caller while it validates the value: pairs of
 * start and end offsets relative to the value's first byte, in increasing order.
 */
export class Holes {
  readonly spans = new Int32Array(2 * MAX_HOLES);
  count = 0;
  /** More holes were met than MAX_HOLES: the value is filed without holes. */
  overflow = false;

  clear(): void {
    this.count = 0;
    this.overflow = false;
  }

  /** Adds the hole at offsets `s..e` of the value. */
  add(s: number, e: number): void {
    if (this.count === MAX_HOLES) {
      this.overflow = true;
      return;
    }
    this.spans[2 * this.count] = s;
    this.spans[2 * this.count + 1] = e;
    this.count++;
  }
}

const NO_HOLES = new Holes();

/** For values other than process objects: their usual size and where their distinguishing bytes are. */
export interface SpanCacheOptions {
  /** Bytes reserved per way (default SLOT_BYTES); longer values get a buffer of their own. */
  readonly slotBytes?: number;
  /** The hashed bytes, as offsets in the value: whole words within its first SPAN_PREFIX bytes (default HASH_FROM..HASH_TO). */
  readonly hashFrom?: number;
  readonly hashTo?: number;
}

export class SpanCache<V> {
  /** Slot storage, CHUNK_WAYS ways per chunk; EMPTY until a way of the chunk is used. */
  private readonly chunks: Buffer[];
  /** A view of each chunk, for the short compares done in JS. */
  private readonly chunkViews: DataView[];
  /** Per way, a buffer of its own when its value is longer than SLOT_BYTES (else EMPTY). */
  private readonly large: Buffer[];
  /** Value length per way; 0 when the way is empty. */
  private readonly lengths: Int32Array;
  /** Full prefix hash per way, so that most mismatches cost no memcmp. */
  private readonly tags: Int32Array;
  private readonly values: (V | undefined)[];
  /** Per way, its number of holes, and their offsets in `holeSpans` (2 × MAX_HOLES per way). */
  private readonly holeCounts: Uint8Array;
  private readonly holeSpans: Int32Array;
  /** Per set: the way used last, so that `store` evicts the other. */
  private readonly recent: Uint8Array;
  private readonly setMask: number;
  private readonly slotBytes: number;
  private readonly hashFrom: number;
  private readonly hashTo: number;
  /** Hash of the last `lookup`, which `store` files the value under. */
  private lastHash = 0;
  // The 64th lookup ends a first period that changes nothing (its hits say "reuse"), so
  // that the adaptation's code has run, with type feedback, before the optimizing compiler
  // takes `lookup`: first run at the 1,024th lookup, it threw the optimized `lookup` away
  // for a second compile of ~22 ms (`--trace-deopt`, `--trace-opt`). Not the first lookup:
  // V8 gives a function its feedback vector only after some calls, and a branch run before
  // that records nothing. Ending it at the 256th left the deoptimization in place (the
  // caches' lookups together likely reach the compiler's budget before that).
  private periodLookups = PERIOD - 64;
  private periodHits = PERIOD;
  /** 1 to file every miss, SAMPLED_STORES to file only some (see PERIOD). */
  private storeEvery = 1;
  private missCount = 0;

  /** Lookups answered from the cache / not, since construction. */
  hits = 0;
  misses = 0;
  /** The values of the last hit. */
  value: V | undefined = undefined;
  /** The holes of the last hit, as offsets in the line's value (none for a value filed without). */
  readonly hitHoles = new Holes();

  constructor(
    sets: number,
    /** Longer values are not cached; memory is 2 × sets × SLOT_BYTES plus any longer values. */
    readonly maxBytes: number,
    options: SpanCacheOptions = {},
  ) {
    if (sets < 1 || (sets & (sets - 1)) !== 0) throw new Error('SpanCache sets must be a power of two');
    this.slotBytes = options.slotBytes ?? SLOT_BYTES;
    this.hashFrom = options.hashFrom ?? HASH_FROM;
    this.hashTo = options.hashTo ?? HASH_TO;
    if (this.hashFrom < 0 || this.hashTo > SPAN_PREFIX || (this.hashTo - this.hashFrom) % 4 !== 0) {
      throw new Error('SpanCache hashes whole words within its shortest value');
    }
    this.chunks = new Array<Buffer>(Math.ceil((2 * sets) / CHUNK_WAYS)).fill(EMPTY);
    this.chunkViews = new Array<DataView>(this.chunks.length).fill(EMPTY_VIEW);
    this.large = new Array<Buffer>(2 * sets).fill(EMPTY);
    this.lengths = new Int32Array(2 * sets);
    this.tags = new Int32Array(2 * sets);
    this.values = new Array<V | undefined>(2 * sets).fill(undefined);
    this.holeCounts = new Uint8Array(2 * sets);
    this.holeSpans = new Int32Array(2 * sets * 2 * MAX_HOLES);
    this.recent = new Uint8Array(sets);
    this.setMask = sets - 1;
  }

  /**
   * Length of the cached value that bytes `p..end` of `buf` begin with (its results in
   * `value`), or 0 on a miss; `dv` is a view of `buf`. After a miss, `store` may file the
   * value at `p` once it has been validated.
   */
  lookup(buf: Buffer, dv: DataView, p: number, end: number): number {
    if (++this.periodLookups === PERIOD) {
      this.storeEvery = this.periodHits * 32 < PERIOD ? SAMPLED_STORES : 1;
      this.periodLookups = 0;
      this.periodHits = 0;
    }
    if (end - p < SPAN_PREFIX) {
      this.lastHash = 0;
      this.misses++;
      return 0;
    }
    // 32 bits at a time: a hash per lookup must stay far cheaper than the memcmp it guards.
    let h = 0x811c9dc5;
    for (let k = p + this.hashFrom, to = p + this.hashTo; k < to; k += 4) h = Math.imul(h ^ dv.getInt32(k, true), 0x01000193) ^ (h >>> 15);
    h ^= h >>> 13;
    this.lastHash = h;
    const set = (h & this.setMask) << 1;
    const room = end - p;
    // Ways whose holes hold integers of other lengths than the line's: tried, piece by
    // piece, only when no way matches in one compare.
    let around = 0;
    for (let w = set; w < set + 2; w++) {
      const n = this.lengths[w]!;
      if (n === 0 || this.tags[w] !== h) continue;
      let m: number;
      if (this.holeCounts[w] === 0) {
        m = n <= room && this.equal(w, 0, n, buf, dv, p) ? n : 0;
        this.hitHoles.count = 0;
      } else if (n <= room && this.sameHoleLengths(w, buf, p, end)) {
        // Each hole holds a plain integer as long as the filed one (a long-lived process's
        // threads have tids of one length): one memcmp, as the holes now match too.
        m = this.equal(w, 0, n, buf, dv, p) ? n : 0;
        const count = this.holeCounts[w]!;
        const base = w * 2 * MAX_HOLES;
        for (let k = 0; k < 2 * count; k++) this.hitHoles.spans[k] = this.holeSpans[base + k]!;
        this.hitHoles.count = count;
      } else {
        around |= 1 << (w - set);
        continue;
      }
      if (m !== 0) return this.hit(set, w, m);
    }
    for (let w = set; around !== 0 && w < set + 2; w++) {
      if ((around & (1 << (w - set))) === 0) continue;
      const m = this.equalAround(w, this.lengths[w]!, buf, dv, p, end);
      if (m === 0) continue;
      // The line's value is one the way stands for (its integers in the holes): filed too,
      // in the set's other way, so that the next line of a thread with this tid's length
      // matches in one compare (a process's threads' tids often differ in length).
      this.recent[set >> 1] = w - set;
      const value = this.values[w]!;
      this.store(buf, p, p + m, value, this.hitHoles);
      return this.hit(set, this.recent[set >> 1]! + set, m);
    }
    this.misses++;
    return 0;
  }

  /** Records a hit of way `w` of `set`, with value length `m`. */
  private hit(set: number, w: number, m: number): number {
    this.recent[set >> 1] = w - set;
    this.value = this.values[w];
    this.hits++;
    this.periodHits++;
    return m;
  }

  /**
   * Whether bytes `from..to` of way `w`'s value equal bytes `p..` of `buf` (viewed by `dv`):
   * by native memcmp, or for a stretch of at most JS_COMPARE_MAX bytes by 32-bit loads in
   * JS, where `Buffer#compare`'s fixed cost (its argument checks and the call) would be
   * most of the work.
   */
  private equal(w: number, from: number, to: number, buf: Buffer, dv: DataView, p: number): boolean {
    const len = to - from;
    if (this.lengths[w]! > this.slotBytes) return buf.compare(this.large[w]!, from, to, p, p + len) === 0;
    const o = (w & (CHUNK_WAYS - 1)) * this.slotBytes + from;
    if (len > JS_COMPARE_MAX) return buf.compare(this.chunks[w >> CHUNK_SHIFT]!, o, o + len, p, p + len) === 0;
    const cv = this.chunkViews[w >> CHUNK_SHIFT]!;
    let k = 0;
    for (; k + 4 <= len; k += 4) if (dv.getInt32(p + k, true) !== cv.getInt32(o + k, true)) return false;
    for (; k < len; k++) if (buf[p + k] !== cv.getUint8(o + k)) return false;
    return true;
  }

  /**
   * Whether each of way `w`'s holes holds, at the same offset of the value at `p` (at
   * least as long as the way's), a plain integer of the filed one's length; if so, writes
   * those integers into the way's bytes. Sound because a hole takes any plain integer: the
   * way's value stays one it may stand for, with the same holes and results. Then the
   * value at `p` matches the way exactly when the two are equal byte for byte, which is
   * what `equalAround` would find piece by piece (every offset being the same), in one
   * memcmp; and the next line of the same thread matches as it is.
   */
  private sameHoleLengths(w: number, buf: Buffer, p: number, end: number): boolean {
    const spans = this.holeSpans;
    const base = w * 2 * MAX_HOLES;
    const count = this.holeCounts[w]!;
    for (let k = 0; k < count; k++) {
      if (intEnd(buf, p + spans[base + 2 * k]!, end) !== p + spans[base + 2 * k + 1]!) return false;
    }
    const own = this.lengths[w]! > this.slotBytes;
    const bytes = own ? this.large[w]! : this.chunks[w >> CHUNK_SHIFT]!;
    const o = own ? 0 : (w & (CHUNK_WAYS - 1)) * this.slotBytes;
    for (let k = 0; k < count; k++) {
      const e = spans[base + 2 * k + 1]!;
      for (let j = spans[base + 2 * k]!; j < e; j++) bytes[o + j] = buf[p + j]!;
    }
    return true;
  }

  /**
   * Length of the value at `p` (before `end`) when it equals way `w`'s value (of length
   * `n`) but for plain integers in its holes; 0 otherwise.
   */
  private equalAround(w: number, n: number, buf: Buffer, dv: DataView, p: number, end: number): number {
    const spans = this.holeSpans;
    const base = w * 2 * MAX_HOLES;
    const holes = this.holeCounts[w]!;
    const start = p;
    const hit = this.hitHoles.spans;
    let from = 0;
    for (let k = 0; k < holes; k++) {
      const hs = spans[base + 2 * k]!;
      if (p + (hs - from) > end || !this.equal(w, from, hs, buf, dv, p)) return 0;
      const q = p + (hs - from);
      p = intEnd(buf, q, end);
      if (p < 0) return 0;
      hit[2 * k] = q - start;
      hit[2 * k + 1] = p - start;
      from = spans[base + 2 * k + 1]!;
    }
    this.hitHoles.count = holes;
    if (p + (n - from) > end || !this.equal(w, from, n, buf, dv, p)) return 0;
    return p + (n - from) - start;
  }

  /** Whether the value of the last missed lookup should be filed (callers skip building its results otherwise). */
  wantsStore(): boolean {
    return this.storeEvery === 1 || (++this.missCount & (SAMPLED_STORES - 1)) === 0;
  }

  /**
   * Files the value at bytes `s..e` of `buf` — the one at `s` of the last missed `lookup`,
   * now fully validated — with its results and the plain integers it may vary in (see
   * Holes). Ignored when too short or too long to cache.
   */
  store(buf: Buffer, s: number, e: number, value: V, holes: Holes = NO_HOLES): void {
    const n = e - s;
    if (n < SPAN_PREFIX || n > this.maxBytes) return;
    const h = this.lastHash;
    const set = (h & this.setMask) << 1;
    const way = this.lengths[set] === 0 ? set : this.lengths[set + 1] === 0 ? set + 1 : set + 1 - this.recent[set >> 1]!;
    if (n <= this.slotBytes) {
      let chunk = this.chunks[way >> CHUNK_SHIFT]!;
      if (chunk === EMPTY) {
        // allocUnsafeSlow keeps these long-lived chunks out of Node's shared small-buffer pool.
        chunk = Buffer.allocUnsafeSlow(CHUNK_WAYS * this.slotBytes);
        this.chunks[way >> CHUNK_SHIFT] = chunk;
        this.chunkViews[way >> CHUNK_SHIFT] = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
      buf.copy(chunk, (way & (CHUNK_WAYS - 1)) * this.slotBytes, s, e);
      this.large[way] = EMPTY;
    } else {
      let own = this.large[way]!;
      if (own.length < n) {
        own = Buffer.allocUnsafeSlow(Math.min(this.maxBytes, (n + 1023) & ~1023));
        this.large[way] = own;
      }
      buf.copy(own, 0, s, e);
    }
    const count = holes.overflow ? 0 : holes.count;
    this.holeCounts[way] = count;
    for (let k = 0; k < 2 * count; k++) this.holeSpans[way * 2 * MAX_HOLES + k] = holes.spans[k]!;
    this.lengths[way] = n;
    this.tags[way] = h;
    this.values[way] = value;
    this.recent[set >> 1] = way - set;
  }
}

const EMPTY = Buffer.alloc(0);
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));
