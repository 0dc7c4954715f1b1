/**
 * Event streams that stress memory, generated on the fly (hundreds of MB never touch the
 * disk): shared by the memory tests and `npm run bench`.
 */
import { Readable } from 'node:stream';

export interface DistinctPeersSpec {
  events: number;
  pods: number;
  /** New external addresses per window: each event talks to an address never seen before. */
  newPerWindow: number;
  windowMs: number;
  /** Event time of the first event (ms since the epoch). */
  startMs?: number;
  node?: string;
}

const DEFAULT_START_MS = Date.UTC(2024, 4, 1, 12, 0, 0);

/** The i-th distinct external address, in 100.64.0.0/10 and beyond (never loopback or private). */
export function externalIp(i: number): string {
  const n = 0x64400000 + i;
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000000Z');
}

/** One tcp_sendmsg export line in Tetragon's shape (as tetragon-lines.ts prints it), built from a template. */
function sendLine(node: string, timeMs: number, pod: number, daddr: string, size: number): string {
  return (
    `{"process_kprobe":{"process":{"exec_id":"ZXhlYw==","pid":42,"uid":0,"binary":"/bin/app","flags":"execve","pod":{"container":{"id":"containerd://abc","name":"app"},` +
    `"namespace":"load","name":"pod-${pod}","workload":"wl-${pod % 50}","workload_kind":"Deployment"}},"parent":{"exec_id":"cGFyZW50","pid":41,"binary":"/bin/sh"},` +
    `"function_name":"tcp_sendmsg","args":[{"sock_arg":{"family":"AF_INET","type":"SOCK_STREAM","protocol":"IPPROTO_TCP","saddr":"10.1.${(pod >> 8) & 255}.${pod & 255}","sport":40000,` +
    `"daddr":"${daddr}","dport":443}},{"size_arg":"${size}"}],"action":"KPROBE_ACTION_POST"},"node_name":"${node}","time":"${rfc3339(timeMs)}"}`
  );
}

/** Size of the i-th event: varied, so that peers rank differently. */
export function eventSize(i: number): number {
  return 1 + ((i * 7919) % 1000);
}

/**
 * Events from `pods` pods, each to a new external address, `newPerWindow` per window:
 * what a crawler or a scan from a cluster looks like. Chunks of about 1 MB.
 */
export function* distinctPeerChunks(spec: DistinctPeersSpec): Generator<string> {
  const start = spec.startMs ?? DEFAULT_START_MS;
  const node = spec.node ?? 'n1';
  const spacing = spec.windowMs / spec.newPerWindow;
  let buf = '';
  for (let i = 0; i < spec.events; i++) {
    const w = Math.floor(i / spec.newPerWindow);
    const t = start + w * spec.windowMs + Math.floor((i % spec.newPerWindow) * spacing);
    buf += sendLine(node, t, i % spec.pods, externalIp(i), eventSize(i)) + '\n';
    if (buf.length >= 1 << 20) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

/** The sums these events must add up to, whatever is folded or evicted. */
export function distinctPeerTotals(spec: DistinctPeersSpec): { bytes_sent: number; sends: number } {
  let bytes = 0;
  for (let i = 0; i < spec.events; i++) bytes += eventSize(i);
  return { bytes_sent: bytes, sends: spec.events };
}

/** One window's burst: `events` events from `pods` pods to `peers` addresses, all at one time. */
export function* burstChunks(spec: { events: number; pods: number; peers: number; timeMs?: number; node?: string }): Generator<string> {
  const t = spec.timeMs ?? DEFAULT_START_MS;
  const node = spec.node ?? 'n1';
  let buf = '';
  for (let i = 0; i < spec.events; i++) {
    buf += sendLine(node, t + (i % 1000), i % spec.pods, externalIp(i % spec.peers), eventSize(i)) + '\n';
    if (buf.length >= 1 << 20) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

export function asReadable(chunks: Iterable<string>): Readable {
  return Readable.from(chunks, { objectMode: false });
}
