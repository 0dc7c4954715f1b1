import { describe, expect, it } from 'vitest';
import { MetadataIndex } from '../../src/enrich/metadata/metadata-index.ts';
import { addToIndex } from '../../src/enrich/metadata/snapshot.ts';
import type { KubeObject } from '../../src/enrich/metadata/projection.ts';
import { Resolver } from '../../src/enrich/resolver.ts';
import { DnsNameCache } from '../../src/enrich/dns/dns-name-cache.ts';
import { controller, node, pod, service } from '../support/kube-objects.ts';

function resolverOf(...objects: Array<Record<string, unknown>>): Resolver {
  const index = new MetadataIndex();
  for (const o of objects) addToIndex(index, o as KubeObject);
  return new Resolver(index);
}

const NOW = Date.UTC(2024, 0, 1);

describe('local side: workload by controller chain', () => {
  it('Pod → ReplicaSet → Deployment, release from the Deployment annotation', () => {
    const r = resolverOf(
      pod('shop', 'web-abc-1', { owner: { kind: 'ReplicaSet', name: 'web-abc' } }),
      controller('ReplicaSet', 'shop', 'web-abc', { owner: { kind: 'Deployment', name: 'web' } }),
      controller('Deployment', 'shop', 'web', { release: 'shop-release' }),
    );
    expect(r.localPod('n1', 'shop', 'web-abc-1').tags).toEqual({
      node: 'n1',
      namespace: 'shop',
      pod: 'web-abc-1',
      workload: 'web',
      workload_kind: 'Deployment',
      release: 'shop-release',
    });
  });

  it('Pod → Job → CronJob', () => {
    const r = resolverOf(
      pod('batch', 'nightly-123-xyz', { owner: { kind: 'Job', name: 'nightly-123' } }),
      controller('Job', 'batch', 'nightly-123', { owner: { kind: 'CronJob', name: 'nightly' } }),
      controller('CronJob', 'batch', 'nightly'),
    );
    expect(r.localPod('n1', 'batch', 'nightly-123-xyz').tags).toMatchObject({ workload: 'nightly', workload_kind: 'CronJob' });
    expect(r.localPod('n1', 'batch', 'nightly-123-xyz').tags.release).toBeUndefined();
  });

  it.each(['StatefulSet', 'DaemonSet'])('Pod → %s', (kind) => {
    const r = resolverOf(pod('db', 'x-0', { owner: { kind, name: 'x' } }), controller(kind, 'db', 'x', { release: 'rel' }));
    expect(r.localPod('n1', 'db', 'x-0').tags).toMatchObject({ workload: 'x', workload_kind: kind, release: 'rel' });
  });

  it('a pod without owner is its own workload, kind Pod', () => {
    const r = resolverOf(pod('shop', 'debug'));
    expect(r.localPod('n1', 'shop', 'debug').tags).toMatchObject({ workload: 'debug', workload_kind: 'Pod' });
  });

  it('an owner missing from the snapshot: stop at the last known one', () => {
    const r = resolverOf(
      pod('shop', 'web-abc-1', { owner: { kind: 'ReplicaSet', name: 'web-abc' } }),
      controller('ReplicaSet', 'shop', 'web-abc', { owner: { kind: 'Deployment', name: 'web' } }),
    );
    expect(r.localPod('n1', 'shop', 'web-abc-1').tags).toMatchObject({ workload: 'web-abc', workload_kind: 'ReplicaSet' });
    const lone = resolverOf(pod('shop', 'web-abc-2', { owner: { kind: 'ReplicaSet', name: 'gone' } }));
    expect(lone.localPod('n1', 'shop', 'web-abc-2').tags).toMatchObject({ workload: 'web-abc-2', workload_kind: 'Pod' });
  });

  it('an owner of a kind outside the chain (a CRD) stops the chain', () => {
    const r = resolverOf(pod('ns', 'p', { owner: { kind: 'Rollout', name: 'r' } }));
    expect(r.localPod('n1', 'ns', 'p').tags).toMatchObject({ workload: 'p', workload_kind: 'Pod' });
  });

  it('release falls back to the instance label of a Helm-managed pod, only when managed by Helm', () => {
    const helm = { 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': 'from-label' };
    const r = resolverOf(
      pod('a', 'p1', { labels: helm, owner: { kind: 'ReplicaSet', name: 'rs' } }),
      controller('ReplicaSet', 'a', 'rs'),
      pod('a', 'p2', { labels: { 'app.kubernetes.io/instance': 'not-helm' } }),
      pod('a', 'p3', { labels: helm, owner: { kind: 'ReplicaSet', name: 'rs2' } }),
      controller('ReplicaSet', 'a', 'rs2', { release: 'from-annotation' }),
    );
    expect(r.localPod('n', 'a', 'p1').tags.release).toBe('from-label');
    expect(r.localPod('n', 'a', 'p2').tags.release).toBeUndefined();
    expect(r.localPod('n', 'a', 'p3').tags.release).toBe('from-annotation');
  });

  it('only the top owner annotation counts, not an intermediate one', () => {
    const r = resolverOf(
      pod('a', 'p', { owner: { kind: 'ReplicaSet', name: 'rs' } }),
      controller('ReplicaSet', 'a', 'rs', { owner: { kind: 'Deployment', name: 'd' }, release: 'on-rs' }),
      controller('Deployment', 'a', 'd'),
    );
    expect(r.localPod('n', 'a', 'p').tags.release).toBeUndefined();
  });

  it('a process outside pods is the host: workload_kind=host, workload=<node>', () => {
    expect(resolverOf().localHost('node-7').tags).toEqual({ node: 'node-7', workload: 'node-7', workload_kind: 'host' });
  });

  it('a pod unknown to the snapshot uses what Tetragon says of it', () => {
    const r = resolverOf();
    expect(r.localPod('n', 'x', 'p-1', { podWorkload: 'p', podWorkloadKind: 'Deployment' }).tags).toMatchObject({
      workload: 'p',
      workload_kind: 'Deployment',
    });
    expect(r.localPod('n', 'x', 'p-2').tags).toMatchObject({ workload: 'p-2', workload_kind: 'Pod' });
  });
});

describe('remote side: classification order', () => {
  const objects = [
    node('node-1', '10.0.0.1'),
    node('node-2', '10.0.0.2', [{ type: 'ExternalIP', address: '192.0.2.2' }]),
    pod('shop', 'web-1', { ip: '10.1.0.5', owner: { kind: 'ReplicaSet', name: 'web-rs' } }),
    controller('ReplicaSet', 'shop', 'web-rs', { owner: { kind: 'Deployment', name: 'web' } }),
    controller('Deployment', 'shop', 'web', { release: 'web-rel' }),
    pod('kube-system', 'exporter', { ip: '10.0.0.2', hostNetwork: true, node: 'node-2' }),
    pod('kube-system', 'agent', { ip: '10.0.0.3', hostNetwork: true, node: 'node-3' }),
    service('shop', 'web', '10.96.0.10', { release: 'svc-rel' }),
    service('shop', 'headless', 'None'),
    pod('v6', 'dual', { ips: ['10.1.0.9', 'fd00::9'] }),
  ];
  const r = resolverOf(...objects);

  it('loopback: 127.0.0.0/8 and ::1, no remote_name', () => {
    for (const ip of ['127.0.0.1', '127.5.6.7', '::1', '::ffff:127.0.0.1'])
      expect(r.remote(ip, NOW).tags).toEqual({ remote_kind: 'loopback' });
  });

  it('a running pod: name, namespace, workload, release', () => {
    expect(r.remote('10.1.0.5', NOW).tags).toEqual({
      remote_kind: 'pod',
      remote_namespace: 'shop',
      remote_name: 'web-1',
      remote_workload: 'web',
      remote_release: 'web-rel',
    });
  });

  it('an IPv4-mapped IPv6 address is its IPv4 address', () => {
    expect(r.remote('::ffff:10.1.0.5', NOW).tags.remote_name).toBe('web-1');
  });

  it('pods are found by any of their podIPs, IPv6 included', () => {
    expect(r.remote('fd00::9', NOW).tags.remote_name).toBe('dual');
    expect(r.remote('fd00:0:0::9', NOW).tags.remote_name).toBe('dual');
  });

  it('a Service ClusterIP: name, namespace and its own release; no workload', () => {
    expect(r.remote('10.96.0.10', NOW).tags).toEqual({
      remote_kind: 'service',
      remote_namespace: 'shop',
      remote_name: 'web',
      remote_release: 'svc-rel',
    });
  });

  it('a node address (InternalIP or ExternalIP): node name only', () => {
    expect(r.remote('10.0.0.1', NOW).tags).toEqual({ remote_kind: 'node', remote_name: 'node-1' });
    expect(r.remote('192.0.2.2', NOW).tags).toEqual({ remote_kind: 'node', remote_name: 'node-2' });
  });

  it('a hostNetwork pod resolves as its node', () => {
    expect(r.remote('10.0.0.2', NOW).tags).toEqual({ remote_kind: 'node', remote_name: 'node-2' });
    expect(r.remote('10.0.0.3', NOW).tags).toEqual({ remote_kind: 'node', remote_name: 'node-3' });
  });

  it('anything else is external, named by its IP', () => {
    expect(r.remote('203.0.113.9', NOW).tags).toEqual({ remote_kind: 'external', remote_name: '203.0.113.9' });
    expect(r.remote('2001:DB8::1', NOW).tags).toEqual({ remote_kind: 'external', remote_name: '2001:db8::1' });
  });

  it('when several pods hold or held an IP, the running one wins', () => {
    const reuse = resolverOf(
      pod('a', 'old-job', { ip: '10.1.1.1', phase: 'Succeeded', startTime: '2023-12-31T00:00:00Z' }),
      pod('a', 'new', { ip: '10.1.1.1', phase: 'Running', startTime: '2023-12-31T12:00:00Z' }),
      pod('a', 'failed', { ip: '10.1.1.1', phase: 'Failed', startTime: '2023-12-31T18:00:00Z' }),
    );
    expect(reuse.remote('10.1.1.1', NOW).tags.remote_name).toBe('new');
    const onlyDone = resolverOf(pod('a', 'done', { ip: '10.1.1.2', phase: 'Succeeded' }));
    expect(onlyDone.remote('10.1.1.2', NOW).tags.remote_name).toBe('done');
  });

  it('a pod IP wins over a Service or node holding the same address', () => {
    const r2 = resolverOf(pod('a', 'p', { ip: '10.9.9.9' }), service('a', 's', '10.9.9.9'), node('n', '10.9.9.9'));
    expect(r2.remote('10.9.9.9', NOW).tags.remote_kind).toBe('pod');
    const r3 = resolverOf(service('a', 's', '10.9.9.9'), node('n', '10.9.9.9'));
    expect(r3.remote('10.9.9.9', NOW).tags.remote_kind).toBe('service');
  });

  it('tcp series carry local and remote tags together', () => {
    const s = r.tcpSeries(r.localHost('node-1'), r.remote('10.96.0.10', NOW));
    expect(s.measurement).toBe('kovenant_tcp');
    expect(s.key).toBe(
      'kovenant_tcp,direction=server,node=node-1,path=service,remote_kind=service,remote_name=web,remote_namespace=shop,remote_release=svc-rel,workload=node-1,workload_kind=host',
    );
    expect(r.tcpSeries(r.localHost('node-1'), r.remote('10.96.0.10', NOW))).toBe(s);
  });
});

describe('caches follow the store', () => {
  it('a change in the store is seen by the next lookup', () => {
    const index = new MetadataIndex();
    const r = new Resolver(index);
    expect(r.remote('10.5.5.5', NOW).tags.remote_kind).toBe('external');
    addToIndex(index, pod('a', 'late', { ip: '10.5.5.5' }) as KubeObject);
    expect(r.remote('10.5.5.5', NOW).tags.remote_name).toBe('late');
  });
});

describe('an IP taken over by a newer pod', () => {
  it('resolves by event time, in any order of events (the cache never serves a stale pick)', () => {
    const r = resolverOf(
      pod('a', 'old', { ip: '10.7.7.7', startTime: '2024-01-01T00:00:00Z' }),
      pod('a', 'new', { ip: '10.7.7.7', startTime: '2024-01-01T01:00:00Z' }),
    );
    const before = Date.parse('2024-01-01T00:30:00Z');
    const after = Date.parse('2024-01-01T01:30:00Z');
    const at = Date.parse('2024-01-01T01:00:00Z');
    const seen = [before, after, before, at, at - 1, after, before].map((t) => r.remote('10.7.7.7', t).tags.remote_name);
    expect(seen).toEqual(['old', 'new', 'old', 'new', 'old', 'new', 'old']);
  });
});

describe('the local party behind an address (conntrack)', () => {
  const r = resolverOf(
    node('node-1', '10.0.0.1'),
    pod('shop', 'web-1', { ip: '10.1.0.5', owner: { kind: 'ReplicaSet', name: 'web-rs' } }),
    controller('ReplicaSet', 'shop', 'web-rs'),
    pod('kube-system', 'exporter', { ip: '10.0.0.1', hostNetwork: true, node: 'node-1' }),
  );

  it('a pod address is that pod, a node address (or hostNetwork pod) the host, anything else nobody', () => {
    expect(r.localForAddress('node-1', '10.1.0.5', NOW)?.tags).toMatchObject({ namespace: 'shop', pod: 'web-1', workload: 'web-rs' });
    expect(r.localForAddress('node-1', '::ffff:10.0.0.1', NOW)?.tags).toEqual({
      node: 'node-1',
      workload: 'node-1',
      workload_kind: 'host',
    });
    expect(r.localForAddress('node-1', '203.0.113.1', NOW)).toBeUndefined();
    expect(r.localForAddress('node-1', '127.0.0.1', NOW)).toBeUndefined();
  });
});

describe('the IP cache and hostNetwork pods', () => {
  it('a node address shared with hostNetwork pods started at other times resolves the same at any time', () => {
    const r = resolverOf(
      node('node-1', '10.0.0.1'),
      pod('kube-system', 'agent-a', { ip: '10.0.0.1', hostNetwork: true, node: 'node-1', startTime: '2024-01-01T00:00:00Z' }),
      pod('kube-system', 'agent-b', { ip: '10.0.0.1', hostNetwork: true, node: 'node-1', startTime: '2024-01-01T06:00:00Z' }),
    );
    const times = ['2023-12-31T00:00:00Z', '2024-01-01T03:00:00Z', '2024-01-01T09:00:00Z'].map(Date.parse);
    expect(times.map((t) => r.remote('10.0.0.1', t))).toEqual(times.map(() => r.remote('10.0.0.1', times[0]!)));
    expect(r.remote('10.0.0.1', NOW).tags).toEqual({ remote_kind: 'node', remote_name: 'node-1' });
  });
});

describe('remote side: DNS names of external peers (--dnstap-listen)', () => {
  const names = new DnsNameCache({ max: 10, graceMs: 0 });
  names.learn(
    { address: '52.216.1.2', asked: 's3.eu-west-1.amazonaws.com', answered: 's3-r-w.eu-west-1.amazonaws.com', ttlSeconds: 60 },
    NOW,
  );
  names.learn({ address: '10.1.0.5', asked: 'looks-external.example', answered: 'looks-external.example', ttlSeconds: 60 }, NOW);

  it('tags an external peer with the asked name while the answer holds; remote_name stays the address', () => {
    const r = new Resolver(new MetadataIndex(), { dnsNames: names });
    expect(r.remote('52.216.1.2', NOW + 1000).tags).toEqual({
      remote_kind: 'external',
      remote_name: '52.216.1.2',
      remote_dns: 's3.eu-west-1.amazonaws.com',
    });
    // Same party object for the same name: interned like every other.
    expect(r.remote('52.216.1.2', NOW + 2000)).toBe(r.remote('52.216.1.2', NOW + 1000));
    // Before the answer (beyond the skew allowed) and after its TTL: the address alone.
    expect(r.remote('52.216.1.2', NOW - 60_000).tags).toEqual({ remote_kind: 'external', remote_name: '52.216.1.2' });
    expect(r.remote('52.216.1.2', NOW + 61_000).tags).toEqual({ remote_kind: 'external', remote_name: '52.216.1.2' });
    expect(r.remote('::ffff:52.216.1.2', NOW + 1000).tags.remote_dns).toBe('s3.eu-west-1.amazonaws.com');
  });

  it('never names what the cluster knows: pods, Services and nodes keep their own names', () => {
    const r = new Resolver(resolverOf(pod('shop', 'web-1', { ip: '10.1.0.5' })).store, { dnsNames: names });
    expect(r.remote('10.1.0.5', NOW + 1000).tags).toMatchObject({ remote_kind: 'pod', remote_name: 'web-1' });
    expect(r.remote('10.1.0.5', NOW + 1000).tags.remote_dns).toBeUndefined();
  });

  it('without DNS names, external peers are as before', () => {
    expect(resolverOf().remote('52.216.1.2', NOW + 1000).tags).toEqual({ remote_kind: 'external', remote_name: '52.216.1.2' });
  });
});

describe('one bound on every cache (--max-cached-entries)', () => {
  it('stays within its entries whatever the number of peers, evicts least recently used, counts evictions, same answers', () => {
    const bounded = new Resolver(new MetadataIndex(), { maxCachedEntries: 100 });
    const unbounded = new Resolver(new MetadataIndex(), { maxCachedEntries: 1_000_000 });
    for (let i = 0; i < 5_000; i++) {
      const ip = `198.51.${i >> 8}.${i & 255}`;
      const pod = `p${i % 300}`;
      const a = bounded.tcpSeries(bounded.localPod('n1', 'ns', pod), bounded.remote(ip, NOW));
      const b = unbounded.tcpSeries(unbounded.localPod('n1', 'ns', pod), unbounded.remote(ip, NOW));
      expect(a.key).toBe(b.key);
      expect(bounded.cache.size).toBeLessThanOrEqual(100);
    }
    expect(bounded.cache.evictions).toBeGreaterThan(4_000);
    expect(unbounded.cache.evictions).toBe(0);
    // What is used all the time stays cached.
    const hot = bounded.localPod('n1', 'ns', 'hot');
    for (let i = 0; i < 500; i++) {
      expect(bounded.localPod('n1', 'ns', 'hot')).toBe(hot);
      bounded.remote(`203.0.113.${i % 250}`, NOW);
      bounded.localPod('n1', 'ns', `cold-${i}`);
    }
  });

  it('refuses a bound below 1 entry', () => {
    expect(() => new Resolver(new MetadataIndex(), { maxCachedEntries: 0 })).toThrow(/at least 1/);
  });
});
