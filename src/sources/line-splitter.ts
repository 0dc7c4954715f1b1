/**
 * Splits a byte stream into lines without copying: each complete line is handed over
 * as (buffer, start, end), CR stripped. Hand-written rather than stream-json's JSONL
 * parser because that one parses every line with JSON.parse into an object-mode stream
 * and ends the stream on the first bad line, while kovenant must count bad lines and go
 * on, and must not pay for a full parse (see the fast decoder).
 */

export type LineHandler = (buf: Buffer, start: number, end: number) => void;

const NEWLINE = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  private carry: Buffer | undefined;
  /** While a too-long line is being discarded up to its newline. */
  private discarding = false;
  /** Lines dropped for exceeding maxLineBytes. */
  oversized = 0;
  /** Bytes pushed so far: the stream offset of the next chunk. */
  private pushed = 0;
  /**
   * Stream offset just past the last newline seen: every line before it has been
   * handed over, every byte from it on is still to come (a checkpoint resumes here).
   */
  linesEnd = 0;

  constructor(
    private readonly onLine: LineHandler,
    private readonly maxLineBytes = 16 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    const chunkStart = this.pushed;
    this.pushed += chunk.length;
    let pos = 0;
    let nl = chunk.indexOf(NEWLINE, 0);
    if (this.carry || this.discarding) {
      if (nl < 0) {
        this.extendCarry(chunk);
        return;
      }
      if (this.discarding) {
        this.discarding = false;
      } else {
        const line = Buffer.concat([this.carry!, chunk.subarray(0, nl)]);
        this.carry = undefined;
        this.emit(line, 0, line.length);
      }
      this.carry = undefined;
      pos = nl + 1;
      nl = chunk.indexOf(NEWLINE, pos);
    }
    while (nl >= 0) {
      this.emit(chunk, pos, nl);
      pos = nl + 1;
      nl = chunk.indexOf(NEWLINE, pos);
    }
    if (pos > 0) this.linesEnd = chunkStart + pos;
    if (pos < chunk.length) this.extendCarry(chunk.subarray(pos));
  }

  /** The last line, when the input does not end with a newline. */
  end(): void {
    if (this.carry && !this.discarding) {
      const line = this.carry;
      this.carry = undefined;
      this.emit(line, 0, line.length);
    }
    this.carry = undefined;
    this.discarding = false;
  }

  private extendCarry(part: Buffer): void {
    if (this.discarding) return;
    const size = (this.carry?.length ?? 0) + part.length;
    if (size > this.maxLineBytes) {
      this.carry = undefined;
      this.discarding = true;
      this.oversized++;
      return;
    }
    // Copy: the source may reuse the chunk's memory after we return.
    this.carry = this.carry ? Buffer.concat([this.carry, part]) : Buffer.from(part);
  }

  private emit(buf: Buffer, start: number, end: number): void {
    if (end > start && buf[end - 1] === CR) end--;
    if (end - start > this.maxLineBytes) {
      this.oversized++;
      return;
    }
    this.onLine(buf, start, end);
  }
}

/** True when bytes start..end hold only spaces and tabs (a blank line). */
export function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== CR) return false;
  }
  return true;
}
