/**
 * Fixed windows: one length, every window aligned to a multiple of it since the epoch.
 * The replay's and most daemons' windows, so `startFor` is the aggregator's per-event
 * cost: one division.
 */
import type { WindowsState } from './aggregator-state.ts';
import { describeWindows, otherWindowsError, type WindowSchedule } from './window-schedule.ts';

/** The start of the fixed window of `windowMs` that holds `timeMs`. */
export function windowStart(timeMs: number, windowMs: number): number {
  return Math.floor(timeMs / windowMs) * windowMs;
}

/**
 * The longest window: a day. Event times stay a day inside InfluxDB's range
 * (MIN_EVENT_TIME_MS), so every window start is a timestamp InfluxDB stores.
 */
export const MAX_WINDOW_MS = 86_400_000;

export class FixedWindows implements WindowSchedule {
  constructor(readonly lengthMs: number) {
    if (!(lengthMs > 0) || !Number.isInteger(lengthMs))
      throw new RangeError(`window must be a positive whole number of milliseconds, got ${lengthMs}`);
  }

  startFor(timeMs: number): number {
    return windowStart(timeMs, this.lengthMs);
  }

  lengthAt(): number {
    return this.lengthMs;
  }

  endOf(startMs: number): number {
    return startMs + this.lengthMs;
  }

  /** Fixed windows learn nothing from the windows created and closed. */
  created(): void {}

  closed(): void {}

  settle(): void {}

  get description(): string {
    return describeWindows(this.state());
  }

  state(): WindowsState {
    return { windowMs: this.lengthMs };
  }

  restore(state: WindowsState): void {
    if (state.dynamic !== undefined || state.windowMs !== this.lengthMs) throw otherWindowsError(state, this);
  }
}
