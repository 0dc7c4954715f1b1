/**
 * One pod's export log: a stream at a time, resumed at its cursor (the kubelet time of
 * the last line passed on; see `k8s-logs.ts` for the rules of a resume, a restart and a
 * deleted pod).
 */
import type { Logger } from '../../telemetry/logger.ts';
import { Backoff, type BackoffOptions } from '../../core/backoff.ts';
import { readLines } from '../../kube/raw-http.ts';
import type { PodLogApi } from './pod-api.ts';

/** What a follower needs of its source. */
export interface FollowerHost {
  readonly api: PodLogApi;
  readonly container: string;
  readonly signal: AbortSignal;
  readonly log: Pick<Logger, 'info' | 'warn'>;
  readonly retry: BackoffOptions;
  /** Passes complete lines on; settles when the follower may read on (backpressure). */
  push(lines: Buffer, stream: AbortSignal): Promise<void>;
  /** True when `err` ends the source (401/403): no retry. */
  fatal(err: unknown): boolean;
  linesRead: number;
  linesSkipped: number;
  reconnects: number;
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

export class PodFollower {
  private readonly cursor: LogCursor = { key: undefined, raw: undefined, countAtKey: 0 };
  private stream: AbortController | undefined;
  private restartCount = -1;
  private running = false;
  private retired = false;
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: FollowerHost,
    readonly name: string,
    readonly uid: string,
    private readonly node: string | undefined,
  ) {
    this.backoff = new Backoff(source.retry);
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
    if (delivered || now) this.backoff.reset();
    const wait = now ? 0 : this.backoff.next();
    if (err && !now)
      this.source.log.warn(
        { pod: this.name, node: this.node, err: (err as Error).message, retryMs: wait },
        'k8s-logs: log stream failed; resuming',
      );
    this.source.reconnects++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.running) this.connect();
    }, wait);
    this.retryTimer.unref();
  }

  /** Reads one stream to its end; true when it passed on at least one line. */
  private async follow(signal: AbortSignal): Promise<boolean> {
    const res = await this.source.api.followLog(this.name, this.source.container, this.cursor.raw, signal);
    // Lines of this stream with exactly the cursor's time: the first `countAtKey` are repeats.
    let atKey = 0;
    let delivered = false;
    // One chunk's lines, encoded once per chunk rather than once per line.
    const out: string[] = [];
    try {
      await readLines(
        res,
        (line) => {
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
        },
        async () => {
          if (out.length === 0) return;
          const lines = Buffer.from(out.join('\n') + '\n');
          out.length = 0;
          await this.source.push(lines, signal);
        },
      );
    } catch (err) {
      if (signal.aborted) return delivered;
      throw err;
    }
    return delivered;
  }
}
