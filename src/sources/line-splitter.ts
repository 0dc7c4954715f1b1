/**
 * Splits a byte stream into lines without copying: each complete line is handed over
 * as (buffer, start, end), CR stripped. Hand-written rather than stream-json's JSONL
 * parser because that one parses every line with JSON.parse into an object-mode stream
 * and ends the stream on the first bad line, while kovenant must count bad lines and go
 * on, and must not pay for a full parse (see the fast decoder).
 *
 * Two halves, so that lines can be split where they are decoded (a worker thread,
 * pipeline/decode-stage.ts) while the stream is framed where it is read:
 *  - `LineFramer` owns what crosses chunk boundaries: the unfinished last line, and a
 *    too-long line being discarded. Each chunk becomes an optional head line (completed
 *    from earlier chunks) and a body of whole lines;
 *  - `splitLines` hands over the lines of such a body.
 */

export type LineHandler = (buf: Buffer, start: number, end: number) => void;

const NEWLINE = 0x0a;
const CR = 0x0d;

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

/**
 * Hands over the line at start..end (no newline), CR stripped, unless it is longer than
 * `maxLineBytes`; returns 1 for a line dropped as too long, else 0.
 */
export function emitLine(onLine: LineHandler, maxLineBytes: number, buf: Buffer, start: number, end: number): number {
  if (end > start && buf[end - 1] === CR) end--;
  if (end - start > maxLineBytes) return 1;
  onLine(buf, start, end);
  return 0;
}

/**
 * Hands over every line of start..end, a region of whole lines each ending with a
 * newline (a framed body); returns how many were dropped as too long.
 */
export function splitLines(onLine: LineHandler, maxLineBytes: number, buf: Buffer, start: number, end: number): number {
  let oversized = 0;
  let pos = start;
  for (let nl = buf.indexOf(NEWLINE, pos); nl >= 0 && nl < end; nl = buf.indexOf(NEWLINE, pos)) {
    oversized += emitLine(onLine, maxLineBytes, buf, pos, nl);
    pos = nl + 1;
  }
  return oversized;
}

export class LineFramer {
  private carry: Buffer | undefined;
  /** While a too-long line is being discarded up to its newline. */
  private discarding = false;
  /** Lines dropped for exceeding maxLineBytes while they crossed chunks. */
  oversized = 0;
  /** Bytes pushed so far: the stream offset of the next chunk. */
  private pushed = 0;
  /**
   * Stream offset just past the last newline seen: every line before it has been
   * framed, every byte from it on is still to come (a checkpoint resumes here).
   */
  linesEnd = 0;
  /** Set by push: the chunk's whole lines, each with its newline (empty when start === end). */
  bodyStart = 0;
  bodyEnd = 0;

  constructor(readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES) {}

  /**
   * Frames the next chunk: returns the line it completes (earlier chunks' unfinished
   * line plus its start, no newline; a copy) if any, and sets bodyStart..bodyEnd to
   * the whole lines that follow. What is left after the last newline is kept (copied:
   * the source may reuse the chunk's memory after we return).
   */
  push(chunk: Buffer): Buffer | undefined {
    const chunkStart = this.pushed;
    this.pushed += chunk.length;
    this.bodyStart = this.bodyEnd = 0;
    let head: Buffer | undefined;
    let pos = 0;
    const nl = chunk.indexOf(NEWLINE, 0);
    if (this.carry || this.discarding) {
      if (nl < 0) {
        this.extendCarry(chunk);
        return undefined;
      }
      if (this.discarding) this.discarding = false;
      else head = Buffer.concat([this.carry!, chunk.subarray(0, nl)]);
      this.carry = undefined;
      pos = nl + 1;
    }
    const last = nl < 0 ? -1 : chunk.lastIndexOf(NEWLINE);
    if (last >= pos) {
      this.bodyStart = pos;
      this.bodyEnd = last + 1;
      pos = last + 1;
    }
    if (pos > 0) this.linesEnd = chunkStart + pos;
    if (pos < chunk.length) this.extendCarry(chunk.subarray(pos));
    return head;
  }

  /** The last line, when the input does not end with a newline. */
  end(): Buffer | undefined {
    const line = this.discarding ? undefined : this.carry;
    this.carry = undefined;
    this.discarding = false;
    return line;
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
    this.carry = this.carry ? Buffer.concat([this.carry, part]) : Buffer.from(part);
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
