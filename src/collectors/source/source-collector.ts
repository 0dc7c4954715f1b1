/**
 * kovenant_source: how complete the event stream of this node was, per window. What the
 * daemon read and could not decode (its own counters), what Tetragon said in the stream
 * it dropped (`rate_limit_info`, `process_throttle`), and, with `--tetragon-metrics`,
 * the increase of Tetragon's own loss counters. Sampled on a timer like the other node
 * collectors, so each window gets the counts of the samples taken in it (wall clock).
 */
import { SOURCE_FIELDS, SOURCE_FIELDS_WITH_KERNEL, SOURCE_SLOTS } from '../../aggregate/field-schema.ts';
import type { WindowAggregator } from '../../aggregate/window-aggregator.ts';
import { makeSeries, type Series } from '../../core/series.ts';
import { collectorWatermarkKey, type NodeCollector } from '../collector.ts';

export type SourceKind = 'file' | 'k8s-logs' | 'stdin';

interface StreamTotals {
  read: number;
  rejected: number;
  lost: number;
  throttles: number;
}

/** What this collector reads of the pipeline's counters (a layer above it). */
export interface StreamCounts {
  readonly read: number;
  readonly rejectedTotal: number;
  readonly lostTotal: number;
  readonly throttles: number;
}

export interface SourceCollectorOptions {
  /** The pipeline's event counters (EventCounters), read at each sample. */
  counters: StreamCounts;
  intervalMs: number;
  nodeName: string;
  source: SourceKind;
  /** The `cluster` tag (--cluster-name), so the dashboards' cluster variable narrows these points too. */
  cluster?: string | undefined;
  /** Tetragon's loss counters by reason (cumulative); absent without --tetragon-metrics. */
  scrapeTetragon?: () => Promise<Map<string, number>>;
  /** A scrape failed: the daemon logs it; the increase is counted at the next success. */
  onScrapeError?: (err: unknown) => void;
}

export class SourceCollector implements NodeCollector {
  readonly name = 'source';
  readonly intervalMs: number;
  /** Increases of Tetragon's loss counters seen so far, by reason (for Prometheus). */
  readonly kernelLost = new Map<string, number>();
  scrapeErrors = 0;
  private previous: StreamTotals | undefined;
  private previousKernel: Map<string, number> | undefined;
  private readonly series: Series;

  constructor(private readonly options: SourceCollectorOptions) {
    this.intervalMs = options.intervalMs;
    this.series = makeSeries(
      'kovenant_source',
      options.cluster
        ? { cluster: options.cluster, node: options.nodeName, source: options.source }
        : { node: options.nodeName, source: options.source },
    );
  }

  async collect(nowMs: number, aggregator: WindowAggregator): Promise<void> {
    const c = this.options.counters;
    const now: StreamTotals = { read: c.read, rejected: c.rejectedTotal, lost: c.lostTotal, throttles: c.throttles };
    let kernel: Map<string, number> | undefined;
    if (this.options.scrapeTetragon) {
      try {
        kernel = await this.options.scrapeTetragon();
      } catch (err) {
        this.scrapeErrors++;
        this.options.onScrapeError?.(err);
      }
    }
    const before = this.previous;
    this.previous = now;
    let kernelIncrease = 0;
    if (kernel) {
      if (this.previousKernel) {
        for (const [reason, total] of kernel) {
          const prev = this.previousKernel.get(reason) ?? 0;
          // A smaller total: Tetragon restarted and its counters began again at 0.
          const inc = total >= prev ? total - prev : total;
          if (inc > 0) this.kernelLost.set(reason, (this.kernelLost.get(reason) ?? 0) + inc);
          kernelIncrease += inc;
        }
      }
      // The first scrape (also after failures at start) is the baseline.
      this.previousKernel = kernel;
    }
    if (!before) return;
    const schema = this.options.scrapeTetragon ? SOURCE_FIELDS_WITH_KERNEL : SOURCE_FIELDS;
    const v = aggregator.slotValues(collectorWatermarkKey(this.options.nodeName, this.name), nowMs, this.series, schema);
    v[SOURCE_SLOTS.events_read]! += now.read - before.read;
    v[SOURCE_SLOTS.events_rejected]! += now.rejected - before.rejected;
    v[SOURCE_SLOTS.events_lost]! += now.lost - before.lost;
    v[SOURCE_SLOTS.throttles]! += now.throttles - before.throttles;
    if (this.options.scrapeTetragon) v[SOURCE_SLOTS.kernel_events_lost]! += Math.round(kernelIncrease);
  }
}
