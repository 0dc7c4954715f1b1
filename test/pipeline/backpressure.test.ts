/** A sink that stops taking points stops the source: memory stays bounded. */
import { describe, expect, it } from 'vitest';
import { MetadataIndex } from '../../src/enrich/metadata/metadata-index.ts';
import { runReplay } from '../../src/pipeline/replay.ts';
import type { MetricPoint, MetricSink } from '../../src/core/metric-point.ts';
import { kprobeLine } from '../support/tetragon-lines.ts';
import { waitFor } from '../support/wait.ts';

describe('backpressure', () => {
  it('with a decoding thread, a stalled sink stops the source after a few chunks too', async () => {
    let pulled = 0;
    // 100 KB chunks (worker-sized), one window each: each chunk closes the previous window.
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 100; i++) {
        pulled++;
        const line = kprobeLine({
          fn: '__x64_sys_read',
          node: 'n',
          time: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
          size: '1',
        });
        yield Buffer.from((line + '\n').repeat(Math.ceil(100_000 / (line.length + 1))));
      }
    }
    let writes = 0;
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
      decodeThreads: 1,
      windowMs: 1000,
      latenessMs: 0,
    });
    await waitFor('the first write', () => writes === 1, 30_000);
    // Then a while for what must not happen: more writes, or reading on regardless.
    await new Promise((r) => setTimeout(r, 500));
    expect(writes).toBe(1);
    // Two batches the sink owes, two pieces in the worker, two decoded ahead, one being read.
    expect(pulled).toBeLessThanOrEqual(10);
  });

  it('a sink whose writes never finish stops the source after a few batches', async () => {
    let pulled = 0;
    // One chunk a window, and a window per second: each chunk closes the previous window.
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 100; i++) {
        pulled++;
        const line = kprobeLine({
          fn: '__x64_sys_read',
          node: 'n',
          time: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
          size: '1',
        });
        yield Buffer.from(line + '\n');
      }
    }
    let writes = 0;
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
      decodeThreads: 0,
      windowMs: 1000,
      latenessMs: 0,
    });
    await waitFor('the first write', () => writes === 1, 30_000);
    // Then a while for what must not happen: more writes, or reading on regardless.
    await new Promise((r) => setTimeout(r, 300));
    expect(writes).toBe(1);
    expect(pulled).toBeLessThanOrEqual(4);
  });
});
