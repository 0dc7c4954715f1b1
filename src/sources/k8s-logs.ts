/**
 * `--events k8s-logs`: the central mode for small clusters. Follows the log of the
 * export container (`export-stdout`) of every Tetragon pod through the API server's
 * log endpoint, and merges the streams line by line into one `ByteInput`.
 *
 * - Pods: listed, then watched, by label selector in one namespace; a watch that ends
 *   or fails is replaced by a new list (a handful of pods: cheaper than tracking
 *   resource versions), which also drops pods deleted meanwhile.
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
 * Requests go out raw, signed by KubeConfig's `applyToHTTPSOptions` (so every auth method
 * client-node supports applies), rather than through client-node's `Log`: `Log` pipes
 * the response into a Writable and ends it when the response ends, and `pipe` does not
 * forward the response's errors, so a cut stream could not be told from a clean end,
 * which is what decides between resuming and letting a pod go.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { InputError } from '../core/input-error.ts';
import type { ByteInput } from './byte-input.ts';

export interface K8sLogsOptions {
  config: KubeConfig;
  /** The API server URL (may carry a path prefix). */
  server: string;
  namespace: string;
  selector: string;
  container: string;
  signal: AbortSignal;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
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

interface PodObject {
  metadata?: { name?: string; uid?: string; resourceVersion?: string; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: { containerStatuses?: Array<{ name?: string; restartCount?: number; state?: { running?: unknown } }> };
}

/** Where a pod's log was read up to: the kubelet time of the last line passed on. */
interface LogCursor {
  /** Comparable form of the time (see `timeKey`); undefined before the first line. */
  key: string | undefined;
  /** The time as the kubelet wrote it, for `sinceTime`. */
  raw: string | undefined;
  /** Lines passed on with exactly this time. */
  countAtKey: number;
}

/**
 * RFC 3339 times as fixed-width strings that compare like the times: the kubelet
 * trims trailing zeros of the fraction (Go's RFC3339Nano), so raw strings do not.
 */
export function timeKey(raw: string): string | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(raw);
  if (m) return `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}`;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) return undefined;
  return timeKey(new Date(ms).toISOString());
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

export class K8sLogInput implements ByteInput {
  readonly name: string;
  readonly chunks: AsyncIterable<Buffer>;
  private readonly followers = new Map<string, PodFollower>();
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  /** Followers waiting for the consumer to take the queue (see `push`). */
  private readonly waiting = new Set<() => void>();
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private readonly maxBufferedBytes: number;
  /** Lines passed on, and lines dropped as repeats of a resumed stream. */
  linesRead = 0;
  linesSkipped = 0;
  reconnects = 0;

  constructor(private readonly options: K8sLogsOptions) {
    this.name = `k8s-logs ${options.namespace}/${options.selector}/${options.container}`;
    this.retryMs = options.retryMs ?? 1000;
    this.maxRetryMs = options.maxRetryMs ?? 30_000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 8 << 20;
    this.chunks = this.drain();
    options.signal.addEventListener(
      'abort',
      () => {
        this.notify();
        this.release();
      },
      { once: true },
    );
  }

  /** Bytes of lines queued for the consumer and not yet taken. */
  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  /** Pod names followed now (tests, logs). */
  get pods(): string[] {
    return [...this.followers.keys()].sort();
  }

  /** Lists the pods once (a 403 fails here), starts following them, then keeps watching. */
  async start(): Promise<void> {
    const rv = await this.list();
    void this.watchLoop(rv);
  }

  private podsPath(query: Record<string, string>): string {
    const q = new URLSearchParams({ labelSelector: this.options.selector, ...query });
    return `/api/v1/namespaces/${encodeURIComponent(this.options.namespace)}/pods?${q}`;
  }

  private async list(): Promise<string> {
    const res = await this.get(this.podsPath({}), 'list pods');
    const body = JSON.parse(await readAll(res)) as { metadata?: { resourceVersion?: string }; items?: PodObject[] };
    const seen = new Set<string>();
    for (const pod of body.items ?? []) {
      const name = pod.metadata?.name;
      if (!name) continue;
      seen.add(name);
      this.onPod(pod);
    }
    for (const [name, f] of this.followers) if (!seen.has(name)) this.onDeleted(name, f);
    return body.metadata?.resourceVersion ?? '0';
  }

  private async watchLoop(firstRv: string): Promise<void> {
    let rv = firstRv;
    let delay = this.retryMs;
    while (!this.options.signal.aborted) {
      try {
        const res = await this.get(this.podsPath({ watch: '1', resourceVersion: rv, allowWatchBookmarks: 'true' }), 'watch pods');
        await readLines(res, (line) => {
          const ev = JSON.parse(line) as { type?: string; object?: PodObject };
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.onPod(ev.object ?? {});
          else if (ev.type === 'DELETED') {
            const name = ev.object?.metadata?.name;
            const f = name ? this.followers.get(name) : undefined;
            if (name && f && f.uid === ev.object?.metadata?.uid) this.onDeleted(name, f);
          }
          delay = this.retryMs;
        });
      } catch (err) {
        if (this.options.signal.aborted || this.fatal(err)) return;
        this.options.log.warn({ err: (err as Error).message, retryMs: delay }, 'k8s-logs: watching the Tetragon pods failed; relisting');
        await sleep(delay, this.options.signal);
        delay = Math.min(delay * 2, this.maxRetryMs);
      }
      if (this.options.signal.aborted) return;
      try {
        rv = await this.list();
      } catch (err) {
        if (this.options.signal.aborted || this.fatal(err)) return;
        this.options.log.warn({ err: (err as Error).message, retryMs: delay }, 'k8s-logs: listing the Tetragon pods failed; retrying');
        await sleep(delay, this.options.signal);
        delay = Math.min(delay * 2, this.maxRetryMs);
      }
    }
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

  private onDeleted(name: string, f: PodFollower): void {
    this.followers.delete(name);
    this.options.log.info({ pod: name }, 'k8s-logs: Tetragon pod gone; no longer following it');
    f.retire(this.options.drainMs ?? 5000);
  }

  /** Opens `path` on the API server; a status other than 2xx rejects (`what` names the request for 403s). */
  async get(path: string, what: string, signal: AbortSignal = this.options.signal): Promise<IncomingMessage> {
    const url = new URL(this.options.server.replace(/\/+$/, '') + path);
    const opts: RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
    await this.options.config.applyToHTTPSOptions(opts);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { ...opts, signal }, resolve);
      req.on('error', reject);
      req.end();
    });
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    const body = await readAll(res).catch(() => '');
    if (status === 401 || status === 403) throw this.forbidden(status, what, body);
    throw new HttpStatusError(status, body);
  }

  private forbidden(status: number, what: string, body: string): InputError {
    const [verb, resource] = what.split(' ') as [string, string];
    const message = (() => {
      try {
        return (JSON.parse(body) as { message?: string }).message ?? body;
      } catch {
        return body;
      }
    })();
    if (status === 401) {
      return new InputError(`${this.options.server}: unauthorized (401) to ${what} in namespace ${this.options.namespace}: ${message}`, 'the credentials of the kubeconfig or service account are not accepted: check the token or client certificate');
    }
    return new InputError(
      `${this.options.server}: forbidden (403) to ${verb} ${resource} in namespace ${this.options.namespace}: ${message}`,
      `grant kovenant's ServiceAccount a Role in ${this.options.namespace} with rules {apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"]} and {apiGroups: [""], resources: ["pods/log"], verbs: ["get"]}; check with: kubectl auth can-i ${verb} ${resource} -n ${this.options.namespace} --as system:serviceaccount:NAMESPACE:NAME`,
    );
  }

  /** A 401/403 ends the source: the pipeline sees the error at its next read. */
  fatal(err: unknown): boolean {
    if (!(err instanceof InputError)) return false;
    this.failure ??= err;
    this.notify();
    return true;
  }

  /**
   * A follower's complete lines, passed on as one chunk. Over `maxBufferedBytes` the
   * promise settles only once the consumer has taken the queue (or `stream` is aborted):
   * the follower awaits it before reading on, so its response stops being read and TCP
   * flow control holds the sender back, which pausing an async-iterated response would not.
   */
  push(lines: Buffer, stream: AbortSignal): Promise<void> {
    this.queue.push(lines);
    this.queuedBytes += lines.length;
    this.notify();
    if (this.queuedBytes <= this.maxBufferedBytes || stream.aborted || this.options.signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        stream.removeEventListener('abort', done);
        this.waiting.delete(done);
        resolve();
      };
      this.waiting.add(done);
      stream.addEventListener('abort', done, { once: true });
    });
  }

  private release(): void {
    for (const done of [...this.waiting]) done();
  }

  get retry(): { initialMs: number; maxMs: number } {
    return { initialMs: this.retryMs, maxMs: this.maxRetryMs };
  }

  get container(): string {
    return this.options.container;
  }

  get namespace(): string {
    return this.options.namespace;
  }

  get signal(): AbortSignal {
    return this.options.signal;
  }

  get log(): K8sLogsOptions['log'] {
    return this.options.log;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async *drain(): AsyncGenerator<Buffer> {
    try {
      while (true) {
        if (this.failure) throw this.failure;
        if (this.queue.length > 0) {
          const out = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue);
          this.queue.length = 0;
          this.queuedBytes = 0;
          // Before the yield: the streams read on while the consumer works on `out`.
          this.release();
          yield out;
          continue;
        }
        if (this.options.signal.aborted) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      this.release();
      for (const f of this.followers.values()) f.retire(0);
    }
  }
}

/** One pod's export log: a stream at a time, resumed at its cursor. */
class PodFollower {
  private readonly cursor: LogCursor = { key: undefined, raw: undefined, countAtKey: 0 };
  private stream: AbortController | undefined;
  private restartCount = -1;
  private running = false;
  private retired = false;
  private delay: number;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: K8sLogInput,
    readonly name: string,
    readonly uid: string,
    private readonly node: string | undefined,
  ) {
    this.delay = source.retry.initialMs;
  }

  update(running: boolean, restartCount: number): void {
    const restarted = this.restartCount >= 0 && restartCount !== this.restartCount;
    this.restartCount = restartCount;
    this.running = running;
    if (restarted && this.stream) {
      this.source.log.info({ pod: this.name, restartCount }, 'k8s-logs: the export container restarted; reading its new log');
      this.stream.abort();
      return;
    }
    if (running && !this.stream && !this.retryTimer) this.connect();
  }

  /** The pod is gone: no more reconnects; the open stream may drain for `drainMs`. */
  retire(drainMs: number): void {
    this.retired = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const stream = this.stream;
    if (!stream) return;
    if (drainMs <= 0) stream.abort();
    else setTimeout(() => stream.abort(), drainMs).unref();
  }

  private connect(): void {
    if (this.retired || this.source.signal.aborted) return;
    const stream = new AbortController();
    this.stream = stream;
    const abortWithSource = (): void => stream.abort();
    this.source.signal.addEventListener('abort', abortWithSource, { once: true });
    void this.follow(stream.signal).then(
      (delivered) => this.ended(stream, abortWithSource, delivered, undefined),
      (err: unknown) => this.ended(stream, abortWithSource, false, err),
    );
  }

  private ended(stream: AbortController, abortWithSource: () => void, delivered: boolean, err: unknown): void {
    this.source.signal.removeEventListener('abort', abortWithSource);
    if (this.stream === stream) this.stream = undefined;
    if (this.retired || this.source.signal.aborted) return;
    if (this.source.fatal(err)) return;
    // A restart aborted the stream on purpose: reopen at once.
    const now = stream.signal.aborted;
    if (delivered || now) this.delay = this.source.retry.initialMs;
    const wait = now ? 0 : this.delay;
    if (!now) this.delay = Math.min(this.delay * 2, this.source.retry.maxMs);
    if (err && !now) this.source.log.warn({ pod: this.name, node: this.node, err: (err as Error).message, retryMs: wait }, 'k8s-logs: log stream failed; resuming');
    this.source.reconnects++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.running) this.connect();
    }, wait);
    this.retryTimer.unref();
  }

  /** Reads one stream to its end; true when it passed on at least one line. */
  private async follow(signal: AbortSignal): Promise<boolean> {
    const q = new URLSearchParams({ container: this.source.container, follow: 'true', timestamps: 'true' });
    if (this.cursor.raw) q.set('sinceTime', this.cursor.raw);
    const path = `/api/v1/namespaces/${encodeURIComponent(this.source.namespace)}/pods/${encodeURIComponent(this.name)}/log?${q}`;
    const res = await this.source.get(path, 'get pods/log', signal);
    // Lines of this stream with exactly the cursor's time: the first `countAtKey` are repeats.
    let atKey = 0;
    let delivered = false;
    // One chunk's lines, encoded once per chunk rather than once per line.
    const out: string[] = [];
    try {
      await readLines(res, (line) => {
        const space = line.indexOf(' ');
        const raw = space > 0 ? line.slice(0, space) : '';
        const key = raw ? timeKey(raw) : undefined;
        const text = key ? line.slice(space + 1) : line;
        if (key !== undefined && this.cursor.key !== undefined) {
          if (key < this.cursor.key || (key === this.cursor.key && atKey < this.cursor.countAtKey)) {
            if (key === this.cursor.key) atKey++;
            this.source.linesSkipped++;
            return;
          }
        }
        if (key !== undefined) {
          if (key === this.cursor.key) this.cursor.countAtKey++;
          else {
            this.cursor.key = key;
            this.cursor.raw = raw;
            this.cursor.countAtKey = 1;
            atKey = 0;
          }
          atKey++;
        }
        out.push(text);
        delivered = true;
        this.source.linesRead++;
      }, async () => {
        if (out.length === 0) return;
        const lines = Buffer.from(out.join('\n') + '\n');
        out.length = 0;
        await this.source.push(lines, signal);
      });
    } catch (err) {
      if (signal.aborted) return delivered;
      throw err;
    }
    return delivered;
  }
}

/** Opens the source: pods listed once (401/403 fail here, naming the RBAC rule). */
export async function openK8sLogs(options: K8sLogsOptions): Promise<K8sLogInput> {
  const input = new K8sLogInput(options);
  await input.start();
  return input;
}

async function readAll(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const c of res) text += c as string;
  return text;
}

/**
 * Calls `onLine` for each complete line (without its newline) and `onChunk` after each
 * network chunk's lines; a last line without newline is dropped (a cut stream). The next
 * chunk is read only once `onChunk` settles: that is the backpressure of `push`.
 */
async function readLines(res: IncomingMessage, onLine: (line: string) => void, onChunk?: () => void | Promise<void>): Promise<void> {
  let rest = '';
  // Decoded as a stream: a character split between two chunks stays whole.
  res.setEncoding('utf8');
  for await (const chunk of res) {
    const text = rest + (chunk as string);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const line = text.slice(start, nl);
      start = nl + 1;
      if (line.trim() !== '') onLine(line);
    }
    rest = text.slice(start);
    await onChunk?.();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
