/**
 * `--output console`: a refreshing top-N view in the terminal. On a TTY the screen is
 * redrawn in place every `refreshMs`; otherwise (a pipe, a log file) the same tables are
 * printed as plain text — periodically while points arrive, and once at the end — with no
 * escape codes to garble a file.
 */
import type { Writable } from 'node:stream';
import type { MetricPoint, MetricSink } from '../core/metric-point.ts';
import { TrafficBoard } from './traffic-board.ts';

export interface ConsoleSinkOptions {
  out?: Writable & { isTTY?: boolean };
  topN?: number;
  refreshMs?: number;
}

const CLEAR_HOME = '\x1b[H\x1b[2J';

export class ConsoleSink implements MetricSink {
  private readonly board = new TrafficBoard();
  private readonly out: Writable & { isTTY?: boolean };
  private readonly topN: number;
  private readonly timer: NodeJS.Timeout;
  private dirty = false;

  constructor(options: ConsoleSinkOptions = {}) {
    this.out = options.out ?? process.stdout;
    this.topN = options.topN ?? 10;
    this.timer = setInterval(() => this.refresh(), options.refreshMs ?? 2000);
    // A pending redraw must not keep a finished replay alive.
    this.timer.unref();
  }

  async write(points: readonly MetricPoint[]): Promise<void> {
    if (!points.length) return;
    this.board.add(points);
    this.dirty = true;
  }

  private refresh(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const text = this.board.render(this.topN);
    this.out.write(this.out.isTTY ? CLEAR_HOME + text : text + '\n');
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.dirty = true;
    this.refresh();
  }
}
