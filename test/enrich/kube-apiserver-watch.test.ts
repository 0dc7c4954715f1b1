/**
 * The live store and the daemon against a real kube-apiserver: pods going Pending →
 * Running through the status subresource, a pod IP reused after a delete, an owner
 * chain created after its pod, a watch restarted after etcd compaction (410 Gone and a
 * relist that keeps the cache), `kovenant run` with the chart's ServiceAccount riding
 * out an API server stop and start, and `--events k8s-logs` through the real API
 * server's RBAC and log proxy (to a stand-in kubelet).
 *
 * The apiserver runs with --watch-cache=false: watches then read etcd directly and get
 * no bookmarks, so a watch resumed from a resourceVersion older than a compaction is
 * answered 410 Gone by the server itself, as in a cluster whose watch cache has moved on.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Resolver } from '../../src/enrich/resolver.ts';
import { KubeWatchStore } from '../../src/enrich/metadata/kube-watch-store.ts';
import { RELEASE, renderObjects } from '../deployment/support/helm.ts';
import { startDaemon, parseLineProtocol, type Daemon } from '../daemon/support.ts';
import { replayOutput } from '../support/cli.ts';
import { attributionRows, pointLines } from '../support/line-protocol.ts';
import { haveTools, startKubeApiServer, type KubeApiServer, type KubeManifest } from '../support/kube-apiserver.ts';
import { ClusterSeeder } from '../support/kube-seed.ts';
import { freePort } from '../support/servers.ts';
import { podAndServiceSends } from '../support/tetragon-lines.ts';
import { waitFor } from '../support/wait.ts';
import { captureLogger, eventually, join, tempDir, type CapturedLogger } from './kube-fixtures.ts';

const TOOLS = haveTools('helm', 'kube-apiserver', 'etcd');
const SNAPSHOT = 'examples/snapshot.json';
const LOG_LINES = gunzipSync(readFileSync('examples/events.jsonl.gz')).toString().split('\n').filter(Boolean).slice(0, 400);

/**
 * The kubelet's log endpoint, no more: what the API server proxies `pods/log` to. Serves
 * the lines with kubelet-style timestamps, then holds the stream open as `follow` does.
 * Its certificate is self-signed: the API server, given no --kubelet-certificate-authority,
 * does not verify kubelets.
 */
async function startFakeKubelet(lines: string[]): Promise<{ port: number; requests: string[]; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'kovenant-kubelet-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.key', '-out', 'k.crt', '-days', '1', '-subj', '/CN=127.0.0.1'],
    { cwd: dir, stdio: 'ignore' },
  );
  const requests: string[] = [];
  const open = new Set<ServerResponse>();
  const server = createHttpsServer({ key: readFileSync(join(dir, 'k.key')), cert: readFileSync(join(dir, 'k.crt')) }, (req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/plain' });
    const base = Date.UTC(2030, 0, 1);
    res.write(lines.map((l, i) => `${new Date(base + i).toISOString()} ${l}\n`).join(''));
    open.add(res);
    res.on('close', () => open.delete(res));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    requests,
    close: async () => {
      for (const res of open) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let api: KubeApiServer;
let seeder: ClusterSeeder;
let tmp: ReturnType<typeof tempDir>;
let adminConfig: string;
let store: KubeWatchStore | undefined;
let log: CapturedLogger;

function openStore(options: { watchTimeoutSeconds?: number } = {}): KubeWatchStore {
  const config = new KubeConfig();
  config.loadFromFile(adminConfig);
  log = captureLogger();
  store = new KubeWatchStore({ config, logger: log.logger, initialBackoffMs: 50, maxBackoffMs: 500, ...options });
  return store.start();
}

function remote(ip: string, atMs = Date.now()): Record<string, string> {
  return { ...new Resolver(store!).remote(ip, atMs).tags };
}

function local(ns: string, name: string): Record<string, string> {
  return { ...new Resolver(store!).localPod('node-a', ns, name).tags };
}

const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString();
const running = (ip: string, startMs: number): Record<string, unknown> => ({
  phase: 'Running',
  hostIP: '10.0.0.11',
  podIP: ip,
  podIPs: [{ ip }],
  startTime: iso(startMs),
});

async function podStatus(ns: string, name: string, status: Record<string, unknown>): Promise<void> {
  await api.must('PATCH', `/api/v1/namespaces/${ns}/pods/${name}/status`, { status }, { contentType: 'application/merge-patch+json' });
}

async function deletePod(ns: string, name: string): Promise<void> {
  // No kubelet confirms a graceful deletion: grace 0 removes the pod at once.
  await api.must('DELETE', `/api/v1/namespaces/${ns}/pods/${name}?gracePeriodSeconds=0`);
}

describe.skipIf(!TOOLS)('live metadata from a real kube-apiserver', () => {
  beforeAll(async () => {
    tmp = tempDir();
    api = await startKubeApiServer({ extraArgs: ['--watch-cache=false'] });
    seeder = new ClusterSeeder(api);
    await seeder.create({
      kind: 'Node',
      metadata: { name: 'node-a' },
      status: { addresses: [{ type: 'InternalIP', address: '10.0.0.11' }] },
    });
    await seeder.create({
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop', annotations: { 'meta.helm.sh/release-name': 'shop' } },
    });
    await seeder.create({
      kind: 'ReplicaSet',
      metadata: {
        name: 'web-7c9',
        namespace: 'shop',
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', controller: true }],
      },
    });
    await seeder.create({
      kind: 'Pod',
      metadata: {
        name: 'web-7c9-a',
        namespace: 'shop',
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7c9', controller: true }],
      },
      spec: { nodeName: 'node-a' },
      status: running('10.244.0.5', Date.now() - 600_000),
    });
    await seeder.create({
      kind: 'Pod',
      metadata: { name: 'pg-0', namespace: 'db' },
      spec: { nodeName: 'node-a' },
      status: running('10.244.0.6', Date.now() - 600_000),
    });
    await seeder.create({
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { type: 'ClusterIP', clusterIP: '10.96.0.10' },
    });
    adminConfig = join(tmp.dir, 'admin.kubeconfig');
    api.writeKubeconfig(adminConfig);
  }, 240_000);

  afterEach(async () => {
    await store?.stop();
    store = undefined;
  });

  afterAll(async () => {
    await api?.close();
    tmp?.dispose();
  });

  it('syncs all nine resources and attributes like a snapshot', async () => {
    await openStore().synced;
    expect(store!.status().counts).toMatchObject({ pods: 2, services: 2, nodes: 1, controllers: 2 });
    expect(remote('10.244.0.5')).toEqual({
      remote_kind: 'pod',
      remote_namespace: 'shop',
      remote_name: 'web-7c9-a',
      remote_workload: 'web',
      remote_release: 'shop',
    });
    expect(remote('10.96.0.10')).toEqual({ remote_kind: 'service', remote_namespace: 'shop', remote_name: 'web' });
    expect(remote('10.0.0.11')).toEqual({ remote_kind: 'node', remote_name: 'node-a' });
    expect(local('shop', 'web-7c9-a')).toMatchObject({ workload: 'web', workload_kind: 'Deployment', release: 'shop' });
  }, 60_000);

  it('follows a pod from Pending (no IP) to Running through the status subresource', async () => {
    await openStore().synced;
    await seeder.create({ kind: 'Pod', metadata: { name: 'api-0', namespace: 'shop' }, spec: { nodeName: 'node-a' } });
    await eventually(() => expect(store!.pod('shop', 'api-0')?.phase).toBe('Pending'), 30_000);
    expect(remote('10.244.0.50')).toMatchObject({ remote_kind: 'external' });
    await podStatus('shop', 'api-0', running('10.244.0.50', Date.now() - 1_000));
    await eventually(
      () => expect(remote('10.244.0.50')).toMatchObject({ remote_kind: 'pod', remote_name: 'api-0', remote_workload: 'api-0' }),
      30_000,
    );
  }, 60_000);

  it('keeps a reused pod IP on the deleted pod for late events and gives it to the new pod after it started', async () => {
    await openStore().synced;
    const t0 = Date.now();
    await seeder.create({
      kind: 'Pod',
      metadata: { name: 'old', namespace: 'shop' },
      spec: { nodeName: 'node-a' },
      status: running('10.244.0.9', t0 - 300_000),
    });
    await eventually(() => expect(remote('10.244.0.9')).toMatchObject({ remote_name: 'old' }), 30_000);
    await deletePod('shop', 'old');
    await eventually(() => expect(store!.pod('shop', 'old')?.deletedMs).toBeDefined(), 30_000);
    const newStart = Date.now() + 2_000;
    await seeder.create({
      kind: 'Pod',
      metadata: { name: 'new', namespace: 'shop' },
      spec: { nodeName: 'node-a' },
      status: running('10.244.0.9', newStart),
    });
    await eventually(() => expect(store!.podsByIp('10.244.0.9')).toHaveLength(2), 30_000);
    expect(remote('10.244.0.9', t0)).toMatchObject({ remote_name: 'old' });
    expect(remote('10.244.0.9', newStart + 5_000)).toMatchObject({ remote_name: 'new' });
  }, 60_000);

  it('completes the workload when the owner chain is created after the pod', async () => {
    await openStore().synced;
    await seeder.create({
      kind: 'Pod',
      metadata: {
        name: 'late-5c-1',
        namespace: 'shop',
        labels: { 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': 'from-label' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'late-5c', controller: true }],
      },
      spec: { nodeName: 'node-a' },
      status: running('10.244.2.1', Date.now() - 60_000),
    });
    await eventually(
      () => expect(local('shop', 'late-5c-1')).toMatchObject({ workload: 'late-5c-1', workload_kind: 'Pod', release: 'from-label' }),
      30_000,
    );
    await seeder.create({
      kind: 'ReplicaSet',
      metadata: {
        name: 'late-5c',
        namespace: 'shop',
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'late', controller: true }],
      },
    });
    await eventually(() => expect(local('shop', 'late-5c-1')).toMatchObject({ workload: 'late-5c', workload_kind: 'ReplicaSet' }), 30_000);
    await seeder.create({
      kind: 'Deployment',
      metadata: { name: 'late', namespace: 'shop', annotations: { 'meta.helm.sh/release-name': 'late-release' } },
    });
    await eventually(
      () => expect(local('shop', 'late-5c-1')).toMatchObject({ workload: 'late', workload_kind: 'Deployment', release: 'late-release' }),
      30_000,
    );
    expect(remote('10.244.2.1')).toMatchObject({ remote_workload: 'late', remote_release: 'late-release' });
  }, 90_000);

  it('after etcd compaction a resumed watch gets 410 Gone and relists, keeping the cache', async () => {
    // Watches the server ends every 2 s, so they resume from their last resourceVersion.
    await openStore({ watchTimeoutSeconds: 2 }).synced;
    const before = store!.status().resources.pods!.relists;
    // Move etcd on past the pods watch's resourceVersion (with changes it does not
    // watch), then drop the history: its next resume is from a compacted revision.
    await seeder.create({
      kind: 'Service',
      metadata: { name: `moves-${randomUUID().slice(0, 8)}`, namespace: 'shop' },
      spec: { type: 'ClusterIP' },
    });
    await api.compactEtcd();
    await eventually(() => expect(store!.status().resources.pods!.relists).toBeGreaterThan(before), 60_000);
    expect(store!.isSynced).toBe(true);
    expect(remote('10.244.0.5')).toMatchObject({ remote_kind: 'pod', remote_name: 'web-7c9-a', remote_workload: 'web' });
    // Not an outage: a 410 is the protocol, and it is not logged as a failure.
    expect(store!.status().outageSinceMs).toBeUndefined();
    expect(log.lines().filter((l) => l.level >= 50)).toEqual([]);
    // And the watch that followed the relist delivers changes again.
    await seeder.create({
      kind: 'Pod',
      metadata: { name: 'after-410', namespace: 'shop' },
      spec: { nodeName: 'node-a' },
      status: running('10.244.3.1', Date.now() - 1_000),
    });
    await eventually(() => expect(remote('10.244.3.1')).toMatchObject({ remote_name: 'after-410' }), 30_000);
  }, 120_000);

  describe("kovenant run with the chart's ServiceAccount", () => {
    let daemon: Daemon | undefined;
    afterAll(() => daemon?.kill());

    /** The chart's ServiceAccount, ClusterRole and binding (default values), and a kubeconfig with a TokenRequest token for it. */
    async function chartServiceAccount(): Promise<string> {
      await seeder.namespace(RELEASE.namespace);
      for (const obj of renderObjects().filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind))) {
        expect((await api.apply(obj as KubeManifest)).status).toBeLessThan(300);
      }
      const token = await api.must<{ status: { token: string } }>(
        'POST',
        `/api/v1/namespaces/${RELEASE.namespace}/serviceaccounts/${RELEASE.name}/token`,
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 3600 },
        },
      );
      const file = join(tmp.dir, 'sa.kubeconfig');
      api.writeKubeconfig(file, { token: token.status.token });
      return file;
    }

    async function metric(port: number, name: string): Promise<number> {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    }
    async function readyz(port: number): Promise<number> {
      return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status ?? 0;
    }

    it('syncs with no 403, serves the cache through an API server stop and start (kovenant_metadata_outage_seconds rises and falls), attributes exactly', async () => {
      const saConfig = await chartServiceAccount();

      const port = await freePort();
      daemon = startDaemon(
        [],
        [
          'run',
          '--events',
          '-',
          '--kubeconfig',
          saConfig,
          '--window',
          '10s',
          '--lateness',
          '0s',
          '--metrics-addr',
          `127.0.0.1:${port}`,
          '--output',
          'line',
        ],
        { KOVENANT_LOG_LEVEL: 'info' },
        'pipe',
      );
      await waitFor('/readyz to answer 200 after the sync', async () => (await readyz(port)) === 200, 60_000, 100);
      expect(await metric(port, 'kovenant_metadata_outage_seconds')).toBe(0);

      // Synced with the chart's RBAC: not one request refused.
      expect(daemon.stderr()).not.toMatch(/forbidden|"status":403|unauthorized/i);
      expect(daemon.stderr()).toContain('Kubernetes metadata synced');
      await api.stopApiServer();
      try {
        await waitFor(
          'kovenant_metadata_outage_seconds above 0',
          async () => (await metric(port, 'kovenant_metadata_outage_seconds')) > 0,
          60_000,
          200,
        );
        expect(await readyz(port)).toBe(200);
      } finally {
        await api.startApiServer();
      }
      await waitFor('the outage to end', async () => (await metric(port, 'kovenant_metadata_outage_seconds')) === 0, 90_000, 200);

      // Events written now are attributed from the cache that rode out the outage.
      const t = new Date(Math.floor(Date.now() / 10_000) * 10_000 - 60_000).toISOString();
      daemon.child.stdin!.end(
        podAndServiceSends(t, { namespace: 'shop', name: 'web-7c9-a' }, { pod: '10.244.0.5', peer: '10.244.0.6', service: '10.96.0.10' }),
      );
      expect(await daemon.exited(60_000)).toBe(0);
      // A restarting API server may answer 403 until its RBAC caches are filled (seen
      // here): logged, retried, and over once it is reachable again.
      const afterRestart = daemon.stderr().split('\n');
      const lastForbidden = afterRestart.findLastIndex((l) => l.includes('"status":403'));
      expect(afterRestart.findIndex((l, i) => i > lastForbidden && l.includes('Kubernetes API reachable again'))).toBeGreaterThan(
        lastForbidden,
      );
      expect(attributionRows(parseLineProtocol(daemon.stdout()))).toEqual([
        ['web-7c9-a', 'web', 'Deployment', 'shop', 'pod', 'pg-0', 1234],
        ['web-7c9-a', 'web', 'Deployment', 'shop', 'service', 'web', 10],
      ]);
    }, 300_000);

    it('--events k8s-logs through the real API server: pods/log refused with the default values, and with config.events k8s-logs the points a replay of the lines gives', async () => {
      // No kubelet runs: this one is a stand-in for the kubelet's /containerLogs endpoint
      // only (HTTPS on loopback, where the Tetragon pod's node says its kubelet is). Pod
      // listing, RBAC, and the proxying of the log stream are the real API server's.
      const kubelet = await startFakeKubelet(LOG_LINES);
      try {
        await seeder.create({
          kind: 'Node',
          metadata: { name: 'node-l' },
          status: {
            addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
            daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } },
          },
        });
        await seeder.create({
          kind: 'Pod',
          metadata: { name: 'tetragon-l', namespace: 'kube-system', labels: { 'app.kubernetes.io/name': 'tetragon' } },
          spec: { nodeName: 'node-l', containers: [{ name: 'export-stdout', image: 'registry.invalid/tetragon:1' }] },
          status: {
            ...running('10.244.9.9', Date.now() - 60_000),
            containerStatuses: [
              {
                name: 'export-stdout',
                ready: true,
                restartCount: 0,
                image: 'registry.invalid/tetragon:1',
                imageID: '',
                state: { running: { startedAt: iso(Date.now() - 60_000) } },
              },
            ],
          },
        });
        const saConfig = await chartServiceAccount();
        const args = [
          'run',
          '--events',
          'k8s-logs',
          '--kubeconfig',
          saConfig,
          '--kube',
          SNAPSHOT,
          '--output',
          'line',
          '--lateness',
          '5m',
          '--metrics-addr',
          'off',
          '--duration',
          '8s',
        ];
        const denied = startDaemon([], args, { KUBECONFIG: '' });
        expect(await denied.exited(120_000)).toBe(2);
        expect(denied.stderr()).toContain('forbidden to get pods/log in namespace kube-system');
        expect(denied.stderr()).toContain(`system:serviceaccount:${RELEASE.namespace}:${RELEASE.name}`);
        expect(kubelet.requests).toEqual([]);

        const withLogs = renderObjects({ values: { config: { events: 'k8s-logs' } } }).find((o) => o.kind === 'ClusterRole')!;
        expect((await api.apply(withLogs as KubeManifest)).status).toBe(200);
        const allowed = async (): Promise<boolean> => {
          const review = await api.must<{ status: { allowed: boolean } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: `system:serviceaccount:${RELEASE.namespace}:${RELEASE.name}`,
              groups: ['system:serviceaccounts', 'system:authenticated'],
              resourceAttributes: { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'kube-system' },
            },
          });
          return review.status.allowed;
        };
        await waitFor('the RBAC authorizer to see pods/log granted', allowed, 30_000, 100);
        const following = startDaemon([], args, { KUBECONFIG: '', KOVENANT_LOG_LEVEL: 'info' });
        expect(await following.exited(120_000)).toBe(0);
        expect(following.stderr()).not.toContain('forbidden');
        expect(following.stderr()).toContain('k8s-logs: following a Tetragon pod');
        // The API server passed the log request on to the node's kubelet, as for a real pod.
        expect(kubelet.requests[0]).toMatch(/^\/containerLogs\/kube-system\/tetragon-l\/export-stdout\?/);
        expect(kubelet.requests[0]).toContain('follow=true');
        expect(kubelet.requests[0]).toContain('timestamps=true');
        // kovenant_source (the daemon's completeness points) has no counterpart in a replay.
        const live = pointLines(following.stdout()).sort();
        const replayed = pointLines(await replayOutput(LOG_LINES, ['--kube', SNAPSHOT, '--window', '10s'])).sort();
        expect(live.length).toBeGreaterThan(20);
        expect(live).toEqual(replayed);
      } finally {
        await kubelet.close();
      }
    }, 300_000);
  });
});
