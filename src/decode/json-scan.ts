/**
 * Validating JSON scanning on raw bytes, without building values.
 *
 * The fast decoder skips most of each line (the `parent` object, most of `process`), but a
 * line must only take the fast path when `JSON.parse` would accept the whole of it, so
 * these scanners check the complete RFC 8259 grammar — the same grammar V8's `JSON.parse`
 * implements — while they skip: string escapes, raw control characters, number syntax,
 * literals, commas, colons and nesting. Every function returns the index just past what it
 * scanned, or -1 when the bytes are not valid JSON (or nest deeper than it tracks); the
 * caller then falls back to the reference decoder, which decides what the line means.
 *
 * Bytes at or past `end` are never trusted: the buffer usually continues with the next
 * line, so every read is bounds-checked against `end` rather than the buffer's length.
 *
 * Non-ASCII bytes are accepted inside strings without UTF-8 validation on purpose: the
 * reference decodes lines with `Buffer#toString('utf8')`, which replaces invalid sequences
 * with U+FFFD, so such strings are still valid JSON there. Outside strings any byte above
 * 0x7F is a syntax error in both.
 */

/** Out-parameters of the last `scanString` call, kept in one object so scanning allocates nothing. */
export const scanState = {
  /** Whether the last string scanned contained a backslash escape. */
  escaped: false,
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * 1 for bytes that end the plain run of a string (control characters, `"` and `\`), else 0.
 * One table load per byte is cheaper than three comparisons in the hottest loop.
 */
const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1;
STRING_STOP[QUOTE] = 1;
STRING_STOP[BACKSLASH] = 1;

/** 1 for the four whitespace bytes JSON allows between tokens. */
const WS = new Uint8Array(256);
WS[0x20] = 1;
WS[0x09] = 1;
WS[0x0a] = 1;
WS[0x0d] = 1;

/** 1 for the bytes after a backslash that make a one-character escape; `u` is handled apart. */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;

/** 1 for hexadecimal digits. */
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/**
 * Index of the first byte at or after `i` that ends a string's plain run (`"`, `\\` or a
 * control character), or `end`. Four bytes per step through `dv` (a view of `buf`):
 * strings are most of a line's bytes, and one 32-bit load with SWAR tests costs less than
 * four bounds-checked byte loads (measured 1.4x on the whole scan). Each test is the exact
 * "some byte is zero / less than n" bit trick, so no run end is ever skipped; a hit
 * is then located byte by byte.
 */
export function plainEnd(buf: Buffer, dv: DataView, i: number, end: number): number {
  while (i + 4 <= end) {
    const v = dv.getInt32(i, true);
    const q = v ^ 0x22222222;
    const b = v ^ 0x5c5c5c5c;
    if (((((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b) | ((v - 0x20202020) & ~v)) & 0x80808080) !== 0) break;
    i += 4;
  }
  while (i < end && STRING_STOP[buf[i]!] === 0) i++;
  return i;
}

export function skipWs(buf: Buffer, i: number, end: number): number {
  while (i < end && WS[buf[i]!] === 1) i++;
  return i;
}

/**
 * Scans a string body. `i` is the index just after the opening quote; returns the index
 * just after the closing quote and sets `scanState.escaped`.
 */
export function scanString(buf: Buffer, dv: DataView, i: number, end: number): number {
  i = plainEnd(buf, dv, i, end);
  if (i >= end) return -1;
  if (buf[i] === QUOTE) {
    scanState.escaped = false;
    return i + 1;
  }
  i = finishString(buf, dv, i, end);
  if (i < 0) return -1;
  scanState.escaped = true;
  return i + 1;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Index after the JSON integer `-?(0|[1-9][0-9]*)` at `i`, or -1: the start of a number
 * only, as the caller then checks the byte that must follow (so a fraction or exponent
 * there makes it miss rather than pass).
 */
export function intEnd(buf: Buffer, i: number, end: number): number {
  if (i < end && buf[i] === 0x2d) i++;
  if (i >= end) return -1;
  const first = buf[i]!;
  if (first === 0x30) return i + 1;
  if (!isDigit(first)) return -1;
  i++;
  while (i < end && isDigit(buf[i]!)) i++;
  return i;
}

/** Scans a number (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`) starting at `i`. */
export function scanNumber(buf: Buffer, i: number, end: number): number {
  if (i < end && buf[i] === 0x2d) i++;
  if (i >= end) return -1;
  const first = buf[i]!;
  if (first === 0x30) {
    i++;
  } else if (first >= 0x31 && first <= 0x39) {
    i++;
    while (i < end && isDigit(buf[i]!)) i++;
  } else {
    return -1;
  }
  if (i < end && buf[i] === 0x2e) {
    i++;
    if (i >= end || !isDigit(buf[i]!)) return -1;
    while (i < end && isDigit(buf[i]!)) i++;
  }
  if (i < end && (buf[i] === 0x65 || buf[i] === 0x45)) {
    i++;
    if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) i++;
    if (i >= end || !isDigit(buf[i]!)) return -1;
    while (i < end && isDigit(buf[i]!)) i++;
  }
  return i;
}

/** Checks that the bytes at `i` spell `word` (`true`, `false`, `null`). */
function scanLiteral(buf: Buffer, i: number, end: number, word: Uint8Array): number {
  const n = word.length;
  if (i + n > end) return -1;
  for (let k = 0; k < n; k++) if (buf[i + k] !== word[k]) return -1;
  return i + n;
}

const TRUE = new Uint8Array([0x74, 0x72, 0x75, 0x65]);
const FALSE = new Uint8Array([0x66, 0x61, 0x6c, 0x73, 0x65]);
const NULL = new Uint8Array([0x6e, 0x75, 0x6c, 0x6c]);

/**
 * Deepest nesting `skipValue` tracks, one bit per level in a 32-bit stack. Tetragon's
 * events nest about six levels; anything deeper goes to the reference decoder.
 */
const MAX_DEPTH = 31;

/**
 * Finishes a string whose plain run stopped at `i` on a backslash or control character:
 * validates escapes up to the closing quote. Returns the index of the closing quote.
 * Out of line because escapes are rare and the hot loops should stay small.
 */
function finishString(buf: Buffer, dv: DataView, i: number, end: number): number {
  for (;;) {
    if (i >= end) return -1;
    const c = buf[i]!;
    if (c === QUOTE) return i;
    if (c !== BACKSLASH) return -1; // a raw control character
    if (i + 1 >= end) return -1;
    const e = buf[i + 1]!;
    if (SIMPLE_ESCAPE[e] === 1) {
      i += 2;
    } else if (e === 0x75) {
      if (i + 6 > end) return -1;
      if (HEX[buf[i + 2]!] !== 1 || HEX[buf[i + 3]!] !== 1 || HEX[buf[i + 4]!] !== 1 || HEX[buf[i + 5]!] !== 1) {
        return -1;
      }
      i += 6;
    } else {
      return -1;
    }
    i = plainEnd(buf, dv, i, end);
  }
}

/**
 * A member's key (a string) and its colon, from `i` at the opening quote: the offset of
 * the member's value (whitespace skipped), or -1.
 */
export function memberKeyEnd(buf: Buffer, dv: DataView, i: number, end: number): number {
  if (i >= end || buf[i] !== QUOTE) return -1;
  i = plainEnd(buf, dv, i + 1, end);
  if (i >= end) return -1;
  if (buf[i] !== QUOTE) {
    i = finishString(buf, dv, i, end);
    if (i < 0) return -1;
  }
  i++;
  while (i < end && WS[buf[i]!] === 1) i++;
  if (i >= end || buf[i] !== COLON) return -1;
  i++;
  while (i < end && WS[buf[i]!] === 1) i++;
  return i;
}

/**
 * Skips one complete value starting at `i` (no leading whitespace), validating it.
 *
 * One flat loop with the string scan, member heads and separators written inline: on
 * Tetragon's lines a token is ~15 bytes, so per-token call overhead would cost as much as
 * the byte scanning (measured: 2× slower with helper calls). Iterative with a bit stack
 * rather than recursive so that hostile nesting cannot overflow the call stack.
 */
export function skipValue(buf: Buffer, dv: DataView, i: number, end: number): number {
  // Bit k of `stack` is 1 when the container at depth k+1 is an object.
  let stack = 0;
  let depth = 0;
  let c = 0;
  for (;;) {
    // A value starts at i.
    if (i >= end) return -1;
    c = buf[i]!;
    if (c === QUOTE) {
      i++;
      i = plainEnd(buf, dv, i, end);
      if (i >= end) return -1;
      if (buf[i] !== QUOTE) {
        i = finishString(buf, dv, i, end);
        if (i < 0) return -1;
      }
      i++;
    } else if (c === LBRACE || c === LBRACKET) {
      i++;
      while (i < end && WS[buf[i]!] === 1) i++;
      if (i >= end) return -1;
      if (c === LBRACE) {
        if (buf[i] === RBRACE) {
          i++;
        } else {
          if (depth === MAX_DEPTH) return -1;
          stack |= 1 << depth;
          depth++;
          // The first member's key, then its value.
          i = memberKeyEnd(buf, dv, i, end);
          if (i < 0) return -1;
          continue;
        }
      } else if (buf[i] === RBRACKET) {
        i++;
      } else {
        if (depth === MAX_DEPTH) return -1;
        stack &= ~(1 << depth);
        depth++;
        continue;
      }
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      i = scanNumber(buf, i, end);
      if (i < 0) return -1;
    } else if (c === 0x74) {
      i = scanLiteral(buf, i, end, TRUE);
      if (i < 0) return -1;
    } else if (c === 0x66) {
      i = scanLiteral(buf, i, end, FALSE);
      if (i < 0) return -1;
    } else if (c === 0x6e) {
      i = scanLiteral(buf, i, end, NULL);
      if (i < 0) return -1;
    } else {
      return -1;
    }
    // A value ended at i: close containers until one continues with a comma.
    for (;;) {
      if (depth === 0) return i;
      while (i < end && WS[buf[i]!] === 1) i++;
      if (i >= end) return -1;
      c = buf[i]!;
      const inObject = ((stack >>> (depth - 1)) & 1) === 1;
      if (c === COMMA) {
        i++;
        while (i < end && WS[buf[i]!] === 1) i++;
        if (inObject) {
          // The next member's key and colon; its value follows.
          i = memberKeyEnd(buf, dv, i, end);
          if (i < 0) return -1;
        }
        break;
      }
      if (c === (inObject ? RBRACE : RBRACKET)) {
        depth--;
        i++;
        continue;
      }
      return -1;
    }
  }
}
