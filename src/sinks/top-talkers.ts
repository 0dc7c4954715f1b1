/** Top talkers (pod → remote, bytes) from kovenant_tcp points, as a plain-text table. */
import type { MetricPoint } from '../core/metric-point.ts';

export interface TalkerRow {
  local: string;
  remote: string;
  remoteKind: string;
  bytesSent: number;
  bytesReceived: number;
}

/** `namespace/pod`, or `host:<node>` for processes outside pods. */
export function localName(tags: Readonly<Record<string, string>>): string {
  if (tags.pod) return `${tags.namespace ?? ''}/${tags.pod}`;
  return `host:${tags.node ?? '?'}`;
}

/** `namespace/name` for pods and Services, `dns-name (IP)` for named external peers, the node name or IP otherwise. */
export function remoteName(tags: Readonly<Record<string, string>>): string {
  if (tags.remote_kind === 'loopback') return 'loopback';
  if (tags.remote_dns) return `${tags.remote_dns} (${tags.remote_name ?? '?'})`;
  return tags.remote_namespace ? `${tags.remote_namespace}/${tags.remote_name ?? ''}` : (tags.remote_name ?? '?');
}

/** Sums over windows: one row per local → remote pair. */
export class TopTalkers {
  private readonly rows = new Map<string, TalkerRow>();

  add(points: readonly MetricPoint[]): void {
    for (const p of points) {
      if (p.measurement !== 'kovenant_tcp') continue;
      const local = localName(p.tags);
      const remote = remoteName(p.tags);
      const key = `${local}\u0000${remote}\u0000${p.tags.remote_kind ?? ''}`;
      let row = this.rows.get(key);
      if (!row) {
        row = { local, remote, remoteKind: p.tags.remote_kind ?? '', bytesSent: 0, bytesReceived: 0 };
        this.rows.set(key, row);
      }
      row.bytesSent += p.ints.bytes_sent ?? 0;
      row.bytesReceived += p.ints.bytes_received ?? 0;
    }
  }

  top(n: number): TalkerRow[] {
    return [...this.rows.values()]
      .sort((a, b) => b.bytesSent + b.bytesReceived - (a.bytesSent + a.bytesReceived) || (a.local < b.local ? -1 : 1))
      .slice(0, n);
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [fmt(headers), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n') + '\n';
}

export function formatTopTalkers(rows: readonly TalkerRow[]): string {
  return formatTable(
    ['LOCAL', 'REMOTE', 'KIND', 'SENT', 'RECEIVED', 'TOTAL'],
    rows.map((r) => [
      r.local,
      r.remote,
      r.remoteKind,
      formatBytes(r.bytesSent),
      formatBytes(r.bytesReceived),
      formatBytes(r.bytesSent + r.bytesReceived),
    ]),
    new Set([3, 4, 5]),
  );
}
