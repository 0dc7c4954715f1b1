/**
 * The fast decoder: reads the few fields kovenant needs straight from the line's bytes and
 * skips the rest (most of `process`, all of `parent`), validating as it skips, so that a
 * ~2 KB event costs one pass over its bytes and no objects or strings beyond the results.
 *
 * `ReferenceDecoder` defines what a line means. This decoder must give the same status and
 * the same `KernelEvent` fields for every input; whenever it meets anything it does not
 * fully handle — invalid JSON, a duplicated key it reads, nesting deeper than the scanner
 * tracks, array-index keys that would reorder `Object.keys` — it hands the line to the
 * reference decoder instead and counts a fallback. Rare value forms (escaped strings,
 * numbers with fractions or exponents) are decoded with `JSON.parse` on just that value
 * and passed to the reference's own helpers, so their semantics are shared, not copied.
 */
import { DecodeStatus, KPROBE_OPS, MAX_BYTE_COUNT, isTcpOp, type KernelEvent, type KernelOp, type LineDecoder } from './kernel-event.ts';
import { ReferenceDecoder, parsePort, parseReturn, parseSize } from './reference-decoder.ts';
import { inStorableRange, parseRfc3339, parseRfc3339Codes } from './rfc3339.ts';
import { ENVELOPE_KEYS } from './tetragon-json.ts';
import { AsciiCache } from './fast-intern.ts';
import { SpanCache } from './fast-span-cache.ts';
import * as jsonScan from './json-scan.ts';
import * as skeleton from './fast-skeleton.ts';

// Module-local aliases: tsx (esbuild) may compile imports into getter-backed namespace
// objects, and a getter call per scanned token costs more than the scan itself.
const scanNumber = jsonScan.scanNumber;
const scanState = jsonScan.scanState;
const scanString = jsonScan.scanString;
const skipValue = jsonScan.skipValue;
const skipWs = jsonScan.skipWs;
const plainEnd = jsonScan.plainEnd;
const matchLit = skeleton.matchLit;
const Learned = skeleton.Learned;
const { L_HEAD, L_SOCK, L_SIZE } = skeleton;
// The literals that begin with a comma, in the separator style of the line being decoded
// (compact, or a space after each comma: see skeleton.Separated). Module bindings rebound
// only when the style changes, which happens once per Tetragon build, so that the
// speculative path keeps reading plain bindings instead of a property per literal.
let style: skeleton.Separated = skeleton.COMPACT;
let {
  PARENT: L_PARENT, FUNCTION: L_FUNCTION, ARGS: L_ARGS, TYPE: L_TYPE, PROTOCOL: L_PROTOCOL, SADDR: L_SADDR, DADDR: L_DADDR,
  SPORT: L_SPORT, DPORT: L_DPORT, COOKIE: L_COOKIE, STATE: L_STATE, RETURN: L_RETURN, ACTION: L_ACTION, POLICY: L_POLICY,
  NODE: L_NODE, TIME: L_TIME,
} = style;
/** Bytes after each comma in that style: 0 or 1 (a space). */
let GAP: number = style.gap;

function useStyle(next: skeleton.Separated): void {
  if (next === style) return;
  style = next;
  ({
    PARENT: L_PARENT, FUNCTION: L_FUNCTION, ARGS: L_ARGS, TYPE: L_TYPE, PROTOCOL: L_PROTOCOL, SADDR: L_SADDR, DADDR: L_DADDR,
    SPORT: L_SPORT, DPORT: L_DPORT, COOKIE: L_COOKIE, STATE: L_STATE, RETURN: L_RETURN, ACTION: L_ACTION, POLICY: L_POLICY,
    NODE: L_NODE, TIME: L_TIME,
  } = next);
  GAP = next.gap;
}

// Same for the per-event statuses and helpers of kernel-event.ts (a getter call showed as
// 2% of a decode in the profile).
const USED: number = DecodeStatus.Used;
const SKIPPED: number = DecodeStatus.Skipped;
const REJECTED: number = DecodeStatus.Rejected;
const isTcp = isTcpOp;
const parseTimeCodes = parseRfc3339Codes;

const EMPTY = Buffer.alloc(0);

/** Returned by the scanning methods when the line must go to the reference decoder. */
const FALLBACK = -1;
/** Returned by the speculative path when the line left the skeleton: the general path decides. */
const ABANDON = -2;

const QUOTE = 0x22;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const SPACE = 0x20;

/**
 * The keys one object level reads, as bytes (compared in place for plain keys) and as
 * strings (for keys written with escapes, which are decoded first). Index + 1 is the id.
 */
class KeySet {
  readonly bytes: readonly Uint8Array[];
  /** Byte length of each name. */
  readonly lengths: Int32Array;
  /** The first four bytes of each name of four or more bytes, as a little-endian int32. */
  private readonly heads: Int32Array;
  private readonly ids: ReadonlyMap<string, number>;

  constructor(names: readonly string[]) {
    this.bytes = names.map((n) => new Uint8Array(Buffer.from(n, 'latin1')));
    this.lengths = Int32Array.from(this.bytes, (b) => b.length);
    this.heads = Int32Array.from(this.bytes, (b) => (b.length >= 4 ? Buffer.from(b).readInt32LE(0) : 0));
    this.ids = new Map(names.map((n, k) => [n, k + 1]));
    for (const b of this.bytes) {
      // `plainId` treats a name's bytes as the whole body of a plain string.
      if (b.some((c) => c === QUOTE || c === 0x5c || c < 0x20 || c > 0x7e)) throw new Error('KeySet names must be plain ASCII');
    }
  }

  /**
   * 1-based id of the name the key starting at `ks` (just after its opening quote) spells,
   * unescaped and followed by the closing quote; 0 when it spells none. A name's bytes
   * hold no quote, backslash or control character, so such a key is a valid string ending
   * at `ks + length + 1`: no scan needed. Four bytes compared at once through `dv`.
   */
  plainId(buf: Buffer, dv: DataView, ks: number, end: number): number {
    const lengths = this.lengths;
    for (let k = 0; k < lengths.length; k++) {
      const n = lengths[k]!;
      const q = ks + n;
      if (q >= end || buf[q] !== QUOTE) continue;
      let j = 0;
      if (n >= 4) {
        if (dv.getInt32(ks, true) !== this.heads[k]) continue;
        j = 4;
      }
      const name = this.bytes[k]!;
      while (j < n && name[j] === buf[ks + j]) j++;
      if (j === n) return k + 1;
    }
    return 0;
  }

  /** 1-based id of the escaped key `ks..ke`, decoded, or 0 when the object level does not read it. */
  escapedId(buf: Buffer, ks: number, ke: number): number {
    return this.ids.get(decodeString(buf, ks, ke)) ?? 0;
  }
}

// Top level. Ids 4–6 are the envelope keys the reference's `eventTypeOf` passes over.
const TOP = new KeySet(['process_kprobe', 'node_name', 'time', 'cluster_name', 'node_labels', 'aggregation_info']);
const TOP_KPROBE = 1;
const TOP_NODE = 2;
const TOP_TIME = 3;
/** Read, but not tracked for duplicates: overwriting keeps the last, as JSON.parse does. */
const TOP_CLUSTER = 4;
const FIRST_OTHER_ENVELOPE = 4;
// The envelope keys above must be exactly the reference's, or type detection drifts.
if (ENVELOPE_KEYS.size !== 5 || !['node_name', 'time', 'cluster_name', 'node_labels', 'aggregation_info'].every((k) => ENVELOPE_KEYS.has(k))) {
  throw new Error('fast-decoder: ENVELOPE_KEYS changed; update the TOP key set');
}

const KPROBE = new KeySet(['process', 'function_name', 'args', 'return', 'parent']);
const KP_PROCESS = 1;
const KP_FUNCTION = 2;
const KP_ARGS = 3;
const KP_RETURN = 4;
/** Read only to be skipped (through the span cache); duplicates are harmless, so not tracked. */
const KP_PARENT = 5;

const PROCESS = new KeySet(['pod']);

const POD = new KeySet(['namespace', 'name', 'workload', 'workload_kind', 'pod_labels']);
const POD_NAMESPACE = 1;
const POD_NAME = 2;
const POD_WORKLOAD = 3;
const POD_WORKLOAD_KIND = 4;
const POD_LABELS = 5;

const ARG = new KeySet(['sock_arg', 'size_arg', 'int_arg', 'uint_arg', 'long_arg']);
const ARG_SOCK = 1;
const ARG_SIZE = 2;
/** int_arg, uint_arg, long_arg: ids 3..5, in the reference's order (INTEGER_ARG_KEYS). */
const ARG_FIRST_INTEGER = 3;
const INTEGER_ARG_NAMES = ['int_arg', 'uint_arg', 'long_arg'];

const SOCK = new KeySet(['saddr', 'daddr', 'sport', 'dport', 'cookie']);
const SOCK_SADDR = 1;
const SOCK_DADDR = 2;
const SOCK_SPORT = 3;
const SOCK_DPORT = 4;
const SOCK_COOKIE = 5;

const RETURN = new KeySet(['int_arg']);

/** The kprobe functions by name bytes, for an in-place match without a string. */
const FUNCTIONS: readonly { bytes: Uint8Array; op: KernelOp }[] = [...KPROBE_OPS].map(([name, op]) => ({
  bytes: new Uint8Array(Buffer.from(name, 'latin1')),
  op,
}));

/** Decodes the string body at bytes `s..e` (between the quotes) exactly as `JSON.parse` would. */
function decodeString(buf: Buffer, s: number, e: number): string {
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
function plainStringEnd(buf: Buffer, dv: DataView, i: number, end: number): number {
  i = plainEnd(buf, dv, i, end);
  return i < end && buf[i] === QUOTE ? i + 1 : -1;
}

/**
 * Index after the JSON integer `-?(0|[1-9][0-9]*)` at `i`, or -1. The caller then matches
 * the byte that must follow, so a fraction or exponent makes the skeleton miss.
 */
function intEnd(buf: Buffer, i: number, end: number): number {
  if (i < end && buf[i] === MINUS) i++;
  if (i >= end) return -1;
  const first = buf[i]!;
  if (first === 0x30) return i + 1;
  if (first < 0x31 || first > 0x39) return -1;
  i++;
  while (i < end) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) break;
    i++;
  }
  return i;
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

function stringRecord(v: unknown): Record<string, string> | undefined {
  // Same construction as the reference's stringRecord, so key order, `__proto__` and
  // duplicate keys behave identically.
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** What a `process` object gives the event: the `KernelEvent` pod fields, as read from its `pod`. */
interface ProcessFacts {
  readonly podFound: boolean;
  readonly podNamespace: string | undefined;
  readonly podName: string | undefined;
  readonly podWorkload: string | undefined;
  readonly podWorkloadKind: string | undefined;
  readonly podLabels: Readonly<Record<string, string>> | undefined;
}

/** What a `process` + `,"parent":` + `parent` span gives: the process's facts, and where the parent starts. */
interface PairFacts extends ProcessFacts {
  readonly processLength: number;
}

/** Parent spans carry no results; one shared marker value. */
const VALID = true;

/** A value's kind after `readValue`. */
const V_STRING = 1;
const V_NUMBER = 2;
const V_OTHER = 3;

export class FastDecoder implements LineDecoder {
  private readonly reference = new ReferenceDecoder();
  private calls = 0;
  private fallbackCount = 0;
  private speculatedCount = 0;
  private abandonedCount = 0;

  /** Decoded strings (pod namespace, name, node, workload...) keyed by their raw bytes. */
  private readonly strings = new AsciiCache<string>(16384, 256);
  /** Frozen `pod_labels` records keyed by the raw bytes of the labels object. */
  private readonly labels = new AsciiCache<Readonly<Record<string, string>>>(4096, 4096);
  /** Skip types (`process_exec`, `process_kprobe:fn`) keyed by their raw bytes. */
  private readonly types = new AsciiCache<string>(256, 256);
  /** `process` objects validated before, with what they gave; see fast-span-cache.ts. */
  private readonly processSpans: SpanCache<ProcessFacts>;
  /** `parent` objects validated before. */
  private readonly parentSpans: SpanCache<boolean>;
  /**
   * `process` objects followed by `,"parent":` and their `parent`, validated before: one
   * hash and one memcmp per canonical line instead of two (a process's parent rarely
   * changes). Only the speculative path uses it; the two above still serve the rest.
   */
  private readonly pairSpans: SpanCache<PairFacts>;

  constructor(options: { spanSets?: number; spanMaxBytes?: number } = {}) {
    // 2 × 1024 ways of 2 KB slots (4 MB per cache once full): room for the few thousand
    // live processes of a node, within the agent's memory budget.
    const sets = options.spanSets ?? 1024;
    const maxBytes = options.spanMaxBytes ?? 8192;
    this.processSpans = new SpanCache<ProcessFacts>(sets, maxBytes);
    this.parentSpans = new SpanCache<boolean>(sets, maxBytes);
    this.pairSpans = new SpanCache<PairFacts>(sets, 2 * maxBytes);
  }

  // What one line says, filled while scanning and turned into a status at the end in the
  // reference's order of checks. Instance fields instead of a result object: no allocation.
  private kprobeSeen = false;
  private kprobeIsObject = false;
  private typeStart = -1;
  private typeEnd = -1;
  private typeEscaped = false;
  private digitKey = false;
  private timeMs = NaN;
  private node: string | undefined = undefined;
  private cluster: string | undefined = undefined;
  private op: KernelOp | undefined = undefined;
  private fnStart = -1;
  private fnEnd = -1;
  private fnEscaped = false;
  private podFound = false;
  private podNamespace: string | undefined = undefined;
  private podName: string | undefined = undefined;
  private podWorkload: string | undefined = undefined;
  private podWorkloadKind: string | undefined = undefined;
  private podLabels: Readonly<Record<string, string>> | undefined = undefined;
  private sockFound = false;
  private saddr: string | undefined = undefined;
  private daddr: string | undefined = undefined;
  /** -1 when the port is not valid (the reference's `undefined`). */
  private sport = -1;
  private dport = -1;
  private cookie: string | undefined = undefined;
  private retFound = false;
  /** NaN when the value is not valid (the reference's `undefined`). */
  private retValue = NaN;
  private sizeIndex = -1;
  private sizeValue = NaN;
  /** The first element after args[0] with an integer-typed argument (a size without size_arg). */
  private intArgIndex = -1;
  private intArgKey = 0;
  private intArgValue = NaN;

  // The last value read by `readValue`.
  private vKind = 0;
  private vStart = 0;
  private vEnd = 0;
  private vEscaped = false;

  // The time string being parsed, read through one long-lived closure so that sharing
  // `parseRfc3339Codes` with the reference allocates nothing per event.
  private timeBuf: Buffer = EMPTY;
  private timeStart = 0;
  private timeEnd = 0;
  /** The last simple time's first 19 bytes (`YYYY-MM-DDTHH:MM:SS`) and their epoch ms; NaN before any. */
  private readonly secondsBytes = new Uint8Array(19);
  private secondsMs = NaN;
  private readonly timeAt = (k: number): number => {
    const p = this.timeStart + k;
    return p < this.timeEnd ? this.timeBuf[p]! : -1;
  };

  /** A 32-bit view of the buffer being decoded, for the scanner's 4-bytes-at-a-time string runs. */
  private dv: DataView = new DataView(new ArrayBuffer(0));
  private dvBuf: Buffer = EMPTY;

  /** Lines handed to the reference decoder since construction. */
  get fallbacks(): number {
    return this.fallbackCount;
  }

  /** Lines decoded since construction, by either path. */
  get decoded(): number {
    return this.calls;
  }

  /** `process` and `parent` objects skipped by comparing them with one validated before. */
  get spanHits(): number {
    // A pair hit stands for a process hit and a parent hit; a pair miss is followed by
    // lookups in the single caches, which count themselves.
    return this.processSpans.hits + this.parentSpans.hits + 2 * this.pairSpans.hits;
  }

  /** `process` and `parent` objects that had to be scanned. */
  get spanMisses(): number {
    return this.processSpans.misses + this.parentSpans.misses;
  }

  /** Lines decoded entirely by the speculative (canonical layout) path. */
  get speculated(): number {
    return this.speculatedCount;
  }

  /** Lines whose speculation was abandoned for the general path. */
  get abandoned(): number {
    return this.abandonedCount;
  }

  /** Share of lines that took the reference path (0 before any line). */
  get fallbackRate(): number {
    return this.calls === 0 ? 0 : this.fallbackCount / this.calls;
  }

  decode(buf: Buffer, start: number, end: number, out: KernelEvent): DecodeStatus {
    this.calls++;
    if (buf !== this.dvBuf) {
      // One view per input chunk, not per line: lines of a chunk share its buffer.
      this.dvBuf = buf;
      this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    let status: number;
    try {
      status = this.fast(buf, start, end, out);
    } catch {
      // A safety net only: every input the scanner accepts is valid JSON, so nothing in
      // the fast path should throw; if something does, the reference decides.
      status = FALLBACK;
    }
    if (status !== FALLBACK) return status as DecodeStatus;
    this.fallbackCount++;
    return this.reference.decode(buf, start, end, out);
  }

  private fast(buf: Buffer, start: number, end: number, out: KernelEvent): number {
    this.memoProcessAt = -1;
    this.memoParentAt = -1;
    this.resetFacts();
    if (start < end && buf[start] === LBRACE) {
      const status = this.speculate(buf, start, end, out);
      if (status !== ABANDON) {
        if (status !== FALLBACK) this.speculatedCount++;
        return status;
      }
      this.abandonedCount++;
      this.resetFacts();
    }
    let i = skipWs(buf, start, end);
    // Arrays, strings and numbers are valid JSON the reference rejects; leave them to it.
    if (i >= end || buf[i] !== LBRACE) return FALLBACK;
    i = this.topObject(buf, i, end);
    if (i < 0) return FALLBACK;
    if (skipWs(buf, i, end) !== end) return FALLBACK;
    return this.finish(buf, out);
  }

  private resetFacts(): void {
    this.kprobeSeen = false;
    this.kprobeIsObject = false;
    this.typeStart = -1;
    this.digitKey = false;
    this.timeMs = NaN;
    this.node = undefined;
    this.cluster = undefined;
    this.op = undefined;
    this.fnStart = -1;
    this.podFound = false;
    this.podNamespace = undefined;
    this.podName = undefined;
    this.podWorkload = undefined;
    this.podWorkloadKind = undefined;
    this.podLabels = undefined;
    this.sockFound = false;
    this.saddr = undefined;
    this.daddr = undefined;
    this.sport = -1;
    this.dport = -1;
    this.cookie = undefined;
    this.retFound = false;
    this.retValue = NaN;
    this.sizeIndex = -1;
    this.sizeValue = NaN;
    this.intArgIndex = -1;
    this.intArgKey = 0;
    this.intArgValue = NaN;
  }

  // What an abandoned speculation learnt of this line's `process` and `parent` (start index,
  // end index, results), so that the general path does not look them up a second time:
  // that would cost a memcmp and count twice in the span caches' hit statistics.
  /** From `family`'s value to `"saddr":"`: the socket's unread fields. */
  private readonly sockHead = new Learned(128);
  /** From after `cookie` (else `dport`) to the element's `}}` (`state`). */
  private readonly sockTail = new Learned(128);
  /** From after `args` (or `return`) to `"node_name":"` (`action`, `policy_name`, ...). */
  private readonly kprobeTail = new Learned(256);

  private memoProcessAt = -1;
  private memoProcessEnd = 0;
  private memoPodFound = false;
  private memoPodNamespace: string | undefined = undefined;
  private memoPodName: string | undefined = undefined;
  private memoPodWorkload: string | undefined = undefined;
  private memoPodWorkloadKind: string | undefined = undefined;
  private memoPodLabels: Readonly<Record<string, string>> | undefined = undefined;
  private memoParentAt = -1;
  private memoParentEnd = 0;

  /**
   * Decodes a line laid out exactly as Tetragon prints a kprobe event (see fast-skeleton.ts),
   * matching literals where the general path would scan and look up keys; returns the
   * status, or ABANDON as soon as a byte leaves the skeleton, after which the general path
   * starts over from the line's first byte with fresh facts.
   *
   * Exact because each literal fixes the keys and separators it covers, every key is
   * accepted at most once (no duplicates to resolve), any other member must be a key that
   * no object level reads (and its value is validated by `skipValue`), and the values read
   * go through the same helpers as in the general path. Strings must be plain and numbers
   * plain integers; anything else abandons rather than being handled twice.
   */
  private speculate(buf: Buffer, start: number, end: number, out: KernelEvent): number {
    const dv = this.dv;
    let i = matchLit(buf, dv, start, end, L_HEAD);
    if (i < 0 || i >= end || buf[i] !== LBRACE) return ABANDON;
    // The style of the first comma is the line's (and the build's): a guess only, as the
    // literals still prove every separator, but a right one keeps the line on this path.
    const comma = buf.indexOf(COMMA, i);
    useStyle(comma >= 0 && comma + 1 < end && buf[comma + 1] === SPACE ? skeleton.SPACED : skeleton.COMPACT);
    this.kprobeSeen = true;
    this.kprobeIsObject = true;
    const pair = this.pairSpans;
    const ps = i;
    let s = i;
    const n = pair.lookup(buf, dv, i, end);
    if (n > 0) {
      // Sound as for the single caches: the span's bytes were validated as a process value,
      // the literal and a parent value, and only the process's facts depend on them.
      const f = pair.value!;
      this.podFound = f.podFound;
      this.podNamespace = f.podNamespace;
      this.podName = f.podName;
      this.podWorkload = f.podWorkload;
      this.podWorkloadKind = f.podWorkloadKind;
      this.podLabels = f.podLabels;
      this.memoProcess(ps, ps + f.processLength);
      this.memoParentAt = this.memoProcessEnd + L_PARENT.length;
      i = ps + n;
    } else {
      i = this.cachedProcess(buf, i, end);
      if (i < 0) return ABANDON;
      this.memoProcess(ps, i);
      const p = matchLit(buf, dv, i, end, L_PARENT);
      // No `parent`: exported with Tetragon's field filters (install/values/tetragon.yaml);
      // `function_name` follows the process.
      if (p >= 0) {
        if (p >= end || buf[p] !== LBRACE) return ABANDON;
        i = this.cachedParent(buf, p, end);
        if (i < 0) return ABANDON;
        this.memoParentAt = p;
        if (pair.wantsStore()) {
          pair.store(buf, ps, i, { ...this.processFacts(), processLength: this.memoProcessEnd - ps });
        }
      }
    }
    this.memoParentEnd = i;

    i = matchLit(buf, dv, i, end, L_FUNCTION);
    if (i < 0) return ABANDON;
    i = this.plainValue(buf, dv, i, end);
    if (i < 0) return ABANDON;
    this.functionName(buf);

    i = matchLit(buf, dv, i, end, L_ARGS);
    if (i < 0) return ABANDON;
    i = this.speculateArgs(buf, i, end);
    if (i < 0) return ABANDON;

    let r = matchLit(buf, dv, i, end, L_RETURN);
    if (r >= 0) {
      s = r;
      r = intEnd(buf, r, end);
      if (r < 0 || r >= end || buf[r] !== RBRACE) return ABANDON;
      this.vKind = V_NUMBER;
      this.vStart = s;
      this.vEnd = r;
      this.retFound = true;
      this.retValue = this.returnOf(buf);
      i = r + 1;
    }
    r = this.kprobeTail.match(buf, dv, i, end);
    if (r >= 0) {
      i = r;
    } else {
      const t = i;
      r = matchLit(buf, dv, i, end, L_ACTION);
      if (r >= 0) {
        i = plainStringEnd(buf, dv, r, end);
        if (i < 0) return ABANDON;
      }
      r = matchLit(buf, dv, i, end, L_POLICY);
      if (r >= 0) {
        i = plainStringEnd(buf, dv, r, end);
        if (i < 0) return ABANDON;
      }
      // Later kprobe fields (return_action, message, tags...): any key the kprobe level does
      // not read, so order and duplicates cannot matter.
      while (i < end && buf[i] === COMMA) {
        if (i + 1 + GAP >= end || buf[i + 1 + GAP] !== QUOTE || (GAP !== 0 && buf[i + 1] !== SPACE)) return ABANDON;
        i = this.member(buf, i + 1 + GAP, end, KPROBE);
        if (i < 0 || this.keyId !== 0) return ABANDON;
        i = skipValue(buf, dv, i, end);
        if (i < 0) return ABANDON;
      }
      i = matchLit(buf, dv, i, end, L_NODE);
      if (i < 0) return ABANDON;
      this.kprobeTail.learn(buf, dv, t, i);
    }
    i = this.plainValue(buf, dv, i, end);
    if (i < 0) return ABANDON;
    this.node = this.nonEmpty(buf);
    i = matchLit(buf, dv, i, end, L_TIME);
    if (i < 0) return ABANDON;
    i = this.plainValue(buf, dv, i, end);
    if (i < 0) return ABANDON;
    this.timeMs = this.timeOf(buf);
    // Later envelope fields (cluster_name, node_labels...): only keys whose duplicates or
    // order cannot change the result, i.e. not process_kprobe, node_name or time.
    while (i < end && buf[i] === COMMA) {
      if (i + 1 + GAP >= end || buf[i + 1 + GAP] !== QUOTE || (GAP !== 0 && buf[i + 1] !== SPACE)) return ABANDON;
      i = this.member(buf, i + 1 + GAP, end, TOP);
      if (i < 0) return ABANDON;
      const id = this.keyId;
      if (id !== 0 && id < FIRST_OTHER_ENVELOPE) return ABANDON;
      if (id === TOP_CLUSTER) {
        i = this.readValue(buf, i, end);
        if (i < 0) return ABANDON;
        this.cluster = this.nonEmpty(buf);
        continue;
      }
      i = skipValue(buf, dv, i, end);
      if (i < 0) return ABANDON;
    }
    if (i >= end || buf[i] !== RBRACE) return ABANDON;
    if (skipWs(buf, i + 1, end) !== end) return ABANDON;
    return this.finish(buf, out);
  }

  /** Remembers the process value at `s..e` and its facts, for a general pass over the same line. */
  private memoProcess(s: number, e: number): void {
    this.memoProcessAt = s;
    this.memoProcessEnd = e;
    this.memoPodFound = this.podFound;
    this.memoPodNamespace = this.podNamespace;
    this.memoPodName = this.podName;
    this.memoPodWorkload = this.podWorkload;
    this.memoPodWorkloadKind = this.podWorkloadKind;
    this.memoPodLabels = this.podLabels;
  }

  /**
   * The args array after its `[`: the canonical `sock_arg` and `size_arg` elements by
   * literal, any other element by the general `argObject` (which fills the same facts with
   * the same rules); the index after `]`, or ABANDON.
   */
  private speculateArgs(buf: Buffer, i: number, end: number): number {
    const dv = this.dv;
    if (i < end && buf[i] === RBRACKET) return i + 1;
    for (let index = 0; ; index++) {
      let r = index === 0 ? matchLit(buf, dv, i, end, L_SOCK) : -1;
      if (r >= 0) {
        i = this.speculateSock(buf, r, end);
      } else if ((r = matchLit(buf, dv, i, end, L_SIZE)) >= 0) {
        i = plainStringEnd(buf, dv, r, end);
        if (i < 0 || i >= end || buf[i] !== RBRACE) return ABANDON;
        i++;
        if (this.sizeIndex < 0) {
          this.vKind = V_STRING;
          this.vStart = r;
          this.vEnd = i - 2;
          this.vEscaped = false;
          this.sizeIndex = index;
          this.sizeValue = this.sizeOf(buf);
        }
      } else if (i < end && buf[i] === LBRACE) {
        i = this.argObject(buf, i, end, index);
      } else {
        return ABANDON;
      }
      if (i < 0 || i >= end) return ABANDON;
      const c = buf[i];
      if (c === RBRACKET) return i + 1;
      if (c !== COMMA) return ABANDON;
      i++;
      if (GAP !== 0) {
        if (i >= end || buf[i] !== SPACE) return ABANDON;
        i++;
      }
    }
  }

  /** The `sock_arg` element after `{"sock_arg":{"family":"`; the index after the element's `}}`, or ABANDON. */
  private speculateSock(buf: Buffer, i: number, end: number): number {
    const dv = this.dv;
    let s = this.sockHead.match(buf, dv, i, end);
    if (s >= 0) {
      i = s;
    } else {
      s = i;
      i = plainStringEnd(buf, dv, i, end);
      if (i < 0) return ABANDON;
      i = matchLit(buf, dv, i, end, L_TYPE);
      if (i < 0) return ABANDON;
      i = plainStringEnd(buf, dv, i, end);
      if (i < 0) return ABANDON;
      i = matchLit(buf, dv, i, end, L_PROTOCOL);
      if (i < 0) return ABANDON;
      i = plainStringEnd(buf, dv, i, end);
      if (i < 0) return ABANDON;
      i = matchLit(buf, dv, i, end, L_SADDR);
      if (i < 0) return ABANDON;
      this.sockHead.learn(buf, dv, s, i);
    }
    i = this.plainValue(buf, dv, i, end);
    if (i < 0) return ABANDON;
    this.saddr = this.nonEmpty(buf);
    i = matchLit(buf, dv, i, end, L_DADDR);
    if (i < 0) return ABANDON;
    i = this.plainValue(buf, dv, i, end);
    if (i < 0) return ABANDON;
    this.daddr = this.nonEmpty(buf);
    i = matchLit(buf, dv, i, end, L_SPORT);
    if (i < 0) return ABANDON;
    s = i;
    i = intEnd(buf, i, end);
    if (i < 0) return ABANDON;
    this.vKind = V_NUMBER;
    this.vStart = s;
    this.vEnd = i;
    this.sport = this.portValue(buf);
    i = matchLit(buf, dv, i, end, L_DPORT);
    if (i < 0) return ABANDON;
    s = i;
    i = intEnd(buf, i, end);
    if (i < 0) return ABANDON;
    this.vStart = s;
    this.vEnd = i;
    this.dport = this.portValue(buf);
    this.sockFound = true;
    let r = matchLit(buf, dv, i, end, L_COOKIE);
    if (r >= 0) {
      i = this.plainValue(buf, dv, r, end);
      if (i < 0) return ABANDON;
      this.cookie = this.uncachedString(buf);
    }
    s = this.sockTail.match(buf, dv, i, end);
    if (s >= 0) return s;
    s = i;
    r = matchLit(buf, dv, i, end, L_STATE);
    if (r >= 0) {
      i = plainStringEnd(buf, dv, r, end);
      if (i < 0) return ABANDON;
    }
    if (i + 1 >= end || buf[i] !== RBRACE || buf[i + 1] !== RBRACE) return ABANDON;
    this.sockTail.learn(buf, dv, s, i + 2);
    return i + 2;
  }

  /** Turns the facts gathered into a status, in the reference decoder's order of checks. */
  private finish(buf: Buffer, out: KernelEvent): number {
    out.reset();
    if (!this.kprobeSeen) {
      if (this.typeStart < 0) {
        out.skippedType = 'unknown';
        return SKIPPED;
      }
      // Array-index keys come first in Object.keys, whatever their position in the line.
      if (this.digitKey) return FALLBACK;
      out.skippedType = this.cachedType(buf, this.typeStart, this.typeEnd, this.typeEscaped, false);
      return SKIPPED;
    }
    if (!this.kprobeIsObject) {
      out.rejectReason = 'invalid_json';
      out.rejectField = 'process_kprobe';
      return REJECTED;
    }
    const op = this.op;
    if (op === undefined) {
      out.skippedType = this.fnStart < 0 ? 'process_kprobe' : this.cachedType(buf, this.fnStart, this.fnEnd, this.fnEscaped, true);
      return SKIPPED;
    }
    out.op = op;
    if (Number.isNaN(this.timeMs)) {
      out.rejectReason = 'invalid_time';
      out.rejectField = 'time';
      return REJECTED;
    }
    out.timeMs = this.timeMs;
    out.node = this.node;
    out.cluster = this.cluster;
    if (this.podFound && this.podNamespace !== undefined && this.podName !== undefined) {
      out.podNamespace = this.podNamespace;
      out.podName = this.podName;
      out.podWorkload = this.podWorkload;
      out.podWorkloadKind = this.podWorkloadKind;
      out.podLabels = this.podLabels;
    }
    if (isTcp(op)) {
      if (!this.sockFound || this.saddr === undefined || this.daddr === undefined || this.sport < 0 || this.dport < 0) {
        out.rejectReason = 'missing_socket';
        out.rejectField = 'process_kprobe.args[0].sock_arg';
        return REJECTED;
      }
      out.localAddress = this.saddr;
      out.localPort = this.sport;
      out.remoteAddress = this.daddr;
      out.remotePort = this.dport;
      out.cookie = this.cookie;
      if (op === 'connect' || op === 'close') return USED;
    }
    // The first size argument must be valid even when the return value gives the bytes.
    if (this.sizeIndex >= 0 && Number.isNaN(this.sizeValue)) {
      out.rejectReason = 'invalid_size';
      out.rejectField = `process_kprobe.args[${this.sizeIndex}].size_arg`;
      return REJECTED;
    }
    if (this.retFound) {
      const r = this.retValue;
      if (Number.isNaN(r) || r > MAX_BYTE_COUNT) {
        out.rejectReason = 'invalid_size';
        out.rejectField = 'process_kprobe.return.int_arg';
        return REJECTED;
      }
      out.bytes = r >= 0 ? r : 0;
      return USED;
    }
    if (this.sizeIndex < 0) {
      if (this.intArgIndex < 0) {
        out.rejectReason = 'invalid_size';
        out.rejectField = 'process_kprobe.args[].size_arg';
        return REJECTED;
      }
      if (Number.isNaN(this.intArgValue)) {
        out.rejectReason = 'invalid_size';
        out.rejectField = `process_kprobe.args[${this.intArgIndex}].${INTEGER_ARG_NAMES[this.intArgKey - ARG_FIRST_INTEGER]}`;
        return REJECTED;
      }
      out.bytes = this.intArgValue;
      return USED;
    }
    out.bytes = this.sizeValue;
    return USED;
  }

  /** A skip type: the event key, or `process_kprobe:` + the function name. */
  private cachedType(buf: Buffer, s: number, e: number, escaped: boolean, kprobe: boolean): string {
    // Cached by the raw bytes plus one marker byte position: the two kinds of type share
    // a cache, told apart by including the quote (kprobe) or not (event key).
    const ks = kprobe ? s - 1 : s;
    let t = this.types.lookup(buf, this.dv, ks, e);
    if (t === undefined) {
      const name = escaped ? decodeString(buf, s, e) : buf.toString('utf8', s, e);
      t = kprobe ? (name === '' ? 'process_kprobe' : `process_kprobe:${name}`) : name;
      if (this.types.ascii) this.types.store(buf.toString('latin1', ks, e), t);
    }
    return t;
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

  /**
   * An escape-free string value starting at `i` (just past its opening quote), recorded
   * as the current value: returns the offset past its closing quote, or ABANDON.
   */
  private plainValue(buf: Buffer, dv: DataView, i: number, end: number): number {
    const e = plainStringEnd(buf, dv, i, end);
    if (e < 0) return ABANDON;
    this.vKind = V_STRING;
    this.vStart = i;
    this.vEnd = e - 1;
    this.vEscaped = false;
    return e;
  }

  /** `nonEmptyString` of the last value read. */
  private nonEmpty(buf: Buffer): string | undefined {
    if (this.vKind !== V_STRING || this.vEnd === this.vStart) return undefined;
    const s = this.str(buf, this.vStart, this.vEnd, this.vEscaped);
    // An escaped string can decode to '' only if empty, which was excluded; kept for clarity.
    return s === '' ? undefined : s;
  }

  /**
   * `nonEmptyString` of the last value read, bypassing the string cache: socket cookies
   * are unique per connection and would only evict the pod names it is there for.
   */
  private uncachedString(buf: Buffer): string | undefined {
    if (this.vKind !== V_STRING || this.vEnd === this.vStart) return undefined;
    return this.vEscaped ? decodeString(buf, this.vStart, this.vEnd) : buf.toString('utf8', this.vStart, this.vEnd);
  }

  /**
   * Reads (and validates) one value at `i`, recording its kind and span; returns the
   * index after it. Strings record their body, numbers their token.
   */
  private readValue(buf: Buffer, i: number, end: number): number {
    const c = buf[i]!;
    if (c === QUOTE) {
      const e = scanString(buf, this.dv, i + 1, end);
      if (e < 0) return FALLBACK;
      this.vKind = V_STRING;
      this.vStart = i + 1;
      this.vEnd = e - 1;
      this.vEscaped = scanState.escaped;
      return e;
    }
    if (c === MINUS || (c >= 0x30 && c <= 0x39)) {
      const e = scanNumber(buf, i, end);
      if (e < 0) return FALLBACK;
      this.vKind = V_NUMBER;
      this.vStart = i;
      this.vEnd = e;
      return e;
    }
    this.vKind = V_OTHER;
    return skipValue(buf, this.dv, i, end);
  }

  /** The last value parsed by `JSON.parse`, for the rare forms the fast paths leave out. */
  private slowValue(buf: Buffer): unknown {
    return this.vKind === V_STRING
      ? decodeString(buf, this.vStart, this.vEnd)
      : JSON.parse(buf.toString('latin1', this.vStart, this.vEnd));
  }

  /** `parsePort` of the last value; -1 for undefined. */
  private portValue(buf: Buffer): number {
    if (this.vKind === V_OTHER) return -1;
    if (this.vKind === V_STRING && !this.vEscaped) {
      const n = digitsValue(buf, this.vStart, this.vEnd, 5);
      return n <= 65535 ? n : -1;
    }
    if (this.vKind === V_NUMBER) {
      const n = digitsValue(buf, this.vStart, this.vEnd, 5);
      if (n >= 0) return n <= 65535 ? n : -1;
    }
    return parsePort(this.slowValue(buf)) ?? -1;
  }

  /** `parseSize` of the last value; NaN for undefined. */
  private sizeOf(buf: Buffer): number {
    if (this.vKind === V_OTHER) return NaN;
    if (this.vKind === V_STRING && !this.vEscaped) {
      const n = digitsValue(buf, this.vStart, this.vEnd, 16);
      return n >= 0 && n <= MAX_BYTE_COUNT ? n : NaN;
    }
    if (this.vKind === V_NUMBER) {
      const n = digitsValue(buf, this.vStart, this.vEnd, 15);
      if (n >= 0) return n <= MAX_BYTE_COUNT ? n : NaN;
    }
    return parseSize(this.slowValue(buf)) ?? NaN;
  }

  /** `parseReturn` of the last value; NaN for undefined. */
  private returnOf(buf: Buffer): number {
    if (this.vKind === V_OTHER) return NaN;
    const neg = buf[this.vStart] === MINUS;
    const s = neg ? this.vStart + 1 : this.vStart;
    if (this.vKind === V_STRING && !this.vEscaped) {
      const n = digitsValue(buf, s, this.vEnd, 16);
      if (n < 0 || !Number.isSafeInteger(n)) return NaN;
      return neg ? -n : n;
    }
    if (this.vKind === V_NUMBER) {
      const n = digitsValue(buf, s, this.vEnd, 15);
      if (n >= 0) return neg ? -n : n;
    }
    return parseReturn(this.slowValue(buf)) ?? NaN;
  }

  /**
   * After a member's value: skips to the next member's key (returning the index of its
   * opening quote), or past the closing brace (returning its index + 1, negated - 2 so
   * that the caller can tell the two apart), or FALLBACK.
   */
  private static next(buf: Buffer, i: number, end: number): number {
    if (i >= end) return FALLBACK;
    let c = buf[i]!;
    if (c <= 0x20) {
      i = skipWs(buf, i, end);
      if (i >= end) return FALLBACK;
      c = buf[i]!;
    }
    if (c === COMMA) {
      i++;
      if (i < end && buf[i] === QUOTE) return i;
      i = skipWs(buf, i, end);
      return i < end && buf[i] === QUOTE ? i : FALLBACK;
    }
    return c === RBRACE ? -(i + 1) - 2 : FALLBACK;
  }

  /**
   * Scans a member's key at the quote `i` and the colon after it; returns the index of
   * its value, with the key's id in `keys` in `keyId` and its body span in `ks`/`ke`.
   * Keys the level reads are matched in place first, so that they are not scanned twice.
   */
  private ks = 0;
  private ke = 0;
  private kEscaped = false;
  private keyId = 0;
  private member(buf: Buffer, i: number, end: number, keys: KeySet): number {
    const ks = i + 1;
    let id = keys.plainId(buf, this.dv, ks, end);
    let e: number;
    if (id > 0) {
      e = ks + keys.lengths[id - 1]! + 1;
      this.kEscaped = false;
    } else {
      e = scanString(buf, this.dv, ks, end);
      if (e < 0) return FALLBACK;
      const escaped = scanState.escaped;
      this.kEscaped = escaped;
      // An unescaped key spelling a name would have matched in place.
      if (escaped) id = keys.escapedId(buf, ks, e - 1);
    }
    this.ks = ks;
    this.ke = e - 1;
    this.keyId = id;
    if (e < end && buf[e] === COLON) {
      i = e + 1;
    } else {
      i = skipWs(buf, e, end);
      if (i >= end || buf[i] !== COLON) return FALLBACK;
      i++;
    }
    // Bytes above 0x20 are never whitespace: the common case skips the call.
    if (i < end && buf[i]! > 0x20) return i;
    i = skipWs(buf, i, end);
    return i < end ? i : FALLBACK;
  }

  /** Index of the first member's key after the opening brace at `i`, or the empty-object/failure encoding of `next`. */
  private static first(buf: Buffer, i: number, end: number): number {
    i = skipWs(buf, i + 1, end);
    if (i >= end) return FALLBACK;
    if (buf[i] === QUOTE) return i;
    return buf[i] === RBRACE ? -(i + 1) - 2 : FALLBACK;
  }

  private topObject(buf: Buffer, i: number, end: number): number {
    let seen = 0;
    for (i = FastDecoder.first(buf, i, end); i >= 0; i = FastDecoder.next(buf, i, end)) {
      i = this.member(buf, i, end, TOP);
      if (i < 0) return FALLBACK;
      const ks = this.ks;
      const ke = this.ke;
      const kEscaped = this.kEscaped;
      const id = this.keyId;
      if (id > 0 && id < FIRST_OTHER_ENVELOPE) {
        // Duplicates: JSON.parse keeps the last; rather than undo what the first set, let
        // the reference decide.
        if ((seen & (1 << id)) !== 0) return FALLBACK;
        seen |= 1 << id;
      }
      if (id === 0 || id === TOP_KPROBE) {
        if (this.typeStart < 0) {
          this.typeStart = ks;
          this.typeEnd = ke;
          this.typeEscaped = kEscaped;
        }
        const first = kEscaped ? decodeString(buf, ks, ke).charCodeAt(0) : ke > ks ? buf[ks]! : -1;
        if (first >= 0x30 && first <= 0x39) this.digitKey = true;
      }
      if (id === TOP_KPROBE) {
        this.kprobeSeen = true;
        if (buf[i] === LBRACE) {
          this.kprobeIsObject = true;
          i = this.kprobeObject(buf, i, end);
        } else {
          i = skipValue(buf, this.dv, i, end);
        }
      } else if (id === TOP_NODE) {
        i = this.readValue(buf, i, end);
        if (i < 0) return FALLBACK;
        this.node = this.nonEmpty(buf);
      } else if (id === TOP_TIME) {
        i = this.readValue(buf, i, end);
        if (i < 0) return FALLBACK;
        this.timeMs = this.timeOf(buf);
      } else if (id === TOP_CLUSTER) {
        i = this.readValue(buf, i, end);
        if (i < 0) return FALLBACK;
        this.cluster = this.nonEmpty(buf);
      } else {
        i = skipValue(buf, this.dv, i, end);
      }
      if (i < 0) return FALLBACK;
    }
    return i === FALLBACK ? FALLBACK : -(i + 2);
  }

  private timeOf(buf: Buffer): number {
    if (this.vKind !== V_STRING) return NaN;
    if (this.vEscaped) return parseRfc3339(decodeString(buf, this.vStart, this.vEnd));
    const s = this.vStart;
    const e = this.vEnd;
    // Consecutive events share the time's date-and-seconds part; when it repeats, only the
    // fraction and zone are new. Valid because everything parseRfc3339Codes checks and
    // computes up to byte 19 depends on those 19 bytes alone, and the rest of a simple
    // suffix (`[.digits](Z|z)`) only adds its milliseconds.
    if (!Number.isNaN(this.secondsMs) && e - s >= 20) {
      const prefix = this.secondsBytes;
      let k = 0;
      while (k < 19 && prefix[k] === buf[s + k]) k++;
      if (k === 19) {
        const ms = suffixMillis(buf, s + 19, e);
        // The range check as in parseRfc3339Codes: the seconds may be the last storable ones.
        if (ms >= 0) return inStorableRange(this.secondsMs + ms);
      }
    }
    // Non-ASCII bytes fail every position check in parseRfc3339Codes just as their
    // decoded characters do in the reference, so reading bytes as codes is equivalent.
    this.timeBuf = buf;
    this.timeStart = s;
    this.timeEnd = e;
    const t = parseTimeCodes(this.timeAt, e - s);
    this.timeBuf = EMPTY;
    if (!Number.isNaN(t) && e - s >= 20) {
      const ms = suffixMillis(buf, s + 19, e);
      if (ms >= 0) {
        for (let k = 0; k < 19; k++) this.secondsBytes[k] = buf[s + k]!;
        this.secondsMs = t - ms;
      }
    }
    return t;
  }


  private kprobeObject(buf: Buffer, i: number, end: number): number {
    let seen = 0;
    for (i = FastDecoder.first(buf, i, end); i >= 0; i = FastDecoder.next(buf, i, end)) {
      i = this.member(buf, i, end, KPROBE);
      if (i < 0) return FALLBACK;
      const id = this.keyId;
      if (id > 0 && id !== KP_PARENT) {
        if ((seen & (1 << id)) !== 0) return FALLBACK;
        seen |= 1 << id;
      }
      const c = buf[i];
      if (id === KP_PROCESS && c === LBRACE) {
        i = this.cachedProcess(buf, i, end);
      } else if (id === KP_PARENT && c === LBRACE) {
        i = this.cachedParent(buf, i, end);
      } else if (id === KP_FUNCTION) {
        i = this.readValue(buf, i, end);
        if (i < 0) return FALLBACK;
        this.functionName(buf);
      } else if (id === KP_ARGS && c === LBRACKET) {
        i = this.argsArray(buf, i, end);
      } else if (id === KP_RETURN && c === LBRACE) {
        i = this.returnObject(buf, i, end);
      } else {
        i = skipValue(buf, this.dv, i, end);
      }
      if (i < 0) return FALLBACK;
    }
    return i === FALLBACK ? FALLBACK : -(i + 2);
  }

  private functionName(buf: Buffer): void {
    if (this.vKind !== V_STRING) return;
    const s = this.vStart;
    const e = this.vEnd;
    if (this.vEscaped) {
      const name = decodeString(buf, s, e);
      this.op = KPROBE_OPS.get(name);
    } else {
      const n = e - s;
      outer: for (let k = 0; k < FUNCTIONS.length; k++) {
        const f = FUNCTIONS[k]!;
        const b = f.bytes;
        if (b.length !== n) continue;
        for (let j = 0; j < n; j++) if (b[j] !== buf[s + j]) continue outer;
        this.op = f.op;
        break;
      }
    }
    if (this.op === undefined) {
      this.fnStart = s;
      this.fnEnd = e;
      this.fnEscaped = this.vEscaped;
    }
  }

  /** `processObject`, or its results replayed when the same bytes were read before. */
  private cachedProcess(buf: Buffer, i: number, end: number): number {
    if (i === this.memoProcessAt) {
      // Read by an abandoned speculation of this same line: same bytes, same results.
      this.podFound = this.memoPodFound;
      this.podNamespace = this.memoPodNamespace;
      this.podName = this.memoPodName;
      this.podWorkload = this.memoPodWorkload;
      this.podWorkloadKind = this.memoPodWorkloadKind;
      this.podLabels = this.memoPodLabels;
      return this.memoProcessEnd;
    }
    const cache = this.processSpans;
    const n = cache.lookup(buf, this.dv, i, end);
    if (n > 0) {
      // Sound because `process` is read once per line (a duplicate falls back) into
      // fields reset per line, so its results depend on its bytes alone.
      const f = cache.value!;
      this.podFound = f.podFound;
      this.podNamespace = f.podNamespace;
      this.podName = f.podName;
      this.podWorkload = f.podWorkload;
      this.podWorkloadKind = f.podWorkloadKind;
      this.podLabels = f.podLabels;
      return i + n;
    }
    const s = i;
    i = this.processObject(buf, i, end);
    if (i < 0) return FALLBACK;
    if (!cache.wantsStore()) return i;
    cache.store(buf, s, i, this.processFacts());
    return i;
  }

  /** The pod facts of the process just read, as the span caches keep them (cache fills only). */
  private processFacts(): ProcessFacts {
    return {
      podFound: this.podFound,
      podNamespace: this.podNamespace,
      podName: this.podName,
      podWorkload: this.podWorkload,
      podWorkloadKind: this.podWorkloadKind,
      podLabels: this.podLabels,
    };
  }

  /** Skips (validating) the `parent` object at `i`, by memcmp when its bytes were seen before. */
  private cachedParent(buf: Buffer, i: number, end: number): number {
    if (i === this.memoParentAt) return this.memoParentEnd;
    const cache = this.parentSpans;
    const n = cache.lookup(buf, this.dv, i, end);
    if (n > 0) return i + n;
    const s = i;
    i = skipValue(buf, this.dv, i, end);
    if (i < 0) return FALLBACK;
    if (cache.wantsStore()) cache.store(buf, s, i, VALID);
    return i;
  }

  private processObject(buf: Buffer, i: number, end: number): number {
    let seenPod = false;
    for (i = FastDecoder.first(buf, i, end); i >= 0; i = FastDecoder.next(buf, i, end)) {
      i = this.member(buf, i, end, PROCESS);
      if (i < 0) return FALLBACK;
      if (this.keyId === 1) {
        if (seenPod) return FALLBACK;
        seenPod = true;
        if (buf[i] === LBRACE) {
          this.podFound = true;
          i = this.podObject(buf, i, end);
        } else {
          i = skipValue(buf, this.dv, i, end);
        }
      } else {
        i = skipValue(buf, this.dv, i, end);
      }
      if (i < 0) return FALLBACK;
    }
    return i === FALLBACK ? FALLBACK : -(i + 2);
  }

  private podObject(buf: Buffer, i: number, end: number): number {
    let seen = 0;
    for (i = FastDecoder.first(buf, i, end); i >= 0; i = FastDecoder.next(buf, i, end)) {
      i = this.member(buf, i, end, POD);
      if (i < 0) return FALLBACK;
      const id = this.keyId;
      if (id === 0) {
        i = skipValue(buf, this.dv, i, end);
        if (i < 0) return FALLBACK;
        continue;
      }
      if ((seen & (1 << id)) !== 0) return FALLBACK;
      seen |= 1 << id;
      if (id === POD_LABELS) {
        const s = i;
        i = skipValue(buf, this.dv, i, end);
        if (i < 0) return FALLBACK;
        this.podLabels = buf[s] === LBRACE ? this.labelsOf(buf, s, i) : undefined;
        continue;
      }
      i = this.readValue(buf, i, end);
      if (i < 0) return FALLBACK;
      const v = this.nonEmpty(buf);
      if (id === POD_NAMESPACE) this.podNamespace = v;
      else if (id === POD_NAME) this.podName = v;
      else if (id === POD_WORKLOAD) this.podWorkload = v;
      else if (id === POD_WORKLOAD_KIND) this.podWorkloadKind = v;
    }
    return i === FALLBACK ? FALLBACK : -(i + 2);
  }

  /** The labels object at bytes `s..e` (already validated), as the reference builds it. */
  private labelsOf(buf: Buffer, s: number, e: number): Readonly<Record<string, string>> | undefined {
    const cacheable = e - s <= this.labels.maxBytes;
    if (cacheable) {
      const hit = this.labels.lookup(buf, this.dv, s, e);
      if (hit !== undefined) return hit;
    }
    // Built by JSON.parse + the reference's construction, so duplicate keys, key order,
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

  private argsArray(buf: Buffer, i: number, end: number): number {
    let index = 0;
    i = skipWs(buf, i + 1, end);
    if (i >= end) return FALLBACK;
    if (buf[i] === RBRACKET) return i + 1;
    for (;;) {
      i = buf[i] === LBRACE ? this.argObject(buf, i, end, index) : skipValue(buf, this.dv, i, end);
      if (i < 0) return FALLBACK;
      i = skipWs(buf, i, end);
      if (i >= end) return FALLBACK;
      const c = buf[i];
      if (c === RBRACKET) return i + 1;
      if (c !== COMMA) return FALLBACK;
      i = skipWs(buf, i + 1, end);
      if (i >= end) return FALLBACK;
      index++;
    }
  }

  private argObject(buf: Buffer, i: number, end: number, index: number): number {
    let seen = 0;
    // Only the first element that has `size_arg` counts, and only element 0's `sock_arg`.
    const wantSize = this.sizeIndex < 0;
    // Only the first element after args[0] with an integer-typed argument counts.
    const wantInteger = index > 0 && this.intArgIndex < 0;
    let integerKey = 0;
    let integerValue = NaN;
    for (i = FastDecoder.first(buf, i, end); i >= 0; i = FastDecoder.next(buf, i, end)) {
      i = this.member(buf, i, end, ARG);
      if (i < 0) return FALLBACK;
      const id = this.keyId;
      if (id > 0) {
        if ((seen & (1 << id)) !== 0) return FALLBACK;
        seen |= 1 << id;
      }
      if (id === ARG_SOCK && index === 0 && buf[i] === LBRACE) {
        this.sockFound = true;
        i = this.sockObject(buf, i, end);
      } else if (id === ARG_SIZE && wantSize) {
        i = this.readValue(buf, i, end);
        if (i < 0) return FALLBACK;
        this.sizeIndex = index;
        this.sizeValue = this.sizeOf(buf);
      } else if (id >= ARG_FIRST_INTEGER && wantInteger && (integerKey === 0 || id < integerKey)) {
        // The element's integer argument by the reference's key order, whatever the member order.
        i = this.readValue(buf, i, end);
        if (i < 0) return FALLBACK;
        integerKey = id;
        integerValue = this.sizeOf(buf);
      } else {
        i = skipValue(buf, this.dv, i, end);
      }
      if (i < 0) return FALLBACK;
    }
    if (i !== FALLBACK && integerKey !== 0) {
      this.intArgIndex = index;
      this.intArgKey = integerKey;
      this.intArgValue = integerValue;
    }
    return i === FALLBACK ? FALLBACK : -(i + 2);
  }

  private sockObject(buf: Buffer, i: number, end: number): number {
    let seen = 0;
    for (i = FastDecoder.first(buf, i, end); i >= 0; i = FastDecoder.next(buf, i, end)) {
      i = this.member(buf, i, end, SOCK);
      if (i < 0) return FALLBACK;
      const id = this.keyId;
      if (id === 0) {
        i = skipValue(buf, this.dv, i, end);
        if (i < 0) return FALLBACK;
        continue;
      }
      if ((seen & (1 << id)) !== 0) return FALLBACK;
      seen |= 1 << id;
      i = this.readValue(buf, i, end);
      if (i < 0) return FALLBACK;
      if (id === SOCK_SADDR) this.saddr = this.nonEmpty(buf);
      else if (id === SOCK_DADDR) this.daddr = this.nonEmpty(buf);
      else if (id === SOCK_SPORT) this.sport = this.portValue(buf);
      else if (id === SOCK_DPORT) this.dport = this.portValue(buf);
      else if (id === SOCK_COOKIE) this.cookie = this.uncachedString(buf);
    }
    return i === FALLBACK ? FALLBACK : -(i + 2);
  }

  private returnObject(buf: Buffer, i: number, end: number): number {
    let seen = false;
    for (i = FastDecoder.first(buf, i, end); i >= 0; i = FastDecoder.next(buf, i, end)) {
      i = this.member(buf, i, end, RETURN);
      if (i < 0) return FALLBACK;
      if (this.keyId === 1) {
        if (seen) return FALLBACK;
        seen = true;
        i = this.readValue(buf, i, end);
        if (i < 0) return FALLBACK;
        this.retFound = true;
        this.retValue = this.returnOf(buf);
      } else {
        i = skipValue(buf, this.dv, i, end);
        if (i < 0) return FALLBACK;
      }
    }
    return i === FALLBACK ? FALLBACK : -(i + 2);
  }
}

