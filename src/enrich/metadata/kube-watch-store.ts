/**
 * A MetadataStore kept current by list + watch on the Kubernetes API: the live twin of
 * a `--kube` snapshot, feeding the same MetadataIndex so the resolver's rules apply
 * unchanged.
 *
 * Why not client-node's `makeInformer`/`ListWatch`: its ObjectCache keeps every full
 * object (a 150,000-pod cluster is gigabytes of managedFields and specs), it does not
 * paginate lists, and after any error other than 410 it stops for good. So each
 * resource runs its own reflector here: paginated lists through the typed API clients
 * and watches through client-node's `Watch` (which carries the kubeconfig's auth),
 * keeping only projections. A relist (410, dropped watch history) updates the index in
 * place and deletes what vanished, so lookups never see an empty cache.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { MetadataIndex } from './metadata-index.ts';
import type { ControllerKind, ControllerMeta, MetadataStore, NodeMeta, PodMeta, ServiceMeta } from './model.ts';
import type { KubeObject } from './projection.ts';
import { ResourceMirror, makeKubeApis, type KubeApis, type WatchedResource } from './kube-resources.ts';

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

interface HttpishError {
  code?: unknown;
  statusCode?: unknown;
  body?: unknown;
  message?: string;
}

function httpStatus(err: unknown): number | undefined {
  const e = err as HttpishError;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  if (typeof e?.code === 'number') return e.code;
  return undefined;
}

function statusMessage(body: unknown): string | undefined {
  if (typeof body === 'string') {
    try {
      return statusMessage(JSON.parse(body) as unknown);
    } catch {
      return body.slice(0, 200) || undefined;
    }
  }
  const msg = (body as { message?: unknown } | undefined)?.message;
  return typeof msg === 'string' ? msg : undefined;
}

/** One line that says what failed and, where we can tell, what to change. */
export function describeKubeError(err: unknown, verb: 'list' | 'watch', resource: WatchedResource, server: string): string {
  const what = `${verb} ${resource.plural}${resource.group ? `.${resource.group}` : ''}`;
  const status = httpStatus(err);
  const detail = statusMessage((err as HttpishError)?.body);
  if (status === 403) {
    return `${server}: forbidden to ${what}${detail ? ` (${detail})` : ''}; grant verbs [list, watch] on resource "${resource.plural}" in apiGroup "${resource.group}" to kovenant's ClusterRole`;
  }
  if (status === 401) return `${server}: ${what}: unauthorized (credentials rejected); check the kubeconfig user or service account token`;
  if (status !== undefined) return `${server}: ${what}: HTTP ${status}${detail ? ` ${detail}` : ''}`;
  const code = (err as HttpishError)?.code;
  const message = (err as Error)?.message?.split('\n')[0] ?? String(err);
  return `${server}: ${what}: ${typeof code === 'string' ? `${code} ` : ''}${message}`;
}

class GoneError extends Error {
  readonly statusCode = 410;
}

/** A watch stream's ERROR event, shaped like a failed request so it is reported as one. */
class WatchErrorEvent extends Error {
  constructor(
    readonly statusCode: number | undefined,
    readonly body: unknown,
  ) {
    super(statusMessage(body) ?? 'error event');
  }
}

/** Lists then watches one resource until stopped, relisting after 410 and retrying after errors. */
class Reflector {
  private resourceVersion = '';
  private stopped = false;
  private abortWatch: (() => void) | undefined;
  private wake: (() => void) | undefined;
  private signalStopped!: () => void;
  private readonly whenStopped = new Promise<undefined>((resolve) => {
    this.signalStopped = () => resolve(undefined);
  });
  synced = false;
  relists = 0;
  /** Objects in the last complete list, for status (counting the index would be O(n)). */
  objects = 0;
  lastError: string | undefined;
  failingSinceMs: number | undefined;

  constructor(
    readonly mirror: ResourceMirror,
    private readonly store: KubeWatchStore,
    private readonly apis: KubeApis,
    private readonly watcher: Watch,
  ) {}

  get resource(): WatchedResource {
    return this.mirror.resource;
  }

  async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      let verb: 'list' | 'watch' = 'list';
      try {
        if (!this.resourceVersion) await this.list();
        // stop() may have come while the list was in flight, with no watch to abort yet.
        if (this.stopped) break;
        verb = 'watch';
        const startedMs = Date.now();
        const delivered = await this.watch();
        // A watch that ends at once with nothing in it is a failing server, not a timeout.
        const healthy = delivered || Date.now() - startedMs >= 1_000;
        attempt = healthy ? 0 : attempt + 1;
        if (!healthy) await this.sleep(this.store.backoffMs(attempt));
      } catch (err) {
        if (this.stopped) break;
        if (httpStatus(err) === 410) {
          this.resourceVersion = '';
          continue;
        }
        const delayMs = this.store.backoffMs(++attempt);
        this.store.reportFailure(this, describeKubeError(err, verb, this.resource, this.store.server), delayMs, httpStatus(err));
        await this.sleep(delayMs);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.signalStopped();
    this.abortWatch?.();
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async list(): Promise<void> {
    const seen = new Set<string>();
    let token: string | undefined;
    let page: { items: KubeObject[]; metadata?: { resourceVersion?: string; _continue?: string } | undefined };
    do {
      const call = this.resource.list(this.apis, { limit: this.store.pageSize, _continue: token });
      // A list cannot be aborted; stop() must not wait for a stalled API server, and
      // the abandoned call's later failure is nobody's concern.
      call.catch(() => undefined);
      // A page that never comes would leave this resource frozen on its last list with
      // nothing reported: give up on it as an error, so backoff, lastError and the
      // outage take over and the list starts again.
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        const ms = this.store.listTimeoutMs;
        timer = setTimeout(() => reject(new Error(`no answer from the API server in ${ms} ms; listing again`)), ms);
        timer.unref();
      });
      const next = await Promise.race([call, this.whenStopped, expired]).finally(() => clearTimeout(timer));
      if (!next) return;
      page = next;
      for (const item of page.items) {
        const uid = this.mirror.upsert(item);
        if (uid) seen.add(uid);
      }
      token = page.metadata?._continue || undefined;
    } while (token && !this.stopped);
    if (this.stopped) return;
    const now = this.store.now();
    for (const uid of this.mirror.liveUids()) if (!seen.has(uid)) this.mirror.deleteUid(uid, now);
    this.resourceVersion = page.metadata?.resourceVersion ?? '';
    this.objects = seen.size;
    if (this.synced) this.relists++;
    this.store.reportListed(this);
  }

  /** Resolves when the stream ends (true if it carried any object or bookmark); rejects on HTTP errors and ERROR events. */
  private watch(): Promise<boolean> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let delivered = false;
      let gone = false;
      let failed: WatchErrorEvent | undefined;
      let deadline: NodeJS.Timeout | undefined;
      const done = (err: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        this.abortWatch = undefined;
        if (gone) reject(new GoneError('watch history compacted (410 Gone)'));
        // The server ends the stream after an ERROR event; ending as it was asked to
        // would read as a healthy watch and be retried at once, in a tight loop.
        else if ((err || failed) && !this.stopped) reject(err ?? failed);
        else resolve(delivered);
      };
      const onEvent = (type: string, obj: KubeObject & { code?: number; message?: string }): void => {
        switch (type) {
          case 'ADDED':
          case 'MODIFIED':
            this.mirror.upsert(obj);
            break;
          case 'DELETED':
            this.mirror.delete(obj, this.store.now());
            break;
          case 'BOOKMARK':
            break;
          case 'ERROR':
            if (obj.code === 410) gone = true;
            else failed ??= new WatchErrorEvent(typeof obj.code === 'number' ? obj.code : undefined, obj);
            return;
          default:
            return;
        }
        delivered = true;
        const rv = obj.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
      };
      // Randomised server-side timeouts spread reconnects, as client-go does.
      const timeoutSeconds = this.store.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
      // The server ends the watch at timeoutSeconds. One that is still open well after
      // that (a server or proxy that stopped answering without closing) would freeze
      // this resource's cache silently: drop it and watch again, as an error.
      deadline = setTimeout(() => {
        const err = new Error(`watch ${this.resource.plural}: no end from the API server ${timeoutSeconds} s after asking for one; reconnecting`);
        const abort = this.abortWatch;
        done(err);
        abort?.();
      }, timeoutSeconds * 1000 + this.store.watchDeadlineGraceMs);
      deadline.unref();
      // Until the server answers, Watch has not handed out its AbortController: stopping
      // then just settles here, and the connection is aborted as soon as it arrives.
      this.abortWatch = () => done(undefined);
      this.watcher
        .watch(this.resource.path, { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds }, onEvent, done)
        .then(
          (controller) => {
            if (settled) {
              controller.abort();
              return;
            }
            this.abortWatch = () => controller.abort();
            this.store.reportConnected(this);
          },
          done,
        );
    });
  }
}

export class KubeWatchStore implements MetadataStore {
  readonly server: string;
  readonly pageSize: number;
  readonly now: () => number;
  readonly watchTimeoutSeconds: number | undefined;
  readonly watchDeadlineGraceMs: number;
  readonly listTimeoutMs: number;
  private readonly index = new MetadataIndex();
  private readonly reflectors: Reflector[];
  private readonly logger: Logger;
  private readonly graceMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
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
    this.pageSize = options.pageSize ?? 500;
    this.initialBackoffMs = options.initialBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.watchTimeoutSeconds = options.watchTimeoutSeconds;
    this.watchDeadlineGraceMs = options.watchDeadlineGraceMs ?? 60_000;
    this.listTimeoutMs = options.listTimeoutMs ?? 60_000;
    const apis = makeKubeApis(options.config);
    const watcher = new Watch(options.config);
    this.reflectors = ResourceMirror.forAll(this.index)
      .filter((m) => !options.kinds || options.kinds.includes(m.resource.kind))
      .map((m) => new Reflector(m, this, apis, watcher));
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
      resources[r.resource.plural] = { synced: r.synced, objects: r.objects, relists: r.relists, lastError: r.lastError };
      if (r.failingSinceMs !== undefined && (outage === undefined || r.failingSinceMs < outage)) outage = r.failingSinceMs;
    }
    return { synced: this.isSynced, counts: this.index.sizes(), resources, lastError: this.lastError, outageSinceMs: outage };
  }

  backoffMs(attempt: number): number {
    const base = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.max(0, attempt - 1));
    // Jitter, so that a fleet of node agents does not retry in step.
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  reportFailure(r: Reflector, message: string, retryInMs: number, status: number | undefined): void {
    r.lastError = message;
    this.lastError = message;
    r.failingSinceMs ??= this.now();
    const fields = { resource: r.resource.plural, status, retryInMs, synced: this.isSynced };
    if (status === 403 || status === 401) {
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

  reportConnected(r: Reflector): void {
    this.recovered(r);
  }

  reportListed(r: Reflector): void {
    this.recovered(r);
    if (r.synced) {
      this.logger.info({ resource: r.resource.plural, objects: r.objects }, 'relisted');
      return;
    }
    r.synced = true;
    if (this.isSynced) {
      this.logger.info({ counts: this.index.sizes() }, 'Kubernetes metadata synced');
      this.resolveSynced();
    }
  }

  private recovered(r: Reflector): void {
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
