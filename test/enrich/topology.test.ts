/**
 * Topology attribution: zone/region of the local node, remote_zone/remote_region, the
 * `path` tag, `cluster`, `direction`/`remote_port` and Services resolved to backends.
 */
import { describe, expect, it } from 'vitest';
import { MetadataIndex } from '../../src/enrich/metadata/metadata-index.ts';
import { addToIndex } from '../../src/enrich/metadata/snapshot.ts';
import type { KubeObject } from '../../src/enrich/metadata/projection.ts';
import {
  ConnectedSockets,
  LOCAL_IS_SERVER,
  Resolver,
  TRAFFIC_PATHS,
  type ResolverOptions,
  type SocketEvent,
  type TrafficPath,
} from '../../src/enrich/resolver.ts';
import { isPrivate } from '../../src/core/ip-address.ts';
import { node, pod, service, zonedNode } from '../support/kube-objects.ts';

const NOW = Date.UTC(2024, 0, 1);

function resolverOf(objects: Array<Record<string, unknown>>, options?: ResolverOptions): Resolver {
  const index = new MetadataIndex();
  for (const o of objects) addToIndex(index, o as KubeObject);
  return new Resolver(index, options);
}

const cluster = [
  zonedNode('a1', '10.0.0.1', 'eu-west-1a', 'eu-west-1'),
  zonedNode('a2', '10.0.0.2', 'eu-west-1a', 'eu-west-1'),
  zonedNode('b1', '10.0.0.3', 'eu-west-1b', 'eu-west-1'),
  zonedNode('us1', '10.0.0.4', 'us-east-1a', 'us-east-1'),
  zonedNode('zoneless', '10.0.0.5', undefined, 'eu-west-1'),
  zonedNode('regionless-b', '10.0.0.6', 'eu-west-1b', undefined),
  node('legacy', '10.0.0.7', [], {
    'failure-domain.beta.kubernetes.io/zone': 'old-zone',
    'failure-domain.beta.kubernetes.io/region': 'old-region',
  }),
  node('both', '10.0.0.8', [], {
    'topology.kubernetes.io/zone': 'new-zone',
    'failure-domain.beta.kubernetes.io/zone': 'old-zone',
    'topology.kubernetes.io/region': 'new-region',
    'failure-domain.beta.kubernetes.io/region': 'old-region',
  }),
  pod('shop', 'here', { ip: '10.1.1.1', node: 'a1', ports: [8080] }),
  pod('shop', 'same-node', { ip: '10.1.1.2', node: 'a1', ports: [5432] }),
  pod('shop', 'same-zone', { ip: '10.1.1.3', node: 'a2', ports: [5432] }),
  pod('shop', 'other-zone', { ip: '10.1.1.4', node: 'b1', ports: [5432] }),
  pod('shop', 'other-region', { ip: '10.1.1.5', node: 'us1' }),
  pod('shop', 'on-zoneless', { ip: '10.1.1.6', node: 'zoneless' }),
  pod('shop', 'on-regionless', { ip: '10.1.1.7', node: 'regionless-b' }),
  pod('shop', 'on-unknown-node', { ip: '10.1.1.8', node: 'not-in-snapshot' }),
  service('shop', 'db', '10.96.0.10', { ports: [5432] }),
];

function pathTo(r: Resolver, localNode: string, ip: string): TrafficPath {
  return r.path(r.localHost(localNode), r.remote(ip, NOW));
}

describe('zone and region of the local node', () => {
  const r = resolverOf(cluster);

  it('are the node topology labels, on pods and hosts alike', () => {
    expect(r.localPod('a1', 'shop', 'here').tags).toMatchObject({ node: 'a1', zone: 'eu-west-1a', region: 'eu-west-1' });
    expect(r.localHost('b1').tags).toEqual({ node: 'b1', zone: 'eu-west-1b', region: 'eu-west-1', workload: 'b1', workload_kind: 'host' });
  });

  it('fall back to the deprecated failure-domain.beta labels, the GA labels winning when both are set', () => {
    expect(r.localHost('legacy').tags).toMatchObject({ zone: 'old-zone', region: 'old-region' });
    expect(r.localHost('both').tags).toMatchObject({ zone: 'new-zone', region: 'new-region' });
  });

  it('are absent when unknown: an unlabelled or unknown node, or no node at all', () => {
    expect(r.localHost('zoneless').tags.zone).toBeUndefined();
    expect(r.localHost('zoneless').tags.region).toBe('eu-west-1');
    expect(r.localHost('not-in-snapshot').tags).toEqual({ node: 'not-in-snapshot', workload: 'not-in-snapshot', workload_kind: 'host' });
    expect(r.localPod(undefined, 'shop', 'here').tags.zone).toBeUndefined();
  });

  it('remote pods carry their node zone and region, remote nodes their own, others none', () => {
    expect(r.remote('10.1.1.4', NOW).tags).toMatchObject({ remote_kind: 'pod', remote_zone: 'eu-west-1b', remote_region: 'eu-west-1' });
    expect(r.remote('10.0.0.4', NOW).tags).toEqual({
      remote_kind: 'node',
      remote_name: 'us1',
      remote_zone: 'us-east-1a',
      remote_region: 'us-east-1',
    });
    expect(r.remote('10.0.0.7', NOW).tags).toMatchObject({ remote_zone: 'old-zone', remote_region: 'old-region' });
    expect(r.remote('10.96.0.10', NOW).tags.remote_zone).toBeUndefined();
    expect(r.remote('8.8.8.8', NOW).tags.remote_zone).toBeUndefined();
  });
});

describe('path', () => {
  const r = resolverOf(cluster);

  const CASES: Array<[string, string, TrafficPath]> = [
    ['a1', '127.0.0.1', 'loopback'],
    ['a1', '::1', 'loopback'],
    ['a1', '::ffff:127.0.0.1', 'loopback'],
    ['a1', '10.1.1.2', 'same-node'],
    ['a1', '10.0.0.1', 'same-node'],
    ['zoneless', '10.1.1.6', 'same-node'],
    ['a1', '10.1.1.3', 'same-zone'],
    ['a1', '10.0.0.2', 'same-zone'],
    ['a1', '::ffff:10.1.1.3', 'same-zone'],
    ['a1', '10.1.1.4', 'cross-zone'],
    ['a1', '10.0.0.3', 'cross-zone'],
    ['a1', '10.1.1.7', 'cross-zone'],
    ['a1', '10.1.1.5', 'cross-region'],
    ['a1', '10.0.0.4', 'cross-region'],
    ['zoneless', '10.1.1.5', 'cross-region'],
    ['a1', '10.96.0.10', 'service'],
    ['a1', '10.200.0.1', 'private'],
    ['a1', '172.16.5.5', 'private'],
    ['a1', '172.31.255.255', 'private'],
    ['a1', '192.168.1.1', 'private'],
    ['a1', '100.64.0.1', 'private'],
    ['a1', '::ffff:192.168.1.1', 'private'],
    ['a1', 'fd12:3456::1', 'private'],
    ['a1', 'fe80::1', 'private'],
    ['a1', '8.8.8.8', 'internet'],
    ['a1', '172.32.0.1', 'internet'],
    ['a1', '100.128.0.1', 'internet'],
    ['a1', '::ffff:8.8.8.8', 'internet'],
    ['a1', '2001:4860::8888', 'internet'],
    ['a1', '10.1.1.6', 'unknown'],
    ['zoneless', '10.1.1.3', 'unknown'],
    ['not-in-snapshot', '10.1.1.3', 'unknown'],
    ['a1', '10.1.1.8', 'unknown'],
  ];
  it.each(CASES)('from a host on %s to %s: %s', (local, ip, path) => {
    expect(pathTo(r, local, ip)).toBe(path);
  });

  it('the cases above cover every path value', () => {
    expect([...new Set(CASES.map((c) => c[2]))].sort()).toEqual([...TRAFFIC_PATHS].sort());
  });

  it('a local pod without a node name is unknown towards pods and nodes', () => {
    expect(r.path(r.localPod(undefined, 'shop', 'here'), r.remote('10.1.1.3', NOW))).toBe('unknown');
  });

  it('lands on the tcp series', () => {
    expect(r.tcpSeries(r.localPod('a1', 'shop', 'here'), r.remote('10.1.1.4', NOW)).tags).toMatchObject({
      zone: 'eu-west-1a',
      remote_zone: 'eu-west-1b',
      path: 'cross-zone',
    });
  });

  it('private ranges exactly', () => {
    expect(
      ['10.0.0.0', '10.255.255.255', '172.16.0.0', '192.168.0.0', '100.127.255.255', 'fc00::', 'fdff:ffff::1', 'febf::1'].every(isPrivate),
    ).toBe(true);
    expect(
      [
        '9.255.255.255',
        '11.0.0.0',
        '172.15.255.255',
        '192.169.0.0',
        '100.63.255.255',
        'fbff::1',
        'fec0::1',
        '2001:db8::1',
        'not-an-ip',
      ].some(isPrivate),
    ).toBe(false);
  });
});

describe('cluster', () => {
  it('is the event cluster_name, else the configured name, else absent', () => {
    const r = resolverOf(cluster, { cluster: 'prod-eu' });
    expect(r.localPod('a1', 'shop', 'here', undefined, 'from-event').tags.cluster).toBe('from-event');
    expect(r.localPod('a1', 'shop', 'here').tags.cluster).toBe('prod-eu');
    expect(r.localHost('a1', 'from-event').tags.cluster).toBe('from-event');
    expect(r.localHost('a1').tags.cluster).toBe('prod-eu');
    expect(resolverOf(cluster).localHost('a1').tags.cluster).toBeUndefined();
  });
});

function socket(op: SocketEvent['op'], o: Partial<SocketEvent> = {}): SocketEvent {
  return {
    op,
    node: 'a1',
    podName: 'here',
    cookie: '1',
    localAddress: '10.1.1.1',
    localPort: 40000,
    remoteAddress: '10.1.1.4',
    remotePort: 5432,
    ...o,
  };
}

describe('direction', () => {
  it('client from the connect seen on the socket cookie, until its close', () => {
    const r = resolverOf(cluster);
    const local = r.localPod('a1', 'shop', 'here');
    const remote = r.remote('10.1.1.5', NOW); // declares no ports: only the connect tells
    const ev = { remotePort: 9000, remoteAddress: '10.1.1.5' };
    expect(r.roleOf(socket('send', { ...ev, cookie: '7' }), local, remote)).toBe(LOCAL_IS_SERVER);
    expect(r.roleOf(socket('connect', { ...ev, cookie: '7' }), local, remote)).toBe(9000);
    expect(r.roleOf(socket('send', { ...ev, cookie: '7' }), local, remote)).toBe(9000);
    expect(r.roleOf(socket('recv', { ...ev, cookie: '8' }), local, remote)).toBe(LOCAL_IS_SERVER);
    expect(r.roleOf(socket('close', { ...ev, cookie: '7' }), local, remote)).toBe(9000);
    // A reused cookie after the close is a new socket.
    expect(r.roleOf(socket('recv', { ...ev, cookie: '7' }), local, remote)).toBe(LOCAL_IS_SERVER);
  });

  it('cookies are per node; without a cookie the 4-tuple in the pod identifies the socket', () => {
    const r = resolverOf(cluster);
    const local = r.localHost('a1');
    const remote = r.remote('8.8.8.8', NOW);
    r.roleOf(socket('connect', { cookie: '9', remotePort: 443 }), local, remote);
    expect(r.roleOf(socket('send', { cookie: '9', node: 'b1', remotePort: 443 }), local, remote)).toBe(LOCAL_IS_SERVER);
    r.roleOf(socket('connect', { cookie: undefined, remotePort: 443 }), local, remote);
    expect(r.roleOf(socket('send', { cookie: undefined, remotePort: 443 }), local, remote)).toBe(443);
    expect(r.roleOf(socket('send', { cookie: undefined, remotePort: 443, podName: 'other' }), local, remote)).toBe(LOCAL_IS_SERVER);
  });

  it('client when the remote declares the remote port (containerPort, Service port) and the local pod does not declare the local port', () => {
    const r = resolverOf(cluster);
    const here = r.localPod('a1', 'shop', 'here'); // declares 8080
    expect(r.roleOf(socket('send', { cookie: undefined }), here, r.remote('10.1.1.4', NOW))).toBe(5432);
    expect(r.roleOf(socket('send', { cookie: undefined, remoteAddress: '10.96.0.10' }), here, r.remote('10.96.0.10', NOW))).toBe(5432);
    // The other end of the same connection: the database pod sees port 5432 locally, 40000 remotely.
    const db = r.localPod('b1', 'shop', 'other-zone');
    expect(
      r.roleOf(
        socket('recv', {
          cookie: undefined,
          node: 'b1',
          podName: 'other-zone',
          localPort: 5432,
          remotePort: 40000,
          remoteAddress: '10.1.1.1',
        }),
        db,
        r.remote('10.1.1.1', NOW),
      ),
    ).toBe(LOCAL_IS_SERVER);
    // Both declare the ports in play: the port rule cannot tell, the local side counts as the server.
    expect(r.roleOf(socket('send', { cookie: undefined, localPort: 8080, remotePort: 5432 }), here, r.remote('10.1.1.4', NOW))).toBe(
      LOCAL_IS_SERVER,
    );
  });

  it('remote_port is written only when the remote is the server', () => {
    const r = resolverOf(cluster);
    const local = r.localPod('a1', 'shop', 'here');
    const remote = r.remote('10.1.1.4', NOW);
    expect(r.tcpSeries(local, remote, 5432).tags).toMatchObject({ direction: 'client', remote_port: '5432' });
    const server = r.tcpSeries(local, remote, LOCAL_IS_SERVER).tags;
    expect(server.direction).toBe('server');
    expect(server.remote_port).toBeUndefined();
  });
});

describe('Services resolved to their backends', () => {
  const objects = [...cluster, pod('shop', 'db-0', { ip: '10.1.2.1', node: 'b1', ports: [5432] })];
  const nat = {
    backendOf: (localIp: string, localPort: number, serviceIp: string, servicePort: number) =>
      localIp === '10.1.1.1' && localPort === 40000 && serviceIp === '10.96.0.10' && servicePort === 5432 ? '10.1.2.1' : undefined,
  };

  it('a conntrack entry for the socket 4-tuple makes it the backend pod, with remote_service', () => {
    const r = resolverOf(objects, { serviceNat: nat });
    const remote = r.remoteOfSocket(socket('send', { remoteAddress: '::ffff:10.96.0.10', localAddress: '::ffff:10.1.1.1' }), NOW);
    expect(remote.tags).toEqual({
      remote_kind: 'pod',
      remote_namespace: 'shop',
      remote_name: 'db-0',
      remote_workload: 'db-0',
      remote_zone: 'eu-west-1b',
      remote_region: 'eu-west-1',
      remote_service: 'db',
    });
    expect(r.path(r.localPod('a1', 'shop', 'here'), remote)).toBe('cross-zone');
  });

  it('without a matching entry (or without conntrack) the Service attribution stays', () => {
    const r = resolverOf(objects, { serviceNat: nat });
    expect(r.remoteOfSocket(socket('send', { remoteAddress: '10.96.0.10', localPort: 40001 }), NOW).tags).toMatchObject({
      remote_kind: 'service',
      remote_name: 'db',
    });
    expect(resolverOf(objects).remoteOfSocket(socket('send', { remoteAddress: '10.96.0.10' }), NOW).tags.remote_kind).toBe('service');
  });
});

describe('a node label change', () => {
  it('takes effect for later attributions', () => {
    const index = new MetadataIndex();
    addToIndex(index, zonedNode('a1', '10.0.0.1', 'z1', 'r1') as KubeObject);
    const r = new Resolver(index);
    expect(r.localHost('a1').tags.zone).toBe('z1');
    addToIndex(index, zonedNode('a1', '10.0.0.1', 'z2', 'r1') as KubeObject);
    expect(r.localHost('a1').tags.zone).toBe('z2');
    expect(r.remote('10.0.0.1', NOW).tags.remote_zone).toBe('z2');
  });
});

describe('the connected-socket memory', () => {
  it('is bounded: sockets in use survive, the ones not seen for longest are forgotten', () => {
    const s = new ConnectedSockets(4); // two generations of 2
    for (const k of ['a', 'b', 'c']) s.add(k); // c starts a new generation: a and b are old
    expect(s.has('a')).toBe(true); // seen: moves to the new generation (c, a)
    s.add('d'); // the new generation is full: it becomes the old one, and b goes
    expect(s.has('b')).toBe(false);
    expect(s.has('a')).toBe(true);
    expect(s.has('c')).toBe(true);
    s.delete('a');
    expect(s.has('a')).toBe(false);
  });
});
