/** A sink that stops taking points stops the source: memory stays bounded. */
import { describe, expect, it } from 'vitest';
import { MetadataIndex } from '../../src/enrich/metadata/metadata-index.ts';
import { runReplay } from '../../src/pipeline/replay.ts';
import type { MetricPoint, MetricSink } from '../../src/core/metric-point.ts';
import { kprobeLine } from '../support/tetragon-lines.ts';
import { waitFor, waitForSteady } from '../support/wait.ts';

/**
 * A replay of 100 chunks, one window each (each chunk closes the previous window), into
 * a sink whose writes never finish; each chunk holds read events up to `chunkBytes`.
 */
function stalledReplay(chunkBytes: number, decodeThreads: number): { pulled: () => number; writes: () => number } {
  let pulled = 0;
  let writes = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 100; i++) {
      pulled++;
      const line = kprobeLine({
        fn: '__x64_sys_read',
        node: 'n',
        time: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
        size: '1',
      });
      yield Buffer.from((line + '\n').repeat(Math.max(1, Math.floor(chunkBytes / (line.length + 1)))));
    }
  }
  const stalled: MetricSink = {
    write: (_points: readonly MetricPoint[]) => {
      writes++;
      return new Promise<void>(() => {});
    },
    close: async () => {},
  };
  void runReplay({
    input: { name: 'test', chunks: chunks() },
    store: new MetadataIndex(),
    sink: stalled,
    decodeThreads,
    windowMs: 1000,
    latenessMs: 0,
  });
  return { pulled: () => pulled, writes: () => writes };
}

describe('backpressure', () => {
  it('with a decoding thread, a stalled sink stops the source after a few chunks too', async () => {
    // 100 KB chunks: big enough to go to the worker.
    const replay = stalledReplay(100_000, 1);
    await waitFor('the first write', () => replay.writes() === 1, 30_000);
    // Two batches the sink owes, two pieces in the worker, two decoded ahead, one being read.
    expect(await waitForSteady('the source', replay.pulled)).toBeLessThanOrEqual(10);
    expect(replay.writes()).toBe(1);
  });

  it('a sink whose writes never finish stops the source after a few batches', async () => {
    const replay = stalledReplay(1, 0); // one event a chunk
    await waitFor('the first write', () => replay.writes() === 1, 30_000);
    expect(await waitForSteady('the source', replay.pulled)).toBeLessThanOrEqual(4);
    expect(replay.writes()).toBe(1);
  });
});
