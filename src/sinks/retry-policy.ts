/**
 * When to retry a write and how long to wait. Shared by the v1 and v2 transports so that
 * both honour the same rules: 429 and 5xx are retried, other 4xx never are (the same
 * bytes would be refused again), network errors are retried; the wait is exponential
 * with equal jitter, capped, and a server's `Retry-After` wins over our own guess.
 */

export interface RetryPolicyOptions {
  /** First backoff, before jitter. */
  minDelayMs: number;
  /** Cap on any single wait, `Retry-After` included (a broken header must not park us for a day). */
  maxDelayMs: number;
  /** Growth per attempt. */
  base: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicyOptions = { minDelayMs: 500, maxDelayMs: 60_000, base: 2 };

/** A failed write attempt as the transports report it. */
export class WriteFailure extends Error {
  constructor(
    message: string,
    /** HTTP status, or undefined for a network error (reset, refused, timeout). */
    readonly status: number | undefined,
    /** Delay the server asked for, in milliseconds. */
    readonly retryAfterMs: number | undefined,
    /** The server's own explanation (InfluxDB's `error` / `message`), for the log. */
    readonly serverMessage: string | undefined,
  ) {
    super(message);
    this.name = 'WriteFailure';
  }

  get retryable(): boolean {
    return isRetryableStatus(this.status);
  }
}

export function isRetryableStatus(status: number | undefined): boolean {
  if (status === undefined) return true;
  return status === 429 || status >= 500;
}

/**
 * `Retry-After` is either delta-seconds or an HTTP-date (RFC 9110 §10.2.3). The official
 * client reads the number as milliseconds, which is why we parse it ourselves.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

export class RetryPolicy {
  constructor(
    readonly options: RetryPolicyOptions = DEFAULT_RETRY_POLICY,
    private readonly random: () => number = Math.random,
  ) {}

  /** Wait before attempt `attempt + 1`, after `attempt` (1-based) failed attempts. */
  delayMs(attempt: number, failure: WriteFailure | undefined): number {
    const { minDelayMs, maxDelayMs, base } = this.options;
    if (failure?.retryAfterMs !== undefined) {
      // A little jitter on top so that many writers told the same second do not stampede.
      return Math.min(maxDelayMs, failure.retryAfterMs + Math.round(this.random() * minDelayMs * 0.1));
    }
    const ceiling = Math.min(maxDelayMs, minDelayMs * base ** Math.max(0, attempt - 1));
    // Equal jitter: at least half the ceiling (a floor keeps retries from hammering),
    // the rest random (spreads writers that failed together).
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }
}
