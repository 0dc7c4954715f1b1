/**
 * Exponential backoff, the one rule every retry loop uses (InfluxDB writes, the
 * Kubernetes reflectors, the pod log streams): the wait before a retry grows by `factor`
 * per failed attempt from `initialMs` up to `maxMs`, then `jitter` spreads it.
 */

export type Jitter =
  /** The ceiling itself: one client alone against a server (a pod's log stream). */
  | 'none'
  /** Half the ceiling plus a random half: a floor that keeps retries from hammering. */
  | 'equal'
  /** The ceiling ± `spread` (a fraction), as client-go's wait.Jitter: keeps a fleet's retries apart. */
  | { spread: number };

export interface BackoffOptions {
  /** Wait after the first failure, before jitter. */
  initialMs: number;
  /** Cap on the ceiling. */
  maxMs: number;
  /** Growth per failed attempt; default 2. */
  factor?: number;
  jitter: Jitter;
  random?: () => number;
}

/** Wait after `attempt` (1-based) failed attempts in a row. */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  const { initialMs, maxMs, factor = 2, jitter, random = Math.random } = options;
  // The exponent is bounded so that a long outage cannot reach Infinity (0 × Infinity is NaN).
  const ceiling = Math.min(maxMs, initialMs * factor ** Math.min(Math.max(0, attempt - 1), 64));
  if (jitter === 'none') return ceiling;
  if (jitter === 'equal') return Math.round(ceiling / 2 + random() * (ceiling / 2));
  return Math.round(ceiling * (1 - jitter.spread + random() * 2 * jitter.spread));
}

/** A retry loop's failures in a row: `next()` after each failure, `reset()` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(readonly options: BackoffOptions) {}

  /** Counts one more failure and returns the wait before the retry. */
  next(): number {
    return backoffDelayMs(++this.attempt, this.options);
  }

  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}
