/**
 * A decoded kernel event: the few facts of a Tetragon kprobe event that kovenant
 * attributes and aggregates. Decoders fill one reusable instance per call instead of
 * allocating, because the decode loop runs hundreds of thousands of times a second.
 */

/** tcp_connect, tcp_close, tcp_sendmsg, tcp_recvmsg, sys_read, sys_write. */
export type KernelOp = 'connect' | 'close' | 'send' | 'recv' | 'read' | 'write';

/** Why a line was rejected. Stable names: they appear in the summary and in metrics. */
export type RejectReason =
  /** The line is not a JSON object (garbage, truncated, an array, a number...). */
  | 'invalid_json'
  /** A tcp event without both addresses and both ports in `args[0].sock_arg`. */
  | 'missing_socket'
  /** The byte count is missing, is not a non-negative integer, or exceeds MAX_BYTE_COUNT. */
  | 'invalid_size'
  /** `time` is missing, is not an RFC 3339 timestamp, or is outside what InfluxDB stores. */
  | 'invalid_time'
  /** The daemon only: `time` is further ahead of the wall clock than `--max-clock-skew`. */
  | 'time_in_future'
  /** The line is longer than the reader accepts (a runaway or corrupt line). */
  | 'line_too_long'
  /** Arrays or objects nested deeper than any event (nesting-depth.ts), rejected before parsing. */
  | 'too_deep';

/**
 * The largest byte count accepted from one event. No read, write, sendmsg or recvmsg
 * moves more than MAX_RW_COUNT (INT_MAX rounded down to a page, just under 2 GiB) on
 * Linux, so a larger count is corrupt; bounding it keeps every window sum an exact
 * integer (2^32 × 2^20 events per series and window is still below 2^53).
 */
export const MAX_BYTE_COUNT = 2 ** 32;

export const REJECT_REASONS: readonly RejectReason[] = [
  'invalid_json',
  'missing_socket',
  'invalid_size',
  'invalid_time',
  'time_in_future',
  'line_too_long',
  'too_deep',
];

export const DecodeStatus = { Used: 0, Skipped: 1, Rejected: 2 } as const;
export type DecodeStatus = (typeof DecodeStatus)[keyof typeof DecodeStatus];

export class KernelEvent {
  op: KernelOp = 'read';
  /** Event time, epoch milliseconds (sub-millisecond digits are truncated). */
  timeMs = 0;
  /** `node_name`; undefined when the export omits it. */
  node: string | undefined = undefined;
  /** `cluster_name` (newer Tetragon); undefined when the export omits it. */
  cluster: string | undefined = undefined;
  /** The local process's pod (`process.pod`), undefined outside pods. */
  podNamespace: string | undefined = undefined;
  podName: string | undefined = undefined;
  /** What Tetragon says of the pod, used when the metadata store does not know it. */
  podWorkload: string | undefined = undefined;
  podWorkloadKind: string | undefined = undefined;
  podLabels: Readonly<Record<string, string>> | undefined = undefined;
  /** Remote end of the socket for tcp events (`daddr`/`dport`), as printed. */
  remoteAddress = '';
  remotePort = 0;
  /** Local end of the socket (`saddr`/`sport`). */
  localAddress = '';
  localPort = 0;
  /** `sock_arg.cookie`: the socket's kernel identity while it lives; undefined when absent. */
  cookie: string | undefined = undefined;
  /** Bytes moved by send/recv/read/write; 0 for connect and close. */
  bytes = 0;
  /** Set when the status is Skipped: the event type (`process_exec`, `process_kprobe:fn`). */
  skippedType = '';
  /** Set when the status is Rejected. */
  rejectReason: RejectReason = 'invalid_json';
  /** Set when the status is Rejected: the field at fault, for error messages. */
  rejectField = '';

  reset(): void {
    this.timeMs = 0;
    this.node = undefined;
    this.cluster = undefined;
    this.podNamespace = undefined;
    this.podName = undefined;
    this.podWorkload = undefined;
    this.podWorkloadKind = undefined;
    this.podLabels = undefined;
    this.remoteAddress = '';
    this.remotePort = 0;
    this.localAddress = '';
    this.localPort = 0;
    this.cookie = undefined;
    this.bytes = 0;
    this.skippedType = '';
    this.rejectField = '';
  }
}

/** Decodes one line (bytes `start` to `end` of `buf`, without the newline) into `out`. */
export interface LineDecoder {
  decode(buf: Buffer, start: number, end: number, out: KernelEvent): DecodeStatus;
}

/** kprobe function name → operation; syscall names for x86_64 and arm64. */
export const KPROBE_OPS: ReadonlyMap<string, KernelOp> = new Map<string, KernelOp>([
  ['tcp_connect', 'connect'],
  ['tcp_close', 'close'],
  ['tcp_sendmsg', 'send'],
  ['tcp_recvmsg', 'recv'],
  ['__x64_sys_read', 'read'],
  ['__x64_sys_write', 'write'],
  ['__arm64_sys_read', 'read'],
  ['__arm64_sys_write', 'write'],
]);

export function isTcpOp(op: KernelOp): boolean {
  return op === 'connect' || op === 'close' || op === 'send' || op === 'recv';
}
