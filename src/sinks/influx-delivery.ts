/**
 * The delivering sink behind `--output influx`: `write()` frames points as line protocol
 * into a spool (disk with `--spool-dir`, else memory), and one sender drains the spool in
 * order through a transport (v1 `/write` or the v2 client), batching by size and time and
 * retrying per the RetryPolicy. A batch leaves the spool only when the server acknowledged
 * it, refused it for good (4xx), or — without a disk spool — retries ran out.
 *
 * `write()` resolves once the batch is durable: appended (and synced) to the disk spool,
 * or, with the memory spool, acknowledged by the server. That is the promise backpressure
 * and the daemon's checkpoint rely on.
 */
import type { Logger } from '../telemetry/logger.ts';
import { DeliveryError, blockedReasonOf, emptyDeliveryStats, unacknowledged, type DeliveryStats } from './delivery-stats.ts';
import { formatPoint } from './line-protocol.ts';
import type { LineTransport } from './line-transport.ts';
import type { MetricPoint, MetricSink } from '../core/metric-point.ts';
import { backoffDelayMs } from '../core/backoff.ts';
import { MAX_TIMER_MS, sleep } from '../core/sleep.ts';
import { RetryPolicy, WriteFailure } from './retry-policy.ts';
import type { Spool, SpoolBatch } from './spool.ts';

export interface DeliveryOptions {
  /** Points per request (and the size trigger of a batch). */
  batchPoints: number;
  /** Uncompressed bytes per request. */
  batchBytes: number;
  /** How long a batch smaller than `batchPoints` may wait for more points. */
  flushIntervalMs: number;
  /** Without a durable spool: how long one batch is retried before it counts as failed. */
  maxRetryTimeMs: number;
  /** On `close()`: how long to keep trying to empty the spool. */
  drainTimeoutMs: number;
  /** Disk spool refused with 401/403/404: the first wait before trying again (doubling to BLOCKED_MAX_RETRY_MS). */
  blockedRetryMs: number;
  retryPolicy: RetryPolicy;
}

export const DEFAULT_DELIVERY: DeliveryOptions = {
  batchPoints: 5000,
  batchBytes: 4 * 1024 * 1024,
  flushIntervalMs: 1000,
  maxRetryTimeMs: 120_000,
  drainTimeoutMs: 60_000,
  blockedRetryMs: 10_000,
  retryPolicy: new RetryPolicy(),
};

/** The longest wait between attempts while the server refuses every write (401/403/404). */
const BLOCKED_MAX_RETRY_MS = 5 * 60_000;
/** While blocked, the error is logged at most this often. */
const BLOCKED_LOG_EVERY_MS = 60_000;

/** During an outage that spent a batch's budget: how long each later batch's one attempt may take. */
const OUTAGE_PROBE_MS = 2000;

type Outcome = 'acknowledged' | 'rejected' | 'failed' | 'stopped' | { partial: number };

export class InfluxDeliverySink implements MetricSink {
  private readonly counts: DeliveryStats = emptyDeliveryStats();
  private closing = false;
  /** Set by drain() or close(): when delivery gives up (--drain-timeout after it). */
  private closeDeadline = Infinity;
  /** Aborts a request still in flight at the deadline (a silent server never answers). */
  private readonly deadlinePassed = new AbortController();
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Memory spool: an outage already cost a batch its whole retry budget (until a success). */
  private outageSpent = false;
  private outageFailedAt = 0;
  private blockedLoggedAt = -Infinity;
  private wake: (() => void) | undefined;
  private readonly waiters: Array<{ seq: number; resolve: () => void }> = [];
  private deliveredThrough = 0;
  private readonly sender: Promise<void>;
  private senderError: Error | undefined;
  private readonly options: DeliveryOptions;

  constructor(
    private readonly spool: Spool,
    private readonly transport: LineTransport,
    private readonly log: Logger,
    options: Partial<DeliveryOptions> = {},
  ) {
    this.options = { ...DEFAULT_DELIVERY, ...options };
    this.sender = this.run().catch((err: unknown) => {
      this.senderError = err as Error;
      this.log.error({ err: (err as Error).message, spool: spool.location }, 'delivery stopped by an unexpected error');
      this.releaseWaiters(Infinity);
    });
  }

  /** Called by the spool when its bound drops records (wired by the factory). */
  recordDrop(points: number, bytes: number, reason: string): void {
    this.counts.dropped += points;
    this.log.error({ points, bytes, destination: this.transport.destination }, `DATA LOSS: dropped ${points} points: ${reason}`);
  }

  stats(): DeliveryStats {
    return { ...this.counts, pending: this.spool.pendingPoints(), spoolBytes: this.spool.unsentBytes() };
  }

  get destination(): string {
    return this.transport.destination;
  }

  /** Starts the drain clock: everything not delivered within --drain-timeout is given up on. */
  drain(): void {
    if (this.closeDeadline !== Infinity) return;
    this.closeDeadline = Date.now() + this.options.drainTimeoutMs;
    this.deadlineTimer = setTimeout(
      () => {
        this.deadlinePassed.abort();
        this.poke();
      },
      Math.min(this.options.drainTimeoutMs, MAX_TIMER_MS),
    );
    this.deadlineTimer.unref();
    this.poke();
  }

  async write(points: readonly MetricPoint[]): Promise<void> {
    if (this.senderError) throw this.senderError;
    if (this.closing) throw new Error(`write after close to ${this.transport.destination}`);
    let lastSeq = 0;
    // Records no larger than a request, so that a request never splits a record.
    for (let i = 0; i < points.length; i += this.options.batchPoints) {
      const slice = points.slice(i, i + this.options.batchPoints);
      let body = '';
      for (const p of slice) body += (body ? '\n' : '') + formatPoint(p);
      lastSeq = await this.spool.append(body, slice.length);
      this.counts.accepted += slice.length;
    }
    if (!lastSeq) return;
    this.poke();
    if (!this.spool.durable) {
      await new Promise<void>((resolve) => this.waitFor(lastSeq, resolve));
      // A dead sender releases every waiter; resolving would let the caller checkpoint
      // points that were never delivered.
      if (this.senderError) throw this.senderError;
    }
  }

  private waitFor(seq: number, resolve: () => void): void {
    if (seq <= this.deliveredThrough || this.senderError) resolve();
    else {
      this.waiters.push({ seq, resolve });
      this.poke();
    }
  }

  private releaseWaiters(through: number): void {
    this.deliveredThrough = Math.max(this.deliveredThrough, through);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i];
      if (w && w.seq <= this.deliveredThrough) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Sleeps until `ms` passed or something wakes the sender (write, close). */
  private async pause(ms: number): Promise<void> {
    const woken = new AbortController();
    const wake = (): void => woken.abort();
    this.wake = wake;
    await sleep(ms, woken.signal);
    if (this.wake === wake) this.wake = undefined;
  }

  private urgent(): boolean {
    return this.closing || this.waiters.length > 0;
  }

  private async run(): Promise<void> {
    for (;;) {
      const pending = this.spool.pendingPoints();
      if (pending === 0) {
        if (this.closing) return;
        await this.pause(Infinity);
        continue;
      }
      // A healthy but slow server never fails a batch, so the deadline must be checked here
      // too, or close() would outlast --drain-timeout by the whole backlog.
      if (Date.now() >= this.closeDeadline) {
        if (this.closing || !this.spool.durable) await this.abandonBacklog();
        if (this.closing) return;
        // Draining but not closed: later writes are given up on (memory) or kept (disk) too.
        if (this.spool.durable) await this.pause(Infinity);
        continue;
      }
      if (pending < this.options.batchPoints && !this.urgent()) {
        // Time trigger: give a small batch a moment to grow, unless someone is waiting.
        const until = Date.now() + this.options.flushIntervalMs;
        while (Date.now() < until && this.spool.pendingPoints() < this.options.batchPoints && !this.urgent()) {
          await this.pause(until - Date.now());
        }
      }
      const batch = await this.spool.readBatch(this.options.batchPoints, this.options.batchBytes);
      if (!batch) continue;
      const outcome = await this.deliver(batch);
      if (outcome === 'stopped') return;
      const points = await this.spool.ack(batch);
      if (outcome === 'acknowledged') this.counts.acknowledged += points;
      else if (outcome === 'rejected') this.counts.rejected += points;
      else if (outcome === 'failed') this.counts.failed += points;
      else {
        this.counts.rejected += outcome.partial;
        this.counts.acknowledged += points - outcome.partial;
      }
      this.releaseWaiters(batch.lastSeq);
    }
  }

  /** At the drain deadline: a disk spool keeps the rest for the next run; memory loses it, loudly. */
  private async abandonBacklog(): Promise<void> {
    if (this.spool.durable) {
      this.log.error(
        { destination: this.transport.destination, spool: this.spool.location, points: this.spool.pendingPoints() },
        `drain timeout: ${this.spool.pendingPoints()} points stay in the spool for the next run`,
      );
      return;
    }
    let lost = 0;
    for (
      let batch = await this.spool.readBatch(this.options.batchPoints, this.options.batchBytes);
      batch;
      batch = await this.spool.readBatch(this.options.batchPoints, this.options.batchBytes)
    ) {
      const points = await this.spool.ack(batch);
      this.counts.failed += points;
      lost += points;
      this.releaseWaiters(batch.lastSeq);
    }
    if (lost)
      this.log.error(
        { destination: this.transport.destination, points: lost },
        `DATA LOSS: drain timeout: ${lost} points not sent; use --spool-dir to keep them across restarts`,
      );
  }

  private async deliver(batch: SpoolBatch): Promise<Outcome> {
    const firstAttempt = Date.now();
    // Without a disk spool the source waits for every batch, so --drain-timeout must bound
    // a batch's retries (and each request) even before the input ends; and once an outage
    // has cost one batch its whole budget, later batches get one short attempt each until
    // a write succeeds (at most one every OUTAGE_PROBE_MS; the others fail at once),
    // instead of a new budget each.
    if (!this.spool.durable && this.outageSpent && firstAttempt - this.outageFailedAt < OUTAGE_PROBE_MS) {
      this.log.error(
        { destination: this.transport.destination, points: batch.points },
        `DATA LOSS: ${batch.points} points not written: ${this.transport.destination} is still failing; use --spool-dir to keep them across outages`,
      );
      return 'failed';
    }
    const budget = this.outageSpent ? 0 : Math.min(this.options.maxRetryTimeMs, this.options.drainTimeoutMs);
    const memoryGiveUpAt = firstAttempt + budget;
    const attemptDeadline = this.spool.durable
      ? Infinity
      : this.outageSpent
        ? firstAttempt + Math.min(this.options.drainTimeoutMs, OUTAGE_PROBE_MS)
        : memoryGiveUpAt;
    for (let attempt = 1; ; attempt++) {
      const started = process.hrtime.bigint();
      try {
        await this.sendBeforeDeadline(batch, attemptDeadline);
        this.outageSpent = false;
        if (this.counts.blockedReason) {
          this.log.info(
            { destination: this.transport.destination, was: this.counts.blockedReason },
            'InfluxDB accepts writes again; sending the spooled points',
          );
          this.counts.blockedReason = undefined;
          this.blockedLoggedAt = -Infinity;
        }
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.counts.requests++;
        this.counts.writeSeconds += seconds;
        if (attempt > 1)
          this.log.info(
            { destination: this.transport.destination, attempts: attempt, points: batch.points },
            'write succeeded after retries',
          );
        return 'acknowledged';
      } catch (err) {
        const failure = err instanceof WriteFailure ? err : new WriteFailure((err as Error).message, undefined, undefined, undefined);
        const context = {
          destination: this.transport.destination,
          status: failure.status,
          server: failure.serverMessage,
          points: batch.points,
          attempt,
        };
        const dropped = failure.droppedPoints;
        if (dropped !== undefined && dropped < batch.points) {
          this.log.error(
            { ...context, stored: batch.points - dropped, dropped },
            `InfluxDB stored ${batch.points - dropped} of ${batch.points} points and refused ${dropped} (partial write: ${failure.serverMessage}); not retried, the same data would be refused again`,
          );
          return { partial: dropped };
        }
        const blocked = this.spool.durable ? blockedReasonOf(failure.status) : undefined;
        if (blocked) {
          // A revoked token or a missing database refuses every point alike: the points stay
          // spooled (bounded as always) until someone fixes it, instead of being thrown away.
          this.counts.blockedReason = blocked;
          // No jitter: this waits for someone to fix a token or a database, not for a server to recover.
          const delay = backoffDelayMs(attempt, { initialMs: this.options.blockedRetryMs, maxMs: BLOCKED_MAX_RETRY_MS, jitter: 'none' });
          if (Date.now() - this.blockedLoggedAt >= BLOCKED_LOG_EVERY_MS) {
            this.blockedLoggedAt = Date.now();
            this.log.error(
              { ...context, reason: blocked, spool: this.spool.location, spooledPoints: this.spool.pendingPoints(), retryInMs: delay },
              `InfluxDB refuses every write (${failure.message}): ${this.spool.pendingPoints()} points stay in the spool; fix the token, permissions or database/bucket; retrying with backoff (logged once a minute)`,
            );
          }
          if (Date.now() + delay > this.closeDeadline) return 'stopped';
          this.counts.retries++;
          await this.sleepUntilRetry(delay);
          continue;
        }
        if (!failure.retryable) {
          this.log.error(
            context,
            `InfluxDB refused ${batch.points} points (${failure.message}); not retried, the same data would be refused again`,
          );
          return 'rejected';
        }
        const delay = this.options.retryPolicy.delayMs(attempt, failure);
        const giveUpAt = this.spool.durable ? this.closeDeadline : Math.min(this.closeDeadline, memoryGiveUpAt);
        if (Date.now() + delay > giveUpAt) {
          if (this.spool.durable) {
            this.log.error(
              { ...context, spool: this.spool.location },
              `giving up for now: ${this.spool.pendingPoints()} points stay in the spool for the next run (${failure.message})`,
            );
            return 'stopped';
          }
          this.log.error(
            context,
            `DATA LOSS: ${batch.points} points not written after ${attempt} attempts (${failure.message}); use --spool-dir to keep them across outages`,
          );
          this.outageSpent = true;
          this.outageFailedAt = Date.now();
          return 'failed';
        }
        this.counts.retries++;
        // Loud at first, then every tenth attempt: an outage must not flood the log.
        if (attempt === 1 || attempt % 10 === 0) {
          this.log.warn(
            { ...context, retryInMs: delay, spool: this.spool.location, spooledPoints: this.spool.pendingPoints() },
            `write failed (${failure.message}); retrying`,
          );
        }
        await this.sleepUntilRetry(delay);
      }
    }
  }

  /** The transport's send, cut short when the drain deadline passes while it waits. */
  private async sendBeforeDeadline(batch: SpoolBatch, deadlineMs: number): Promise<void> {
    const left = deadlineMs - Date.now();
    const signal = Number.isFinite(left)
      ? AbortSignal.any([this.deadlinePassed.signal, AbortSignal.timeout(Math.max(1, left))])
      : this.deadlinePassed.signal;
    const expired = (): WriteFailure =>
      new WriteFailure(`no answer within --drain-timeout (${this.options.drainTimeoutMs} ms)`, undefined, undefined, undefined);
    if (signal.aborted) throw expired();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(expired());
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const sent = this.transport.send(batch.body, batch.points, signal);
    // Given up on at the deadline: its late failure must not become an unhandled rejection.
    sent.catch(() => undefined);
    try {
      await Promise.race([sent, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  /** A retry wait that ends early when close() shortens the deadline. */
  private async sleepUntilRetry(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      await this.pause(Math.min(until, this.closeDeadline) - Date.now());
      if (Date.now() >= this.closeDeadline) return;
    }
  }

  /**
   * Delivers what is spooled (waiting up to the drain timeout), then releases the
   * transport. Rejects with DeliveryError when points were not acknowledged.
   */
  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.drain();
      this.poke();
    }
    await this.sender;
    clearTimeout(this.deadlineTimer);
    await this.spool.close();
    await this.transport.close();
    this.releaseWaiters(Infinity);
    if (this.senderError) throw this.senderError;
    const stats = this.stats();
    if (unacknowledged(stats) > 0) throw new DeliveryError(stats, this.transport.destination);
  }
}
