/**
 * The reference decoder: `JSON.parse` and plain property reads. It defines what every
 * line means; the fast decoder must agree with it on every input (differential tests)
 * and falls back to it whenever it is unsure.
 */
import { bytesNestDeeperThan, textNestsDeeperThan } from './nesting-depth.ts';
import {
  DecodeStatus,
  KPROBE_OPS,
  MAX_BYTE_COUNT,
  isTcpOp,
  type KernelEvent,
  type LineDecoder,
  type RejectReason,
} from './kernel-event.ts';
import { parseRfc3339 } from './rfc3339.ts';
import {
  ENVELOPE_KEYS,
  type TetragonExportLine,
  type TetragonKprobeArg,
  type TetragonPod,
  type TetragonProcess,
  type TetragonProcessKprobe,
  type TetragonSockArg,
  type Unchecked,
} from './tetragon-json.ts';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether `v` is an object, to be read as Tetragon's T (values still unchecked). */
function isObjectOf<T>(v: unknown): v is Unchecked<T> {
  return isRecord(v);
}

/** A byte count: an integer 0–MAX_BYTE_COUNT, as a number or (64-bit) decimal string. */
export function parseSize(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 && v <= MAX_BYTE_COUNT ? v : undefined;
  if (typeof v === 'string' && /^[0-9]{1,16}$/.test(v)) {
    const n = Number(v);
    return n <= MAX_BYTE_COUNT ? n : undefined;
  }
  return undefined;
}

/** A return value: an integer, possibly negative, as a number or decimal string. */
export function parseReturn(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v === 'string' && /^-?[0-9]{1,16}$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/** A port: an integer 0–65535, as a number or decimal string. */
export function parsePort(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^[0-9]{1,5}$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

function reject(out: KernelEvent, reason: RejectReason, field: string): DecodeStatus {
  out.rejectReason = reason;
  out.rejectField = field;
  return DecodeStatus.Rejected;
}

function skip(out: KernelEvent, type: string): DecodeStatus {
  out.skippedType = type;
  return DecodeStatus.Skipped;
}

function nonEmptyString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The string-valued members of an object, in order (pod labels); shared with the fast decoder. */
export function stringRecord(v: unknown): Record<string, string> | undefined {
  if (!isRecord(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** The type of an export line: the key that is not an envelope field. */
export function eventTypeOf(line: Record<string, unknown>): string | undefined {
  if ('process_kprobe' in line) return 'process_kprobe';
  for (const k of Object.keys(line)) if (!ENVELOPE_KEYS.has(k)) return k;
  return undefined;
}

/** Decodes a parsed export line. */
function decodeParsed(line: unknown, out: KernelEvent): DecodeStatus {
  out.reset();
  if (!isRecord(line)) return reject(out, 'invalid_json', '');
  const type = eventTypeOf(line);
  if (type !== 'process_kprobe') return skip(out, type ?? 'unknown');
  const envelope: Unchecked<TetragonExportLine> = line;
  const kprobe = envelope.process_kprobe;
  if (!isObjectOf<TetragonProcessKprobe>(kprobe)) return reject(out, 'invalid_json', 'process_kprobe');
  const fn = kprobe.function_name;
  const op = typeof fn === 'string' ? KPROBE_OPS.get(fn) : undefined;
  if (op === undefined) return skip(out, typeof fn === 'string' && fn !== '' ? `process_kprobe:${fn}` : 'process_kprobe');
  out.op = op;

  const time = envelope.time;
  const timeMs = typeof time === 'string' ? parseRfc3339(time) : NaN;
  if (Number.isNaN(timeMs)) return reject(out, 'invalid_time', 'time');
  out.timeMs = timeMs;
  out.node = nonEmptyString(envelope.node_name);
  out.cluster = nonEmptyString(envelope.cluster_name);

  const process = kprobe.process;
  const pod = isObjectOf<TetragonProcess>(process) && isObjectOf<TetragonPod>(process.pod) ? process.pod : undefined;
  const podNamespace = nonEmptyString(pod?.namespace);
  const podName = nonEmptyString(pod?.name);
  if (pod && podNamespace && podName) {
    out.podNamespace = podNamespace;
    out.podName = podName;
    out.podWorkload = nonEmptyString(pod.workload);
    out.podWorkloadKind = nonEmptyString(pod.workload_kind);
    out.podLabels = stringRecord(pod.pod_labels);
  }

  const args: unknown[] = Array.isArray(kprobe.args) ? kprobe.args : [];
  if (isTcpOp(op)) {
    const first = args[0];
    const sock = isObjectOf<TetragonKprobeArg>(first) && isObjectOf<TetragonSockArg>(first.sock_arg) ? first.sock_arg : undefined;
    const saddr = nonEmptyString(sock?.saddr);
    const daddr = nonEmptyString(sock?.daddr);
    const sport = parsePort(sock?.sport);
    const dport = parsePort(sock?.dport);
    if (saddr === undefined || daddr === undefined || sport === undefined || dport === undefined) {
      return reject(out, 'missing_socket', 'process_kprobe.args[0].sock_arg');
    }
    out.localAddress = saddr;
    out.localPort = sport;
    out.remoteAddress = daddr;
    out.remotePort = dport;
    out.cookie = nonEmptyString(sock?.cookie);
    if (op === 'connect' || op === 'close') return DecodeStatus.Used;
  }

  // The first size argument must be a number even when the return value gives the
  // bytes: a malformed size means a malformed event.
  let size: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (isObjectOf<TetragonKprobeArg>(a) && 'size_arg' in a) {
      size = parseSize(a.size_arg);
      if (size === undefined) return reject(out, 'invalid_size', `process_kprobe.args[${i}].size_arg`);
      break;
    }
  }
  const ret = kprobe.return;
  if (isObjectOf<TetragonKprobeArg>(ret) && 'int_arg' in ret) {
    const r = parseReturn(ret.int_arg);
    if (r === undefined || r > MAX_BYTE_COUNT) return reject(out, 'invalid_size', 'process_kprobe.return.int_arg');
    out.bytes = r >= 0 ? r : 0;
    return DecodeStatus.Used;
  }
  if (size === undefined) {
    // No size_arg and no return value: the size as an integer type, as Tetragon's own
    // example policies export it (tcp_sendmsg's `size` as `int`).
    const found = integerArgAfterFirst(args);
    if (!found) return reject(out, 'invalid_size', 'process_kprobe.args[].size_arg');
    size = parseSize(found.value);
    if (size === undefined) return reject(out, 'invalid_size', `process_kprobe.args[${found.index}].${found.key}`);
  }
  out.bytes = size;
  return DecodeStatus.Used;
}

/** Integer argument types of Tetragon's JSON, in the order one element is read for them. */
export const INTEGER_ARG_KEYS = ['int_arg', 'uint_arg', 'long_arg'] as const satisfies readonly (keyof TetragonKprobeArg)[];

/**
 * The byte count of a policy that exports the size as an integer type: the first element
 * after the first (the socket for tcp functions, the fd for read/write) holding an
 * integer-typed argument. Undefined when there is none.
 */
function integerArgAfterFirst(args: readonly unknown[]): { index: number; key: string; value: unknown } | undefined {
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (!isRecord(a)) continue;
    for (const key of INTEGER_ARG_KEYS) if (key in a) return { index: i, key, value: a[key] };
  }
  return undefined;
}

export function decodeText(text: string, out: KernelEvent): DecodeStatus {
  if (textNestsDeeperThan(text)) {
    out.reset();
    return reject(out, 'too_deep', '');
  }
  return parseAndDecode(text, out);
}

function parseAndDecode(text: string, out: KernelEvent): DecodeStatus {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    out.reset();
    return reject(out, 'invalid_json', '');
  }
  return decodeParsed(parsed, out);
}

export class ReferenceDecoder implements LineDecoder {
  /** It is the fallback: nothing falls back from it. */
  readonly fallbacks = 0;

  decode(buf: Buffer, start: number, end: number, out: KernelEvent): DecodeStatus {
    // Before the text is even built: a runaway line costs no string copy either.
    if (bytesNestDeeperThan(buf, start, end)) {
      out.reset();
      return reject(out, 'too_deep', '');
    }
    return parseAndDecode(buf.toString('utf8', start, end), out);
  }
}
