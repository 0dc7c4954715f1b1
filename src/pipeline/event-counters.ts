/** What happened to the input lines: the replay summary and the daemon's metrics. */
import type { RejectReason } from '../decode/kernel-event.ts';

export class EventCounters {
  /** Non-blank lines. */
  read = 0;
  used = 0;
  skipped = new Map<string, number>();
  rejected = new Map<RejectReason, number>();
  /** Events whose window had already closed. */
  late = 0;
  /** Times the open windows went to the spill file to keep memory under the bound of open points. */
  windowSpills = 0;
  /** Lines the fast decoder handed to the reference decoder. */
  fallbacks = 0;
  pointsWritten = 0;
  /** Events Tetragon reported it dropped, by reason (`rate_limit`: `rate_limit_info` events). */
  lost = new Map<string, number>();
  /** `process_throttle` THROTTLE_START events: a cgroup's events stopped for a while (no count given). */
  throttles = 0;
  /** Lines that said they report a loss but could not be read (a malformed count). */
  unreadableLossSignals = 0;

  skip(type: string): void {
    this.skipped.set(type, (this.skipped.get(type) ?? 0) + 1);
  }

  reject(reason: RejectReason): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  addLost(reason: string, events: number): void {
    this.lost.set(reason, (this.lost.get(reason) ?? 0) + events);
  }

  get lostTotal(): number {
    let n = 0;
    for (const v of this.lost.values()) n += v;
    return n;
  }

  get skippedTotal(): number {
    let n = 0;
    for (const v of this.skipped.values()) n += v;
    return n;
  }

  get rejectedTotal(): number {
    let n = 0;
    for (const v of this.rejected.values()) n += v;
    return n;
  }
}
