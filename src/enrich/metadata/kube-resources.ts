/**
 * The nine resources kovenant watches, how to list each through @kubernetes/client-node,
 * and how a listed or watched object lands in the MetadataIndex: projected, with its
 * repeated strings interned, and skipped when the projection did not change (most pod
 * updates are status conditions the resolver never reads, and each upsert would
 * otherwise bump the generation and drop the resolver's caches).
 */
import { AppsV1Api, BatchV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { MetadataIndex } from './metadata-index.ts';
import type { ControllerMeta, NodeMeta, OwnerRef, PodMeta, ServiceMeta } from './model.ts';
import { projectController, projectNode, projectPod, projectService, type KubeObject } from './projection.ts';

export interface ListPage {
  items: KubeObject[];
  metadata?: { resourceVersion?: string; _continue?: string } | undefined;
}

export interface ListParams {
  limit: number;
  _continue?: string | undefined;
}

export interface KubeApis {
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
}

export function makeKubeApis(config: KubeConfig): KubeApis {
  return { core: config.makeApiClient(CoreV1Api), apps: config.makeApiClient(AppsV1Api), batch: config.makeApiClient(BatchV1Api) };
}

export interface WatchedResource {
  kind: 'Pod' | 'Service' | 'Node' | 'ReplicaSet' | 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob';
  /** Resource name as RBAC spells it. */
  plural: string;
  /** API group as RBAC spells it ("" for core). */
  group: string;
  /** Cluster-wide collection path, for watches. */
  path: string;
  list(apis: KubeApis, params: ListParams): Promise<ListPage>;
}

/** Every watched resource is served at v1 of its group, so its watch path follows from the group and the plural. */
function v1Resource(kind: WatchedResource['kind'], plural: string, group: string, list: WatchedResource['list']): WatchedResource {
  return { kind, plural, group, path: group === '' ? `/api/v1/${plural}` : `/apis/${group}/v1/${plural}`, list };
}

export const WATCHED_RESOURCES: readonly WatchedResource[] = [
  v1Resource('Pod', 'pods', '', (a, p) => a.core.listPodForAllNamespaces(p)),
  v1Resource('Service', 'services', '', (a, p) => a.core.listServiceForAllNamespaces(p)),
  v1Resource('Node', 'nodes', '', (a, p) => a.core.listNode(p)),
  v1Resource('ReplicaSet', 'replicasets', 'apps', (a, p) => a.apps.listReplicaSetForAllNamespaces(p)),
  v1Resource('Deployment', 'deployments', 'apps', (a, p) => a.apps.listDeploymentForAllNamespaces(p)),
  v1Resource('StatefulSet', 'statefulsets', 'apps', (a, p) => a.apps.listStatefulSetForAllNamespaces(p)),
  v1Resource('DaemonSet', 'daemonsets', 'apps', (a, p) => a.apps.listDaemonSetForAllNamespaces(p)),
  v1Resource('Job', 'jobs', 'batch', (a, p) => a.batch.listJobForAllNamespaces(p)),
  v1Resource('CronJob', 'cronjobs', 'batch', (a, p) => a.batch.listCronJobForAllNamespaces(p)),
];

/**
 * Shares one copy of strings that repeat across objects (namespaces, node names,
 * phases, owner names). Cleared when it outgrows its bound: interning is only a memory
 * saving, so forgetting is always safe, and a long-lived daemon must not accumulate the
 * name of every ReplicaSet a rollout ever made.
 */
class Interner<T> {
  private readonly pool = new Map<string, T>();
  constructor(private readonly maxSize: number) {}

  get(key: string, make: () => T): T {
    let v = this.pool.get(key);
    if (v === undefined) {
      if (this.pool.size >= this.maxSize) this.pool.clear();
      v = make();
      this.pool.set(key, v);
    }
    return v;
  }
}

type Projection = PodMeta | ServiceMeta | NodeMeta | ControllerMeta;

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const x = a as OwnerRef;
    const y = b as OwnerRef;
    return x.kind === y.kind && x.name === y.name;
  }
  return false;
}

export function sameProjection(a: Projection, b: Projection): boolean {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  for (const k of Object.keys(x)) if (!sameValue(x[k], y[k])) return false;
  return true;
}

/** Exact-size copy: projection builds arrays with push(), which reserves slack per array. */
function exact(ips: readonly string[]): readonly string[] {
  return ips.length === 1 ? [ips[0]!] : ips.slice();
}

/**
 * Applies list and watch results for one resource to the index. What it holds is read
 * back from the index (no second map: at 150,000 pods a Map costs ~18 MB).
 */
export class ResourceMirror {
  constructor(
    readonly resource: WatchedResource,
    private readonly index: MetadataIndex,
    private readonly strings: Interner<string>,
    private readonly owners: Interner<OwnerRef>,
    /** Pods of one workload declare the same ports: one array for all of them. */
    private readonly portLists: Interner<readonly number[]> = new Interner<readonly number[]>(10_000),
  ) {}

  static forAll(index: MetadataIndex): ResourceMirror[] {
    const strings = new Interner<string>(50_000);
    const owners = new Interner<OwnerRef>(200_000);
    const portLists = new Interner<readonly number[]>(10_000);
    return WATCHED_RESOURCES.map((r) => new ResourceMirror(r, index, strings, owners, portLists));
  }

  private ports(p: readonly number[] | undefined): readonly number[] | undefined {
    return p && this.portLists.get(p.join(','), () => p);
  }

  private s(v: string): string;
  private s(v: string | undefined): string | undefined;
  private s(v: string | undefined): string | undefined {
    return v === undefined ? undefined : this.strings.get(v, () => v);
  }

  private owner(o: OwnerRef | undefined): OwnerRef | undefined {
    return o && this.owners.get(`${o.kind}/${o.name}`, () => ({ kind: this.s(o.kind), name: o.name }));
  }

  private project(obj: KubeObject): Projection | undefined {
    // Typed lists omit each item's kind; watch events carry it.
    const typed = obj.kind ? obj : { ...obj, kind: this.resource.kind };
    switch (this.resource.kind) {
      case 'Pod': {
        const p = projectPod(typed);
        return {
          ...p,
          namespace: this.s(p.namespace),
          nodeName: this.s(p.nodeName),
          phase: this.s(p.phase),
          ips: exact(p.ips),
          owner: this.owner(p.owner),
          helmRelease: this.s(p.helmRelease),
          helmInstanceLabel: this.s(p.helmInstanceLabel),
          ports: this.ports(p.ports),
        } satisfies PodMeta;
      }
      case 'Service': {
        const svc = projectService(typed);
        return { ...svc, namespace: this.s(svc.namespace), clusterIPs: exact(svc.clusterIPs), helmRelease: this.s(svc.helmRelease) };
      }
      case 'Node': {
        const node = projectNode(typed);
        return { ...node, name: this.s(node.name), addresses: exact(node.addresses), zone: this.s(node.zone), region: this.s(node.region) };
      }
      default: {
        const c = projectController(typed);
        return c && { ...c, namespace: this.s(c.namespace), owner: this.owner(c.owner), helmRelease: this.s(c.helmRelease) };
      }
    }
  }

  /** Adds or updates; returns the uid, or undefined for an object it cannot use. */
  upsert(obj: KubeObject): string | undefined {
    const next = this.project(obj);
    if (!next) return undefined;
    const old = this.index.live(this.resource.kind, next.uid);
    if (old && sameProjection(old, next)) return next.uid;
    this.index.upsert(this.resource.kind, next);
    return next.uid;
  }

  /** Uids this mirror's kind has in the index, deleted ones excepted. */
  liveUids(): string[] {
    return this.index.liveUids(this.resource.kind);
  }

  delete(obj: KubeObject, atMs: number): void {
    const next = this.project(obj);
    if (next) this.deleteUid(next.uid, atMs);
  }

  deleteUid(uid: string, atMs: number): void {
    if (!this.index.live(this.resource.kind, uid)) return;
    this.index.remove(this.resource.kind, uid, atMs);
  }
}
