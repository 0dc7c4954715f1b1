/**
 * The queue between `write()` and the server. A sink appends each batch of line protocol
 * as one record; a sender reads the oldest records, sends them and acknowledges them.
 * Records leave the spool only when acknowledged (sent, refused for good, or given up)
 * or when the byte bound drops them, oldest first; both ways are reported.
 */

export interface SpoolBatch {
  /** Line protocol, newline separated, no trailing newline. */
  body: string;
  points: number;
  /** Process-local sequence number of the last record in the batch (for waiters). */
  lastSeq: number;
  /** Where the batch came from, so `ack` can advance past it. Opaque to callers. */
  readonly position: { segment: number; start: number; end: number };
}

export interface SpoolDrop {
  points: number;
  bytes: number;
  reason: string;
}

export interface Spool {
  /** True when an appended record survives a crash (disk), false for memory. */
  readonly durable: boolean;
  /** Where it lives, for messages. */
  readonly location: string;
  /** Appends one record; resolves when it is as durable as the spool promises. Returns its seq. */
  append(body: string, points: number): Promise<number>;
  /** The oldest unacknowledged records, up to the limits (at least one record), without removing them. */
  readBatch(maxPoints: number, maxBytes: number): Promise<SpoolBatch | undefined>;
  /**
   * Removes the batch; returns how many of its points were still there. Points the bound
   * dropped while the batch was in flight were already counted as dropped.
   */
  ack(batch: SpoolBatch): Promise<number>;
  pendingPoints(): number;
  /** Bytes the spool holds (what its bound counts), acknowledged records not yet deleted included. */
  bytes(): number;
  /** Bytes of the records not yet acknowledged: 0 once everything is delivered. */
  unsentBytes(): number;
  close(): Promise<void>;
}

export type DropListener = (drop: SpoolDrop) => void;

/**
 * A bounded in-memory spool, for when no `--spool-dir` is given: same order and bound,
 * nothing survives a restart (the sink then makes `write()` wait for acknowledgement).
 */
export class MemorySpool implements Spool {
  readonly durable = false;
  readonly location = 'memory';
  private readonly records: Array<{ seq: number; body: string; points: number; bytes: number }> = [];
  private head = 0;
  private seq = 0;
  private totalBytes = 0;
  private totalPoints = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onDrop: DropListener,
  ) {}

  async append(body: string, points: number): Promise<number> {
    const bytes = Buffer.byteLength(body) + 1;
    const seq = ++this.seq;
    this.records.push({ seq, body, points, bytes });
    this.totalBytes += bytes;
    this.totalPoints += points;
    let droppedPoints = 0;
    let droppedBytes = 0;
    while (this.totalBytes > this.maxBytes && this.records.length - this.head > 1) {
      const r = this.records[this.head++];
      if (!r) break;
      this.totalBytes -= r.bytes;
      this.totalPoints -= r.points;
      droppedPoints += r.points;
      droppedBytes += r.bytes;
    }
    this.compact();
    if (droppedPoints) this.onDrop({ points: droppedPoints, bytes: droppedBytes, reason: `memory spool over ${this.maxBytes} bytes` });
    return seq;
  }

  async readBatch(maxPoints: number, maxBytes: number): Promise<SpoolBatch | undefined> {
    const parts: string[] = [];
    let points = 0;
    let bytes = 0;
    let i = this.head;
    let first: number | undefined;
    let last = 0;
    for (; i < this.records.length; i++) {
      const r = this.records[i];
      if (!r) break;
      if (parts.length && (points + r.points > maxPoints || bytes + r.bytes > maxBytes)) break;
      parts.push(r.body);
      points += r.points;
      bytes += r.bytes;
      first ??= r.seq;
      last = r.seq;
    }
    if (first === undefined) return undefined;
    return { body: parts.join('\n'), points, lastSeq: last, position: { segment: 0, start: first, end: last } };
  }

  async ack(batch: SpoolBatch): Promise<number> {
    let acked = 0;
    // Records of the batch that the bound dropped in flight are gone already.
    while (this.head < this.records.length && (this.records[this.head]?.seq ?? Infinity) <= batch.position.end) {
      const r = this.records[this.head++];
      if (!r) break;
      this.totalBytes -= r.bytes;
      this.totalPoints -= r.points;
      acked += r.points;
    }
    this.compact();
    return acked;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.records.length) {
      this.records.splice(0, this.head);
      this.head = 0;
    }
  }

  pendingPoints(): number {
    return this.totalPoints;
  }

  bytes(): number {
    return this.totalBytes;
  }

  unsentBytes(): number {
    return this.totalBytes;
  }

  async close(): Promise<void> {}
}
