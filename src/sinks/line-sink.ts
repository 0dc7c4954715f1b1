/** Line protocol to a stream (stdout or a file), with the stream's backpressure. */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { formatPoint } from './line-protocol.ts';
import type { MetricPoint, MetricSink } from './metric-point.ts';

export class LineProtocolSink implements MetricSink {
  private failure: Error | undefined;

  constructor(
    private readonly out: Writable,
    private readonly ownsStream: boolean,
  ) {
    out.on('error', (err) => (this.failure = err));
  }

  static toFile(path: string): LineProtocolSink {
    return new LineProtocolSink(createWriteStream(path), true);
  }

  static toStdout(): LineProtocolSink {
    return new LineProtocolSink(process.stdout, false);
  }

  async write(points: readonly MetricPoint[]): Promise<void> {
    if (this.failure) throw this.failure;
    if (!points.length) return;
    let text = '';
    for (const p of points) text += formatPoint(p) + '\n';
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
