/**
 * A node collector: something the node's kernel counts itself (conntrack bytes, CPU
 * time), sampled on a timer and added to the same windows as the events, at the
 * sample's wall-clock time.
 */
import { readFile } from 'node:fs/promises';
import type { WindowAggregator } from '../aggregate/window-aggregator.ts';
import { InputError } from '../core/input-error.ts';

export interface NodeCollector {
  /** For logs and metrics: `conntrack`, `cpu`, `node_cpu`. */
  readonly name: string;
  readonly intervalMs: number;
  /**
   * Reads the counters and adds what changed since the previous call to the window of
   * `nowMs`. The first call is a baseline and adds nothing. Throws an InputError when
   * the collector cannot work at all (a missing file, accounting off).
   */
  collect(nowMs: number, aggregator: WindowAggregator): Promise<void>;
}

/**
 * Aggregator node key of a collector: each collector has its own watermark, so that
 * its wall-clock samples never close windows that events (event time) still fill.
 */
export function collectorWatermarkKey(node: string, collector: string): string {
  return `${node}\u0000${collector}`;
}

/** Whether an aggregator node key belongs to a collector (see collectorWatermarkKey). */
export function isCollectorKey(key: string): boolean {
  return key.includes('\u0000');
}

/** A kernel counters file under the proc root; unreadable, an InputError naming the collector and the fix. */
export async function readProcFile(collector: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(
      `${collector} collector: ${file}: cannot read (${(err as Error).message})`,
      `point the proc root at the host /proc, or turn the ${collector} collector off`,
    );
  }
}
