/**
 * `--window dynamic`: a window length that changes over time, decided by the
 * `WindowLadder` from the points each window wrote, so that the points written per
 * minute stay under `--series-budget`.
 *
 * One schedule for the whole aggregator, not one per node: the budget is the daemon's
 * write rate, and one length at any time lets a dashboard group every measurement of a
 * time range the same way.
 *
 * Determinism. A window written again (after a restart, or by a late re-read) must
 * cover exactly the same time as the first time, so the schedule is a list of
 * switches, each "from `fromMs` on, windows are `lengthMs` long", that only grows at
 * its end, and only beyond every window created so far (the frontier). Every event is
 * thus assigned by the switches in force when it arrives, and a later switch never
 * moves a window that exists already: events older than a switch keep the old length.
 * A switch lies on a boundary of both lengths (the ladder's lengths divide each other),
 * so the old windows tile up to it and the new ones start on it, every window aligned
 * to a multiple of its own length since the epoch.
 *
 * The ladder learns of a window once it is complete everywhere: closed on every node
 * that had it and no older window still open anywhere. Only windows of the current
 * length are told: those of an older length belong to a decision already taken. Empty
 * windows write nothing and are not told either.
 */
import type { WindowsState } from './aggregator-state.ts';
import { WindowLadder, describeRungs } from './window-ladder.ts';
import { describeWindows, finiteOrNull, otherWindowsError, type WindowSchedule } from './window-schedule.ts';

export interface WindowSwitch {
  /** From this time on (a boundary of the old and the new length); -Infinity for the first. */
  fromMs: number;
  lengthMs: number;
}

export interface DynamicWindowsOptions {
  /** Window lengths, shortest first, each dividing the next (see `ladderBetween`). */
  rungs: readonly number[];
  /** Points written per minute above which the window grows. */
  budgetPerMinute: number;
  /** Told of each switch when it is decided, for the daemon's log. */
  onSwitch?: (change: WindowSwitch & { previousMs: number }) => void;
}

/**
 * Switches kept. Lookups run from the newest, so the cost is in memory, not time; a
 * bound keeps a daemon that flaps for months from growing. Times before the oldest
 * kept switch get its length: still aligned, but a window written then by a node seen
 * for the first time could overlap differently from the first run's (late events of
 * known nodes are folded into open windows and never meet this).
 */
const MAX_SWITCHES = 1024;

export class DynamicWindows implements WindowSchedule {
  private readonly ladder: WindowLadder;
  private readonly rungs: readonly number[];
  private switches: WindowSwitch[];
  /** The latest end of any window created: a new switch goes at or after it. */
  private frontier = -Infinity;
  /** Windows closed on some node but not yet complete everywhere, with their points so far. */
  private readonly closing = new Map<number, { end: number; points: number }>();

  constructor(private readonly options: DynamicWindowsOptions) {
    this.ladder = new WindowLadder({ rungs: options.rungs, budgetPerMinute: options.budgetPerMinute });
    this.rungs = [...options.rungs];
    this.switches = [{ fromMs: -Infinity, lengthMs: this.ladder.windowMs }];
  }

  /** The start of the window of `timeMs`. Runs per event: the newest switch is tried first. */
  startFor(timeMs: number): number {
    const length = this.lengthAt(timeMs);
    return Math.floor(timeMs / length) * length;
  }

  /** The length of the window holding `timeMs`. */
  lengthAt(timeMs: number): number {
    const sw = this.switches;
    let i = sw.length - 1;
    while (i > 0 && timeMs < sw[i]!.fromMs) i--;
    return sw[i]!.lengthMs;
  }

  /** The end of the window that starts at `startMs`. */
  endOf(startMs: number): number {
    return startMs + this.lengthAt(startMs);
  }

  /** The length of the newest windows (the one the next switch starts from). */
  get currentMs(): number {
    return this.switches[this.switches.length - 1]!.lengthMs;
  }

  /** The switches in force, oldest first (tests and logs). */
  get schedule(): readonly WindowSwitch[] {
    return this.switches;
  }

  /** A window starting at `startMs` was created on some node. */
  created(startMs: number): void {
    const end = this.endOf(startMs);
    if (end > this.frontier) this.frontier = end;
  }

  /** A node closed its window [startMs, endMs) with `points` series in it. */
  closed(startMs: number, endMs: number, points: number): void {
    const entry = this.closing.get(startMs);
    if (entry) entry.points += points;
    else this.closing.set(startMs, { end: endMs, points });
  }

  /**
   * After windows were closed: tells the ladder of every closed window that ends at or
   * before the oldest window still open on any node, oldest first.
   */
  settle(oldestOpenStart: () => number): void {
    if (this.closing.size === 0) return;
    const oldest = oldestOpenStart();
    const starts = [...this.closing.keys()].sort((a, b) => a - b);
    for (const start of starts) {
      const entry = this.closing.get(start)!;
      if (entry.end > oldest) break;
      this.closing.delete(start);
      this.decide(start, entry.end, entry.points);
    }
  }

  private decide(startMs: number, endMs: number, points: number): void {
    const current = this.switches[this.switches.length - 1]!;
    if (startMs < current.fromMs) return;
    const next = this.ladder.next(endMs, points);
    if (next === current.lengthMs) return;
    const align = Math.max(next, current.lengthMs);
    const fromMs = Math.ceil(Math.max(this.frontier, endMs) / align) * align;
    this.switches.push({ fromMs, lengthMs: next });
    if (this.switches.length > MAX_SWITCHES) this.switches = [{ ...this.switches[1]!, fromMs: -Infinity }, ...this.switches.slice(2)];
    this.options.onSwitch?.({ fromMs, lengthMs: next, previousMs: current.lengthMs });
  }

  get description(): string {
    return describeWindows(this.state());
  }

  state(): WindowsState {
    return {
      windowMs: this.rungs[0]!,
      dynamic: {
        rungs: [...this.rungs],
        switches: this.switches.map((s) => ({ fromMs: finiteOrNull(s.fromMs), lengthMs: s.lengthMs })),
        frontier: finiteOrNull(this.frontier),
        ladder: this.ladder.state(),
        closed: [...this.closing].map(([start, e]) => ({ start, end: e.end, points: e.points })),
      },
    };
  }

  /**
   * Continues a saved schedule. Refuses fixed windows, and dynamic ones of other
   * lengths: the ladder's rung would mean another length, and saved windows might not
   * be lengths of this run.
   */
  restore(saved: WindowsState): void {
    const state = saved.dynamic;
    if (state === undefined) throw otherWindowsError(saved, this);
    if (state.rungs.length !== this.rungs.length || state.rungs.some((r, i) => r !== this.rungs[i])) {
      throw new RangeError(
        `the saved dynamic windows use the lengths ${describeRungs(state.rungs)}, this run ${describeRungs(this.rungs)}`,
      );
    }
    if (state.switches.length === 0) throw new RangeError('the saved dynamic windows have no schedule');
    this.ladder.restore(state.ladder);
    this.switches = state.switches.map((s, i) => ({ fromMs: i === 0 || s.fromMs === null ? -Infinity : s.fromMs, lengthMs: s.lengthMs }));
    this.frontier = state.frontier ?? -Infinity;
    this.closing.clear();
    for (const c of state.closed) this.closing.set(c.start, { end: c.end, points: c.points });
  }
}
