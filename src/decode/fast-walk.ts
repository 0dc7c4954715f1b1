/**
 * The fast decoder's general path: a walk over any valid JSON line, object level by object
 * level (top, `process_kprobe`, `process`, `pod`, `args`, `sock_arg`, `return`), reading the
 * keys of fast-keys.ts into the line's facts and validating everything else as it skips it.
 *
 * Whatever it does not fully handle — invalid JSON, a duplicated key it reads, nesting
 * deeper than the scanner tracks — it answers with FALLBACK, and the reference decoder
 * decides. `process` and `parent` values seen before are skipped through span caches
 * (fast-span-cache.ts).
 */
import { FALLBACK, NO_POD, type EventFacts, type PodFacts } from './fast-facts.ts';
import {
  ARG,
  ARG_FIRST_INTEGER,
  ARG_SIZE,
  ARG_SOCK,
  FIRST_OTHER_ENVELOPE,
  KP_ARGS,
  KP_FUNCTION,
  KP_PARENT,
  KP_PROCESS,
  KP_RETURN,
  KPROBE,
  OTHER_KEY,
  POD,
  POD_LABELS,
  POD_NAME,
  POD_NAMESPACE,
  POD_WORKLOAD,
  POD_WORKLOAD_KIND,
  PROCESS,
  PROCESS_POD,
  PROCESS_REFCNT,
  PROCESS_TID,
  RETURN,
  RETURN_INT,
  SOCK,
  SOCK_COOKIE,
  SOCK_DADDR,
  SOCK_DPORT,
  SOCK_SADDR,
  SOCK_SPORT,
  TOP,
  TOP_CLUSTER,
  TOP_KPROBE,
  TOP_NODE,
  TOP_TIME,
  type KeySet,
} from './fast-keys.ts';
import { Holes, SpanCache } from './fast-span-cache.ts';
import { ObjectShape } from './fast-shape.ts';
import { COLON, COMMA, decodeString, LBRACE, LBRACKET, QUOTE, RBRACE, RBRACKET, type ValueReader } from './fast-values.ts';
import { intEnd, scanNumber, scanState, scanString, skipValue, skipWs } from './json-scan.ts';

/** Returned by `first`/`next` at the object's closing brace; the index after it is in `closedAt`. */
const CLOSED = -3;

/** Parent spans carry no results; one shared marker value. */
const VALID = true;

export class ObjectWalk {
  /** `process` objects validated before, with what they gave; see fast-span-cache.ts. */
  readonly processSpans: SpanCache<PodFacts>;
  /** `parent` objects validated before. */
  readonly parentSpans: SpanCache<boolean>;
  /**
   * The holes (`tid`, `refcnt`) of the last `process` value read by `cachedProcess`, as
   * offsets from its first byte: filled by the walk, or the cache's on a hit.
   */
  processHoles: Holes;
  private readonly walkedHoles = new Holes();
  /**
   * `pod` objects validated before, with their facts: a pod's processes come and go (a
   * fresh process per event is the worst case) but its `pod` bytes stay the same, so a
   * new process still skips the pod's strings, labels and container by one memcmp.
   */
  private readonly podSpans = new SpanCache<PodFacts>(256, 4096);
  /**
   * The last `parent`'s keys and separators: a new process's parent matches no bytes seen
   * before, but is laid out as every parent before it (see fast-shape.ts); its `pod` is
   * usually its process's, found in podSpans.
   */
  private readonly parentShape = new ObjectShape(this.podSpans);

  // The key just read by `member`: its body span and its id in the level's KeySet.
  keyStart = 0;
  keyEnd = 0;
  keyEscaped = false;
  keyId = 0;
  /** The index after the closing brace, when `first`/`next` returned CLOSED. */
  private closedAt = 0;

  // What an abandoned speculation learnt of this line's `process` and `parent` (start index,
  // end index, results), so that the walk does not look them up a second time: that would
  // cost a memcmp and count twice in the span caches' hit statistics. -1: nothing known.
  private memoProcessAt = -1;
  private memoProcessEnd = 0;
  private memoPod: PodFacts = NO_POD;
  private memoParentAt = -1;
  private memoParentEnd = 0;

  constructor(
    private readonly facts: EventFacts,
    private readonly values: ValueReader,
    sets: number,
    maxBytes: number,
  ) {
    this.processSpans = new SpanCache<PodFacts>(sets, maxBytes);
    this.parentSpans = new SpanCache<boolean>(sets, maxBytes);
    this.processHoles = this.walkedHoles;
  }

  /** Forgets what a speculation of the previous line learnt. */
  newLine(): void {
    this.memoProcessAt = -1;
    this.memoParentAt = -1;
  }

  /** Remembers that this line's process value spans `s..e` and gave `pod`. */
  rememberProcess(s: number, e: number, pod: PodFacts): void {
    this.memoProcessAt = s;
    this.memoProcessEnd = e;
    this.memoPod = pod;
  }

  /** Remembers that this line's parent value spans `s..e`. */
  rememberParent(s: number, e: number): void {
    this.memoParentAt = s;
    this.memoParentEnd = e;
  }

  /**
   * Scans a member's key at the quote `i` and the colon after it; returns the index of
   * its value, with the key's id in `keys` in `keyId` and its body span in `keyStart`/`keyEnd`.
   * Keys the level reads are matched in place first, so that they are not scanned twice.
   */
  member(buf: Buffer, i: number, end: number, keys: KeySet): number {
    const dv = this.values.dv;
    const ks = i + 1;
    let id = keys.plainId(buf, dv, ks, end);
    let e: number;
    if (id !== OTHER_KEY) {
      e = ks + keys.lengths[id - 1]! + 1;
      this.keyEscaped = false;
    } else {
      e = scanString(buf, dv, ks, end);
      if (e < 0) return FALLBACK;
      const escaped = scanState.escaped;
      this.keyEscaped = escaped;
      // An unescaped key spelling a name would have matched in place.
      if (escaped) id = keys.escapedId(buf, ks, e - 1);
    }
    this.keyStart = ks;
    this.keyEnd = e - 1;
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

  /** Index of the first member's key after the opening brace at `i`; CLOSED for `{}`; or FALLBACK. */
  private first(buf: Buffer, i: number, end: number): number {
    i = skipWs(buf, i + 1, end);
    if (i >= end) return FALLBACK;
    if (buf[i] === QUOTE) return i;
    if (buf[i] !== RBRACE) return FALLBACK;
    this.closedAt = i + 1;
    return CLOSED;
  }

  /**
   * After a member's value: skips to the next member's key (returning the index of its
   * opening quote), or past the closing brace (returning CLOSED), or FALLBACK.
   */
  private next(buf: Buffer, i: number, end: number): number {
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
    if (c !== RBRACE) return FALLBACK;
    this.closedAt = i + 1;
    return CLOSED;
  }

  /** What a member loop ended on: the index after the object, or FALLBACK. */
  private closed(i: number): number {
    return i === CLOSED ? this.closedAt : FALLBACK;
  }

  /** The whole line's object at `i`; the index after it, or FALLBACK. */
  topObject(buf: Buffer, i: number, end: number): number {
    const facts = this.facts;
    const values = this.values;
    let seen = 0;
    for (i = this.first(buf, i, end); i >= 0; i = this.next(buf, i, end)) {
      i = this.member(buf, i, end, TOP);
      if (i < 0) return FALLBACK;
      const ks = this.keyStart;
      const ke = this.keyEnd;
      const kEscaped = this.keyEscaped;
      const id = this.keyId;
      if (id !== OTHER_KEY && id < FIRST_OTHER_ENVELOPE) {
        // Duplicates: JSON.parse keeps the last; rather than undo what the first set, let
        // the reference decide.
        if ((seen & (1 << id)) !== 0) return FALLBACK;
        seen |= 1 << id;
      }
      if (id === OTHER_KEY || id === TOP_KPROBE) {
        if (facts.typeStart < 0) {
          facts.typeStart = ks;
          facts.typeEnd = ke;
          facts.typeEscaped = kEscaped;
        }
        const first = kEscaped ? decodeString(buf, ks, ke).charCodeAt(0) : ke > ks ? buf[ks]! : -1;
        if (first >= 0x30 && first <= 0x39) facts.digitKey = true;
      }
      if (id === TOP_KPROBE) {
        facts.kprobeSeen = true;
        if (buf[i] === LBRACE) {
          facts.kprobeIsObject = true;
          i = this.kprobeObject(buf, i, end);
        } else {
          i = skipValue(buf, values.dv, i, end);
        }
      } else if (id === TOP_NODE) {
        i = values.readValue(buf, i, end);
        if (i < 0) return FALLBACK;
        facts.node = values.nonEmpty(buf);
      } else if (id === TOP_TIME) {
        i = values.readValue(buf, i, end);
        if (i < 0) return FALLBACK;
        facts.timeMs = values.time(buf);
      } else if (id === TOP_CLUSTER) {
        i = values.readValue(buf, i, end);
        if (i < 0) return FALLBACK;
        facts.cluster = values.nonEmpty(buf);
      } else {
        i = skipValue(buf, values.dv, i, end);
      }
      if (i < 0) return FALLBACK;
    }
    return this.closed(i);
  }

  private kprobeObject(buf: Buffer, i: number, end: number): number {
    const values = this.values;
    let seen = 0;
    for (i = this.first(buf, i, end); i >= 0; i = this.next(buf, i, end)) {
      i = this.member(buf, i, end, KPROBE);
      if (i < 0) return FALLBACK;
      const id = this.keyId;
      if (id !== OTHER_KEY && id !== KP_PARENT) {
        if ((seen & (1 << id)) !== 0) return FALLBACK;
        seen |= 1 << id;
      }
      const c = buf[i];
      if (id === KP_PROCESS && c === LBRACE) {
        i = this.cachedProcess(buf, i, end);
      } else if (id === KP_PARENT && c === LBRACE) {
        i = this.cachedParent(buf, i, end);
      } else if (id === KP_FUNCTION) {
        i = values.readValue(buf, i, end);
        if (i < 0) return FALLBACK;
        values.functionName(buf, this.facts);
      } else if (id === KP_ARGS && c === LBRACKET) {
        i = this.argsArray(buf, i, end);
      } else if (id === KP_RETURN && c === LBRACE) {
        i = this.returnObject(buf, i, end);
      } else {
        i = skipValue(buf, values.dv, i, end);
      }
      if (i < 0) return FALLBACK;
    }
    return this.closed(i);
  }

  /**
   * The `process` object at `i` into the facts' pod, from the span cache when the same
   * bytes were read before; the index after it, or FALLBACK.
   */
  cachedProcess(buf: Buffer, i: number, end: number): number {
    if (i === this.memoProcessAt) {
      // Read by an abandoned speculation of this same line: same bytes, same results.
      this.facts.pod = this.memoPod;
      return this.memoProcessEnd;
    }
    const cache = this.processSpans;
    const n = cache.lookup(buf, this.values.dv, i, end);
    if (n > 0) {
      // Sound because `process` is read once per line (a duplicate falls back) into
      // facts reset per line, so its results depend on its bytes alone (and none on the
      // integers in its holes).
      this.facts.pod = cache.value!;
      this.processHoles = cache.hitHoles;
      return i + n;
    }
    const s = i;
    const holes = this.walkedHoles;
    holes.clear();
    this.processHoles = holes;
    i = this.processObject(buf, i, end);
    if (i < 0) return FALLBACK;
    if (cache.wantsStore()) cache.store(buf, s, i, this.facts.pod, holes);
    return i;
  }

  /** Skips (validating) the `parent` object at `i`, by memcmp when its bytes were seen before. */
  cachedParent(buf: Buffer, i: number, end: number): number {
    if (i === this.memoParentAt) return this.memoParentEnd;
    const cache = this.parentSpans;
    const dv = this.values.dv;
    const n = cache.lookup(buf, dv, i, end);
    if (n > 0) return i + n;
    const s = i;
    i = this.parentShape.skip(buf, dv, i, end);
    if (i < 0) return FALLBACK;
    if (cache.wantsStore()) cache.store(buf, s, i, VALID);
    return i;
  }

  /** The `process` object at `i`, its plain-integer `tid` and `refcnt` into `walkedHoles`. */
  private processObject(buf: Buffer, i: number, end: number): number {
    const dv = this.values.dv;
    const s = i;
    let seenPod = false;
    for (i = this.first(buf, i, end); i >= 0; i = this.next(buf, i, end)) {
      i = this.member(buf, i, end, PROCESS);
      if (i < 0) return FALLBACK;
      const id = this.keyId;
      if (id === PROCESS_POD) {
        if (seenPod) return FALLBACK;
        seenPod = true;
        i = buf[i] === LBRACE ? this.cachedPod(buf, i, end) : skipValue(buf, dv, i, end);
      } else if (id === PROCESS_TID || id === PROCESS_REFCNT) {
        const e = scanNumber(buf, i, end);
        if (e >= 0 && intEnd(buf, i, end) === e) this.walkedHoles.add(i - s, e - s);
        i = e >= 0 ? e : skipValue(buf, dv, i, end);
      } else {
        i = skipValue(buf, dv, i, end);
      }
      if (i < 0) return FALLBACK;
    }
    return this.closed(i);
  }

  /** `podObject`, or its facts replayed when the same bytes were read before. */
  private cachedPod(buf: Buffer, i: number, end: number): number {
    const cache = this.podSpans;
    const n = cache.lookup(buf, this.values.dv, i, end);
    if (n > 0) {
      // Sound as for processes: a process's `pod` is read once (a duplicate falls back),
      // and its facts depend on its bytes alone.
      this.facts.pod = cache.value!;
      return i + n;
    }
    const s = i;
    i = this.podObject(buf, i, end);
    if (i >= 0 && cache.wantsStore()) cache.store(buf, s, i, this.facts.pod);
    return i;
  }

  /** The `pod` object at `i` into the facts' pod (a new record: the span cache may keep it); the index after it, or FALLBACK. */
  private podObject(buf: Buffer, i: number, end: number): number {
    const values = this.values;
    let namespace: string | undefined;
    let name: string | undefined;
    let workload: string | undefined;
    let workloadKind: string | undefined;
    let labels: Readonly<Record<string, string>> | undefined;
    let seen = 0;
    for (i = this.first(buf, i, end); i >= 0; i = this.next(buf, i, end)) {
      i = this.member(buf, i, end, POD);
      if (i < 0) return FALLBACK;
      const id = this.keyId;
      if (id === OTHER_KEY) {
        i = skipValue(buf, values.dv, i, end);
        if (i < 0) return FALLBACK;
        continue;
      }
      if ((seen & (1 << id)) !== 0) return FALLBACK;
      seen |= 1 << id;
      if (id === POD_LABELS) {
        const s = i;
        i = skipValue(buf, values.dv, i, end);
        if (i < 0) return FALLBACK;
        labels = buf[s] === LBRACE ? values.labelsOf(buf, s, i) : undefined;
        continue;
      }
      i = values.readValue(buf, i, end);
      if (i < 0) return FALLBACK;
      const v = values.nonEmpty(buf);
      if (id === POD_NAMESPACE) namespace = v;
      else if (id === POD_NAME) name = v;
      else if (id === POD_WORKLOAD) workload = v;
      else if (id === POD_WORKLOAD_KIND) workloadKind = v;
    }
    if (i !== CLOSED) return FALLBACK;
    this.facts.pod = { found: true, namespace, name, workload, workloadKind, labels };
    return this.closedAt;
  }

  private argsArray(buf: Buffer, i: number, end: number): number {
    const dv = this.values.dv;
    let index = 0;
    i = skipWs(buf, i + 1, end);
    if (i >= end) return FALLBACK;
    if (buf[i] === RBRACKET) return i + 1;
    for (;;) {
      i = buf[i] === LBRACE ? this.argObject(buf, i, end, index) : skipValue(buf, dv, i, end);
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

  /** Element `index` of `args`, an object at `i`; the index after it, or FALLBACK. */
  argObject(buf: Buffer, i: number, end: number, index: number): number {
    const facts = this.facts;
    const values = this.values;
    let seen = 0;
    // Only the first element that has `size_arg` counts, and only element 0's `sock_arg`.
    const wantSize = facts.sizeIndex < 0;
    // Only the first element after args[0] with an integer-typed argument counts.
    const wantInteger = index > 0 && facts.intArgIndex < 0;
    let integerId = OTHER_KEY;
    let integerValue = NaN;
    for (i = this.first(buf, i, end); i >= 0; i = this.next(buf, i, end)) {
      i = this.member(buf, i, end, ARG);
      if (i < 0) return FALLBACK;
      const id = this.keyId;
      if (id !== OTHER_KEY) {
        if ((seen & (1 << id)) !== 0) return FALLBACK;
        seen |= 1 << id;
      }
      if (id === ARG_SOCK && index === 0 && buf[i] === LBRACE) {
        facts.sockFound = true;
        i = this.sockObject(buf, i, end);
      } else if (id === ARG_SIZE && wantSize) {
        i = values.readValue(buf, i, end);
        if (i < 0) return FALLBACK;
        facts.sizeIndex = index;
        facts.sizeValue = values.size(buf);
      } else if (id >= ARG_FIRST_INTEGER && wantInteger && (integerId === OTHER_KEY || id < integerId)) {
        // The element's integer argument by the reference's key order, whatever the member order.
        i = values.readValue(buf, i, end);
        if (i < 0) return FALLBACK;
        integerId = id;
        integerValue = values.size(buf);
      } else {
        i = skipValue(buf, values.dv, i, end);
      }
      if (i < 0) return FALLBACK;
    }
    if (i !== CLOSED) return FALLBACK;
    if (integerId !== OTHER_KEY) {
      facts.intArgIndex = index;
      facts.intArgKey = integerId - ARG_FIRST_INTEGER;
      facts.intArgValue = integerValue;
    }
    return this.closedAt;
  }

  private sockObject(buf: Buffer, i: number, end: number): number {
    const facts = this.facts;
    const values = this.values;
    let seen = 0;
    for (i = this.first(buf, i, end); i >= 0; i = this.next(buf, i, end)) {
      i = this.member(buf, i, end, SOCK);
      if (i < 0) return FALLBACK;
      const id = this.keyId;
      if (id === OTHER_KEY) {
        i = skipValue(buf, values.dv, i, end);
        if (i < 0) return FALLBACK;
        continue;
      }
      if ((seen & (1 << id)) !== 0) return FALLBACK;
      seen |= 1 << id;
      i = values.readValue(buf, i, end);
      if (i < 0) return FALLBACK;
      if (id === SOCK_SADDR) facts.saddr = values.nonEmpty(buf);
      else if (id === SOCK_DADDR) facts.daddr = values.nonEmpty(buf);
      else if (id === SOCK_SPORT) facts.sport = values.port(buf);
      else if (id === SOCK_DPORT) facts.dport = values.port(buf);
      else if (id === SOCK_COOKIE) facts.cookie = values.uncachedString(buf);
    }
    return this.closed(i);
  }

  private returnObject(buf: Buffer, i: number, end: number): number {
    const facts = this.facts;
    const values = this.values;
    let seen = false;
    for (i = this.first(buf, i, end); i >= 0; i = this.next(buf, i, end)) {
      i = this.member(buf, i, end, RETURN);
      if (i < 0) return FALLBACK;
      if (this.keyId === RETURN_INT) {
        if (seen) return FALLBACK;
        seen = true;
        i = values.readValue(buf, i, end);
        if (i < 0) return FALLBACK;
        facts.retFound = true;
        facts.retValue = values.returnValue(buf);
      } else {
        i = skipValue(buf, values.dv, i, end);
        if (i < 0) return FALLBACK;
      }
    }
    return this.closed(i);
  }
}
