/**
 * The fast decoder's speculative path: a line laid out exactly as Tetragon prints a kprobe
 * event (the skeleton of fast-skeleton.ts) is read by matching literals where the general
 * walk would scan and look up keys, and by matching whole stretches learnt from earlier
 * lines (the pair of `process` and `parent`, the socket's unread fields, the kprobe's tail).
 * As soon as a byte leaves the skeleton it abandons, and the general walk starts over
 * from the line's first byte with fresh facts.
 *
 * Exact because each literal fixes the keys and separators it covers, every key is
 * accepted at most once (no duplicates to resolve), any other member must be a key that
 * no object level reads (and its value is validated by `skipValue`), and the values read
 * go through the same readers as in the general walk. Strings must be plain and numbers
 * plain integers; anything else abandons rather than being handled twice.
 */
import type { EventFacts, PodFacts } from './fast-facts.ts';
import { FIRST_OTHER_ENVELOPE, KPROBE, OTHER_KEY, TOP, TOP_CLUSTER } from './fast-keys.ts';
import { COMPACT, L_HEAD, L_SIZE, L_SOCK, Learned, matchLit, SPACED, type Lit, type Separated } from './fast-skeleton.ts';
import { SpanCache } from './fast-span-cache.ts';
import { COMMA, LBRACE, plainStringEnd, QUOTE, RBRACE, RBRACKET, SPACE, type ValueReader } from './fast-values.ts';
import type { ObjectWalk } from './fast-walk.ts';
import { intEnd, skipValue, skipWs } from './json-scan.ts';

/** Not on the skeleton: the general walk decides. */
const OFF = -1;

// The literals that begin with a comma, in the separator style of the line being decoded
// (compact, or a space after each comma: see Separated). Module bindings rebound only when
// the style changes, which happens once per Tetragon build, so that the path keeps reading
// plain bindings instead of a property per literal.
let style: Separated | undefined;
let L_PARENT: Lit, L_FUNCTION: Lit, L_ARGS: Lit, L_TYPE: Lit, L_PROTOCOL: Lit, L_SADDR: Lit, L_DADDR: Lit, L_SPORT: Lit;
let L_DPORT: Lit, L_COOKIE: Lit, L_STATE: Lit, L_RETURN: Lit, L_ACTION: Lit, L_POLICY: Lit, L_NODE: Lit, L_TIME: Lit;
/** Bytes after each comma in that style: 0 or 1 (a space). */
let GAP: number;

function useStyle(next: Separated): void {
  if (next === style) return;
  style = next;
  ({
    PARENT: L_PARENT,
    FUNCTION: L_FUNCTION,
    ARGS: L_ARGS,
    TYPE: L_TYPE,
    PROTOCOL: L_PROTOCOL,
    SADDR: L_SADDR,
    DADDR: L_DADDR,
    SPORT: L_SPORT,
    DPORT: L_DPORT,
    COOKIE: L_COOKIE,
    STATE: L_STATE,
    RETURN: L_RETURN,
    ACTION: L_ACTION,
    POLICY: L_POLICY,
    NODE: L_NODE,
    TIME: L_TIME,
  } = next);
  GAP = next.gap;
}
useStyle(COMPACT);

/**
 * Whether the comma at `i`, where a literal of the current style failed, is in the other
 * style, which then becomes current (the caller retries the literal). Only the first
 * literal after `process` and `parent` asks: every line reaches one of those two, and
 * neither of those values' spans depends on the style, so the first line of a build in
 * the other style stays on this path. A guess only: the literals still prove every
 * separator.
 */
function restyled(buf: Buffer, i: number, end: number): boolean {
  if (i + 1 >= end || buf[i] !== COMMA) return false;
  const next = buf[i + 1] === SPACE ? SPACED : COMPACT;
  if (next === style) return false;
  useStyle(next);
  return true;
}

/**
 * What a `process` + `,"parent":` + `parent` span gives: the process's pod facts, and the
 * length of what follows the process (the holes are all in the process: its length varies).
 */
interface PairFacts {
  readonly pod: PodFacts;
  readonly tailLength: number;
  /** Where the parent starts after the process: the length of `,"parent":` in the span's style. */
  readonly parentOffset: number;
}

/** What a socket's stretch from its `saddr` value to the element's `}}` gives. */
interface SockFacts {
  readonly saddr: string | undefined;
  readonly daddr: string | undefined;
  readonly sport: number;
  readonly dport: number;
  readonly cookie: string | undefined;
}

/**
 * Sockets whose stretches are kept: the connections a node's processes keep open at once.
 * A stretch is ~120 bytes (IPv4, with cookie and state), ~200 with IPv6 addresses.
 */
const SOCK_SETS = 4096;
const SOCK_SLOT_BYTES = 256;

export class Speculation {
  /**
   * `process` objects followed by `,"parent":` and their `parent`, validated before: one
   * hash and one memcmp per canonical line instead of two (a process's parent rarely
   * changes). Only this path uses it; the walk's two caches still serve the rest.
   */
  readonly pairSpans: SpanCache<PairFacts>;
  /** From `family`'s value to `"saddr":"`: the socket's unread fields. */
  private readonly sockHead = new Learned(128);
  /**
   * A socket's stretch from its `saddr` value to the element's `}}` (daddr, sport, dport,
   * cookie, state), validated before: every event on a connection repeats it byte for
   * byte, and a hit replaces two string lookups, two ports, a cookie string allocated per
   * event and five literals by one hash and one memcmp. Hashed over its first 64 bytes,
   * which reach the `sport` of IPv4 addresses: connections between the same two addresses
   * differ from there on, and would share a set otherwise.
   */
  readonly sockSpans = new SpanCache<SockFacts>(SOCK_SETS, SOCK_SLOT_BYTES, { slotBytes: SOCK_SLOT_BYTES, hashFrom: 0, hashTo: 64 });
  /** From after `cookie` (else `dport`) to the element's `}}` (`state`). */
  private readonly sockTail = new Learned(128);
  /**
   * From after `args` (or `return`) to `"node_name":"` (`action`, `policy_name`, ...): the
   * tail matched last, and the one before it, as a node's events come from a few policies
   * (network and file I/O) in turns.
   */
  private kprobeTail = new Learned(256);
  private otherKprobeTail = new Learned(256);

  constructor(
    private readonly facts: EventFacts,
    private readonly values: ValueReader,
    private readonly walk: ObjectWalk,
    sets: number,
    maxBytes: number,
  ) {
    this.pairSpans = new SpanCache<PairFacts>(sets, 2 * maxBytes);
  }

  /**
   * Reads the line at `start..end` (which starts with `{`) into the facts; false as soon as
   * a byte leaves the skeleton (the facts are then partial, and the walk's memo holds what
   * was learnt of `process` and `parent`).
   */
  read(buf: Buffer, start: number, end: number): boolean {
    const facts = this.facts;
    const values = this.values;
    const walk = this.walk;
    const dv = values.dv;
    let i = matchLit(buf, dv, start, end, L_HEAD);
    if (i < 0 || i >= end || buf[i] !== LBRACE) return false;
    facts.kprobeSeen = true;
    facts.kprobeIsObject = true;
    const pair = this.pairSpans;
    const ps = i;
    const n = pair.lookup(buf, dv, i, end);
    if (n > 0) {
      // Sound as for the single caches: the span's bytes were validated as a process value,
      // the literal and a parent value, and only the process's facts depend on them.
      const f = pair.value!;
      facts.pod = f.pod;
      i = ps + n;
      const pe = i - f.tailLength;
      walk.rememberProcess(ps, pe, f.pod);
      walk.rememberParent(pe + f.parentOffset, i);
    } else {
      i = walk.cachedProcess(buf, i, end);
      if (i < 0) return false;
      const pe = i;
      walk.rememberProcess(ps, pe, facts.pod);
      let p = matchLit(buf, dv, i, end, L_PARENT);
      if (p < 0 && restyled(buf, i, end)) p = matchLit(buf, dv, i, end, L_PARENT);
      // No `parent`: exported with Tetragon's field filters (install/values/tetragon.yaml);
      // `function_name` follows the process.
      if (p >= 0) {
        if (p >= end || buf[p] !== LBRACE) return false;
        i = walk.cachedParent(buf, p, end);
        if (i < 0) return false;
        walk.rememberParent(p, i);
        if (pair.wantsStore()) pair.store(buf, ps, i, { pod: facts.pod, tailLength: i - pe, parentOffset: p - pe }, walk.processHoles);
      }
    }

    let f = matchLit(buf, dv, i, end, L_FUNCTION);
    if (f < 0 && restyled(buf, i, end)) f = matchLit(buf, dv, i, end, L_FUNCTION);
    if (f < 0) return false;
    i = f;
    i = values.plainValue(buf, i, end);
    if (i < 0) return false;
    values.functionName(buf, facts);

    i = matchLit(buf, dv, i, end, L_ARGS);
    if (i < 0) return false;
    i = this.args(buf, i, end);
    if (i < 0) return false;

    let r = matchLit(buf, dv, i, end, L_RETURN);
    if (r >= 0) {
      const s = r;
      r = intEnd(buf, r, end);
      if (r < 0 || r >= end || buf[r] !== RBRACE) return false;
      values.number(s, r);
      facts.retFound = true;
      facts.retValue = values.returnValue(buf);
      i = r + 1;
    }
    r = this.kprobeTail.match(buf, dv, i, end);
    if (r < 0 && (r = this.otherKprobeTail.match(buf, dv, i, end)) >= 0) this.swapKprobeTails();
    if (r >= 0) {
      i = r;
    } else {
      const t = i;
      r = matchLit(buf, dv, i, end, L_ACTION);
      if (r >= 0) {
        i = plainStringEnd(buf, dv, r, end);
        if (i < 0) return false;
      }
      r = matchLit(buf, dv, i, end, L_POLICY);
      if (r >= 0) {
        i = plainStringEnd(buf, dv, r, end);
        if (i < 0) return false;
      }
      // Later kprobe fields (return_action, message, tags...): any key the kprobe level does
      // not read, so order and duplicates cannot matter.
      while (i < end && buf[i] === COMMA) {
        if (!this.keyAfterComma(buf, i, end)) return false;
        i = walk.member(buf, i + 1 + GAP, end, KPROBE);
        if (i < 0 || walk.keyId !== OTHER_KEY) return false;
        i = skipValue(buf, dv, i, end);
        if (i < 0) return false;
      }
      i = matchLit(buf, dv, i, end, L_NODE);
      if (i < 0) return false;
      this.otherKprobeTail.learn(buf, dv, t, i);
      this.swapKprobeTails();
    }
    i = values.plainValue(buf, i, end);
    if (i < 0) return false;
    facts.node = values.nonEmpty(buf);
    i = matchLit(buf, dv, i, end, L_TIME);
    if (i < 0) return false;
    i = values.plainValue(buf, i, end);
    if (i < 0) return false;
    facts.timeMs = values.time(buf);
    // Later envelope fields (cluster_name, node_labels...): only keys whose duplicates or
    // order cannot change the result, i.e. not process_kprobe, node_name or time.
    while (i < end && buf[i] === COMMA) {
      if (!this.keyAfterComma(buf, i, end)) return false;
      i = walk.member(buf, i + 1 + GAP, end, TOP);
      if (i < 0) return false;
      const id = walk.keyId;
      if (id !== OTHER_KEY && id < FIRST_OTHER_ENVELOPE) return false;
      if (id === TOP_CLUSTER) {
        i = values.readValue(buf, i, end);
        if (i < 0) return false;
        facts.cluster = values.nonEmpty(buf);
        continue;
      }
      i = skipValue(buf, dv, i, end);
      if (i < 0) return false;
    }
    if (i >= end || buf[i] !== RBRACE) return false;
    return skipWs(buf, i + 1, end) === end;
  }

  private swapKprobeTails(): void {
    const t = this.kprobeTail;
    this.kprobeTail = this.otherKprobeTail;
    this.otherKprobeTail = t;
  }

  /** Whether the comma at `i` is followed, in the line's style, by a key's opening quote. */
  private keyAfterComma(buf: Buffer, i: number, end: number): boolean {
    return i + 1 + GAP < end && buf[i + 1 + GAP] === QUOTE && (GAP === 0 || buf[i + 1] === SPACE);
  }

  /**
   * The args array after its `[`: the canonical `sock_arg` and `size_arg` elements by
   * literal, any other element by the walk's `argObject` (which fills the same facts with
   * the same rules); the index after `]`, or OFF.
   */
  private args(buf: Buffer, i: number, end: number): number {
    const facts = this.facts;
    const values = this.values;
    const dv = values.dv;
    if (i < end && buf[i] === RBRACKET) return i + 1;
    for (let index = 0; ; index++) {
      let r = index === 0 ? matchLit(buf, dv, i, end, L_SOCK) : -1;
      if (r >= 0) {
        i = this.sock(buf, r, end);
      } else if ((r = matchLit(buf, dv, i, end, L_SIZE)) >= 0) {
        i = plainStringEnd(buf, dv, r, end);
        if (i < 0 || i >= end || buf[i] !== RBRACE) return OFF;
        i++;
        if (facts.sizeIndex < 0) {
          values.plainString(r, i - 2);
          facts.sizeIndex = index;
          facts.sizeValue = values.size(buf);
        }
      } else if (i < end && buf[i] === LBRACE) {
        i = this.walk.argObject(buf, i, end, index);
      } else {
        return OFF;
      }
      if (i < 0 || i >= end) return OFF;
      const c = buf[i];
      if (c === RBRACKET) return i + 1;
      if (c !== COMMA) return OFF;
      i++;
      if (GAP !== 0) {
        if (i >= end || buf[i] !== SPACE) return OFF;
        i++;
      }
    }
  }

  /** The `sock_arg` element after `{"sock_arg":{"family":"`; the index after the element's `}}`, or OFF. */
  private sock(buf: Buffer, i: number, end: number): number {
    const facts = this.facts;
    const values = this.values;
    const dv = values.dv;
    let s = this.sockHead.match(buf, dv, i, end);
    if (s >= 0) {
      i = s;
    } else {
      s = i;
      i = plainStringEnd(buf, dv, i, end);
      if (i < 0) return OFF;
      i = matchLit(buf, dv, i, end, L_TYPE);
      if (i < 0) return OFF;
      i = plainStringEnd(buf, dv, i, end);
      if (i < 0) return OFF;
      i = matchLit(buf, dv, i, end, L_PROTOCOL);
      if (i < 0) return OFF;
      i = plainStringEnd(buf, dv, i, end);
      if (i < 0) return OFF;
      i = matchLit(buf, dv, i, end, L_SADDR);
      if (i < 0) return OFF;
      this.sockHead.learn(buf, dv, s, i);
    }
    const cache = this.sockSpans;
    const n = cache.lookup(buf, dv, i, end);
    if (n > 0) {
      // Sound as for the process spans: the stretch's bytes were validated (and read) as
      // these fields and the element's end before, and reading them depends on nothing
      // else; `cookie` is still unset, as the socket is args[0].
      const f = cache.value!;
      facts.saddr = f.saddr;
      facts.daddr = f.daddr;
      facts.sport = f.sport;
      facts.dport = f.dport;
      facts.cookie = f.cookie;
      facts.sockFound = true;
      return i + n;
    }
    const vs = i;
    i = values.plainValue(buf, i, end);
    if (i < 0) return OFF;
    facts.saddr = values.nonEmpty(buf);
    i = matchLit(buf, dv, i, end, L_DADDR);
    if (i < 0) return OFF;
    i = values.plainValue(buf, i, end);
    if (i < 0) return OFF;
    facts.daddr = values.nonEmpty(buf);
    i = matchLit(buf, dv, i, end, L_SPORT);
    if (i < 0) return OFF;
    s = i;
    i = intEnd(buf, i, end);
    if (i < 0) return OFF;
    values.number(s, i);
    facts.sport = values.port(buf);
    i = matchLit(buf, dv, i, end, L_DPORT);
    if (i < 0) return OFF;
    s = i;
    i = intEnd(buf, i, end);
    if (i < 0) return OFF;
    values.number(s, i);
    facts.dport = values.port(buf);
    facts.sockFound = true;
    let r = matchLit(buf, dv, i, end, L_COOKIE);
    if (r >= 0) {
      i = values.plainValue(buf, r, end);
      if (i < 0) return OFF;
      facts.cookie = values.uncachedString(buf);
    }
    s = this.sockTail.match(buf, dv, i, end);
    if (s < 0) {
      s = i;
      r = matchLit(buf, dv, i, end, L_STATE);
      if (r >= 0) {
        i = plainStringEnd(buf, dv, r, end);
        if (i < 0) return OFF;
      }
      if (i + 1 >= end || buf[i] !== RBRACE || buf[i + 1] !== RBRACE) return OFF;
      this.sockTail.learn(buf, dv, s, i + 2);
      s = i + 2;
    }
    if (cache.wantsStore()) {
      cache.store(buf, vs, s, { saddr: facts.saddr, daddr: facts.daddr, sport: facts.sport, dport: facts.dport, cookie: facts.cookie });
    }
    return s;
  }
}
