/**
 * Replay's `--max-open-points` bounds memory without writing a window early or under
 * another window's time (issue 11: 12,000 series in one window with ordered input wrote
 * 1,452 points at the next window's time; 200k series in one window took 1.19 GB).
 */
import { describe, expect, it } from 'vitest';
import { MetadataIndex } from '../../src/enrich/metadata/metadata-index.ts';
import { runReplay } from '../../src/pipeline/replay.ts';
import { chunkedInput, MemorySink } from '../support/memory.ts';
import { burstChunks, eventSize, externalIp } from '../support/hostile-streams.ts';
import { runMeasured } from '../support/peak-rss.ts';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

describe('replay --max-open-points', () => {
  it('12,000 series in one window, ordered input, a small bound: every point at its own window time, once', async () => {
    // Window 0: 12,000 series, then window 1: the same series again; ordered in time.
    const lines: string[] = [];
    for (const w of [0, 1])
      for (const chunk of burstChunks({ events: 12_000, pods: 12_000, peers: 12_000, timeMs: T0 + w * 10_000 })) lines.push(chunk);
    const sink = new MemorySink();
    const counters = await runReplay({
      input: chunkedInput(Buffer.from(lines.join('')), [64 * 1024]),
      store: new MetadataIndex(),
      sink,
      decodeThreads: 0,
      windowMs: 10_000,
      latenessMs: Infinity,
      maxOpenPoints: 1000,
    });
    expect(counters.used).toBe(24_000);
    expect(counters.windowSpills).toBeGreaterThan(0);
    expect(counters.late).toBe(0);
    const byTime = new Map<number, number>();
    const seen = new Set<string>();
    for (const p of sink.points) {
      const id = `${p.timeMs} ${p.key}`;
      expect(seen.has(id), `written twice: ${id}`).toBe(false);
      seen.add(id);
      byTime.set(p.timeMs, (byTime.get(p.timeMs) ?? 0) + 1);
      expect(p.ints.sends).toBe(1);
    }
    expect([...byTime]).toEqual([
      [T0, 12_000],
      [T0 + 10_000, 12_000],
    ]);
    let bytes = 0;
    for (let i = 0; i < 12_000; i++) bytes += eventSize(i);
    expect(sink.points.reduce((n, p) => n + (p.ints.bytes_sent ?? 0), 0)).toBe(2 * bytes);
    expect(externalIp(0)).not.toBe(externalIp(1));
  }, 60_000);

  it('many series over many windows stay within the bound in memory (child peak RSS), totals exact', async () => {
    // 40 windows of 10,000 distinct series each, lateness Infinity: everything stays open
    // until the end, so memory is the bound, not the 400,000 open points.
    function* chunks(): Generator<string> {
      for (let w = 0; w < 40; w++) yield* burstChunks({ events: 10_000, pods: 500, peers: 10_000, timeMs: T0 + w * 10_000 });
    }
    const run = await runMeasured(
      ['replay', '-', '--window', '10s', '--max-open-points', '20000', '--output', 'line', '--out', '/dev/null'],
      chunks(),
    );
    process.stderr.write(`replay, 400k open points: peak RSS ${run.peakRssMb.toFixed(0)} MB in ${run.seconds} s\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/points written:\s+400000/);
    expect(run.stderr).toMatch(/window spills:\s+\d+/);
    // Measured about 370 MB; without the spill (everything in memory until the end) over 750 MB.
    expect(run.peakRssMb).toBeLessThan(550);
  }, 120_000);
});
