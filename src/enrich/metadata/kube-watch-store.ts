/**
 * A MetadataStore kept current by list + watch on the Kubernetes API: the live twin of
 * a `--kube` snapshot, feeding the same MetadataIndex so the resolver's rules apply
 * unchanged.
 *
 * Each resource runs its own reflector (`kube/reflector.ts`, which says why not
 * client-node's informers): paginated lists through the typed API clients and watches
 * through client-node's `Watch` (which carries the kubeconfig's auth), keeping only
 * projections. A relist (410, dropped watch history) updates the index in place and
 * deletes what vanished, so lookups never see an empty cache. This file is the store:
 * the index, its status, and what the reflectors report.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { BackoffOptions } from '../../core/backoff.ts';
import { isAccessDenied } from '../../kube/api-failure.ts';
import { REFLECTOR_DEFAULTS, Reflector, type ListWatchSource, type ReflectorHost } from '../../kube/reflector.ts';
import { MetadataIndex } from './metadata-index.ts';
import type { ControllerKind, ControllerMeta, MetadataStore, NodeMeta, PodMeta, ServiceMeta } from './model.ts';
import type { KubeObject } from './projection.ts';
import { ResourceMirror, makeKubeApis, type KubeApis, type WatchedResource } from './kube-resources.ts';

type ResourceReflector = Reflector<KubeObject>;

export interface KubeWatchStoreOptions {
  config: KubeConfig;
  logger: Logger;
  /** How long a deleted pod's, Service's or node's IPs keep resolving to it. */
  graceMs?: number;
  /** Items per list page. */
  pageSize?: number;
  /** First retry delay; doubles up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  now?: () => number;
  /** Which resources to watch; default all nine the resolver reads. */
  kinds?: readonly WatchedResource['kind'][];
  /** Server-side watch timeout; default a random 300–600 s per watch, as client-go. */
  watchTimeoutSeconds?: number;
  /** How long past its server-side timeout a silent watch is given before it is dropped. */
  watchDeadlineGraceMs?: number;
  /** How long one list page may take before the list is abandoned and retried; default 60 s. */
  listTimeoutMs?: number;
}

export interface ResourceStatus {
  synced: boolean;
  objects: number;
  relists: number;
  lastError: string | undefined;
}

export interface KubeWatchStatus {
  /** Every resource has been listed once: attribution is complete. */
  synced: boolean;
  counts: ReturnType<MetadataIndex['sizes']>;
  resources: Record<string, ResourceStatus>;
  lastError: string | undefined;
  /** Epoch ms since when the API server has been failing; undefined when reachable. */
  outageSinceMs: number | undefined;
}

export const DEFAULT_GRACE_MS = 120_000;

export class KubeWatchStore implements MetadataStore, ReflectorHost {
  readonly server: string;
  readonly pageSize: number;
  readonly now: () => number;
  readonly watchTimeoutSeconds: number | undefined;
  readonly watchDeadlineGraceMs: number;
  readonly listTimeoutMs: number;
  private readonly index = new MetadataIndex();
  readonly backoff: BackoffOptions;
  private readonly reflectors: ResourceReflector[];
  private readonly logger: Logger;
  private readonly graceMs: number;
  private purgeTimer: NodeJS.Timeout | undefined;
  private running: Promise<void>[] = [];
  private lastError: string | undefined;
  private outageLogged = false;
  private resolveSynced!: () => void;
  /** Resolves once every resource has been listed. */
  readonly synced: Promise<void>;

  constructor(options: KubeWatchStoreOptions) {
    this.server = options.config.getCurrentCluster()?.server ?? 'kubernetes API';
    this.logger = options.logger;
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.pageSize = options.pageSize ?? REFLECTOR_DEFAULTS.pageSize;
    // Jitter, so that a fleet of node agents does not retry in step.
    this.backoff = {
      initialMs: options.initialBackoffMs ?? 500,
      maxMs: options.maxBackoffMs ?? REFLECTOR_DEFAULTS.maxBackoffMs,
      jitter: { spread: 0.2 },
    };
    this.now = options.now ?? Date.now;
    this.watchTimeoutSeconds = options.watchTimeoutSeconds;
    this.watchDeadlineGraceMs = options.watchDeadlineGraceMs ?? REFLECTOR_DEFAULTS.watchDeadlineGraceMs;
    this.listTimeoutMs = options.listTimeoutMs ?? REFLECTOR_DEFAULTS.listTimeoutMs;
    const apis = makeKubeApis(options.config);
    const watcher = new Watch(options.config);
    this.reflectors = ResourceMirror.forAll(this.index)
      .filter((m) => !options.kinds || options.kinds.includes(m.resource.kind))
      .map((m) => new Reflector(listWatch(m.resource, apis, watcher), m, this));
    this.synced = new Promise((resolve) => {
      this.resolveSynced = resolve;
    });
  }

  get generation(): number {
    return this.index.generation;
  }
  pod(namespace: string, name: string): PodMeta | undefined {
    return this.index.pod(namespace, name);
  }
  podByUid(uid: string): PodMeta | undefined {
    return this.index.podByUid(uid);
  }
  controller(kind: ControllerKind, namespace: string, name: string): ControllerMeta | undefined {
    return this.index.controller(kind, namespace, name);
  }
  podsByIp(ip: string): readonly PodMeta[] {
    return this.index.podsByIp(ip);
  }
  servicesByIp(ip: string): readonly ServiceMeta[] {
    return this.index.servicesByIp(ip);
  }
  nodesByIp(ip: string): readonly NodeMeta[] {
    return this.index.nodesByIp(ip);
  }
  node(name: string): NodeMeta | undefined {
    return this.index.node(name);
  }

  get isSynced(): boolean {
    return this.reflectors.every((r) => r.synced);
  }

  start(): this {
    if (this.running.length) return this;
    this.logger.info({ server: this.server }, 'watching Kubernetes metadata');
    this.running = this.reflectors.map((r) => r.run());
    const purgeEveryMs = Math.max(1_000, Math.min(30_000, this.graceMs / 4));
    this.purgeTimer = setInterval(() => this.purge(), purgeEveryMs);
    this.purgeTimer.unref();
    return this;
  }

  /** Forgets objects whose grace period is over; the timer calls it, tests may too. */
  purge(): number {
    return this.index.purgeDeleted(this.now() - this.graceMs);
  }

  async stop(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    for (const r of this.reflectors) r.stop();
    await Promise.all(this.running);
    this.running = [];
  }

  status(): KubeWatchStatus {
    const resources: Record<string, ResourceStatus> = {};
    let outage: number | undefined;
    for (const r of this.reflectors) {
      resources[r.source.plural] = { synced: r.synced, objects: r.objects, relists: r.relists, lastError: r.lastError };
      if (r.failingSinceMs !== undefined && (outage === undefined || r.failingSinceMs < outage)) outage = r.failingSinceMs;
    }
    return { synced: this.isSynced, counts: this.index.sizes(), resources, lastError: this.lastError, outageSinceMs: outage };
  }

  reportFailure(r: ResourceReflector, message: string, retryInMs: number, status: number | undefined): void {
    r.lastError = message;
    this.lastError = message;
    r.failingSinceMs ??= this.now();
    const fields = { resource: r.source.plural, status, retryInMs, synced: this.isSynced };
    if (isAccessDenied(status)) {
      this.logger.error(fields, message);
    } else if (this.isSynced) {
      if (!this.outageLogged) {
        this.outageLogged = true;
        this.logger.warn(fields, `Kubernetes API unreachable, serving the last known metadata: ${message}`);
      } else {
        this.logger.warn(fields, message);
      }
    } else {
      this.logger.warn(fields, `cannot sync Kubernetes metadata yet: ${message}; retrying in ${retryInMs} ms`);
    }
  }

  reportConnected(r: ResourceReflector): void {
    this.recovered(r);
  }

  reportListed(r: ResourceReflector): void {
    this.recovered(r);
    if (r.synced) {
      this.logger.info({ resource: r.source.plural, objects: r.objects }, 'relisted');
      return;
    }
    r.synced = true;
    if (this.isSynced) {
      this.logger.info({ counts: this.index.sizes() }, 'Kubernetes metadata synced');
      this.resolveSynced();
    }
  }

  private recovered(r: ResourceReflector): void {
    if (r.failingSinceMs === undefined) return;
    const downMs = this.now() - r.failingSinceMs;
    r.failingSinceMs = undefined;
    r.lastError = undefined;
    if (this.reflectors.every((x) => x.failingSinceMs === undefined)) {
      if (this.outageLogged) this.logger.info({ downMs }, 'Kubernetes API reachable again');
      this.outageLogged = false;
    }
  }
}

/** A resource read through client-node: its typed list call and `Watch` on its collection path. */
function listWatch(resource: WatchedResource, apis: KubeApis, watcher: Watch): ListWatchSource<KubeObject> {
  return {
    plural: resource.plural,
    group: resource.group,
    list: (params) => resource.list(apis, params),
    watch: (params, onEvent, done) => watcher.watch(resource.path, params, onEvent, done),
  };
}
