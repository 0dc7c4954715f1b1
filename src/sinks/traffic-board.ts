/**
 * What `--output console` shows: totals since start of the busiest pods by network bytes,
 * the busiest remote peers, and the busiest pods by file/socket I/O — the view an operator
 * wants first, like `top`.
 */
import { TRAFFIC_PATHS } from '../enrich/resolver.ts';
import type { MetricPoint } from '../core/metric-point.ts';
import { formatBytes, formatTable, localName as podName, remoteName as peerName } from './top-talkers.ts';

interface PodTraffic {
  pod: string;
  workload: string;
  sent: number;
  received: number;
  connects: number;
}

interface PeerTraffic {
  peer: string;
  kind: string;
  sent: number;
  received: number;
}

interface PodIo {
  pod: string;
  read: number;
  written: number;
  ops: number;
}

function upsert<T>(map: Map<string, T>, key: string, make: () => T): T {
  let v = map.get(key);
  if (!v) {
    v = make();
    map.set(key, v);
  }
  return v;
}

export class TrafficBoard {
  private readonly pods = new Map<string, PodTraffic>();
  private readonly peers = new Map<string, PeerTraffic>();
  private readonly io = new Map<string, PodIo>();
  /** bytes_sent by `path`: each byte once, on its sender's side (see the README's cost section). */
  private readonly sentByPath = new Map<string, number>();
  private windows = new Set<number>();
  private firstMs = Infinity;
  private lastMs = -Infinity;

  add(points: readonly MetricPoint[]): void {
    for (const p of points) {
      this.windows.add(p.timeMs);
      this.firstMs = Math.min(this.firstMs, p.timeMs);
      this.lastMs = Math.max(this.lastMs, p.timeMs);
      if (p.measurement === 'kovenant_tcp') {
        const pod = podName(p.tags);
        const t = upsert(this.pods, pod, () => ({ pod, workload: p.tags.workload ?? '', sent: 0, received: 0, connects: 0 }));
        t.sent += p.ints.bytes_sent ?? 0;
        t.received += p.ints.bytes_received ?? 0;
        t.connects += p.ints.connects ?? 0;
        const peer = peerName(p.tags);
        const kind = p.tags.remote_kind ?? '';
        const r = upsert(this.peers, `${kind}\u0000${peer}`, () => ({ peer, kind, sent: 0, received: 0 }));
        r.sent += p.ints.bytes_sent ?? 0;
        r.received += p.ints.bytes_received ?? 0;
        const path = p.tags.path ?? 'unknown';
        this.sentByPath.set(path, (this.sentByPath.get(path) ?? 0) + (p.ints.bytes_sent ?? 0));
      } else if (p.measurement === 'kovenant_io') {
        const pod = podName(p.tags);
        const t = upsert(this.io, pod, () => ({ pod, read: 0, written: 0, ops: 0 }));
        t.read += p.ints.bytes_read ?? 0;
        t.written += p.ints.bytes_written ?? 0;
        t.ops += (p.ints.reads ?? 0) + (p.ints.writes ?? 0);
      }
    }
  }

  /** `sent by path: cross-zone 1.2 MiB · internet 3 KiB · ...`, in the contract's order of paths. */
  private pathLine(): string {
    const known = TRAFFIC_PATHS.filter((p) => this.sentByPath.has(p));
    const others = [...this.sentByPath.keys()].filter((p) => !(TRAFFIC_PATHS as readonly string[]).includes(p)).sort();
    const parts = [...known, ...others].map((p) => `${p} ${formatBytes(this.sentByPath.get(p)!)}`);
    return `sent by path: ${parts.length ? parts.join(' · ') : 'nothing yet'}`;
  }

  render(topN: number): string {
    const byTotal = <T extends { sent: number; received: number }>(rows: Iterable<T>, name: (r: T) => string): T[] =>
      [...rows].sort((a, b) => b.sent + b.received - (a.sent + a.received) || (name(a) < name(b) ? -1 : 1)).slice(0, topN);
    const span = this.windows.size
      ? `${this.windows.size} windows, ${new Date(this.firstMs).toISOString()} .. ${new Date(this.lastMs).toISOString()}`
      : 'no windows yet';
    const pods = byTotal(this.pods.values(), (r) => r.pod);
    const peers = byTotal(this.peers.values(), (r) => r.peer);
    const io = [...this.io.values()].sort((a, b) => b.read + b.written - (a.read + a.written) || (a.pod < b.pod ? -1 : 1)).slice(0, topN);
    return [
      `kovenant — ${span}`,
      this.pathLine(),
      '',
      'PODS BY NETWORK BYTES',
      formatTable(
        ['POD', 'WORKLOAD', 'SENT', 'RECEIVED', 'CONNECTS'],
        pods.map((r) => [r.pod, r.workload, formatBytes(r.sent), formatBytes(r.received), String(r.connects)]),
        new Set([2, 3, 4]),
      ),
      'TOP REMOTE PEERS',
      formatTable(
        ['PEER', 'KIND', 'SENT TO', 'RECEIVED FROM'],
        peers.map((r) => [r.peer, r.kind, formatBytes(r.sent), formatBytes(r.received)]),
        new Set([2, 3]),
      ),
      'PODS BY I/O',
      formatTable(
        ['POD', 'READ', 'WRITTEN', 'OPS'],
        io.map((r) => [r.pod, formatBytes(r.read), formatBytes(r.written), String(r.ops)]),
        new Set([1, 2, 3]),
      ),
    ].join('\n');
  }
}
