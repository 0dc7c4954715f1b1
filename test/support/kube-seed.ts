/**
 * Puts the objects of a `kubectl get -o json` snapshot into a real kube-apiserver the way
 * a cluster would hold them: namespaces (with their "default" ServiceAccount, which the
 * missing controller-manager would create), owners before what they own (owner uids are
 * the server's), controllers with the minimal valid spec the API demands, and pod and
 * node status written through the status subresource, since no kubelet runs.
 * And back: a snapshot of the server, as `kubectl get … -A -o json` prints it.
 */
import { randomUUID } from 'node:crypto';
import type { KubeApiServer, KubeManifest } from './kube-apiserver.ts';

export interface SeedObject {
  apiVersion?: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid?: string; controller?: boolean }>;
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

const API_VERSION: Record<string, string> = {
  Node: 'v1',
  Pod: 'v1',
  Service: 'v1',
  Namespace: 'v1',
  ReplicaSet: 'apps/v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
};

/** Owners first, so that owner references carry the server's uids. */
const ORDER = ['Node', 'CronJob', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet', 'Service', 'Pod'];

/** The nine resources kovenant watches, as `kubectl get` lists them. */
export const WATCHED_PATHS: ReadonlyArray<readonly [string, string]> = [
  ['Node', '/api/v1/nodes'],
  ['Pod', '/api/v1/pods'],
  ['Service', '/api/v1/services'],
  ['ReplicaSet', '/apis/apps/v1/replicasets'],
  ['Deployment', '/apis/apps/v1/deployments'],
  ['StatefulSet', '/apis/apps/v1/statefulsets'],
  ['DaemonSet', '/apis/apps/v1/daemonsets'],
  ['Job', '/apis/batch/v1/jobs'],
  ['CronJob', '/apis/batch/v1/cronjobs'],
];

function podTemplate(name: string, restartPolicy?: string): Record<string, unknown> {
  return {
    metadata: { labels: { app: name } },
    spec: { containers: [{ name: 'c', image: 'registry.invalid/c:1' }], ...(restartPolicy ? { restartPolicy } : {}) },
  };
}

/** The smallest spec the API server accepts for each kind; a snapshot's own spec where it has one. */
function specFor(obj: SeedObject): Record<string, unknown> | undefined {
  const name = obj.metadata.name;
  const given = obj.spec ?? {};
  switch (obj.kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
      return { selector: { matchLabels: { app: name } }, template: podTemplate(name) };
    case 'StatefulSet':
      return { selector: { matchLabels: { app: name } }, serviceName: name, template: podTemplate(name) };
    case 'Job':
      return { template: podTemplate(name, 'Never') };
    case 'CronJob':
      return { schedule: '0 * * * *', jobTemplate: { spec: { template: podTemplate(name, 'Never') } } };
    case 'Service':
      return { ...given, ports: (given.ports as unknown[] | undefined)?.length ? given.ports : [{ port: 80, protocol: 'TCP' }] };
    case 'Pod': {
      const containers = (given.containers as unknown[] | undefined)?.length
        ? given.containers
        : [{ name: 'c', image: 'registry.invalid/c:1' }];
      return { ...given, containers };
    }
    default:
      return obj.spec;
  }
}

export class ClusterSeeder {
  /** kind/namespace/name -> uid the server gave it. */
  readonly uids = new Map<string, string>();
  private readonly namespaces = new Set<string>();

  constructor(private readonly api: KubeApiServer) {}

  /** Creates the namespace and its "default" ServiceAccount unless they exist (the API server makes default, kube-system, …). */
  async namespace(name: string): Promise<void> {
    if (this.namespaces.has(name)) return;
    const created = async (path: string, body: unknown): Promise<void> => {
      const res = await this.api.request('POST', path, body);
      if (res.status >= 300 && res.status !== 409) throw new Error(`POST ${path}: HTTP ${res.status}: ${res.text.slice(0, 300)}`);
    };
    await created('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    await created(`/api/v1/namespaces/${name}/serviceaccounts`, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'default' },
    });
    this.namespaces.add(name);
  }

  private collection(kind: string, namespace: string | undefined): string {
    const apiVersion = API_VERSION[kind]!;
    const base = apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`;
    const plural = `${kind.toLowerCase()}s`;
    return namespace ? `${base}/namespaces/${namespace}/${plural}` : `${base}/${plural}`;
  }

  /** Creates one object (its status too); returns what the server holds. */
  async create(obj: SeedObject): Promise<KubeManifest> {
    const ns = obj.kind === 'Node' ? undefined : (obj.metadata.namespace ?? 'default');
    if (ns) await this.namespace(ns);
    const { labels, annotations, ownerReferences } = obj.metadata;
    const body: Record<string, unknown> = {
      apiVersion: API_VERSION[obj.kind],
      kind: obj.kind,
      metadata: {
        name: obj.metadata.name,
        ...(ns ? { namespace: ns } : {}),
        ...(labels ? { labels } : {}),
        ...(annotations ? { annotations } : {}),
        ...(ownerReferences
          ? {
              ownerReferences: ownerReferences.map((o) => ({
                apiVersion: o.apiVersion,
                kind: o.kind,
                name: o.name,
                // An owner not created yet (or never: a dangling reference) gets a uid of its own.
                uid: this.uids.get(`${o.kind}/${ns ?? ''}/${o.name}`) ?? randomUUID(),
                ...(o.controller ? { controller: true } : {}),
              })),
            }
          : {}),
      },
    };
    const spec = specFor(obj);
    if (spec) body.spec = spec;
    const path = this.collection(obj.kind, ns);
    let created = await this.api.must<KubeManifest & { metadata: { uid: string } }>('POST', path, body);
    if (obj.status && (obj.kind === 'Pod' || obj.kind === 'Node')) {
      created = await this.api.must(
        'PATCH',
        `${path}/${obj.metadata.name}/status`,
        { status: obj.status },
        { contentType: 'application/merge-patch+json' },
      );
    }
    this.uids.set(`${obj.kind}/${ns ?? ''}/${obj.metadata.name}`, created.metadata.uid);
    return created;
  }

  async createAll(objects: readonly SeedObject[]): Promise<void> {
    for (const kind of ORDER) {
      for (const obj of objects.filter((o) => o.kind === kind)) {
        // The API server made default/kubernetes itself, with the first service IP.
        if (kind === 'Service' && obj.metadata.namespace === 'default' && obj.metadata.name === 'kubernetes') continue;
        await this.create(obj);
      }
    }
  }
}

/** What `kubectl get nodes,pods,services,… -A -o json` prints: a List with kind and apiVersion on each item. */
export async function snapshotOf(api: KubeApiServer): Promise<{ apiVersion: string; kind: string; items: unknown[] }> {
  const items: unknown[] = [];
  for (const [kind, path] of WATCHED_PATHS) {
    const list = await api.must<{ items: Array<Record<string, unknown>> }>('GET', path);
    for (const item of list.items) items.push({ apiVersion: API_VERSION[kind], kind, ...item });
  }
  return { apiVersion: 'v1', kind: 'List', items };
}
