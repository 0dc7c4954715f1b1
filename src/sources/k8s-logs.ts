/**
 * `--events k8s-logs`: the central mode for small clusters. Follows the log of the
 * export container (`export-stdout`) of every Tetragon pod through the API server's
 * log endpoint, and merges the streams line by line into one `ByteInput`.
 *
 * - Pods: listed, then watched, by label selector in one namespace, by the reflector
 *   the metadata store uses too (watches resumed at their resource version, a relist
 *   after 410 drops pods deleted meanwhile).
 * - One follower per pod whose export container is running. Lines are asked for with
 *   `timestamps=true`: the kubelet prefixes each with its RFC 3339 time, which is
 *   stripped before the line is passed on, and which the follower keeps as its cursor.
 * - A stream that ends while the pod is still there (API server timeout, network cut,
 *   container restart) is resumed with `sinceTime` = the cursor. The API server
 *   forwards `sinceTime` to the kubelet in whole seconds, so the resumed stream repeats
 *   the lines of that second: lines older than the cursor are dropped, and of those
 *   with exactly the cursor's time as many as were already passed on.
 *   What remains: two lines with the same nanosecond timestamp of which only the first
 *   was read before a cut are told apart by count only, which holds as long as the
 *   kubelet returns them in the same order (it does, the file is append-only). A line
 *   passed on twice anyway would add its bytes twice to one window: windows are
 *   idempotent per (series, window), not per event, so nothing downstream removes it.
 * - A restarted export container (restartCount grows): its new log starts after the
 *   cursor in time, so the stream is reopened at once with the same cursor, which reads
 *   the new container from its start. Lines the old container wrote after the cursor
 *   and before it died are not read (`previous=true` would be needed).
 * - A deleted pod: its stream is left to drain for `drainMs`, then closed; no retry.
 * - Only complete lines are passed on, each pod's lines whole and in order; a line cut
 *   by a broken stream is dropped and read again whole after the resume.
 *
 * A 401/403 is a configuration error, not a transient one: it fails the source with
 * the verb, the resource and the RBAC rule to add.
 *
 * The parts: `k8s-logs/pod-api.ts` (the requests, raw HTTP: `kube/raw-http.ts` says
 * why), `k8s-logs/pod-watch.ts` (list + watch, on `kube/reflector.ts`), `k8s-logs/pod-follower.ts` (one pod's
 * stream and cursor), `k8s-logs/line-queue.ts` (the merge, bounded); this file wires them.
 */
import type { Logger } from '../telemetry/logger.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import type { BackoffOptions } from '../core/backoff.ts';
import { InputError } from '../core/input-error.ts';
import { REFLECTOR_DEFAULTS } from '../kube/reflector.ts';
import type { ByteInput } from './byte-input.ts';
import { LineQueue } from './k8s-logs/line-queue.ts';
import { PodLogApi, type PodObject } from './k8s-logs/pod-api.ts';
import { PodFollower, type FollowerHost } from './k8s-logs/pod-follower.ts';
import { PodWatch } from './k8s-logs/pod-watch.ts';

export { timeKey } from './k8s-logs/pod-follower.ts';

export interface K8sLogsOptions {
  config: KubeConfig;
  /** The API server URL (may carry a path prefix). */
  server: string;
  namespace: string;
  selector: string;
  container: string;
  signal: AbortSignal;
  log: Pick<Logger, 'info' | 'warn'>;
  /** Delay before reconnecting a stream or relisting pods, doubled up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
  /** How long a deleted pod's stream may still deliver lines; default 5 s. */
  drainMs?: number;
  /**
   * Lines buffered for the consumer above which the log streams stop reading, so TCP
   * holds the kubelets back instead of this process's memory; default 8 MiB.
   */
  maxBufferedBytes?: number;
}

export class K8sLogInput implements ByteInput, FollowerHost {
  readonly name: string;
  readonly chunks: AsyncIterable<Buffer>;
  readonly api: PodLogApi;
  readonly retry: BackoffOptions;
  private readonly followers = new Map<string, PodFollower>();
  private readonly queue: LineQueue;
  private readonly watch: PodWatch;
  /** Lines passed on, and lines dropped as repeats of a resumed stream. */
  linesRead = 0;
  linesSkipped = 0;
  reconnects = 0;

  constructor(private readonly options: K8sLogsOptions) {
    this.name = `k8s-logs ${options.namespace}/${options.selector}/${options.container}`;
    // No jitter: one source against its own API server, nobody to fall in step with.
    this.retry = { initialMs: options.retryMs ?? 1000, maxMs: options.maxRetryMs ?? REFLECTOR_DEFAULTS.maxBackoffMs, jitter: 'none' };
    this.api = new PodLogApi(options.config, options.server, options.namespace, options.selector);
    this.queue = new LineQueue(options.maxBufferedBytes ?? 8 << 20, options.signal);
    this.chunks = this.queue.chunks(() => {
      for (const f of this.followers.values()) f.retire(0);
    });
    const pods = {
      seen: (pod: PodObject) => this.onPod(pod),
      deleted: (name: string, uid: string | undefined) => this.onWatchDeleted(name, uid),
      uids: () => [...this.followers.values()].map((f) => f.uid),
      gone: (uid: string) => this.onGone(uid),
    };
    this.watch = new PodWatch(this.api, pods, {
      server: options.server,
      signal: options.signal,
      log: options.log,
      retry: this.retry,
      fatal: (err) => this.fatal(err),
    });
  }

  /** Bytes of lines queued for the consumer and not yet taken. */
  get bufferedBytes(): number {
    return this.queue.bufferedBytes;
  }

  /** Pod names followed now (tests, logs). */
  get pods(): string[] {
    return [...this.followers.keys()].sort();
  }

  /** Lists the pods once (any failure fails here, a 401/403 naming the RBAC rule), starts following them, then keeps watching. */
  start(): Promise<void> {
    return this.watch.start();
  }

  private onPod(pod: PodObject): void {
    const name = pod.metadata?.name;
    const uid = pod.metadata?.uid ?? '';
    if (!name) return;
    let f = this.followers.get(name);
    if (f && f.uid !== uid) {
      // Same name, new pod (a StatefulSet or a recreated pod): a new log and cursor.
      this.onDeleted(name, f);
      f = undefined;
    }
    const status = pod.status?.containerStatuses?.find((c) => c.name === this.options.container);
    const running = status?.state?.running !== undefined;
    if (!f) {
      if (!running) return;
      f = new PodFollower(this, name, uid, pod.spec?.nodeName);
      this.followers.set(name, f);
      this.options.log.info({ pod: name, node: pod.spec?.nodeName }, 'k8s-logs: following a Tetragon pod');
    }
    f.update(running, status?.restartCount ?? 0);
  }

  private onWatchDeleted(name: string, uid: string | undefined): void {
    const f = this.followers.get(name);
    if (f && f.uid === uid) this.onDeleted(name, f);
  }

  private onGone(uid: string): void {
    for (const [name, f] of this.followers) if (f.uid === uid) this.onDeleted(name, f);
  }

  private onDeleted(name: string, f: PodFollower): void {
    this.followers.delete(name);
    this.options.log.info({ pod: name }, 'k8s-logs: Tetragon pod gone; no longer following it');
    f.retire(this.options.drainMs ?? 5000);
  }

  /** A 401/403 ends the source: the pipeline sees the error at its next read. */
  fatal(err: unknown): boolean {
    if (!(err instanceof InputError)) return false;
    this.queue.fail(err);
    return true;
  }

  push(lines: Buffer, stream: AbortSignal): Promise<void> {
    return this.queue.push(lines, stream);
  }

  get container(): string {
    return this.options.container;
  }

  get signal(): AbortSignal {
    return this.options.signal;
  }

  get log(): K8sLogsOptions['log'] {
    return this.options.log;
  }
}

/** Opens the source: pods listed once (a failure fails here; a 401/403 names the RBAC rule). */
export async function openK8sLogs(options: K8sLogsOptions): Promise<K8sLogInput> {
  const input = new K8sLogInput(options);
  await input.start();
  return input;
}
