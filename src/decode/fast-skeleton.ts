/**
 * Literal byte sequences of Tetragon's canonical kprobe layout, for the fast decoder's
 * speculative path: protobuf JSON prints keys in field order without whitespace, so a line
 * is mostly a fixed skeleton with variable strings and integers in between. Matching a
 * literal proves both the key and every separator around it in one compare, where the
 * general path scans the key, looks it up, then checks the colon and comma one by one.
 */

/** A literal with its bytes also as little-endian int32 words, compared four bytes per load. */
export class Lit {
  readonly bytes: Uint8Array;
  readonly words: Int32Array;
  readonly length: number;

  constructor(text: string) {
    const b = Buffer.from(text, 'latin1');
    if (b.toString('latin1') !== text || b.some((c) => c > 0x7e)) throw new Error('Lit must be ASCII');
    this.bytes = new Uint8Array(b);
    this.length = b.length;
    this.words = new Int32Array(b.length >> 2);
    for (let k = 0; k < this.words.length; k++) this.words[k] = b.readInt32LE(4 * k);
  }
}

/**
 * Index after `lit` when bytes `i..` of `buf` spell it before `end`, else -1. `dv` views
 * `buf`. A JS loop rather than `Buffer#compare`: these literals are 8–30 bytes, where the
 * native call's fixed cost would be most of the work.
 */
export function matchLit(buf: Buffer, dv: DataView, i: number, end: number, lit: Lit): number {
  const n = lit.length;
  if (i + n > end) return -1;
  const words = lit.words;
  const w = words.length;
  for (let k = 0; k < w; k++) if (dv.getInt32(i + 4 * k, true) !== words[k]) return -1;
  const bytes = lit.bytes;
  for (let k = 4 * w; k < n; k++) if (buf[i + k] !== bytes[k]) return -1;
  return i + n;
}

// The skeleton, in the order Tetragon prints it. Each literal carries its separators, so
// that a match also proves the comma, quotes and colon between values.
export const L_HEAD = new Lit('{"process_kprobe":{"process":');
export const L_SOCK = new Lit('{"sock_arg":{"family":"');
export const L_SIZE = new Lit('{"size_arg":"');

/**
 * The literals that begin with a comma, in one separator style. Go's protobuf JSON
 * encoder, in some builds, writes a space after every comma (`{"a":1, "b":2}`; the choice
 * is fixed per build of the binary), so a Tetragon release prints one style or the other,
 * always the same: the decoder keeps both sets and picks one per line.
 */
export class Separated {
  readonly PARENT: Lit;
  readonly FUNCTION: Lit;
  readonly ARGS: Lit;
  readonly TYPE: Lit;
  readonly PROTOCOL: Lit;
  readonly SADDR: Lit;
  readonly DADDR: Lit;
  readonly SPORT: Lit;
  readonly DPORT: Lit;
  readonly COOKIE: Lit;
  readonly STATE: Lit;
  readonly RETURN: Lit;
  readonly ACTION: Lit;
  readonly POLICY: Lit;
  readonly NODE: Lit;
  readonly TIME: Lit;

  /** `gap`: the bytes after each comma (0: compact, 1: one space). */
  constructor(readonly gap: 0 | 1) {
    const c = gap === 0 ? ',' : ', ';
    this.PARENT = new Lit(`${c}"parent":`);
    this.FUNCTION = new Lit(`${c}"function_name":"`);
    this.ARGS = new Lit(`${c}"args":[`);
    this.TYPE = new Lit(`${c}"type":"`);
    this.PROTOCOL = new Lit(`${c}"protocol":"`);
    this.SADDR = new Lit(`${c}"saddr":"`);
    this.DADDR = new Lit(`${c}"daddr":"`);
    this.SPORT = new Lit(`${c}"sport":`);
    this.DPORT = new Lit(`${c}"dport":`);
    this.COOKIE = new Lit(`${c}"cookie":"`);
    this.STATE = new Lit(`${c}"state":"`);
    this.RETURN = new Lit(`${c}"return":{"int_arg":`);
    this.ACTION = new Lit(`${c}"action":"`);
    this.POLICY = new Lit(`${c}"policy_name":"`);
    this.NODE = new Lit(`}${c}"node_name":"`);
    this.TIME = new Lit(`${c}"time":"`);
  }
}

export const COMPACT = new Separated(0);
export const SPACED = new Separated(1);

/**
 * A stretch of the skeleton whose bytes were validated on an earlier line, kept to be
 * matched whole on the next: the unread values between literals (`"AF_INET"`,
 * `"SOCK_STREAM"`, `"KPROBE_ACTION_POST"`, `"kovenant-tcp"`...) repeat from line to line,
 * and one word-wise compare then replaces several literal matches and string scans. Sound
 * as the span caches are: how those bytes parse depends on them alone, and none of them
 * is a value the decoder reads.
 */
export class Learned {
  private readonly bytes: Uint8Array;
  private readonly words: Int32Array;
  private length = 0;

  constructor(readonly capacity: number) {
    this.bytes = new Uint8Array(capacity);
    this.words = new Int32Array(capacity >> 2);
  }

  /** Index after the learned bytes when bytes `i..` of `buf` (viewed by `dv`) repeat them before `end`, else -1. */
  match(buf: Buffer, dv: DataView, i: number, end: number): number {
    const n = this.length;
    if (n === 0 || i + n > end) return -1;
    const words = this.words;
    const w = n >> 2;
    for (let k = 0; k < w; k++) if (dv.getInt32(i + 4 * k, true) !== words[k]) return -1;
    const bytes = this.bytes;
    for (let k = 4 * w; k < n; k++) if (buf[i + k] !== bytes[k]) return -1;
    return i + n;
  }

  /** Replaces the learned bytes with bytes `s..e`, which the caller has just validated; longer spans are not kept. */
  learn(buf: Buffer, dv: DataView, s: number, e: number): void {
    const n = e - s;
    if (n > this.capacity) {
      this.length = 0;
      return;
    }
    const w = n >> 2;
    for (let k = 0; k < w; k++) this.words[k] = dv.getInt32(s + 4 * k, true);
    for (let k = 4 * w; k < n; k++) this.bytes[k] = buf[s + k]!;
    this.length = n;
  }
}
