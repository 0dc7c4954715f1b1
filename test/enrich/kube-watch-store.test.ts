/**
 * The live store driven end to end by real client-node list/watch calls against the
 * in-test API server, checking attribution through the real resolver after each change.
 * The real apiserver's version of the ordinary paths (Pending -> Running, IP reuse,
 * owners created late, 410 after compaction) is kube-apiserver-watch.test.ts.
 *
 * Why the fake here: it counts list pages and watch requests, takes a controlled clock
 * for deletions and purges, and produces on demand what a real server does only by
 * chance: bookmarks at a chosen moment, dropped and truncated streams, expired history
 * during an outage, refused connections on a kept port, HTTP 500s and 403s.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { Resolver } from '../../src/enrich/resolver.ts';
import { KubeWatchStore } from '../../src/enrich/metadata/kube-watch-store.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../support/fake-kube-api.ts';
import { T0, captureLogger, controller, eventually, join, node, pod, service, tempDir, type CapturedLogger } from './kube-fixtures.ts';

let api: FakeKubeApi;
let store: KubeWatchStore;
let clock: number;
let log: CapturedLogger;
let tmp: ReturnType<typeof tempDir>;

function openStore(options: { pageSize?: number } = {}): KubeWatchStore {
  const file = join(tmp.dir, 'kubeconfig');
  api.writeKubeconfig(file);
  const config = new KubeConfig();
  config.loadFromFile(file);
  store = new KubeWatchStore({
    config,
    logger: log.logger,
    now: () => clock,
    initialBackoffMs: 10,
    maxBackoffMs: 50,
    ...options,
  });
  return store.start();
}

/** A fresh resolver each time: these tests check the store, not the resolver's caches. */
function remote(ip: string, atMs = clock): Record<string, string> {
  return { ...new Resolver(store).remote(ip, atMs).tags };
}

function local(ns: string, name: string): Record<string, string> {
  return { ...new Resolver(store).localPod('node-a', ns, name).tags };
}

beforeEach(async () => {
  clock = T0 + 60_000;
  log = captureLogger();
  tmp = tempDir();
  api = await startFakeKubeApi();
});

afterEach(async () => {
  await store?.stop();
  await api.close();
  tmp.dispose();
});

describe('KubeWatchStore against a list/watch API server', () => {
  it('syncs all nine resources over paginated lists, then attributes like a snapshot', async () => {
    api.put(node('node-a', '192.168.0.10'));
    api.put(controller('Deployment', 'shop', 'web', undefined, 'shop-release'));
    api.put(controller('ReplicaSet', 'shop', 'web-7d9', { kind: 'Deployment', name: 'web' }));
    for (let i = 0; i < 7; i++)
      api.put(pod({ name: `web-7d9-${i}`, ip: `10.0.0.${i + 1}`, owner: { kind: 'ReplicaSet', name: 'web-7d9' } }));
    api.put(service('shop', 'web', '10.96.0.10', 'shop-release'));
    api.put(controller('CronJob', 'ops', 'backup'));
    api.put(controller('Job', 'ops', 'backup-1', { kind: 'CronJob', name: 'backup' }));
    api.put(pod({ ns: 'ops', name: 'backup-1-x', ip: '10.0.1.1', owner: { kind: 'Job', name: 'backup-1' } }));

    openStore({ pageSize: 3 });
    expect(store.isSynced).toBe(false);
    await store.synced;

    const s = store.status();
    expect(s.synced).toBe(true);
    expect(s.counts).toMatchObject({ pods: 8, services: 1, nodes: 1, controllers: 4 });
    expect(s.outageSinceMs).toBeUndefined();
    // Pagination really happened: 8 pods at 3 a page.
    expect(api.requests.filter((r) => r.verb === 'list' && r.kind === 'Pod')).toHaveLength(3);

    expect(remote('10.0.0.3')).toEqual({
      remote_kind: 'pod',
      remote_namespace: 'shop',
      remote_name: 'web-7d9-2',
      remote_workload: 'web',
      remote_release: 'shop-release',
    });
    expect(remote('10.96.0.10')).toEqual({
      remote_kind: 'service',
      remote_namespace: 'shop',
      remote_name: 'web',
      remote_release: 'shop-release',
    });
    expect(remote('192.168.0.10')).toEqual({ remote_kind: 'node', remote_name: 'node-a' });
    expect(remote('::ffff:10.0.1.1')).toMatchObject({ remote_kind: 'pod', remote_workload: 'backup' });
    expect(local('ops', 'backup-1-x')).toMatchObject({ workload: 'backup', workload_kind: 'CronJob' });
    expect(remote('8.8.8.8')).toEqual({ remote_kind: 'external', remote_name: '8.8.8.8' });
  });

  it('follows pods and Services created, updated and deleted while watching', async () => {
    openStore();
    await store.synced;
    await eventually(() => expect(api.openWatches()).toBe(9));

    // Pending without an IP, then Running with one.
    api.put(pod({ name: 'api-0', phase: 'Pending' }));
    await eventually(() => expect(store.pod('shop', 'api-0')?.phase).toBe('Pending'));
    expect(remote('10.0.0.50')).toMatchObject({ remote_kind: 'external' });
    api.put(pod({ name: 'api-0', phase: 'Running', ip: '10.0.0.50', startMs: T0 + 1_000 }));
    await eventually(() =>
      expect(remote('10.0.0.50')).toMatchObject({ remote_kind: 'pod', remote_name: 'api-0', remote_workload: 'api-0' }),
    );

    api.put(service('shop', 'api', '10.96.0.20'));
    await eventually(() => expect(remote('10.96.0.20')).toMatchObject({ remote_kind: 'service', remote_name: 'api' }));
    api.put(service('shop', 'api', '10.96.0.20', 'api-release'));
    await eventually(() => expect(remote('10.96.0.20')).toMatchObject({ remote_release: 'api-release' }));

    // Deleted: still the Service during the grace period, external once purged.
    api.remove('Service', 'shop', 'api');
    await eventually(() => expect(store.servicesByIp('10.96.0.20')[0]?.deletedMs).toBe(clock));
    expect(remote('10.96.0.20')).toMatchObject({ remote_kind: 'service', remote_name: 'api' });
    clock += 119_000;
    expect(store.purge()).toBe(0);
    clock += 2_000;
    expect(store.purge()).toBe(1);
    expect(remote('10.96.0.20')).toEqual({ remote_kind: 'external', remote_name: '10.96.0.20' });

    api.put(node('node-b', '192.168.0.11'));
    await eventually(() => expect(remote('192.168.0.11')).toEqual({ remote_kind: 'node', remote_name: 'node-b' }));
    api.remove('Node', undefined, 'node-b');
    await eventually(() => expect(store.nodesByIp('192.168.0.11')[0]?.deletedMs).toBeDefined());
  });

  it('one resolver reused across changes sees each change (its caches follow the store)', async () => {
    openStore();
    await store.synced;
    const resolver = new Resolver(store);
    api.put(pod({ name: 'p', ip: '10.0.3.1', owner: { kind: 'StatefulSet', name: 'db' } }));
    await eventually(() => expect(resolver.remote('10.0.3.1', clock).tags).toMatchObject({ remote_workload: 'p' }));
    api.put(controller('StatefulSet', 'shop', 'db', undefined, 'db-release'));
    await eventually(() =>
      expect(resolver.remote('10.0.3.1', clock).tags).toMatchObject({ remote_workload: 'db', remote_release: 'db-release' }),
    );
    api.remove('StatefulSet', 'shop', 'db');
    await eventually(() => expect(resolver.remote('10.0.3.1', clock).tags).toMatchObject({ remote_workload: 'p' }));
  });

  it('resumes from bookmarks, rewatches dropped and truncated streams without relisting', async () => {
    api.put(pod({ name: 'a', ip: '10.0.4.1' }));
    openStore();
    await store.synced;
    await eventually(() => expect(api.openWatches('Pod')).toBe(1));
    const lists = (): number => api.requests.filter((r) => r.verb === 'list' && r.kind === 'Pod').length;
    expect(lists()).toBe(1);

    api.put(service('shop', 'unrelated', '10.96.0.99'));
    api.bookmark();
    // No wait between: the bookmark and the end of the stream travel in order on one
    // connection, so the store has read the bookmark before it sees the end.
    api.dropWatches();
    await eventually(() => expect(api.openWatches('Pod')).toBe(1));
    const podWatches = api.requests.filter((r) => r.verb === 'watch' && r.kind === 'Pod');
    // The bookmark moved the pod watch past the Service change it never saw.
    expect(Number(podWatches.at(-1)?.query.resourceVersion)).toBeGreaterThan(Number(podWatches[0]?.query.resourceVersion));
    expect(podWatches.at(-1)?.query.allowWatchBookmarks).toBe('true');

    api.truncateWatches();
    api.put(pod({ name: 'b', ip: '10.0.4.2' }));
    await eventually(() => expect(remote('10.0.4.2')).toMatchObject({ remote_name: 'b' }));
    expect(lists()).toBe(1);
    expect(store.status().resources.pods?.relists).toBe(0);
  });

  it('relists after 410 Gone without emptying the cache, deleting what vanished meanwhile', async () => {
    api.put(pod({ name: 'stays', ip: '10.0.5.1' }));
    api.put(pod({ name: 'goes', ip: '10.0.5.2' }));
    openStore();
    await store.synced;
    await eventually(() => expect(api.openWatches('Pod')).toBe(1));

    // Changes the watch never delivers: history compacted, then the state moves on.
    await api.pause();
    api.remove('Pod', 'shop', 'goes');
    api.put(pod({ name: 'arrives', ip: '10.0.5.3' }));
    api.expire();
    // While disconnected, the last known state still answers.
    expect(remote('10.0.5.2')).toMatchObject({ remote_name: 'goes' });
    await api.resume();

    await eventually(() => expect(store.status().resources.pods?.relists).toBe(1));
    expect(remote('10.0.5.1')).toMatchObject({ remote_name: 'stays' });
    expect(remote('10.0.5.3')).toMatchObject({ remote_name: 'arrives' });
    // Vanished during the outage: deleted now, still resolvable for the grace period.
    expect(store.pod('shop', 'goes')?.deletedMs).toBe(clock);
    expect(remote('10.0.5.2')).toMatchObject({ remote_name: 'goes' });
    await eventually(() => expect(store.status().outageSinceMs).toBeUndefined());
  });

  it('retries an unreachable API server at start with a clear log line, then syncs', async () => {
    await api.pause();
    openStore();
    await eventually(() => expect(log.lines().filter((l) => l.level === 40).length).toBeGreaterThanOrEqual(9));
    const first = log.lines().find((l) => l.level === 40);
    // The paused fake resets connections (it keeps its port): refused and reset read alike.
    expect(first?.msg).toMatch(
      /^cannot sync Kubernetes metadata yet: http:\/\/127\.0\.0\.1:\d+: list \w+.*(ECONNREFUSED|ECONNRESET).*; retrying in \d+ ms$/,
    );
    expect(store.isSynced).toBe(false);
    expect(store.status().outageSinceMs).toBe(clock);
    await api.resume();
    await store.synced;
    await eventually(() => expect(store.status().outageSinceMs).toBeUndefined());
  });

  it('retries an API server that fails at start, logging each retry, then syncs', async () => {
    api.fail({ verb: 'list', kind: 'Service', status: 500, times: 3 });
    openStore();
    await store.synced;
    const warnings = log.lines().filter((l) => l.level === 40 && l.msg.includes('list services'));
    expect(warnings).toHaveLength(3);
    expect(warnings[0]?.msg).toMatch(
      /cannot sync Kubernetes metadata yet: http:\/\/127\.0\.0\.1:\d+: list services: HTTP 500 .*retrying in \d+ ms/,
    );
    expect(store.status().lastError).toContain('list services');
  });

  it('names the verb and resource a 403 forbids, and stays unsynced', async () => {
    api.fail({ verb: 'list', kind: 'DaemonSet', status: 403, times: 1_000 });
    openStore();
    await eventually(() => expect(store.status().resources.daemonsets?.lastError).toBeDefined());
    const s = store.status();
    expect(s.synced).toBe(false);
    expect(s.resources.daemonsets?.lastError).toContain('forbidden to list daemonsets.apps');
    expect(s.resources.daemonsets?.lastError).toContain('grant verbs [list, watch] on resource "daemonsets" in apiGroup "apps"');
    expect(log.lines().some((l) => l.level === 50 && l.msg.includes('forbidden to list daemonsets.apps'))).toBe(true);
  });

  it('serves the last known state through an outage and reports it in status and logs', async () => {
    api.put(pod({ name: 'a', ip: '10.0.6.1' }));
    openStore();
    await store.synced;
    await eventually(() => expect(api.openWatches()).toBe(9));
    clock += 5_000;
    const downAt = clock;
    await api.pause();
    await eventually(() => expect(store.status().outageSinceMs).toBe(downAt));
    expect(remote('10.0.6.1')).toMatchObject({ remote_name: 'a' });
    expect(log.lines().some((l) => l.msg.startsWith('Kubernetes API unreachable, serving the last known metadata'))).toBe(true);
    await api.resume();
    await eventually(() => expect(store.status().outageSinceMs).toBeUndefined());
    expect(log.lines().some((l) => l.msg === 'Kubernetes API reachable again')).toBe(true);
  });
});
