/**
 * Where open windows go when they do not fit in memory (replay's `--max-open-points`):
 * a temporary file of their partial sums. A spilled window stays open; at its close its
 * runs are read back and added to what came since, so the window is written once, whole,
 * at its own time (InfluxDB keeps the last write per series and time: a second, partial
 * write would replace the first).
 *
 * Synchronous I/O on purpose: the aggregator is called per event and per chunk, and a
 * spill is rare (once per bound's worth of new series); an async store would make every
 * caller async for it.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A stretch of the spill written at once. */
export interface SpillRun {
  offset: number;
  length: number;
}

export interface WindowSpill {
  append(text: string): SpillRun;
  read(run: SpillRun): string;
  /** Bytes written so far (the file only grows until `close`). */
  readonly bytes: number;
  close(): void;
}

/** A spill file in a directory of its own under the system temp dir, removed on close. */
export class TempFileSpill implements WindowSpill {
  private dir: string | undefined;
  private fd: number | undefined;
  bytes = 0;

  private open(): number {
    if (this.fd === undefined) {
      this.dir = mkdtempSync(join(tmpdir(), 'kovenant-spill-'));
      this.fd = openSync(join(this.dir, 'open-windows'), 'w+', 0o600);
    }
    return this.fd;
  }

  append(text: string): SpillRun {
    const fd = this.open();
    const data = Buffer.from(text, 'utf8');
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written, data.length - written, this.bytes + written);
    const run = { offset: this.bytes, length: data.length };
    this.bytes += data.length;
    return run;
  }

  read(run: SpillRun): string {
    const buf = Buffer.alloc(run.length);
    let got = 0;
    while (got < run.length) {
      const n = readSync(this.open(), buf, got, run.length - got, run.offset + got);
      if (n === 0) throw new Error(`spill file ended at ${run.offset + got}, expected ${run.offset + run.length}`);
      got += n;
    }
    return buf.toString('utf8');
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
    this.fd = undefined;
    this.dir = undefined;
  }
}
