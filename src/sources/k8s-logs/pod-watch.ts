/**
 * The Tetragon pods, kept current by the shared reflector (`kube/reflector.ts`: list,
 * watch resumed at its resource version, relist after 410, backoff) over raw HTTP: the
 * same client as the log streams (`pod-api.ts`), so that a 401/403 on any of the
 * source's requests is the same InputError naming the whole Role (pods and pods/log),
 * rather than client-node's exceptions for some and ours for others. The first list decides whether the
 * source opens: any failure there fails it; later, a 401/403 ends the source and
 * anything else is retried.
 */
import type { Logger } from '../../telemetry/logger.ts';
import { InputError } from '../../core/input-error.ts';
import type { BackoffOptions } from '../../core/backoff.ts';
import { readLines } from '../../kube/raw-http.ts';
import { REFLECTOR_DEFAULTS, Reflector, type ListWatchSource, type ReflectorHost } from '../../kube/reflector.ts';
import type { PodLogApi, PodObject, PodWatchEvent } from './pod-api.ts';

/** What the watch tells about the pods (the reflector's mirror, keyed by uid). */
export interface PodSet {
  /** A pod listed, added or changed. */
  seen(pod: PodObject): void;
  /** A pod deleted (by watch). */
  deleted(name: string, uid: string | undefined): void;
  /** Uids of the pods followed now. */
  uids(): string[];
  /** The pod with this uid is gone (a relist did not find it). */
  gone(uid: string): void;
}

export interface PodWatchOptions {
  server: string;
  signal: AbortSignal;
  log: Pick<Logger, 'warn'>;
  retry: BackoffOptions;
  /** True when `err` ends the source (401/403): the watch stops. */
  fatal(err: unknown): boolean;
}

function podsListWatch(api: PodLogApi, signal: AbortSignal): ListWatchSource<PodObject> {
  return {
    plural: 'pods',
    group: '',
    namespace: api.namespace,
    list: async (params) => {
      const body = await api.listPods({ limit: params.limit, continueToken: params._continue }, signal);
      const cont = body.metadata?.continue;
      return {
        items: body.items ?? [],
        metadata: { resourceVersion: body.metadata?.resourceVersion ?? '0', ...(cont ? { _continue: cont } : {}) },
      };
    },
    watch: async (params, onEvent, done) => {
      const stream = new AbortController();
      const res = await api.watchPods(params, stream.signal);
      void readLines(res, (line) => {
        const ev = JSON.parse(line) as PodWatchEvent;
        onEvent(ev.type ?? '', ev.object ?? {});
      }).then(() => done(undefined), done);
      return stream;
    },
  };
}

export class PodWatch implements ReflectorHost {
  readonly server: string;
  readonly pageSize = REFLECTOR_DEFAULTS.pageSize;
  readonly listTimeoutMs = REFLECTOR_DEFAULTS.listTimeoutMs;
  readonly watchTimeoutSeconds = undefined;
  readonly watchDeadlineGraceMs = REFLECTOR_DEFAULTS.watchDeadlineGraceMs;
  readonly backoff: BackoffOptions;
  readonly now = Date.now;
  private readonly reflector: Reflector<PodObject>;
  private running: Promise<void> | undefined;
  private firstList: { resolve(): void; reject(err: unknown): void } | undefined;

  constructor(
    api: PodLogApi,
    pods: PodSet,
    private readonly options: PodWatchOptions,
  ) {
    this.server = options.server;
    this.backoff = options.retry;
    const mirror = {
      upsert: (pod: PodObject): string | undefined => {
        if (!pod.metadata?.name) return undefined;
        pods.seen(pod);
        return pod.metadata.uid;
      },
      delete: (pod: PodObject): void => {
        const name = pod.metadata?.name;
        if (name) pods.deleted(name, pod.metadata?.uid);
      },
      liveUids: () => pods.uids(),
      deleteUid: (uid: string) => pods.gone(uid),
    };
    this.reflector = new Reflector(podsListWatch(api, options.signal), mirror, this);
    options.signal.addEventListener('abort', () => this.reflector.stop(), { once: true });
  }

  /** Lists the pods (the followers start), then keeps watching; rejects if the first list fails. */
  start(): Promise<void> {
    const listed = new Promise<void>((resolve, reject) => (this.firstList = { resolve, reject }));
    this.running ??= this.reflector.run();
    return listed;
  }

  reportListed(r: Reflector): void {
    r.synced = true;
    this.firstList?.resolve();
    this.firstList = undefined;
  }

  reportConnected(): void {}

  reportFailure(_r: Reflector, message: string, retryInMs: number, _status: number | undefined, err: unknown): void {
    if (this.firstList) {
      // Not open yet: the caller is told (a 401/403 as the one-line error with its RBAC hint).
      this.reflector.stop();
      this.firstList.reject(err instanceof InputError ? err : new Error(message, { cause: err }));
      this.firstList = undefined;
      return;
    }
    if (this.options.fatal(err)) {
      this.reflector.stop();
      return;
    }
    this.options.log.warn({ err: message, retryMs: retryInMs }, 'k8s-logs: listing or watching the Tetragon pods failed; retrying');
  }
}
