/**
 * The replay command contract, end to end through the real CLI, against output computed
 * by hand from the data contract (not captured from the program).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { controller, list, node, pod, service } from '../support/kube-objects.ts';
import { kprobeLine } from '../support/tetragon-lines.ts';
import { runCli } from '../support/cli.ts';
import { parseLineProtocol } from '../support/line-protocol.ts';

const dir = mkdtempSync(join(tmpdir(), 'kovenant-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const at = (ms: number): string => new Date(T0 + ms).toISOString().replace('Z', '123456Z');
const WEB = { namespace: 'shop', name: 'web-1' };
const PG = { namespace: 'db', name: 'pg-0' };
const WEB_SOCK = { saddr: '10.1.0.5', sport: 41000 };

const snapshot = list(
  node('n1', '10.0.0.1'),
  pod('shop', 'web-1', { ip: '10.1.0.5', owner: { kind: 'ReplicaSet', name: 'web-rs' } }),
  controller('ReplicaSet', 'shop', 'web-rs', { owner: { kind: 'Deployment', name: 'web' } }),
  controller('Deployment', 'shop', 'web', { release: 'shop' }),
  pod('db', 'pg-0', { ip: '10.1.0.6', owner: { kind: 'StatefulSet', name: 'pg' } }),
  controller('StatefulSet', 'db', 'pg'),
  service('shop', 'web', '10.96.0.10', { release: 'shop' }),
);

const lines = [
  kprobeLine({ fn: 'tcp_connect', node: 'n1', time: at(1_000), pod: WEB, sock: { ...WEB_SOCK, daddr: '10.1.0.6', dport: 5432 } }),
  kprobeLine({
    fn: 'tcp_sendmsg',
    node: 'n1',
    time: at(2_000),
    pod: WEB,
    sock: { saddr: '::ffff:10.1.0.5', sport: 41000, daddr: '::ffff:10.1.0.6', dport: 5432, family: 'AF_INET6' },
    size: '100',
    ret: 90,
  }),
  kprobeLine({
    fn: 'tcp_recvmsg',
    node: 'n1',
    time: at(9_999),
    pod: WEB,
    sock: { ...WEB_SOCK, daddr: '10.1.0.6', dport: 5432 },
    size: '65536',
    ret: 400,
  }),
  '',
  kprobeLine({
    fn: 'tcp_recvmsg',
    node: 'n1',
    time: at(10_000),
    pod: WEB,
    sock: { ...WEB_SOCK, daddr: '10.1.0.6', dport: 5432 },
    size: '65536',
    ret: -11,
  }),
  kprobeLine({
    fn: 'tcp_sendmsg',
    node: 'n1',
    time: at(3_000),
    sock: { saddr: '10.0.0.1', sport: 50000, daddr: '203.0.113.5', dport: 443 },
    size: '50',
  }),
  kprobeLine({ fn: '__x64_sys_write', node: 'n1', time: at(4_000), pod: PG, size: '1000', ret: 1000 }) + '\r',
  kprobeLine({ fn: '__arm64_sys_read', node: 'n1', time: at(5_000), pod: PG, size: '4096', ret: 10 }),
  kprobeLine({ fn: 'tcp_close', node: 'n1', time: at(6_000), pod: WEB, sock: { ...WEB_SOCK, daddr: '127.0.0.1', dport: 6379 } }),
  kprobeLine({
    fn: 'tcp_sendmsg',
    node: 'n1',
    time: at(7_000),
    pod: WEB,
    sock: { ...WEB_SOCK, daddr: '10.96.0.10', dport: 80 },
    size: '7',
  }),
  '{"process_exec":{"process":{"binary":"/bin/ls"}},"node_name":"n1","time":"2024-05-01T12:00:00Z"}',
  '   ',
  'this is not json',
  kprobeLine({ fn: '__x64_sys_write', node: 'n1', pod: PG, size: '1' }),
  kprobeLine({ fn: 'tcp_sendmsg', node: 'n1', time: at(1), pod: WEB, sock: { saddr: '10.1.0.5', sport: 1 }, size: '1' }),
  kprobeLine({ fn: 'tcp_sendmsg', node: 'n1', time: at(1), pod: WEB, sock: { ...WEB_SOCK, daddr: '10.1.0.6', dport: 1 }, size: 'NaN' }),
];

const W0 = `${T0}000000`;
const W1 = `${T0 + 10_000}000000`;
const WEB_TAGS = 'namespace=shop,node=n1';
const WEB_WORKLOAD = 'pod=web-1,release=shop';
// Nodes without zone labels: pod-to-pod paths are unknown. web-1 connected to pg-0 (its
// tcp_connect is seen), so it is the client and pg-0's port is remote_port; no connect was
// seen for the other sockets and their remotes declare no ports: the local side is the server.
const WEB_PG = `direction=client,${WEB_TAGS},path=unknown,${WEB_WORKLOAD},remote_kind=pod,remote_name=pg-0,remote_namespace=db,remote_port=5432,remote_workload=pg,workload=web,workload_kind=Deployment`;
const EXPECTED = [
  `kovenant_io,namespace=db,node=n1,pod=pg-0,workload=pg,workload_kind=StatefulSet bytes_read=10i,bytes_written=1000i,reads=1i,writes=1i ${W0}`,
  `kovenant_tcp,${WEB_PG} bytes_sent=90i,bytes_received=400i,sends=1i,receives=1i,connects=1i,closes=0i ${W0}`,
  `kovenant_tcp,direction=server,${WEB_TAGS},path=loopback,${WEB_WORKLOAD},remote_kind=loopback,workload=web,workload_kind=Deployment bytes_sent=0i,bytes_received=0i,sends=0i,receives=0i,connects=0i,closes=1i ${W0}`,
  `kovenant_tcp,direction=server,${WEB_TAGS},path=service,${WEB_WORKLOAD},remote_kind=service,remote_name=web,remote_namespace=shop,remote_release=shop,workload=web,workload_kind=Deployment bytes_sent=7i,bytes_received=0i,sends=1i,receives=0i,connects=0i,closes=0i ${W0}`,
  `kovenant_tcp,direction=server,node=n1,path=internet,remote_kind=external,remote_name=203.0.113.5,workload=n1,workload_kind=host bytes_sent=50i,bytes_received=0i,sends=1i,receives=0i,connects=0i,closes=0i ${W0}`,
  `kovenant_tcp,${WEB_PG} bytes_sent=0i,bytes_received=0i,sends=0i,receives=1i,connects=0i,closes=0i ${W1}`,
];

const eventsFile = join(dir, 'events.jsonl');
writeFileSync(eventsFile, lines.join('\n') + '\n');
const snapshotFile = join(dir, 'snapshot.json');
writeFileSync(snapshotFile, JSON.stringify(snapshot));

describe('kovenant replay: the contract', () => {
  it('writes exactly the points computed by hand, and a summary', async () => {
    const r = await runCli(['replay', eventsFile, '--kube', snapshotFile, '--window', '10s']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toEqual(EXPECTED);
    expect(r.stderr).toMatch(/events read:\s+14\b/);
    expect(r.stderr).toMatch(/events used:\s+9\b/);
    expect(r.stderr).toMatch(/events skipped:\s+1 \(process_exec: 1\)/);
    expect(r.stderr).toMatch(/lines rejected:\s+4 \(invalid_json: 1, invalid_size: 1, invalid_time: 1, missing_socket: 1\)/);
  });

  it('reads stdin, gzip, YAML snapshots split over several files, and writes --out', async () => {
    const gz = join(dir, 'events.jsonl.gz');
    writeFileSync(gz, gzipSync(readFileSync(eventsFile)));
    const items = snapshot.items as Array<Record<string, unknown>>;
    const yamlA = join(dir, 'a.yaml');
    const yamlB = join(dir, 'b.yaml');
    writeFileSync(
      yamlA,
      items
        .slice(0, 3)
        .map((o) => stringify(o))
        .join('---\n'),
    );
    writeFileSync(yamlB, stringify(list(...items.slice(3))));
    const out = join(dir, 'out.lp');
    const viaGz = await runCli(['replay', gz, '--kube', yamlA, '--kube', yamlB, '--out', out]);
    expect(viaGz.code, viaGz.stderr).toBe(0);
    expect(viaGz.stdout).toBe('');
    expect(readFileSync(out, 'utf8').trimEnd().split('\n')).toEqual(EXPECTED);
    const viaStdin = await runCli(['replay', '-', '--kube', snapshotFile], { stdin: readFileSync(gz) });
    expect(viaStdin.stdout.trimEnd().split('\n')).toEqual(EXPECTED);
  });

  it('events hours out of order on one node still land in their own windows', async () => {
    const shuffled = join(dir, 'shuffled.jsonl');
    const far = (ms: number, size: string): string =>
      kprobeLine({
        fn: 'tcp_sendmsg',
        node: 'n1',
        time: new Date(T0 + ms).toISOString(),
        pod: WEB,
        sock: { ...WEB_SOCK, daddr: '10.1.0.6', dport: 5432 },
        size,
      });
    writeFileSync(shuffled, [far(7_200_000, '3'), far(0, '1'), far(3_600_000, '2'), far(5, '10')].join('\n') + '\n');
    const r = await runCli(['replay', shuffled, '--kube', snapshotFile]);
    expect(r.code, r.stderr).toBe(0);
    const sent = parseLineProtocol(r.stdout).map((p) => [String(p.timeNs), p.fields.bytes_sent]);
    expect(sent).toEqual([
      [W0, 11],
      [`${T0 + 3_600_000}000000`, 2],
      [`${T0 + 7_200_000}000000`, 3],
    ]);
    expect(r.stderr).toMatch(/late events:\s+0\b/);
  });

  it('a window of 1m merges both windows', async () => {
    const r = await runCli(['replay', eventsFile, '--kube', snapshotFile, '--window', '1m']);
    const pgRecv = r.stdout.split('\n').filter((l) => l.includes('remote_name=pg-0'));
    expect(pgRecv).toEqual([`kovenant_tcp,${WEB_PG} bytes_sent=90i,bytes_received=400i,sends=1i,receives=2i,connects=1i,closes=0i ${W0}`]);
  });

  it.each([
    [['replay', '/nonexistent/events.jsonl', '--kube', snapshotFile], /\/nonexistent\/events.jsonl: no such file/],
    [['replay', eventsFile, '--kube', '/nonexistent/snap.json'], /\/nonexistent\/snap.json: no such file/],
    [['replay', eventsFile, '--kube', eventsFile], /events.jsonl: invalid JSON/],
    [['replay', eventsFile, '--kube', dir], /is a directory/],
    [['replay', eventsFile, '--window', 'ten'], /--window: invalid duration "ten"/],
    [['replay', eventsFile, '--kube', snapshotFile, '--out', '/nonexistent/dir/out.lp'], /\/nonexistent\/dir\/out.lp: cannot write/],
  ])('exit 2 with a one-line error naming the input: %s', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').length).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('a bare JSON array of objects is a snapshot too', async () => {
    const bare = join(dir, 'items.json');
    writeFileSync(bare, JSON.stringify(snapshot.items));
    const r = await runCli(['replay', eventsFile, '--kube', bare]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toEqual(EXPECTED);
  });

  it('an unparseable YAML snapshot names the file and line', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'kind: List\nitems:\n  - kind: Pod\n   metadata: [\n');
    const r = await runCli(['replay', eventsFile, '--kube', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml(:\d+)?: invalid YAML/);
  });
});
