/**
 * `kovenant replay --kubeconfig` against a real kube-apiserver holding the example
 * cluster: the same attribution as the replay with a `kubectl get -o json` snapshot of
 * that server, first as the admin, then with the chart's own ServiceAccount, ClusterRole
 * and binding (a TokenRequest token), where a missing rule must give the documented
 * one-line error. Runs the real CLI.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELEASE, renderObjects, type K8sObject } from '../deployment/support/helm.ts';
import { haveTools, startKubeApiServer, type KubeApiServer, type KubeManifest } from '../support/kube-apiserver.ts';
import { ClusterSeeder, snapshotOf, type SeedObject } from '../support/kube-seed.ts';
import { join, tempDir } from './kube-fixtures.ts';
import { kovenant } from './kube-cli.ts';
import { waitFor } from '../support/wait.ts';

const EVENTS = 'examples/events.jsonl.gz';
const SNAPSHOT = 'examples/snapshot.json';
const TOOLS = haveTools('helm', 'kube-apiserver', 'etcd');

let api: KubeApiServer;
let tmp: ReturnType<typeof tempDir>;
let adminConfig: string;
let serverSnapshot: string;
let chart: K8sObject[];

/** The chart's ServiceAccount token, from the TokenRequest API, as a projected token would be. */
async function serviceAccountToken(): Promise<string> {
  const res = await api.must<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${RELEASE.namespace}/serviceaccounts/${RELEASE.name}/token`,
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 3600 },
    },
  );
  return res.status.token;
}

function clusterRole(from: K8sObject[]): KubeManifest & { rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> } {
  return from.find((o) => o.kind === 'ClusterRole') as never;
}

/** Can the chart's ServiceAccount do this? Asked of the API server's own authorizer. */
async function allowed(verb: string, resource: string, subresource?: string): Promise<boolean> {
  const review = await api.must<{ status: { allowed: boolean } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: `system:serviceaccount:${RELEASE.namespace}:${RELEASE.name}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${RELEASE.namespace}`, 'system:authenticated'],
      resourceAttributes: { verb, resource, ...(subresource ? { subresource } : {}), namespace: 'kube-system' },
    },
  });
  return review.status.allowed;
}

describe.skipIf(!TOOLS)('kovenant replay against a real kube-apiserver', () => {
  beforeAll(async () => {
    tmp = tempDir();
    api = await startKubeApiServer();
    const seeder = new ClusterSeeder(api);
    await seeder.createAll((JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as { items: SeedObject[] }).items);
    adminConfig = join(tmp.dir, 'admin.kubeconfig');
    api.writeKubeconfig(adminConfig);
    serverSnapshot = join(tmp.dir, 'server-snapshot.json');
    writeFileSync(serverSnapshot, JSON.stringify(await snapshotOf(api)));
    // The chart's RBAC objects, for real, in the release namespace.
    await seeder.namespace(RELEASE.namespace);
    chart = renderObjects();
    for (const obj of chart.filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind))) {
      const res = await api.apply(obj as KubeManifest);
      expect(res.status, res.text.slice(0, 500)).toBeLessThan(300);
    }
  }, 240_000);

  afterAll(async () => {
    await api?.close();
    tmp?.dispose();
  });

  it('as the admin: prints what the replay with a snapshot of that server prints, and what the committed snapshot gives', async () => {
    const [live, snapshot, committed, bare] = await Promise.all([
      kovenant(['replay', EVENTS, '--kubeconfig', adminConfig, '--no-summary']),
      kovenant(['replay', EVENTS, '--kube', serverSnapshot, '--no-summary']),
      kovenant(['replay', EVENTS, '--kube', SNAPSHOT, '--no-summary']),
      kovenant(['replay', EVENTS, '--no-summary']),
    ]);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    expect(live.code, live.stderr).toBe(0);
    expect(live.stderr).toContain(`waiting for Kubernetes metadata from ${api.url}`);
    expect(live.stderr).toContain('Kubernetes metadata synced: 12 pods, 5 services, 3 nodes, 11 workload controllers');
    expect(snapshot.stdout).toMatch(/remote_kind=pod/);
    expect(snapshot.stdout).toMatch(/remote_kind=service/);
    expect(snapshot.stdout).toMatch(/release=/);
    expect(bare.stdout).not.toBe(snapshot.stdout);
    expect(live.stdout).toBe(snapshot.stdout);
    // Owners, release names, IPs, phases and start times survived the round trip through
    // the API server: the attribution is that of the committed snapshot.
    expect(live.stdout).toBe(committed.stdout);
  }, 180_000);

  it('KUBECONFIG alone (no --kube) selects watches, and --context picks the context', async () => {
    const named = join(tmp.dir, 'named.kubeconfig');
    api.writeKubeconfig(named, { context: 'kind-test' });
    const [viaEnv, snapshot] = await Promise.all([
      kovenant(['replay', EVENTS, '--no-summary'], { KUBECONFIG: named }),
      kovenant(['replay', EVENTS, '--kube', serverSnapshot, '--no-summary']),
    ]);
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(viaEnv.stdout).toBe(snapshot.stdout);
    const badContext = await kovenant(['replay', EVENTS, '--kubeconfig', named, '--context', 'prod']);
    expect(badContext.code).toBe(2);
    expect(badContext.stderr).toContain('no context "prod"');
    expect(badContext.stderr).toContain('--context must be one of: kind-test');
  }, 180_000);

  it("with the chart's ServiceAccount, ClusterRole and binding (TokenRequest token): every resource syncs, no 403, same attribution", async () => {
    const saConfig = join(tmp.dir, 'sa.kubeconfig');
    api.writeKubeconfig(saConfig, { token: await serviceAccountToken() });
    const [live, snapshot] = await Promise.all([
      kovenant(['replay', EVENTS, '--kubeconfig', saConfig, '--no-summary', '--sync-timeout', '60s']),
      kovenant(['replay', EVENTS, '--kube', serverSnapshot, '--no-summary']),
    ]);
    expect(live.code, live.stderr).toBe(0);
    expect(live.stderr).not.toMatch(/forbidden|403|unauthorized/i);
    expect(live.stderr).toContain('Kubernetes metadata synced: 12 pods, 5 services, 3 nodes, 11 workload controllers');
    expect(live.stdout).toBe(snapshot.stdout);
  }, 180_000);

  it('a ClusterRole without statefulsets: exits 2 with the one-line error naming the verb and resource', async () => {
    const full = clusterRole(chart);
    const reduced = structuredClone(full);
    reduced.rules = reduced.rules.map((r) => ({ ...r, resources: r.resources.filter((x) => x !== 'statefulsets') }));
    expect(reduced.rules.flatMap((r) => r.resources)).not.toContain('statefulsets');
    const saConfig = join(tmp.dir, 'sa-reduced.kubeconfig');
    api.writeKubeconfig(saConfig, { token: await serviceAccountToken() });
    expect((await api.apply(reduced)).status).toBe(200);
    try {
      const res = await kovenant(['replay', EVENTS, '--kubeconfig', saConfig, '--sync-timeout', '5s']);
      expect(res.code).toBe(2);
      expect(res.stdout).toBe('');
      expect(res.stderr).toContain('still waiting for Kubernetes metadata, retrying');
      const last = res.stderr.trim().split('\n').pop()!;
      expect(last).toMatch(
        /^kovenant: Kubernetes metadata from https:\/\/127\.0\.0\.1:\d+ not synced within 5s: .*forbidden to list statefulsets\.apps/,
      );
      expect(last).toContain('grant verbs [list, watch] on resource "statefulsets" in apiGroup "apps" to kovenant\'s ClusterRole');
      // The API server's own message, naming the ServiceAccount, is carried through.
      expect(last).toContain(`system:serviceaccount:${RELEASE.namespace}:${RELEASE.name}`);
    } finally {
      expect((await api.apply(full)).status).toBe(200);
    }
  }, 120_000);

  it('pods/log is granted only when the chart is told the events come from k8s-logs', async () => {
    expect(await allowed('list', 'pods')).toBe(true);
    expect(await allowed('get', 'pods', 'log')).toBe(false);
    const withLogs = clusterRole(renderObjects({ values: { config: { events: 'k8s-logs' } } }));
    expect((await api.apply(withLogs)).status).toBe(200);
    try {
      // The RBAC authorizer sees the change through its informer, a moment later.
      await waitFor('the RBAC authorizer to grant get pods/log', () => allowed('get', 'pods', 'log'), 30_000, 100);
      expect(await allowed('get', 'pods', 'log')).toBe(true);
      expect(await allowed('create', 'pods', 'log')).toBe(false);
    } finally {
      expect((await api.apply(clusterRole(chart))).status).toBe(200);
    }
  }, 60_000);
});
