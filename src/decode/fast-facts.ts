/**
 * What the fast decoder learns of one line while it scans (fast-walk.ts, fast-speculate.ts),
 * and how those facts become the reference decoder's status and `KernelEvent`.
 *
 * The facts are one mutable object reset per line rather than a result allocated per line;
 * the pod facts are one immutable record per distinct `process` value, shared by reference
 * between the span caches and the lines that hit them, so that they are never copied field
 * by field.
 */
import { DecodeStatus, MAX_BYTE_COUNT, isTcpOp, type KernelEvent, type KernelOp } from './kernel-event.ts';
import { INTEGER_ARG_KEYS } from './reference-decoder.ts';

/** Returned by the scanning methods when the line must go to the reference decoder. */
export const FALLBACK = -1;

const USED: number = DecodeStatus.Used;
const SKIPPED: number = DecodeStatus.Skipped;
const REJECTED: number = DecodeStatus.Rejected;

/** What a `process` object gives the event: the `KernelEvent` pod fields, as read from its `pod`. */
export interface PodFacts {
  /** Whether the process has a `pod` object at all. */
  readonly found: boolean;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly workload: string | undefined;
  readonly workloadKind: string | undefined;
  readonly labels: Readonly<Record<string, string>> | undefined;
}

/** A process without a `pod` (a host process), or no process read yet. */
export const NO_POD: PodFacts = Object.freeze({
  found: false,
  namespace: undefined,
  name: undefined,
  workload: undefined,
  workloadKind: undefined,
  labels: undefined,
});

/** Names skip types from the line's bytes (cached; see fast-values.ts `TypeNames`). */
export interface SkipTypeNamer {
  /** The event key at bytes `s..e` (`kprobe` false) or `process_kprobe:` + the function name there. */
  skipType(buf: Buffer, s: number, e: number, escaped: boolean, kprobe: boolean): string;
}

/**
 * The facts of one line, filled while scanning and turned into a status by `finish` in the
 * reference's order of checks.
 */
export class EventFacts {
  kprobeSeen = false;
  kprobeIsObject = false;
  /** The first key that names the event type (not an envelope key), as a span; -1 before any. */
  typeStart = -1;
  typeEnd = -1;
  typeEscaped = false;
  /** Whether a type key starts with a digit: Object.keys would put it first, whatever its position. */
  digitKey = false;
  /** NaN when the time is not valid. */
  timeMs = NaN;
  node: string | undefined = undefined;
  cluster: string | undefined = undefined;
  op: KernelOp | undefined = undefined;
  /** The function name's span when it names no op we read (for the skip type); -1 otherwise. */
  fnStart = -1;
  fnEnd = -1;
  fnEscaped = false;
  pod: PodFacts = NO_POD;
  sockFound = false;
  saddr: string | undefined = undefined;
  daddr: string | undefined = undefined;
  /** -1 when the port is not valid (the reference's `undefined`). */
  sport = -1;
  dport = -1;
  cookie: string | undefined = undefined;
  retFound = false;
  /** NaN when the value is not valid (the reference's `undefined`). */
  retValue = NaN;
  /** The first element with a `size_arg`; -1 when none. */
  sizeIndex = -1;
  sizeValue = NaN;
  /** The first element after args[0] with an integer-typed argument (a size without size_arg). */
  intArgIndex = -1;
  /** Its key, as an index into INTEGER_ARG_KEYS. */
  intArgKey = 0;
  intArgValue = NaN;

  reset(): void {
    this.kprobeSeen = false;
    this.kprobeIsObject = false;
    this.typeStart = -1;
    this.digitKey = false;
    this.timeMs = NaN;
    this.node = undefined;
    this.cluster = undefined;
    this.op = undefined;
    this.fnStart = -1;
    this.pod = NO_POD;
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

  /** Turns the facts into a status and `out`'s fields, in the reference decoder's order of checks; FALLBACK when only it can tell. */
  finish(buf: Buffer, out: KernelEvent, names: SkipTypeNamer): number {
    out.reset();
    if (!this.kprobeSeen) {
      if (this.typeStart < 0) {
        out.skippedType = 'unknown';
        return SKIPPED;
      }
      // Array-index keys come first in Object.keys, whatever their position in the line.
      if (this.digitKey) return FALLBACK;
      out.skippedType = names.skipType(buf, this.typeStart, this.typeEnd, this.typeEscaped, false);
      return SKIPPED;
    }
    if (!this.kprobeIsObject) {
      out.rejectReason = 'invalid_json';
      out.rejectField = 'process_kprobe';
      return REJECTED;
    }
    const op = this.op;
    if (op === undefined) {
      out.skippedType = this.fnStart < 0 ? 'process_kprobe' : names.skipType(buf, this.fnStart, this.fnEnd, this.fnEscaped, true);
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
    const pod = this.pod;
    if (pod.found && pod.namespace !== undefined && pod.name !== undefined) {
      out.podNamespace = pod.namespace;
      out.podName = pod.name;
      out.podWorkload = pod.workload;
      out.podWorkloadKind = pod.workloadKind;
      out.podLabels = pod.labels;
    }
    if (isTcpOp(op)) {
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
        out.rejectField = `process_kprobe.args[${this.intArgIndex}].${INTEGER_ARG_KEYS[this.intArgKey]}`;
        return REJECTED;
      }
      out.bytes = this.intArgValue;
      return USED;
    }
    out.bytes = this.sizeValue;
    return USED;
  }
}
