/**
 * What happened to the points a delivering sink accepted. Every accepted point ends in
 * exactly one of acknowledged, rejected, dropped or failed, or is still pending: the
 * sums are what replay reports and what the daemon exports as Prometheus metrics.
 */
export interface DeliveryStats {
  /** Points handed to `write()`. */
  accepted: number;
  /** Points the server acknowledged (2xx). */
  acknowledged: number;
  /** Points the server refused with a non-retryable 4xx; they will never be sent again. */
  rejected: number;
  /** Points thrown away because the spool reached `--spool-max-bytes` (oldest first). */
  dropped: number;
  /** Points given up on after retrying past the deadline (no spool, or closing). */
  failed: number;
  /** Points still waiting in the spool (sent on the next run when the spool is on disk). */
  pending: number;
  /** Bytes of unsent records in the spool (framing included): 0 once all is delivered. */
  spoolBytes: number;
  /** HTTP write requests that were answered with success. */
  requests: number;
  /** Attempts that failed and were (or will be) retried. */
  retries: number;
  /** Seconds spent in successful write requests, summed (for a rate or a mean). */
  writeSeconds: number;
  /**
   * With a disk spool: why the server refuses every write for now (`unauthorized` 401,
   * `forbidden` 403, `not_found` 404: a revoked token, a missing database or bucket),
   * while the points wait in the spool; undefined when delivery is not blocked.
   */
  blockedReason: BlockedReason | undefined;
}

export type BlockedReason = 'unauthorized' | 'forbidden' | 'not_found';
export const BLOCKED_REASONS: readonly BlockedReason[] = ['unauthorized', 'forbidden', 'not_found'];

/** The statuses that block a disk-spooled sink instead of rejecting its points. */
export function blockedReasonOf(status: number | undefined): BlockedReason | undefined {
  return status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : status === 404 ? 'not_found' : undefined;
}

export function emptyDeliveryStats(): DeliveryStats {
  return {
    accepted: 0,
    acknowledged: 0,
    rejected: 0,
    dropped: 0,
    failed: 0,
    pending: 0,
    spoolBytes: 0,
    requests: 0,
    retries: 0,
    writeSeconds: 0,
    blockedReason: undefined,
  };
}

/** Points that did not (yet) reach the server: what replay must report as a failure. */
export function unacknowledged(stats: DeliveryStats): number {
  return stats.rejected + stats.dropped + stats.failed + stats.pending;
}

/** Raised by `close()` of a delivering sink when some points were not acknowledged. */
export class DeliveryError extends Error {
  constructor(
    readonly stats: DeliveryStats,
    readonly destination: string,
  ) {
    super(describeLoss(stats, destination));
    this.name = 'DeliveryError';
  }
}

export function describeLoss(s: DeliveryStats, destination: string): string {
  const parts: string[] = [];
  if (s.rejected) parts.push(`${s.rejected} rejected by the server (4xx, see the log)`);
  if (s.dropped) parts.push(`${s.dropped} dropped from the spool (over --spool-max-bytes or a full disk; see DATA LOSS in the log)`);
  if (s.failed) parts.push(`${s.failed} failed after retries`);
  if (s.pending) parts.push(`${s.pending} still in the spool (sent on the next run with the same --spool-dir)`);
  return `${unacknowledged(s)} points not acknowledged by ${destination}: ${parts.join('; ')}`;
}
