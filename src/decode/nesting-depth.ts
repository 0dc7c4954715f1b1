/**
 * The nesting-depth limit, checked before any full parse: `JSON.parse` builds every
 * level of `[[[[…` before it can fail, so one line of a few million brackets costs
 * hundreds of megabytes (issue 11: a 15 MB line peaked at 858 MB), while this scan
 * costs nothing but a pass over the bytes. A Tetragon event nests about six levels deep
 * (process_kprobe → args → [i] → sock_arg, process → pod → pod_labels), so a line
 * deeper than the limit is not an event: it is rejected as `too_deep`.
 */
export const MAX_NESTING_DEPTH = 64;

const QUOTE = 0x22,
  BACKSLASH = 0x5c,
  LBRACKET = 0x5b,
  RBRACKET = 0x5d,
  LBRACE = 0x7b,
  RBRACE = 0x7d;

/**
 * Whether the JSON text (bytes or UTF-16 code units; the structural characters are
 * ASCII in both) opens more than `limit` arrays or objects at once. Brackets inside
 * strings do not count; the text need not be valid JSON (the parser decides that).
 */
function nestsDeeperThan(code: (i: number) => number, start: number, end: number, limit = MAX_NESTING_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = start; i < end; i++) {
    const c = code(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === LBRACKET || c === LBRACE) {
      if (++depth > limit) return true;
    } else if (c === RBRACKET || c === RBRACE) {
      depth--;
    }
  }
  return false;
}

export function bytesNestDeeperThan(buf: Buffer, start: number, end: number, limit = MAX_NESTING_DEPTH): boolean {
  return nestsDeeperThan((i) => buf[i]!, start, end, limit);
}

export function textNestsDeeperThan(text: string, limit = MAX_NESTING_DEPTH): boolean {
  return nestsDeeperThan((i) => text.charCodeAt(i), 0, text.length, limit);
}
