/**
 * A bounded cache from raw bytes to the value they decode to, for the strings that repeat
 * on almost every event (pod namespace and name, node, workload, addresses, label sets).
 *
 * Only ASCII spans are cached, each keyed by the span's own text: for ASCII, the bytes are
 * the text's char codes, so a hit is verified by comparing bytes with the stored text and
 * a miss stores a string the caller needed anyway — no copy of the bytes, no allocation.
 * The cached value is a pure function of the bytes, so a hit returns exactly what decoding
 * would. Direct-mapped (one entry per slot, newest wins) so that memory stays bounded
 * however many distinct values a stream carries, with no eviction bookkeeping.
 */
export class AsciiCache<V> {
  private readonly keys: string[];
  private readonly values: (V | undefined)[];
  private readonly mask: number;
  /** Slot of the last `lookup`; `store` after a miss needs no second hash. */
  private slot = 0;
  /** Whether the last looked-up span was all ASCII (only those may be stored). */
  ascii = false;

  constructor(
    slots: number,
    /** Longer spans are not cached: hashing them costs more than decoding saves. */
    readonly maxBytes: number,
  ) {
    if ((slots & (slots - 1)) !== 0) throw new Error('AsciiCache slots must be a power of two');
    // '\u0000' never equals an ASCII JSON span's text of the same length unless it is one
    // NUL byte, which JSON strings cannot hold raw; it keeps the array monomorphic.
    this.keys = new Array<string>(slots).fill('\u0000');
    this.values = new Array<V | undefined>(slots).fill(undefined);
    this.mask = slots - 1;
  }

  /**
   * The cached value of bytes `start..end` of `buf`, or undefined (then maybe `store`).
   * `dv` views `buf`: the hash reads four bytes per load, because the strings looked up
   * on every event (addresses, node, pod names) are short and a per-byte loop was most of
   * the cost of a hit.
   */
  lookup(buf: Buffer, dv: DataView, start: number, end: number): V | undefined {
    const n = end - start;
    // FNV-1a-style over 32-bit words then the tail bytes (sampling only some bytes collides
    // on label sets, which share long prefixes and suffixes), OR-ing them to learn whether
    // the span is ASCII.
    let h = 0x811c9dc5 ^ n;
    let high = 0;
    let i = start;
    for (; i + 4 <= end; i += 4) {
      const w = dv.getInt32(i, true);
      high |= w;
      h = Math.imul(h ^ w, 0x01000193) ^ (h >>> 15);
    }
    for (; i < end; i++) {
      const c = buf[i]!;
      high |= c;
      h = Math.imul(h ^ c, 0x01000193);
    }
    this.ascii = (high & 0x80808080) === 0;
    const slot = (h ^ (h >>> 15)) & this.mask;
    this.slot = slot;
    const key = this.keys[slot]!;
    if (key.length !== n) return undefined;
    for (let k = 0; k < n; k++) if (key.charCodeAt(k) !== buf[start + k]) return undefined;
    return this.values[slot];
  }

  /**
   * Remembers `value` for the span of the last missed `lookup`, whose text (the span read
   * as latin1) is `text`. Ignored unless that span was ASCII.
   */
  store(text: string, value: V): void {
    if (!this.ascii) return;
    this.keys[this.slot] = text;
    this.values[this.slot] = value;
  }
}
