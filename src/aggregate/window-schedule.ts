/**
 * Which window an event time belongs to, and what the windows learn as they close: the
 * one interface the aggregator sees, whether the windows are fixed (`FixedWindows`,
 * window.ts) or follow the write rate (`DynamicWindows`, dynamic-windows.ts).
 *
 * Every window is [start, endOf(start)); the aggregator keeps the open windows, their
 * sums and the per-node clocks, the schedule only the lengths. `startFor` runs per
 * event; the rest per window or per close.
 */
import type { WindowsState } from './aggregator-state.ts';
import { describeRungs } from './window-ladder.ts';

export interface WindowSchedule {
  /** The start of the window that holds `timeMs`. */
  startFor(timeMs: number): number;
  /** The length of the window that holds `timeMs`. */
  lengthAt(timeMs: number): number;
  /** The end of the window that starts at `startMs`. */
  endOf(startMs: number): number;
  /** A window starting at `startMs` was created on some node. */
  created(startMs: number): void;
  /** A node closed its window [startMs, endMs) with `points` series in it. */
  closed(startMs: number, endMs: number, points: number): void;
  /**
   * After windows were closed; `oldestOpenStart` gives the oldest window still open on
   * any node (Infinity when none is). A function: only schedules that learn from closed
   * windows pay for the scan.
   */
  settle(oldestOpenStart: () => number): void;
  /** For messages and logs, as `describeWindows` says it. */
  readonly description: string;
  /** What a checkpoint keeps of the schedule. */
  state(): WindowsState;
  /**
   * Continues a saved schedule (at startup, before any event). Refuses the state of
   * other windows: its windows would overlap this run's.
   */
  restore(state: WindowsState): void;
}

/** A clock or a bound as a saved state keeps it: null for -Infinity (JSON has no infinities). */
export function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

/** For messages: "10000 ms long" or "dynamic (10s, 20s, 1m)". */
export function describeWindows(state: WindowsState): string {
  return state.dynamic ? `dynamic (${describeRungs(state.dynamic.rungs)})` : `${state.windowMs} ms long`;
}

/** The refusal of a saved schedule of another kind or length. */
export function otherWindowsError(saved: WindowsState, schedule: WindowSchedule): RangeError {
  return new RangeError(`the saved windows are ${describeWindows(saved)}, this aggregator's ${schedule.description}`);
}
