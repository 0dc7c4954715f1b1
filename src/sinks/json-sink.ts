/**
 * `--output json`: one JSON object per point and line, for jq and other tools:
 * `{"measurement":"kovenant_tcp","time":"2026-01-01T00:00:10.000Z","timestamp_ns":"1767225610000000000","tags":{...},"fields":{...}}`.
 * The nanosecond timestamp is a string because it does not fit a JSON number exactly.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { msToNanosText } from './line-protocol.ts';
import type { MetricPoint, MetricSink } from './metric-point.ts';

export function pointToJson(p: MetricPoint): string {
  return JSON.stringify({
    measurement: p.measurement,
    time: new Date(p.timeMs).toISOString(),
    timestamp_ns: msToNanosText(p.timeMs),
    tags: p.tags,
    fields: { ...p.ints, ...p.floats },
  });
}

export class JsonLinesSink implements MetricSink {
  private failure: Error | undefined;

  constructor(
    private readonly out: Writable,
    private readonly ownsStream: boolean,
  ) {
    out.on('error', (err) => (this.failure = err));
  }

  static toFile(path: string): JsonLinesSink {
    return new JsonLinesSink(createWriteStream(path), true);
  }

  static toStdout(): JsonLinesSink {
    return new JsonLinesSink(process.stdout, false);
  }

  async write(points: readonly MetricPoint[]): Promise<void> {
    if (this.failure) throw this.failure;
    if (!points.length) return;
    let text = '';
    for (const p of points) text += pointToJson(p) + '\n';
    if (!this.out.write(text)) {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        this.out.once('drain', () => {
          this.out.off('error', onError);
          resolve();
        });
        this.out.once('error', onError);
      });
    }
  }

  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.ownsStream) return;
    await new Promise<void>((resolve, reject) => {
      this.out.once('error', reject);
      this.out.end(() => resolve());
    });
  }
}
