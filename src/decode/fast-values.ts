/**
 * The fast decoder's value readers: one value at a time, recorded as a span of the line
 * (`readValue`, `plainValue`, `number`), then read as the reference decoder reads it —
 * a non-empty string, a port, a size, a return value, a time, pod labels, a function name.
 *
 * The common forms (plain strings, plain integers, simple RFC 3339 times) are read from
 * the bytes; the rare ones (escaped strings, fractions, exponents) are decoded with
 * `JSON.parse` on just that value and passed to the reference's own helpers, so their
 * semantics are shared, not copied. Repeated strings come from caches keyed by their bytes.
 */
import { KPROBE_OPS, MAX_BYTE_COUNT, type KernelOp } from './kernel-event.ts';
import { parsePort, parseReturn, parseSize, stringRecord } from './reference-decoder.ts';
import { inStorableRange, parseRfc3339, parseRfc3339Codes } from './rfc3339.ts';
import { AsciiCache } from './fast-intern.ts';
import { FALLBACK, type EventFacts, type SkipTypeNamer } from './fast-facts.ts';
import { plainEnd, scanNumber, scanState, scanString, skipValue } from './json-scan.ts';

export const QUOTE = 0x22;
export const LBRACE = 0x7b;
export const RBRACE = 0x7d;
export const LBRACKET = 0x5b;
export const RBRACKET = 0x5d;
export const COMMA = 0x2c;
export const COLON = 0x3a;
const MINUS = 0x2d;
export const SPACE = 0x20;

const EMPTY = Buffer.alloc(0);

/** Decodes the string body at bytes `s..e` (between the quotes) exactly as `JSON.parse` would. */
export function decodeString(buf: Buffer, s: number, e: number): string {
  // Only escaped strings come here; JSON.parse on the quoted span is the reference's
  // own semantics. The span is decoded alone, which matches decoding the whole line
  // because UTF-8 decoding never lets an invalid sequence swallow the ASCII quote.
  return JSON.parse(buf.toString('utf8', s - 1, e + 1)) as string;
}

/** Parses bytes `s..e` as an unsigned decimal integer if they are 1–`maxDigits` digits, else -1. */
function digitsValue(buf: Buffer, s: number, e: number, maxDigits: number): number {
  const n = e - s;
  if (n < 1 || n > maxDigits) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    // Exact while below 2^53; beyond, rounding keeps the result above MAX_SAFE_INTEGER,
    // so the callers' safe-integer checks still reject it as `Number(v)` would.
    v = v * 10 + d;
  }
  return v;
}

/**
 * Index after the closing quote of the string whose body starts at `i`, when the body is
 * plain (no escape, no control character); -1 otherwise, including for valid escaped
 * strings, which the speculative path leaves to the general one.
 */
export function plainStringEnd(buf: Buffer, dv: DataView, i: number, end: number): number {
  i = plainEnd(buf, dv, i, end);
  return i < end && buf[i] === QUOTE ? i + 1 : -1;
}

/**
 * Milliseconds of a time's suffix after the seconds (bytes `i..e`) when it is
 * `[.digits](Z|z)`, computed as parseRfc3339Codes does (first three fraction digits,
 * the rest truncated); -1 for any other suffix.
 */
function suffixMillis(buf: Buffer, i: number, e: number): number {
  let millis = 0;
  if (i < e && buf[i] === 0x2e) {
    i++;
    const start = i;
    while (i < e) {
      const d = buf[i]! - 0x30;
      if (d < 0 || d > 9) break;
      if (i - start < 3) millis = millis * 10 + d;
      i++;
    }
    const n = i - start;
    if (n === 0) return -1;
    for (let k = n; k < 3; k++) millis *= 10;
  }
  return i + 1 === e && (buf[i] === 0x5a || buf[i] === 0x7a) ? millis : -1;
}

/** The kprobe functions by name bytes, for an in-place match without a string. */
const FUNCTIONS: readonly { bytes: Uint8Array; op: KernelOp }[] = [...KPROBE_OPS].map(([name, op]) => ({
  bytes: new Uint8Array(Buffer.from(name, 'latin1')),
  op,
}));

/** The kind of the current value: a string, a number, or anything else (which every reader here reads as undefined). */
type ValueKind = typeof V_STRING | typeof V_NUMBER | typeof V_OTHER;
const V_STRING = 1;
const V_NUMBER = 2;
const V_OTHER = 3;

/** Skip types (`process_exec`, `process_kprobe:fn`) by their raw bytes. */
export class TypeNames implements SkipTypeNamer {
  private readonly types = new AsciiCache<string>(256, 256);

  constructor(private readonly values: ValueReader) {}

  skipType(buf: Buffer, s: number, e: number, escaped: boolean, kprobe: boolean): string {
    // Cached by the raw bytes plus one marker byte position: the two kinds of type share
    // a cache, told apart by including the quote (kprobe) or not (event key).
    const ks = kprobe ? s - 1 : s;
    let t = this.types.lookup(buf, this.values.dv, ks, e);
    if (t === undefined) {
      const name = escaped ? decodeString(buf, s, e) : buf.toString('utf8', s, e);
      t = kprobe ? (name === '' ? 'process_kprobe' : `process_kprobe:${name}`) : name;
      if (this.types.ascii) this.types.store(buf.toString('latin1', ks, e), t);
    }
    return t;
  }
}

/**
 * The current value of the line being decoded and the readers of it. Kept as fields (kind
 * and span) rather than returned objects: no allocation per value.
 */
export class ValueReader {
  /** A 32-bit view of the buffer being decoded, for four-bytes-at-a-time scans and compares. */
  dv: DataView = new DataView(new ArrayBuffer(0));
  private dvBuf: Buffer = EMPTY;

  kind: ValueKind = V_OTHER as ValueKind;
  /** The body of a string (between its quotes), or the token of a number. */
  start = 0;
  end = 0;
  escaped = false;

  /** Decoded strings (pod namespace, name, node, workload...) keyed by their raw bytes. */
  private readonly strings = new AsciiCache<string>(16384, 256);
  /** Frozen `pod_labels` records keyed by the raw bytes of the labels object. */
  private readonly labels = new AsciiCache<Readonly<Record<string, string>>>(4096, 4096);

  // The time string being parsed, read through one long-lived closure so that sharing
  // `parseRfc3339Codes` with the reference allocates nothing per event.
  private timeBuf: Buffer = EMPTY;
  private timeStart = 0;
  private timeEnd = 0;
  /**
   * The last simple time's first 19 bytes (`YYYY-MM-DDTHH:MM:SS`), as four little-endian
   * words and the three bytes after them (compared in five steps, not nineteen), and their
   * epoch ms; NaN before any.
   */
  private secondsWord0 = 0;
  private secondsWord1 = 0;
  private secondsWord2 = 0;
  private secondsWord3 = 0;
  private secondsTail = 0;
  private secondsMs = NaN;
  private readonly timeAt = (k: number): number => {
    const p = this.timeStart + k;
    return p < this.timeEnd ? this.timeBuf[p]! : -1;
  };

  /** Makes `dv` view `buf`: one view per input chunk, not per line, as lines of a chunk share its buffer. */
  view(buf: Buffer): void {
    if (buf === this.dvBuf) return;
    this.dvBuf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /**
   * Reads (and validates) one value at `i`, recording its kind and span; returns the
   * index after it, or FALLBACK. Strings record their body, numbers their token.
   */
  readValue(buf: Buffer, i: number, end: number): number {
    const c = buf[i]!;
    if (c === QUOTE) {
      const e = scanString(buf, this.dv, i + 1, end);
      if (e < 0) return FALLBACK;
      this.kind = V_STRING;
      this.start = i + 1;
      this.end = e - 1;
      this.escaped = scanState.escaped;
      return e;
    }
    if (c === MINUS || (c >= 0x30 && c <= 0x39)) {
      const e = scanNumber(buf, i, end);
      if (e < 0) return FALLBACK;
      this.kind = V_NUMBER;
      this.start = i;
      this.end = e;
      return e;
    }
    this.kind = V_OTHER;
    return skipValue(buf, this.dv, i, end);
  }

  /**
   * An escape-free string value starting at `i` (just past its opening quote), recorded
   * as the current value: returns the offset past its closing quote, or -1 when the
   * string is not plain (which the speculative path leaves to the general one).
   */
  plainValue(buf: Buffer, i: number, end: number): number {
    const e = plainStringEnd(buf, this.dv, i, end);
    if (e < 0) return -1;
    this.kind = V_STRING;
    this.start = i;
    this.end = e - 1;
    this.escaped = false;
    return e;
  }

  /** Records bytes `s..e`, already matched by `intEnd` or a skeleton literal, as the current value. */
  number(s: number, e: number): void {
    this.kind = V_NUMBER;
    this.start = s;
    this.end = e;
  }

  /** Records the plain string body `s..e`, already scanned, as the current value. */
  plainString(s: number, e: number): void {
    this.kind = V_STRING;
    this.start = s;
    this.end = e;
    this.escaped = false;
  }

  /** A string value, from the cache when its bytes were seen before. */
  private str(buf: Buffer, s: number, e: number, escaped: boolean): string {
    if (e - s > this.strings.maxBytes) return escaped ? decodeString(buf, s, e) : buf.toString('utf8', s, e);
    let v = this.strings.lookup(buf, this.dv, s, e);
    if (v === undefined) {
      v = escaped ? decodeString(buf, s, e) : buf.toString('utf8', s, e);
      // Unescaped ASCII text is its own key; an escaped span's key is its raw text.
      if (this.strings.ascii) this.strings.store(escaped ? buf.toString('latin1', s, e) : v, v);
    }
    return v;
  }

  /** `nonEmptyString` of the current value. */
  nonEmpty(buf: Buffer): string | undefined {
    if (this.kind !== V_STRING || this.end === this.start) return undefined;
    const s = this.str(buf, this.start, this.end, this.escaped);
    // An escaped string can decode to '' only if empty, which was excluded; kept for clarity.
    return s === '' ? undefined : s;
  }

  /**
   * `nonEmptyString` of the current value, bypassing the string cache: socket cookies
   * are unique per connection and would only evict the pod names it is there for.
   */
  uncachedString(buf: Buffer): string | undefined {
    if (this.kind !== V_STRING || this.end === this.start) return undefined;
    return this.escaped ? decodeString(buf, this.start, this.end) : buf.toString('utf8', this.start, this.end);
  }

  /** The current value parsed by `JSON.parse`, for the rare forms the fast paths leave out. */
  private slowValue(buf: Buffer): unknown {
    return this.kind === V_STRING ? decodeString(buf, this.start, this.end) : JSON.parse(buf.toString('latin1', this.start, this.end));
  }

  /** `parsePort` of the current value; -1 for undefined. */
  port(buf: Buffer): number {
    if (this.kind === V_OTHER) return -1;
    if (this.kind === V_STRING && !this.escaped) {
      const n = digitsValue(buf, this.start, this.end, 5);
      return n <= 65535 ? n : -1;
    }
    if (this.kind === V_NUMBER) {
      const n = digitsValue(buf, this.start, this.end, 5);
      if (n >= 0) return n <= 65535 ? n : -1;
    }
    return parsePort(this.slowValue(buf)) ?? -1;
  }

  /** `parseSize` of the current value; NaN for undefined. */
  size(buf: Buffer): number {
    if (this.kind === V_OTHER) return NaN;
    if (this.kind === V_STRING && !this.escaped) {
      const n = digitsValue(buf, this.start, this.end, 16);
      return n >= 0 && n <= MAX_BYTE_COUNT ? n : NaN;
    }
    if (this.kind === V_NUMBER) {
      const n = digitsValue(buf, this.start, this.end, 15);
      if (n >= 0) return n <= MAX_BYTE_COUNT ? n : NaN;
    }
    return parseSize(this.slowValue(buf)) ?? NaN;
  }

  /** `parseReturn` of the current value; NaN for undefined. */
  returnValue(buf: Buffer): number {
    if (this.kind === V_OTHER) return NaN;
    const neg = buf[this.start] === MINUS;
    const s = neg ? this.start + 1 : this.start;
    if (this.kind === V_STRING && !this.escaped) {
      const n = digitsValue(buf, s, this.end, 16);
      if (n < 0 || !Number.isSafeInteger(n)) return NaN;
      return neg ? -n : n;
    }
    if (this.kind === V_NUMBER) {
      const n = digitsValue(buf, s, this.end, 15);
      if (n >= 0) return neg ? -n : n;
    }
    return parseReturn(this.slowValue(buf)) ?? NaN;
  }

  /** The epoch milliseconds of the current value as the reference's `parseRfc3339`; NaN when invalid. */
  time(buf: Buffer): number {
    if (this.kind !== V_STRING) return NaN;
    if (this.escaped) return parseRfc3339(decodeString(buf, this.start, this.end));
    const s = this.start;
    const e = this.end;
    // Consecutive events share the time's date-and-seconds part; when it repeats, only the
    // fraction and zone are new. Valid because everything parseRfc3339Codes checks and
    // computes up to byte 19 depends on those 19 bytes alone, and the rest of a simple
    // suffix (`[.digits](Z|z)`) only adds its milliseconds.
    const dv = this.dv;
    if (
      e - s >= 20 &&
      dv.getInt32(s, true) === this.secondsWord0 &&
      dv.getInt32(s + 4, true) === this.secondsWord1 &&
      dv.getInt32(s + 8, true) === this.secondsWord2 &&
      dv.getInt32(s + 12, true) === this.secondsWord3 &&
      (buf[s + 16]! | (buf[s + 17]! << 8) | (buf[s + 18]! << 16)) === this.secondsTail &&
      !Number.isNaN(this.secondsMs)
    ) {
      const ms = suffixMillis(buf, s + 19, e);
      // The range check as in parseRfc3339Codes: the seconds may be the last storable ones.
      if (ms >= 0) return inStorableRange(this.secondsMs + ms);
    }
    // Non-ASCII bytes fail every position check in parseRfc3339Codes just as their
    // decoded characters do in the reference, so reading bytes as codes is equivalent.
    this.timeBuf = buf;
    this.timeStart = s;
    this.timeEnd = e;
    const t = parseRfc3339Codes(this.timeAt, e - s);
    this.timeBuf = EMPTY;
    if (!Number.isNaN(t) && e - s >= 20) {
      const ms = suffixMillis(buf, s + 19, e);
      if (ms >= 0) {
        this.secondsWord0 = dv.getInt32(s, true);
        this.secondsWord1 = dv.getInt32(s + 4, true);
        this.secondsWord2 = dv.getInt32(s + 8, true);
        this.secondsWord3 = dv.getInt32(s + 12, true);
        this.secondsTail = buf[s + 16]! | (buf[s + 17]! << 8) | (buf[s + 18]! << 16);
        this.secondsMs = t - ms;
      }
    }
    return t;
  }

  /** The labels object at bytes `s..e` (already validated), as the reference builds it. */
  labelsOf(buf: Buffer, s: number, e: number): Readonly<Record<string, string>> | undefined {
    const cacheable = e - s <= this.labels.maxBytes;
    if (cacheable) {
      const hit = this.labels.lookup(buf, this.dv, s, e);
      if (hit !== undefined) return hit;
    }
    // Built by JSON.parse + the reference's own construction, so duplicate keys, key order,
    // non-string values and `__proto__` come out exactly as in the reference. Frozen
    // because one record is shared by every event with the same label bytes.
    const text = buf.toString('utf8', s, e);
    const record = stringRecord(JSON.parse(text));
    if (record === undefined) return undefined;
    Object.freeze(record);
    // For an ASCII span the utf8 text is the raw text, which is the cache key.
    if (cacheable) this.labels.store(text, record);
    return record;
  }

  /** The op the current value (a `function_name`) names, into `facts`; else its span, for the skip type. */
  functionName(buf: Buffer, facts: EventFacts): void {
    if (this.kind !== V_STRING) return;
    const s = this.start;
    const e = this.end;
    if (this.escaped) {
      facts.op = KPROBE_OPS.get(decodeString(buf, s, e));
    } else {
      const n = e - s;
      outer: for (let k = 0; k < FUNCTIONS.length; k++) {
        const f = FUNCTIONS[k]!;
        const b = f.bytes;
        if (b.length !== n) continue;
        for (let j = 0; j < n; j++) if (b[j] !== buf[s + j]) continue outer;
        facts.op = f.op;
        break;
      }
    }
    if (facts.op === undefined) {
      facts.fnStart = s;
      facts.fnEnd = e;
      facts.fnEscaped = this.escaped;
    }
  }
}
