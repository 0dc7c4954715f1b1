/**
 * Line protocol written straight into bytes: for every point, exactly the UTF-8 of
 * `formatPoint(point) + '\n'` (line-protocol.ts defines the text; this only spells it
 * faster). A 338 MB replay writes 30 MB of line protocol: built as a string per point,
 * then a string per batch, then its UTF-8 copy, that was ~90 of the ~190 MB the replay
 * allocated, most of the garbage collector's work. Here a batch is encoded into one
 * buffer that is reused, and only the batch's bytes are copied out.
 */
import type { MetricPoint } from '../core/metric-point.ts';
import { seriesKey } from '../core/series.ts';
import { escape } from '../core/line-protocol-escape.ts';
import { floatText, msToNanosText } from './line-protocol.ts';

const SPACE = 0x20;
const NEWLINE = 0x0a;
const MINUS = 0x2d;
const ZERO = 0x30;
const SUFFIX_I = 0x69;

/** A field's escaped key as bytes, as written first (after the space) and after a comma. */
interface FieldKeyBytes {
  readonly first: Uint8Array;
  readonly next: Uint8Array;
}

const utf8 = new TextEncoder();
const fieldKeys = new Map<string, FieldKeyBytes>();

function fieldKey(name: string): FieldKeyBytes {
  let k = fieldKeys.get(name);
  if (k === undefined) {
    const escaped = escape.tag(name);
    k = { first: utf8.encode(` ${escaped}=`), next: utf8.encode(`,${escaped}=`) };
    fieldKeys.set(name, k);
  }
  return k;
}

/** Bytes of a key or a number: at most this many per UTF-16 unit of its text. */
const MAX_BYTES_PER_UNIT = 3;
/** Longest number text: 17 significant digits, a sign, a point and an exponent. */
const MAX_NUMBER_BYTES = 32;

export class LineEncoder {
  private buf: Buffer;
  private n = 0;
  private lastTimeMs = NaN;
  private timeBytes: Uint8Array = new Uint8Array(0);

  constructor(initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** The points as lines, each ending in a newline, in a buffer of their own. */
  encode(points: readonly MetricPoint[]): Buffer {
    this.n = 0;
    for (let i = 0; i < points.length; i++) this.point(points[i]!);
    // A copy: the stream holds the bytes until written, and the scratch buffer is reused.
    return Buffer.from(this.buf.subarray(0, this.n));
  }

  private point(p: MetricPoint): void {
    const key = p.key ?? seriesKey(p.measurement, p.tags);
    this.room(key.length * MAX_BYTES_PER_UNIT);
    this.n += this.buf.write(key, this.n, 'utf8');
    let written = false;
    const ints = p.ints;
    for (const k in ints) {
      this.bytes(written ? fieldKey(k).next : fieldKey(k).first);
      this.integer(Math.trunc(ints[k]!));
      this.room(1);
      this.buf[this.n++] = SUFFIX_I;
      written = true;
    }
    const floats = p.floats;
    if (floats)
      for (const k in floats) {
        this.bytes(written ? fieldKey(k).next : fieldKey(k).first);
        this.ascii(floatText(floats[k]!));
        written = true;
      }
    if (!written) {
      this.room(1);
      this.buf[this.n++] = SPACE;
    }
    if (p.timeMs !== this.lastTimeMs) {
      this.timeBytes = utf8.encode(` ${msToNanosText(p.timeMs)}`);
      this.lastTimeMs = p.timeMs;
    }
    this.bytes(this.timeBytes);
    this.room(1);
    this.buf[this.n++] = NEWLINE;
  }

  /** An integer as `String` spells it; by hand for safe integers, the common case. */
  private integer(v: number): void {
    if (!Number.isSafeInteger(v)) {
      this.ascii(String(v));
      return;
    }
    this.room(MAX_NUMBER_BYTES);
    const buf = this.buf;
    // -0 is written `0`, as String(-0) is.
    if (v < 0) {
      buf[this.n++] = MINUS;
      v = -v;
    }
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    let at = this.n + digits;
    this.n = at;
    do {
      const q = Math.floor(v / 10);
      buf[--at] = ZERO + (v - q * 10);
      v = q;
    } while (v > 0);
  }

  /** Text known to be ASCII (a number's `String`), a unit a byte. */
  private ascii(text: string): void {
    this.room(text.length);
    const buf = this.buf;
    for (let i = 0; i < text.length; i++) buf[this.n++] = text.charCodeAt(i);
  }

  private bytes(b: Uint8Array): void {
    this.room(b.length);
    const buf = this.buf;
    for (let i = 0; i < b.length; i++) buf[this.n++] = b[i]!;
  }

  /** Makes room for `extra` more bytes, doubling the buffer as needed. */
  private room(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + extra) size *= 2;
    const grown = Buffer.allocUnsafeSlow(size);
    this.buf.copy(grown, 0, 0, this.n);
    this.buf = grown;
  }
}
