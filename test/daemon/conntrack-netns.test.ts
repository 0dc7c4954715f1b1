/**
 * Real kernel: two "pods" (network namespaces) talk TCP through a "node" namespace
 * with conntrack accounting; `kovenant run --events none --conntrack` runs inside the
 * node namespace and must attribute the bytes to the right pods.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../support/cleanup.ts';
import { DAEMON_START_MS } from '../support/cli.ts';
import { IP, canUseNetns, createNodeLab, type NodeLab } from '../support/netns.ts';
import { parseLineProtocol, ownedDaemon } from './support.ts';

const SERVER = `
const reply = Number(process.argv[1]);
require('net').createServer((s) => {
  s.on('data', () => {});
  s.on('end', () => s.end(Buffer.alloc(reply, 120)));
}).listen(8080, () => console.log('listening'));
`;
const CLIENT = `
const [host, send] = [process.argv[1], Number(process.argv[2])];
const s = require('net').connect(8080, host, () => s.end(Buffer.alloc(send, 97)));
let got = 0;
s.on('data', (d) => (got += d.length));
s.on('close', () => { console.log(got); process.exit(0); });
s.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

function snapshot(lab: NodeLab): object {
  const [web, db] = lab.pods;
  const meta = (name: string, extra: object = {}) => ({ name, namespace: 'shop', uid: `uid-${name}`, ...extra });
  return {
    kind: 'List',
    items: [
      {
        kind: 'Node',
        metadata: { name: 'n1', uid: 'node-n1' },
        status: { addresses: lab.nodeIps.map((address) => ({ type: 'InternalIP', address })) },
      },
      { kind: 'Deployment', metadata: meta('web', { annotations: { 'meta.helm.sh/release-name': 'shop' } }) },
      { kind: 'ReplicaSet', metadata: meta('web-7d9', { ownerReferences: [{ kind: 'Deployment', name: 'web', controller: true }] }) },
      {
        kind: 'Pod',
        metadata: meta('web-7d9-x1', { ownerReferences: [{ kind: 'ReplicaSet', name: 'web-7d9', controller: true }] }),
        spec: { nodeName: 'n1' },
        status: { phase: 'Running', podIP: web!.ip },
      },
      { kind: 'StatefulSet', metadata: meta('db') },
      {
        kind: 'Pod',
        metadata: meta('db-0', { ownerReferences: [{ kind: 'StatefulSet', name: 'db', controller: true }] }),
        spec: { nodeName: 'n1' },
        status: { phase: 'Running', podIP: db!.ip },
      },
    ],
  };
}

async function runNode(lab: NodeLab, ns: string, script: string, args: string[]): Promise<string> {
  const child = lab.spawnIn(ns, [process.execPath, '-e', script, ...args]);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((res) => child.once('exit', res));
  if (code !== 0) throw new Error(`${script.slice(0, 40)}… in ${ns} exited ${code}`);
  return out.trim();
}

/** TCP segments a namespace's stack sent again: its own counter (/proc/net/snmp is per namespace). */
function retransmittedSegments(ns: string): number {
  const rows = execFileSync(IP, ['netns', 'exec', ns, 'cat', '/proc/net/snmp'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith('Tcp:'))
    .map((l) => l.trim().split(/\s+/));
  return Number(rows[1]![rows[0]!.indexOf('RetransSegs')]);
}

/** The most payload one TCP segment carries on these veths (MTU 1500). */
const MSS = 1460;

const enabled = canUseNetns();

describe.skipIf(!enabled)('kovenant run --conntrack on a real kernel', () => {
  const cleanup = cleanupAfterEach();

  it('attributes the bytes of real TCP flows between pods, and skips the node own flows', async () => {
    const lab = cleanup.add(createNodeLab({ pods: 2 }), (l) => l.destroy());
    const dir = cleanup.tempDir('kovenant-ct-e2e-');
    const snap = join(dir, 'cluster.json');
    writeFileSync(snap, JSON.stringify(snapshot(lab)));
    const [web, db] = lab.pods;
    const SEND = [100_000, 250_000];
    const REPLY = 7_000;
    const server = lab.spawnIn(db!.ns, [process.execPath, '-e', SERVER, String(REPLY)]);
    await new Promise<void>((res, rej) => {
      server.stdout!.once('data', () => res());
      server.once('exit', (c) => rej(new Error(`server exited ${c}`)));
    });
    const daemon = ownedDaemon(
      cleanup,
      lab.inNs(lab.node, []),
      [
        'run',
        '--events',
        'none',
        '--conntrack',
        '--conntrack-interval',
        '300ms',
        '--kube',
        snap,
        '--window',
        '2s',
        '--lateness',
        '0s',
        '--output',
        'line',
        '--duration',
        '5s',
        '--node-name',
        'n1',
        '--metrics-addr',
        'off',
      ],
      { KOVENANT_LOG_LEVEL: 'info' },
    );
    // Flows before the daemon's baseline would (rightly) not count: start after it.
    await daemon.waitForLog('"msg":"running"', DAEMON_START_MS);
    for (const n of SEND) expect(Number(await runNode(lab, web!.ns, CLIENT, [db!.ip, String(n)]))).toBe(REPLY);
    // The node's own connection (like a kubelet probe) is skipped by default.
    expect(Number(await runNode(lab, lab.node, CLIENT, [db!.ip, '5000']))).toBe(REPLY);
    expect(await daemon.exited(30_000)).toBe(0);

    const points = parseLineProtocol(daemon.stdout()).filter((p) => p.measurement === 'kovenant_conntrack');
    expect(points.length).toBeGreaterThan(0);
    const tagSets = new Set(points.map((p) => JSON.stringify(p.tags)));
    expect([...tagSets].map((t) => JSON.parse(t) as Record<string, string>)).toEqual([
      {
        node: 'n1',
        namespace: 'shop',
        pod: 'web-7d9-x1',
        workload: 'web',
        workload_kind: 'Deployment',
        release: 'shop',
        remote_kind: 'pod',
        remote_namespace: 'shop',
        remote_name: 'db-0',
        remote_workload: 'db',
        protocol: 'tcp',
        remote_port: '8080',
        path: 'same-node',
      },
    ]);
    const sum = (f: string) => points.reduce((a, p) => a + (p.fields[f] ?? 0), 0);
    const payloadSent = SEND[0]! + SEND[1]!;
    const payloadReceived = REPLY * SEND.length;
    expect(sum('flows')).toBe(2);
    // Conntrack counts IP packets: 20 bytes IPv4 + 20–60 bytes TCP header per packet, and
    // payload the sender had to retransmit (a loaded machine drops at the veth backlog)
    // crossed the node twice: at most one MSS per segment its stack counted as retransmitted.
    const headerSent = sum('bytes_sent') - payloadSent;
    const headerReceived = sum('bytes_received') - payloadReceived;
    expect(headerSent).toBeGreaterThanOrEqual(40 * sum('packets_sent'));
    expect(headerSent).toBeLessThanOrEqual(80 * sum('packets_sent') + MSS * retransmittedSegments(web!.ns));
    expect(headerReceived).toBeGreaterThanOrEqual(40 * sum('packets_received'));
    expect(headerReceived).toBeLessThanOrEqual(80 * sum('packets_received') + MSS * retransmittedSegments(db!.ns));
    // Windows are aligned to 2 s: timestamps are multiples of it.
    for (const p of points) expect(p.timeNs % 2_000_000_000n).toBe(0n);
  }, 120_000);

  it('refuses with the fix when conntrack accounting is off (exit 2)', async () => {
    const lab = cleanup.add(createNodeLab({ pods: 1, accounting: false }), (l) => l.destroy());
    const daemon = ownedDaemon(cleanup, lab.inNs(lab.node, []), [
      'run',
      '--events',
      'none',
      '--conntrack',
      '--duration',
      '2s',
      '--metrics-addr',
      'off',
    ]);
    expect(await daemon.exited(20_000)).toBe(2);
    expect(daemon.stderr()).toContain('conntrack accounting is off');
    expect(daemon.stderr()).toContain('sysctl -w net.netfilter.nf_conntrack_acct=1');
  }, 30_000);
});
