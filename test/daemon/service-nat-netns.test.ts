/**
 * Real kernel: a client "pod" talks to a Service ClusterIP that a DNAT rule (standing in
 * for kube-proxy) sends to a backend "pod". `kovenant run --conntrack` in the node
 * namespace reads the NAT from the conntrack table, and tcp events carrying the client
 * socket's 4-tuple are attributed to the backend pod (remote_service), while an event
 * whose 4-tuple conntrack does not know keeps the Service attribution.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../support/cleanup.ts';
import { DAEMON_START_MS } from '../support/cli.ts';
import { addServiceDnat, canUseNetns, createNodeLab, type NodeLab } from '../support/netns.ts';
import { kprobeLine } from '../support/tetragon-lines.ts';
import { parseLineProtocol, ownedDaemon } from './support.ts';
import { waitFor } from '../support/wait.ts';

const SERVER = `require('net').createServer((s) => s.on('data', () => {})).listen(8080, () => console.log('listening'));`;
// Connects to the ClusterIP, prints its local port, and keeps the connection open.
const CLIENT = `
const s = require('net').connect(Number(process.argv[2]), process.argv[1], () => { console.log(s.localPort); s.write('hello'); });
s.on('error', (e) => { console.error(e.message); process.exit(1); });
// The client's own lifetime limit, should the test never end it.
setTimeout(() => process.exit(0), 120000);
`;

function snapshot(clientIp: string, backendIp: string, clusterIp: string): object {
  const zoned = (name: string, zone: string) => ({
    kind: 'Node',
    metadata: { name, uid: `node-${name}`, labels: { 'topology.kubernetes.io/zone': zone, 'topology.kubernetes.io/region': 'lab-1' } },
    status: { addresses: [{ type: 'InternalIP', address: name === 'n1' ? '192.0.2.1' : '192.0.2.2' }] },
  });
  return {
    kind: 'List',
    items: [
      zoned('n1', 'lab-1a'),
      zoned('n2', 'lab-1b'),
      {
        kind: 'Pod',
        metadata: { name: 'web-1', namespace: 'shop', uid: 'uid-web' },
        spec: { nodeName: 'n1' },
        status: { phase: 'Running', podIP: clientIp },
      },
      { kind: 'StatefulSet', metadata: { name: 'db', namespace: 'shop', uid: 'uid-db-sts' } },
      {
        kind: 'Pod',
        metadata: {
          name: 'db-0',
          namespace: 'shop',
          uid: 'uid-db-0',
          ownerReferences: [{ kind: 'StatefulSet', name: 'db', controller: true }],
        },
        spec: { nodeName: 'n2', containers: [{ name: 'db', ports: [{ containerPort: 8080 }] }] },
        status: { phase: 'Running', podIP: backendIp },
      },
      {
        kind: 'Service',
        metadata: { name: 'db', namespace: 'shop', uid: 'uid-svc-db' },
        spec: { clusterIP: clusterIp, ports: [{ port: 80, targetPort: 8080 }] },
      },
    ],
  };
}

function firstLine(child: ReturnType<NodeLab['spawnIn']>, what: string): Promise<string> {
  return new Promise<string>((res, rej) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) res(out.split('\n')[0]!.trim());
    });
    child.once('exit', (c) => rej(new Error(`${what} exited ${c}`)));
  });
}

const enabled = canUseNetns();

describe.skipIf(!enabled)('kovenant run: Service traffic resolved to its backend through conntrack', () => {
  const cleanup = cleanupAfterEach();

  it('joins the event 4-tuple to the NATed conntrack entry and attributes the bytes to the backend pod', async () => {
    const lab = cleanup.add(createNodeLab({ pods: 2 }), (l) => l.destroy());
    const [client, backend] = lab.pods;
    const clusterIp = client!.ip.replace(/\.\d+\.2$/, '.200.10');
    addServiceDnat(lab, clusterIp, 80, backend!.ip, 8080);
    const dir = cleanup.tempDir('kovenant-svc-nat-');
    const snap = join(dir, 'cluster.json');
    writeFileSync(snap, JSON.stringify(snapshot(client!.ip, backend!.ip, clusterIp)));

    await firstLine(lab.spawnIn(backend!.ns, [process.execPath, '-e', SERVER]), 'server');
    const localPort = Number(await firstLine(lab.spawnIn(client!.ns, [process.execPath, '-e', CLIENT, clusterIp, '80']), 'client'));
    expect(localPort).toBeGreaterThan(0);

    const daemon = ownedDaemon(
      cleanup,
      lab.inNs(lab.node, []),
      [
        'run',
        '--events',
        '-',
        '--conntrack',
        '--conntrack-interval',
        '200ms',
        '--kube',
        snap,
        '--window',
        '1s',
        '--lateness',
        '0s',
        '--output',
        'line',
        '--node-name',
        'n1',
        '--metrics-addr',
        'off',
      ],
      { KOVENANT_LOG_LEVEL: 'info' },
      'pipe',
    );
    await daemon.waitForLog('"msg":"running"', DAEMON_START_MS);

    // Rounds of events, one second of event time apart (so each closes the previous
    // window), until the daemon's conntrack scans have seen the NATed connection.
    const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
    const sock = (sport: number) => ({ saddr: client!.ip, sport, daddr: clusterIp, dport: 80 });
    const at = (k: number) => new Date(T0 + k * 1000 + 500).toISOString();
    const pod = { namespace: 'shop', name: 'web-1' };
    let round = 0;
    // A round a quarter second (waitFor's pace), each in its own window, until the
    // daemon's conntrack scans have the entry.
    await waitFor(
      'backend attribution',
      () => {
        if (daemon.stdout().includes('remote_service=db')) return true;
        daemon.child.stdin!.write(
          [
            kprobeLine({ fn: 'tcp_sendmsg', node: 'n1', time: at(round), pod, sock: sock(localPort), size: '100' }),
            // The same socket as conntrack prints it on an IPv6 socket: IPv4-mapped addresses.
            kprobeLine({
              fn: 'tcp_sendmsg',
              node: 'n1',
              time: at(round),
              pod,
              sock: { saddr: `::ffff:${client!.ip}`, sport: localPort, daddr: `::ffff:${clusterIp}`, dport: 80, family: 'AF_INET6' },
              size: '10',
            }),
            // A socket conntrack does not know (no such connection): stays the Service.
            kprobeLine({ fn: 'tcp_sendmsg', node: 'n1', time: at(round), pod, sock: sock(localPort === 1 ? 2 : 1), size: '7' }),
          ].join('\n') + '\n',
        );
        round++;
        return false;
      },
      30_000,
      250,
    ).catch(() => {
      throw new Error(`no backend attribution after ${round} rounds: ${daemon.stderr()}`);
    });
    daemon.child.stdin!.end();
    expect(await daemon.exited(30_000)).toBe(0);

    const tcp = parseLineProtocol(daemon.stdout()).filter((p) => p.measurement === 'kovenant_tcp');
    const backendPoints = tcp.filter((p) => p.tags.remote_service === 'db');
    expect(backendPoints.length).toBeGreaterThan(0);
    for (const p of backendPoints) {
      expect(p.tags).toEqual({
        node: 'n1',
        zone: 'lab-1a',
        region: 'lab-1',
        namespace: 'shop',
        pod: 'web-1',
        workload: 'web-1',
        workload_kind: 'Pod',
        remote_kind: 'pod',
        remote_namespace: 'shop',
        remote_name: 'db-0',
        remote_workload: 'db',
        remote_zone: 'lab-1b',
        remote_region: 'lab-1',
        remote_service: 'db',
        path: 'cross-zone',
        direction: 'client',
        remote_port: '80',
      });
      // Both spellings of the socket joined: 100 + 10 bytes per round.
      expect(p.fields.bytes_sent).toBe(110);
    }
    // Once conntrack knew the connection, every later round went to the backend.
    const firstBackend = Math.min(...backendPoints.map((p) => Number(p.timeNs / 1_000_000_000n)));
    const serviceRounds = tcp.filter((p) => p.tags.remote_kind === 'service');
    for (const p of serviceRounds) {
      expect(p.tags).toMatchObject({ remote_name: 'db', path: 'service' });
      const t = Number(p.timeNs / 1_000_000_000n);
      expect(p.fields.bytes_sent).toBe(t < firstBackend ? 117 : 7);
    }
    expect(serviceRounds.filter((p) => Number(p.timeNs / 1_000_000_000n) >= firstBackend)).toHaveLength(backendPoints.length);
  }, 120_000);
});
