/**
 * The aggregator with dynamic windows: lengths switch only at boundaries of both
 * lengths, beyond every window that exists, so windows stay aligned and never overlap;
 * no event is lost or counted twice; the schedule survives a snapshot/restore.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DynamicWindows } from '../../src/aggregate/dynamic-windows.ts';
import { TCP_FIELDS } from '../../src/aggregate/field-schema.ts';
import { WindowAggregator } from '../../src/aggregate/window-aggregator.ts';
import { ladderBetween } from '../../src/aggregate/window-ladder.ts';
import { makeSeries, type Series } from '../../src/core/series.ts';
import type { MetricPoint } from '../../src/core/metric-point.ts';

const SERIES: Series[] = Array.from({ length: 40 }, (_, i) => makeSeries('kovenant_tcp', { node: 'a', pod: `p${i}` }));

function dynamicAggregator(budgetPerMinute: number, maxMs = 60_000, latenessMs = 0): { agg: WindowAggregator; windows: DynamicWindows } {
  const windows = new DynamicWindows({ rungs: ladderBetween(0, maxMs), budgetPerMinute });
  return { agg: new WindowAggregator({ dynamic: windows, latenessMs }), windows };
}

function add(agg: WindowAggregator, node: string, t: number, series: Series, bytes: number): void {
  const v = agg.slotValues(node, t, series, TCP_FIELDS);
  v[0]! += bytes;
  v[2]!++;
}

/** Per node and series, the windows written must not overlap: each starts after the previous ended. */
function expectNoOverlap(points: MetricPoint[], lengthAt: (t: number) => number, nodeOf: (p: MetricPoint) => string): void {
  const byKey = new Map<string, number[]>();
  for (const p of points) {
    const k = `${nodeOf(p)}|${p.key}`;
    byKey.set(k, [...(byKey.get(k) ?? []), p.timeMs]);
  }
  for (const times of byKey.values()) {
    times.sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]! + lengthAt(times[i - 1]!));
  }
}

/**
 * The oracle: with no late event, every event is in the window the final schedule
 * gives its time, so a switch never moved a window that existed when it was decided.
 */
function expectEventsInTheirWindows(
  events: Array<{ node: string; t: number; key: string; bytes: number }>,
  points: MetricPoint[],
  windows: DynamicWindows,
): void {
  const expected = new Map<string, number>();
  for (const e of events) {
    const k = `${e.node}|${e.key}|${windows.startFor(e.t)}`;
    expected.set(k, (expected.get(k) ?? 0) + e.bytes);
  }
  const actual = new Map(points.map((p) => [`${p.tags.node}|${p.key}|${p.timeMs}`, p.ints.bytes_sent ?? 0]));
  expect(actual).toEqual(expected);
}

/**
 * Sums of bytes_sent and sends per node, series and `bucket(p.timeMs)`: a dynamic
 * aggregator and a fixed one fed the same events must agree on every key, not only in
 * the grand total, or an event moved from one series to another would go unseen.
 */
function totalsBy(points: MetricPoint[], bucket: (timeMs: number) => number | 'all'): Map<string, [number, number]> {
  const totals = new Map<string, [number, number]>();
  for (const p of points) {
    const k = `${p.tags.node}|${p.key}|${bucket(p.timeMs)}`;
    const t = totals.get(k) ?? [0, 0];
    t[0] += p.ints.bytes_sent ?? 0;
    t[1] += p.ints.sends ?? 0;
    totals.set(k, t);
  }
  return totals;
}

describe('dynamic windows', () => {
  it('grow under a high point rate at aligned boundaries, and shrink back when it falls', () => {
    // 40 series per 10s window = 240 points/min, budget 100: grows to 20s (120/min), then 60s (40/min).
    const { agg, windows } = dynamicAggregator(100);
    const out: MetricPoint[] = [];
    const events: Array<{ node: string; t: number; key: string; bytes: number }> = [];
    const t0 = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000);
    let t = t0;
    const send = (series: Series): void => {
      add(agg, 'a', t, series, 1);
      events.push({ node: 'a', t, key: series.key, bytes: 1 });
      out.push(...agg.closeReady());
    };
    for (; t < t0 + 600_000; t += 250) send(SERIES[(t / 250) % SERIES.length]!);
    expect(windows.currentMs).toBe(60_000);
    // Then one series only: 1 point/min, under a quarter of the budget: back down.
    for (; t < t0 + 1_200_000; t += 250) send(SERIES[0]!);
    out.push(...agg.closeAll());
    expectEventsInTheirWindows(events, out, windows);
    expect(windows.currentMs).toBe(10_000);

    const lengths = windows.schedule.map((s) => s.lengthMs);
    expect(lengths.slice(0, 3)).toEqual([10_000, 20_000, 60_000]);
    for (let i = 1; i < windows.schedule.length; i++) {
      const { fromMs, lengthMs } = windows.schedule[i]!;
      expect(fromMs % lengthMs).toBe(0);
      expect(fromMs % windows.schedule[i - 1]!.lengthMs).toBe(0);
    }
    for (const p of out) expect(p.timeMs % windows.lengthAt(p.timeMs)).toBe(0);
    // 10s windows at the start, 60s ones in the middle.
    expect(out.some((p) => p.timeMs === t0 + 10_000)).toBe(true);
    expect(out.some((p) => windows.lengthAt(p.timeMs) === 60_000)).toBe(true);
    expectNoOverlap(
      out,
      (x) => windows.lengthAt(x),
      () => 'a',
    );
    expect(out.reduce((n, p) => n + (p.ints.sends ?? 0), 0)).toBe(1_200_000 / 250);
    expect(agg.lateEvents).toBe(0);
  });

  it('switches only beyond the windows that exist when the switch is decided', () => {
    const { agg, windows } = dynamicAggregator(100);
    const out: MetricPoint[] = [];
    const events: Array<{ node: string; t: number; key: string; bytes: number }> = [];
    const send = (t: number, series: Series): void => {
      add(agg, 'a', t, series, 1);
      events.push({ node: 'a', t, key: series.key, bytes: 1 });
      out.push(...agg.closeReady());
    };
    for (let t = 0; t < 600_000; t += 250) send(t, SERIES[(t / 250) % SERIES.length]!);
    expect(windows.currentMs).toBe(60_000);
    // A quiet minute, then one event half way into the next: the 60s window
    // [660s, 720s) exists when the quiet window closes and the ladder shrinks.
    send(630_000, SERIES[0]!);
    send(690_000, SERIES[0]!);
    expect(windows.currentMs).toBe(20_000);
    expect(windows.schedule[windows.schedule.length - 1]!.fromMs).toBe(720_000);
    send(700_000, SERIES[1]!);
    send(730_000, SERIES[1]!);
    out.push(...agg.closeAll());
    expectEventsInTheirWindows(events, out, windows);
    expect(out.filter((p) => p.timeMs >= 660_000).map((p) => [p.timeMs, p.tags.pod])).toEqual([
      [660_000, 'p0'],
      [660_000, 'p1'],
      [720_000, 'p1'],
    ]);
  });

  it('keeps the old length for events older than the switch (another node behind)', () => {
    const { agg, windows } = dynamicAggregator(100);
    const out: MetricPoint[] = [];
    // Node a runs 10 minutes ahead and makes the window grow.
    for (let t = 0; t < 600_000; t += 250) {
      add(agg, 'a', t, SERIES[(t / 250) % SERIES.length]!, 1);
      out.push(...agg.closeReady());
    }
    const switches = windows.schedule.slice(1);
    expect(switches.length).toBeGreaterThan(0);
    const firstSwitch = switches[0]!.fromMs;
    // Node b's events before the first switch land in 10s windows, as a's did.
    const onB = makeSeries('kovenant_tcp', { node: 'b', pod: 'q' });
    for (let t = 0; t < firstSwitch; t += 1_000) add(agg, 'b', t, onB, 1);
    out.push(...agg.closeAll());
    const bPoints = out.filter((p) => p.tags.node === 'b');
    expect(bPoints.length).toBe(firstSwitch / 10_000);
    for (const p of bPoints) expect(p.timeMs % 10_000).toBe(0);
    expect(bPoints.reduce((n, p) => n + (p.ints.sends ?? 0), 0)).toBe(firstSwitch / 1_000);
  });

  it('continues exactly after a snapshot and restore (the daemon checkpoint)', () => {
    const events: Array<[number, Series]> = [];
    for (let t = 0; t < 900_000; t += 300) events.push([t, SERIES[(t / 300) % (t < 500_000 ? 40 : 2)]!]);
    const run = (cutAt: number | undefined): MetricPoint[] => {
      let { agg } = dynamicAggregator(100);
      const out: MetricPoint[] = [];
      events.forEach(([t, s], i) => {
        if (i === cutAt) {
          const state = JSON.parse(JSON.stringify(agg.snapshot())) as ReturnType<WindowAggregator['snapshot']>;
          agg = dynamicAggregator(100).agg;
          agg.restore(state);
        }
        add(agg, 'a', t, s, 1);
        out.push(...agg.closeReady());
      });
      return [...out, ...agg.closeAll()];
    };
    const whole = run(undefined);
    expect(new Set(whole.map((p) => p.timeMs % 60_000 === 0 && p.timeMs % 20_000 === 0)).size).toBe(2);
    for (const cut of [1, 1234, 1667, 2500]) expect(run(cut)).toEqual(whole);
  });

  it('refuses a snapshot of fixed windows, and of other lengths', () => {
    const fixed = new WindowAggregator({ windowMs: 10_000, latenessMs: 0 });
    const { agg } = dynamicAggregator(100);
    expect(() => agg.restore(fixed.snapshot())).toThrow(/10000 ms/);
    expect(() => fixed.restore(agg.snapshot())).toThrow(/dynamic \(10s, 20s, 1m\)/);
    expect(() => dynamicAggregator(100, 300_000).agg.restore(agg.snapshot())).toThrow(/lengths 10s, 20s, 1m/);
  });

  it('property: totals equal fixed windows, every window aligned, none overlapping, none lost', () => {
    const event = fc.record({
      node: fc.constantFrom('a', 'b', 'c'),
      dt: fc.oneof(
        { arbitrary: fc.integer({ min: 0, max: 4_000 }), weight: 20 },
        { arbitrary: fc.integer({ min: 0, max: 120_000 }), weight: 1 },
      ),
      jitter: fc.integer({ min: -3_000, max: 0 }),
      series: fc.nat(39),
      bytes: fc.integer({ min: 1, max: 1000 }),
      close: fc.nat(9),
    });
    fc.assert(
      fc.property(
        fc.array(event, { minLength: 1, maxLength: 600 }),
        fc.integer({ min: 5, max: 400 }),
        fc.integer({ min: 0, max: 5_000 }),
        (evs, budget, lateness) => {
          const { agg, windows } = dynamicAggregator(budget, 300_000, lateness);
          const fixed = new WindowAggregator({ windowMs: 10_000, latenessMs: lateness });
          const out: MetricPoint[] = [];
          const events: Array<{ node: string; t: number; key: string; bytes: number }> = [];
          const clock = new Map<string, number>();
          let sent = 0;
          let sends = 0;
          for (const e of evs) {
            const base = (clock.get(e.node) ?? 0) + e.dt;
            clock.set(e.node, base);
            const t = Math.max(0, base + e.jitter);
            const s = makeSeries('kovenant_tcp', { node: e.node, pod: `p${e.series}` });
            add(agg, e.node, t, s, e.bytes);
            add(fixed, e.node, t, s, e.bytes);
            events.push({ node: e.node, t, key: s.key, bytes: e.bytes });
            sent += e.bytes;
            sends++;
            if (e.close === 0) out.push(...agg.closeReady());
            else if (e.close === 1) out.push(...agg.closeBefore(Math.max(...clock.values())));
          }
          out.push(...agg.closeAll());
          const fixedOut = fixed.closeAll();
          const sum = (ps: MetricPoint[], f: string): number => ps.reduce((n, p) => n + (p.ints[f] ?? 0), 0);
          expect(sum(out, 'bytes_sent')).toBe(sent);
          expect(sum(out, 'sends')).toBe(sends);
          expect(sum(fixedOut, 'bytes_sent')).toBe(sent);
          // Per node and series, whatever the windows: late events go to their node's
          // oldest open window, never to another series.
          expect(totalsBy(out, () => 'all')).toEqual(totalsBy(fixedOut, () => 'all'));
          // With no late event, each dynamic window is the sum of the 10 s windows it
          // covers (every length is a multiple of 10 s, every switch on a boundary).
          if (agg.lateEvents === 0) expect(totalsBy(out, (t) => t)).toEqual(totalsBy(fixedOut, (t) => windows.startFor(t)));
          expect(agg.openWindows).toBe(0);
          for (const p of out) expect(p.timeMs % windows.lengthAt(p.timeMs)).toBe(0);
          for (let i = 1; i < windows.schedule.length; i++) {
            expect(windows.schedule[i]!.fromMs % windows.schedule[i - 1]!.lengthMs).toBe(0);
            expect(windows.schedule[i]!.fromMs % windows.schedule[i]!.lengthMs).toBe(0);
            expect(windows.schedule[i]!.fromMs).toBeGreaterThan(windows.schedule[i - 1]!.fromMs);
          }
          expectNoOverlap(
            out,
            (x) => windows.lengthAt(x),
            (p) => p.tags.node!,
          );
          if (agg.lateEvents === 0) expectEventsInTheirWindows(events, out, windows);
          // One point per node, series and window.
          expect(new Set(out.map((p) => `${p.tags.node}|${p.key}|${p.timeMs}`)).size).toBe(out.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});
