/** In-memory inputs and sinks for pipeline tests. */
import type { MetricPoint, MetricSink } from '../../src/core/metric-point.ts';
import type { ByteInput } from '../../src/sources/byte-input.ts';

export class MemorySink implements MetricSink {
  readonly points: MetricPoint[] = [];
  closed = false;
  async write(points: readonly MetricPoint[]): Promise<void> {
    this.points.push(...points);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The bytes cut into chunks of the given sizes (cycled), as a source would deliver them. */
export function chunkedInput(bytes: Buffer, sizes: readonly number[] = [1 << 20]): ByteInput {
  async function* chunks(): AsyncGenerator<Buffer> {
    let pos = 0;
    for (let i = 0; pos < bytes.length; i++) {
      const size = Math.max(1, sizes[i % sizes.length] ?? 1);
      yield bytes.subarray(pos, pos + size);
      pos += size;
    }
  }
  return { name: 'memory', chunks: chunks() };
}

/** Sums of every integer field per measurement: the totals a dashboard would show. */
export function totals(points: readonly MetricPoint[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of points)
    for (const [k, v] of Object.entries(p.ints)) out[`${p.measurement}.${k}`] = (out[`${p.measurement}.${k}`] ?? 0) + v;
  return out;
}
