/** The dynamic window controller: aligned switches, growth over the budget, shrink under a quarter. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LADDER_MS, WindowLadder, ladderBetween } from '../../src/aggregate/window-ladder.ts';

describe('WindowLadder', () => {
  it('grows over the budget only at a boundary of the longer window, and shrinks under a quarter', () => {
    const ladder = new WindowLadder({ rungs: ladderBetween(10_000, 60_000), budgetPerMinute: 600 });
    // 10s windows of 200 points: 1200/min, over the budget; 20s boundary at 20s.
    expect(ladder.next(10_000, 200)).toBe(10_000);
    expect(ladder.next(20_000, 200)).toBe(20_000);
    // 20s of 200 points: 600/min, at the budget: stays.
    expect(ladder.next(40_000, 200)).toBe(20_000);
    // 20s of 300: 900/min, over: 60s needs a boundary at a multiple of 60s.
    expect(ladder.next(80_000, 300)).toBe(20_000);
    expect(ladder.next(100_000, 300)).toBe(20_000);
    expect(ladder.next(120_000, 300)).toBe(60_000);
    // The top rung cannot grow.
    expect(ladder.next(180_000, 100_000)).toBe(60_000);
    // 60s of 100: 100/min, under a quarter of 600: one rung down, at once.
    expect(ladder.next(240_000, 100)).toBe(20_000);
    // Between a quarter and the budget: stays.
    expect(ladder.next(260_000, 100)).toBe(20_000);
  });

  it('keeps every window aligned to its own length, so windows never overlap', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(5000), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 50, max: 5000 }),
        (pointsPerWindow, budget) => {
          const ladder = new WindowLadder({ rungs: ladderBetween(10_000, 300_000), budgetPerMinute: budget });
          let start = 0;
          for (const points of pointsPerWindow) {
            const length = ladder.windowMs;
            expect(start % length).toBe(0);
            start += length;
            ladder.next(start, points);
          }
        },
      ),
    );
  });

  it('rejects lengths that do not divide each other, and a max below every rung', () => {
    expect(() => new WindowLadder({ rungs: [10_000, 15_000], budgetPerMinute: 1 })).toThrow(/divide/);
    expect(() => ladderBetween(10_000, 5_000)).toThrow(/raise --window-max/);
    for (let i = 1; i < LADDER_MS.length; i++) expect(LADDER_MS[i]! % LADDER_MS[i - 1]!).toBe(0);
  });
});
