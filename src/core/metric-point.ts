/**
 * One point of the data contract: a measurement, its tags (only present values, never
 * empty strings), integer and float fields, and the start of its window.
 */
export interface MetricPoint {
  measurement: string;
  /** Tag key → value. Absent values are absent keys. */
  tags: Readonly<Record<string, string>>;
  /** Integer fields, written with the `i` suffix. */
  ints: Readonly<Record<string, number>>;
  /** Float fields (CPU seconds and the like). */
  floats?: Readonly<Record<string, number>>;
  /** Window start, epoch milliseconds; written in nanoseconds. */
  timeMs: number;
  /** The escaped line-protocol series key, when already known (saves re-escaping). */
  key?: string;
}

/**
 * Where closed windows go. `write` may buffer; the returned promise resolves once the
 * sink has accepted the batch (for durable sinks: spooled or acknowledged), which is
 * what lets a source apply backpressure and a checkpoint advance.
 */
export interface MetricSink {
  write(points: readonly MetricPoint[]): Promise<void>;
  /** Flushes everything and releases resources; resolves when all is delivered. */
  close(): Promise<void>;
  /**
   * The input ended or the process is stopping: what is still to be delivered has
   * `--drain-timeout` from now, pending writes included (delivering sinks only).
   */
  drain?(): void;
}
