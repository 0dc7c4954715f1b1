/**
 * The bundled example end to end: totals checked against a naive oracle that reads the
 * events with JSON.parse and sums by operation (independent of the pipeline), and the
 * whole output against a committed golden file, so any change in attribution shows up
 * as a reviewable diff (regenerate with KOVENANT_UPDATE_GOLDEN=1 after checking it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_REPLAY, REPO, runCli } from '../support/cli.ts';
import { parseLineProtocol } from '../support/line-protocol.ts';

const GOLDEN = `${REPO}test/golden/example.lp.gz`;

interface Oracle {
  bytes_sent: number;
  bytes_received: number;
  sends: number;
  receives: number;
  connects: number;
  closes: number;
  bytes_read: number;
  bytes_written: number;
  reads: number;
  writes: number;
}

function oracle(): Oracle {
  const o: Oracle = {
    bytes_sent: 0,
    bytes_received: 0,
    sends: 0,
    receives: 0,
    connects: 0,
    closes: 0,
    bytes_read: 0,
    bytes_written: 0,
    reads: 0,
    writes: 0,
  };
  const text = gunzipSync(readFileSync(`${REPO}examples/events.jsonl.gz`)).toString('utf8');
  for (const line of text.split('\n')) {
    if (!line) continue;
    const ev = JSON.parse(line) as {
      process_kprobe?: { function_name: string; args: Array<{ size_arg?: string }>; return?: { int_arg: number } };
    };
    const k = ev.process_kprobe;
    if (!k) continue;
    const size = k.args.find((a) => a.size_arg !== undefined)?.size_arg;
    const bytes = k.return ? Math.max(0, k.return.int_arg) : Number(size);
    const fn = k.function_name;
    if (fn === 'tcp_sendmsg') {
      o.bytes_sent += bytes;
      o.sends++;
    } else if (fn === 'tcp_recvmsg') {
      o.bytes_received += bytes;
      o.receives++;
    } else if (fn === 'tcp_connect') o.connects++;
    else if (fn === 'tcp_close') o.closes++;
    else if (fn.endsWith('_sys_read')) {
      o.bytes_read += bytes;
      o.reads++;
    } else if (fn.endsWith('_sys_write')) {
      o.bytes_written += bytes;
      o.writes++;
    }
  }
  return o;
}

describe('the bundled example', () => {
  it('adds up to what a naive reading of the events adds up to, and matches the golden output', async () => {
    const r = await runCli([...EXAMPLE_REPLAY]);
    expect(r.code, r.stderr).toBe(0);
    const sums: Record<string, number> = {};
    for (const p of parseLineProtocol(r.stdout)) for (const [k, v] of Object.entries(p.fields)) sums[k] = (sums[k] ?? 0) + v;
    expect(sums).toEqual(oracle());
    if (process.env.KOVENANT_UPDATE_GOLDEN) writeFileSync(GOLDEN, gzipSync(r.stdout, { level: 9 }));
    expect(r.stdout).toBe(gunzipSync(readFileSync(GOLDEN)).toString('utf8'));
  });

  it.each(['1', '2'])('gives the same bytes decoded by --decode-threads %s', async (threads) => {
    const r = await runCli([...EXAMPLE_REPLAY, '--decode-threads', threads]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(gunzipSync(readFileSync(GOLDEN)).toString('utf8'));
  });
  it('gives exact byte totals per local pod and path, and per (zone, remote_zone), over its zoned nodes', async () => {
    // Node-c has only the deprecated failure-domain.beta labels: the fallback is part of it.
    const r = await runCli([...EXAMPLE_REPLAY]);
    expect(r.code, r.stderr).toBe(0);
    const got = { byPodPath: new Map<string, number>(), byZones: new Map<string, number>() };
    for (const { measurement, tags, fields } of parseLineProtocol(r.stdout)) {
      if (measurement !== 'kovenant_tcp') continue;
      const bytes = fields.bytes_sent! + fields.bytes_received!;
      add(got.byPodPath, `${tags.pod ?? `host:${tags.node}`} ${tags.path}`, bytes);
      add(got.byZones, `${tags.zone ?? '-'} ${tags.remote_zone ?? '-'}`, bytes);
    }
    const want = topologyOracle();
    expect(Object.fromEntries(got.byPodPath)).toEqual(Object.fromEntries(want.byPodPath));
    expect(Object.fromEntries(got.byZones)).toEqual(Object.fromEntries(want.byZones));
    // The example exercises every path its three nodes can have (two zones of one region,
    // and a node in another region: no two nodes share a zone).
    expect(new Set([...want.byPodPath.keys()].map((k) => k.split(' ')[1]))).toEqual(
      new Set(['loopback', 'same-node', 'cross-zone', 'cross-region', 'service', 'internet']),
    );
  });
});

function add(m: Map<string, number>, key: string, n: number): void {
  m.set(key, (m.get(key) ?? 0) + n);
}

interface SnapshotItem {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: { nodeName?: string; hostNetwork?: boolean; clusterIP?: string };
  status?: { phase?: string; podIP?: string; addresses?: Array<{ type: string; address: string }> };
}

/**
 * The example's topology computed from the snapshot and the events alone, with the rules
 * of the data contract written out for this small cluster (every node labelled, IPv4 pods).
 */
function topologyOracle(): { byPodPath: Map<string, number>; byZones: Map<string, number> } {
  const items = (JSON.parse(readFileSync(`${REPO}examples/snapshot.json`, 'utf8')) as { items: SnapshotItem[] }).items;
  const zoneOf = new Map<string, string>();
  const regionOf = new Map<string, string>();
  const nodeByIp = new Map<string, string>();
  for (const n of items.filter((i) => i.kind === 'Node')) {
    const l = n.metadata.labels ?? {};
    zoneOf.set(n.metadata.name, l['topology.kubernetes.io/zone'] ?? l['failure-domain.beta.kubernetes.io/zone']!);
    regionOf.set(n.metadata.name, l['topology.kubernetes.io/region'] ?? l['failure-domain.beta.kubernetes.io/region']!);
    for (const a of n.status?.addresses ?? []) if (a.type === 'InternalIP') nodeByIp.set(a.address, n.metadata.name);
  }
  const podByIp = new Map<string, SnapshotItem>();
  for (const p of items.filter((i) => i.kind === 'Pod' && !i.spec?.hostNetwork)) {
    const ip = p.status!.podIP!;
    const held = podByIp.get(ip);
    if (!held || (held.status?.phase !== 'Running' && p.status?.phase === 'Running')) podByIp.set(ip, p);
  }
  const serviceIps = new Set(items.filter((i) => i.kind === 'Service').map((s) => s.spec!.clusterIP!));
  const byPodPath = new Map<string, number>();
  const byZones = new Map<string, number>();
  const text = gunzipSync(readFileSync(`${REPO}examples/events.jsonl.gz`)).toString('utf8');
  for (const line of text.split('\n')) {
    if (!line) continue;
    const ev = JSON.parse(line) as {
      node_name: string;
      process_kprobe?: {
        function_name: string;
        process: { pod?: { name: string } };
        args: Array<{ size_arg?: string; sock_arg?: { daddr: string } }>;
        return?: { int_arg: number };
      };
    };
    const k = ev.process_kprobe;
    if (!k || (k.function_name !== 'tcp_sendmsg' && k.function_name !== 'tcp_recvmsg')) continue;
    const size = k.args.find((a) => a.size_arg !== undefined)?.size_arg;
    const bytes = k.return ? Math.max(0, k.return.int_arg) : Number(size);
    const local = k.process.pod?.name ?? `host:${ev.node_name}`;
    const ip = k.args[0]!.sock_arg!.daddr.replace(/^::ffff:/, '');
    const remotePod = podByIp.get(ip);
    const remoteNode = remotePod ? remotePod.spec!.nodeName! : nodeByIp.get(ip);
    let path: string;
    if (ip.startsWith('127.')) path = 'loopback';
    else if (remoteNode !== undefined) {
      if (remoteNode === ev.node_name) path = 'same-node';
      else if (regionOf.get(remoteNode) !== regionOf.get(ev.node_name)) path = 'cross-region';
      else path = zoneOf.get(remoteNode) === zoneOf.get(ev.node_name) ? 'same-zone' : 'cross-zone';
    } else if (serviceIps.has(ip)) path = 'service';
    else path = 'internet'; // the example's external peers are documentation (public) ranges
    add(byPodPath, `${local} ${path}`, bytes);
    add(byZones, `${zoneOf.get(ev.node_name)} ${remoteNode !== undefined ? zoneOf.get(remoteNode) : '-'}`, bytes);
  }
  return { byPodPath, byZones };
}
