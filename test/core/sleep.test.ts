import { describe, expect, it } from 'vitest';
import { sleep } from '../../src/core/sleep.ts';

describe('sleep', () => {
  it('waits about the time asked for', async () => {
    const t0 = performance.now();
    await sleep(50);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
  });

  it('ends at once when its signal aborts, and does not wait when already aborted', async () => {
    const stop = new AbortController();
    const t0 = performance.now();
    const waiting = sleep(60_000, stop.signal);
    stop.abort();
    await waiting;
    await sleep(60_000, stop.signal);
    expect(performance.now() - t0).toBeLessThan(30_000);
  });

  it('waits (rather than firing at once) when asked for longer than a timer takes', async () => {
    const stop = new AbortController();
    let ended = false;
    const waiting = sleep(Infinity, stop.signal).then(() => (ended = true));
    await sleep(30);
    expect(ended).toBe(false);
    stop.abort();
    await waiting;
    expect(ended).toBe(true);
  });
});
