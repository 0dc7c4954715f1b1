/**
 * When to retry a write and how long to wait. Shared by the v1 and v2 transports so that
 * both honour the same rules: 429 and 5xx are retried, other 4xx never are (the same
 * bytes would be refused again), network errors are retried; the wait is exponential
 * with equal jitter, capped, and a server's `Retry-After` wins over our own guess.
 */
import { backoffDelayMs } from '../core/backoff.ts';

export interface RetryPolicyOptions {
  /** Ceiling of the first wait: equal jitter waits between half of it and all of it. */
  minDelayMs: number;
  /** Cap on any single wait, `Retry-After` included (a broken header must not park us for a day). */
  maxDelayMs: number;
  /** Growth per attempt. */
  base: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicyOptions = { minDelayMs: 500, maxDelayMs: 60_000, base: 2 };

/** Longest server message kept for logs and errors: InfluxDB quotes whole bodies back. */
export const MAX_SERVER_MESSAGE_CHARS = 300;

/** `text` cut to `max` characters, saying how much was left out. */
export function readableMessage(text: string, max = MAX_SERVER_MESSAGE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/**
 * The points InfluxDB dropped from a partial write: 1.x (and 2.x's 1.x-compatible
 * engine) stores what it can and answers 400 with `partial write: <why> dropped=N`
 * (points beyond the retention policy, a line that does not parse, a field type
 * conflict). Undefined for any other answer.
 */
export function partialWriteDropped(serverMessage: string | undefined): number | undefined {
  if (!serverMessage?.startsWith('partial write')) return undefined;
  const m = /dropped=(\d+)\s*$/.exec(serverMessage);
  return m ? Number(m[1]) : undefined;
}

/** A failed write attempt as the transports report it. */
export class WriteFailure extends Error {
  /** The server's own explanation (InfluxDB's `error` / `message`), cut for the log. */
  readonly serverMessage: string | undefined;
  /** Points the server dropped of a partial write (it stored the rest); see partialWriteDropped. */
  readonly droppedPoints: number | undefined;

  constructor(
    message: string,
    /** HTTP status, or undefined for a network error (reset, refused, timeout). */
    readonly status: number | undefined,
    /** Delay the server asked for, in milliseconds. */
    readonly retryAfterMs: number | undefined,
    serverMessage: string | undefined,
  ) {
    super(readableMessage(message));
    this.name = 'WriteFailure';
    this.droppedPoints = status === 400 ? partialWriteDropped(serverMessage) : undefined;
    this.serverMessage = serverMessage === undefined ? undefined : readableMessage(serverMessage);
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
    // Equal jitter: at least half the ceiling (a floor keeps retries from hammering),
    // the rest random (spreads writers that failed together).
    return backoffDelayMs(attempt, { initialMs: minDelayMs, maxMs: maxDelayMs, factor: base, jitter: 'equal', random: this.random });
  }
}
