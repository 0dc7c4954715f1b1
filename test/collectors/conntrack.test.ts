import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WindowAggregator } from '../../src/aggregate/window-aggregator.ts';
import { ConntrackCollector } from '../../src/collectors/conntrack/conntrack-collector.ts';
import { parseConntrackLine, parseConntrackTable, requireAccounting } from '../../src/collectors/conntrack/conntrack-table.ts';
import { FlowDeltaTracker } from '../../src/collectors/conntrack/flow-deltas.ts';
import { MetadataIndex } from '../../src/enrich/metadata/metadata-index.ts';
import { projectNode, projectPod, projectService } from '../../src/enrich/metadata/projection.ts';
import { Resolver } from '../../src/enrich/resolver.ts';
import { ConntrackServiceNat } from '../../src/collectors/conntrack/service-nat.ts';

// Captured from a real node namespace (kernel 6.18, nf_conntrack_acct=1).
const TIME_WAIT =
  'ipv4     2 tcp      6 119 TIME_WAIT src=10.251.1.2 dst=10.251.2.2 sport=56580 dport=8080 packets=11 bytes=100580 src=10.251.2.2 dst=10.251.1.2 sport=8080 dport=56580 packets=8 bytes=5424 [ASSURED] mark=0 zone=0 use=2';
const UDP_UNREPLIED =
  'ipv4     2 udp      17 29 src=10.251.1.2 dst=10.96.0.10 sport=40000 dport=53 packets=1 bytes=60 [UNREPLIED] src=10.251.2.2 dst=10.251.1.2 sport=53 dport=40000 packets=0 bytes=0 mark=0 zone=0 use=2';
const NO_ACCT =
  'ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 [ASSURED] mark=0 use=1';
const IPV6 =
  'ipv6     10 tcp      6 300 ESTABLISHED src=fd00:0000:0000:0000:0000:0000:0000:0002 dst=fd00:0000:0000:0000:0000:0000:0000:0003 sport=5000 dport=80 packets=3 bytes=300 src=fd00:0000:0000:0000:0000:0000:0000:0003 dst=fd00:0000:0000:0000:0000:0000:0000:0002 sport=80 dport=5000 packets=2 bytes=200 [ASSURED] mark=0 zone=0 use=2';

describe('parseConntrackLine', () => {
  it('reads both directions, state, port and zone of a real TIME_WAIT entry', () => {
    expect(parseConntrackLine(TIME_WAIT)).toEqual({
      key: 'tcp 10.251.1.2 56580 10.251.2.2 8080 0',
      protocol: 'tcp',
      state: 'TIME_WAIT',
      originSrc: '10.251.1.2',
      originDst: '10.251.2.2',
      originSport: 56580,
      originDport: 8080,
      replySrc: '10.251.2.2',
      originPackets: 11,
      originBytes: 100580,
      replyPackets: 8,
      replyBytes: 5424,
      zone: '0',
    });
  });

  it('takes the reply source after NAT (Service ClusterIP → pod) and has no state for UDP', () => {
    const f = parseConntrackLine(UDP_UNREPLIED)!;
    expect(f.state).toBeUndefined();
    expect(f.originDst).toBe('10.96.0.10');
    expect(f.replySrc).toBe('10.251.2.2');
    expect(f.originDport).toBe(53);
  });

  it('leaves counters undefined without accounting and normalises IPv6', () => {
    expect(parseConntrackLine(NO_ACCT)!.originBytes).toBeUndefined();
    const v6 = parseConntrackLine(IPV6)!;
    expect(v6.originSrc).toBe('fd00::2');
    expect(v6.replySrc).toBe('fd00::3');
  });

  it('skips blank and malformed lines', () => {
    expect(parseConntrackTable(`\n${TIME_WAIT}\ngarbage\nipv4 2 tcp 6 1 ESTABLISHED src=1.1.1.1\n`)).toHaveLength(1);
  });
});

function flowLine(sport: number, state: string, ob: number, op: number, rb: number, rp: number): string {
  return `ipv4     2 tcp      6 100 ${state} src=10.1.0.5 dst=10.1.0.6 sport=${sport} dport=80 packets=${op} bytes=${ob} src=10.1.0.6 dst=10.1.0.5 sport=80 dport=${sport} packets=${rp} bytes=${rb} [ASSURED] mark=0 zone=0 use=2`;
}

describe('FlowDeltaTracker', () => {
  it('baselines the first scan, then counts growth, new flows, resets and vanished flows', () => {
    const t = new FlowDeltaTracker();
    expect(t.scan(parseConntrackTable(flowLine(1, 'ESTABLISHED', 1000, 10, 500, 5)))).toEqual([]);
    const second = t.scan(
      parseConntrackTable([flowLine(1, 'ESTABLISHED', 1500, 14, 700, 7), flowLine(2, 'SYN_SENT', 60, 1, 0, 0)].join('\n')),
    );
    expect(second.map((d) => [d.flow.key, d.bytesSent, d.bytesReceived, d.packetsSent, d.packetsReceived, d.newFlow])).toEqual([
      ['tcp 10.1.0.5 1 10.1.0.6 80 0', 500, 200, 4, 2, 0],
      ['tcp 10.1.0.5 2 10.1.0.6 80 0', 60, 0, 1, 0, 1],
    ]);
    // Flow 1 ends (TIME_WAIT keeps its final counters), flow 2 vanishes.
    const third = t.scan(parseConntrackTable(flowLine(1, 'TIME_WAIT', 1600, 16, 760, 9)));
    expect(third.map((d) => [d.bytesSent, d.bytesReceived, d.newFlow])).toEqual([[100, 60, 0]]);
    expect(t.vanished).toBe(1);
    // Unchanged: nothing to report.
    expect(t.scan(parseConntrackTable(flowLine(1, 'TIME_WAIT', 1600, 16, 760, 9)))).toEqual([]);
    // The tuple is reused by a new connection whose counters already exceed the old ones.
    const reused = t.scan(parseConntrackTable(flowLine(1, 'ESTABLISHED', 2000, 20, 100, 2)));
    expect(reused.map((d) => [d.bytesSent, d.bytesReceived, d.newFlow])).toEqual([[2000, 100, 1]]);
    // Counters lower than before: a reset.
    const reset = t.scan(parseConntrackTable(flowLine(1, 'ESTABLISHED', 300, 3, 50, 1)));
    expect(reset.map((d) => [d.bytesSent, d.bytesReceived, d.newFlow])).toEqual([[300, 50, 1]]);
    expect(t.resets).toBe(2);
  });
});

describe('ConntrackCollector', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function procRoot(acct: string, table: string): string {
    const root = mkdtempSync(join(tmpdir(), 'kovenant-ct-'));
    dirs.push(root);
    mkdirSync(join(root, 'net'), { recursive: true });
    mkdirSync(join(root, 'sys/net/netfilter'), { recursive: true });
    writeFileSync(join(root, 'sys/net/netfilter/nf_conntrack_acct'), `${acct}\n`);
    writeFileSync(join(root, 'net/nf_conntrack'), table);
    return root;
  }

  function store(): MetadataIndex {
    const idx = new MetadataIndex();
    const pod = (name: string, ip: string) =>
      projectPod({
        kind: 'Pod',
        metadata: { name, namespace: 'shop', uid: `uid-${name}` },
        spec: { nodeName: 'n1' },
        status: { phase: 'Running', podIP: ip },
      });
    idx.upsertPod(pod('web', '10.1.0.5'));
    idx.upsertPod(pod('db', '10.1.0.6'));
    idx.upsertService(
      projectService({
        kind: 'Service',
        metadata: { name: 'dns', namespace: 'kube-system', uid: 's1' },
        spec: { clusterIP: '10.96.0.10' },
      }),
    );
    idx.upsertNode(
      projectNode({
        kind: 'Node',
        metadata: { name: 'n1', uid: 'n1' },
        status: { addresses: [{ type: 'InternalIP', address: '192.168.0.1' }] },
      }),
    );
    return idx;
  }

  it('refuses clearly when accounting is off', async () => {
    await expect(requireAccounting(procRoot('0', ''))).rejects.toThrow(/accounting is off/);
    const c = new ConntrackCollector({
      procRoot: procRoot('0', ''),
      intervalMs: 1000,
      nodeName: 'n1',
      resolver: new Resolver(store()),
      keepNode: false,
    });
    await expect(c.collect(0, new WindowAggregator({ windowMs: 1000, latenessMs: 0 }))).rejects.toMatchObject({
      hint: expect.stringMatching(/sysctl -w net.netfilter.nf_conntrack_acct=1/),
    });
  });

  it('attributes origin → reply, swaps inbound external flows, skips node flows', async () => {
    const root = procRoot('1', '');
    const table = join(root, 'net/nf_conntrack');
    const c = new ConntrackCollector({
      procRoot: root,
      intervalMs: 1000,
      nodeName: 'n1',
      resolver: new Resolver(store()),
      keepNode: false,
    });
    const agg = new WindowAggregator({ windowMs: 10_000, latenessMs: 0 });
    await c.collect(1000, agg);
    writeFileSync(
      table,
      [
        flowLine(1, 'ESTABLISHED', 1000, 10, 500, 5),
        // Inbound from outside: origin 203.0.113.9 → pod web.
        'ipv4 2 tcp 6 100 ESTABLISHED src=203.0.113.9 dst=10.1.0.5 sport=999 dport=443 packets=2 bytes=120 src=10.1.0.5 dst=203.0.113.9 sport=443 dport=999 packets=3 bytes=3000 [ASSURED] mark=0 zone=0 use=2',
        // Kubelet probe from the node address: skipped.
        'ipv4 2 tcp 6 100 ESTABLISHED src=192.168.0.1 dst=10.1.0.5 sport=777 dport=8080 packets=2 bytes=120 src=10.1.0.5 dst=192.168.0.1 sport=8080 dport=777 packets=2 bytes=140 [ASSURED] mark=0 zone=0 use=2',
      ].join('\n'),
    );
    await c.collect(2000, agg);
    const points = agg.closeAll().map((p) => ({ tags: p.tags, ints: p.ints, timeMs: p.timeMs }));
    expect(points).toEqual([
      {
        tags: {
          node: 'n1',
          namespace: 'shop',
          pod: 'web',
          workload: 'web',
          workload_kind: 'Pod',
          remote_kind: 'external',
          remote_name: '203.0.113.9',
          protocol: 'tcp',
          remote_port: '443',
          path: 'internet',
        },
        ints: { bytes_sent: 3000, bytes_received: 120, packets_sent: 3, packets_received: 2, flows: 1 },
        timeMs: 0,
      },
      {
        tags: {
          node: 'n1',
          namespace: 'shop',
          pod: 'web',
          workload: 'web',
          workload_kind: 'Pod',
          remote_kind: 'pod',
          remote_namespace: 'shop',
          remote_name: 'db',
          remote_workload: 'db',
          protocol: 'tcp',
          remote_port: '80',
          path: 'same-node',
        },
        ints: { bytes_sent: 1000, bytes_received: 500, packets_sent: 10, packets_received: 5, flows: 1 },
        timeMs: 0,
      },
    ]);
    expect(c.stats().skippedNodeFlows).toBe(1);
  });

  it('zones, path and Service NAT: the same resolver rules as the events, and the NAT table for their join', async () => {
    const idx = new MetadataIndex();
    const zoned = (name: string, ip: string, zone: string) =>
      projectNode({
        kind: 'Node',
        metadata: { name, uid: name, labels: { 'topology.kubernetes.io/zone': zone, 'topology.kubernetes.io/region': 'r1' } },
        status: { addresses: [{ type: 'InternalIP', address: ip }] },
      });
    idx.upsertNode(zoned('n1', '192.168.0.1', 'z1'));
    idx.upsertNode(zoned('n2', '192.168.0.2', 'z2'));
    idx.upsertPod(
      projectPod({
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'shop', uid: 'uid-web' },
        spec: { nodeName: 'n1' },
        status: { phase: 'Running', podIP: '10.1.0.5' },
      }),
    );
    idx.upsertPod(
      projectPod({
        kind: 'Pod',
        metadata: { name: 'db', namespace: 'shop', uid: 'uid-db' },
        spec: { nodeName: 'n2' },
        status: { phase: 'Running', podIP: '10.1.0.6' },
      }),
    );
    idx.upsertService(
      projectService({ kind: 'Service', metadata: { name: 'db', namespace: 'shop', uid: 's1' }, spec: { clusterIP: '10.96.0.20' } }),
    );
    const root = procRoot('1', '');
    const nat = new ConntrackServiceNat();
    const c = new ConntrackCollector({
      procRoot: root,
      intervalMs: 1000,
      nodeName: 'n1',
      resolver: new Resolver(idx),
      keepNode: false,
      serviceNat: nat,
    });
    const agg = new WindowAggregator({ windowMs: 10_000, latenessMs: 0 });
    await c.collect(1000, agg);
    writeFileSync(
      join(root, 'net/nf_conntrack'),
      'ipv4 2 tcp 6 100 ESTABLISHED src=10.1.0.5 dst=10.96.0.20 sport=41000 dport=5432 packets=2 bytes=120 src=10.1.0.6 dst=10.1.0.5 sport=5432 dport=41000 packets=3 bytes=3000 [ASSURED] mark=0 zone=0 use=2\n',
    );
    await c.collect(2000, agg);
    expect(nat.backendOf('10.1.0.5', 41000, '10.96.0.20', 5432)).toBe('10.1.0.6');
    expect(nat.backendOf('10.1.0.5', 41001, '10.96.0.20', 5432)).toBeUndefined();
    expect(agg.closeAll().map((p) => p.tags)).toEqual([
      {
        node: 'n1',
        zone: 'z1',
        region: 'r1',
        namespace: 'shop',
        pod: 'web',
        workload: 'web',
        workload_kind: 'Pod',
        remote_kind: 'pod',
        remote_namespace: 'shop',
        remote_name: 'db',
        remote_workload: 'db',
        remote_zone: 'z2',
        remote_region: 'r1',
        remote_service: 'db',
        protocol: 'tcp',
        path: 'cross-zone',
        remote_port: '5432',
      },
    ]);
  });
});
