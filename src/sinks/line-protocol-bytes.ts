/**
 * Line protocol written straight into bytes: for every point, exactly the UTF-8 of
 * `formatPoint(point) + '\n'` (line-protocol.ts defines the text; this only spells it
 * faster). A 338 MB replay writes 30 MB of line protocol: built as a string per point,
 * then a string per batch, then its UTF-8 copy, that was ~90 of the ~190 MB the replay
 * allocated, most of the garbage collector's work. Here a batch is encoded into a
 * buffer that is reused: `lend` hands the bytes out in place until they are given back
 * (a sink gives them back once its stream has written them), `encode` copies them out.
 */
import type { MetricPoint } from '../core/metric-point.ts';
import { seriesKey } from '../core/series.ts';
import { fieldKey, floatText, msToNanosText } from './line-protocol.ts';

const SPACE = 0x20;
const NEWLINE = 0x0a;
const MINUS = 0x2d;
const ZERO = 0x30;
const SUFFIX_I = 0x69;

/** A field's key as bytes, as written first (after the space) and after a comma. */
interface FieldKeyBytes {
  readonly first: Uint8Array;
  readonly next: Uint8Array;
}

const utf8 = new TextEncoder();
const EMPTY = Buffer.alloc(0);
const fieldKeys = new Map<string, FieldKeyBytes>();

/** The bytes of line-protocol.ts's field key text (the escaping is done there, once). */
function fieldKeyBytes(name: string): FieldKeyBytes {
  let k = fieldKeys.get(name);
  if (k === undefined) {
    const text = fieldKey(name);
    k = { first: utf8.encode(text.first), next: utf8.encode(text.next) };
    fieldKeys.set(name, k);
  }
  return k;
}

/** Series keys whose bytes an encoder keeps (~300 bytes each). */
export const MAX_CACHED_KEYS = 4096;
/**
 * Longest number text and its suffix: `String` of a double is at most 24 characters
 * (`-2.2250738585072014e-308`), of an integer beyond 2^53 (`1e+21`, `-Infinity`) fewer.
 */
const MAX_NUMBER_BYTES = 32;

/** Writes `v` (an integer, as `Math.trunc` gives) at `n` as `String(v)` spells it; the index after it. */
function writeInteger(buf: Uint8Array, n: number, v: number): number {
  if (!Number.isSafeInteger(v)) return writeAscii(buf, n, String(v));
  // -0 is written `0`, as String(-0) is.
  if (v < 0) {
    buf[n++] = MINUS;
    v = -v;
  }
  // Beyond 32 bits (rare: a window's byte count over 2 GiB), String's own conversion;
  // below, int32 division by 10, which compiles to a multiply (a double division per
  // digit was most of this function's time).
  if (v > 0x7fffffff) return writeAscii(buf, n, String(v));
  let x = v | 0;
  const after = n + decimalDigits(x);
  let at = after;
  do {
    const q = (x / 10) | 0;
    buf[--at] = ZERO + x - q * 10;
    x = q;
  } while (x !== 0);
  return after;
}

/** Digits of a non-negative int32 in decimal. */
function decimalDigits(x: number): number {
  if (x < 100000) return x < 100 ? (x < 10 ? 1 : 2) : x < 1000 ? 3 : x < 10000 ? 4 : 5;
  return x < 10000000 ? (x < 1000000 ? 6 : 7) : x < 100000000 ? 8 : x < 1000000000 ? 9 : 10;
}

/** Writes text known to be ASCII (a number's `String`) at `n`, a unit a byte; the index after it. */
function writeAscii(buf: Uint8Array, n: number, text: string): number {
  for (let i = 0; i < text.length; i++) buf[n++] = text.charCodeAt(i);
  return n;
}

function writeBytes(buf: Uint8Array, n: number, b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) buf[n++] = b[i]!;
  return n;
}

/** ` <ns>` of a window time, as bytes. */
function timeBytesOf(timeMs: number): Uint8Array {
  const text = ` ${msToNanosText(timeMs)}`;
  const b = new Uint8Array(text.length);
  writeAscii(b, 0, text);
  return b;
}

/**
 * Buffers given back are kept for later batches, up to this many and this size: at most
 * 8 MB held between batches (a buffer grown for one huge window is let go). More may be
 * lent at once: a file sink's stream takes about a megabyte of batches before a write
 * waits (text-stream-sink.ts), a dozen of a busy node's ~80 KB windows.
 */
const MAX_SPARES = 8;
const MAX_SPARE_BYTES = 1 << 20;

export class LineEncoder {
  /** The buffer of the batch being encoded. */
  private buf: Buffer = EMPTY;
  /** Buffers given back, to encode later batches into. */
  private readonly spares: Buffer[] = [];
  private lastTimeMs = NaN;
  private timeBytes: Uint8Array = new Uint8Array(0);
  /**
   * Series keys as UTF-8, by key: the same few hundred series recur window after window
   * (a 338 MB replay writes 80k points of 462 series), and a copy of bytes is cheaper
   * than encoding ~280 characters again (~10 ms of the replay's end, where it writes
   * all its windows, one batch each). Bounded: it starts over at MAX_CACHED_KEYS.
   */
  private readonly keyBytes = new Map<string, Uint8Array>();

  constructor(private readonly initialBytes = 1 << 18) {}

  /** The points as lines, each ending in a newline, in a buffer of their own. */
  encode(points: readonly MetricPoint[]): Buffer {
    const lent = this.lend(points);
    const copy = Buffer.from(lent);
    this.giveBack(lent);
    return copy;
  }

  /**
   * The points as lines, like `encode`, in the encoder's own memory: the bytes stay as
   * they are until given back with `giveBack`, which lets a later batch be written over
   * them. A copy per batch was most of the end of a replay, which writes every window at
   * once (30 MB copied into fresh memory, and the collections that the new external
   * memory brought on: ~40 of its ~160 ms in a profiled harness).
   */
  lend(points: readonly MetricPoint[]): Buffer {
    this.buf = this.spares.pop() ?? Buffer.allocUnsafeSlow(this.initialBytes);
    let n = 0;
    for (let i = 0; i < points.length; i++) n = this.point(points[i]!, n);
    const lent = this.buf.subarray(0, n);
    this.buf = EMPTY;
    return lent;
  }

  /** Takes back bytes `lend` gave, once nothing reads them any more. */
  giveBack(lent: Uint8Array): void {
    // Each buffer is allocUnsafeSlow's, alone in its ArrayBuffer: the whole of it again.
    const whole = Buffer.from(lent.buffer, 0, lent.buffer.byteLength);
    if (this.spares.length < MAX_SPARES && whole.length <= MAX_SPARE_BYTES) this.spares.push(whole);
  }

  /** Writes `p`'s line at `n`; the index after its newline. Locals, not fields, on this path: it runs per point written. */
  private point(p: MetricPoint, n: number): number {
    const kb = p.key === undefined ? utf8.encode(seriesKey(p.measurement, p.tags)) : this.keyBytesOf(p.key);
    let buf = this.room(n, kb.length + 1);
    buf.set(kb, n);
    n += kb.length;
    let written = false;
    const ints = p.ints;
    for (const k in ints) {
      const fk = fieldKeyBytes(k);
      const kb = written ? fk.next : fk.first;
      buf = this.room(n, kb.length + MAX_NUMBER_BYTES + 1);
      n = writeInteger(buf, writeBytes(buf, n, kb), Math.trunc(ints[k]!));
      buf[n++] = SUFFIX_I;
      written = true;
    }
    const floats = p.floats;
    if (floats)
      for (const k in floats) {
        const fk = fieldKeyBytes(k);
        const kb = written ? fk.next : fk.first;
        buf = this.room(n, kb.length + MAX_NUMBER_BYTES);
        n = writeAscii(buf, writeBytes(buf, n, kb), floatText(floats[k]!));
        written = true;
      }
    if (p.timeMs !== this.lastTimeMs) {
      this.timeBytes = timeBytesOf(p.timeMs);
      this.lastTimeMs = p.timeMs;
    }
    buf = this.room(n, this.timeBytes.length + 2);
    if (!written) buf[n++] = SPACE;
    n = writeBytes(buf, n, this.timeBytes);
    buf[n++] = NEWLINE;
    return n;
  }

  private keyBytesOf(key: string): Uint8Array {
    let kb = this.keyBytes.get(key);
    if (kb === undefined) {
      if (this.keyBytes.size >= MAX_CACHED_KEYS) this.keyBytes.clear();
      kb = utf8.encode(key);
      this.keyBytes.set(key, kb);
    }
    return kb;
  }

  /** The buffer, with room for `extra` more bytes after `n` (doubled as needed). */
  private room(n: number, extra: number): Buffer {
    if (n + extra <= this.buf.length) return this.buf;
    let size = Math.max(this.buf.length * 2, 1);
    while (size < n + extra) size *= 2;
    const grown = Buffer.allocUnsafeSlow(size);
    this.buf.copy(grown, 0, 0, n);
    this.buf = grown;
    return grown;
  }
}
