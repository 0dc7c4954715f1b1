import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, sleep } from '../../src/core/sleep.ts';

// Fake timers: the clock is the thing under test, so it is moved by hand, never waited on.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function tracked(p: Promise<void>): { readonly ended: boolean } {
  const state = { ended: false };
  void p.then(() => (state.ended = true));
  return state;
}

describe('sleep', () => {
  it('ends when the time asked for has passed, not before', async () => {
    const s = tracked(sleep(50));
    await vi.advanceTimersByTimeAsync(49);
    expect(s.ended).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.ended).toBe(true);
  });

  it('ends at once when its signal aborts, and does not wait when already aborted', async () => {
    const stop = new AbortController();
    const s = tracked(sleep(60_000, stop.signal));
    stop.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(s.ended).toBe(true);
    const again = tracked(sleep(60_000, stop.signal));
    await vi.advanceTimersByTimeAsync(0);
    expect(again.ended).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waits (rather than firing at once) when asked for longer than a timer takes', async () => {
    const stop = new AbortController();
    const s = tracked(sleep(Infinity, stop.signal));
    // A bare setTimeout would fire after 1 ms here.
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.ended).toBe(false);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS - 1000 - 1);
    expect(s.ended).toBe(false);
    stop.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(s.ended).toBe(true);
  });
});
