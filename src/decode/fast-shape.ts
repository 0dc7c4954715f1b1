/**
 * Skipping (validating, not reading) an object laid out as one of the last two of its
 * place: the same keys and separators, byte for byte, between members' values that may
 * all differ. Tetragon's `parent` of a new process is such an object: its bytes match no
 * object seen before (the span cache misses), but its keys and separators are those of
 * every parent printed before it (two layouts in turn: a pod process's parent, and a host
 * process's, without `pod` and `docker`). Its literal stretches are compared word by word
 * and only its values are scanned, instead of a scan of every byte.
 *
 * Why this is exact: JSON's grammar is context-free and a value's extent is a function of
 * its own bytes (a string, object, array or literal ends at its closing byte; a number at
 * its first byte that cannot continue it, and every stretch after a value starts with `,`,
 * `}` or whitespace). The stretches were cut from an object that was validated whole, at
 * its members' value boundaries; so an object whose bytes are those stretches with any
 * valid JSON values between them is valid too, and ends where its last stretch does.
 * Values are validated by the scanners of json-scan.ts, so nothing is accepted here that
 * `JSON.parse` would not accept (a member's value may nest as deep as `skipValue` tracks,
 * one level more than the object as a whole). Anything else (another key, a space, a
 * member more or less) is a mismatch, and the object is skipped by one pass that
 * validates it as `skipValue` does and learns its stretches for the next one.
 */
import { Learned } from './fast-skeleton.ts';
import type { SpanCache } from './fast-span-cache.ts';
import { COMMA, LBRACE, QUOTE, RBRACE } from './fast-values.ts';
import { memberKeyEnd, scanString, skipValue, skipWs } from './json-scan.ts';

/** Members of a learnt object, at most: a Tetragon process object has 14. */
const MAX_MEMBERS = 32;
/** Bytes of one stretch (a key and its separators), at most. */
const STRETCH_BYTES = 128;

/** The stretches of one learnt object, each a `Learned` (fast-skeleton.ts): stretch k comes before member k's value. */
class Stretches {
  private readonly stretches: Learned[] = [];
  /** Members of the learnt object; 0 while none is learnt. */
  members = 0;

  /** The end of the object at `i` when it has these stretches, else -1 (which says nothing of its validity). */
  match(buf: Buffer, dv: DataView, i: number, end: number, nested: SpanCache<unknown> | undefined): number {
    const stretches = this.stretches;
    const last = this.members;
    for (let k = 0; ; k++) {
      i = stretches[k]!.match(buf, dv, i, end);
      if (i < 0 || k === last) return i;
      i = memberValue(buf, dv, i, end, nested);
      if (i < 0) return -1;
    }
  }

  /**
   * Skips the object at `i` member by member, validating what `skipValue` validates, and
   * learns its stretches; its end, or -1. An object that does not fit the bounds is
   * skipped all the same, and nothing learnt.
   */
  learn(buf: Buffer, dv: DataView, i: number, end: number): number {
    this.members = 0;
    const s = i;
    i = skipWs(buf, i + 1, end);
    if (i >= end) return -1;
    if (buf[i] === RBRACE) return i + 1;
    let fits = true;
    let from = s;
    let k = 0;
    for (;;) {
      const v = memberKeyEnd(buf, dv, i, end);
      if (v < 0) return -1;
      fits = fits && this.keep(buf, dv, from, v, k++);
      const e = skipValue(buf, dv, v, end);
      if (e < 0) return -1;
      i = skipWs(buf, e, end);
      if (i >= end) return -1;
      from = e;
      if (buf[i] === COMMA) {
        i = skipWs(buf, i + 1, end);
        continue;
      }
      if (buf[i] !== RBRACE) return -1;
      i++;
      if (fits && this.keep(buf, dv, from, i, k)) this.members = k;
      return i;
    }
  }

  /** Files bytes `s..e` of `buf` as stretch `k`; false when over the bounds. */
  private keep(buf: Buffer, dv: DataView, s: number, e: number, k: number): boolean {
    if (k > MAX_MEMBERS || e - s > STRETCH_BYTES) return false;
    (this.stretches[k] ??= new Learned(STRETCH_BYTES)).learn(buf, dv, s, e);
    return true;
  }
}

/** A member's value at `i`: its end, or -1. */
function memberValue(buf: Buffer, dv: DataView, i: number, end: number, nested: SpanCache<unknown> | undefined): number {
  const c = buf[i];
  if (c === QUOTE) return scanString(buf, dv, i + 1, end);
  if (c === LBRACE && nested !== undefined) {
    const n = nested.lookup(buf, dv, i, end);
    if (n > 0) return i + n;
  }
  return skipValue(buf, dv, i, end);
}

export class ObjectShape {
  private readonly shapes = [new Stretches(), new Stretches()];
  /** The shape that matched (or was learnt) last; the other is learnt over on a miss. */
  private recent = 0;
  /** Objects skipped by a shape / by a full pass. */
  hits = 0;
  misses = 0;

  /**
   * `nested`: validated objects, looked up (never filed) for a member's object value, so
   * that a value repeated from elsewhere in the line (a parent's `pod`, the same as its
   * process's) costs one compare.
   */
  constructor(private readonly nested?: SpanCache<unknown>) {}

  /** The index after the JSON value at `i` (validated), or -1 as `skipValue`. */
  skip(buf: Buffer, dv: DataView, i: number, end: number): number {
    if (buf[i] !== LBRACE) return skipValue(buf, dv, i, end);
    for (let t = 0; t < 2; t++) {
      const k = this.recent ^ t;
      const shape = this.shapes[k]!;
      if (shape.members === 0) continue;
      const e = shape.match(buf, dv, i, end, this.nested);
      if (e >= 0) {
        this.recent = k;
        this.hits++;
        return e;
      }
    }
    this.misses++;
    this.recent ^= 1;
    return this.shapes[this.recent]!.learn(buf, dv, i, end);
  }
}
