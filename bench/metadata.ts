/**
 * Metadata at cluster scale: 150,000 pods, 10,000 Services, 5,000 nodes (plus 15,000
 * Deployments and their ReplicaSets) served by the in-test list/watch API server and
 * synced through the real informer path (paginated lists through client-node, then
 * watches). Reports the sync time, the heap the store retains (target ≤ 100 MB) and the
 * cost of one IP lookup (target well under 1 µs).
 *
 * Alone: node --expose-gc --import tsx bench/metadata.ts
 *
 * Why the fake server: loading 150,000 pods into a real etcd would take minutes and measure etcd, not kovenant.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { KubeWatchStore } from '../src/enrich/metadata/kube-watch-store.ts';
import { Resolver } from '../src/enrich/resolver.ts';
import { startFakeKubeApi, type FakeObject } from '../test/support/fake-kube-api.ts';

// KOVENANT_BENCH_SCALE=0.1 for a quick look; the targets are for scale 1.
const SCALE = Number(process.env.KOVENANT_BENCH_SCALE ?? 1);
const PODS = Math.round(150_000 * SCALE);
const SERVICES = Math.round(10_000 * SCALE);
const NODES = Math.round(5_000 * SCALE);
const DEPLOYMENTS = Math.round(15_000 * SCALE);
const NAMESPACES = 300;
const LOOKUPS = 2_000_000;

function podIp(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}
function serviceIp(i: number): string {
  return `172.20.${(i >> 8) & 255}.${i & 255}`;
}
function nodeIp(i: number): string {
  return `192.168.${(i >> 8) & 255}.${i & 255}`;
}
function uid(prefix: string, i: number): string {
  return `${prefix}${i.toString(16).padStart(8, '0')}-1f2e-4d3c-9b8a-${i.toString(16).padStart(12, '0')}`;
}

function* cluster(): Generator<FakeObject> {
  const created = '2026-11-01T00:00:00Z';
  for (let n = 0; n < NODES; n++) {
    yield {
      kind: 'Node',
      metadata: {
        name: `node-${n}`,
        uid: uid('a', n),
        creationTimestamp: created,
        labels: { 'kubernetes.io/hostname': `node-${n}`, 'topology.kubernetes.io/zone': `zone-${n % 3}` },
      },
      status: {
        addresses: [
          { type: 'InternalIP', address: nodeIp(n) },
          { type: 'Hostname', address: `node-${n}` },
        ],
      },
    };
  }
  for (let d = 0; d < DEPLOYMENTS; d++) {
    const ns = `ns-${d % NAMESPACES}`;
    yield {
      kind: 'Deployment',
      metadata: { name: `app-${d}`, namespace: ns, uid: uid('b', d), annotations: { 'meta.helm.sh/release-name': `rel-${d % 2000}` } },
      spec: { replicas: 10 },
    };
    yield {
      kind: 'ReplicaSet',
      metadata: {
        name: `app-${d}-6f7d9c`,
        namespace: ns,
        uid: uid('c', d),
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: `app-${d}`, uid: uid('b', d), controller: true }],
      },
      spec: { replicas: 10 },
    };
  }
  for (let s = 0; s < SERVICES; s++) {
    yield {
      kind: 'Service',
      metadata: { name: `svc-${s}`, namespace: `ns-${s % NAMESPACES}`, uid: uid('d', s) },
      spec: { type: 'ClusterIP', clusterIP: serviceIp(s), clusterIPs: [serviceIp(s)], ports: [{ port: 80, protocol: 'TCP' }] },
    };
  }
  for (let p = 0; p < PODS; p++) {
    const d = p % DEPLOYMENTS;
    const ns = `ns-${d % NAMESPACES}`;
    yield {
      kind: 'Pod',
      metadata: {
        name: `app-${d}-6f7d9c-${p.toString(36)}`,
        namespace: ns,
        uid: uid('e', p),
        creationTimestamp: created,
        labels: {
          app: `app-${d}`,
          'pod-template-hash': '6f7d9c',
          'app.kubernetes.io/managed-by': 'Helm',
          'app.kubernetes.io/instance': `rel-${d % 2000}`,
        },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: `app-${d}-6f7d9c`,
            uid: uid('c', d),
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        nodeName: `node-${p % NODES}`,
        containers: [{ name: 'app', image: `registry.example/app-${d % 50}:1.2.3`, ports: [{ containerPort: 8080 }] }],
        serviceAccountName: 'default',
      },
      status: {
        phase: 'Running',
        podIP: podIp(p),
        podIPs: [{ ip: podIp(p) }],
        hostIP: nodeIp(p % NODES),
        startTime: created,
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: created }],
      },
    };
  }
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) collect();
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export async function benchMetadata(): Promise<string> {
  const api = await startFakeKubeApi();
  const dir = mkdtempSync(join(tmpdir(), 'kovenant-bench-'));
  try {
    api.load(cluster());
    const file = join(dir, 'kubeconfig');
    api.writeKubeconfig(file);
    const config = new KubeConfig();
    config.loadFromFile(file);
    gc();
    const before = process.memoryUsage().heapUsed;

    const started = performance.now();
    const store = new KubeWatchStore({ config, logger: pino({ level: 'silent' }) }).start();
    await store.synced;
    const syncMs = performance.now() - started;
    await store.stop();
    gc();
    const retained = process.memoryUsage().heapUsed - before;
    const counts = store.status().counts;

    // Lookups on IPs in a scattered order, so the CPU cache does not flatter them.
    const ips: string[] = [];
    for (let i = 0; i < 65_536; i++) ips.push(podIp((i * 7919) % PODS));
    let found = 0;
    let t = performance.now();
    for (let i = 0; i < LOOKUPS; i++) found += store.podsByIp(ips[i & 65_535]!).length;
    const indexNs = ((performance.now() - t) * 1e6) / LOOKUPS;
    if (found !== LOOKUPS) throw new Error(`lookups found ${found} of ${LOOKUPS}`);

    // Through the resolver: first sight of each IP (owner chain walked), then cached.
    const resolver = new Resolver(store);
    const atMs = Date.parse('2026-11-02T00:00:00Z');
    t = performance.now();
    for (const ip of ips) resolver.remote(ip, atMs);
    const coldNs = ((performance.now() - t) * 1e6) / ips.length;
    t = performance.now();
    for (let i = 0; i < LOOKUPS; i++) resolver.remote(ips[i & 65_535]!, atMs);
    const warmNs = ((performance.now() - t) * 1e6) / LOOKUPS;

    return [
      `metadata: ${counts.pods} pods, ${counts.services} services, ${counts.nodes} nodes, ${counts.controllers} controllers through list/watch`,
      `  sync (paginated lists of 500)     ${(syncMs / 1000).toFixed(2)} s`,
      `  retained heap                     ${mb(retained)}  (target ≤ 100 MB)`,
      `  IP lookup, index                  ${indexNs.toFixed(0)} ns  (target well under 1 µs)`,
      `  IP → remote party, first sight    ${coldNs.toFixed(0)} ns`,
      `  IP → remote party, cached         ${warmNs.toFixed(0)} ns`,
    ].join('\n');
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await benchMetadata());
}
