/**
 * Cardinality guard for external peers: every external address a pod talks to is a
 * `remote_name`, hence its own series in InfluxDB, and a crawler or a scan makes that
 * unbounded. Per window, node and measurement, the `max` external peers with the most bytes
 * (bytes_sent + bytes_received over all of that window's points naming the peer) keep
 * their name; every other external point is re-tagged `remote_name=other`, and points
 * that then share a series are merged by adding their fields. Sums over any tag but
 * `remote_name` are unchanged; only the detail of the small peers goes.
 *
 * Ties in bytes go to the smaller address (string order), so the choice is a function
 * of the window's points alone: a restarted daemon that rewrites a window chooses the
 * same peers.
 *
 * A peer is its DNS name when it has one (`remote_dns`, from --dnstap-listen), else its
 * address: the 500 addresses S3 answers under one name take one place among the `max`,
 * and are kept or folded together. Folded points lose `remote_dns` too, so `other` is
 * one series however many names went into it.
 *
 * The aggregator folds with the same rule while a window is open (window-aggregator.ts,
 * `maxExternalPeers`), so that memory is bounded too; this pass then makes the bound
 * exact and merges its folds into the `other` series the aggregator already made.
 */
import type { MetricPoint } from '../core/metric-point.ts';
import { seriesKey } from '../core/series.ts';

const GUARDED_MEASUREMENTS: ReadonlySet<string> = new Set(['kovenant_tcp', 'kovenant_conntrack']);
export const FOLDED_PEER_NAME = 'other';
/** The fields whose sum ranks a peer: its bytes both ways. */
export const PEER_RANK_FIELDS: readonly string[] = ['bytes_sent', 'bytes_received'];

export interface PeerGuardResult {
  points: MetricPoint[];
  /** Distinct (window, node, measurement, peer) folded into `other`. */
  foldedPeers: number;
}

/**
 * Peers are ranked per window, node and measurement: a node's window always closes in
 * one batch, while one window of several nodes (k8s-logs, stdin) may close in several.
 * Ranking across a batch would let a rewritten window fold other peers than the first
 * write did, leaving both series in InfluxDB.
 */
function groupOf(p: MetricPoint): string {
  return `${p.timeMs}\u0000${p.tags.node ?? ''}\u0000${p.measurement}`;
}

/**
 * The external peer a series of `measurement` names, or undefined when the guard leaves
 * it alone (not external, not a guarded measurement, or already `other`). The one rule
 * of which tag identifies a peer, shared by this batch guard and the aggregator's fold.
 */
export function guardedPeerOf(measurement: string, tags: Readonly<Record<string, string>>): string | undefined {
  if (tags.remote_kind !== 'external' || !GUARDED_MEASUREMENTS.has(measurement)) return undefined;
  const name = tags.remote_name;
  if (name === FOLDED_PEER_NAME) return undefined;
  // What the guard counts: the DNS name when known, else the address.
  const dns = tags.remote_dns;
  return dns === undefined ? name : `dns:${dns}`;
}

/**
 * The tags of the `other` series a peer's series folds into: the same tags but the
 * peer's, `remote_dns` included, so `other` is one series however many names it holds.
 */
export function foldedTags(tags: Readonly<Record<string, string>>): Record<string, string> {
  const { remote_dns: _name, ...rest } = tags;
  return { ...rest, remote_name: FOLDED_PEER_NAME };
}

function isGuarded(p: MetricPoint): boolean {
  return guardedPeerOf(p.measurement, p.tags) !== undefined;
}

/** An `other` point already folded while aggregating: merged with what this guard folds. */
function isFolded(p: MetricPoint): boolean {
  return p.tags.remote_kind === 'external' && p.tags.remote_name === FOLDED_PEER_NAME && GUARDED_MEASUREMENTS.has(p.measurement);
}

function pointBytes(p: MetricPoint): number {
  let bytes = 0;
  for (const f of PEER_RANK_FIELDS) bytes += p.ints[f] ?? 0;
  return bytes;
}

/** Returns `points` itself when nothing is folded (the common case costs one pass). */
export function guardExternalPeers(points: MetricPoint[], max: number): PeerGuardResult {
  if (max <= 0) return { points, foldedPeers: 0 };
  // (window, node, measurement) → peer → bytes
  const groups = new Map<string, Map<string, number>>();
  for (const p of points) {
    if (!isGuarded(p)) continue;
    const group = groupOf(p);
    let peers = groups.get(group);
    if (!peers) groups.set(group, (peers = new Map()));
    const name = guardedPeerOf(p.measurement, p.tags)!;
    peers.set(name, (peers.get(name) ?? 0) + pointBytes(p));
  }
  const foldedByGroup = new Map<string, Set<string>>();
  let foldedPeers = 0;
  for (const [group, peers] of groups) {
    if (peers.size <= max) continue;
    const ranked = [...peers].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const folded = new Set(ranked.slice(max).map(([name]) => name));
    foldedByGroup.set(group, folded);
    foldedPeers += folded.size;
  }
  if (foldedPeers === 0) return { points, foldedPeers: 0 };

  const out: MetricPoint[] = [];
  // Merged `other` points by window and series key, in the order they first appear.
  const merged = new Map<string, { ints: Record<string, number>; floats: Record<string, number>; point: MetricPoint }>();
  for (const p of points) {
    // `other` points of a group with folded peers merge with them: one point per series.
    const folded = isGuarded(p) || isFolded(p) ? foldedByGroup.get(groupOf(p)) : undefined;
    if (!folded || (!isFolded(p) && !folded.has(guardedPeerOf(p.measurement, p.tags)!))) {
      out.push(p);
      continue;
    }
    const tags = foldedTags(p.tags);
    const key = seriesKey(p.measurement, tags);
    const id = `${p.timeMs}\u0000${key}`;
    let into = merged.get(id);
    if (!into) {
      const ints: Record<string, number> = {};
      const floats: Record<string, number> = {};
      const point: MetricPoint = { measurement: p.measurement, tags, ints, timeMs: p.timeMs, key };
      into = { ints, floats, point };
      merged.set(id, into);
      out.push(point);
    }
    for (const [f, v] of Object.entries(p.ints)) into.ints[f] = (into.ints[f] ?? 0) + v;
    if (p.floats) {
      for (const [f, v] of Object.entries(p.floats)) into.floats[f] = (into.floats[f] ?? 0) + v;
      into.point.floats = into.floats;
    }
  }
  return { points: out, foldedPeers };
}
