import { describe, expect, it } from 'vitest';
import { TCP_FIELDS } from '../../src/aggregate/field-schema.ts';
import { WindowAggregator } from '../../src/aggregate/window-aggregator.ts';
import { windowStart } from '../../src/aggregate/window.ts';
import { makeSeries } from '../../src/core/series.ts';
import { TempFileSpill } from '../../src/aggregate/window-spill.ts';

const S1 = makeSeries('kovenant_tcp', { node: 'a', pod: 'p1' });
const S2 = makeSeries('kovenant_tcp', { node: 'a', pod: 'p2' });

function add(agg: WindowAggregator, node: string, t: number, series = S1, bytes = 1): void {
  const v = agg.slotValues(node, t, series, TCP_FIELDS);
  v[0]! += bytes;
  v[2]!++;
}

describe('windows', () => {
  it('are aligned to multiples of their length since the epoch', () => {
    expect(windowStart(Date.UTC(2024, 0, 1, 0, 0, 9, 999), 10_000)).toBe(Date.UTC(2024, 0, 1, 0, 0, 0));
    expect(windowStart(Date.UTC(2024, 0, 1, 0, 0, 10, 0), 10_000)).toBe(Date.UTC(2024, 0, 1, 0, 0, 10));
    expect(windowStart(7 * 60_000 + 1, 5 * 60_000)).toBe(5 * 60_000);
    expect(windowStart(-1, 1000)).toBe(-1000);
  });

  it('one point per series per window, with every field of the schema', () => {
    const agg = new WindowAggregator({ windowMs: 10_000, latenessMs: 0 });
    add(agg, 'a', 1_000, S1, 5);
    add(agg, 'a', 9_999, S1, 7);
    add(agg, 'a', 10_000, S1, 11);
    add(agg, 'a', 10_001, S2, 13);
    const points = agg.closeAll();
    expect(points.map((p) => [p.timeMs, p.tags.pod, p.ints.bytes_sent, p.ints.sends])).toEqual([
      [0, 'p1', 12, 2],
      [10_000, 'p1', 11, 1],
      [10_000, 'p2', 13, 1],
    ]);
    expect(Object.keys(points[0]!.ints)).toEqual(TCP_FIELDS.ints);
    expect(agg.openWindows).toBe(0);
  });

  it('close when the node watermark passes the end plus lateness', () => {
    const agg = new WindowAggregator({ windowMs: 10_000, latenessMs: 2_000 });
    add(agg, 'a', 5_000);
    add(agg, 'a', 11_999);
    expect(agg.closeReady()).toEqual([]);
    add(agg, 'a', 12_000);
    expect(agg.closeReady().map((p) => p.timeMs)).toEqual([0]);
    expect(agg.openWindows).toBe(1);
  });

  it('each node has its own watermark: a second node replayed later is not late', () => {
    const agg = new WindowAggregator({ windowMs: 10_000, latenessMs: 0 });
    const onB = makeSeries('kovenant_tcp', { node: 'b', pod: 'p1' });
    for (let t = 0; t < 100_000; t += 1_000) add(agg, 'a', t);
    const closedA = agg.closeReady();
    for (let t = 0; t < 100_000; t += 1_000) add(agg, 'b', t, onB);
    const rest = [...closedA, ...agg.closeReady(), ...agg.closeAll()];
    expect(agg.lateEvents).toBe(0);
    expect(rest.filter((p) => p.tags.node === 'a').length).toBe(10);
    expect(rest.filter((p) => p.tags.node === 'b').length).toBe(10);
    expect(rest.reduce((n, p) => n + (p.ints.sends ?? 0), 0)).toBe(200);
  });

  it('late events are counted and added to the oldest open window: totals never change', () => {
    const agg = new WindowAggregator({ windowMs: 10_000, latenessMs: 0 });
    add(agg, 'a', 5_000, S1, 1);
    add(agg, 'a', 25_000, S1, 2);
    const first = agg.closeReady();
    expect(first.map((p) => p.timeMs)).toEqual([0, 10_000].slice(0, first.length));
    add(agg, 'a', 1_000, S1, 100);
    expect(agg.lateEvents).toBe(1);
    const all = [...first, ...agg.closeAll()];
    expect(all.reduce((n, p) => n + (p.ints.bytes_sent ?? 0), 0)).toBe(103);
    expect(all.find((p) => p.timeMs === 20_000)?.ints.bytes_sent).toBe(102);
  });

  it('wall-clock close for idle streams', () => {
    const agg = new WindowAggregator({ windowMs: 1_000, latenessMs: 500 });
    add(agg, 'a', 10_100);
    expect(agg.closeBefore(11_400)).toEqual([]);
    expect(agg.closeBefore(11_500).length).toBe(1);
  });

  it('rejects windows that are not whole milliseconds', () => {
    expect(() => new WindowAggregator({ windowMs: 0.5, latenessMs: 0 })).toThrow(/whole number/);
    expect(() => new WindowAggregator({ windowMs: 0, latenessMs: 0 })).toThrow();
  });
});

describe('the bound on open points', () => {
  it('spills the open windows beyond it and still writes each window once, whole, at its own time', () => {
    const spill = new TempFileSpill();
    const agg = new WindowAggregator({ windowMs: 1000, latenessMs: Infinity, maxOpenSlots: 10, spill });
    const series = Array.from({ length: 4 }, (_, i) => makeSeries('kovenant_tcp', { node: 'a', pod: `p${i}` }));
    const out = [];
    // Every window gets events before and after spills.
    for (let round = 0; round < 3; round++) {
      for (let w = 0; w < 8; w++) {
        for (const s of series) add(agg, 'a', w * 1000 + round, s, 1);
        out.push(...agg.closeReady());
      }
    }
    expect(out).toEqual([]);
    expect(agg.spills).toBeGreaterThan(0);
    expect(spill.bytes).toBeGreaterThan(0);
    out.push(...agg.closeAll());
    spill.close();
    expect(agg.lateEvents).toBe(0);
    expect(out.map((p) => `${p.timeMs} ${p.key}`).sort()).toEqual(
      Array.from({ length: 8 }, (_, w) => series.map((s) => `${w * 1000} ${s.key}`))
        .flat()
        .sort(),
    );
    expect(out.every((p) => p.ints.bytes_sent === 3 && p.ints.sends === 3)).toBe(true);
  });

  it('at the end, writes a spilled window in parts, oldest window first, each series once at its own time', () => {
    const spill = new TempFileSpill();
    const agg = new WindowAggregator({ windowMs: 1000, latenessMs: Infinity, maxOpenSlots: 500, spill });
    const many = Array.from({ length: 5000 }, (_, i) => makeSeries('kovenant_tcp', { node: 'a', pod: `p${i}` }));
    for (const w of [1, 0]) {
      for (const s of many) {
        add(agg, 'a', w * 1000, s, 2);
        agg.closeReady();
      }
    }
    expect(agg.spills).toBeGreaterThan(10);
    const batches = [...agg.closeAllInTurn()];
    spill.close();
    expect(agg.openWindows).toBe(0);
    expect(agg.openPoints).toBe(0);
    // 16 parts per window, none holding the whole window.
    expect(batches.length).toBe(32);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThan(1000);
    const times = batches.map((b) => b[0]!.timeMs);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    const all = batches.flat();
    expect(new Set(all.map((p) => `${p.timeMs} ${p.key}`)).size).toBe(10_000);
    expect(all.every((p) => p.ints.bytes_sent === 2 && p.ints.sends === 1)).toBe(true);
  });

  it('refuses a bound without a spill', () => {
    expect(() => new WindowAggregator({ windowMs: 1000, latenessMs: Infinity, maxOpenSlots: 10 })).toThrow(/spill/);
  });

  it('without a lateness, events in any order land in their own windows', () => {
    const agg = new WindowAggregator({ windowMs: 10_000, latenessMs: Infinity });
    for (const t of [3_600_000, 5_000, 7_200_000, 5_001, 3_600_001]) {
      add(agg, 'a', t);
      expect(agg.closeReady()).toEqual([]);
    }
    const points = agg.closeAll();
    expect(points.map((p) => [p.timeMs, p.ints.sends])).toEqual([
      [0, 2],
      [3_600_000, 2],
      [7_200_000, 1],
    ]);
    expect(agg.lateEvents).toBe(0);
  });
});
