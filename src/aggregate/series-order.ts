/**
 * The order in which closed windows' points are written: by window, then by series key
 * (UTF-16 code units, as `<` compares strings). Deterministic output needs it, and it
 * was a string sort per batch: keys share long prefixes (`kovenant_tcp,cluster=…`), so
 * each of its n·log n comparisons walked a hundred characters.
 *
 * The same few hundred series recur window after window, so the order of the keys is
 * kept across batches: each known key has a rank, its position among the known keys in
 * key order. A batch's new keys are placed by binary search (log N comparisons each, once
 * per key rather than once per window), and the batch is sorted by (window, rank, arrival)
 * as numbers: the native numeric sort of a Float64Array, no comparator call at all.
 *
 * Memory: at most MAX_KNOWN keys are known; past that the order restarts from the batch
 * at hand. A batch larger than that is sorted as strings, as before.
 */
import type { MetricPoint } from '../core/metric-point.ts';

/** Keys whose order is kept (about 300 bytes each, their strings mostly shared with the series). */
const MAX_KNOWN = 8192;

interface Known {
  readonly key: string;
  /** Position in `sorted`. */
  rank: number;
}

/** Points by window, then key; equal (window, key) in the order given. */
function compareAsStrings(a: MetricPoint, b: MetricPoint): number {
  const ak = a.key ?? '';
  const bk = b.key ?? '';
  return a.timeMs - b.timeMs || (ak < bk ? -1 : ak > bk ? 1 : 0);
}

export class SeriesOrder {
  private readonly byKey = new Map<string, Known>();
  /** The known keys in key order; `sorted[i].rank === i`. */
  private sorted: Known[] = [];

  constructor(private readonly maxKnown = MAX_KNOWN) {}

  /** Sorts `points` in place (and returns them) by window, then series key; stable. */
  sort(points: MetricPoint[]): MetricPoint[] {
    const n = points.length;
    if (n < 2) return points;
    if (n > this.maxKnown) return points.sort(compareAsStrings);
    if (this.sorted.length + n > this.maxKnown) this.forget();
    const ranks = this.ranksOf(points);
    // Window times: usually one per batch; more when several windows close at once.
    const first = points[0]!.timeMs;
    let oneTime = true;
    for (let i = 1; i < n; i++)
      if (points[i]!.timeMs !== first) {
        oneTime = false;
        break;
      }
    let timeIndex: Map<number, number> | undefined;
    if (!oneTime) {
      const times = [...new Set(points.map((p) => p.timeMs))].sort((a, b) => a - b);
      if (times.some((t) => !Number.isFinite(t))) return points.sort(compareAsStrings);
      timeIndex = new Map(times.map((t, i) => [t, i]));
    }
    // (window, rank, arrival) as one exact integer: all three are below n·N·T ≤ 2^53.
    const known = this.sorted.length;
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = timeIndex === undefined ? 0 : timeIndex.get(points[i]!.timeMs)!;
      keys[i] = (t * known + ranks[i]!) * n + i;
    }
    keys.sort();
    const copy = points.slice();
    for (let j = 0; j < n; j++) points[j] = copy[keys[j]! % n]!;
    return points;
  }

  /** Each point's key rank, placing keys not known yet. */
  private ranksOf(points: readonly MetricPoint[]): Int32Array {
    const n = points.length;
    const ranks = new Int32Array(n);
    let fresh: string[] | undefined;
    for (let i = 0; i < n; i++) {
      const key = points[i]!.key ?? '';
      const k = this.byKey.get(key);
      if (k !== undefined) ranks[i] = k.rank;
      else (fresh ??= []).push(key);
    }
    if (fresh === undefined) return ranks;
    this.place(fresh);
    for (let i = 0; i < n; i++) ranks[i] = this.byKey.get(points[i]!.key ?? '')!.rank;
    return ranks;
  }

  /** Adds `keys` (unknown, maybe repeated) to the known order. */
  private place(keys: string[]): void {
    const unique = [...new Set(keys)].sort();
    const old = this.sorted;
    const merged: Known[] = [];
    let from = 0;
    for (const key of unique) {
      // The first known key above `key` (keys are distinct: none is equal).
      let lo = from;
      let hi = old.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (old[mid]!.key < key) lo = mid + 1;
        else hi = mid;
      }
      for (; from < lo; from++) merged.push(old[from]!);
      const k: Known = { key, rank: 0 };
      this.byKey.set(key, k);
      merged.push(k);
    }
    for (; from < old.length; from++) merged.push(old[from]!);
    for (let i = 0; i < merged.length; i++) merged[i]!.rank = i;
    this.sorted = merged;
  }

  private forget(): void {
    this.byKey.clear();
    this.sorted = [];
  }
}
