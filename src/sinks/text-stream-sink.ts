/**
 * Points as text lines to a stream (stdout or a file), with the stream's backpressure:
 * `write` resolves once the stream has taken the text, so a slow reader of stdout
 * slows the pipeline instead of filling memory.
 */
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { fsErrorReason, InputError } from '../core/input-error.ts';
import type { MetricPoint, MetricSink } from '../core/metric-point.ts';
import { OutputError } from './output-error.ts';

export type PointFormat = (point: MetricPoint) => string;

/**
 * Bytes a file sink takes before a write waits for the disk. The stream's 16 KB default is
 * less than one window's batch (a busy node's is ~100 KB), so every batch waited for its
 * write to complete: ~360 thread-pool round trips in a 338 MB replay, most of its idle
 * time at the end. Still a bound: a slow disk stops the pipeline a megabyte or so ahead.
 */
const FILE_BUFFER_BYTES = 1 << 20;

/** How a sink turns a batch into what its stream writes. */
export interface BatchRender {
  /** The batch as the stream's text or bytes: every point a line, each ending in a newline. */
  render(points: readonly MetricPoint[]): string | Uint8Array;
  /**
   * Bytes `render` lent (its own memory, reused for later batches) are handed back here
   * once the stream has written them; without it, the stream may keep what it got.
   */
  written?(bytes: Uint8Array): void;
}

/** The batch render of a per-point text format. */
export function linesOf(format: PointFormat): BatchRender {
  return {
    render(points) {
      let text = '';
      for (const p of points) text += format(p) + '\n';
      return text;
    },
  };
}

export class TextStreamSink implements MetricSink {
  private failure: Error | undefined;

  constructor(
    private readonly out: Writable,
    private readonly ownsStream: boolean,
    private readonly render: BatchRender,
    /** For error messages: the file, or stdout. */
    private readonly target = 'stdout',
  ) {
    out.on('error', (err) => (this.failure = OutputError.of(this.target, err)));
  }

  /** Opens (creates or truncates) the file first, so a bad path fails before any work. */
  static async toFile(path: string, render: BatchRender): Promise<TextStreamSink> {
    let handle;
    try {
      handle = await open(path, 'w');
    } catch (err) {
      const why = fsErrorReason(err, { ENOENT: 'its directory does not exist' });
      throw new InputError(`${path}: cannot write: ${why}`, 'give --out a writable file path');
    }
    return new TextStreamSink(handle.createWriteStream({ highWaterMark: FILE_BUFFER_BYTES }), true, render, path);
  }

  static toStdout(render: BatchRender): TextStreamSink {
    return new TextStreamSink(process.stdout, false, render);
  }

  async write(points: readonly MetricPoint[]): Promise<void> {
    if (this.failure) throw this.failure;
    if (!points.length) return;
    const render = this.render;
    const chunk = render.render(points);
    // The write's callback runs once the stream is done with the chunk (written, or failed).
    const more = render.written && typeof chunk !== 'string' ? this.out.write(chunk, () => render.written!(chunk)) : this.out.write(chunk);
    if (!more) {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => reject(OutputError.of(this.target, err));
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
      this.out.once('error', (err) => reject(OutputError.of(this.target, err)));
      // The callback gets the error of a write that failed at the end (a full disk): it
      // runs before the stream's 'error' event, which would come too late for this close.
      this.out.end((err?: Error | null) => (err ? reject(OutputError.of(this.target, err)) : resolve()));
    });
    if (this.failure) throw this.failure;
  }
}
