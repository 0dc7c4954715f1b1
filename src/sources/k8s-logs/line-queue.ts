/**
 * Where the pods' followers meet: complete lines queued for the one consumer, taken all
 * at once as one chunk, with a bound that holds the followers (and through TCP the
 * kubelets) back instead of this process's memory.
 */

export class LineQueue {
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  /** Followers waiting for the consumer to take the queue (see `push`). */
  private readonly waiting = new Set<() => void>();

  constructor(
    private readonly maxBufferedBytes: number,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener(
      'abort',
      () => {
        this.notify();
        this.release();
      },
      { once: true },
    );
  }

  /** Bytes of lines queued for the consumer and not yet taken. */
  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  /**
   * A follower's complete lines, passed on as one chunk. Over `maxBufferedBytes` the
   * promise settles only once the consumer has taken the queue (or `stream` is aborted):
   * the follower awaits it before reading on, so its response stops being read and TCP
   * flow control holds the sender back, which pausing an async-iterated response would not.
   */
  push(lines: Buffer, stream: AbortSignal): Promise<void> {
    this.queue.push(lines);
    this.queuedBytes += lines.length;
    this.notify();
    if (this.queuedBytes <= this.maxBufferedBytes || stream.aborted || this.signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        stream.removeEventListener('abort', done);
        this.waiting.delete(done);
        resolve();
      };
      this.waiting.add(done);
      stream.addEventListener('abort', done, { once: true });
    });
  }

  /** Ends the consumer's iteration with `err` at its next read (the first failure wins). */
  fail(err: Error): void {
    this.failure ??= err;
    this.notify();
  }

  /** The queue's chunks until the signal aborts; `onEnd` runs when the consumer stops. */
  async *chunks(onEnd: () => void): AsyncGenerator<Buffer> {
    try {
      while (true) {
        if (this.failure) throw this.failure;
        if (this.queue.length > 0) {
          const out = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue);
          this.queue.length = 0;
          this.queuedBytes = 0;
          // Before the yield: the streams read on while the consumer works on `out`.
          this.release();
          yield out;
          continue;
        }
        if (this.signal.aborted) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      this.release();
      onEnd();
    }
  }

  private release(): void {
    for (const done of [...this.waiting]) done();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
