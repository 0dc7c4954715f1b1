/**
 * Keeps one mirror of one API collection current: a paginated list, then a watch from
 * its resource version (with bookmarks), resumed where it left off when it ends, a
 * relist after 410 Gone (watch history compacted), and backoff after errors.
 *
 * Why not client-node's `makeInformer`/`ListWatch`: its ObjectCache keeps every full
 * object (a 150,000-pod cluster is gigabytes of managedFields and specs), it does not
 * paginate lists, and after any error other than 410 it stops for good. The mirror keeps
 * what it wants of each object (the metadata store: projections); the reflector only
 * says what was listed, added, changed or deleted.
 *
 * Transport-free: the source lists and watches (the metadata store passes client-node's
 * typed lists and its `Watch`, the pod-log source raw HTTP), so this module loads no
 * Kubernetes client.
 */
import { Backoff, type BackoffOptions } from '../core/backoff.ts';
import { sleep } from '../core/sleep.ts';
import { describeKubeFailure, httpStatus, kubeFailureLine, statusMessage } from './api-failure.ts';

export interface ReflectedObject {
  metadata?: { resourceVersion?: string | undefined } | undefined;
}

export interface ListPage<T> {
  items: T[];
  metadata?: { resourceVersion?: string; _continue?: string } | undefined;
}

/** One collection on the API server, and how to read it. */
export interface ListWatchSource<T extends ReflectedObject> {
  /** Resource name and API group as RBAC spells them ("" for core), for messages. */
  plural: string;
  group: string;
  /** The namespace listed and watched; undefined: the whole cluster. */
  namespace?: string | undefined;
  list(params: { limit: number; _continue?: string | undefined }): Promise<ListPage<T>>;
  /**
   * Opens a watch (the shape of client-node's `Watch.watch` with its path bound): events
   * to `onEvent`, the end (or failure) to `done`; resolves with the stream's controller
   * once the server answered.
   */
  watch(
    params: { resourceVersion: string; allowWatchBookmarks: true; timeoutSeconds: number },
    onEvent: (type: string, obj: T & { code?: number; message?: string }) => void,
    done: (err: unknown) => void,
  ): Promise<{ abort(): void }>;
}

/** Where listed and watched objects go. */
export interface ReflectorMirror<T> {
  /** Adds or updates; returns the uid, or undefined for an object it cannot use. */
  upsert(obj: T): string | undefined;
  delete(obj: T, atMs: number): void;
  /** Uids held now, deleted ones excepted: what a relist may find gone. */
  liveUids(): string[];
  deleteUid(uid: string, atMs: number): void;
}

/** What the reflectors of one store share: settings, the clock, and where they report. */
export interface ReflectorHost {
  readonly server: string;
  readonly pageSize: number;
  /** How long one list page may take before the list is abandoned and retried. */
  readonly listTimeoutMs: number;
  /** Server-side watch timeout; undefined: a random 300–600 s per watch, as client-go. */
  readonly watchTimeoutSeconds: number | undefined;
  /** How long past its server-side timeout a silent watch is given before it is dropped. */
  readonly watchDeadlineGraceMs: number;
  readonly backoff: BackoffOptions;
  now(): number;
  /** A failed list or watch (`message` says it in one line); the reflector retries in `retryInMs` unless stopped. */
  reportFailure(r: Reflector, message: string, retryInMs: number, status: number | undefined, err: unknown): void;
  reportConnected(r: Reflector): void;
  reportListed(r: Reflector): void;
}

/**
 * Defaults of the `ReflectorHost` settings, for every store of reflectors. `maxBackoffMs`
 * caps every retry against the API server (the pod log streams' too).
 */
export const REFLECTOR_DEFAULTS = { pageSize: 500, listTimeoutMs: 60_000, watchDeadlineGraceMs: 60_000, maxBackoffMs: 30_000 } as const;

/** A watch that ends at once with nothing in it is a failing server, not a timeout. */
const HEALTHY_WATCH_MS = 1_000;

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
export class Reflector<T extends ReflectedObject = ReflectedObject> {
  private resourceVersion = '';
  private readonly stopping = new AbortController();
  private abortWatch: (() => void) | undefined;
  private readonly whenStopped = new Promise<undefined>((resolve) => {
    this.stopping.signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
  private readonly backoff: Backoff;
  synced = false;
  relists = 0;
  /** Objects in the last complete list, for status (counting the mirror would be O(n)). */
  objects = 0;
  lastError: string | undefined;
  failingSinceMs: number | undefined;

  constructor(
    readonly source: ListWatchSource<T>,
    readonly mirror: ReflectorMirror<T>,
    private readonly host: ReflectorHost,
  ) {
    this.backoff = new Backoff(host.backoff);
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      let verb: 'list' | 'watch' = 'list';
      try {
        if (!this.resourceVersion) await this.list();
        // stop() may have come while the list was in flight, with no watch to abort yet.
        if (this.stopped) break;
        verb = 'watch';
        const startedMs = Date.now();
        const delivered = await this.watch();
        if (delivered || Date.now() - startedMs >= HEALTHY_WATCH_MS) this.backoff.reset();
        else await sleep(this.backoff.next(), this.stopping.signal);
      } catch (err) {
        if (this.stopped) break;
        if (httpStatus(err) === 410) {
          this.resourceVersion = '';
          continue;
        }
        const delayMs = this.backoff.next();
        this.host.reportFailure(this, this.describe(err, verb), delayMs, httpStatus(err), err);
        await sleep(delayMs, this.stopping.signal);
      }
    }
  }

  stop(): void {
    this.stopping.abort();
    this.abortWatch?.();
  }

  /** One line: what failed and, for a 401/403, the RBAC rule to add. */
  private describe(err: unknown, verb: 'list' | 'watch'): string {
    const { plural, group, namespace } = this.source;
    const grant = {
      role: namespace ? ('Role' as const) : ('ClusterRole' as const),
      rules: [{ group, resource: plural, verbs: ['list', 'watch'] }],
    };
    return kubeFailureLine(describeKubeFailure(err, { server: this.host.server, verb, resource: plural, group, namespace }, grant));
  }

  private async list(): Promise<void> {
    const seen = new Set<string>();
    let token: string | undefined;
    let page: ListPage<T>;
    do {
      const call = this.source.list({ limit: this.host.pageSize, _continue: token });
      // A list cannot be aborted; stop() must not wait for a stalled API server, and
      // the abandoned call's later failure is nobody's concern.
      call.catch(() => undefined);
      // A page that never comes would leave this resource frozen on its last list with
      // nothing reported: give up on it as an error, so backoff, lastError and the
      // outage take over and the list starts again.
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        const ms = this.host.listTimeoutMs;
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
    const now = this.host.now();
    for (const uid of this.mirror.liveUids()) if (!seen.has(uid)) this.mirror.deleteUid(uid, now);
    this.resourceVersion = page.metadata?.resourceVersion ?? '';
    this.objects = seen.size;
    if (this.synced) this.relists++;
    this.host.reportListed(this);
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
      const onEvent = (type: string, obj: T & { code?: number; message?: string }): void => {
        switch (type) {
          case 'ADDED':
          case 'MODIFIED':
            this.mirror.upsert(obj);
            break;
          case 'DELETED':
            this.mirror.delete(obj, this.host.now());
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
      const timeoutSeconds = this.host.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
      // The server ends the watch at timeoutSeconds. One that is still open well after
      // that (a server or proxy that stopped answering without closing) would freeze
      // this resource's cache silently: drop it and watch again, as an error.
      deadline = setTimeout(
        () => {
          const err = new Error(
            `watch ${this.source.plural}: no end from the API server ${timeoutSeconds} s after asking for one; reconnecting`,
          );
          const abort = this.abortWatch;
          done(err);
          abort?.();
        },
        timeoutSeconds * 1000 + this.host.watchDeadlineGraceMs,
      );
      deadline.unref();
      // Until the server answers, the watch has not handed out its controller: stopping
      // then just settles here, and the connection is aborted as soon as it arrives.
      this.abortWatch = () => done(undefined);
      this.source
        .watch({ resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds }, onEvent, done)
        .then((controller) => {
          if (settled) {
            controller.abort();
            return;
          }
          this.abortWatch = () => controller.abort();
          this.host.reportConnected(this);
        }, done);
    });
  }
}
