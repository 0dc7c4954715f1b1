/**
 * `--window dynamic`: the window length follows the write rate so that the points
 * written per minute stay under a budget (`--series-budget`). Each series writes one
 * point per window, so doubling the window halves the rate.
 *
 * Idempotent windows need lengths that never overlap differently after a restart: the
 * lengths come from a ladder whose rungs divide each other, every window starts at a
 * multiple of its own length since the epoch, and a switch happens only at a boundary
 * aligned to both the old and the new length. Shrinking is always possible at any
 * boundary of the longer window (the shorter divides it); growing waits for a boundary
 * of the longer one. Growing when over the budget and shrinking only under a quarter of
 * it leaves a band in which the length stays put, so it does not flap.
 *
 * The controller is pure: DynamicWindows (dynamic-windows.ts) tells it, for each window
 * complete on every node, how many points it wrote, and asks the length of the next.
 */
import type { LadderState } from './aggregator-state.ts';

/** Each rung divides the next (hence no 2m: it does not divide 5m). */
export const LADDER_MS: readonly number[] = [10_000, 20_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000];

/** The rungs from `minMs` up to `maxMs` (both must be rungs or between them). */
export function ladderBetween(minMs: number, maxMs: number): number[] {
  const rungs = LADDER_MS.filter((ms) => ms >= minMs && ms <= maxMs);
  if (rungs.length === 0) {
    throw new RangeError(
      `no window length of the ladder (${LADDER_MS.map((ms) => `${ms / 1000}s`).join(', ')}) lies between ${minMs} and ${maxMs} ms; raise --window-max`,
    );
  }
  return rungs;
}

export interface LadderOptions {
  rungs: readonly number[];
  /** Points per minute above which the window grows. */
  budgetPerMinute: number;
}

export class WindowLadder {
  private rung = 0;
  /** A longer length decided on, waiting for a boundary aligned to it. */
  private pendingGrow = false;

  constructor(private readonly options: LadderOptions) {
    const { rungs } = options;
    if (rungs.length === 0) throw new RangeError('the ladder needs at least one window length');
    for (let i = 1; i < rungs.length; i++) {
      if (rungs[i]! % rungs[i - 1]! !== 0)
        throw new RangeError(`window lengths must divide each other: ${rungs[i - 1]} does not divide ${rungs[i]}`);
    }
    if (!(options.budgetPerMinute > 0))
      throw new RangeError(`the series budget must be above 0 points per minute, got ${options.budgetPerMinute}`);
  }

  /** What a checkpoint keeps: the rung and a growth waiting for its boundary. */
  state(): LadderState {
    return { rung: this.rung, pendingGrow: this.pendingGrow };
  }

  /** Continues from `state()` of a ladder with the same rungs (a restarted daemon). */
  restore(state: LadderState): void {
    if (!Number.isInteger(state.rung) || state.rung < 0 || state.rung >= this.options.rungs.length) {
      throw new RangeError(`saved ladder rung ${state.rung} is not one of the ${this.options.rungs.length} window lengths`);
    }
    this.rung = state.rung;
    this.pendingGrow = state.pendingGrow;
  }

  /** The length of the current window. */
  get windowMs(): number {
    return this.options.rungs[this.rung]!;
  }

  /**
   * The window that ended at `boundaryMs` (a multiple of its length) wrote `points`:
   * returns the length of the window that starts there.
   */
  next(boundaryMs: number, points: number): number {
    const { rungs, budgetPerMinute } = this.options;
    const perMinute = (points * 60_000) / this.windowMs;
    if (perMinute > budgetPerMinute && this.rung < rungs.length - 1) this.pendingGrow = true;
    else if (perMinute < budgetPerMinute / 4) this.pendingGrow = false;
    if (this.pendingGrow) {
      if (boundaryMs % rungs[this.rung + 1]! === 0) {
        this.rung++;
        this.pendingGrow = false;
      }
    } else if (perMinute < budgetPerMinute / 4 && this.rung > 0) {
      this.rung--;
    }
    return this.windowMs;
  }
}

/** For messages and logs: "10s, 20s, 1m". */
export function describeRungs(rungs: readonly number[]): string {
  return rungs.map((ms) => (ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`)).join(', ');
}
